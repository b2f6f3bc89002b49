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
    """Equal values in the same nesting of tuples and lists (a tuple where PyTorch has a tuple,
    a list where it has a list)."""
    if isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), (name, ours, theirs)
        for o, t in zip(ours, theirs):
            same(o, t, name)
        return
    assert not isinstance(ours, (tuple, list)), name
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


_OUTPUTS = {  # how the function returns: one Tensor, a tuple of one, a tuple of two
    "tensor": lambda *a: (a[0] * a[-1]).sin(),
    "1-tuple": lambda *a: ((a[0] * a[-1]).sin(),),
    "2-tuple": lambda *a: (a[0] * a[-1], (a[0] ** 2).sum()),
}
_INPUTS = {"tensor": 1, "1-tuple": 1, "2-tuple": 2}  # how many of (A, B)


def _inputs(lib, form):
    made = (lib.tensor(A), lib.tensor(A * 0.5 + 1))[:_INPUTS[form]]
    return made[0] if form == "tensor" else made


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")  # (PyTorch's forward mode)
@pytest.mark.parametrize("out_form", list(_OUTPUTS))
@pytest.mark.parametrize("in_form", list(_INPUTS))
@pytest.mark.parametrize("mode", ["reverse", "reverse vectorized", "forward"])
def test_jacobian_containers_as_torch(mode, in_form, out_form):
    """Tuples in reverse mode, lists in forward mode (PyTorch's ``_jacfwd`` builds lists; ours
    returned tuples), unwrapped where a Tensor was given."""
    kw = {"vectorize": mode != "reverse",
          "strategy": "forward-mode" if mode == "forward" else "reverse-mode"}
    f = _OUTPUTS[out_form]
    same(AF.jacobian(f, _inputs(tg, in_form), **kw), TAF.jacobian(f, _inputs(torch, in_form), **kw),
         f"{mode} {in_form} -> {out_form}")


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
@pytest.mark.parametrize("in_form", list(_INPUTS))
@pytest.mark.parametrize("which", ["hessian reverse", "hessian forward", "vjp", "jvp", "hvp",
                                   "vhp"])
def test_other_containers_as_torch(which, in_form):
    def scalar(*a):
        return sum(((x**3) * A.sum()).sum() for x in a)

    def call(lib, af):
        x = _inputs(lib, in_form)
        v = tuple(lib.ones(t.shape, dtype=lib.float64) for t in x) if isinstance(x, tuple) else \
            lib.ones(x.shape, dtype=lib.float64)
        if which.startswith("hessian"):
            mode = which.split()[1]
            return af.hessian(scalar, x, vectorize=mode == "forward",
                              outer_jacobian_strategy=f"{mode}-mode")
        if which == "vjp":
            return af.vjp(_OUTPUTS["2-tuple"], x, (lib.ones(A.shape, dtype=lib.float64),
                                                  lib.ones((), dtype=lib.float64)))
        if which == "jvp":
            return af.jvp(_OUTPUTS["2-tuple"], x, v)
        return getattr(af, which)(scalar, x, v)

    same(call(tg, AF), call(torch, TAF), f"{which} {in_form}")


@pytest.mark.parametrize("which", ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"])
def test_lists_are_refused_as_torch(which):
    """PyTorch takes a Tensor or a *tuple* of Tensors (inputs, v, the function's outputs)."""
    def call(lib, af, in_list, out_list):
        x = [lib.tensor(A), lib.tensor(A)] if in_list else (lib.tensor(A), lib.tensor(A))
        f = ((lambda a, b: [a * b, (a * b).sum()]) if out_list else
             (lambda a, b: ((a * b) ** 2).sum()))
        v = (lib.ones(A.shape, dtype=lib.float64),) * 2
        if which in ("jacobian", "hessian"):
            return getattr(af, which)(f, x)
        if which == "vjp":
            return af.vjp(f, x, (v[0], lib.ones((), dtype=lib.float64)) if out_list else None)
        return getattr(af, which)(f, x, v)

    for in_list, out_list in ((True, False), (False, True)):
        if which in ("hessian", "hvp", "vhp") and out_list:
            continue  # (their function returns one Tensor)
        with pytest.raises(TypeError):
            call(torch, TAF, in_list, out_list)
        with pytest.raises(TypeError, match="tuple") as info:
            call(tg, AF, in_list, out_list)
        assert "list" in str(info.value)


_STRICT_FUNCTIONS = {  # name: (function of (x, y), whether it returns one element)
    "linear": (lambda x, y: 2 * x + y, False),
    "quadratic": (lambda x, y: x * x * y, False),
    "one input unused": (lambda x, y: x * x, False),
    "detached": (lambda x, y: x.detach() * 2, False),
    "linear sum": (lambda x, y: (2 * x + y).sum(), True),
    "bilinear sum": (lambda x, y: (x * y).sum(), True),
    "cubic sum": (lambda x, y: (x**3 * y).sum(), True),
    "unused sum": (lambda x, y: (x**3).sum(), True),
}


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", list(_STRICT_FUNCTIONS))
def test_strict_mode_refuses_what_torch_refuses_with_its_message(name, create_graph):
    """strict=True, as PyTorch: an output that does not require grad, an input an output does not
    depend on, and with create_graph=True a result independent of the inputs (the Jacobian of a
    linear function, the Hessian of a bilinear one) -- that last one used to pass here."""
    f, scalar = _STRICT_FUNCTIONS[name]

    def calls(lib, af):
        x = (lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0]))
        v = (lib.ones(2), lib.ones(2))
        kw = {"create_graph": create_graph, "strict": True}
        yield "jacobian", lambda: af.jacobian(f, x, **kw)
        yield "vjp", lambda: af.vjp(f, x, None if scalar else lib.ones(2), **kw)
        yield "jvp", lambda: af.jvp(f, x, v, **kw)
        if scalar:
            yield "hessian", lambda: af.hessian(f, x, **kw)
            yield "hvp", lambda: af.hvp(f, x, v, **kw)
            yield "vhp", lambda: af.vhp(f, x, v, **kw)

    for (which, ours), (_, theirs) in zip(calls(tg, AF), calls(torch, TAF)):
        try:
            theirs()
            expected = None
        except RuntimeError as e:
            expected = str(e)
        if expected is None:
            ours()
            continue
        with pytest.raises(RuntimeError) as info:
            ours()
        assert str(info.value) == f"{which}: {expected}", (which, str(info.value), expected)


def test_strict_and_create_graph_with_forward_mode_or_vectorize_are_refused_as_torch():
    x = tg.tensor(A)
    with pytest.raises(RuntimeError, match="`strict=True` and `vectorized=True`"):
        AF.jacobian(lambda t: t**2, x, strict=True, vectorize=True)
    with pytest.raises(RuntimeError, match="`strict=True` and `strategy=\"forward-mode\"`"):
        AF.jacobian(lambda t: t**2, x, strict=True, vectorize=True, strategy="forward-mode")
    with pytest.raises(NotImplementedError, match="`create_graph=True` and `strategy="):
        AF.jacobian(lambda t: t**2, x, create_graph=True, vectorize=True, strategy="forward-mode")


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
