"""The pytest plugin: registered under pytest11, it gives a user's test suite a ``gradcheck``
fixture and a ``--gradcheck-thorough`` option (run here in an inner pytest session)."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

OPS = '''
import numpy as np
from tinygrad_cnn import Function, Tensor


class Softplus(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.sigmoid()


class Broken(Softplus):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.sigmoid() * 2
'''


def test_the_plugin_is_registered_as_an_entry_point():
    plugins = {e.name: e.value for e in entry_points(group="pytest11")}
    assert plugins.get("tinygrad_cnn") == "tinygrad_cnn.pytest_plugin"


def _write(pytester, body):
    pytester.makepyfile(ops=OPS)
    pytester.makepyfile(test_user=f"import numpy as np\nfrom tinygrad_cnn import Tensor\n"
                                  f"from ops import Softplus, Broken\n\n{body}")


def test_fixture_checks_a_users_op(pytester):
    _write(pytester, '''
def test_good(gradcheck):
    assert not gradcheck.thorough
    assert gradcheck(Softplus.apply, Tensor(np.random.randn(3, 4), requires_grad=True))

def test_broken(gradcheck):
    gradcheck(Broken.apply, Tensor(np.random.randn(3, 4), requires_grad=True))

def test_property(gradcheck):
    gradcheck.function(Softplus.apply, shapes=[(2, 3)], seed=0)
''')
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*GradcheckError: the VJP of `broken` is wrong.*",
                                 "*2 × numerical*"])


def test_thorough_option(pytester):
    _write(pytester, '''
def test_mode(gradcheck):
    assert gradcheck.thorough
    assert gradcheck(Softplus.apply, Tensor(np.random.randn(3), requires_grad=True))

def test_broken_in_whole_jacobians(gradcheck):
    gradcheck(Broken.apply, Tensor(np.random.randn(3), requires_grad=True))
''')
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", "--gradcheck-thorough")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*Jacobian mismatch for output 0 with respect to input 0*"])


def test_the_plugin_can_be_switched_off(pytester):
    _write(pytester, "def test_needs_fixture(gradcheck):\n    pass\n")
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", "-p", "no:tinygrad_cnn")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'gradcheck' not found*"])


def test_our_own_suite_is_not_disturbed(request):
    """The plugin is loaded here too; our tests import gradcheck as a function, never the fixture."""
    assert request.config.pluginmanager.has_plugin("tinygrad_cnn")
    assert request.config.getoption("gradcheck_thorough") in (False, True)
    with pytest.raises(pytest.FixtureLookupError):
        request.getfixturevalue("no_such_fixture")


def test_fixture_takes_raise_exception(pytester):
    """The fixture's options are gradcheck's: ``raise_exception=False`` returns False (it was a
    TypeError from the settings)."""
    _write(pytester, '''
def test_quiet(gradcheck):
    x = Tensor(np.random.randn(3), requires_grad=True)
    assert gradcheck(Broken.apply, x, raise_exception=False) is False
    assert gradcheck(Softplus.apply, x, raise_exception=False) is True
''')
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


OPS_SESSION39 = '''
from ops import Softplus
from tinygrad_cnn import Function, where


class SquareTiny4(Function):  # x * x with the VJP 4 x (2 x is right)
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        return g * 4 * ctx.saved_tensors[0]


class SoftplusOneWrong(Softplus):  # a "stable branch" bug: slope 1 for x > 3 (one element)
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * where(x > 3, x * 0 + 1, x.sigmoid())
'''


def test_the_fixture_warns_where_gradcheck_warns_and_checks_small_inputs_entry_by_entry(pytester):
    # t162: the fixture read report.ok alone -- a VJP 2x off at 1e-7 passed without gradcheck's
    # "passed by atol alone" warning -- and its fast mode with seed 0 missed a VJP wrong at one
    # element of a thousand
    pytester.makepyfile(ops=OPS, ops39=OPS_SESSION39)
    pytester.makepyfile(test_user39='''
import numpy as np
import pytest
from tinygrad_cnn import Tensor
from ops39 import SquareTiny4, SoftplusOneWrong

def test_tiny(gradcheck):
    with pytest.warns(UserWarning, match="passed by atol alone"):
        gradcheck(SquareTiny4.apply, Tensor(np.array([3e-7, -5e-7, 2e-7]), requires_grad=True),
                  order=1)

def test_one_wrong_element_of_200(gradcheck):
    x = np.clip(np.random.default_rng(0).standard_normal(200), -2.9, 2.9)
    x[7] = 3.2
    gradcheck(SoftplusOneWrong.apply, Tensor(x, requires_grad=True), order=1)
''')
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_one_wrong_element_of_200*"])
