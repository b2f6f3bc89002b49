"""``tinygrad_cnn.autograd.functional``: PyTorch's ``torch.autograd.functional`` -- ``vjp``,
``jvp``, ``jacobian``, ``hessian``, ``hvp``, ``vhp`` -- built on :func:`~tinygrad_cnn.grad`.

Each takes ``func`` and ``inputs`` (a Tensor or a tuple of them) as PyTorch's does and returns
the same structure: a Tensor where PyTorch returns one, tuples (per output, then per input) where
PyTorch does. The results are detached unless ``create_graph=True``. With ``strict=True`` an
output that does not depend on an input is an error; otherwise its block is zeros.

Where PyTorch vectorises (``vectorize=True``) or uses forward mode, these run one reverse-mode
vector-Jacobian product per output element: the same numbers, slower for big outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinygrad_cnn.autograd import enable_grad, grad
from tinygrad_cnn.backend import array_module

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _tensor_class() -> Any:
    from tinygrad_cnn.tensor import Tensor

    return Tensor


def _as_tuple(x: Any, arg: str, fn: str) -> tuple[bool, tuple[Any, ...]]:
    Tensor = _tensor_class()
    is_tuple = isinstance(x, (tuple, list))
    items = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            where = f"{arg}[{i}]" if is_tuple else arg
            raise TypeError(f"{fn}: the {where} given to {fn} must be a Tensor (or a tuple of "
                            f"Tensors), got {type(t).__name__}")
    return is_tuple, items


def _filled(like: Any, value: float, shape: Any = None) -> Any:
    """A Tensor of ``value`` with ``like``'s dtype and device (``shape``: ``like``'s)."""
    data = like._data
    shape = data.shape if shape is None else shape
    return _tensor_class()._make(array_module(data).full(shape, value, dtype=data.dtype))


def _prepare(inputs: tuple[Any, ...], create_graph: bool) -> tuple[Any, ...]:
    """The inputs as leaves that require grad (PyTorch's ``_grad_preprocess``): with
    ``create_graph`` an input that requires grad stays connected to its graph."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            out.append(t.detach().requires_grad_(True))
    return tuple(out)


def _finish(results: Any, create_graph: bool) -> Any:
    if isinstance(results, tuple):
        return tuple(_finish(r, create_graph) for r in results)
    return results if results is None or create_graph else results.detach()


def _grads(outputs: Any, inputs: tuple[Any, ...], grad_outputs: Any, create_graph: bool,
           strict: bool, fn: str, what: str) -> tuple[Any, ...]:
    """The vector-Jacobian products of ``outputs`` with ``grad_outputs``, zeros (or, strict, an
    error) for inputs the outputs do not depend on."""
    needed = [o for o in outputs if o.requires_grad]
    vectors = [v for o, v in zip(outputs, grad_outputs) if o.requires_grad]
    if needed:
        found = grad(needed, inputs, vectors, retain_graph=True, create_graph=create_graph,
                     allow_unused=True)
    else:
        found = (None,) * len(inputs)
    out = []
    for i, (t, g) in enumerate(zip(inputs, found)):
        if g is None:
            if strict:
                raise RuntimeError(f"{fn}: the {what} of the user-provided function is "
                                   f"independent of input {i}. This is not allowed in strict "
                                   "mode.")
            g = _filled(t, 0)
        out.append(g)
    return tuple(out)


def _vector(v: Any, like: tuple[Any, ...], is_tuple: bool, fn: str, name: str,
            scalar_ok: bool) -> tuple[Any, ...]:
    if v is None:
        if scalar_ok and all(t.numel() == 1 for t in like):
            return tuple(_filled(t, 1) for t in like)
        what = ("the user-provided function returns" if fn == "vjp" else
                "the input to the user-provided function is")
        raise RuntimeError(f"{fn}: the vector {name} can only be None if {what} a single Tensor "
                           "with a single element.")
    _, vs = _as_tuple(v, name, fn)
    if len(vs) != len(like):
        raise RuntimeError(f"{fn}: {name} has {len(vs)} Tensors where {len(like)} are needed")
    for i, (a, b) in enumerate(zip(vs, like)):
        if tuple(a.shape) != tuple(b.shape):
            where = f"entry {i} of {name}" if is_tuple else name
            raise RuntimeError(f"{fn}: {where} has shape {tuple(a.shape)}, but it must have the "
                               f"shape {tuple(b.shape)} of what it multiplies")
    return vs


def _call(func: Callable[..., Any], inputs: tuple[Any, ...], fn: str) -> tuple[bool, Any]:
    with enable_grad():
        outputs = func(*inputs)
    return _as_tuple(outputs, "output of the user-provided function", fn)


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), v^T J)``: the vector-Jacobian product with ``v`` (PyTorch's ``vjp``)."""
    fn = "vjp"
    in_tuple, ins = _as_tuple(inputs, "inputs", fn)
    ins = _prepare(ins, create_graph)
    out_tuple, outs = _call(func, ins, fn)
    vs = _vector(v, outs, out_tuple, fn, "v", scalar_ok=True)
    grads = _grads(outs, ins, vs, create_graph, strict, fn, "output")
    outs_ret = _finish(outs, create_graph)
    return (outs_ret if out_tuple else outs_ret[0],
            _finish(grads, create_graph) if in_tuple else _finish(grads[0], create_graph))


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), J v)``: the Jacobian-vector product with ``v``, by the double-backward
    trick (as PyTorch's ``jvp``): the VJP with a placeholder ``u`` is linear in ``u``, and its
    own VJP with ``v`` is ``J v``."""
    fn = "jvp"
    in_tuple, ins = _as_tuple(inputs, "inputs", fn)
    ins = _prepare(ins, create_graph)
    vs = _vector(v, ins, in_tuple, fn, "v", scalar_ok=True)
    out_tuple, outs = _call(func, ins, fn)
    with enable_grad():
        us = tuple(_filled(o, 0).requires_grad_(True) for o in outs)
        grads = _grads(outs, ins, us, True, strict, fn, "output")
        live = [(g, w) for g, w in zip(grads, vs) if g.requires_grad]
        if live:
            found = grad([g for g, _ in live], us, [w for _, w in live],
                         retain_graph=True, create_graph=create_graph, allow_unused=True)
        else:
            found = (None,) * len(us)
    result = []
    for i, (u, g) in enumerate(zip(us, found)):
        if g is None:
            if strict:
                raise RuntimeError(f"{fn}: the output {i} of the user-provided function is "
                                   "independent of the inputs. This is not allowed in strict "
                                   "mode.")
            g = _filled(u, 0)
        result.append(g)
    outs_ret = _finish(outs, create_graph)
    res = _finish(tuple(result), create_graph)
    return (outs_ret if out_tuple else outs_ret[0]), (res if out_tuple else res[0])


_STRATEGIES = ("forward-mode", "reverse-mode")


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """The Jacobian of ``func`` at ``inputs``: block ``[i][j]`` of shape ``output_i.shape +
    input_j.shape`` (PyTorch's ``jacobian`` and its return structure). One vector-Jacobian
    product per output element; ``vectorize`` and ``strategy`` give the same numbers."""
    fn = "jacobian"
    if strategy not in _STRATEGIES:
        raise ValueError(f"{fn}: Expected strategy to be either \"forward-mode\" or "
                         f"\"reverse-mode\", got {strategy!r}")
    if strategy == "forward-mode" and not vectorize:
        raise NotImplementedError(f"{fn}: computing Jacobian in forward-mode AD requires "
                                  "vectorize=True (as in PyTorch)")
    Tensor = _tensor_class()
    in_tuple, ins = _as_tuple(inputs, "inputs", fn)
    ins = _prepare(ins, create_graph)
    out_tuple, outs = _call(func, ins, fn)
    blocks: list[tuple[Any, ...]] = []
    for i, out in enumerate(outs):
        rows: list[tuple[Any, ...]] = []
        for k in range(out.numel()):
            onehot = _filled(out, 0, (out.numel(),))
            onehot._data[k] = 1
            rows.append(_grads((out,), ins, (onehot.reshape(out.shape),), create_graph, strict,
                               fn, f"output {i}"))
        per_input = []
        for j, t in enumerate(ins):
            shape = tuple(out.shape) + tuple(t.shape)
            if rows:
                block = Tensor.stack([r[j] for r in rows]).reshape(shape)
            else:
                block = _filled(t, 0, shape)
            per_input.append(block)
        blocks.append(tuple(per_input))
    result = tuple(b if in_tuple else b[0] for b in blocks)
    return _finish(result if out_tuple else result[0], create_graph)


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a function with one single-element output: block ``[i][j]`` of shape
    ``input_i.shape + input_j.shape`` (PyTorch's ``hessian``): the Jacobian of its gradient."""
    fn = "hessian"
    in_tuple, ins = _as_tuple(inputs, "inputs", fn)

    def gradient(*xs: Any) -> Any:
        out_tuple, outs = _call(func, xs, fn)
        if out_tuple or outs[0].numel() != 1:
            raise RuntimeError(f"{fn}: the function given to hessian should return a single "
                               f"Tensor with a single element, got shape {tuple(outs[0].shape)}"
                               + (" (a tuple)" if out_tuple else ""))
        grads = _grads(outs, xs, (_filled(outs[0], 1),), True, strict, fn, "output")
        return grads if in_tuple else grads[0]

    return jacobian(gradient, ins if in_tuple else ins[0], create_graph=create_graph,
                    strict=strict, vectorize=vectorize, strategy=outer_jacobian_strategy)


def _second(func: Callable[..., Any], inputs: Any, v: Any, create_graph: bool, strict: bool,
            fn: str) -> tuple[Any, Any]:
    """``(func(*inputs), H v)`` for a function with one single-element output."""
    in_tuple, ins = _as_tuple(inputs, "inputs", fn)
    ins = _prepare(ins, create_graph)
    vs = _vector(v, ins, in_tuple, fn, "v", scalar_ok=True)
    out_tuple, outs = _call(func, ins, fn)
    if out_tuple or outs[0].numel() != 1:
        raise RuntimeError(f"{fn}: the function given to {fn} should return a single Tensor "
                           f"with a single element, got shape {tuple(outs[0].shape)}")
    one = _filled(outs[0], 1)
    with enable_grad():
        grads = _grads(outs, ins, (one,), True, strict, fn, "output")
    second = _grads(grads, ins, vs, create_graph, strict, fn, "gradient")
    outs_ret = _finish(outs[0], create_graph)
    res = _finish(second, create_graph)
    return outs_ret, (res if in_tuple else res[0])


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), v^T H)`` for a function with one single-element output."""
    return _second(func, inputs, v, create_graph, strict, "vhp")


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), H v)`` for a function with one single-element output (equal to
    ``vhp`` where the Hessian is symmetric: every twice continuously differentiable function)."""
    return _second(func, inputs, v, create_graph, strict, "hvp")
