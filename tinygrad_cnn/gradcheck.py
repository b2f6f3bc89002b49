"""Numerical gradient checks: ``gradcheck`` and ``gradgradcheck`` (PyTorch's meaning).

``gradcheck`` compares the Jacobian the engine computes (one ``grad()`` call per output element, the
*analytical* Jacobian) with central differences of the function (the *numerical* Jacobian),

    numerical[k] = (f(x + eps * e_k) - f(x - eps * e_k)) / (2 * eps),

element by element, with the rule of ``numpy.allclose``:

    |analytical - numerical| <= atol + rtol * |numerical|.

It also runs every backward twice and requires the two results to be bit-for-bit equal (a VJP must
not depend on hidden state). ``fast_mode=True`` compares one random projection per input/output pair
instead of whole Jacobians: ``v . (J u)`` from finite differences along ``u`` against ``<J^T v, u>``
from one backward -- much cheaper, and it still catches a wrong VJP with probability 1.

Central differences in float32 are dominated by rounding (eps = 1e-6 is below float32's resolution
near 1), so inputs should be float64; lower precision gets a warning.

``gradgradcheck`` runs ``gradcheck`` on the function ``(inputs, v) -> grad(func(inputs), inputs, v,
create_graph=True)``: it checks the second derivatives, i.e. that every VJP is itself correctly
differentiable.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import grad
from tinygrad_cnn.backend import like, to_numpy
from tinygrad_cnn.tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck``/``gradgradcheck`` when the analytical and numerical gradients differ."""


def _as_tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(func: Callable[..., Any], inputs: tuple[Any, ...]) -> tuple[Tensor, ...]:
    outs = _as_tuple(func(*inputs))
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: output {i} of the function is a {type(o).__name__}, not a "
                            "Tensor")
    return outs


def _evaluate(func: Callable[..., Any], inputs: tuple[Any, ...], which: list[int]) -> list[np.ndarray]:
    outs = _outputs(func, inputs)
    return [to_numpy(outs[j].data).astype(np.float64).ravel() for j in which]


def _fail(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def _rule(atol: float, rtol: float) -> str:
    return (f"rule: |analytical - numerical| <= atol + rtol * |numerical| with atol={atol:g}, "
            f"rtol={rtol:g}")


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


class _Perturb:
    """Swap a writable float copy into an input while it is perturbed, and put the original back."""

    def __init__(self, t: Tensor) -> None:
        self.t = t
        self.original = t.data
        self.work = to_numpy(t.data).copy()

    def set(self, values: np.ndarray) -> None:
        self.t.data = like(values, self.original)

    def restore(self) -> None:
        self.t.data = self.original


def _numerical_jacobians(func: Callable[..., Any], inputs: tuple[Any, ...], diff: list[int],
                         which: list[int], eps: float) -> list[list[np.ndarray]]:
    """``J[i][j]``: (numel of input i, numel of output j) from central differences."""
    jac: list[list[np.ndarray]] = []
    for i in diff:
        p = _Perturb(inputs[i])
        flat = p.work.reshape(-1)
        rows: list[list[np.ndarray]] = [[] for _ in which]
        try:
            for k in range(flat.size):
                orig = flat[k]
                flat[k] = orig + eps
                p.set(p.work)
                plus = _evaluate(func, inputs, which)
                flat[k] = orig - eps
                p.set(p.work)
                minus = _evaluate(func, inputs, which)
                flat[k] = orig
                for r, (a, b) in enumerate(zip(plus, minus)):
                    rows[r].append((a - b) / (2 * eps))
        finally:
            p.restore()
        jac.append([np.array(r).reshape(flat.size, -1) for r in rows])
    return jac


def _analytical_jacobians(func: Callable[..., Any], inputs: tuple[Any, ...], diff: list[int],
                          which: list[int]) -> list[list[np.ndarray]]:
    """``J[i][j]`` from one ``grad()`` call per output element (with a one-hot ``grad_outputs``)."""
    outs = _outputs(func, inputs)
    dins = [inputs[i] for i in diff]
    jac = [[np.zeros((inputs[i].data.size, outs[j].data.size)) for j in which] for i in diff]
    for c, j in enumerate(which):
        o = outs[j]
        if not o.requires_grad:
            continue  # the output does not depend on any input: its Jacobian is zero
        for k in range(o.data.size):
            onehot = np.zeros(o.data.size, dtype=to_numpy(o.data).dtype)
            onehot[k] = 1
            v = Tensor(onehot.reshape(o.shape), device=o.device)
            gs = grad(o, dins, v, retain_graph=True, allow_unused=True)
            for r, g in enumerate(gs):
                if g is not None:
                    jac[r][c][:, k] = to_numpy(g.data).astype(np.float64).ravel()
    return jac


def _prepare(inputs: Any, where: str) -> tuple[tuple[Any, ...], list[int]]:
    inputs = _as_tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError(f"{where}: at least one input must be a Tensor with requires_grad=True")
    for i in diff:
        if inputs[i].dtype != np.float64:
            warnings.warn(
                f"{where}: input {i} is {inputs[i].dtype}, not float64; central differences in "
                "lower precision are dominated by rounding and the check may fail spuriously",
                stacklevel=3,
            )
    return inputs, diff


def gradcheck(func: Callable[..., Any], inputs: Tensor | Sequence[Any], *, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
              fast_mode: bool = False) -> bool:
    """Check the gradients of ``func`` at ``inputs`` against central finite differences.

    ``inputs``: a Tensor or a tuple of arguments; the Tensors with ``requires_grad=True`` are
    checked (use float64). ``func`` returns a Tensor or a tuple of Tensors. Returns True, or raises
    ``GradcheckError`` (returns False with ``raise_exception=False``) naming the input, the element,
    both values and their absolute and relative error.
    """
    inputs, diff = _prepare(inputs, "gradcheck")
    outs = _outputs(func, inputs)
    which = [j for j, o in enumerate(outs) if o.dtype.kind == "f"]
    if fast_mode:
        return _fast_gradcheck(func, inputs, diff, which, eps, atol, rtol, raise_exception)

    analytical = _analytical_jacobians(func, inputs, diff, which)
    again = _analytical_jacobians(func, inputs, diff, which)
    for r, i in enumerate(diff):
        for c, j in enumerate(which):
            if not np.array_equal(analytical[r][c], again[r][c]):
                return _fail(f"backward is not reentrant: two backward passes for output {j} with "
                             f"respect to input {i} gave different gradients (a VJP must give the "
                             "same result every time)", raise_exception)
    numerical = _numerical_jacobians(func, inputs, diff, which, eps)
    for r, i in enumerate(diff):
        for c, j in enumerate(which):
            a, n = analytical[r][c], numerical[r][c]
            err = np.abs(a - n)
            bad = ~(err <= atol + rtol * np.abs(n))
            if bad.any():
                excess = np.where(bad, err - (atol + rtol * np.abs(n)), -np.inf)
                k, m = np.unravel_index(int(np.argmax(excess)), a.shape)
                av, nv = a[k, m], n[k, m]
                rel = abs(av - nv) / abs(nv) if nv != 0 else float("inf")
                return _fail(
                    f"Jacobian mismatch for output {j} with respect to input {i} (shape "
                    f"{inputs[i].shape}), at input element {_index(k, inputs[i].shape)} and output "
                    f"element {_index(m, outs[j].shape)}:\n"
                    f"  analytical: {av:.10g}\n  numerical:  {nv:.10g}\n"
                    f"  absolute error {abs(av - nv):.3g}, relative error {rel:.3g}\n"
                    f"  {int(bad.sum())} of {bad.size} entries fail; {_rule(atol, rtol)}\n"
                    f"analytical Jacobian (rows: input elements, columns: output elements):\n{a}\n"
                    f"numerical Jacobian:\n{n}",
                    raise_exception,
                )
    return True


def _fast_gradcheck(func: Callable[..., Any], inputs: tuple[Any, ...], diff: list[int],
                    which: list[int], eps: float, atol: float, rtol: float,
                    raise_exception: bool) -> bool:
    rng = np.random.default_rng(0)
    outs = _outputs(func, inputs)
    vs = [rng.standard_normal(outs[j].shape) for j in which]
    for i in diff:
        u = rng.standard_normal(inputs[i].shape)
        u /= max(np.linalg.norm(u), 1e-12)
        # numerical: v . (f(x + eps u) - f(x - eps u)) / (2 eps)
        p = _Perturb(inputs[i])
        try:
            p.set(p.work + eps * u)
            plus = _evaluate(func, inputs, which)
            p.set(p.work - eps * u)
            minus = _evaluate(func, inputs, which)
        finally:
            p.restore()
        for c, j in enumerate(which):
            numerical = float(vs[c].ravel() @ ((plus[c] - minus[c]) / (2 * eps)))
            o = _outputs(func, inputs)[j]
            analytical = 0.0
            for _ in range(2):  # twice: the backward must be reentrant
                if o.requires_grad:
                    v = Tensor(vs[c].astype(o.dtype), device=o.device)
                    (g,) = grad(o, [inputs[i]], v, retain_graph=True, allow_unused=True)
                    value = 0.0 if g is None else float(
                        to_numpy(g.data).astype(np.float64).ravel() @ u.ravel())
                else:
                    value = 0.0
                if _ != 0 and value != analytical:
                    return _fail(f"backward is not reentrant for output {j} with respect to input "
                                 f"{i}", raise_exception)
                analytical = value
            if not abs(analytical - numerical) <= atol + rtol * abs(numerical):
                rel = abs(analytical - numerical) / abs(numerical) if numerical else float("inf")
                return _fail(
                    f"Jacobian mismatch (fast mode: a random projection v . J u) for output {j} "
                    f"with respect to input {i} (shape {inputs[i].shape}):\n"
                    f"  analytical: {analytical:.10g}\n  numerical:  {numerical:.10g}\n"
                    f"  absolute error {abs(analytical - numerical):.3g}, relative error "
                    f"{rel:.3g}\n  {_rule(atol, rtol)}\n"
                    "Run with fast_mode=False to see which element is wrong.",
                    raise_exception,
                )
    return True


def gradgradcheck(func: Callable[..., Any], inputs: Tensor | Sequence[Any],
                  grad_outputs: Tensor | Sequence[Tensor] | None = None, *, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
                  fast_mode: bool = False) -> bool:
    """Check second derivatives: ``gradcheck`` of ``(inputs, v) -> grad(func(inputs), inputs, v,
    create_graph=True)``, differentiated with respect to the inputs and to ``v``.

    ``grad_outputs`` (the ``v``) defaults to random float64 tensors shaped like the outputs.
    """
    inputs, diff = _prepare(inputs, "gradgradcheck")
    outs = _outputs(func, inputs)
    which = [j for j, o in enumerate(outs) if o.dtype.kind == "f" and o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(1)
        gos = tuple(Tensor(rng.standard_normal(outs[j].shape).astype(outs[j].dtype),
                           requires_grad=True, device=outs[j].device) for j in which)
    else:
        gos = tuple(_as_tuple(grad_outputs))
        if len(gos) != len(which):
            raise ValueError(f"gradgradcheck: got {len(gos)} grad_outputs for {len(which)} "
                             "differentiable outputs")
    n = len(inputs)

    def first_derivatives(*args: Any) -> tuple[Tensor, ...]:
        ins, vs = args[:n], args[n:]
        os = _outputs(func, ins)
        gs = grad([os[j] for j in which], [ins[i] for i in diff], list(vs), create_graph=True,
                  allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_derivatives, inputs + gos, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, fast_mode=fast_mode)
