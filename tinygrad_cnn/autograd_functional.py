"""``tinygrad_cnn.autograd.functional``: PyTorch's ``torch.autograd.functional`` -- ``vjp``,
``jvp``, ``jacobian``, ``hessian``, ``hvp``, ``vhp`` -- built on :func:`~tinygrad_cnn.grad`.

Each follows PyTorch 2.13's code step by step (``torch/autograd/functional.py``), so that it
returns the same structure and refuses the same calls:

* ``inputs``, ``v`` and what ``func`` returns are a Tensor or a *tuple* of Tensors (a list is
  refused, as PyTorch refuses it); the results mirror them: a Tensor where a Tensor was given,
  tuples (per output, then per input) where tuples were. ``jacobian`` with
  ``strategy="forward-mode"`` (and ``hessian`` with ``outer_jacobian_strategy="forward-mode"``)
  returns *lists* where the reverse mode returns tuples, as PyTorch's forward mode does.
* The results are detached unless ``create_graph=True``.
* ``strict=True`` refuses an output that does not require grad, an input that an output does not
  depend on (otherwise its block is zeros), and, with ``create_graph=True``, a result that does
  not depend on the inputs (the Jacobian of a linear function: it cannot be differentiated
  again), with PyTorch's messages.

Where PyTorch vectorises (``vectorize=True``) or uses forward mode, these run one reverse-mode
vector-Jacobian product per output element: the same numbers, slower for big outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinygrad_cnn._scalars import check_callable
from tinygrad_cnn._words import a_type
from tinygrad_cnn.autograd import enable_grad, grad, is_grad_enabled, set_grad_enabled
from tinygrad_cnn.backend import array_module

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _tensor_class() -> Any:
    from tinygrad_cnn.tensor import Tensor

    return Tensor


# ------------------------------------------------------------------------------ PyTorch's helpers
def _as_tuple(x: Any, arg: str, fn: str) -> tuple[bool, tuple[Any, ...]]:
    """``(whether x is a tuple, x as a tuple of Tensors)``; anything else is a TypeError."""
    Tensor = _tensor_class()
    is_tuple = isinstance(x, tuple)
    items = x if is_tuple else (x,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            where = f"the value at index {i}" if is_tuple else f"the given {arg}"
            fix = "; give a tuple (as PyTorch, a list is not taken)" if isinstance(x, list) else ""
            raise TypeError(f"{fn}: the {arg} given to {fn} must be a Tensor (or a tuple of "
                            f"Tensors), but {where} is {a_type(t)}{fix}")
    return is_tuple, items


def _tuple_postprocess(res: Any, to_unpack: bool | tuple[bool, bool]) -> Any:
    """Undo ``_as_tuple``: unwrap the levels (outputs, then inputs) that were not tuples."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _filled(like: Any, value: float, shape: Any = None) -> Any:
    """A Tensor of ``value`` with ``like``'s dtype and device (``shape``: ``like``'s)."""
    data = like._data
    shape = data.shape if shape is None else shape
    return _tensor_class()._make(array_module(data).full(shape, value, dtype=data.dtype))


def _prepare(inputs: tuple[Any, ...], create_graph: bool, need_graph: bool) -> tuple[Any, ...]:
    """PyTorch's ``_grad_preprocess``: new Tensors, which require grad when ``need_graph``; with
    ``create_graph`` one that requires grad stays connected to its graph (a view)."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            out.append(t.detach().requires_grad_(need_graph))
    return tuple(out)


def _finish(results: Any, create_graph: bool) -> Any:
    """PyTorch's ``_grad_postprocess``: detached unless ``create_graph`` (nested tuples too)."""
    if isinstance(results, tuple):
        return tuple(_finish(r, create_graph) for r in results)
    return results if results is None or create_graph else results.detach()


def _validate_v(v: tuple[Any, ...], other: tuple[Any, ...], is_other_tuple: bool,
                fn: str) -> None:
    if len(v) != len(other):
        if is_other_tuple:
            raise RuntimeError(f"{fn}: v is a tuple of invalid length: should be {len(other)} "
                               f"but got {len(v)}.")
        raise RuntimeError(f"{fn}: the given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, other)):
        if tuple(a.shape) != tuple(b.shape):
            where = f"entry {i} of v" if is_other_tuple else "v"
            raise RuntimeError(f"{fn}: {where} has shape {tuple(a.shape)}, but it must have the "
                               f"shape {tuple(b.shape)} of what it multiplies")


def _check_requires_grad(items: tuple[Any, ...], kind: str, strict: bool, fn: str) -> None:
    """PyTorch's checks of strict mode on the outputs, on the gradients of the double-backward
    trick (``grad_inputs``), and on the first derivatives of a Hessian (``jacobian``)."""
    if not strict:
        return
    for i, t in enumerate(items):
        if t is None:  # (only gradients are None)
            raise RuntimeError(f"{fn}: The output of the user-provided function is independent "
                               f"of input {i}. This is not allowed in strict mode.")
        if t.requires_grad:
            continue
        if kind == "jacobian":
            raise RuntimeError(
                f"{fn}: While computing the hessian, found that the jacobian of the "
                f"user-provided function with respect to input {i} is independent of the input. "
                "This is not allowed in strict mode. You should ensure that your function is "
                "twice differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example).")
        if kind == "grad_inputs":
            raise RuntimeError(f"{fn}: The gradient with respect to input {i} is independent of "
                               "the inputs of the user-provided function. This is not allowed "
                               "in strict mode.")
        raise RuntimeError(f"{fn}: Output {i} of the user-provided function does not require "
                           "gradients. The outputs must be computed in a differentiable manner "
                           "from the input when running in strict mode.")


def _autograd_grad(outputs: tuple[Any, ...], inputs: tuple[Any, ...],
                   grad_outputs: tuple[Any, ...] | None = None, create_graph: bool = False,
                   retain_graph: bool | None = None) -> tuple[Any, ...]:
    """``grad`` that skips the outputs which are None or do not require grad (None for every
    input when none is left); a missing vector of a one-element output is 1."""
    vectors = (None,) * len(outputs) if grad_outputs is None else grad_outputs
    kept = [(o, _filled(o, 1) if v is None else v) for o, v in zip(outputs, vectors)
            if o is not None and o.requires_grad]
    if not kept:
        return (None,) * len(inputs)
    return grad([o for o, _ in kept], inputs, [v for _, v in kept], retain_graph=retain_graph,
                create_graph=create_graph, allow_unused=True)


_STRICT_ERRORS = {
    "back": "The output of the user-provided function is independent of input {i}.",
    "back_trick": ("The gradient with respect to the input is independent of entry {i} in the "
                   "grad_outputs when using the double backward trick to compute forward mode "
                   "gradients."),
    "double_back": "The jacobian of the user-provided function is independent of input {i}.",
    "double_back_trick": ("The hessian of the user-provided function is independent of entry "
                          "{i} in the grad_jacobian."),
}


def _fill_in_zeros(grads: tuple[Any, ...], refs: tuple[Any, ...], strict: bool,
                   create_graph: bool, stage: str, fn: str) -> tuple[Any, ...]:
    """PyTorch's ``_fill_in_zeros``: zeros for the None gradients (strict: an error); with
    ``strict`` and ``create_graph``, a gradient that does not require grad is an error too (it
    does not depend on the inputs, so it cannot be differentiated again)."""
    out = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                extra = (" This is not allowed in strict mode as it prevents from using the double "
                         "backward trick to replace forward mode AD." if stage == "double_back_trick"
                         else " This is not allowed in strict mode.")
                raise RuntimeError(f"{fn}: " + _STRICT_ERRORS[stage].format(i=i) + extra)
            g = _filled(refs[i], 0)
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"{fn}: The {what} of the user-provided function is independent "
                               f"of input {i}. This is not allowed in strict mode when "
                               "create_graph=True.")
        out.append(g)
    return tuple(out)


def _v_or_one(v: Any, like: tuple[Any, ...], is_tuple: bool, create_graph: bool,
              fn: str) -> tuple[Any, ...]:
    """``v`` as a checked tuple; None only for one single-element input (then 1)."""
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            what = ("the user-provided function returns" if fn == "vjp" else
                    "the input to the user-provided function is")
            raise RuntimeError(f"{fn}: The vector v can only be None if {what} a single Tensor "
                               "with a single element.")
        return (_filled(like[0], 1),)
    _, vs = _as_tuple(v, "v", fn)
    vs = _prepare(vs, create_graph, need_graph=False)
    _validate_v(vs, like, is_tuple, fn)
    return vs


# ------------------------------------------------------------------------------ products
def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), v^T J)``: the vector-Jacobian product with ``v`` (PyTorch's ``vjp``)."""
    fn = "vjp"
    check_callable(fn, "func", func)
    with enable_grad():
        in_tuple, ins = _as_tuple(inputs, "inputs", fn)
        ins = _prepare(ins, create_graph, need_graph=True)
        out_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function", fn)
        _check_requires_grad(outs, "outputs", strict, fn)
        vs = _v_or_one(v, outs, out_tuple, create_graph, fn)
    with set_grad_enabled(bool(create_graph) or is_grad_enabled()):
        grads = _autograd_grad(outs, ins, vs, create_graph=create_graph)
        grads = _fill_in_zeros(grads, ins, strict, create_graph, "back", fn)
    return (_tuple_postprocess(_finish(outs, create_graph), out_tuple),
            _tuple_postprocess(_finish(grads, create_graph), in_tuple))


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), J v)``: the Jacobian-vector product with ``v``, by the double-backward
    trick (as PyTorch's ``jvp``): the VJP with a placeholder ``u`` is linear in ``u``, and its
    own VJP with ``v`` is ``J v``."""
    fn = "jvp"
    check_callable(fn, "func", func)
    with enable_grad():
        in_tuple, ins = _as_tuple(inputs, "inputs", fn)
        ins = _prepare(ins, create_graph, need_graph=True)
        vs = _v_or_one(v, ins, in_tuple, create_graph, fn)
        out_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function", fn)
        _check_requires_grad(outs, "outputs", strict, fn)
        us = tuple(_filled(o, 0).requires_grad_(True) for o in outs)
        grad_inputs = _autograd_grad(outs, ins, us, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict, fn)
    with set_grad_enabled(bool(create_graph) or is_grad_enabled()):
        found = _autograd_grad(grad_inputs, us, vs, create_graph=create_graph)
        result = _fill_in_zeros(found, outs, strict, create_graph, "back_trick", fn)
    return (_tuple_postprocess(_finish(outs, create_graph), out_tuple),
            _tuple_postprocess(_finish(result, create_graph), out_tuple))


# ------------------------------------------------------------------------------ Jacobians
_STRATEGIES = ("forward-mode", "reverse-mode")


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """The Jacobian of ``func`` at ``inputs``: block ``[i][j]`` of shape ``output_i.shape +
    input_j.shape`` (PyTorch's ``jacobian`` and its return structure: tuples in reverse mode,
    lists in forward mode). One vector-Jacobian product per output element; ``vectorize`` and
    ``strategy`` give the same numbers."""
    return _jacobian(func, inputs, create_graph, strict, vectorize, strategy, "jacobian")


def _jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool, strict: bool,
              vectorize: bool, strategy: str, fn: str) -> Any:
    """``jacobian``, its errors named after ``fn`` (the call the user made: ``hessian`` too)."""
    check_callable(fn, "func", func)
    if strategy not in _STRATEGIES:
        raise ValueError(f"{fn}: Expected strategy to be either \"forward-mode\" or "
                         f"\"reverse-mode\", got {strategy!r}")
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(f"{fn}: `create_graph=True` and `strategy=\"forward-mode\"`"
                                      " are not supported together (yet). Please either set "
                                      "`create_graph=False` or `strategy=\"reverse-mode\"`.")
        if strict:
            raise RuntimeError(f"{fn}: `strict=True` and `strategy=\"forward-mode\"` are not "
                               "supported together (yet). Please either set `strict=False` or "
                               "`strategy=\"reverse-mode\"`.")
        if not vectorize:
            raise NotImplementedError(f"{fn}: computing Jacobian in forward-mode AD requires "
                                      "vectorize=True (as in PyTorch)")
    elif vectorize and strict:
        raise RuntimeError(f"{fn}: `strict=True` and `vectorized=True` are not supported "
                           "together. Please either set `strict=False` or `vectorize=False`.")
    Tensor = _tensor_class()
    with enable_grad():
        in_tuple, ins = _as_tuple(inputs, "inputs", fn)
        ins = _prepare(ins, create_graph, need_graph=True)
        out_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function", fn)
        _check_requires_grad(outs, "outputs", strict, fn)
        blocks: list[tuple[Any, ...]] = []
        for i, out in enumerate(outs):
            rows: list[list[Any]] = [[] for _ in ins]
            for k in range(out.numel()):
                onehot = _filled(out, 0, (out.numel(),))
                onehot._data[k] = 1
                found = _autograd_grad((out,), ins, (onehot.reshape(out.shape),),
                                       create_graph=create_graph, retain_graph=True)
                for j, (g, t) in enumerate(zip(found, ins)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"{fn}: Output {i} of the user-provided function "
                                               f"is independent of input {j}. This is not "
                                               "allowed in strict mode.")
                        g = _filled(t, 0)
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError(f"{fn}: The jacobian of the user-provided function is "
                                           f"independent of input {j}. This is not allowed in "
                                           "strict mode when create_graph=True.")
                    rows[j].append(g)
            blocks.append(tuple(
                Tensor.stack(r).reshape(tuple(out.shape) + tuple(t.shape)) if r else
                _filled(t, 0, tuple(out.shape) + tuple(t.shape)) for r, t in zip(rows, ins)))
    result: Any = _finish(tuple(blocks), create_graph)
    if strategy == "forward-mode":  # (PyTorch's forward mode builds lists of lists)
        result = [list(per_input) for per_input in result]
    return _tuple_postprocess(result, (out_tuple, in_tuple))


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a function with one single-element output: block ``[i][j]`` of shape
    ``input_i.shape + input_j.shape`` (PyTorch's ``hessian``): the Jacobian of its gradient."""
    fn = "hessian"
    check_callable(fn, "func", func)
    in_tuple, ins = _as_tuple(inputs, "inputs", fn)
    if outer_jacobian_strategy not in _STRATEGIES:
        raise ValueError(f"{fn}: Expected strategy to be either \"forward-mode\" or "
                         f"\"reverse-mode\", got {outer_jacobian_strategy!r}")

    def single_output(*xs: Any) -> Any:
        out = func(*xs)
        out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", fn)
        _check_requires_grad(outs, "outputs", strict, fn)
        if out_tuple or outs[0].numel() != 1:
            raise RuntimeError(f"{fn}: The function given to hessian should return a single "
                               "Tensor with a single element, got "
                               + ("a tuple" if out_tuple else f"shape {tuple(outs[0].shape)}"))
        return out.squeeze()

    def gradient(*xs: Any) -> Any:
        jac = _jacobian(single_output, xs, True, False, False, "reverse-mode", fn)
        _check_requires_grad(jac, "jacobian", strict, fn)
        return jac

    res = _jacobian(gradient, ins, create_graph, strict, vectorize, outer_jacobian_strategy, fn)
    return _tuple_postprocess(res, (in_tuple, in_tuple))


def _second(func: Callable[..., Any], inputs: Any, v: Any, create_graph: bool, strict: bool,
            fn: str) -> tuple[Any, Any]:
    """``(func(*inputs), H v)`` (``hvp``: by the double-backward trick) or ``v^T H`` (``vhp``)
    for a function with one single-element output, as PyTorch's."""
    check_callable(fn, "func", func)
    with enable_grad():
        in_tuple, ins = _as_tuple(inputs, "inputs", fn)
        ins = _prepare(ins, create_graph, need_graph=True)
        vs = _v_or_one(v, ins, in_tuple, create_graph, fn)
        out_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function", fn)
        _check_requires_grad(outs, "outputs", strict, fn)
        if out_tuple or outs[0].numel() != 1:
            raise RuntimeError(f"{fn}: The function given to {fn} should return a single Tensor "
                               "with a single element, got "
                               + ("a tuple" if out_tuple else f"shape {tuple(outs[0].shape)}"))
        jac = _autograd_grad(outs, ins, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict, fn)
        if fn == "hvp":
            us = tuple(_filled(t, 0).requires_grad_(True) for t in ins)
            double_back = _autograd_grad(jac, ins, us, create_graph=True)
    with set_grad_enabled(bool(create_graph) or is_grad_enabled()):
        if fn == "hvp":
            found = _autograd_grad(double_back, us, vs, create_graph=create_graph)
            result = _fill_in_zeros(found, ins, strict, create_graph, "double_back_trick", fn)
        else:
            found = _autograd_grad(jac, ins, vs, create_graph=create_graph)
            result = _fill_in_zeros(found, ins, strict, create_graph, "double_back", fn)
    return (_tuple_postprocess(_finish(outs, create_graph), out_tuple),
            _tuple_postprocess(_finish(result, create_graph), in_tuple))


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), v^T H)`` for a function with one single-element output."""
    return _second(func, inputs, v, create_graph, strict, "vhp")


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), H v)`` for a function with one single-element output (equal to
    ``vhp`` where the Hessian is symmetric: every twice continuously differentiable function)."""
    return _second(func, inputs, v, create_graph, strict, "hvp")
