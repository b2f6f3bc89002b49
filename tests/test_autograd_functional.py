"""tg.autograd.functional against torch.autograd.functional: values and return structure."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")
AF, TAF = tg.autograd.functional, torch.autograd.functional
rng = np.random.default_rng(0)
A, B, V = rng.standard_normal((2, 3)), rng.standard_normal(3), rng.standard_normal((2, 3))


def same(ours, theirs, name=""):
    """Equal values in the same nesting of tuples."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), name
        for o, t in zip(ours, theirs):
            same(o, t, name)
        return
    assert not isinstance(ours, tuple), name
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12,
                               err_msg=name)


CASES = {  # name: (which, function, inputs as (A, B) picks, vector)
    "jacobian tuple in, tuple out": ("jacobian", lambda x, y: ((x * y).sin().sum(1),
                                                               (x**2).mean()), 2, None),
    "jacobian single": ("jacobian", lambda x: (x**3).tanh(), 1, None),
    "jacobian single in, tuple out": ("jacobian", lambda x: (x.exp(), x.sum()), 1, None),
    "jacobian of an unused input": ("jacobian", lambda x, y: x * 2, 2, None),
    "hessian tuple": ("hessian", lambda x, y: (x.sin() * y).sum(), 2, None),
    "hessian single": ("hessian", lambda x: (x**3).sum(), 1, None),
    "vjp": ("vjp", lambda x: x.exp() * 2, 1, V),
    "jvp": ("jvp", lambda x: x.exp() * x, 1, V),
    "hvp": ("hvp", lambda x: (x**3).sum(), 1, V),
    "vhp": ("vhp", lambda x: (x.sin() * x).sum(), 1, V),
    "vjp of a scalar": ("vjp", lambda x: (x * x).sum(), 1, None),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch_autograd_functional(name):
    which, fn, n, v = CASES[name]
    ours_in = (tg.tensor(A), tg.tensor(B))[:n]
    theirs_in = (torch.tensor(A), torch.tensor(B))[:n]
    ours_in = ours_in if n > 1 else ours_in[0]
    theirs_in = theirs_in if n > 1 else theirs_in[0]
    extra_ours = () if v is None or which in ("jacobian", "hessian") else (tg.tensor(v),)
    extra_theirs = () if v is None or which in ("jacobian", "hessian") else (torch.tensor(v),)
    same(getattr(AF, which)(fn, ours_in, *extra_ours),
         getattr(TAF, which)(fn, theirs_in, *extra_theirs), name)


def test_strict_refuses_an_independent_output_and_create_graph_differentiates_again():
    x = tg.tensor(A)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(lambda a, b: a * 2, (x, x * 1), strict=True)
    ours, theirs = tg.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    AF.jacobian(lambda a: (a**3).sum(0), ours, create_graph=True).sum().backward()
    TAF.jacobian(lambda a: (a**3).sum(0), theirs, create_graph=True).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())
    assert not AF.jacobian(lambda a: a * 2, tg.tensor(A)).requires_grad  # detached by default


def test_bad_arguments_are_named():
    with pytest.raises(RuntimeError, match="single Tensor with a single element"):
        AF.hessian(lambda a: a * 2, tg.tensor(A))
    with pytest.raises(RuntimeError, match="can only be None"):
        AF.vjp(lambda a: a * 2, tg.tensor(A))
    with pytest.raises(RuntimeError, match=r"has shape \(3,\)"):
        AF.vjp(lambda a: a * 2, tg.tensor(A), tg.tensor(B))
    with pytest.raises(TypeError, match="must be a Tensor"):
        AF.jacobian(lambda a: a, A)


@pytest.mark.parametrize("statement", [
    "from tinygrad_cnn.autograd.functional import jacobian, hessian, vjp, jvp, hvp, vhp",
    "import tinygrad_cnn.autograd.functional as AF; jacobian = AF.jacobian",
    "import importlib; jacobian = importlib.import_module('tinygrad_cnn.autograd.functional')"
    ".jacobian",
])
def test_torch_import_forms_of_autograd_functional_work_in_a_fresh_process(statement):
    """``from torch.autograd.functional import jacobian`` ported: tinygrad_cnn.autograd is a file,
    not a package, and this import form raised ModuleNotFoundError in a fresh interpreter."""
    root = pathlib.Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(root), *filter(None, [os.environ.get("PYTHONPATH")])])}
    code = (f"{statement}\nimport tinygrad_cnn as tg\n"
            "assert jacobian is tg.autograd.functional.jacobian\n"
            "J = jacobian(lambda t: t * t, tg.tensor([1.0, 2.0]))\n"
            "assert J.tolist() == [[2.0, 0.0], [0.0, 4.0]], J\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=root, timeout=300)
    assert out.returncode == 0, out.stderr
