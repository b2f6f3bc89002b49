"""The differential fuzzer: tinygrad_cnn against PyTorch, op by op and over random programs.

Every spec in ``fuzz_specs.py`` runs on inputs drawn by Hypothesis -- shapes (broadcasting, empty
dims), dtypes (float16/32/64, integers, bool), values in the op's domain and, often, special values
(0, -0, ties, +-inf, NaN) -- in both libraries, which must agree on: the values (NaN where PyTorch
has NaN, the same infinities), the result dtype, the gradient of every input for a random output
gradient, and, for smooth ops in float64, the second derivative (through ``create_graph``).

In CI the fuzzer runs derandomized (a fixed seed), with the ``ci`` example counts below; run it long
with ``TINYGRAD_CNN_FUZZ=thorough python -m pytest tests/test_fuzz.py`` (or set the number of
examples with ``TINYGRAD_CNN_FUZZ=<n>``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from fuzz_specs import ALL_SPECIALS, SPECS, Spec, torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as tgF
from tinygrad_cnn.ops import REGISTRY

_MODE = os.environ.get("TINYGRAD_CNN_FUZZ", "ci")
EXAMPLES = {"ci": 12, "thorough": 400}.get(_MODE) or int(_MODE)
PROGRAMS = {"ci": 300, "thorough": 20000}.get(_MODE) or int(_MODE) * 20
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=_MODE == "ci",
                suppress_health_check=list(HealthCheck), database=None)

#: how many cases ran (reported at the end of the session by conftest.py)
COUNTS = {"op cases": 0, "programs": 0}

ALL = [(name, s) for name in sorted(SPECS) for s in SPECS[name]]
IDS = [f"{name}-{s.id or i}" for i, (name, s) in enumerate(ALL)]


def test_every_op_has_a_torch_counterpart():
    missing = sorted(set(REGISTRY) - set(SPECS))
    assert not missing, f"registered ops without a PyTorch counterpart in fuzz_specs: {missing}"
    unknown = sorted(set(SPECS) - set(REGISTRY))
    assert not unknown, f"fuzz specs for ops that are not registered: {unknown}"


# ------------------------------------------------------------------------------ the two libraries
def _np_dtype(name: str) -> np.dtype:
    return np.dtype(name)


def _ours_const(a: np.ndarray) -> Any:
    return tg.Tensor(a)


OURS = SimpleNamespace(t=tg, F=tgF, dt=_np_dtype, const=_ours_const, torch=False)
if torch is not None:
    THEIRS = SimpleNamespace(t=torch, F=torch.nn.functional, torch=True,
                             dt=lambda name: getattr(torch, "bool" if name == "bool" else name),
                             const=lambda a: torch.from_numpy(np.array(a)))


def _ours_tensor(a: np.ndarray, grad: bool) -> tg.Tensor:
    return tg.Tensor(a, requires_grad=grad)


def _their_tensor(a: np.ndarray, grad: bool) -> Any:
    return torch.from_numpy(a.copy()).requires_grad_(grad)


def _to_numpy(x: Any) -> np.ndarray | None:
    if x is None:
        return None
    if isinstance(x, tg.Tensor):
        return np.array(x.numpy())
    if x._is_zerotensor():  # PyTorch's symbolic zeros (the second derivative of sgn, say)
        return np.zeros(tuple(x.shape), dtype=_dtype_name(x))
    return x.detach().numpy().copy()


def _dtype_name(x: Any) -> str:
    if isinstance(x, tg.Tensor):
        return str(x.dtype)
    return str(x.dtype).replace("torch.", "")


# ------------------------------------------------------------------------------ inputs
def _values(rng: np.random.Generator, shape: tuple[int, ...], dtype: str, domain: str,
            specials: tuple[str, ...]) -> np.ndarray:
    if dtype == "bool":
        return np.asarray(rng.random(shape) > 0.5)
    if dtype in ("int64", "int32", "uint8") or domain == "int":
        lo = 0 if dtype == "uint8" else -5
        a = rng.integers(lo, 6, shape)
    elif domain == "positive":
        a = 0.5 + np.abs(rng.standard_normal(shape))
    elif domain == "unit":
        a = rng.uniform(-0.9, 0.9, shape)
    elif domain == "above1":
        a = 1.1 + np.abs(rng.standard_normal(shape))
    elif domain == "nonzero":
        x = np.asarray(rng.standard_normal(shape))
        a = np.asarray(np.sign(x) * (0.5 + np.abs(x)))
        a[a == 0] = 0.5
    else:
        a = rng.standard_normal(shape)
    a = np.asarray(a).astype(dtype)  # (0-d draws come back as numpy scalars)
    if specials and a.size:
        flat = a.reshape(-1)
        for _ in range(rng.integers(1, 3)):
            kind = specials[rng.integers(len(specials))]
            where = rng.integers(0, flat.size, rng.integers(1, max(2, flat.size // 2)))
            if kind == "zero":
                flat[where] = 0
            elif kind == "tie":
                flat[where] = flat[rng.integers(flat.size)]
            elif kind == "inf" and a.dtype.kind == "f":
                flat[where] = np.inf if rng.random() < 0.5 else -np.inf
            elif kind == "nan" and a.dtype.kind == "f":
                flat[where] = np.nan
    return a


def _tolerance(dtype: str, factor: float) -> tuple[float, float]:
    rtol, atol = {"float16": (4e-3, 2e-3), "float32": (2e-5, 1e-6)}.get(dtype, (1e-9, 1e-12))
    return rtol * factor, atol * factor


def assert_close(ours: np.ndarray | None, theirs: np.ndarray | None, dtype: str, factor: float,
                 what: str) -> None:
    """Equal NaN positions, equal infinities, finite values within the dtype's tolerance."""
    if ours is None and theirs is None:
        return
    if ours is None or theirs is None:  # a missing gradient counts as zeros
        ours = np.zeros_like(theirs) if ours is None else ours
        theirs = np.zeros_like(ours) if theirs is None else theirs
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, PyTorch {theirs.shape}"
    if ours.dtype.kind not in "fc":
        np.testing.assert_array_equal(ours, theirs, err_msg=what)
        return
    o, t = ours.astype(np.float64), theirs.astype(np.float64)
    nan_o, nan_t = np.isnan(o), np.isnan(t)
    assert (nan_o == nan_t).all(), (
        f"{what}: NaN at {np.argwhere(nan_o != nan_t)[:4].tolist()}: ours "
        f"{o[nan_o != nan_t][:4]}, PyTorch {t[nan_o != nan_t][:4]}")
    inf_t = np.isinf(t)
    assert (o[inf_t] == t[inf_t]).all() and not np.isinf(o[~inf_t]).any(), (
        f"{what}: infinities differ: ours {o.ravel()[:8]}, PyTorch {t.ravel()[:8]}")
    fin = np.isfinite(t)
    rtol, atol = _tolerance(dtype, factor)
    scale = max(1.0, float(np.abs(t[fin]).max())) if fin.any() else 1.0
    bad = ~np.isclose(o[fin], t[fin], rtol=rtol, atol=atol * scale)
    assert not bad.any(), (f"{what} ({dtype}): ours {o[fin][bad][:4]}, PyTorch {t[fin][bad][:4]} "
                           f"(rtol {rtol:g}, atol {atol * scale:g})")


# ------------------------------------------------------------------------------ running a spec
def _call(spec: Spec, lib: Any, tensors: list[Any], params: dict[str, Any]) -> Any:
    fn = spec.theirs if (lib.torch and spec.theirs is not None) else spec.fn
    return fn(lib, *tensors, **params)


def _outcome(fn: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    try:
        return fn(), None
    except (RuntimeError, ValueError, TypeError, IndexError, ZeroDivisionError, OverflowError,
            NotImplementedError) as exc:
        return None, exc


def _relaid(a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same values in another memory layout: the axes stored in a random order (what a
    transpose or permute leaves behind). An op's VJP must not depend on it -- a forward whose
    result was copied to C order saved the pre-copy array, and its second derivative lost the
    output's graph (an outside tester, through ``x.t().softmax(1)``)."""
    if a.ndim < 2:
        return a
    perm = rng.permutation(a.ndim)
    return np.ascontiguousarray(a.transpose(perm)).transpose(np.argsort(perm))


def _odd_unit_strides(t: tg.Tensor, rng: np.random.Generator) -> tg.Tensor:
    """``t`` with its size-1 dims given strides that no step uses, as views leave them (``x[:,
    None]`` has 0 there, a transpose of two size-1 dims their swapped strides): numpy still calls
    such an array C-contiguous, and conv2d's im2col read a width-1 input with that stride (an
    outside tester). A tensor's constructor copies an array to its own strides, so the leaf's
    array is replaced by such a view of itself (same memory, same values)."""
    a = t._data
    strides = tuple(int(rng.choice([0, 3 * a.itemsize, -a.itemsize])) if n == 1 else st
                    for n, st in zip(a.shape, a.strides))
    t._data = np.lib.stride_tricks.as_strided(a, a.shape, strides)
    return t


def run_both(spec: Spec, arrays: list[np.ndarray], params: dict[str, Any], dtype: str,
             rng: np.random.Generator, second: bool, relayout: bool = False) -> None:
    grad = spec.grad and np.dtype(dtype).kind == "f"
    ours_in = [_ours_tensor(_relaid(a, rng) if relayout else a, grad) for a in arrays]
    if relayout:
        ours_in = [_odd_unit_strides(t, rng) if 1 in t.shape else t for t in ours_in]
    their_in = [_their_tensor(a, grad) for a in arrays]
    ours, err_o = _outcome(lambda: _call(spec, OURS, ours_in, params))
    theirs, err_t = _outcome(lambda: _call(spec, THEIRS, their_in, params))
    if err_t is not None or err_o is not None:
        # both refuse, or neither: a refusal of ours where PyTorch computes is a missing feature,
        # a result where PyTorch refuses is a silent wrong answer
        assert (err_o is None) == (err_t is None), (
            f"ours: {err_o!r}, PyTorch: {err_t!r}")
        return
    assert _dtype_name(ours) == _dtype_name(theirs), (
        f"result dtype {_dtype_name(ours)}, PyTorch {_dtype_name(theirs)}")
    # integer inputs of a float function (sin of an int tensor) give a float result: its tolerance
    value_dtype = dtype if np.dtype(dtype).kind == "f" else _dtype_name(theirs)
    assert_close(_to_numpy(ours), _to_numpy(theirs), value_dtype, spec.rtol, "value")
    if not grad or not theirs.requires_grad:
        return
    assert ours.requires_grad, "ours does not require grad where PyTorch's result does"
    g = rng.standard_normal(tuple(theirs.shape)).astype(_dtype_name(theirs))
    create = second and spec.smooth
    gs_o = tg.grad(ours, ours_in, tg.Tensor(g), allow_unused=True, create_graph=create,
                   retain_graph=True)
    gs_t = torch.autograd.grad(theirs, their_in, torch.from_numpy(g), allow_unused=True,
                               create_graph=create)
    for i, (a, b) in enumerate(zip(gs_o, gs_t)):
        assert_close(_to_numpy(a), _to_numpy(b), dtype, spec.rtol * 4, f"gradient of input {i}")
    if not create:
        # the same first derivative from a recorded backward (create_graph=True), special values
        # and every dtype included: prod's and cumprod's recorded VJPs gave 6 for the inf of
        # [2, inf, 3], where .backward() and PyTorch give NaN (outside tester t109)
        gs_c = tg.grad(ours, ours_in, tg.Tensor(g), allow_unused=True, create_graph=True)
        for i, (a, b) in enumerate(zip(gs_c, gs_t)):
            assert_close(_to_numpy(a), _to_numpy(b), dtype, spec.rtol * 4,
                         f"gradient of input {i} with create_graph=True")
        return
    # second derivative: d/dx <grad(x), v> for a random v
    pairs = [(a, b) for a, b in zip(gs_o, gs_t) if b is not None and b.requires_grad]
    if not pairs:
        return
    vs = [rng.standard_normal(tuple(b.shape)) for _, b in pairs]
    s_o = sum((a * tg.Tensor(v)).sum() for (a, _), v in zip(pairs, vs))
    s_t = sum((b * torch.from_numpy(v)).sum() for (_, b), v in zip(pairs, vs))
    hs_o = tg.grad(s_o, ours_in, allow_unused=True) if s_o.requires_grad else [None] * len(ours_in)
    hs_t = torch.autograd.grad(s_t, their_in, allow_unused=True)
    for i, (a, b) in enumerate(zip(hs_o, hs_t)):
        assert_close(_to_numpy(a), _to_numpy(b), dtype, spec.rtol * 16,
                     f"second derivative of input {i}")


@pytest.mark.skipif(torch is None, reason="needs PyTorch (pip install torch==2.13.0)")
@pytest.mark.parametrize("name,spec", ALL, ids=IDS)
@FUZZ
@given(data=st.data())
def test_op_matches_torch(name, spec, data):
    shapes = data.draw(spec.shape_strategy(), label="shapes")
    params = data.draw(spec.params(shapes), label="params") if spec.params else {}
    dtype = data.draw(st.sampled_from(spec.dtypes), label="dtype")
    special = bool(spec.specials) and data.draw(st.booleans(), label="special values")
    relayout = data.draw(st.booleans(), label="inputs in another memory layout")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    arrays = [_values(rng, s, dtype, d, spec.specials if special else ())
              for s, d in zip(shapes, spec.domains())]
    COUNTS["op cases"] += 1
    try:
        run_both(spec, arrays, params, dtype, rng, second=dtype == "float64" and not special,
                 relayout=relayout)
    except AssertionError as exc:
        shown = "; ".join(np.array2string(a, threshold=24, precision=4) for a in arrays)
        raise AssertionError(f"{name}({shown}, {params}) in {dtype}: {exc}") from None


def test_every_spec_applies_its_op():
    """A spec must really run its op (a typo would otherwise fuzz a different op)."""
    from tinygrad_cnn.autograd import _collect

    rng = np.random.default_rng(0)
    for name, spec in ALL:
        if not spec.grad:
            continue
        ops: set[str] = set()
        for _ in range(50):  # some draws may not need the op (a reshape to the same shape)
            shapes = spec.shape_strategy().example()
            params = spec.params(shapes).example() if spec.params else {}
            ins = [tg.Tensor(_values(rng, s, "float64", d, ()), requires_grad=True)
                   for s, d in zip(shapes, spec.domains())]
            try:
                out = spec.fn(OURS, *ins, **params)
            except (RuntimeError, ValueError, IndexError):
                continue  # a draw the op refuses (as PyTorch does: the fuzzer compares refusals)
            ops |= {node.fn.name for node in _collect([out.grad_fn])} if out.grad_fn else set()
            if name in ops:
                break
        assert name in ops, f"spec {name}/{spec.id} does not apply {name} (it applies {sorted(ops)})"


# ------------------------------------------------------------------------------ random programs
# A program is a sequence of steps over a list of registers (tensors), drawn one step at a time:
# elementwise ops from the table (with broadcasting), views (slices with steps, integer index,
# reshape, transpose, unsqueeze/squeeze, expand, detach), in-place ops on bases and on views
# (add_/sub_/mul_/div_ with numbers or tensors, copy_, fill_, item assignment, the in-place
# forms of unary ops where both libraries have them), reductions, and the same register used
# twice. Both libraries run every step; a step one refuses the other must refuse too. At the end
# the registers' values must agree, and so must the gradients of the leaves for a random
# weighting of every register that requires grad.

PROGRAM_OPS = [(name, s) for name, s in ALL if s.elementwise and s.in_programs and s.grad
               and s.arity in (1, 2)
               and all(d == "real" for d in s.domains()) and s.theirs is None]
INPLACE_UNARY = tuple(n for n in ("exp_", "relu_", "sigmoid_", "tanh_", "neg_", "abs_", "sin_",
                                  "cos_", "square_", "clamp_", "clamp_min_", "sign_",
                                  "nan_to_num_") if hasattr(tg.Tensor, n))
#: in-place ops that read a second register: (how, extra arguments after it)
INPLACE_WITH_TENSOR = {"lerp_": (0.25,), "addcmul_": "twice", "hypot_": (),
                       # a tensor bound (a bound that requires grad, on a register that does
                       # not, was once not recorded: a silent wrong gradient)
                       "clamp_(min=)": ("clamp_", "min"), "clip_(max=)": ("clip_", "max")}


class Machine:
    """The two libraries' registers, side by side."""

    def __init__(self) -> None:
        self.ours: list[Any] = []
        self.theirs: list[Any] = []
        self.leaves: list[int] = []
        self.smooth = True  # no step through a kink: second derivatives are compared
        self.replay: tuple[list[np.ndarray], list[Any]] | None = None  # see _in_float64

    def add(self, ours: Any, theirs: Any) -> None:
        self.ours.append(ours)
        self.theirs.append(theirs)

    def shape(self, i: int) -> tuple[int, ...]:
        return tuple(self.theirs[i].shape)


#: in-place steps that PyTorch refuses by its own implementation limits where ours computes the
#: well-defined result: a view made of a leaf before that leaf joined a graph (PyTorch still
#: calls it "a leaf"), and operands overlapping the written memory. After such a step the two
#: libraries' states differ, so the program ends there.
TORCH_ONLY_REFUSALS = ("a leaf Variable that requires grad is being used in an in-place",
                       "refer to a single memory location")
#: and the other way round: writes into an expand()ed view other than fill_ (or an unfold() of
#: overlapping windows), whose result depends on the order the aliased elements are written in
#: (PyTorch does them; we refuse)
OURS_ONLY_REFUSALS = ("is read-only: a view that shows one value in several places",
                      "refers to a single memory location")


class _TorchRefusedError(Exception):
    """One library refused a step the other did (see the two lists above): the program ends."""


def _both(m: Machine, f: Callable[[Any, list[Any]], Any], what: str) -> tuple[Any, Any] | None:
    """Run one step in both libraries: both results, or None when both refused it."""
    o, err_o = _outcome(lambda: f(OURS, m.ours))
    t, err_t = _outcome(lambda: f(THEIRS, m.theirs))
    if err_o is None and err_t is not None and any(r in str(err_t) for r in TORCH_ONLY_REFUSALS):
        raise _TorchRefusedError(what)
    if err_t is None and err_o is not None and any(r in str(err_o) for r in OURS_ONLY_REFUSALS):
        raise _TorchRefusedError(what)
    assert (err_o is None) == (err_t is None), f"{what}: ours {err_o!r}, PyTorch {err_t!r}"
    return None if err_o is not None else (o, t)


def _broadcastable_to(src: tuple[int, ...], dst: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(src, dst) == dst
    except ValueError:
        return False


def _draw_view(data: Any, shape: tuple[int, ...]) -> Callable[[Any, Any], Any]:
    kinds = ["slice", "reshape", "unsqueeze", "detach"]
    if shape:
        kinds += ["index", "squeeze"]
    if len(shape) >= 2:
        kinds += ["transpose", "transpose_reshape"]
    if 1 in shape:
        kinds.append("expand")
    if shape:
        kinds.append("unfold")  # (overlapping windows: read-only in ours, see OURS_ONLY_REFUSALS)
    kind = data.draw(st.sampled_from(kinds), label="view")
    nd = len(shape)
    if kind == "slice" and nd:
        d = data.draw(st.integers(0, nd - 1), label="dim")
        start = data.draw(st.integers(0, max(shape[d] - 1, 0)), label="start")
        step = data.draw(st.integers(1, 2), label="step")
        key = (slice(None),) * d + (slice(start, None, step),)
        return lambda t: t[key]
    if kind == "index":
        d = data.draw(st.integers(0, nd - 1), label="dim")
        if shape[d] == 0:
            return lambda t: t.detach()
        i = data.draw(st.integers(-shape[d], shape[d] - 1), label="index")
        key = (slice(None),) * d + (i,)
        return lambda t: t[key]
    if kind == "reshape":
        size = int(np.prod(shape))
        options = [(-1,), (1, -1)] + ([(2, -1)] if size % 2 == 0 and size else [])
        if nd >= 2:
            options.append(shape[:-2] + (shape[-2] * shape[-1],))
        new = data.draw(st.sampled_from(options), label="reshape")
        return lambda t: t.reshape(new)
    if kind == "unsqueeze":
        d = data.draw(st.integers(0, nd), label="dim")
        return lambda t: t.unsqueeze(d)
    if kind == "squeeze":
        d = data.draw(st.integers(0, nd - 1), label="dim")
        return lambda t: t.squeeze(d)
    if kind == "transpose":
        a, b = data.draw(st.lists(st.integers(0, nd - 1), min_size=2, max_size=2, unique=True),
                         label="dims")
        return lambda t: t.transpose(a, b)
    if kind == "transpose_reshape":
        # (a view where the memory is laid out to merge the transposed dims -- a "relaid" base
        # -- and a copy elsewhere: an in-place write into it zeroed a C-ordered copy of the
        # gradient, found by an outside tester)
        a, b = data.draw(st.lists(st.integers(0, nd - 1), min_size=2, max_size=2, unique=True),
                         label="dims")
        return lambda t: t.transpose(a, b).reshape(-1)
    if kind == "expand":
        target = tuple(3 if s == 1 else s for s in shape)
        return lambda t: t.expand(*target)
    if kind == "unfold":
        d = data.draw(st.integers(0, nd - 1), label="dim")
        size = data.draw(st.integers(0, shape[d]), label="size")
        step = data.draw(st.integers(1, 3), label="step")
        return lambda t: t.unfold(d, size, step)
    return lambda t: t.detach()


NOT_SMOOTH_INPLACE = ("relu_", "abs_", "clamp_", "clamp_min_", "hypot_", "clamp_(min=)",
                      "clip_(max=)")


def _draw_step(data: Any, m: Machine) -> tuple[str, Callable[[Any, list[Any]], Any], bool]:
    """One step: ``(description, f(lib, registers) -> new register or None, adds a register)``;
    a step through a kink (relu, abs, max, ...) marks the program not smooth (``m.smooth``)."""
    n = len(m.theirs)
    i = data.draw(st.integers(0, n - 1), label="register")
    shape = m.shape(i)
    kind = data.draw(st.sampled_from(["op", "op", "view", "view", "inplace", "inplace", "setitem",
                                      "reduce", "twice", "layout"]), label="step")
    if kind == "layout" and len(shape) >= 2:
        # a new tensor whose memory order is not C's (or is, where PyTorch's is): what a later
        # reshape of it shares, and so what an in-place change through that reaches
        a, b = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=2, max_size=2,
                                  unique=True), label="dims")
        how = data.draw(st.sampled_from(["relaid", "zeros_like", "full_like", "flip", "cat",
                                         "stack", "masked_fill", "clone", "mixed"]), label="how")
        fs = {"relaid": lambda lib, t: t.transpose(a, b).contiguous().transpose(a, b),
              "zeros_like": lambda lib, t: lib.t.zeros_like(t.transpose(a, b)),
              "full_like": lambda lib, t: lib.t.full_like(t.transpose(a, b), 0.5),
              "flip": lambda lib, t: t.transpose(a, b).flip(0),
              "cat": lambda lib, t: lib.t.cat([t.transpose(a, b), t.transpose(a, b)], a),
              "stack": lambda lib, t: lib.t.stack([t.transpose(a, b), t], 0),
              "masked_fill": lambda lib, t: t.transpose(a, b).masked_fill(t.transpose(a, b) > 0,
                                                                           0.5),
              "clone": lambda lib, t: t.transpose(a, b).clone(),
              "mixed": lambda lib, t: t.transpose(a, b) + t.transpose(a, b).contiguous()}
        fn = fs[how]
        return f"{how}(r{i}, {a}, {b})", lambda lib, r: fn(lib, r[i]), True
    if kind == "layout":
        kind = "view"
    if kind == "op":
        name, s = data.draw(st.sampled_from(PROGRAM_OPS), label="op")
        m.smooth &= s.smooth
        params = data.draw(s.params([shape] * s.arity), label="params") if s.params else {}
        if s.arity == 1:
            return f"{name}(r{i})", lambda lib, r: s.fn(lib, r[i], **params), True
        j = data.draw(st.integers(0, n - 1), label="other")
        return f"{name}(r{i}, r{j})", lambda lib, r: s.fn(lib, r[i], r[j], **params), True
    if kind == "twice":
        name, s = data.draw(st.sampled_from([p for p in PROGRAM_OPS if p[1].arity == 2]),
                            label="op")
        m.smooth &= s.smooth
        return f"{name}(r{i}, r{i})", lambda lib, r: s.fn(lib, r[i], r[i]), True
    if kind == "view":
        view = _draw_view(data, shape)
        return f"view(r{i})", lambda lib, r: view(r[i]), True
    if kind == "reduce":
        dim = data.draw(st.sampled_from([None, *range(len(shape))]), label="dim")
        return f"sum(r{i}, {dim})", lambda lib, r: r[i].sum() if dim is None else r[i].sum(dim), True
    if kind == "inplace":
        how = data.draw(st.sampled_from(["add_", "sub_", "mul_", "div_", "copy_", "fill_", "zero_",
                                         *INPLACE_UNARY, *INPLACE_WITH_TENSOR]), label="inplace")
        if how in INPLACE_UNARY:
            m.smooth &= how not in NOT_SMOOTH_INPLACE
            arg = {"clamp_": (-0.5, 0.5), "clamp_min_": (0.1,)}.get(how, ())
            return f"r{i}.{how}()", lambda lib, r: getattr(r[i], how)(*arg), False
        if how == "fill_":
            return f"r{i}.fill_(1.5)", lambda lib, r: r[i].fill_(1.5), False
        if how == "zero_":
            return f"r{i}.zero_()", lambda lib, r: r[i].zero_(), False
        # (an operand that overlaps the written memory: PyTorch refuses, numpy computes it as if
        # out of place; both are safe, so such steps are not drawn)
        others = [j for j in range(n) if _broadcastable_to(m.shape(j), shape)
                  and not np.may_share_memory(m.ours[j]._data, m.ours[i]._data)]
        if how in INPLACE_WITH_TENSOR:
            m.smooth &= how not in NOT_SMOOTH_INPLACE
            if not others:
                return f"r{i}.neg_()", lambda lib, r: r[i].neg_(), False
            j = data.draw(st.sampled_from(others), label="other")
            extra = INPLACE_WITH_TENSOR[how]
            if extra == "twice":  # addcmul_(r_j, r_j, value=0.5)
                return (f"r{i}.{how}(r{j}, r{j}, value=0.5)",
                        lambda lib, r: getattr(r[i], how)(r[j], r[j], value=0.5), False)
            if isinstance(extra, tuple) and extra and isinstance(extra[0], str):  # clamp_(min=r_j)
                method, kw = extra
                return (f"r{i}.{method}({kw}=r{j})",
                        lambda lib, r: getattr(r[i], method)(**{kw: r[j]}), False)
            return (f"r{i}.{how}(r{j}, *{extra})",
                    lambda lib, r: getattr(r[i], how)(r[j], *extra), False)
        if (how != "copy_" and data.draw(st.booleans(), label="number")) or not others:
            v = data.draw(st.sampled_from([2.0, -0.5, 0.0, 3]), label="number")
            if how == "copy_":
                return f"r{i}.copy_({v})", lambda lib, r: r[i].fill_(v), False
            return f"r{i}.{how}({v})", lambda lib, r: getattr(r[i], how)(v), False
        j = data.draw(st.sampled_from(others), label="other")
        return f"r{i}.{how}(r{j})", lambda lib, r: getattr(r[i], how)(r[j]), False
    # setitem
    if not shape or shape[0] == 0:
        return f"r{i}[...] = 0.5", lambda lib, r: r[i].__setitem__(..., 0.5), False
    start = data.draw(st.integers(0, shape[0] - 1), label="start")
    if data.draw(st.booleans(), label="integer array"):
        rows = np.array(sorted({start, shape[0] - 1}))
        key_np = rows
        region = (len(rows), *shape[1:])
    else:
        key_np = slice(start, None, data.draw(st.integers(1, 2), label="step"))
        region = np.zeros(shape)[key_np].shape
    others = [j for j in range(n) if _broadcastable_to(m.shape(j), region)]

    def key(lib: Any) -> Any:
        return lib.const(key_np) if isinstance(key_np, np.ndarray) else key_np

    if others and data.draw(st.booleans(), label="tensor value"):
        j = data.draw(st.sampled_from(others), label="value")
        return (f"r{i}[{key_np}] = r{j}", lambda lib, r: r[i].__setitem__(key(lib), r[j] * 1),
                False)
    return f"r{i}[{key_np}] = -2.0", lambda lib, r: r[i].__setitem__(key(lib), -2.0), False


@pytest.mark.skipif(torch is None, reason="needs PyTorch (pip install torch==2.13.0)")
@settings(max_examples=PROGRAMS, deadline=None, derandomize=_MODE == "ci",
          suppress_health_check=list(HealthCheck), database=None)
@given(data=st.data())
def test_random_programs_match_torch(data):
    COUNTS["programs"] += 1
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    dtype = data.draw(st.sampled_from(["float64", "float64", "float32"]), label="dtype")
    special = data.draw(st.booleans(), label="special values")
    shape = data.draw(st.sampled_from([(3, 4), (2, 3, 2), (4,), (1, 3), (0, 3), ()]),
                      label="shape")
    m = Machine()
    log = []
    inputs = []  # the leaves' and the constant's values, and every step, for a float64 replay
    for _ in range(data.draw(st.integers(1, 2), label="leaves")):
        a = _values(rng, shape, dtype, "real", ALL_SPECIALS if special else ())
        m.add(_ours_tensor(a, True), _their_tensor(a, True))
        m.leaves.append(len(m.ours) - 1)
        inputs.append(a)
        log.append(f"r{len(m.ours) - 1} = leaf {a.tolist()}")
    c = _values(rng, shape, dtype, "real", ())
    m.add(_ours_tensor(c, False), _their_tensor(c, False))  # a constant (no grad) to write into
    inputs.append(c)
    log.append(f"r{len(m.ours) - 1} = constant {c.tolist()}")
    both = _both(m, lambda lib, r: r[0] * 1, "r0 * 1")  # a non-leaf base for in-place ops
    m.add(*both)
    log.append(f"r{len(m.ours) - 1} = r0 * 1")
    steps = []
    try:
        for _ in range(data.draw(st.integers(1, 8), label="steps")):
            what, f, adds = _draw_step(data, m)
            log.append(what)
            out = _both(m, f, what)
            added = out is not None and adds and out[1] is not None
            steps.append((f, added))
            if added:
                m.add(*out)
                log[-1] = f"r{len(m.ours) - 1} = {what}"
        m.replay = (inputs, steps) if dtype == "float32" else None
        _compare_program(m, rng, dtype, second=m.smooth and dtype == "float64" and not special)
    except _TorchRefusedError:
        return
    except AssertionError as exc:
        raise AssertionError("program:\n  " + "\n  ".join(log) + f"\n{exc}") from None


def _in_float64(m: Machine, weights: dict[int, np.ndarray]) -> tuple[list[Any], list[Any]] | None:
    """The float32 program of ``m`` run again by PyTorch in float64 from the same values: its
    registers and the gradients of the weighted loss at its leaves; None where the replay does not
    run the same way (a step that refuses or makes other shapes)."""
    inputs, steps = m.replay
    regs: list[Any] = []
    try:
        for k, a in enumerate(inputs):
            regs.append(_their_tensor(a.astype(np.float64), k < len(inputs) - 1))
        regs.append(regs[0] * 1)
        for f, added in steps:
            out = f(THEIRS, regs)
            if added:
                regs.append(out)
        if [tuple(r.shape) for r in regs] != [m.shape(k) for k in range(len(m.theirs))]:
            return None
        grads: Any = []
        if weights:
            loss = sum((regs[k] * torch.from_numpy(w)).sum() for k, w in weights.items())
            grads = torch.autograd.grad(loss, [regs[k] for k in m.leaves], allow_unused=True)
    except Exception:  # (an oracle that cannot run is no oracle: the check stands)
        return None
    return regs, list(grads)


def _no_farther(ours: np.ndarray | None, theirs: np.ndarray | None, exact: Any) -> bool:
    """Whether ``ours`` is, element by element, no more than twice as far from the float64
    replay's ``exact`` as PyTorch's float32 ``theirs`` is (NaN matching NaN and an infinity
    matching itself count as distance 0)."""
    if exact is None or ours is None or theirs is None:
        return False
    e = _to_numpy(exact)
    if e is None or e.shape != ours.shape or ours.shape != theirs.shape:
        return False
    e32 = e.astype(np.float32).astype(np.float64)  # the float32 nearest to the exact value

    def distance(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            d = np.abs(x - e32)
        same = (x == e32) | (np.isnan(x) & np.isnan(e32))
        return np.where(same, 0.0, np.where(np.isnan(d), np.inf, d))

    do, dt = distance(ours), distance(theirs)
    # (twice: where PyTorch is off by its rounding, ours may be off by as much the other way)
    return bool((do <= 2 * dt).all())


def _check(m: Machine, ours: Any, theirs: Any, dtype: str, factor: float, what: str,
           exact: Callable[[], Any]) -> None:
    """:func:`assert_close`; for a float32 program, a mismatch where ours is no farther than
    PyTorch's from the program replayed in float64 is PyTorch's float32 rounding, not our error
    (seen: ``atanh(erf(x))`` near x = -2.6, PyTorch's float32 erf one ulp off and atanh
    multiplying that by thousands)."""
    o, t = _to_numpy(ours), _to_numpy(theirs)
    try:
        assert_close(o, t, dtype, factor, what)
    except AssertionError:
        if m.replay is None or not _no_farther(o, t, exact()):
            raise


def _layout(t: Any) -> tuple[int, ...] | None:
    """``t``'s strides where they matter (dims longer than 1; None for an empty tensor)."""
    shape = tuple(t.shape)
    if 0 in shape:
        return None
    return tuple(s for n, s in zip(shape, t.stride()) if n != 1)


def _compare_program(m: Machine, rng: np.random.Generator, dtype: str, second: bool) -> None:
    weights = {k: rng.standard_normal(m.shape(k)) for k, t in enumerate(m.theirs)
               if t.requires_grad}
    replayed: list[Any] = []

    def truth() -> tuple[list[Any], list[Any]] | None:
        if not replayed:
            replayed.append(_in_float64(m, weights) if m.replay is not None else None)
        return replayed[0]

    for k, (o, t) in enumerate(zip(m.ours, m.theirs)):
        assert _dtype_name(o) == _dtype_name(t), f"r{k}: dtype {o.dtype}, PyTorch {t.dtype}"
        # the memory layout: where it differs, a later reshape is a view in one library and a
        # copy in the other, and an in-place change through it reaches different tensors
        assert _layout(o) == _layout(t), (
            f"r{k}: strides {o.stride()}, PyTorch {t.stride()} (shape {tuple(t.shape)})")
        _check(m, o, t, dtype, 8, f"value of r{k}",
               lambda k=k: truth()[0][k] if truth() is not None else None)
        assert o.requires_grad == t.requires_grad, (
            f"r{k}: requires_grad {o.requires_grad}, PyTorch {t.requires_grad}")
    if not weights:
        return

    def loss(lib: Any, regs: list[Any]) -> Any:
        total = None
        for k, w in weights.items():
            term = (regs[k] * lib.const(w.astype(dtype))).sum()
            total = term if total is None else total + term
        return total

    lo, err_o = _outcome(lambda: loss(OURS, m.ours))
    lt, err_t = _outcome(lambda: loss(THEIRS, m.theirs))
    assert (err_o is None) == (err_t is None), f"loss: ours {err_o!r}, PyTorch {err_t!r}"
    if err_o is not None:
        return
    leaves_o = [m.ours[k] for k in m.leaves]
    leaves_t = [m.theirs[k] for k in m.leaves]
    go, err_o = _outcome(lambda: tg.grad(lo, leaves_o, allow_unused=True, create_graph=second))
    gt, err_t = _outcome(lambda: torch.autograd.grad(lt, leaves_t, allow_unused=True,
                                                     create_graph=second))
    if err_t is not None and err_o is None:
        return  # PyTorch refuses (a tensor it saved was changed in place); we did not save it
    assert (err_o is None) == (err_t is None), f"backward: ours {err_o!r}, PyTorch {err_t!r}"
    if err_o is not None:
        return
    for n, (k, a, b) in enumerate(zip(m.leaves, go, gt)):
        _check(m, a, b, dtype, 16, f"gradient of leaf r{k}",
               lambda n=n: truth()[1][n] if truth() is not None else None)
    pairs = [(a, b, k) for a, b, k in zip(go, gt, m.leaves) if b is not None and b.requires_grad]
    if not second or not pairs:
        return
    # second derivatives: d/dleaves <grad, v> for a random v, through create_graph
    vs = [rng.standard_normal(tuple(b.shape)) for _, b, _ in pairs]
    s_o = sum((a * tg.Tensor(v)).sum() for (a, _, _), v in zip(pairs, vs))
    s_t = sum((b * torch.from_numpy(v)).sum() for (_, b, _), v in zip(pairs, vs))
    assert s_o.requires_grad, "our gradient is not differentiable where PyTorch's is"
    ho = tg.grad(s_o, leaves_o, allow_unused=True)
    ht = torch.autograd.grad(s_t, leaves_t, allow_unused=True)
    for k, a, b in zip(m.leaves, ho, ht):
        assert_close(_to_numpy(a), _to_numpy(b), dtype, 64, f"second derivative of leaf r{k}")


@pytest.mark.skipif(torch is None, reason="needs PyTorch (pip install torch==2.13.0)")
def test_float32_programs_judge_a_mismatch_by_the_float64_replay():
    """``atanh(erf(x))`` at x = -2.99793 in float32: PyTorch's erf and ours round to neighbouring
    floats and atanh blows the ulp up past the float32 tolerance; the float64 replay shows ours is
    not the farther one, so the program passes -- and the same program with our result moved
    farther from the exact value than PyTorch's still fails."""
    x = np.array([-2.99793], np.float32)
    c = np.array([0.5], np.float32)

    def program():
        m = Machine()
        m.add(_ours_tensor(x, True), _their_tensor(x, True))
        m.leaves.append(0)
        m.add(_ours_tensor(c, False), _their_tensor(c, False))
        m.add(m.ours[0] * 1, m.theirs[0] * 1)
        steps = [(lambda lib, r: r[2].erf(), True), (lambda lib, r: r[3].atanh(), True)]
        for f, _ in steps:
            m.add(f(OURS, m.ours), f(THEIRS, m.theirs))
        m.replay = ([x, c], steps)
        return m

    m = program()
    with pytest.raises(AssertionError):  # the plain check fails: the case is a real one
        assert_close(m.ours[4].numpy(), m.theirs[4].detach().numpy(), "float32", 8, "value")
    _compare_program(m, np.random.default_rng(0), "float32", second=False)
    m = program()
    exact = float(np.arctanh(np.float64(torch.erf(torch.tensor(-2.99793, dtype=torch.float64)))))
    off = 3 * (float(m.theirs[4].detach()[0]) - exact)  # three times PyTorch's error, other side
    m.ours[4] = tg.Tensor(np.array([exact - off], np.float32), requires_grad=True)
    with pytest.raises(AssertionError, match="value of r4"):
        _compare_program(m, np.random.default_rng(0), "float32", second=False)
