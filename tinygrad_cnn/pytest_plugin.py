"""pytest plugin, installed with the package (entry point ``pytest11``): a ``gradcheck`` fixture
and a ``--gradcheck-thorough`` option for testing your own ops.

    def test_my_op(gradcheck):
        x = Tensor(np.random.randn(3, 4), requires_grad=True)
        gradcheck(MyOp.apply, x)                          # gradcheck + gradgradcheck
        gradcheck.function(MyOp.apply, shapes=[(3, 4)],   # property test (needs Hypothesis)
                           torch_fn=torch.nn.functional.softplus)

By default the checks are quick: random projections (fast mode) and 10 Hypothesis examples.
``pytest --gradcheck-thorough`` checks whole Jacobians, adds the Taylor test, and draws 100
examples. ``-p no:tinygrad_cnn`` switches the plugin off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("tinygrad_cnn", "tinygrad_cnn gradient checks")
    group.addoption("--gradcheck-thorough", action="store_true", default=False,
                    help="gradcheck fixture: whole Jacobians instead of random projections, the "
                         "Taylor test too, and 100 Hypothesis examples instead of 10")


def pytest_configure(config: Any) -> None:
    # pytest restores the warning filters after each test, dropping the one the package sets
    # when it is first imported inside a test: set it for every test (see tinygrad_cnn/__init__)
    from tinygrad_cnn import _NUMPY_ARITHMETIC_WARNINGS

    config.addinivalue_line("filterwarnings",
                            f"ignore:{_NUMPY_ARITHMETIC_WARNINGS}:RuntimeWarning:tinygrad_cnn(\\.|$)")


#: the fixture's default: inputs of up to this many elements in all are checked entry by entry
FULL_UP_TO = 256
#: ... larger ones in fast mode with this many seeds
SEEDS = 3


def _numel(inputs: Any) -> int:
    """The elements of the tensors among ``inputs`` (one tensor or a sequence)."""
    from tinygrad_cnn.tensor import Tensor

    items = inputs if isinstance(inputs, (tuple, list)) else (inputs,)
    return sum(int(t._data.size) for t in items if isinstance(t, Tensor))


class GradcheckFixture:
    """The ``gradcheck`` fixture. Call it to check first and second derivatives; ``.function``
    runs ``tinygrad_cnn.testing.check_function``; ``.thorough`` says which mode is on."""

    def __init__(self, thorough: bool = False) -> None:
        self.thorough = thorough

    def __call__(self, fn: Callable[..., Any], inputs: Any, *, order: int = 2,
                 **options: Any) -> bool:
        """``gradcheck`` and, for ``order=2``, ``gradgradcheck`` of ``fn`` at ``inputs``; raises
        ``GradcheckError`` with the report on a failure, and warns as ``gradcheck`` does where a
        check passed by atol alone. ``options`` as for ``gradcheck``. By default inputs of up to
        ``FULL_UP_TO`` elements in all are checked entry by entry (``fast_mode=False``), larger
        ones in fast mode with ``SEEDS`` seeds (a random projection can miss an error at one
        element of thousands: each seed misses independently); ``--gradcheck-thorough`` checks
        whole Jacobians and adds the Taylor test."""
        __tracebackhide__ = True  # (the failing test's line and the report)
        from tinygrad_cnn.gradcheck import _verdict, check_grads

        if type(order) is not int or order not in (1, 2):  # (order=0 looped over nothing: a pass)
            raise ValueError(f"gradcheck fixture: order must be 1 (first derivatives) or 2 (and "
                             f"second), got {order!r}")
        raise_exception = options.pop("raise_exception", True)  # (gradcheck's own options)
        options.setdefault("fast_mode", not self.thorough and _numel(inputs) > FULL_UP_TO)
        seeds = [options.pop("seed")] if "seed" in options else \
            list(range(SEEDS)) if options["fast_mode"] else [0]
        methods = ["finite_differences"] + (["taylor"] if self.thorough else [])
        for method in [options.pop("method")] if "method" in options else methods:
            for k in range(1, order + 1):
                for seed in seeds if method == "finite_differences" else seeds[:1]:
                    report = check_grads(fn, inputs, order=k, method=method, seed=seed,
                                         **options)
                    if not _verdict(report, raise_exception):
                        return False
        return True

    def function(self, fn: Callable[..., Any], shapes: Any, torch_fn: Callable[..., Any] | None = None,
                 **options: Any) -> None:
        """``tinygrad_cnn.testing.check_function`` with this mode's number of examples."""
        __tracebackhide__ = True
        from tinygrad_cnn.testing import check_function

        options.setdefault("max_examples", 100 if self.thorough else 10)
        check_function(fn, shapes, torch_fn, **options)


@pytest.fixture
def gradcheck(request: Any) -> GradcheckFixture:
    """Check your op's gradients: ``gradcheck(MyOp.apply, inputs)``,
    ``gradcheck.function(MyOp.apply, shapes=[...], torch_fn=...)``."""
    return GradcheckFixture(thorough=bool(request.config.getoption("gradcheck_thorough")))
