"""The checks: first derivatives (whole Jacobians or random projections), second derivatives, and
the Taylor test; each returns a :class:`GradcheckReport`. ``gradcheck``/``gradgradcheck`` in
``__init__`` wrap :func:`check_grads` with PyTorch's signatures."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import (
    OnceDifferentiableError,
    _collect,
    _edge,
    grad,
    keep_inputs,
    no_grad,
)
from tinygrad_cnn.backend import like, to_numpy
from tinygrad_cnn.gradcheck import culprit as _culprit
from tinygrad_cnn.gradcheck.jacobian import (
    Problem,
    Swaps,
    analytical_jacobians,
    as_tuple,
    directional,
    dot,
    locate_kinks,
    numerical_jacobians,
    numerical_rows,
    outputs_of,
    projected_gradient,
    unravel,
)
from tinygrad_cnn.gradcheck.report import (
    WORST,
    Entry,
    GradcheckReport,
    entry_table,
    kink_verdict,
    likely_cause,
    move_off_kinks,
    rule,
    scale_the_step,
    small_jacobians,
    transposed_cause,
)
from tinygrad_cnn.tensor import Tensor

#: fast mode names the wrong elements itself (two evaluations per element) up to this input size
LOCALISE_MAX = 1024
#: how many rounds ``avoid_kinks`` moves the check point before it gives up
NUDGE_ROUNDS = 3
NUDGE_LOCATE = 256  # fast mode's avoid_kinks: kinks located one by one up to this many, past it all move
#: :func:`_refine`: the smallest step it measures with, and how much the gap between the one-sided
#: slopes must shrink with a ten times smaller step to count as curvature (it shrinks ~10x where
#: the function is smooth, stays where it has a kink)
REFINE_MIN_EPS = 1e-9
SMOOTH_SHRINK = 0.3
JUMP_GROWTH = 5.0  # a difference quotient 5x larger at a tenth of the step: a jump
ROUNDING_ULPS = 256  # a step below this many ulps of its element measures mostly rounding


def _under_ulps(eps: float, x: Any) -> Any:
    """Whether a step ``eps`` is under ``ROUNDING_ULPS`` ulps of ``x`` (elementwise): there a
    difference quotient measures mostly rounding."""
    return eps < ROUNDING_ULPS * np.spacing(np.abs(x))
NOISE_ULPS = 4  # low precision: the rounding error of a function value, in eps of its dtype
METHODS = ("finite_differences", "taylor")


@dataclasses.dataclass
class Settings:
    eps: float = 1e-6
    atol: float = 1e-5
    rtol: float = 1e-3
    nondet_tol: float = 0.0
    fast_mode: bool = False
    method: str = "finite_differences"
    avoid_kinks: bool = False
    find_culprit: bool = True
    check_first_order: bool = True
    non_contiguous_grad_outputs: bool = False
    seed: int = 0
    caller: str = "gradcheck"  # whose options the report's advice names (or "check_function")
    low_precision: bool = False  # the function computes in float32 somewhere (set by the check)
    noise: float = 0.0  # then: the rounding error of a central difference, per unit of |f|
    asked: tuple[float, float, float] | None = None  # (eps, atol, rtol) as given, once widened

    def tol_at(self, n: Any, f: Any) -> Any:
        """:meth:`tol` plus the rounding noise of the central differences of outputs ``f``
        (columns) in low precision: a value of 1e4 computed in float32 is off by ~1e-3, its
        difference quotient by that over eps -- whatever the VJP."""
        # (in float64 too: a central difference of an output f rounds by a few eps |f| / eps --
        # 4e-9 at f ~ 1, nothing beside atol; 17 at det ~ 5e9, where a cofactor of 3e3 among
        # 1e7 is off by 7 from the LU's rounding alone)
        if self.noise:
            return self.tol(n) + self.noise * np.abs(f)[None, :]
        big = float(np.max(np.abs(n), where=np.isfinite(n), initial=0.0))
        return self.tol(n) + self.rounding(np.abs(f)[None, :], big)

    def rounding(self, f: Any, big: float) -> Any:
        """The float64 rounding of a central difference of outputs of size ``f``, allowed only
        where it is rounding at the scale of the block's biggest entry ``big``: beside entries
        of 1e7, not where the step itself is a few ulps of x -- x * 1.0 at 1e8 -- which is
        said so, not passed."""
        extra = F64_ROUNDING / self.eps * f
        return np.where(extra <= BLOCK_SHARE * big, extra, 0.0)

    def tol(self, n: Any) -> Any:
        return self.atol + self.rtol * np.abs(n)

    def kinked(self, jump: Any, right: Any, left: Any) -> Any:
        """Where one-sided slopes ``right`` and ``left`` differ (by ``jump``) by more than the
        tolerance -- but never by less than the default tolerance: one-sided differences of a
        smooth function differ by about ``f'' * eps`` anyway, so a tolerance of 1e-12 would call
        every curve a kink."""
        atol, rtol = max(self.atol, KINK_ATOL), max(self.rtol, KINK_RTOL)
        return np.abs(jump) > atol + rtol * np.maximum(np.abs(right), np.abs(left))

    def is_kink(self, right: float, left: float) -> bool:
        return bool(self.kinked(right - left, right, left))


KINK_ATOL, KINK_RTOL = 1e-5, 1e-3  # see Settings.is_kink (gradcheck's default tolerances)


class Labels:
    """How a report names the inputs and outputs of the checked function."""

    def __init__(self, order: int = 1, n_inputs: int = 0, diff: Sequence[int] = ()) -> None:
        self.order, self.n, self.diff = order, n_inputs, list(diff)

    def input(self, i: int) -> str:
        if self.incoming(i):
            return f"grad_output {i - self.n}"
        return f"input {i}"

    def incoming(self, i: int) -> bool:
        """Whether input ``i`` is a grad_output (the incoming gradient of gradgradcheck's VJP)."""
        return self.order == 2 and i >= self.n

    def output(self, j: int | None) -> str:
        if self.order == 2 and j is not None:
            return f"the gradient for input {self.diff[j]}"
        return f"output {j}"


# ----------------------------------------------------------------------------------- precision
def _promote(inputs: tuple[Any, ...], swaps: Swaps) -> list[int]:
    """Swap float16/float32 tensor inputs for float64 copies (in place, restored by ``swaps``)."""
    upcast = []
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.dtype.kind == "f" and t.dtype != np.float64:
            upcast.append(i)
            swaps.swap(t, t._data.astype(np.float64))
    return upcast


def _precision(func: Callable[..., Any], inputs: tuple[Any, ...], s: Settings, swaps: Swaps,
               notes: list[str]) -> tuple[Tensor, ...]:
    """Run the check in float64 where the function allows; otherwise widen eps/atol/rtol for the
    precision it runs in, and say so. Returns the function's outputs at the check point."""
    dtypes = {i: str(t.dtype) for i, t in enumerate(inputs) if isinstance(t, Tensor)}
    upcast = _promote(inputs, swaps)
    try:
        outs = outputs_of(func, inputs)
    except Exception as exc:
        if not upcast:
            raise
        swaps.restore()
        with keep_inputs():
            outs = outputs_of(func, inputs)  # the function's own error, if it fails here too
        # the function mixes the inputs with tensors it holds (a model's float32 or float16
        # parameters): run it with float64 copies of those too
        held = _held_tensors(outs, inputs)
        known = {id(t) for t in held} | {id(t) for t in inputs}
        held += [t for t in _module_tensors(func) if id(t) not in known]  # (BatchNorm's buffers)
        for t in held:
            swaps.swap(t, t._data.astype(np.float64))
        _promote(inputs, swaps)
        try:
            outs64 = outputs_of(func, inputs) if held else None
        except Exception:
            outs64 = None
        if outs64 is not None:
            outs = outs64
            notes.append(f"{_which(upcast, dtypes)} checked on float64 copies, and so were the "
                         f"{len(held)} low-precision tensor(s) the function reads (shapes "
                         f"{', '.join(str(t.shape) for t in held[:4])}"
                         f"{', ...' if len(held) > 4 else ''}): the function and its VJPs ran in "
                         "float64, so rounding cannot fail the check.")
        else:
            swaps.restore()
            reason = str(exc).splitlines()[0][:160]
            if any(t.dtype == np.float16 for t in outs) or "float16" in dtypes.values():
                raise ValueError(
                    f"gradcheck: cannot check {_which(upcast, dtypes)}: the function did not run "
                    f"on float64 copies ({reason}), and finite differences in float16 cannot tell "
                    "a right VJP from a wrong one. Run the function in float64 (e.g. "
                    "model.double() and float64 inputs) and check that.") from None
            notes.append(f"{_which(upcast, dtypes)} could not be checked on float64 copies (the "
                         f"function failed on them: {reason}), so the check ran in their "
                         "precision.")
    else:
        if upcast:
            notes.append(f"{_which(upcast, dtypes)} checked on float64 copies: the function and "
                         "its VJPs ran in float64, so rounding cannot fail the check.")
    low = [o.dtype for o in outs if o.dtype.kind == "f" and o.dtype != np.float64]
    low += [d for d in _graph_float_dtypes(outs) if d != np.float64]  # steps on the way count
    hidden = None if low else _hidden_precision(func, inputs, outs)
    if hidden is not None:
        low = [hidden]
        notes.append(f"The function's float64 outputs are all {hidden} values, near the check "
                     f"point too: it computes in {hidden} inside (numpy code or an astype in a "
                     "Function's forward), out of the graph's sight.")
    if np.dtype(np.float16) in low:
        raise ValueError(
            "gradcheck: the function computes in float16 although the check ran it on float64 "
            "inputs (it converts to float16 itself, in its outputs or on the way), and finite "
            "differences through float16 cannot tell a right VJP from a wrong one (its rounding, "
            "about 1e-3, swamps them). Check the function with its float16 steps in float32 or "
            "float64.")
    if low:
        worst = max(low, key=lambda d: np.finfo(d).eps)
        if _widen(s, float(np.finfo(worst).eps)):
            notes.append(f"The function computes in {worst}, so eps, atol and rtol were widened "
                         f"for its rounding to eps={s.eps:.3g}, atol={s.atol:.3g}, rtol={s.rtol:.3g}.")
    return outs


def _widen(s: Settings, fe: float) -> bool:
    """Widen eps, atol and rtol for a function that rounds its values to a relative precision
    ``fe`` (float32's machine epsilon, or one measured): the step that balances rounding against
    truncation, tolerances of its order. Whether any of them changed."""
    before = (s.eps, s.atol, s.rtol)
    s.asked = s.asked or before
    s.eps = max(s.eps, fe ** (1 / 3))
    s.atol = max(s.atol, 30 * fe ** (2 / 3))
    s.rtol = max(s.rtol, 30 * fe ** (2 / 3))
    s.low_precision = True  # (no smaller step will do: its rounding would grow)
    s.noise = NOISE_ULPS * fe / s.eps
    return (s.eps, s.atol, s.rtol) != before


#: :func:`_measured_rounding`: points along one line, and the relative rounding above which the
#: function's values are not float64's (a smooth float64 function stays near 1e-16 there)
PROBE_POINTS = 17
HIDDEN_ROUNDING = 1e-11
#: ... and under which (float32's: ~5e-8): a residual of a larger share of the values is a jump
#: (sign or floor at the point), not rounding
MAX_ROUNDING = 1e-5
#: ... and a residual that shrinks below this share along a quarter of the line is a smooth
#: function's or a kink's (a kink's: 0.25), not rounding's (about 1, give or take its scatter)
RESIDUAL_STAYS = 0.5
#: the measured rounding (a root-mean-square error, the largest over the output's elements) is
#: about 0.3 to 0.6 of the dtype's eps (float32's values measured 3e-8 to 7e-8): times 2, a
#: little more than eps's own share
MEASURED_TO_EPS = 2.0


def _measured_rounding(p: Problem, s: Settings, step: float) -> float:
    """How coarsely the function rounds its values, measured: the compared outputs at
    ``PROBE_POINTS`` points along a random line through the check point (each input element moved
    by up to ``4 step`` times its size), a cubic fitted to each output element along it, and the
    largest root-mean-square residual relative to the element's size. A function that rounds to
    float32 inside -- numpy code or an ``astype`` in a Function's forward, whose float64 outputs
    then pass through more float64 arithmetic (``* 1.1``) -- gives ~1e-8 there, float64's own
    rounding ~1e-16. The same along a quarter of the line: rounding's residual stays, a kink's
    shrinks 4-fold with the line (relu along it is piecewise linear), a smooth function's (its
    fourth derivative's share) 256-fold -- 0.0 if it shrinks, or where nothing can be
    measured."""
    rng = np.random.default_rng(s.seed + 11)
    bases = {i: p.base(i).ravel() for i in p.diff}
    # (every element moved by the same share of its size, a random sign each: a direction with
    # a tiny entry would move that element less than its own rounding grain)
    dirs = {i: rng.choice([-1.0, 1.0], x.size) * np.maximum(1.0, np.abs(x))
            for i, x in bases.items()}
    found, spread = [], []
    for h in (step, step / 4):
        ts = (np.arange(PROBE_POINTS) - PROBE_POINTS // 2) * h
        try:
            got = [p.evaluate_moved({i: x + t * dirs[i] for i, x in bases.items()}) for t in ts]
        except Exception:  # (a point the function refuses: nothing measured)
            return 0.0
        f = np.array([np.concatenate([np.ravel(o) for o in outs]) for outs in got])
        # each element's rounding against its output's largest element, not its own size: an
        # element small by cancellation (1 - cos(x) at 4e-7, 8e-14 of float64's rounding of 1)
        # keeps few digits of its own in float64 too, and read as float32 inside it widened
        # every tolerance to ~2% (a VJP 5% off passed)
        which = np.repeat(np.arange(len(got[0])), [np.size(o) for o in got[0]])
        keep = np.isfinite(f).all(axis=0)
        f, which = f[:, keep], which[keep]  # (points, output elements)
        if not f.size:
            return 0.0
        basis = np.vander(ts / h, 4)
        coef, *_ = np.linalg.lstsq(basis, f, rcond=None)
        residual = np.sqrt(np.mean((f - basis @ coef) ** 2, axis=0))
        size = np.max(np.abs(f), axis=0)
        if which.size:  # (each output's largest, in one pass: the loop over elements was
            largest = np.zeros(int(which.max()) + 1)  # quadratic -- 227 s at 200,000: t163)
            np.maximum.at(largest, which, size)
            size = largest[which]
        found.append(float(np.max(np.where(size > 0, residual / np.where(size > 0, size, 1.0),
                                           0.0), initial=0.0)))
        spread.append(float(np.max(residual)))
    return found[1] if spread[1] > RESIDUAL_STAYS * spread[0] else 0.0


def _hidden_precision(func: Callable[..., Any], inputs: tuple[Any, ...],
                      outs: tuple[Tensor, ...]) -> np.dtype | None:
    """float16 or float32 where the function rounds to it where the graph does not show it (a
    Function whose numpy forward casts), else None: its float64 outputs are all numbers of that
    dtype -- at the check point and at a random point near it (round inputs give exact outputs
    in float64 too). Finite differences with a float64 step measure its rounding there, not its
    slope (float16's rounding reads as a kink at every element)."""
    for dtype in (np.dtype(np.float16), np.dtype(np.float32)):
        if _rounds_to(dtype, func, inputs, outs):
            return dtype
    return None


def _rounds_to(dtype: np.dtype, func: Callable[..., Any], inputs: tuple[Any, ...],
               outs: tuple[Tensor, ...]) -> bool:
    """Whether the float64 outputs of ``func`` are all ``dtype`` numbers, here and near here."""
    # (small integers are such numbers anyway; from 2**(mantissa + 1) up every number of the
    # dtype is an integer, and a float64 integer there mostly not one of them)
    whole = 2.0 ** (np.finfo(dtype).nmant + 1)

    def exact(ts: tuple[Tensor, ...]) -> int:
        """How many non-integer float64 values ``ts`` hold, all ``dtype`` numbers; -1 if not
        all."""
        vals = [to_numpy(t._data).ravel() for t in ts if t.dtype == np.float64]
        v = np.concatenate(vals) if vals else np.zeros(0)
        v = v[np.isfinite(v) & ((v != np.round(v)) | (np.abs(v) >= whole))]
        with np.errstate(over="ignore"):  # (past the dtype's range: inf, which is no match)
            return v.size if bool((v.astype(dtype).astype(np.float64) == v).all()) else -1

    here = exact(outs)
    if here < 0:
        return False
    rng = np.random.default_rng(0)
    near = tuple(Tensor(t._data + like(rng.uniform(0.5, 1.5, t.shape) * 1e-4
                                       * (np.abs(to_numpy(t._data)) + 1), t._data))
                 if isinstance(t, Tensor) and t.dtype == np.float64 else t for t in inputs)
    try:
        with no_grad():
            moved = as_tuple(func(*near))
            there = exact(moved)
    except Exception:
        return False
    # (outputs that did not move are no sign of rounding: softmax(x).mean() is 1/4 everywhere,
    # a float16 number, and was refused as 'computes in float16')
    if all(a.shape == b.shape and bool(np.array_equal(to_numpy(a._data), to_numpy(b._data)))
           for a, b in zip(outs, moved) if isinstance(b, Tensor)):
        return False
    # (a float64 number is a float32 one by chance once in 2**29: two such are no chance; a
    # scalar output gives one at each point)
    return there >= 1 and here + there >= 2


def _graph_float_dtypes(outs: tuple[Tensor, ...]) -> set[np.dtype]:
    """The float dtypes the steps of the graph of ``outs`` computed in (``x.half().float()``
    has a float16 step: its rounding, about 1e-3, swamps any finite difference)."""
    found: set[np.dtype] = set()
    for node in _collect([o.grad_fn for o in outs if o.grad_fn is not None]):
        metas = getattr(node, "out_metas", None) or (getattr(node, "out_meta", None),)
        found.update(np.dtype(m[1]) for m in metas if m is not None and np.dtype(m[1]).kind == "f")
    return found


def _held_tensors(outs: tuple[Tensor, ...], inputs: tuple[Any, ...]) -> list[Tensor]:
    """The float16/float32 tensors the graph of ``outs`` (recorded with ``keep_inputs``) read
    besides ``inputs``: parameters and constants the function holds."""
    own = {id(t) for t in inputs}
    held: dict[int, Tensor] = {}
    for node in _collect([o.grad_fn for o in outs if o.grad_fn is not None]):
        for t in getattr(node, "inputs", ()):
            if (isinstance(t, Tensor) and id(t) not in own and t.dtype.kind == "f"
                    and t.dtype != np.float64 and t._view is None):
                held[id(t)] = t
    return list(held.values())


def _module_tensors(func: Callable[..., Any]) -> list[Tensor]:
    """The float16/float32 parameters and buffers of the modules ``func`` reaches: tensors a
    model reads without recording them (BatchNorm's running statistics), which the float64 run
    must convert too."""
    out: dict[int, Tensor] = {}
    for module in _modules_of(func):
        for t in (*module.parameters(), *module.buffers()):
            if t.dtype.kind == "f" and t.dtype != np.float64 and t._view is None:
                out.setdefault(id(t), t)
    return list(out.values())


def _modules_of(func: Callable[..., Any]) -> list[Any]:
    """The modules ``func`` reaches -- itself, a bound method's object, what its closure,
    defaults and named globals hold, a few levels into ``functools.partial``, nested functions
    and short lists."""
    import functools
    import types

    from tinygrad_cnn.nn.module import Module

    found: dict[int, Module] = {}
    seen: set[int] = set()

    def visit(obj: Any, depth: int) -> None:
        if id(obj) in seen or depth > 3:
            return
        seen.add(id(obj))
        if isinstance(obj, Module):
            found.setdefault(id(obj), obj)
        elif isinstance(obj, functools.partial):
            for o in (obj.func, *obj.args, *obj.keywords.values()):
                visit(o, depth + 1)
        elif isinstance(obj, types.MethodType):
            visit(obj.__self__, depth + 1)
            visit(obj.__func__, depth + 1)
        elif isinstance(obj, types.FunctionType):
            for cell in obj.__closure__ or ():
                with contextlib.suppress(ValueError):  # (an empty cell)
                    visit(cell.cell_contents, depth + 1)
            for o in (obj.__defaults__ or ()):
                visit(o, depth + 1)
            for name in obj.__code__.co_names:
                if name in obj.__globals__:
                    visit(obj.__globals__[name], depth + 1)
        elif isinstance(obj, (list, tuple)) and len(obj) <= 64:
            for o in obj:
                visit(o, depth + 1)

    visit(func, 0)
    return list(found.values())


def _which(idx: list[int], dtypes: dict[int, str]) -> str:
    return ("input " if len(idx) == 1 else "inputs ") + ", ".join(f"{i} ({dtypes[i]})" for i in idx)


# ---------------------------------------------------------------------------------- the driver
def check_grads(func: Callable[..., Any], inputs: Any, *, order: int = 1,
                grad_outputs: Any = None, **options: Any) -> GradcheckReport:
    """Check ``func``'s first (``order=1``) or second (``order=2``) derivatives at ``inputs`` and
    return a :class:`GradcheckReport` (never raises for a failed check). Options as for
    ``gradcheck``/``gradgradcheck``, and ``caller``: the entry point whose options the report's
    advice names (``"gradcheck"``, or ``"check_function"``, which takes ``away_from`` and
    ``distinct`` where gradcheck takes ``avoid_kinks``)."""
    s = Settings(**options)
    if s.method not in METHODS:
        raise ValueError(f"gradcheck: method must be one of {METHODS}, got {s.method!r}")
    if order not in (1, 2):
        raise ValueError(f"check_grads: order must be 1 or 2, got {order!r}")
    where = "gradcheck" if order == 1 else "gradgradcheck"
    if not callable(func):
        raise TypeError(f"{where}: fn must be callable, got {type(func).__name__}")
    for name, low in (("eps", "> 0"), ("atol", ">= 0"), ("rtol", ">= 0"), ("nondet_tol", ">= 0")):
        v = getattr(s, name)
        ok = isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and \
            bool(np.isfinite(v)) and (v > 0 if low == "> 0" else v >= 0)
        if not ok:
            raise ValueError(f"{where}: {name} must be a finite number {low}, got {v!r}")
    if not isinstance(s.seed, (int, np.integer)) or isinstance(s.seed, bool) or s.seed < 0:
        raise ValueError(f"{where}: seed must be an integer >= 0, got {s.seed!r}")
    inputs = as_tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError(f"{where}: at least one input must be a Tensor with requires_grad=True")
    _refuse_shared_memory(inputs, diff, where)
    swaps = Swaps()
    notes: list[str] = []
    own = {i: inputs[i].dtype for i in diff if inputs[i].dtype != np.float64}
    # the buffers of the modules the function calls (BatchNorm's statistics, updated by every
    # call in training mode): as they were before the check, after it
    kept = [(b, b._data.copy()) for m in _modules_of(func) for b in m.buffers()]
    try:
        outs = _precision(func, inputs, s, swaps, notes)
        # outputs that do not require grad (detached, marked non-differentiable) are not
        # compared, as in PyTorch -- unless none does (then their zero Jacobian is checked)
        floats = [j for j, o in enumerate(outs) if o.dtype.kind == "f"]
        if not floats:  # (PyTorch passes silently: nothing was compared)
            warnings.warn(
                f"{where}: no output of the function is floating (dtypes "
                f"{', '.join(str(o.dtype) for o in outs)}): integer and bool outputs have no "
                "gradient, so nothing was checked; return the floating values the VJP is for",
                UserWarning, stacklevel=3)
        p = Problem(func, inputs, diff, [j for j in floats if outs[j].requires_grad] or floats,
                    outs)
        empty_in = all(inputs[i]._data.size == 0 for i in diff)
        if floats and (empty_in or all(outs[j]._data.size == 0 for j in p.which)):
            shapes = [inputs[i].shape for i in diff] if empty_in else [outs[j].shape
                                                                        for j in p.which]
            what = (f"the {'checked input' if empty_in else 'compared output'}"
                    + (f"s (shapes {', '.join(map(str, shapes))}) have" if len(shapes) > 1
                       else f" (shape {shapes[0]}) has"))
            warnings.warn(f"{where}: {what} no elements, so "
                          "the Jacobian has no entries and nothing was checked; check at inputs "
                          "with elements too", UserWarning, stacklevel=3)
        if order == 1:
            p.try_value_func(no_grad()(func))
            report = _check(p, s, Labels(), swaps, notes)
        else:
            try:
                report = _second_order(p, s, outs, grad_outputs, swaps, notes, own)
            except OnceDifferentiableError as exc:  # (a report, as every failed check)
                report = GradcheckReport(False, "not_differentiable", 2,
                                         f"second derivative: not available: {exc}")
        if (not report.ok and s.find_culprit and report.kind in ("wrong_vjp", "not_reentrant",
                                                                  "first_derivative", "taylor")):
            node_order = 1 if report.kind == "first_derivative" else order
            _culprit.attach(report, func, inputs, node_order, s, _node_check)
        if order == 1 and report.ok and own and any(t._data.dtype == np.float64 for t in
                                                    (inputs[i] for i in own)):
            failed = _own_precision(p, own, s, swaps, Labels(), report.notes)  # (falsy: failed)
            if failed is not None:
                failed.notes = report.notes
                report = failed
        return report
    finally:
        swaps.restore()
        for b, data in kept:
            if b._data.shape == data.shape and b._data.dtype == data.dtype:
                b._data[...] = data


def _refuse_shared_memory(inputs: tuple[Any, ...], diff: list[int], where: str) -> None:
    """Two checked inputs that share memory (a tensor and a view of it): moving an element of
    one moves the other, so no finite difference can tell their Jacobians apart (PyTorch's
    check fails there with a plain mismatch)."""
    arrays = [(i, to_numpy(inputs[i]._data)) for i in diff]
    for k, (i, a) in enumerate(arrays):
        for j, b in arrays[k + 1:]:
            # (one tensor passed twice is fine: its gradient and its differences both sum
            # the two paths)
            if inputs[i] is not inputs[j] and a.size and b.size and np.shares_memory(a, b):
                raise ValueError(
                    f"{where}: inputs {i} and {j} share memory (one is a view of the other, or "
                    "both of one tensor): a step in an element of one moves the other too, so "
                    f"their Jacobians cannot be checked apart. {_SEPARATE}")
    for j in diff:  # an input computed from another: its gradient flows back into that one,
        t = inputs[j]  # while a step in that one does not change it (it was computed already)
        if t.grad_fn is None:
            continue
        behind = {id(n) for n in _collect([t.grad_fn])} | {
            id(e) for n in _collect([t.grad_fn]) for e in n.next if isinstance(e, Tensor)}
        for i in diff:
            if i != j and inputs[i] is not t and id(_edge(inputs[i])) in behind:
                raise ValueError(
                    f"{where}: input {j} is computed from input {i} (its graph reaches it): "
                    f"the gradient for input {i} includes the path through input {j}, but a "
                    f"step in input {i} does not change input {j}, which was computed before "
                    f"the check. {_SEPARATE}")


_SEPARATE = ("Pass separate leaves (`t[1:].detach().clone().requires_grad_()`), or check the "
             "function of the one tensor they come from")


OWN_PRECISION_TOL = {np.dtype(np.float16): 1.6e-2, np.dtype(np.float32): 1e-4}  # _own_precision
SHARE_ULPS = 16  # _own_precision: eps of the largest entry every entry is allowed besides
F64_ROUNDING = 16 * float(np.finfo(np.float64).eps)  # a central difference of f: this |f| / eps
BLOCK_SHARE = 1e-5  # ... allowed where under this share of the block's biggest entry
BIG_STEPS = (1e-4, 1e-3)  # _confirm_with_bigger_steps: steps tried, times the input's size
LOW_STEPS = (1.0, 4.0)  # ... in low precision: times the widened eps (a bigger step's rounding
#                         is smaller, and Richardson's extrapolation takes its truncation away)
SPREAD_RATIO = 10  # ... and is off from them by this many times their own difference
PROJECTION_SPREAD = 3.0  # _projection: a low-precision projection's rounding, in random-walk units
HIDDEN_ULPS = 4  # _hidden_by_atol: a central difference of f rounds by about this many eps |f|
#                  over the step -- not F64_ROUNDING's 16, which the pass allows (1e5 + x * S
#                  with a VJP 3x off in a slope of 1e-4 passed without a word)
HIDDEN_FLOOR = 1e-12  # _hidden_by_atol: differences under this are rounding, whatever the scale
BLOCK_ROUNDING = 1e-8  # _hidden_by_atol: differences under this share of a block's biggest entry
CANCEL_ULPS = 4  # _own_precision: a VJP's rounding allowed, in units of the rounding measured
NUDGES = 2  # _own_precision: the inputs moved by one ulp of their own dtype, this many ways
WOBBLE_FACTORS = (4 / 3, 1.1, 0.9)  # _own_precision: the cotangent's multiples that measure
# the VJP's rounding
OVERFLOW_SHARE = 0.5  # _own_precision: an inf where float64's value is under this share of the
# dtype's largest number is an overflow on the way (the result itself fits)


def _own_precision(p: Problem, own: dict[int, np.dtype], s: Settings, swaps: Swaps,
                   labels: Labels, notes: list[str] | None = None) -> GradcheckReport | None:
    """float32/float16 inputs are checked on float64 copies, where the function's VJPs run in
    float64; a VJP that is right there but wrong in the inputs' own precision (it branches on the
    dtype, or computes in a way that breaks in float32) would pass. So the VJP runs once more,
    on the inputs as they are, for one random cotangent, and is compared with the float64 VJP
    (just checked) for the same cotangent: each entry to ``tol * |its float64 value|`` plus
    ``SHARE_ULPS`` eps of the largest one's, ``tol`` from ``OWN_PRECISION_TOL`` for the lowest
    precision (float16: 1.6e-2, 16 eps; float32: 1e-4) -- above rounding, below a sign or a factor of 1.05 (an
    earlier tolerance of a share of the largest entry alone let a small entry's wrong sign
    pass in float16). Where the function is ill-conditioned in that precision (a normalisation
    of inputs ~1e4 with spread ~1: float32 keeps 3 of its 7 digits after the mean is taken away),
    no VJP in it can do better than the float64 VJP at an input one of its ulps away: so each
    entry is also allowed ``CANCEL_ULPS`` times the largest change of the float64 VJP when every
    input element moves by one ulp of its own dtype (``NUDGES`` random ways) -- a VJP as good as
    the dtype allows, PyTorch's own among them, passes; a wrong one still stands out wherever the
    function is well-conditioned. Each entry is also allowed ``CANCEL_ULPS`` eps of the largest
    gradient that flowed through the backward graph on its way to that input (an op's VJP
    rounds to a share of what it receives: cross_entropy of confident logits), and the VJP for
    twice the cotangent must be twice the VJP (a VJP is linear in it; doubling rounds exactly),
    which catches a float32-only term added without the cotangent, which the rounding measures
    above would take in. A failed report, or None."""
    outs = p.outputs()
    which = [j for j in p.which if outs[j].requires_grad and outs[j].dtype.kind == "f"]
    if not which:
        return None
    lowest = max(own.values(), key=lambda d: np.finfo(d).eps)
    rng = np.random.default_rng(s.seed + 1)
    # cotangents that the lowest precision holds exactly, so both runs multiply by the same ones
    vs = [rng.standard_normal(outs[j].shape).astype(lowest).astype(np.float64) for j in which]
    ins = [p.inputs[i] for i in p.diff]

    values: list[np.ndarray] = []  # the compared outputs of the latest run
    flow: list[float] = []  # per input: the largest gradient that flowed to it (native run)

    def vjp(c: float = 1.0, watch: bool = False) -> list[np.ndarray | None]:
        outs = outputs_of(p.func, p.inputs)
        sel = [outs[j] for j in which]
        values[:] = [to_numpy(o._data) for o in sel]
        flows = _watch_flow(sel, ins) if watch else None
        gs = grad(sel, ins, grad_outputs=[Tensor(like((v * c).astype(o.dtype), o._data))
                                          for v, o in zip(vs, sel)], allow_unused=True)
        if flows is not None:
            flow[:] = flows()
        return [None if g is None else to_numpy(g._data).astype(np.float64) / c for g in gs]

    # both at the check point (moved away from kinks, maybe) rounded to the inputs' own dtypes
    point = {i: p.inputs[i]._data.astype(own[i]) for i in own}

    def wander(reference: list[np.ndarray | None], widen: bool) -> list[np.ndarray | None]:
        """How far the VJP moves from ``reference`` when every input element moves one ulp of
        its own dtype up or down (``NUDGES`` random ways; the inputs held in float64 with
        ``widen``), entry by entry."""
        spread: list[np.ndarray | None] = [None] * len(reference)
        for _ in range(NUDGES):
            for i in own:
                toward = np.where(rng.random(point[i].shape) < 0.5, -np.inf, np.inf)
                nudged = np.nextafter(point[i], toward.astype(own[i]))
                swaps.swap(p.inputs[i], nudged.astype(np.float64) if widen else nudged)
            with np.errstate(invalid="ignore", over="ignore"):
                spread = [None if r is None or m is None or m.shape != r.shape else
                          np.fmax(np.abs(m - r), 0 if prev is None else prev)
                          for r, m, prev in zip(reference, vjp(), spread)]
        return spread

    try:
        for i in own:
            swaps.swap(p.inputs[i], point[i].astype(np.float64))
        wide = vjp()
        wide_values = list(values)
        moved = wander(wide, widen=True)  # (float64 VJPs an ulp away)
        swaps.restore()  # (the tensors the function holds back in their own dtypes too)
        for i in own:
            swaps.swap(p.inputs[i], point[i])
        native = vjp(watch=True)
        # how far the function's own value in this dtype is from float64's, as a share of each
        # output's largest: beyond rounding where the function depends on the dtype by design
        # (rms_norm with eps=None takes the dtype's eps, as PyTorch's) -- its VJP then differs
        # by about as much, and is allowed to
        with np.errstate(invalid="ignore", over="ignore"):
            apart = max((float(np.max(np.abs(n_ - w_), where=np.isfinite(n_ - w_), initial=0.0))
                         / max(float(np.max(np.abs(w_), where=np.isfinite(w_), initial=0.0)),
                               float(np.finfo(np.float64).tiny))
                         for w_, n_ in zip(wide_values, values) if n_.shape == w_.shape),
                        default=0.0)
        # the outputs whose own value overflows the inputs' dtype (cosh(12) = 81377 in float16:
        # inf there, as in PyTorch) -- not those that overflow on the way to a value that fits
        # (log1p(exp(100)) in float32: inf for 100), which the VJP check below still judges
        forward_overflows = [labels.output(j) for j, w_, n_ in zip(which, wide_values, values)
                             if (~np.isfinite(n_) & (~np.isfinite(w_) | (
                                 np.abs(w_) > float(np.finfo(n_.dtype).max)))).any()]
        # the same VJP for other multiples of the cotangent, scaled back: equal but for
        # rounding, which this measures -- a VJP that cancels (softmax's s (g - s.g) with one s
        # near 1: entries ~1e-8 from terms ~1) rounds to a share of its terms, not of its
        # result; one multiple can round just as the cotangent itself did (softmax of [3, -9,
        # -11, -13] in float32: 4/3 and 0.9 showed no wobble, 1.1 showed the 1% there is)
        agains = [vjp(c) for c in WOBBLE_FACTORS]
        # ... and for twice the cotangent: a VJP is linear in it, and scaling by 2 rounds
        # exactly as before, so this one differs from the first only where the VJP is not
        # linear (a term added without the cotangent, or a power of it) -- which the wobble
        # above would take for rounding
        doubled = vjp(2.0)
        # ... and the VJP in this dtype an ulp away (every input element moved one ulp of its
        # own dtype): how far its own rounding wanders -- a normalisation over 2 elements
        # cancels inside its VJP (1 - x̂² of ~2e-3), which neither the cotangent's multiples
        # nor the float64 VJP an ulp away see; PyTorch's float32 VJP is no closer there
        native_moved = wander(native, widen=False)
        for i in own:
            swaps.swap(p.inputs[i], point[i])
    except Exception:  # (the function does not run on its own inputs: nothing to compare)
        return None
    tol = OWN_PRECISION_TOL.get(np.dtype(lowest), 1e-4)
    # ... and where an entry cancels to exactly 0 (both times: no wobble to see), a few eps of
    # |cotangent| |output|
    v_scale = max((float(np.max(np.abs(v), initial=0.0)) for v in vs), default=0.0)
    o_scale = max((float(np.max(np.abs(to_numpy(outs[j]._data)), initial=0.0)) for j in which
                   if np.isfinite(to_numpy(outs[j]._data)).all()), default=0.0)
    last_bit = CANCEL_ULPS * float(np.finfo(lowest).eps) * v_scale * o_scale
    # ... and everywhere, a few eps of the largest gradient that flowed through the backward
    # graph (each op's VJP rounds to a share of what it received and sent, not of the result:
    # cross_entropy of logits [20, 0, 0] receives g and sends (p - 1) g = 2e-9 g, where float32
    # rounds p = 1 to a share of g -- PyTorch's VJP gives the same)
    eps = float(np.finfo(lowest).eps)
    for k, (i, w, n, m, nm) in enumerate(zip(p.diff, wide, native, moved, native_moved)):
        if w is not None and n is None and np.any(w != 0):
            return GradcheckReport(False, "wrong_vjp", 1, (
                f"gradcheck failed: the VJP is wrong in {own.get(i, lowest)} only -- it gives "
                f"{labels.input(i)} no gradient at all there (its graph is cut in that dtype: "
                "a .numpy(), .detach(), .data or a new Tensor on the way), where the same VJP in "
                "float64, which the check found right, gives one. Look for a VJP that depends "
                "on the dtype."))
        if w is None or n is None or w.shape != n.shape or not w.size:
            continue
        both = np.isfinite(w) & np.isfinite(n)  # (overflow in a low precision is no wrong VJP)
        with np.errstate(invalid="ignore", over="ignore"):  # (inf - inf where both overflow)
            err = np.where(both, np.abs(n - w), 0.0)
        scale = float(np.max(np.abs(w), where=both, initial=0.0))
        wobble = 0.0
        for again in agains:
            n2 = again[k]
            if n2 is not None and n2.shape == n.shape:
                with np.errstate(invalid="ignore", over="ignore"):
                    wobble = max(wobble, float(np.max(np.abs(n2 - n), where=both & np.isfinite(n2),
                                                      initial=0.0)))
        nonlinear = np.zeros_like(err)
        if doubled[k] is not None and doubled[k].shape == n.shape:
            with np.errstate(invalid="ignore", over="ignore"):
                nonlinear = np.where(both & np.isfinite(doubled[k]), np.abs(doubled[k] - n), 0.0)
        off = nonlinear - tol * (np.abs(np.where(both, w, 0.0)) + scale) \
            - float(np.finfo(lowest).tiny) * 2 ** 10  # (subnormals round apart when doubled)
        if (off > 0).any():
            j = int(np.argmax(off))
            return GradcheckReport(False, "wrong_vjp", 1, (
                f"gradcheck failed: the VJP is wrong in {own.get(i, lowest)} only -- it is not "
                f"linear in the output's gradient g there: for {labels.input(i)}, the VJP of 2g "
                f"is {doubled[k].ravel()[j] * 2:.6g} at element {unravel(j, w.shape)}, but twice "
                f"the VJP of g is {n.ravel()[j] * 2:.6g} (a VJP is J^T g, linear in g). Look for "
                "a term added without g, or a power of g, in the VJP's code for that dtype."))
        floor = CANCEL_ULPS * wobble + np.where(n == 0, last_bit, 0) + \
            CANCEL_ULPS * eps * flow[k] + CANCEL_ULPS * apart * (np.abs(w) + scale)
        floor = floor + float(np.finfo(lowest).tiny)  # (underflow: 0 for float64's 3e-45)
        if m is not None and m.shape == w.shape:  # (the conditioning: an ulp's worth of input,
            # over the entries compared -- not one that overflows the dtype, 1/x at 1e-20)
            floor = floor + CANCEL_ULPS * float(np.max(m, where=both & np.isfinite(m),
                                                       initial=0.0))
        if nm is not None and nm.shape == w.shape:  # (... and how much more the VJP in the
            # dtype itself wanders, entry by entry -- its rounding, beyond the true change the
            # float64 VJP shows: a small entry's wrong sign is not hidden by a large one's)
            extra = nm - (m if m is not None and m.shape == nm.shape else 0.0)
            floor = floor + CANCEL_ULPS * np.where(both & np.isfinite(extra), np.fmax(extra, 0.0),
                                                   0.0)
        broken = _not_finite_only_here(w, n, np.dtype(own.get(i, lowest)))
        if broken.any() and forward_overflows:
            # the function's own value is already inf/NaN in this dtype (cosh(12) in float16,
            # as in PyTorch): a VJP that reuses it is not finite either, and rightly so
            if notes is not None:
                notes.append(
                    f"In {own.get(i, lowest)} the function's own {', '.join(forward_overflows)} "
                    "is not finite (it overflows that dtype), so the VJP there is not finite "
                    "either; its entries that are not finite were not compared.")
            broken = np.zeros_like(broken)
        if broken.any():
            k = int(np.flatnonzero(broken.ravel())[0])
            got = "NaN" if np.isnan(n.ravel()[k]) else f"{n.ravel()[k]}"
            return GradcheckReport(False, "wrong_vjp", 1, (
                f"gradcheck failed: the VJP is wrong in {own.get(i, lowest)} only -- for "
                f"{labels.input(i)} it gives {got} at element {unravel(k, w.shape)} where the same "
                f"VJP in float64, which the check found right, gives {w.ravel()[k]:.6g}. Look "
                "for an overflow in that dtype (a product or exp that exceeds its range on the "
                "way, though the result fits; inf / inf) or a VJP that depends on the dtype."))
        # (the largest entry's share: a few of the dtype's eps, not tol -- an entry 3x off at
        # 1e-5 beside one of 1 passed under 1e-4 of the largest; the VJP's own rounding there
        # is measured above, entry by entry)
        excess = err - tol * np.abs(np.where(both, w, 0.0)) - SHARE_ULPS * eps * scale - floor
        if not (excess > 0).any():
            continue
        k = int(np.argmax(excess))
        head = (f"gradcheck failed: the VJP is wrong in {own.get(i, lowest)} only -- for "
                f"{labels.input(i)} it gives {n.ravel()[k]:.6g} at element {unravel(k, w.shape)} "
                f"where the same VJP in float64, which the check found right, gives "
                f"{w.ravel()[k]:.6g} (for one random cotangent; allowed: "
                f"{float(np.ravel(err)[k] - np.ravel(excess)[k]):.3g} -- {tol:.2g} of that value, "
                f"{SHARE_ULPS} eps of the largest, {scale:.3g}, its measured rounding and what an ulp's "
                "change of the inputs changes in the float64 VJP). Look for a VJP that depends "
                "on the dtype or loses precision in it.")
        return GradcheckReport(False, "wrong_vjp", 1, head)
    return None


def _watch_flow(outs: Sequence[Tensor], inputs: Sequence[Tensor]) -> Callable[[], list[float]]:
    """Have every node of ``outs``' graph note the largest finite magnitude of the gradients it
    receives and sends in the next backward (a post hook on each); the function returned gives,
    per input, the largest noted on the nodes that lead to it."""
    nodes = _collect([o.grad_fn for o in outs if o.grad_fn is not None])
    seen: dict[int, float] = {}

    def largest(grads: Any) -> float:
        m = 0.0
        for g in grads:
            if isinstance(g, Tensor) and g.dtype.kind == "f" and g.numel():
                a = np.abs(to_numpy(g._data).astype(np.float64))
                a = a[np.isfinite(a)]
                m = max(m, float(a.max(initial=0.0)))
        return m

    for node in nodes:
        def hook(sent: Any, received: Any, key: int = id(node)) -> None:
            seen[key] = max(seen.get(key, 0.0), largest(sent), largest(received))

        node.register_hook(hook)

    def per_input() -> list[float]:
        oldest_first = nodes[::-1]
        out = []
        for t in inputs:
            leads = _culprit._leads_to(oldest_first, {id(_edge(t))})
            out.append(max((seen.get(id(n), 0.0) for n in nodes if leads.get(id(n))),
                           default=0.0))
        return out

    return per_input


def _not_finite_only_here(wide: np.ndarray, native: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Where a VJP run in ``dtype`` (``native``) is not finite although the same VJP in float64
    (``wide``) is finite: NaN anywhere, and inf where the float64 value fits ``dtype`` by a
    margin (``OVERFLOW_SHARE`` of its largest number) -- an overflow on the way, not the result's
    own (a float64 VJP of 7e4 is inf in float16, and rightly so)."""
    fits = np.abs(wide) <= OVERFLOW_SHARE * float(np.finfo(dtype).max)
    return np.isfinite(wide) & (np.isnan(native) | (np.isinf(native) & fits))


def _node_check(func: Callable[..., Any], inputs: tuple[Any, ...], order: int, s: Settings,
                fast: bool, avoid_kinks: bool = True) -> GradcheckReport:
    """The check of one replayed node (culprit search): kinks moved away (unless it looks for
    the op wrong at its kink), no culprit search."""
    options = dataclasses.asdict(s)
    # the Taylor test sees errors below finite differences' tolerance: a failure it found is
    # looked for with it in every op too
    # (found again for the node if it rounds to float32 itself: its inputs run as float64)
    options.update(low_precision=False, noise=0.0, asked=None)
    if s.asked is not None:  # (and from the step and tolerances as given, not as widened)
        options.update(zip(("eps", "atol", "rtol"), s.asked))
    options.update(fast_mode=fast, avoid_kinks=avoid_kinks, find_culprit=False,
                   method="taylor" if s.method == "taylor" else "finite_differences")
    return check_grads(func, inputs, order=order, **options)


def _check(p: Problem, s: Settings, labels: Labels, swaps: Swaps, notes: list[str],
           order: int = 1) -> GradcheckReport:
    report = _not_finite(p, labels, order)  # (a failed report is falsy: no `or` below)
    if report is None:
        report = _by_method(p, s, labels, swaps, notes, order)
        if (not report.ok and not s.low_precision
                and report.kind in ("wrong_vjp", "not_differentiable", "taylor")):
            # (along steps of eps only: along longer ones a function with jumps -- the VJP of a
            # relu network, in gradgradcheck -- looks like one that rounds; and a residual over
            # MAX_ROUNDING of the values is a jump at the point -- sign, floor -- not rounding)
            rough = _measured_rounding(p, s, s.eps)
            if HIDDEN_ROUNDING < rough < MAX_ROUNDING:
                # a function that rounds inside, out of the graph's sight, where its outputs are
                # no float32 numbers (so _precision could not see it): its differences at
                # eps=1e-6 measure rounding -- judged again with steps and tolerances for it
                _widen(s, MEASURED_TO_EPS * rough)
                notes.append(
                    f"The function's values round to about {rough:.1g} of their size (measured "
                    "along a line through the check point: it computes in float32 or the like "
                    "inside, out of the graph's sight), so the first check's differences "
                    f"measured rounding; checked again with eps={s.eps:.3g}, atol={s.atol:.3g}, "
                    f"rtol={s.rtol:.3g}.")
                report = _by_method(p, s, labels, swaps, notes, order)
        if order == 1 and report.kind in ("wrong_vjp", "taylor"):
            loose = _not_connected(p, labels, report)
            report = report if loose is None else loose
    report.notes = notes + report.notes
    return report


def _not_connected(p: Problem, labels: Labels, report: GradcheckReport) -> GradcheckReport | None:
    """A failed first-order check whose failing output is not connected to the failing input
    (its graph does not reach it: a ``.detach()``, ``.data``, numpy or a new Tensor inside):
    no VJP is wrong there, the gradient is lost before any runs. That report, or None. Without
    a worst entry (the Taylor test), every compared output must be cut off from every input."""
    top = report.worst[0] if report.worst else None
    pairs = ([(top.input, top.output)] if top is not None and top.output is not None
             else [(i, j) for j in p.which for i in p.diff])
    outs = p.outputs()
    if any(_connected(outs[j], p.inputs[i]) for i, j in pairs):
        return None
    i, j = pairs[0]
    where = ""
    if top is not None and top.in_index is not None:
        where = (f" (at input element {top.in_index} and output element {top.out_index}, by "
                 f"{top.numerical:.6g} per unit, measured by central differences)")
    if not outs[j].requires_grad:
        what = (f"{labels.output(j)} does not require grad: it is not connected to the inputs, "
                f"though it changes with {labels.input(i)}{where}")
    else:
        what = (f"{labels.output(j)} is not connected to {labels.input(i)}: its graph does not "
                f"lead back to that input, though it changes with it{where}")
    head = (f"not connected: {what}. The function computes it outside the graph -- a "
            "`.detach()`, `.data`, `.numpy()` or a new Tensor made from the input's values -- so "
            "no gradient reaches the input (this is no VJP's fault; PyTorch's gradcheck fails "
            "here too). Compute it with Tensor ops on the input.")
    return GradcheckReport(False, "not_connected", 1, head, report.details, None, report.worst,
                           report.notes)


def _connected(out: Tensor, t: Tensor) -> bool:
    """Whether the graph of ``out`` reaches tensor ``t`` (a gradient of ``out`` can flow to it)."""
    target = _edge(t)
    if _edge(out) is target:
        return True
    if out.grad_fn is None:
        return False
    return any(e is target for node in _collect([out.grad_fn]) for e in node.next)


def _by_method(p: Problem, s: Settings, labels: Labels, swaps: Swaps, notes: list[str],
               order: int) -> GradcheckReport:
    rng = np.random.default_rng(s.seed)
    if s.method == "taylor":
        from tinygrad_cnn.gradcheck.taylor import taylor_check

        failed = _reentrant(p, s, labels, order, rng)
        if failed is not None:
            return failed
        report = taylor_check(p, labels, rng, order, s.low_precision)
        if report.kind == "taylor_not_finite":  # (a NaN VJP passed "exact to rounding")
            fd = _after_taylor(p, s, labels, swaps, list(notes), rng, order)
            fd.notes.append("The VJP gave NaN or inf, which the Taylor test cannot judge: "
                            "finite differences did (this report).")
            return fd
        if report.kind == "not_differentiable" and ("crosses a kink" in report.headline
                                                     or "crosses a jump" in report.headline):
            # along one direction a right VJP at a kink and a wrong one can give the same
            # slopes -- and a wrong VJP along a direction of small slope leaves a remainder
            # that stalls like a jump's: finite differences, element by element, tell them apart
            fd = _after_taylor(p, s, labels, swaps, list(notes), rng, order)
            if fd.kind == "wrong_vjp":
                fd.notes.append("The Taylor test saw a kink on its path; finite differences "
                                "found the VJP wrong.")
                return fd
        elif report.kind == "taylor":
            # a slope off along a random direction: a wrong VJP, or tied inputs (a median of
            # equal values is linear along any direction, at a slope no VJP can give for all)
            fd = _after_taylor(p, s, labels, swaps, list(notes), rng, order)
            if fd.kind == "not_differentiable":
                fd.notes.append("The Taylor test found the VJP's slope off along a random "
                                "direction; finite differences show why: "
                                "the function is not differentiable at this point.")
                return fd
        if report.ok:  # (the Taylor test runs one gradient per output, in C order)
            failed = _joint_and_layout(p, s, labels, order)  # (a failed report is falsy)
            return report if failed is None else failed
        return report
    if s.fast_mode:
        return _fast(p, s, labels, swaps, notes, rng, order)
    return _slow(p, s, labels, swaps, notes, rng, order)


#: after a failed Taylor test, inputs of more elements than this (in all) are located by fast
#: mode's projections, not whole Jacobians (a (2, 3, 32, 32) input took 14 s and 2.4 GB -- t162)
TAYLOR_WHOLE_UP_TO = 1024


def _after_taylor(p: Problem, s: Settings, labels: Labels, swaps: Swaps, notes: list[str],
                  rng: np.random.Generator, order: int) -> GradcheckReport:
    """Finite differences after a Taylor test that failed or could not judge: whole Jacobians
    for small inputs, fast mode's projections (which still name the elements) for large ones."""
    if sum(p.base(i).size for i in p.diff) > TAYLOR_WHOLE_UP_TO:
        return _fast(p, s, labels, swaps, notes, rng, order)
    return _slow(p, s, labels, swaps, notes, rng, order)


def _not_finite(p: Problem, labels: Labels, order: int) -> GradcheckReport | None:
    """A check point where an input or the function's value is inf or NaN cannot be checked by
    finite differences: a report that says so (not a wrong VJP), or None."""
    found = None
    for i in p.diff:
        x = p.base(i).ravel()
        if not np.isfinite(x).all():
            k = int(np.flatnonzero(~np.isfinite(x))[0])
            found = (f"{labels.input(i)} holds {x[k]} at element {unravel(k, p.in_shape(i))}",
                     "finite differences need finite inputs")
            break
    if found is None:
        for j, f in zip(p.which, p.values()):
            if not np.isfinite(f).all():
                k = int(np.flatnonzero(~np.isfinite(f))[0])
                found = (f"{labels.output(j)} is {f[k]} at element "
                         f"{unravel(k, tuple(p.outputs()[j].shape))}",
                         "the function is not finite there (outside its domain, or overflowing)")
                break
    if found is None:
        return None
    head = (f"cannot check at this point: {found[0]}; {found[1]}, so its derivatives cannot be "
            "compared there (this says nothing about the VJPs). Check at a point where the inputs "
            "and values are finite.")
    return GradcheckReport(False, "not_finite", order,
                           ("second derivative: " if order == 2 else "") + head)


def _nudge(p: Problem, i: int, elements: Sequence[int], s: Settings, swaps: Swaps,
           rng: np.random.Generator, notes: list[str], labels: Labels) -> None:
    """Move the given elements of input ``i`` a little (a random sign and size, so that ties
    break) away from the kinks found there."""
    t = p.inputs[i]
    x = p.base(i).ravel()
    moved = []
    for k in elements:
        step = max(1e-3, 10 * s.eps) * (1 + abs(x[k])) * (1 + rng.random()) * rng.choice([-1, 1])
        x[k] += step
        moved.append(f"{unravel(k, p.in_shape(i))} by {step:+.2g}")
    swaps.swap(t, like(x.reshape(t.shape).astype(t.dtype), t._data))
    p.moved()
    shown = ", ".join(moved[:6]) + (f" and {len(moved) - 6} more" if len(moved) > 6 else "")
    notes.append(f"avoid_kinks: moved {labels.input(i)}'s element(s) {shown} off a kink.")


# ---------------------------------------------------------------------------- whole Jacobians
def _numerical_jacobians(p: Problem, s: Settings, f0: list[np.ndarray]
                         ) -> tuple[list[list[np.ndarray]], list[list[np.ndarray]]]:
    """The central differences and one-sided jumps the element-by-element check compares. In
    low precision, whose widened eps is far from small beside a curved function, both are
    extrapolated from eps and twice eps (Richardson's): the central difference's truncation (a
    sixth of eps² times the third derivative) and the curvature's share of the jump (eps times
    the second) cancel -- a kink's jump stays
    (sin(50x) computed in float32: its right VJP failed as 'at a kink', one 1% low passed)."""
    central, jumps = numerical_jacobians(p, s.eps, f0)
    if not s.low_precision:
        return central, jumps
    central2, jumps2 = numerical_jacobians(p, 2 * s.eps, f0)
    # (the slopes at eps itself are kept for the kink test: across a kink within the step the
    # extrapolation's right slope is 1 - d / 6 eps for relu at d from 0 -- a right VJP of 1 read
    # as outside the slopes, "wrong at a kink")
    p.plain_slopes = {(r, c): (n - k / 2, n + k / 2) for r, (rn, rk) in enumerate(zip(central, jumps))
                     for c, (n, k) in enumerate(zip(rn, rk))}
    return ([[(4 * a - b) / 3 for a, b in zip(ra, rb)] for ra, rb in zip(central, central2)],
            [[2 * a - b for a, b in zip(ra, rb)] for ra, rb in zip(jumps, jumps2)])


def _slow(p: Problem, s: Settings, labels: Labels, swaps: Swaps, notes: list[str],
          rng: np.random.Generator, order: int) -> GradcheckReport:
    f0 = p.values()
    numerical, jumps = _numerical_jacobians(p, s, f0)
    for _ in range(NUDGE_ROUNDS if s.avoid_kinks else 0):
        kinked = []
        for r, i in enumerate(p.diff):
            mask = np.zeros(p.inputs[i]._data.size, dtype=bool)
            for c, (n, k) in enumerate(zip(numerical[r], jumps[r])):
                # (not where rounding alone parts the slopes: x - mean at 3e6 was moved by
                # thousands, to where a VJP 5% off hid under atol)
                mask |= (s.kinked(k, n + k / 2, n - k / 2)
                         & ~_rounding_parts_slopes(p, s, i, k, f0[c], n)).any(axis=1)
            mask |= _symmetric_jumps(p, i, numerical[r], s, f0)
            if mask.any():
                kinked.append((i, np.flatnonzero(mask)))
        if not kinked:
            break
        for i, elements in kinked:
            _nudge(p, i, elements, s, swaps, rng, notes, labels)
        f0 = p.values()
        numerical, jumps = _numerical_jacobians(p, s, f0)

    # first: a function that changes a checked input in place (its saved tensors too) is
    # named so, before the VJPs run into the engine's saved-tensor version error
    failed = _reentrant(p, s, labels, order, rng)
    if failed is not None:
        return failed
    analytical = analytical_jacobians(p, p.outputs())
    try:
        jumped = _refine(p, s, analytical, numerical, jumps, f0, notes, labels)
    except _RefutedError as found:
        return _refuted_report(p, s, labels, order, found.refuted,
                               "chosen for the element (two of them)", found.unmeasured)
    except _CannotJudgeError as why:
        return _cannot_judge(order, str(why))
    again = _out_of_scale_again(p, s, analytical, numerical, jumps, jumped, f0, notes, labels)

    wrong: list[tuple[float, Entry, int, int, bool]] = []  # (..., at a kink)
    kinks: list[tuple[float, Entry]] = []
    counts: dict[tuple[int, int], tuple[int, int]] = {}
    excused: dict[tuple[int, int], Any] = {}  # the entries at kinks, jumps and domain edges
    outside: dict[tuple[int, int], Any] = {}  # failing entries at kinks (VJP outside the slopes)
    blocks: dict[tuple[int, int], tuple[Any, ...]] = {}  # the failing blocks' masks and slopes
    for r, i in enumerate(p.diff):
        for c in range(len(p.which)):
            a, n, k = analytical[r][c], numerical[r][c], jumps[r][c]
            tol = s.tol_at(n, f0[c])
            bad = ~(np.abs(a - n) <= tol)
            if not bad.any():
                continue
            right, left = n + k / 2, n - k / 2
            lo, hi = _slope_bounds(p, r, c, left, right)
            with np.errstate(invalid="ignore"):
                at_kink = (bad & s.kinked(k, right, left)
                           & (a >= lo - tol) & (a <= hi + tol)
                           & ~_rounding_parts_slopes(p, s, i, k, f0[c], n))
            # no derivative at all: the function jumps there, or is undefined on one side (a
            # NaN difference at the edge of its domain) -- not a wrong VJP either
            jump = bad & jumped[r][c]
            edge = bad & ~np.isfinite(n).all(axis=1, keepdims=True)  # the input element's row
            at_kink &= ~_unshared(p, i, c, a, at_kink, s)
            blocks[(r, c)] = (bad, at_kink, jump, edge, tol, left, right, lo, hi)
    for c in range(len(p.which)):  # a tie between inputs (maximum(a, b) at a == b)
        _unshared_across(p, c, analytical, blocks, s)
    for (r, c), (bad, at_kink, jump, edge, tol, left, right, lo, hi) in blocks.items():
        i, j = p.diff[r], p.which[c]
        a, n, k = analytical[r][c], numerical[r][c], jumps[r][c]
        at_kink |= jump | edge
        ties = _ties(p, r, i, c, a, n, bad & ~at_kink, s, f0[c])
        with np.errstate(invalid="ignore"):  # (a share outside its element's own one-sided
            own_out = s.kinked(k, right, left) & ~(  # slopes is wrong in any tie: (-3, 2, 2))
                (a >= lo - tol) & (a <= hi + tol))
        for col in ties:
            at_kink[:, col] |= bad[:, col] & ~own_out[:, col]
        excused[(r, c)] = at_kink
        # failing entries at a kink whose VJP lies outside the one-sided slopes: wrong, but
        # read last (the central difference there, the slopes' mean, says nothing of the
        # cause: a doubled relu VJP at [0, 1, 2] led with 2 against 0.5 and lost its ×2)
        with np.errstate(invalid="ignore"):
            outside[(r, c)] = (bad & ~at_kink & s.kinked(k, right, left)
                               & ~_rounding_parts_slopes(p, s, i, k, f0[c], n))
        excess = np.abs(a - n) - tol
        excess[np.isnan(excess)] = np.inf
        shape_in, shape_out = p.in_shape(i), tuple(p.outputs()[j].shape)
        for kind_mask, bucket in ((bad & ~at_kink, "wrong"), (at_kink, "kink")):
            for flat in np.argsort(-np.where(kind_mask, excess, -np.inf).ravel())[:WORST_SCAN]:
                if not kind_mask.ravel()[flat]:
                    break
                e_in, e_out = np.unravel_index(flat, a.shape)
                sides = (left, right)
                plain = p.plain_slopes.get((r, c))
                if bucket == "kink" and plain is not None and plain[0].shape == a.shape and not (
                        min(left[e_in, e_out], right[e_in, e_out]) - tol[e_in, e_out]
                        <= a[e_in, e_out] <= max(left[e_in, e_out], right[e_in, e_out])
                        + tol[e_in, e_out]):
                    sides = plain  # (the VJP lies between the slopes at eps: those are shown)
                e = Entry(i, j, unravel(int(e_in), shape_in), unravel(int(e_out), shape_out),
                          float(a[e_in, e_out]), float(n[e_in, e_out]) if sides is not plain else
                          float(sides[0][e_in, e_out] + sides[1][e_in, e_out]) / 2,
                          float(sides[0][e_in, e_out]), float(sides[1][e_in, e_out]),
                          jump=bool(jump[e_in, e_out]), edge=bool(edge[e_in, e_out]),
                          tie=ties.get(int(e_out)))
                if bucket == "wrong":
                    wrong.append((float(excess[e_in, e_out]), e, r, c,
                                  bool(outside[(r, c)][e_in, e_out])))
                else:
                    kinks.append((float(excess[e_in, e_out]), e))
        counts[(i, j)] = (int((bad & ~at_kink).sum()), bad.size)

    if wrong:
        # entries at a kink after all the others, and those whose step rounding decides (|x| ~
        # 1e8) after those that can be judged: a VJP 10% off at 2.5e7 is reported as such
        wrong.sort(key=lambda w: (w[4], _coarse_step(p, s, w[1], again), -w[0]))
        _, top, r, c, _ = wrong[0]
        i, j = p.diff[r], p.which[c]
        xk = float(p.base(i)[top.in_index]) if top.in_index is not None else 0.0
        k_top = int(np.ravel_multi_index(top.in_index, p.in_shape(i))) if top.in_index else 0
        if _under_ulps(s.eps, xk) and (i, k_top) not in again:
            # (not a wrong VJP: at |x| ~ 1e8 a step of 1e-6 is a few ulps of x)
            return _cannot_judge(order, (
                f"the step eps={s.eps:g} is under {ROUNDING_ULPS} ulps of {labels.input(i)}'s "
                f"element {top.in_index} (= {xk:.6g}), so rounding, not the VJP, decides the "
                f"difference quotient (numerical {top.numerical:.6g}, analytical "
                f"{top.analytical:.6g}); steps scaled to it measure no one slope there either "
                f"(a function that varies on a finer scale). "
                f"{scale_the_step(s.caller, 1e-6 * abs(xk))}"))
        fk = _output_rounding_explains(p, s, wrong, f0)
        if fk is not None:
            # (not a wrong VJP either: `t + 2e7` rounds its output by 4e-9, which over a step
            # of 1e-6 moves a quotient by 0.4%; the culprit search then blamed `add`)
            return _cannot_judge(order, (
                f"{labels.output(j)} is as large as {fk:.6g}, and its rounding (one ulp: "
                f"{float(np.spacing(fk)):.3g}) over the step eps={s.eps:g} moves a difference "
                f"quotient by up to {2 * float(np.spacing(fk)) / s.eps:.3g} -- as much as it is "
                f"off here (numerical {top.numerical:.6g}, analytical {top.analytical:.6g}), so "
                "rounding, not the VJP, may decide it. Check at a point where the outputs are of "
                "order 1 (subtract the large constant), or pass a larger eps"))
        grain = _input_rounding_explains(p, s, wrong, numerical, f0)
        if grain is not None:
            # (nor where the inputs are large and the function subtracts them -- x - x.mean()
            # at 3e6, outputs of order 1: the mean rounds to the grain of their sum)
            return _cannot_judge(order, (
                f"{labels.input(i)}'s elements are as large as {grain[0]:.6g}; where the "
                "function subtracts them (x - x.mean(): its outputs are of order 1, its sum "
                f"rounds to {float(np.spacing(grain[1])):.3g}), that rounding over the step "
                f"eps={s.eps:g} moves a difference quotient by up to {grain[2]:.3g} -- as much as "
                f"it is off here (numerical {top.numerical:.6g}, analytical "
                f"{top.analytical:.6g}), so rounding, not the VJP, may decide it. Check at "
                "inputs of order 1 (subtract the large constant), or pass a larger eps"))
        grain = _under_input_grain(p, s, wrong)
        if grain is not None:
            # (log_softmax of [0, 40] with atol=0: its output -4e-18 is 40 - 40.000...,
            # rounded at 40's grain; the VJP's -4e-18 is right, the central difference 0)
            return _cannot_judge(order, (
                f"every failing entry is off by at most {grain[0]:.3g}, less than the rounding "
                f"of values the size of the inputs ({grain[1]:.6g}: one ulp, "
                f"{float(np.spacing(grain[1])):.3g}) over the step eps={s.eps:g} "
                f"({grain[2]:.3g}) -- a function that subtracts such values (a log_softmax at "
                f"large logits) rounds there, so its central differences cannot resolve "
                f"them (numerical {top.numerical:.6g}, analytical {top.analytical:.6g}). Pass an "
                f"atol of at least {grain[2]:.3g}, or check at inputs of order 1"))
        a, n = analytical[r][c], numerical[r][c]
        # the cause is read from the failing entries alone: an entry excused as a kink (say
        # numerical 0, analytical not) would otherwise name a cause the failing ones do not show
        gone = excused.get((r, c), False)
        at_kinks = outside.get((r, c), False)
        if (counts[(i, j)][0] > int(np.sum(at_kinks))):  # others fail too: read those alone
            gone = gone | at_kinks
        # (and the elements whose step rounding decides, where others can be judged: their
        # quotients are off by rounding, which hides a constant factor in the rest)
        coarse = _under_ulps(s.eps, p.base(i).ravel())[:, None]
        if (~(np.abs(a - n) <= s.tol_at(n, f0[c])) & ~gone & ~coarse).any():
            gone = gone | coarse
        ca, cn = np.where(gone, 0.0, a), np.where(gone, 0.0, n)
        outs = p.outputs()
        m = int(np.ravel_multi_index(top.out_index, outs[j].shape)) if top.out_index else 0
        onehot = np.zeros(outs[j]._data.size)
        onehot[m] = 1
        # (to the tolerance with the outputs' rounding over eps: in float32 a quotient under
        # it is noise -- a doubled VJP of a sum of 2,000 squares, whose small elements measured
        # 0, read as "wrong indices")
        cause = likely_cause(ca, cn, s.tol_at(cn, f0[c]), order=order,
                             in_label=labels.input(i), incoming=labels.incoming(i),
                             in_shape=p.in_shape(i), out_shape=tuple(outs[j].shape),
                             scales_with_grad=_scales_with_grad(p, outs, c, r, onehot))
        cause = _second_order_cause(p, cause)
        swapped = _swapped_with(p, s, analytical, numerical, r, c)
        if swapped is not None:
            cause = (f"the VJP returns the gradients of {labels.input(i)} and "
                     f"{labels.input(p.diff[swapped])} in swapped order: each matches the other's "
                     "numerical Jacobian. backward must return one gradient per input of "
                     "forward, in forward's order")
        other = _outputs_swapped(p, s, analytical, numerical, r, c) if swapped is None else None
        if other is not None:
            cause = (f"the VJP uses the gradient of {labels.output(p.which[other])} where "
                     f"{labels.output(j)}'s belongs, and the other way round: backward(ctx, g0, "
                     "g1, ...) receives one gradient per output of forward, in forward's order")
        if len(p.which) > 1 and not np.any(a) and any(
                np.any(analytical[r][cc]) for cc in range(len(p.which)) if cc != c):
            # (not "it ignores that input": the input gets gradient through the other outputs)
            cause = (f"the VJP ignores the gradient of {labels.output(j)}: {labels.input(i)} "
                     "gets gradient through the other outputs but none through this one. A VJP "
                     "of an op with several outputs receives one gradient per output "
                     "(backward(ctx, g0, g1)) and must use each")
        fails, size = counts[(i, j)]
        if fails and fails == int(np.sum(at_kinks)):
            cause = None  # (every failing entry sits at a kink: the culprit's kink note says it)
        kinked_wrong = [w[1] for w in wrong if w[4]]
        head = (f"Jacobian mismatch for {labels.output(j)} with respect to {labels.input(i)} (shape "
                f"{p.in_shape(i)}), at input element {top.in_index} and output element "
                f"{top.out_index}:")
        if order == 2:
            head = "second derivative: " + head
        head = "\n".join([head, f"  analytical: {top.analytical + 0.0:.10g}",  # (not -0)
                          f"  numerical:  {top.numerical + 0.0:.10g}",
                          f"  absolute error {top.abs_error:.3g}, relative error {top.rel_error:.3g}",
                          f"  {fails} of {size} entries fail"
                          + (f" (and {p.unmeasured} more failing input element(s) not measured "
                             "again: see below)" if p.unmeasured else "")
                          + f"; {rule(s.atol, s.rtol)} (central differences with eps={s.eps:g})"])
        details: list[str] = []
        entries = [w[1] for w in wrong[:WORST]]
        if len(wrong) > 1:
            details += ["The worst entries:"] + entry_table(entries, labels.input, labels.output)
        others = [f"{labels.output(jj)} w.r.t. {labels.input(ii)}: {f} of {n_} entries"
                  for (ii, jj), (f, n_) in counts.items() if (ii, jj) != (i, j) and f]
        if others:
            details.append("Other failing blocks: " + "; ".join(others) + ".")
        if kinks:
            details.append(f"({len(kinks)} further entries sit at kinks; "
                           f"{move_off_kinks(s.caller)} to check away from them.)")
        for e in [e for e in kinked_wrong if e is not top][:3]:
            details.append(f"{labels.input(e.input)}'s element {e.in_index} sits at a kink: "
                           f"{kink_verdict(e.analytical, e.left, e.right)}.")
        details += small_jacobians(a, n)
        return GradcheckReport(False, "wrong_vjp", order, head, details, cause, entries)
    failed = _not_linear(p, s, labels, order, analytical, rng)
    if failed is None:
        failed = _joint_and_layout(p, s, labels, order)
    if failed is not None:
        return failed
    if kinks:
        ranked = sorted(kinks, key=lambda k: -k[0])
        rounded = _kinks_from_rounding(p, s, [e for _, e in ranked], f0)
        if rounded is not None:
            # (x² at 1.8e8: its output of 3e16 rounds by 4, which over a step of 1e-6 parts
            # the one-sided slopes by 1% -- "not differentiable" of a smooth function)
            return _cannot_judge(order, rounded + ", so rounding, not the function, parts the "
                                 "one-sided slopes there (a smooth function read as a kink). "
                                 f"{scale_the_step(s.caller, 1e-6 * _largest_input(p))}")
        return _kink_report(ranked, labels, order, s.caller,
                            s.eps if s.low_precision else None)
    report = _passed(p, labels, order, s, "whole Jacobians")
    worst: tuple[float, float, float, int, int] | None = None
    refuted: list[tuple[float, Entry, int, int]] = []
    for r, i in enumerate(p.diff):
        tiny = _tiny_elements(p, s, i)
        hids = [_hidden_by_atol(analytical[r][c], numerical[r][c], s, f0[c], tiny)
                for c in range(len(p.which))]
        if any(h.any() for h in hids):
            refuted += _confirm_with_bigger_steps(p, s, r, i, analytical, hids, f0)
        if tiny.any() and any(h.any() for h in hids):
            _confirm_with_scaled_steps(p, r, i, analytical, hids, f0, tiny)
        for c, j in enumerate(p.which):
            a, n = analytical[r][c], numerical[r][c]
            hid = hids[c]
            if hid.any():
                k = int(np.argmax(np.where(hid, np.abs(a - n), -1)))
                if worst is None or abs(a.flat[k] - n.flat[k]) > abs(worst[0] - worst[1]):
                    worst = (float(a.flat[k]), float(n.flat[k]), float(hid.sum()), i, j)
    if refuted:
        return _refuted_report(p, s, labels, order, refuted)
    unseen = _unseen_elements(p, s, numerical, f0)
    if worst is None and unseen:
        (i, k, fk), more = unseen[0], len(unseen) - 1
        report.atol_hid = (
            f"it passed without seeing {labels.input(i)}'s element {k}"
            + (f" (and {more} more)" if more else "") + f": the outputs it reaches are as large "
            f"as {fk:.3g}, whose rounding over the step eps={s.eps:g} "
            f"({2 * float(np.spacing(fk)) / s.eps:.3g}) exceeds every entry of its row and their "
            "tolerance -- a VJP that gave it nothing would pass too. "
            "Check at outputs of order 1 (subtract the large constant), or pass a larger eps.")
        report.notes.append(report.atol_hid)
    if worst is None and not unseen and p.unsettled:
        i, k, a_k, n_k = p.unsettled[0]
        more = len(p.unsettled) - 1
        report.atol_hid = (
            f"it passed by atol or the tolerance widened for float32 alone: {labels.input(i)}'s "
            f"element {unravel(k, p.in_shape(i))}" + (f" (and {more} more)" if more else "")
            + " has an entry that differs from its measurement by more than a twentieth "
            f"(analytical {a_k:.4g}, numerical {n_k:.4g}), and no step measured it closer: the "
            "check cannot tell a right VJP from a wrong one there (sigmoid at 10 in float32, a "
            "derivative of 5e-5 beside outputs of 1). Pass a smaller atol (atol=0 judges by rtol "
            "alone), check where the derivatives are not small beside the outputs, or compute "
            "the function in float64.")
        report.notes.append(report.atol_hid)
    if worst is not None:
        report.atol_hid = (
            f"it passed by atol alone: {int(worst[2])} entr{'y' if worst[2] == 1 else 'ies'} of "
            f"the Jacobian of {labels.output(worst[4])} with respect to {labels.input(worst[3])} "
            f"differ{'s' if worst[2] == 1 else ''} from the central differences by more than a "
            f"twentieth of {'its' if worst[2] == 1 else 'their'} size but by less "
            f"than atol={s.atol:g} (worst: analytical {worst[0]:.4g}, numerical {worst[1]:.4g}): "
            "at this scale the check cannot tell a right VJP from a wrong one (x² at 1e-7 with "
            "a doubled VJP passes). Pass a smaller atol (atol=0 judges by rtol alone) or check "
            "at inputs of order 1.")
        report.notes.append(report.atol_hid)
    return report


def _swapped_with(p: Problem, s: Settings, analytical: list[list[np.ndarray]],
                  numerical: list[list[np.ndarray]], r: int, c: int) -> int | None:
    """The index (into ``p.diff``) of another checked input of the same shape whose gradient
    ``analytical[r]`` is -- and vice versa, for every output -- so a VJP that returns two
    gradients in swapped order is named so; None otherwise."""
    for r2 in range(len(p.diff)):
        if r2 == r or p.in_shape(p.diff[r2]) != p.in_shape(p.diff[r]):
            continue
        if all(np.all(np.abs(analytical[a][cc] - numerical[b][cc]) <= s.tol(numerical[b][cc]))
               for a, b in ((r, r2), (r2, r)) for cc in range(len(p.which))) and \
                not np.all(np.abs(analytical[r][c] - numerical[r][c]) <= s.tol(numerical[r][c])):
            return r2
    return None


def _outputs_swapped(p: Problem, s: Settings, analytical: list[list[np.ndarray]],
                     numerical: list[list[np.ndarray]], r: int, c: int) -> int | None:
    """The index (into ``p.which``) of another output of the same shape whose gradient the VJP
    used in place of output ``c``'s -- and vice versa, for every checked input -- so a backward
    that reads its gradients in swapped order (``backward(ctx, g0, g1)`` using g1 for g0) is
    named so; None otherwise."""
    outs = p.outputs()
    for c2 in range(len(p.which)):
        if c2 == c or tuple(outs[p.which[c2]].shape) != tuple(outs[p.which[c]].shape):
            continue
        if all(np.all(np.abs(analytical[rr][a] - numerical[rr][b]) <= s.tol(numerical[rr][b]))
               for a, b in ((c, c2), (c2, c)) for rr in range(len(p.diff))) and \
                not np.all(np.abs(analytical[r][c] - numerical[r][c]) <= s.tol(numerical[r][c])):
            return c2
    return None


LINEAR_CAUSE = ("a VJP must be linear in the gradient it receives -- grad times something "
                "that does not depend on grad; look for grad.abs(), grad.relu(), grad * grad, "
                "a mask or a branch on grad's sign, or grad changed in place (grad.mul_(...): "
                "the same gradient may reach other VJPs too)")


def _not_linear(p: Problem, s: Settings, labels: Labels, order: int,
                analytical: list[list[np.ndarray]], rng: np.random.Generator
                ) -> GradcheckReport | None:
    """The whole Jacobians come from one-hot gradients, which are positive: a VJP that is not
    linear in its gradient (``g.abs() * cos(x)``, ``g * g``) gives right columns and passes
    them. So the VJP runs once more for a random gradient of both signs, ``v``, and must give
    ``A v``, the sum of its one-hot columns weighted by ``v``, to the check's tolerance; and a
    VJP must not change the gradient it received (:meth:`Problem.vjps` watches that). A failed
    report, or None."""
    outs = p.outputs()
    for c, j in enumerate(p.which):
        drawn = rng.standard_normal(outs[j]._data.size)
        for v in (drawn, -drawn):  # (both: a small v may have one sign only)
            failed = _linear_at(p, s, labels, order, analytical, outs, c, j, v)
            if failed is not None:
                return failed
    return None


def _linear_at(p: Problem, s: Settings, labels: Labels, order: int,
               analytical: list[list[np.ndarray]], outs: tuple[Tensor, ...], c: int, j: int,
               v: np.ndarray, retry: bool = True) -> GradcheckReport | None:
    """:func:`_not_linear` for one gradient ``v`` of output ``j``. Where it fails, once more with
    a gradient of the same signs whose values are odd eighths (exact in a few bits): a VJP that
    cancels big terms inside (``x * 1e14 - x * 1e14 + x``) rounds a normal gradient's products by
    their ulps, but none of these -- linear VJPs pass there, while grad.abs(), a mask from grad,
    a power of it, or grad rounded or cast to integers still fail."""
    got = p.vjps(outs, c, v)
    if p.grad_changed is not None:
        return _grad_changed_report(labels, order, p.grad_changed)
    for r, i in enumerate(p.diff):
        a = analytical[r][c]
        finite = np.isfinite(a).all(axis=1)  # (rows with NaN or inf: a domain edge)
        with np.errstate(all="ignore"):
            want = np.where(finite, np.where(np.isfinite(a), a, 0.0) @ v, 0.0)
            size = np.where(np.isfinite(a), np.abs(a), 0.0) @ np.abs(v)
            allowed = s.atol + s.rtol * size + F64_ROUNDING * size
            # (where a product overflows -- exp(709)'s 8e307 times a gradient of 2 -- there is
            # nothing to compare: only entries finite on both sides are judged)
            judged = finite & np.isfinite(size) & np.isfinite(got[r]) & np.isfinite(want)
            bad = judged & ~(np.abs(got[r] - want) <= allowed)
        if not bad.any():
            continue
        if retry:
            eighths = (2 * np.random.default_rng(s.seed + 29).integers(0, 16, v.size) + 1) / 8
            if _linear_at(p, s, labels, order, analytical, outs, c, j,
                          np.where(v < 0, -eighths, eighths), retry=False) is None:
                return None  # (rounding inside the VJP, not a VJP that is not linear)
            if p.grad_changed is not None:
                return _grad_changed_report(labels, order, p.grad_changed)
        k = int(np.argmax(np.where(bad, np.abs(got[r] - want) - allowed, -np.inf)))
        return _linearity_report(
            p, s, labels, order, i, j, k, int(bad.sum()), bad.size,
            ("from v at once:        ", got[r][k]),
            ("from v's one-hot parts:", want[k], "(the Jacobian's column per output "
             "element, each checked right, weighted by v)"),
            "(|A| |v|)", "One-hot gradients are all positive, so the Jacobian's columns "
            "alone could not show this.")
    return None


JOINT_FLOOR = 1e-3  # _joint_and_layout: a difference under this share of the largest entry passes
JOINT_CAUSE = ("a VJP of an op with several outputs receives one gradient per output "
               "(backward(ctx, g0, g1)) and must add what each sends: J0^T g0 + J1^T g1. Look "
               "for a branch on which gradients are zero or None, or one output's gradient "
               "used in another's term")
LAYOUT_CAUSE = ("a VJP must read its gradient by value, whatever its memory layout: the engine "
                "hands it transposed, sliced or broadcast arrays (the VJP of transpose, of a "
                "slice, of a sum). Look for as_strided, .ctypes, a buffer or .data read as flat "
                "memory, ravel or reshape with order='K' or 'A', or an in-place .shape change; "
                "np.ascontiguousarray(g) first makes any of them safe")


def _joint_and_layout(p: Problem, s: Settings, labels: Labels, order: int
                      ) -> GradcheckReport | None:
    """What the one-output-at-a-time checks cannot see, as every VJP gets a C-ordered gradient for
    one output while the others get zeros: (1) with several outputs, the VJP of gradients on all
    of them at once must be the sum of the VJPs of each alone (a VJP right for each output alone
    but wrong for (g0, g1) together passed -- and ``(y0 + y1).sum().backward()`` sends both);
    (2) the VJP of a gradient held in a non-contiguous array must be the VJP of the same values
    in C order (one that read g's memory as C order passed its own check, and in a composite,
    after a transpose, was wrong while the culprit search found no op at fault). A failed report,
    or None. (Its own random gradients: the check's other draws stay as they were.)"""
    rng = np.random.default_rng(s.seed + 23)
    outs = p.outputs()
    n_out = len(p.which)
    vs = [rng.standard_normal(outs[j]._data.size) for j in p.which]
    alone = [p.vjps(outs, c, vs[c]) for c in range(n_out)]

    def off(got: list[np.ndarray], want: list[np.ndarray], size: list[np.ndarray]
            ) -> tuple[int, int, int, int] | None:  # (r, k, bad count, size) of the worst
        for r in range(len(p.diff)):
            with np.errstate(all="ignore"):
                # (and a thousandth of the largest entry: a sum in another order -- BLAS on a
                # transposed operand -- rounds at the scale of its terms, which cancel to
                # entries near 0; a VJP that misreads g is off by whole entries)
                floor = JOINT_FLOOR * float(np.max(np.where(np.isfinite(want[r]), np.abs(
                    want[r]), 0.0), initial=0.0))
                allowed = s.atol + s.nondet_tol + floor + (s.rtol + F64_ROUNDING) * size[r]
                bad = np.isfinite(got[r]) & np.isfinite(want[r]) & np.isfinite(size[r]) & \
                    ~(np.abs(got[r] - want[r]) <= allowed)
            if bad.any():
                k = int(np.argmax(np.where(bad, np.abs(got[r] - want[r]) - allowed, -np.inf)))
                return r, k, int(bad.sum()), bad.size
        return None

    second = "second derivative: " if order == 2 else ""
    if n_out > 1:
        together = p.vjps_many(outs, range(n_out), vs)
        if p.grad_changed is not None:
            return _grad_changed_report(labels, order, p.grad_changed)
        want = [sum(a[r] for a in alone) for r in range(len(p.diff))]
        size = [sum(np.abs(a[r]) for a in alone) for r in range(len(p.diff))]
        found = off(together, want, size)
        if found is not None:
            r, k, n_bad, n = found
            i = p.diff[r]
            names = ", ".join(labels.output(j) for j in p.which)
            head = "\n".join([
                f"{second}the VJP is wrong when several outputs get gradients at once: for random "
                f"gradients on {names} together, it gives {labels.input(i)}'s element "
                f"{unravel(k, p.in_shape(i))}",
                f"  from all gradients at once:           {together[r][k] + 0.0:.10g}",
                f"  the sum of each gradient's VJP alone: {want[r][k] + 0.0:.10g}",
                f"  {n_bad} of {n} elements differ by more than atol + rtol * (the sum of |each "
                f"VJP|) + {JOINT_FLOOR:g} * (the largest entry) with atol={s.atol:g}, "
                f"rtol={s.rtol:g}"])
            return GradcheckReport(False, "wrong_vjp", order, head, [
                "Each output's Jacobian was checked with the other outputs' gradients zero; "
                "the VJP must be linear in all of its gradients together too."], JOINT_CAUSE)
    for c, j in enumerate(p.which):
        data = outs[j]._data
        if data.size < 2 or not isinstance(data, np.ndarray):
            continue
        # (a slice's gradient, then a transpose's where two dims are long: F order is not C)
        layouts = ["strided"] + (["transposed"] if sum(n > 1 for n in data.shape) > 1 else [])
        for layout in layouts:
            try:
                strided = p.vjps_many(outs, [c], [vs[c]], layout=layout)
            except Exception as exc:  # (a VJP that needs C order: b.shape = (-1,) on g)
                return GradcheckReport(False, "wrong_vjp", order, (
                    f"{second}the VJP fails for a gradient of {labels.output(j)} that is not "
                    f"contiguous ({'transposed' if layout == 'transposed' else 'strided'} in "
                    "memory, as after a transpose or a slice) where the C-ordered one works:\n  "
                    f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"),
                    [], LAYOUT_CAUSE)
            if p.grad_changed is not None:
                return _grad_changed_report(labels, order, p.grad_changed)
            found = off(strided, alone[c], [np.abs(a) for a in alone[c]])
            if found is not None:
                break
        if found is not None:
            r, k, n_bad, n = found
            i = p.diff[r]
            head = "\n".join([
                f"{second}the VJP depends on how its gradient is laid out in memory: for one "
                f"random gradient of {labels.output(j)}, it gives {labels.input(i)}'s element "
                f"{unravel(k, p.in_shape(i))}",
                f"  from the gradient in C order:            {alone[c][r][k] + 0.0:.10g}",
                f"  from the same values, {'transposed' if layout == 'transposed' else 'strided'} "
                f"in memory: {strided[r][k] + 0.0:.10g}",
                f"  {n_bad} of {n} elements differ by more than atol + rtol * |VJP| + "
                f"{JOINT_FLOOR:g} * (the largest entry) with atol={s.atol:g}, rtol={s.rtol:g}"])
            return GradcheckReport(False, "wrong_vjp", order, head, [
                "The Jacobian is checked with C-ordered gradients; inside a model the gradient "
                "often is not (after transpose(), a slice or a sum), and there this VJP is "
                "wrong."], LAYOUT_CAUSE)
    return None


def _grad_changed_report(labels: Labels, order: int, j: int) -> GradcheckReport:
    return GradcheckReport(False, "wrong_vjp", order, (
        ("second derivative: " if order == 2 else "") + "the VJP changes the gradient it "
        f"receives for {labels.output(j)} in place (grad.mul_(...), grad[...] = ...): that same "
        "gradient may go on to other VJPs, which then read the changed one. Compute a new "
        "tensor instead (grad * ...)."))


def _linearity_report(p: Problem, s: Settings, labels: Labels, order: int, i: int, j: int,
                      k: int, n_bad: int, size: int, first: tuple[Any, ...],
                      second: tuple[Any, ...], scale: str, detail: str) -> GradcheckReport:
    """The report of a VJP found not linear in its gradient (at element ``k`` of input ``i``):
    the two values that a linear VJP gives alike."""
    head = "\n".join([
        ("second derivative: " if order == 2 else "") + "the VJP is not linear in its "
        f"gradient: for a random gradient v (of both signs) of {labels.output(j)}, it gives "
        f"{labels.input(i)}'s element {unravel(k, p.in_shape(i))}",
        f"  {first[0]} {first[1] + 0.0:.10g}",
        f"  {second[0]} {second[1] + 0.0:.10g}" + (f"  {second[2]}" if len(second) > 2 else ""),
        f"  {n_bad} of {size} elements differ by more than atol + rtol * {scale} with "
        f"atol={s.atol:g}, rtol={s.rtol:g}"])
    cause = LINEAR_CAUSE
    c, r = p.which.index(j), p.diff.index(i)
    if _scales_with_grad(p, p.outputs(), c, r, np.random.default_rng(s.seed).standard_normal(
            p.outputs()[j]._data.size)) is False:  # (the VJP ignores grad: the plainer cause)
        cause = likely_cause(np.zeros(1), np.zeros(1), np.zeros(1), order=order,
                             in_label=labels.input(i), in_shape=p.in_shape(i), out_shape=None,
                             scales_with_grad=False) or cause
    return GradcheckReport(False, "wrong_vjp", order, head, [detail], cause)


def _largest_input(p: Problem) -> float:
    return max((float(np.max(np.abs(p.base(i)), initial=0.0)) for i in p.diff), default=1.0)


def _kinks_from_rounding(p: Problem, s: Settings, entries: list[Any],
                         f0: list[np.ndarray]) -> str | None:
    """What makes every kink entry rounding: the step under ``ROUNDING_ULPS`` ulps of the
    input element, or the one-sided slopes apart by no more than the output element's rounding
    over the step can make them -- said as the start of a sentence; None where a real kink may
    be among them."""
    said = None
    for e in entries:
        if e.in_index is None or e.left is None or e.right is None or e.jump or e.edge or \
                e.tie is not None or not (np.isfinite(e.left) and np.isfinite(e.right)):
            return None
        xk = abs(float(p.base(e.input)[e.in_index]))
        if _under_ulps(s.eps, xk):
            said = said or (f"the step eps={s.eps:g} is under {ROUNDING_ULPS} ulps of input "
                            f"{e.input}'s element {e.in_index} (= {xk:.6g})")
            continue
        fk = _output_value(p, e, f0)
        if fk is None or not abs(e.right - e.left) <= 4 * float(np.spacing(fk)) / s.eps:
            return None
        said = said or (f"output {e.output} is as large as {fk:.6g} at element {e.out_index}, "
                        f"whose rounding over the step eps={s.eps:g} moves a one-sided "
                        f"difference by up to {2 * float(np.spacing(fk)) / s.eps:.3g}")
    return said


def _rounding_parts_slopes(p: Problem, s: Settings, i: int, k: np.ndarray,
                           f: np.ndarray, n: np.ndarray | None = None) -> np.ndarray:
    """The entries of a block (input ``i``'s elements by the output's, ``k`` the differences of
    their one-sided slopes, ``f`` the output's values) where rounding alone can part the slopes:
    the step under ``ROUNDING_ULPS`` ulps of the input element, or the slopes apart by no more
    than the output element's rounding over the step -- or than the input element's (``n``:
    the block's central differences): a function that subtracts its inputs' mean (x - mean at
    1e7, whose outputs are of order 1) rounds them to the inputs' ulps, which over the step part
    the slopes by ~spacing(sum of x) / eps times the output's slopes. No kink is claimed there
    (x*x at 2e8)."""
    x = np.abs(p.base(i).ravel())
    coarse = _under_ulps(s.eps, x)
    with np.errstate(invalid="ignore", over="ignore"):
        fo = np.abs(np.asarray(f, dtype=np.float64).ravel())
        bound = np.where(np.isfinite(fo), 4 * np.spacing(fo) / s.eps, 0.0)
        if bound.size != k.shape[1]:
            bound = np.zeros(k.shape[1])
        parted = np.abs(k) <= bound[None, :]
        if n is not None and n.shape == k.shape and x.size:
            # (the grain of a sum of all the inputs, x.mean()'s; each output's slopes at the
            # scale of its largest: the rounding is absolute, not a share of the entry)
            top, grain = _sum_grain(x, s.eps)
            grain = 4 * grain
            slopes = np.max(np.where(np.isfinite(n), np.abs(n), 0.0), axis=0)
            if fo.size == slopes.size:  # (only where the outputs cancel the inputs' size)
                slopes = np.where(_cancelling(fo, top, slopes), slopes, 0.0)
            parted |= np.abs(k) <= grain * slopes[None, :]
        return coarse[:, None] | parted


def _coarse_step(p: Problem, s: Settings, e: Any, again: set[tuple[int, int]]) -> bool:
    """Whether the step is under ``ROUNDING_ULPS`` ulps of entry ``e``'s input element (and
    it was not measured again with steps scaled to it: ``again``)."""
    if e.in_index is None:
        return False
    k = int(np.ravel_multi_index(e.in_index, p.in_shape(e.input))) if e.in_index else 0
    return bool(_under_ulps(s.eps, float(p.base(e.input)[e.in_index]))
                and (e.input, k) not in again)


def _unseen_elements(p: Problem, s: Settings, numerical: list[list[np.ndarray]],
                     f0: list[np.ndarray]) -> list[tuple[int, int, float]]:
    """Input elements none of whose Jacobian entries the step can see: every output is so large
    that its rounding over ``eps`` exceeds the entry itself and its tolerance (``x + y`` at
    ``y = 1e11``:
    a change of ``x`` by 1e-6 rounds away, so a VJP that gave ``x`` no gradient matched a
    quotient of 0). ``(input, flat element, largest output)`` each."""
    found = []
    for r, i in enumerate(p.diff):
        rows = None
        for c, f in enumerate(f0):
            if not f.size:  # (no output element: nothing to see, nothing unseen)
                continue
            fa = np.abs(f.ravel())
            with np.errstate(invalid="ignore", over="ignore"):
                n = numerical[r][c]
                blind = np.isfinite(fa) & (2 * np.spacing(fa) / s.eps > np.maximum(
                    np.maximum(np.abs(n), s.tol(n)), HIDDEN_FLOOR))  # (atol=0: not at f = 0)
            rows = blind.all(axis=1) if rows is None else rows & blind.all(axis=1)
        for k in np.flatnonzero(rows if rows is not None else []):
            found.append((i, int(k), float(max(np.max(np.abs(f), initial=0.0) for f in f0))))
    return found


def _rounding_explains_row(analytical: list[list[np.ndarray]], numerical: list[list[np.ndarray]],
                           f0: list[np.ndarray], r: int, k: int, s: Settings) -> bool:
    """Whether every failing entry of input element ``k``'s row is off by no more than its
    output's rounding over the step can make it (four ulps of ``|f|`` over ``eps``)."""
    for c, f in enumerate(f0):
        a, n = analytical[r][c][k], numerical[r][c][k]
        with np.errstate(invalid="ignore", over="ignore"):
            bound = 4 * np.spacing(np.abs(f.ravel())) / s.eps
            if not np.all((np.abs(a - n) <= s.tol(n) + bound) | ~np.isfinite(bound)):
                return False
    return True


def _reached(analytical: list[list[np.ndarray]], f0: list[np.ndarray], r: int, k: int,
             numerical: list[list[np.ndarray]] | None = None) -> float:
    """The largest ``|f|`` among the output elements input element ``k`` (of checked input
    ``r``) reaches by the VJP, or by the first measurement (``numerical``): the rounding a
    central difference along that element meets (``sqrt`` at 1e-30 beside an element 1: its
    own output is 1e-15, not 1; a VJP that wrongly gives an element nothing does not make the
    outputs it moves unreached -- relu in float32 whose VJP gave 0 at 1e-3 passed, measured
    again with steps under those outputs' ulp, which moved them by nothing)."""
    top = 0.0
    for c, f in enumerate(f0):
        hit = analytical[r][c][k] != 0
        if numerical is not None:
            hit = hit | (np.nan_to_num(numerical[r][c][k]) != 0)
        reach = np.abs(f.ravel()[hit])
        reach = reach[np.isfinite(reach)]
        top = max(top, float(np.max(reach, initial=0.0)))
    return top


def _out_of_scale_again(p: Problem, s: Settings, analytical: list[list[np.ndarray]],
                        numerical: list[list[np.ndarray]], jumps: list[list[np.ndarray]],
                        jumped: list[list[np.ndarray]], f0: list[np.ndarray], notes: list[str],
                        labels: Labels) -> set[tuple[int, int]]:
    """Failing input elements out of the step's scale -- larger than 1 (at 1e7 a step of 1e-6
    is 1e-13 of the input, and a sum of such inputs inside the function, 1e8, rounds by 1.5e-8:
    0.7% of a quotient; `x - x.mean()` was called wrong, or a kink), or dwarfed by it (1/x at
    1e-30: the step jumps over the pole) -- are measured again with two steps scaled to them,
    of incommensurate sizes (``eps * |x|`` and 0.137 of that; for the dwarfed, 1e-6 and 1.37e-4
    of |x|). Where the two measure the same for every output, that measurement replaces the
    first one (in place), a note says so, and the VJP is judged by it -- right or wrong. Where
    they differ (``sin(2 pi x)`` at 1e8, whose period a step of 100 steps over whole; ``frac``,
    a sawtooth), the first measurement stands. Returns the elements measured again, (i, k)."""
    moved: dict[int, int] = {}
    again: set[tuple[int, int]] = set()
    for r, i in enumerate(p.diff):
        blocks = range(len(p.which))
        x = np.abs(p.base(i).ravel())
        failing = np.zeros(x.size, dtype=bool)
        for c in blocks:
            a, n = analytical[r][c], numerical[r][c]
            failing |= (~(np.abs(a - n) <= s.tol_at(n, f0[c]))).any(axis=1)
        dwarfed = (x > 0) & (x < DWARFED * s.eps)  # (the step is over a tenth of the element)
        for k in np.flatnonzero(failing & ((x > 1) | dwarfed) & np.isfinite(x)):
            size = float(x[k])
            if size > 1 and not _rounding_explains_row(analytical, numerical, f0, r, k, s):
                continue  # (eps measured well enough there: a larger step would only blur
                # it -- a bump at 1e8 narrower than a step of 100, a wiggle a step of 1 steps
                # over whole -- and could overturn a right verdict)
            entry = max(float(np.max(np.abs(analytical[r][c][k]), initial=0.0)) for c in blocks)
            fmax = _reached(analytical, f0, r, k, numerical)
            # (in low precision a millionth of the element is under its ulp: a* b in float32
            # at 6e-3, whose one-sided slopes there parted by 15%, was "not differentiable" --
            # there the steps are a few hundred of its ulps, and the outputs' rounding theirs)
            fe = s.noise * s.eps / NOISE_ULPS if s.noise else 0.0
            first = s.eps * size if size > 1 else max(1e-6, ROUNDING_ULPS * fe) * size
            steps = (first, SECOND_STEP * first)
            grain = fe * fmax if s.noise else float(np.spacing(fmax))
            if not steps[1] > 0 or (size <= 1 and not grain / steps[1] < 0.1 * max(entry, s.atol)):
                continue  # (the outputs' rounding over these steps swamps the entry)
            try:
                (c1, k1), (c2, _) = (numerical_rows(p, i, np.array([k]), h, f0) for h in steps)
            except Exception:  # (a point the function refuses: the first measurement stands)
                continue
            if not all(np.all(np.isfinite(c1[c][0])) and np.all(
                    np.abs(c1[c][0] - c2[c][0]) <= s.tol(c1[c][0])) for c in blocks):
                continue
            if size > 1 and not all(np.all(np.abs(analytical[r][c][k] - c1[c][0]) <= s.tol(
                    c1[c][0])) for c in blocks):
                # (a step wider than eps may only confirm the VJP where eps's failure is within
                # its rounding: a wiggle narrower than it, averaged away, would call a right
                # VJP wrong)
                continue
            for c in blocks:
                numerical[r][c][k], jumps[r][c][k] = c1[c][0], k1[c][0]
                jumped[r][c][k] = False
            moved[i] = moved.get(i, 0) + 1
            again.add((i, int(k)))
    if moved:
        which = ", ".join(f"{n} element{'s' if n > 1 else ''} of {labels.input(i)}"
                          for i, n in moved.items())
        notes.append(f"Measured again with two steps scaled to the input ({s.eps:g} and "
                     f"{s.eps * SECOND_STEP:g} times |x| for elements larger than 1, a millionth "
                     f"and {1e-6 * SECOND_STEP:g} of |x| for those the step dwarfs), which agree: "
                     f"{which}, where eps={s.eps:g} is out of the input's scale (rounding of "
                     "large values inside the function, or a step across a pole).")
    return again


def _output_value(p: Problem, e: Any, f0: list[np.ndarray]) -> float | None:
    """``|f|`` at entry ``e``'s output element; None where it is not known or not finite."""
    if e.output not in p.which or e.out_index is None:
        return None
    f = f0[p.which.index(e.output)].ravel()
    k = int(np.ravel_multi_index(e.out_index, tuple(p.outputs()[e.output].shape))) \
        if e.out_index else 0
    fk = abs(float(f[k])) if k < f.size else 0.0
    return fk if np.isfinite(fk) else None


def _output_rounding_explains(p: Problem, s: Settings, wrong: list[Any],
                              f0: list[np.ndarray]) -> float | None:
    """The largest output value among the failing entries, where each entry's error is within
    what rounding that output element can do to a central difference (two ulps of it over the
    step); None where one is off by more (a wrong VJP, or something else to say)."""
    worst = 0.0
    for _, e, _, _, _ in wrong:
        fk = _output_value(p, e, f0)
        if fk is None:
            return None
        bound = 2 * float(np.spacing(fk)) / s.eps
        if abs(e.analytical - e.numerical) > float(s.tol(e.numerical)) + bound or \
                bound <= float(s.tol(e.numerical)):
            return None
        worst = max(worst, fk)
    return worst


def _sum_grain(x: np.ndarray, eps: float) -> tuple[float, float]:
    """The largest finite ``|x|``, and the rounding grain of the inputs' sum (what x.mean()
    rounds to) over the step ``eps``: ``spacing(max |x| * size) / eps``."""
    a = np.abs(np.asarray(x, dtype=np.float64).ravel())
    top = float(np.max(a, where=np.isfinite(a), initial=0.0))
    return top, float(np.spacing(top * a.size)) / eps


def _cancelling(f: Any, top: float, slope: Any) -> Any:
    """Where outputs of size ``f`` are far smaller than the inputs' size ``top`` times their
    slopes could make them: the function subtracts large inputs (x - x.mean()), and the rounding
    of those intermediates -- at the grain of the inputs' sum -- is what its differences see
    (an elementwise x**2 at 1e8 keeps its size: not so)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return np.abs(f) < CANCELLED * top * np.abs(slope)


CANCELLED = 1e-3  # _cancelling: outputs under this share of input size times slope


def _input_rounding_explains(p: Problem, s: Settings, wrong: list[Any],
                             numerical: list[list[np.ndarray]], f0: list[np.ndarray]
                             ) -> tuple[float, float, float] | None:
    """Whether rounding at the grain of the inputs' sum explains every failing entry: its error
    within ``4 spacing(max |x| * size) / eps`` times its output element's largest slope (what a
    function that subtracts the inputs' mean rounds to). The largest input, the sum's size and
    the biggest such bound; None where an entry is off by more, or the bound is under the
    tolerance (inputs of order 1: nothing to explain)."""
    found = (0.0, 0.0, 0.0)
    for _, e, r, c, _ in wrong:
        if e.out_index is None:
            return None
        x = p.base(e.input).ravel()
        top, grain = _sum_grain(x, s.eps)
        col = numerical[r][c][:, int(np.ravel_multi_index(e.out_index, p.outputs()[
            p.which[c]].shape)) if e.out_index else 0]
        slope = float(np.max(np.abs(col), where=np.isfinite(col), initial=0.0))
        fk = _output_value(p, e, f0)
        if fk is None or not _cancelling(fk, top, slope):
            return None
        bound = 4 * grain * slope
        tol = float(s.tol(e.numerical))
        if bound <= tol or abs(e.analytical - e.numerical) > tol + bound:
            return None
        if bound > found[2]:
            found = (top, top * x.size, bound)
    return found


def _under_input_grain(p: Problem, s: Settings, wrong: list[Any]
                       ) -> tuple[float, float, float] | None:
    """Where every failing entry differs by less than the rounding of its input's largest value
    over the step (``4 spacing(max |x|) / eps``, float64's -- below the tolerance asked, which
    then is atol=0 or near it): the largest difference, that value and the grain; else None."""
    worst, found = 0.0, (0.0, 0.0)
    for _, e, _, _, _ in wrong:
        top, _ = _sum_grain(p.base(e.input), s.eps)
        grain = 4 * float(np.spacing(top)) / s.eps
        diff = abs(e.analytical - e.numerical)
        if not (diff <= grain and grain > s.atol):
            return None
        worst = max(worst, diff)
        found = max(found, (grain, top))
    return (worst, found[1], found[0]) if wrong else None


def _cannot_judge(order: int, why: str) -> GradcheckReport:
    """A failed check where rounding, not the VJP, decides the difference quotient."""
    return GradcheckReport(False, "step_too_small", order,
                           ("second derivative: " if order == 2 else "")
                           + "cannot judge at this point: " + why)


def _confirm_with_bigger_steps(p: Problem, s: Settings, r: int, i: int,
                               analytical: list[list[np.ndarray]], hids: list[np.ndarray],
                               f0: list[np.ndarray]) -> list[tuple[float, Entry, int, int]]:
    """Clear (in place) the entries of ``hids`` that bigger steps (:func:`_remeasure_steps`)
    find right to 1%: where eps's rounding swamped a tiny derivative made of big intermediates
    (cross-entropy at a confident logit: a loss of 1e-9 from logits of 20), a bigger step
    measures it. Returns the entries that both steps measure alike and the VJP is off from by
    more than the tolerance asked (``atol``/``rtol`` as given): a pass there rested on the
    rounding allowed or on tolerances widened for float32, and the VJP is wrong (``x * 3e-4``
    in float32 with a VJP of ``6e-4`` passed under an atol widened to 7e-4, even with atol=0).
    A VJP wrong at a scale too small for any step and inside the asked atol (x² at 1e-7 with a
    VJP of 4x: the central difference is exact there) stays, for the warning."""
    elements = np.flatnonzero(np.any([h.any(axis=1) for h in hids], axis=0))
    if not elements.size:
        return []
    measured = []
    kinks = [np.zeros((elements.size, f.size), dtype=bool) for f in f0]
    for step in _remeasure_steps(p, s, i):
        rows, kinked = _extrapolated_rows(p, s, i, elements, step, f0)
        kinks = [k | kk for k, kk in zip(kinks, kinked)]
        noise = [_step_rounding(s, step, f0[c])[None, :] for c in range(len(hids))]
        measured.append((rows, noise))
        for c, h in enumerate(hids):
            h[elements] &= ~_agree(analytical[r][c][elements], rows[c], noise[c])
    atol, rtol = (s.asked or (s.eps, s.atol, s.rtol))[1:]
    refuted = []
    (m1, n1), (m2, n2) = measured
    for c, h in enumerate(hids):
        a = analytical[r][c][elements]
        with np.errstate(invalid="ignore"):  # (alike to the check's own tolerance, no kink)
            spread = np.abs(m1[c] - m2[c])
            stable = (spread <= s.tol(m1[c]) + n1[c] + n2[c]) & ~kinks[c].any(
                axis=1, keepdims=True)
            # (and off by far more than the two measurements differ: rounding the noise
            # estimate misses -- a cancellation, (x - x.mean()).sum() in float32 -- moves
            # them apart as the step changes)
            beyond = (np.abs(a - m1[c]) > atol + rtol * np.abs(m1[c]) + n1[c]) & (
                np.abs(a - m1[c]) > SPREAD_RATIO * spread)
        for e_in, e_out in zip(*np.nonzero(h[elements] & stable & beyond)):
            j = p.which[c]
            entry = Entry(i, j, unravel(int(elements[e_in]), p.in_shape(i)),
                          unravel(int(e_out), tuple(p.outputs()[j].shape)),
                          float(a[e_in, e_out]), float(m1[c][e_in, e_out]))
            refuted.append((entry.abs_error, entry, r, c))
    return refuted


def _refuted_report(p: Problem, s: Settings, labels: Labels, order: int,
                    refuted: list[tuple[float, Entry, int, int]],
                    steps: str | None = None, unmeasured: int = 0) -> GradcheckReport:
    """The failure of entries :func:`_confirm_with_bigger_steps` (or, with ``steps`` saying
    which, :func:`_refine_low_precision`) found wrong; ``unmeasured``: failing elements not
    measured again once enough were refuted."""
    refuted.sort(key=lambda w: -w[0])
    _, top, r, c = refuted[0]
    i, j = top.input, top.output
    atol, rtol = (s.asked or (s.eps, s.atol, s.rtol))[1:]
    from_refine = steps is not None
    steps = steps or ", ".join(f"{h:g}" for h in _remeasure_steps(p, s, i))
    head = (f"Jacobian mismatch for {labels.output(j)} with respect to {labels.input(i)} (shape "
            f"{p.in_shape(i)}), at input element {top.in_index} and output element "
            f"{top.out_index}:")
    if order == 2:
        head = "second derivative: " + head
    head = "\n".join([
        head, f"  analytical: {top.analytical + 0.0:.10g}",
        f"  numerical:  {top.numerical + 0.0:.10g}",
        f"  absolute error {top.abs_error:.3g}, relative error {top.rel_error:.3g}",
        f"  {len(refuted)} entr{'y' if len(refuted) == 1 else 'ies'} fail; {rule(atol, rtol)} "
        f"(central differences with steps {steps}, each extrapolated from it and its double, "
        "alike to each other)"
        + (f"; {unmeasured} more failing input element(s) were not measured again (the "
           f"{REFINE_SAMPLE} worst were, and none of them agreed with the VJP)" if unmeasured
           else "")])
    why = ("the function computes in float32, and the tolerances widened for that rounding "
           f"(atol={s.atol:.3g}) passed it at eps={s.eps:g}" if s.low_precision else
           f"the rounding allowed for outputs as large as these passed it at eps={s.eps:g}")
    details = [f"At eps={s.eps:g} this entry passed: {why}. Measured again with bigger steps, "
               "where that rounding is smaller and the extrapolation cancels the truncation, it "
               "is off by more than the tolerance asked." if not from_refine else
               f"At eps={s.eps:g} (widened for float32) this entry could not be judged: a kink "
               "near, the curvature, or float32's rounding over the step. Measured again with "
               "smaller and bigger steps, two that resolve it agree with each other, with no "
               "kink between them, and are off from the VJP by more than the tolerance asked."]
    entries = [e for _, e, _, _ in refuted[:WORST]]
    if len(refuted) > 1:
        details += ["The worst entries:"] + entry_table(entries, labels.input, labels.output)
    # (a cause read from the entries measured: a constant factor shows as the same ratio)
    block = [e for _, e, rr, cc in refuted if (rr, cc) == (r, c)]
    ea = np.array([e.analytical for e in block])
    en = np.array([e.numerical for e in block])
    cause = likely_cause(ea, en, atol + rtol * np.abs(en), order=order,
                         in_label=labels.input(i), incoming=labels.incoming(i),
                         in_shape=(len(block),), out_shape=None, scales_with_grad=None)
    return GradcheckReport(False, "wrong_vjp", order, head, details, cause, entries)


def _remeasure_steps(p: Problem, s: Settings, i: int) -> list[float]:
    """The steps :func:`_confirm_with_bigger_steps` measures with: ``BIG_STEPS`` times the
    input's size in float64; in low precision ``LOW_STEPS`` times the widened eps (float32's
    rounding over 1e-4 would swamp what it measures)."""
    if s.low_precision:
        return [k * s.eps for k in LOW_STEPS]
    return _big_steps(p, i)


def _step_rounding(s: Settings, step: float, f: Any) -> Any:
    """The rounding of an extrapolated central difference with ``step`` of outputs ``f``: each
    value off by a few of its dtype's eps (``s.noise`` was set for the widened eps), the
    extrapolation's weights (4/3 and 1/3) adding up to about twice that."""
    unit = s.noise * s.eps if s.low_precision else HIDDEN_ULPS * float(np.finfo(np.float64).eps)
    return 2 * unit * np.abs(np.asarray(f, dtype=np.float64)).ravel() / step


def _extrapolated_rows(p: Problem, s: Settings, i: int, elements: Any, step: float,
                       f0: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Central differences with ``step`` and ``2 step``, extrapolated (Richardson's
    ``(4 D(h) - D(2h)) / 3``): their truncation, h² times a sixth of the third derivative,
    cancels -- a bigger step then costs no accuracy (x³ at 0: 0, where a step's own quotient
    is h²). And, from the same evaluations, where the one-sided slopes part by more than
    curvature does (their gap extrapolated, ``2 gap(h) - gap(2h)``, where a smooth function's
    ``f'' h`` cancels): a kink within the steps, across which a measurement is the mean of two
    slopes -- no ground to call a VJP right or wrong (clamp 2e-5 from its bound in float32: 0.5
    at every big step, its right VJP 1 was called wrong)."""
    one, jump_one = numerical_rows(p, i, elements, step, f0)
    two, jump_two = numerical_rows(p, i, elements, 2 * step, f0)
    rows = [(4 * a - b) / 3 for a, b in zip(one, two)]
    kinks = [s.kinked(2 * a - b, c + a / 2, c - a / 2) for a, b, c in zip(jump_one, jump_two, one)]
    return rows, kinks


def _projection_remeasured(p: Problem, s: Settings, i: int, u: np.ndarray,
                           vs: list[np.ndarray], c: int, a: float, f0: list[np.ndarray],
                           fv: float, in_round: float = 0.0) -> tuple[str | None, float]:
    """The projection's verdict by bigger steps (see :func:`_confirm_with_bigger_steps`):
    ``"right"``, ``"wrong"`` (both steps alike, ``a`` off beyond the asked tolerance) or None,
    with the first step's value. ``fv``: the size of ``v . f``, whose rounding is allowed;
    ``in_round``: the inputs' own rounding at eps (:func:`_input_rounding`)."""
    found, kinked = [], False
    for step in _remeasure_steps(p, s, i):
        one, r1, l1 = (float(t[c]) for t in directional(p, i, u, vs, step, f0))
        two, r2, l2 = (float(t[c]) for t in directional(p, i, u, vs, 2 * step, f0))
        value = (4 * one - two) / 3
        noise = float(_step_rounding(s, step, fv)[0]) + in_round * s.eps / step
        kinked |= bool(s.kinked(2 * (r1 - l1) - (r2 - l2), r1, l1))  # (curvature cancels)
        if bool(_agree(a, value, noise)):
            return "right", value
        found.append((value, noise))
    (m1, n1), (m2, n2) = found
    atol, rtol = (s.asked or (s.eps, s.atol, s.rtol))[1:]
    if not kinked and abs(m1 - m2) <= float(s.tol(m1)) + n1 + n2 and \
            abs(a - m1) > atol + rtol * abs(m1) + n1 and abs(a - m1) > SPREAD_RATIO * abs(m1 - m2):
        return "wrong", m1
    return None, m1


COARSE_PROJECTION = (8.0, 32.0, 128.0, 512.0, 2048.0, 8192.0, 32768.0)  # _projection_coarse: steps, times eps


def _input_rounding(p: Problem, s: Settings, i: int, g: np.ndarray) -> float:
    """In low precision, the rounding of a projection's slope at eps that comes from input
    ``i``'s own rounding to the low dtype (through ``g``, the VJP of the projection): each
    element's rounding, uniform over an ulp of at most ``fe |x|``, has a spread of 0.29 of it,
    the two evaluations' difference over ``2 eps``, extrapolated, about 0.25 of the walk over
    eps; with room for ``PROJECTION_SPREAD`` of it. 0 in float64."""
    if not s.noise:
        return 0.0
    fe = s.noise * s.eps / NOISE_ULPS
    with np.errstate(all="ignore"):
        walk = float(np.sqrt(dot(np.square(g), np.square(fe * np.abs(p.base(i).ravel())))))
    return PROJECTION_SPREAD * 0.25 * walk / s.eps if math.isfinite(walk) else math.inf


def _projection_coarse(p: Problem, s: Settings, i: int, u: np.ndarray, vs: list[np.ndarray],
                       c: int, a: float, f0: list[np.ndarray], fv: float, g: np.ndarray,
                       tol: float, always: bool = False) -> tuple[str | None, Any, list[float]]:
    """In low precision, a projection whose rounding decides it at eps, measured again with
    bigger steps (extrapolated). Two roundings: the inputs' own -- a function that casts its input
    to float32 moves each element by whole ulps, and a unit direction over n elements moves each
    by eps / sqrt(n), two ulps at 1e3 over 2000 elements (x - x.mean() failed as "not
    differentiable"); through the VJP ``g`` it adds as a random walk, and only where it is over
    a tenth of ``tol`` does this measure again -- and the outputs' (``fv``), where the projection
    passed only by its allowance (``always``: x * x at 1e3 with a VJP half off passed by it).
    ``("right", value, steps)`` where two successive steps agree with each other and with ``a``,
    ``("wrong", value, steps)`` where they agree with each other and not with ``a`` (by more than
    the tolerance asked, and than ten times the spread of every step that resolved the slope),
    ``("cannot", why, [])`` where no two steps gave one slope, ``(None, None, [])`` where the
    inputs' rounding is no reason to measure again."""
    x = p.base(i).ravel()
    in_round = _input_rounding(p, s, i, g)
    if not math.isfinite(in_round) or not (always or in_round > 0.1 * tol):
        return None, None, []
    atol, rtol = (s.asked or (s.eps, s.atol, s.rtol))[1:]
    last: tuple[float, float, float] | None = None  # (value, noise, step)
    seen: list[float] = []  # every step's value that resolved the slope
    run: list[tuple[float, float]] = []  # successive steps' (value, step), whatever their noise
    for big in COARSE_PROJECTION:
        step = big * s.eps
        try:
            one = float(directional(p, i, u, vs, step, f0)[0][c])
            two = float(directional(p, i, u, vs, 2 * step, f0)[0][c])
        except Exception:  # (a point the function refuses)
            last, run = None, []
            continue
        value = (4 * one - two) / 3
        noise = (in_round + s.noise * fv) * s.eps / step
        if not math.isfinite(value):
            last, run = None, []
            continue
        run.append((value, step))
        if len(run) >= 3:
            # the rounding allowed is a bound, far above what a random walk of roundings over
            # many outputs moves (a * b at 9e3 over 576 elements: 35 allowed at 40 eps, values
            # within 1 of each other): three successive steps, four times apart, whose values
            # stay within a percent of each other measure the slope by themselves, their
            # spread the rounding left (a coincidence of three needs a spread ten times under
            # it, and a VJP off by ten times the spread to be called wrong)
            three = [v for v, _ in run[-3:]]
            spread = max(three) - min(three)
            if spread <= atol + RESOLVE * abs(value):
                if abs(a - value) <= atol + rtol * abs(value) + spread:
                    return _right_or_atol(a, value, rtol, spread), value, [h for _, h in run[-3:]]
                if abs(a - value) > atol + rtol * abs(value) + spread and \
                        abs(a - value) > SPREAD_RATIO * spread:
                    return "wrong", value, [h for _, h in run[-3:]]
        if not noise <= atol + RESOLVE * abs(value):
            last = None
            continue
        seen.append(value)
        # (to the tolerance asked: the widened one was for the rounding over eps -- a mean of
        # squares with a VJP twice too big, a projection of 8e-5 against 4e-5, was "right"
        # under the widened atol of 7e-4)
        if last is not None and abs(value - last[0]) <= atol + rtol * abs(value) + noise + last[1]:
            if abs(a - value) <= atol + rtol * abs(value) + noise:
                return _right_or_atol(a, value, rtol, noise), value, [last[2], step]
            # (wrong only off from every step that resolved, by ten times their spread: the
            # rounding of a sum inside, the mean of 2000 values of 1e3, is common to every
            # output and moves a positive projection by 2% from step to step)
            if len(seen) >= 3 and abs(a - value) > atol + rtol * abs(value) + noise and \
                    abs(a - value) > SPREAD_RATIO * (max(seen) - min(seen)):
                return "wrong", value, [last[2], step]
        last = (value, noise, step)
    return "cannot", (
        f"the function computes in float32, whose rounding over a step of eps={s.eps:g} along "
        f"a random direction over {x.size} elements swamps the projection's slope, and bigger "
        f"steps (up to {COARSE_PROJECTION[-1]:g} eps) measured no one slope either. Check at "
        "inputs of order 1, with fewer elements, or compute the function in float64"), []


def _right_or_atol(a: float, value: float, rtol: float, noise: float) -> str:
    """``"right"``, or ``"atol"`` where ``a`` agrees with ``value`` only by atol: apart by more
    than ``rtol`` and ``noise``, and by more than ``HIDDEN_SHARE`` of the larger (a mean of
    x * y over 5000 elements with a VJP half off: projections of 7e-6 and 1.4e-5)."""
    d = abs(a - value)
    hid = d > rtol * abs(value) + noise and d > HIDDEN_SHARE * max(abs(a), abs(value))
    return "atol" if hid else "right"


def _big_steps(p: Problem, i: int) -> list[float]:
    """``BIG_STEPS`` times the size of input ``i`` (at least 1)."""
    size = max(1.0, float(np.max(np.abs(p.base(i)), initial=0.0)))
    return [big * size for big in BIG_STEPS]


def _agree(a: Any, n: Any, noise: Any = 0.0) -> Any:
    """Whether VJP entries ``a`` and central differences ``n`` agree to 1% (beyond ``noise``,
    the rounding of ``n``)."""
    with np.errstate(invalid="ignore"):
        return np.abs(a - n) <= 0.01 * np.maximum(np.abs(a), np.abs(n)) + noise


TINY_STEP_RATIO = 0.1  # _tiny_elements: a step over this share of an input element is not small
DWARFED = 10.0  # _out_of_scale_again: elements under this many steps are measured again
SECOND_STEP = 0.1371828  # _out_of_scale_again: the second step, a share of the first no period fits


def _tiny_elements(p: Problem, s: Settings, i: int) -> np.ndarray:
    """Input ``i``'s elements out of the step's scale: those it dwarfs (``0 < |x| < eps /
    TINY_STEP_RATIO``: x² at 1e-30, whose central difference with eps=1e-6 is 0), and those
    it is under ``ROUNDING_ULPS`` ulps of (sqrt at 1e8: a quotient of rounding). Their entries
    get no rounding allowance in :func:`_hidden_by_atol`, and steps scaled to them judge those
    entries (a VJP 20% off at 1e8 passed silently)."""
    x = np.abs(p.base(i).ravel())
    return ((x > 0) & (x < s.eps / TINY_STEP_RATIO)) | (
        np.isfinite(x) & _under_ulps(s.eps, x))


def _confirm_with_scaled_steps(p: Problem, r: int, i: int, analytical: list[list[np.ndarray]],
                               hids: list[np.ndarray], f0: list[np.ndarray],
                               tiny: np.ndarray) -> None:
    """Clear (in place) the entries of ``hids`` at input elements out of the step's scale that
    central differences with steps of 1e-6 (then 1e-3) of the element's own size find right to
    1%: a right VJP at 1e-30 or 1e8 passes quietly, a doubled one stays (and is said)."""
    for k in np.flatnonzero(tiny & np.any([h.any(axis=1) for h in hids], axis=0)):
        size = abs(float(p.base(i).ravel()[k]))
        fmax = _reached(analytical, f0, r, k)
        entry = max(float(np.max(np.abs(analytical[r][c][k]), initial=0.0))
                    for c in range(len(hids)))
        judged = False
        for ratio in (1e-6, 1e-3):
            if not np.spacing(fmax) / (ratio * size) < 0.1 * entry:
                continue  # (the outputs' rounding over this step swamps the entry)
            judged = True
            rows, _ = numerical_rows(p, i, np.array([k]), ratio * size, f0)
            for c, h in enumerate(hids):
                h[k] &= ~_agree(analytical[r][c][k], rows[c][0])
            if not any(h[k].any() for h in hids):
                break
        if not judged:  # no step can see it (sinc's slope at 1e-30 beside its value 1)
            for h in hids:
                h[k] = False


def _hidden_by_atol(a: Any, n: Any, s: Settings, f: Any, tiny: Any = None) -> Any:
    """Where ``a`` and ``n`` pass only thanks to ``atol``: apart by more than ``rtol`` of ``n``,
    ``HIDDEN_SHARE`` of the larger, and the rounding of a central difference of ``f`` -- entries
    too small for the check to judge (``tiny``: the rows of input elements the step dwarfs,
    judged without the floor of ``HIDDEN_FLOOR``)."""
    a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
    fmax = float(np.max(np.abs(f))) if np.size(f) else 0.0
    noise = HIDDEN_ULPS * float(np.finfo(np.float64).eps) * fmax / s.eps
    # (and rounding at the scale of the block's biggest entries: 6e-15 beside entries of 4 is
    # a difference of rounding, not a VJP too small to judge)
    big = float(np.max(np.abs(np.where(np.isfinite(a), a, 0)), initial=0.0))
    noise = noise + BLOCK_ROUNDING * max(big, float(np.max(np.abs(np.where(
        np.isfinite(n), n, 0)), initial=0.0)))
    if s.low_precision:  # float32's, per output (columns); a projection's: of v . f (``f``)
        noise = noise + s.noise * (np.abs(np.asarray(f, dtype=np.float64)).ravel()[None, :]
                                   if a.ndim == 2 else fmax)
    d = np.abs(a - n)
    # (det of a rank-1 matrix: zeros, or 1e-17, beside 3e-14 of rounding; where both sides
    # are of one sign and within a factor of ten there is no such floor -- x² at 1e-13 with a
    # doubled VJP, 4e-13 against 2e-13, was a silent pass)
    with np.errstate(invalid="ignore"):
        alike = (np.sign(a) * np.sign(n) > 0) & (np.minimum(np.abs(a), np.abs(n)) >= 0.1 *
                                                   np.maximum(np.abs(a), np.abs(n)))
    noise = noise + np.where(alike, 0.0, HIDDEN_FLOOR)
    if tiny is not None and a.ndim == 2:  # (out of the step's scale: scaled steps judge them)
        noise = np.where(tiny[:, None], 0.0, noise)
    with np.errstate(invalid="ignore"):
        # (whatever atol is: with atol=0 a pass may still rest on the rounding allowed)
        return np.isfinite(d) & (d > s.rtol * np.abs(n) + noise) & \
            (d > HIDDEN_SHARE * np.maximum(np.abs(a), np.abs(n)))


HIDDEN_SHARE = 0.05  # _hidden_by_atol: a share of an entry (a VJP 10% off is 1/11 of the larger)


WORST_SCAN = 8  # entries kept per block while looking for the worst


def _scales_with_grad(p: Problem, outs: tuple[Tensor, ...], c: int, r: int,
                      v: np.ndarray) -> bool | None:
    """Whether the VJP is linear in its grad_output: VJP(0) = 0 and VJP(2v) = 2 VJP(v)."""
    try:
        g1 = p.vjps(outs, c, v)[r]
        g2 = p.vjps(outs, c, 2 * v)[r]
        g0 = p.vjps(outs, c, 0 * v)[r]
    except Exception:  # a VJP that fails on these gradients tells us nothing here
        return None
    scale = 1e-10 * (1 + np.abs(g1).max(initial=0))
    return bool(np.abs(g0).max(initial=0) <= scale and np.abs(g2 - 2 * g1).max(initial=0) <= 2 * scale)


def _reentrant(p: Problem, s: Settings, labels: Labels, order: int,
               rng: np.random.Generator) -> GradcheckReport | None:
    """The function itself must be deterministic (:func:`_deterministic`), and backward passes
    with one random grad_output must agree: two on one graph to ``nondet_tol``, one on another
    graph to the rounding of sums in other orders too -- a VJP may not depend on hidden state,
    counters or randomness."""
    outs = p.outputs()
    failed, fresh = _deterministic(p, s, labels, order, p.func)
    if failed is not None:
        return failed
    for c, j in enumerate(p.which):
        v = rng.standard_normal(outs[j]._data.size)
        passes = zip(p.vjps(outs, c, v), p.vjps(outs, c, v), p.vjps(fresh, c, v))
        for r, (g1, again, other) in enumerate(passes):
            # one graph twice: to nondet_tol (PyTorch's check); two graphs: to what their sums,
            # rounded in other orders, may differ by (see _forward_wobble)
            for d, allowed in ((_difference(g1, again), s.nondet_tol),
                               (_difference(g1, other), _forward_wobble(s, g1))):
                if d.size and not (d <= allowed).all():
                    return _not_reentrant(labels, p.diff[r], j, float(np.nanmax(d)), s, order)
    return None


def _deterministic(p: Problem, s: Settings, labels: Labels, order: int,
                   func: Callable[..., Any]) -> tuple[GradcheckReport | None, tuple[Tensor, ...]]:
    """One more call of the function (``func``: it, or its graph-free twin) at the check point:
    it must leave the checked inputs as they were and give the values of the first call (to
    ``nondet_tol``) -- randomness (dropout, noise) or changed state would otherwise read as a
    kink or a wrong VJP. Two more calls, each compared with the first: state that alternates
    between calls (a flag flipped on each) gives the first call's values again on every second
    call. A failed report (or None) and the first of those calls' outputs."""
    before = [p.base(i) for i in p.diff]
    fresh = outputs_of(func, p.inputs)
    again = outputs_of(func, p.inputs)
    prefix = "second derivative: " if order == 2 else ""
    for i, b in zip(p.diff, before):
        d = _difference(b.ravel(), p.base(i).ravel())
        if d.size and (d > 0).any():
            head = (f"the function changes {labels.input(i)} in place: its values differ after "
                    f"a call (largest change {float(np.nanmax(d)):.3g}), so every call sees "
                    "another point -- not a wrong VJP. Look for `x.data *= ...`, an in-place op "
                    "on `x.data` or `x.detach()`, or numpy writing into `x.numpy()`; compute on "
                    "a copy (`x * 2`, `x.clone()`) instead")
            return GradcheckReport(False, "not_deterministic", order, prefix + head), fresh
    values = list(zip(p.which, p.values()))
    for later, (j, f) in ((later, jf) for later in (fresh, again) for jf in values):
        d = _difference(f, to_numpy(later[j]._data).astype(np.float64).ravel())
        allowed = _forward_wobble(s, f)
        if d.size and not (d <= allowed).all():
            k = int(np.nanargmax(np.where(np.isnan(d), np.inf, d - allowed)))
            head = (f"the function is not deterministic: two calls at the same point gave "
                    f"different values of {labels.output(j)} (at element {k}: difference "
                    f"{float(d[k]):.3g}, allowed {float(allowed[k]):.3g}: nondet_tol="
                    f"{s.nondet_tol:g}, which covers these two calls too, plus what cannot move "
                    "a difference quotient) -- randomness "
                    "(dropout, a random draw) or state that changes between calls, not a wrong "
                    "VJP; check a deterministic version (a fixed seed inside it, eval mode)")
            return GradcheckReport(False, "not_deterministic", order, prefix + head), fresh
        # within nondet_tol, but more than a quotient may move by: no difference quotient can
        # judge the VJP (a noise of 1e-7 over eps = 1e-6 is 0.1 in every quotient: read as a
        # wrong VJP and as kinks)
        quiet = allowed - s.nondet_tol
        if d.size and (d > quiet).any():
            k = int(np.nanargmax(d - quiet))
            if s.atol > 0:
                need = float(d[k]) / (NONDET_SHARE * s.atol)
                way = f"Pass a larger step (eps={need:.2g} or more)"
            else:  # (no step makes a wobble vanish beside atol=0)
                way = ("Pass atol > 0 (then a step of ten times the difference over atol "
                       "will do)")
            return _cannot_judge(order, (
                f"two calls at the same point gave values of {labels.output(j)} that differ by "
                f"{float(d[k]):.3g} (at element {k}: within nondet_tol={s.nondet_tol:g}, so the "
                f"function counts as deterministic), but over the step eps={s.eps:g} such a "
                f"difference moves a difference quotient by up to {float(d[k]) / s.eps:.3g}, "
                f"more than the tolerance atol={s.atol:g} can tell from a wrong VJP. {way} "
                "or check a deterministic version (a fixed seed inside it, eval mode).")), fresh
    return None, fresh


NONDET_SHARE = 0.1  # _forward_wobble: a share of atol that a forward wobble may move a quotient


def _forward_wobble(s: Settings, f: np.ndarray) -> np.ndarray:
    """How much two calls of the function at one point may differ and still count as the same
    (a sum in another order, a threaded reduction: a few ulps). A difference ``d`` of the values
    moves a central difference quotient ``(f(x+eps) - f(x-eps)) / 2 eps`` by at most
    ``d / eps``: under ``NONDET_SHARE * atol * eps`` it moves no quotient by more than a tenth
    of the tolerance ``atol`` (1e-12 at the defaults; dropout or noise differ by ~0.1) -- nor by
    more than the quotient's own rounding, a few eps of ``|f|`` (``F64_ROUNDING``, or the
    function's own precision when it computes in float32), which the comparison allows anyway.
    Plus ``nondet_tol``. Per element, by its own ``|f|`` (a big element elsewhere must not
    hide noise on a small one); the same allowance holds two backward passes on two graphs."""
    per_unit = s.noise * s.eps if s.noise else F64_ROUNDING
    with np.errstate(invalid="ignore"):
        own = np.where(np.isfinite(f), np.abs(f), 0.0)
    return s.nondet_tol + NONDET_SHARE * s.atol * s.eps + per_unit * own


def _difference(g1: np.ndarray, g2: np.ndarray) -> np.ndarray:
    """``|g1 - g2|`` with 0 where the two agree (inf == inf; NaN where NaN): two passes that
    both give an infinite gradient do not differ."""
    same = (g1 == g2) | (np.isnan(g1) & np.isnan(g2))
    with np.errstate(invalid="ignore"):
        return np.where(same, 0.0, np.abs(g1 - g2))


def _not_reentrant(labels: Labels, i: int, j: int, worst: float, s: Settings,
                   order: int) -> GradcheckReport:
    head = (f"backward is not reentrant: two backward passes for {labels.output(j)} with respect to "
            f"{labels.input(i)} gave different gradients (largest difference {worst:.3g}, "
            f"nondet_tol={s.nondet_tol:g}); a VJP must give the same result every time (no "
            "hidden state, counters or randomness)")
    return GradcheckReport(False, "not_reentrant", order,
                           ("second derivative: " if order == 2 else "") + head)


TIE_COLUMNS = 16  # output elements whose failing entries :func:`_ties` looks at (the worst)


def _ties(p: Problem, r: int, i: int, c: int, a: np.ndarray, n: np.ndarray, bad: np.ndarray,
          s: Settings, f: np.ndarray) -> dict[int, float]:
    """Output elements (columns of the block) whose failing entries are tied inputs: where the
    slope of moving some inputs together is not the sum of their own slopes -- a median or max of
    equal values, whose every element alone moves the output by 0 (both one-sided slopes agree,
    so no kink shows) while all together move it by 1. The function is not differentiable there;
    the VJP's entries are excused when they add up to the joint slope (one way to share it).
    Tried along the failing inputs together, then along all of the input's elements. Where
    rounding could part the joint slope from the sum (the step under ``ROUNDING_ULPS`` ulps of
    an input moved, or the output element's rounding over the step, once per quotient added up),
    no tie is claimed: a sum of values of 1e8 is not a median (``f``: the output's values)."""
    found: dict[int, float] = {}
    cols = np.flatnonzero(bad.any(axis=0))
    if not cols.size:
        return found
    worst = np.argsort(-np.where(bad, np.abs(a - n), -np.inf).max(axis=0)[cols])[:TIE_COLUMNS]
    x = p.base(i).ravel()
    f = f.ravel()
    for col in (int(cols[k]) for k in worst):
        for u in (bad[:, col].astype(np.float64), np.ones_like(x)):
            if _under_ulps(s.eps, np.max(np.abs(x[u > 0]), initial=0.0)):
                continue
            joint = _joint_slope(p, i, c, col, x, u, s.eps)
            if not np.isfinite(joint):
                continue
            summed, claimed = float(u @ n[:, col]), float(u @ a[:, col])
            rounding = (u.sum() + 1) * 2 * float(np.spacing(abs(f[col]))) / s.eps \
                if col < f.size and np.isfinite(f[col]) else 0.0
            # ... and the inputs' own rounding, where the function subtracts them (x - mean at
            # 3e5: each quotient off by ~spacing(sum of x) / eps of the slopes; a shift-invariant
            # function's joint slope, 0, is then no tie of distinct inputs)
            slope = max(abs(joint), float(np.max(np.abs(n[:, col]), initial=0.0)))
            top, grain = _sum_grain(x, s.eps)
            if col < f.size and _cancelling(abs(f[col]), top, slope):
                rounding += (u.sum() + 1) * 2 * grain * slope
            tol = _joint_tol(s, joint, u)
            if abs(joint - summed) > tol + rounding and abs(joint - claimed) <= tol and \
                    _tie_stays(p, s, i, c, col, x, u, joint - summed):
                found[col] = joint
                break
    return found


TIE_CONFIRM = 64  # _tie_stays: ties of up to this many inputs are measured again


def _tie_stays(p: Problem, s: Settings, i: int, c: int, col: int, x: np.ndarray,
               u: np.ndarray, gap: float) -> bool:
    """Whether a tie's gap (the joint slope minus the sum of the single ones) stays at a step ten
    times eps, as a median's of equal values does (1 against 0, at any step) -- where it shrinks
    as the step grows, it was rounding (x - x.mean() at 1e4: each single quotient off by 4e-5,
    all the same way, and a doubled VJP was excused as sharing a tie)."""
    members = np.flatnonzero(u > 0)
    if not members.size or members.size > TIE_CONFIRM:
        return True
    h = 10 * s.eps
    rows, _ = numerical_rows(p, i, members, h, p.values())
    summed = float(np.sum(rows[c][:, col]))
    joint = _joint_slope(p, i, c, col, x, u, h)
    return not (np.isfinite(joint) and abs(joint - summed) < abs(gap) / 3)


def _joint_slope(p: Problem, i: int, c: int, col: int, x: np.ndarray, u: np.ndarray,
                 h: float) -> float:
    """The central difference of output element ``col`` along ``u`` (inputs moved together)."""
    return sum(_joint_sides(p, i, c, col, x, u, h)) / 2


def _joint_tol(s: Settings, joint: float, u: np.ndarray) -> float:
    """The tolerance of a sum of ``u.sum()`` entries against a joint slope: gradcheck's, grown
    as the square root of how many entries add up (their errors are independent)."""
    return (s.atol + s.rtol * abs(joint)) * max(1.0, float(np.sqrt(u.sum())))


def _unshared(p: Problem, i: int, c: int, a: np.ndarray, at_kink: np.ndarray,
              s: Settings) -> np.ndarray:
    """Kink entries that are wrong all the same: where several inputs of one output element sit
    at kinks together (a tie of max), each VJP entry may lie between its own one-sided slopes
    while they add up to more than moving them together gives (a max VJP of (1, 1, 0) at
    [3, 3, 1] doubles the gradient). Returns the mask of such entries (columns of the block)."""
    wrong = np.zeros_like(at_kink)
    cols = np.flatnonzero(at_kink.sum(axis=0) >= 2)[:TIE_COLUMNS]
    x = p.base(i).ravel()
    for col in (int(k) for k in cols):
        u = at_kink[:, col].astype(np.float64)
        # one-sided along u: another input within eps of the tie (max of [0, 0, -1e-7]) makes
        # a kink along u too; then any sum between the two sides is a subgradient
        lo, hi = sorted(_joint_sides(p, i, c, col, x, u, s.eps))
        tol = _joint_tol(s, max(abs(lo), abs(hi)), u)
        total = float(u @ a[:, col])
        if np.isfinite(lo) and np.isfinite(hi) and not lo - tol <= total <= hi + tol:
            wrong[:, col] = at_kink[:, col]
    return wrong


def _unshared_across(p: Problem, c: int, analytical: list[list[np.ndarray]],
                     blocks: dict[tuple[int, int], tuple[Any, ...]], s: Settings) -> None:
    """:func:`_unshared` for a tie between inputs: where elements of several inputs sit at kinks
    of one output element together (maximum(a, b) at a == b), their VJP entries must add up to
    a value between the one-sided slopes of moving them all together (a VJP of (1, 1) there
    doubles the gradient). The entries of such a column are taken off the kinks (``at_kink``
    of ``blocks`` changed in place): they fail as wrong."""
    rows = [r for r in range(len(p.diff)) if (r, c) in blocks]
    if len(rows) < 2:
        return
    per_col: dict[int, list[int]] = {}
    for r in rows:
        for col in np.flatnonzero(blocks[(r, c)][1].any(axis=0)):
            per_col.setdefault(int(col), []).append(r)
    tied = [col for col, rs in per_col.items() if len(rs) >= 2][:TIE_COLUMNS]
    for col in tied:
        rs = per_col[col]
        us = {r: blocks[(r, c)][1][:, col].astype(np.float64) for r in rs}
        xs = {p.diff[r]: p.base(p.diff[r]).ravel() for r in rs}
        with np.errstate(all="ignore"):
            up = p.evaluate_moved({p.diff[r]: xs[p.diff[r]] + s.eps * us[r] for r in rs})[c][col]
            down = p.evaluate_moved({p.diff[r]: xs[p.diff[r]] - s.eps * us[r] for r in rs})[c][col]
        mid = p.values()[c][col]
        lo, hi = sorted((float((mid - down) / s.eps), float((up - mid) / s.eps)))
        total = sum(float(us[r] @ analytical[r][c][:, col]) for r in rs)
        # (the entries of every input in the tie: their arrays differ in size -- was a sum of
        # them, a broadcasting error for a matmul's x (8, 20) and W (20, 30): t145)
        tol = _joint_tol(s, max(abs(lo), abs(hi)),
                         np.array([sum(float(u.sum()) for u in us.values())]))
        if np.isfinite(lo) and np.isfinite(hi) and not lo - tol <= total <= hi + tol:
            for r in rs:
                blocks[(r, c)][1][:, col] = False


def _joint_sides(p: Problem, i: int, c: int, col: int, x: np.ndarray, u: np.ndarray,
                 h: float) -> tuple[float, float]:
    """The one-sided differences of output element ``col`` along ``u``: (left, right)."""
    with np.errstate(all="ignore"):
        up = p.evaluate_at(i, x + h * u)[c][col]
        mid = p.values()[c][col]  # (x is the check point: its value is known)
        down = p.evaluate_at(i, x - h * u)[c][col]
    return float((mid - down) / h), float((up - mid) / h)


def _kink_report(kinks: list[tuple[float, Entry]], labels: Labels, order: int,
                 caller: str, widened: float | None = None) -> GradcheckReport:
    """The report of a check point at a kink, a jump, a tie or a domain edge; its advice names
    the options of ``caller`` (:func:`move_off_kinks`). ``widened``: the step, where the
    function rounds to float32 inside and the step had to grow for it -- a kink within it, not
    only at the point (two values of a pooling window 3e-5 apart, under a step of 5e-3)."""
    e = kinks[0][1]
    where = "" if e.in_index is None else f" at element {e.in_index}"
    nearby = widened is not None and not (e.edge or e.tie is not None or e.jump)  # (a plain kink)
    head = (f"not differentiable (or a kink nearby): {labels.output(e.output)} has a kink within "
            f"eps={widened:.3g} of the point, for " if nearby else
            f"not differentiable: {labels.output(e.output)} is not differentiable with respect to "
            ) + f"{labels.input(e.input)}{where}"
    if e.out_index is not None:
        head += f" (output element {e.out_index})"
    if order == 2:
        head = "second derivative: " + head
    if e.edge:
        lines = [f"  the central difference is {e.numerical:.10g}; the VJP gave {e.analytical:.10g}"]
        why = ("One one-sided difference is NaN: the function is not defined on that side -- the "
               "edge of its domain (sqrt or log at 0) -- so no derivative exists to compare the "
               "VJP with, and this is not a wrong VJP. Check at a point inside the domain.")
    elif e.tie is not None:
        alone = (f"{e.numerical:.10g} (both sides agree)" if abs(e.left - e.right) <= KINK_ATOL
                 + KINK_RTOL * max(abs(e.left), abs(e.right)) else
                 f"{e.left:.10g} on the left, {e.right:.10g} on the right")
        lines = [f"  the slope of this element alone: {alone}",
                 f"  the slope of moving the tied elements together: {e.tie:.10g}, not the sum "
                 "of their own slopes",
                 f"  the VJP gave {e.analytical:.10g} here; its share adds up to the joint slope"]
        why = ("Tied inputs (a median, max, sort or mode of equal values): each element alone "
               "moves the output one way, all together another, so the function is not "
               "differentiable here, and a VJP can only choose how to share the gradient among "
               "them -- this one shares the joint slope, so it is not a wrong VJP. Check at a "
               f"point without ties, or {move_off_kinks(caller)}.")
    elif e.jump:
        lines = [f"  the difference quotient grows as the step shrinks ({e.numerical:.4g} here, "
                 "about ten times more with a tenth of the step)", f"  the VJP gave "
                 f"{e.analytical:.10g}"]
        why = ("The function jumps here (a step: sign, floor, round or a comparison at its "
               "threshold; or the derivative of abs or max at a kink, for a second derivative), "
               "so it has no derivative and this is not a wrong VJP. Check at a point away from "
               f"the jump, or {move_off_kinks(caller)}.")
    else:
        lines = [f"  left slope:  {e.left:.10g}", f"  right slope: {e.right:.10g}",
                 f"  the VJP gave {e.analytical:.10g}; the central difference is their mean, "
                 f"{e.numerical:.10g}"]
        why = ("The left and right one-sided differences disagree, so the function has a kink "
               "here -- relu or abs at 0, a tie of max or max pooling, clamp at its bound. A VJP "
               "can only give one subgradient at a kink, so this is not a wrong VJP. Check at a "
               f"point away from kinks, or {move_off_kinks(caller)}.")
        if nearby:
            why = (f"The left and right one-sided differences over eps={widened:.3g} disagree: "
                   "the function has a kink at the point or within that step of it -- relu or "
                   "abs near 0, two nearly tied values of a max or a max pooling window, clamp "
                   "near its bound. The function rounds to float32 inside, so smaller steps "
                   "drown in its rounding and cannot tell which; either way this is not a wrong "
                   f"VJP. Check at a point away from kinks, or {move_off_kinks(caller)}, or "
                   "compute the function in float64.")
    head = "\n".join([head, *lines])
    details = [why]
    elements = sorted({(k.input, k.in_index) for _, k in kinks if k.in_index is not None})
    if len(elements) > 1:
        shown = ", ".join(f"{labels.input(i)} {idx}" for i, idx in elements[:8])
        details.append(f"{len(elements)} elements sit at kinks: {shown}"
                       + (" ..." if len(elements) > 8 else ""))
    return GradcheckReport(False, "not_differentiable", order, head, details, None,
                           [k for _, k in kinks[:WORST]])


def _passed(p: Problem, labels: Labels, order: int, s: Settings, how: str) -> GradcheckReport:
    what = "second derivatives" if order == 2 else "gradients"
    ins = ", ".join(f"{labels.input(i)} {p.in_shape(i)}" for i in p.diff)
    return GradcheckReport(True, "ok", order, f"gradcheck passed: the {what} with respect to {ins} "
                           f"match central differences ({how}, eps={s.eps:g}, atol={s.atol:g}, "
                           f"rtol={s.rtol:g}).")


# --------------------------------------------------------------------------------- projections
def _fast(p: Problem, s: Settings, labels: Labels, swaps: Swaps, notes: list[str],
          rng: np.random.Generator, order: int) -> GradcheckReport:
    """Two random projections ``v . J u`` per input/output pair, four evaluations per input: one
    with Gaussian directions (a wrong sign or factor at some elements cannot cancel out), one
    with positive ones, as PyTorch's (a VJP that adds a constant moves ``v . J u`` by
    ``c * sum(u)``, which Gaussian directions put near 0 for some draws). First one more call
    of the function (graph-free where it can): a non-deterministic one fails as such."""
    failed, _ = _deterministic(p, s, labels, order, p.value_func or p.func)
    if failed is not None:
        return failed
    report = _projection(p, s, labels, swaps, notes, rng, order, positive=False)
    if not report.ok:
        return report
    second = _projection(p, s, labels, swaps, notes, rng, order, positive=True)
    if second.ok and report.atol_hid and not second.atol_hid:
        second.atol_hid = report.atol_hid
        second.notes.append(report.atol_hid)
    return second


def _projection(p: Problem, s: Settings, labels: Labels, swaps: Swaps, notes: list[str],
                rng: np.random.Generator, order: int, positive: bool) -> GradcheckReport:
    """One random projection ``v . J u`` per input/output pair: two evaluations per input."""
    def draw(n: int) -> np.ndarray:
        return rng.random(n) if positive else rng.standard_normal(n)

    outs = p.outputs()
    vs = [draw(outs[j]._data.size) for j in p.which]
    us = []
    for i in p.diff:
        u = draw(p.inputs[i]._data.size)
        us.append(u / max(np.sqrt(dot(u, u)), 1e-12))
    f0 = p.values()
    rounds = NUDGE_ROUNDS if s.avoid_kinks else 0
    measured = [directional(p, i, us[r], vs, s.eps, f0) for r, i in enumerate(p.diff)]
    # (kinks are looked for with weights of one sign: a max's or a relu's one-sided slopes part
    # the same way at every kink, and v's signs let those of two pooling windows cancel in the
    # sum -- a relu's zeros under max pooling, half of them tied, stayed and failed the VJP)
    seen = [np.abs(v) for v in vs]
    for _ in range(rounds):
        moved = False
        for r, i in enumerate(p.diff):
            _, right, left = directional(p, i, us[r], seen, s.eps, f0)
            if s.is_kink(float(right.sum()), float(left.sum())):
                found = locate_kinks(p, i, us[r], seen, s.eps, f0, s.is_kink,
                                     limit=NUDGE_LOCATE)
                if len(found) >= NUDGE_LOCATE:
                    # dense kinks (a max pooling over a relu's zeros, half its input tied):
                    # locating each costs ~4 log2(n) evaluations, so every element moves
                    found = list(range(p.base(i).size))
                if found:
                    _nudge(p, i, found, s, swaps, rng, notes, labels)
                    moved = True
        if not moved:
            break
        f0 = p.values()
        measured = [directional(p, i, us[r], vs, s.eps, f0) for r, i in enumerate(p.diff)]

    outs = p.outputs()
    grads = [p.vjps(outs, c, vs[c]) for c in range(len(p.which))]
    for c, j in enumerate(p.which):
        again = p.vjps(outs, c, vs[c])
        for r, i in enumerate(p.diff):
            d = _difference(grads[c][r], again[r])
            if d.size and not (d <= s.nondet_tol).all():
                return _not_reentrant(labels, i, j, float(np.nanmax(d)), s, order)
        # a linear VJP gives -VJP(v) for -v: one that reads grad's sign (g.abs(), g * g)
        # would pass a projection whose v happens to be positive where it matters
        negated = p.vjps(outs, c, -vs[c])
        for r, i in enumerate(p.diff):
            g, m = grads[c][r], negated[r]
            with np.errstate(all="ignore"):
                allowed = s.atol + (s.rtol + F64_ROUNDING) * np.abs(g)
                bad = np.isfinite(g) & np.isfinite(m) & ~(np.abs(g + m) <= allowed)
            if p.grad_changed is not None or bad.any():
                if p.grad_changed is not None:
                    return _grad_changed_report(labels, order, p.grad_changed)
                k = int(np.argmax(np.where(bad, np.abs(g + m) - allowed, -np.inf)))
                return _linearity_report(
                    p, s, labels, order, i, j, k, int(bad.sum()), bad.size, ("from v: ", g[k]),
                    ("from -v:", m[k], "(a linear VJP gives the first's negative)"), "|VJP(v)|",
                    "(fast mode: the VJP for a random gradient v and for -v)")
    # (once, in the first projection: its draws are its own, the second would repeat it)
    failed = None if positive else _joint_and_layout(p, s, labels, order)
    if failed is not None:
        return failed

    hidden: tuple[float, float, int, int] | None = None  # a pass by atol alone
    rounded: tuple[float, float, int, int] | None = None  # ... by float32's rounding allowance
    big = sum(p.base(k).size for k in p.diff) > LOCALISE_MAX  # (small: judged element by element)
    for r, i in enumerate(p.diff):
        central, right, left = measured[r]
        for c, j in enumerate(p.which):
            a = dot(grads[c][r], us[r])
            n = float(central[c])
            # (in low precision its rounding too: the float32 rounding of v . f over eps --
            # x.float().double() at 1e3 over 2000 elements failed as "the VJP of cast" -- each
            # element's rounding its own, so they add as a random walk, with room for 3 of its
            # spread: the worst case, sum |v| |f|, let a VJP 50% off over 1152 elements pass)
            if s.noise:
                with np.errstate(over="ignore"):  # (outputs of 1e307: inf, no warning)
                    fv = PROJECTION_SPREAD * float(np.sqrt(dot(np.square(vs[c]),
                                                               np.square(f0[c]))))
            else:
                fv = dot(np.abs(vs[c]), np.abs(f0[c]))
            tol = float(s.tol(n)) + (s.noise * fv if s.noise else float(
                s.rounding(fv, abs(n))))
            if abs(a - n) <= tol:
                if s.noise and math.isfinite(a) and math.isfinite(n) and (
                        not abs(a - n) <= float(s.tol(n))
                        or abs(a - n) > HIDDEN_SHARE * max(abs(a), abs(n))):
                    # in low precision, a pass by the rounding allowance alone, or by atol with
                    # the two apart by more than a twentieth (layer_norm at 6e3, derivatives of
                    # 2e-4 under float32's rounding over eps, passed with a VJP 50% off):
                    # bigger steps judge (small inputs: element by element, after the loop)
                    if not big:
                        rounded = rounded or (a, n, i, j)
                        continue
                    verdict, again, steps = _projection_coarse(p, s, i, us[r], vs, c, a, f0, fv,
                                                               grads[c][r], tol, always=True)
                    if verdict == "wrong":
                        return _fast_failure(p, s, labels, order, outs, r, c, us[r], vs[c],
                                             grads[c][r], a, again, remeasured=True,
                                             steps=steps)
                    if verdict == "atol":
                        hidden = hidden or (a, again, i, j)
                    elif verdict != "right":
                        rounded = rounded or (a, n, i, j)
                    continue
                if hidden is None and _hidden_by_atol(a, n, s, np.array([fv])):
                    verdict, again = _projection_remeasured(
                        p, s, i, us[r], vs, c, a, f0, fv, _input_rounding(p, s, i, grads[c][r]))
                    if verdict == "wrong" and big:
                        return _fast_failure(p, s, labels, order, outs, r, c, us[r], vs[c],
                                             grads[c][r], a, again, remeasured=True)
                    if verdict != "right":  # (small inputs: every entry is judged then)
                        hidden = (a, n, i, j)
                continue
            if s.noise and math.isfinite(a) and math.isfinite(n):
                verdict, again, steps = _projection_coarse(p, s, i, us[r], vs, c, a, f0, fv,
                                                           grads[c][r], tol)
                if verdict == "right":
                    continue
                if verdict == "atol" and big:
                    hidden = hidden or (a, again, i, j)
                    continue
                # (small inputs: element by element, below)
                if verdict == "wrong" and big:
                    return _fast_failure(p, s, labels, order, outs, r, c, us[r], vs[c],
                                         grads[c][r], a, again, remeasured=True, steps=steps)
                if verdict == "cannot" and big:
                    return _cannot_judge(order, again)
            if not (math.isfinite(a) and math.isfinite(n)):
                # an infinite or undefined derivative (sqrt at 0): the element-by-element check
                # says where and what (a domain edge, a kink), which one projection cannot
                return _slow(p, s, labels, swaps, notes, rng, order)
            R, L = float(right[c]), float(left[c])
            kink = s.is_kink(R, L)
            if kink and not big:
                # one projection mixes every element: a wrong entry can land between a kink's
                # one-sided slopes, a right VJP at a kink outside them. Element by element
                # says which it is, and where
                return _slow(p, s, labels, swaps, notes, rng, order)
            if kink and min(L, R) - tol <= a <= max(L, R) + tol:
                found = locate_kinks(p, i, us[r], _at_output(p, outs, c, vs[c]), s.eps, f0,
                                     s.is_kink, limit=8)
                kinks = [(0.0, Entry(i, j, unravel(k, p.in_shape(i)), None, a, n, L, R))
                         for k in found] or [(0.0, Entry(i, j, None, None, a, n, L, R))]
                report = _kink_report(kinks, labels, order, s.caller,
                                      s.eps if s.low_precision else None)
                report.headline += "\n  (fast mode: slopes of v . output along a random direction u)"
                return report
            if not big:
                # a small input is judged element by element, where jumps (sign at 0: equal
                # one-sided slopes of 1/eps) and second-order kinks (abs at 0) are told from a
                # wrong VJP -- fast and full mode then agree on the verdict
                return _every_entry(p, s, labels, swaps, notes, rng, order, "disagreed "
                                    f"(analytical {a:.6g}, numerical {n:.6g})")
            return _fast_failure(p, s, labels, order, outs, r, c, us[r], vs[c], grads[c][r], a, n)
    if hidden is not None and not big:
        # a pass by atol alone on small inputs: the element-by-element check, which measures
        # elements the step is not small beside with steps scaled to them, judges instead (a
        # right VJP at 1e-7 from relu's kink passed quietly in full mode, warned in fast mode)
        return _every_entry(p, s, labels, swaps, notes, rng, order, "passed by atol alone "
                            f"(analytical {hidden[0]:.4g}, numerical {hidden[1]:.4g})")
    if rounded is not None and not big:
        # a pass by the rounding allowed for float32 alone: its tolerance can hide a VJP half
        # off (x * x at 1e3), so element by element judges, with steps scaled to the elements
        return _every_entry(p, s, labels, swaps, notes, rng, order, "passed only by the "
                            f"rounding allowed for float32 (analytical {rounded[0]:.4g}, "
                            f"numerical {rounded[1]:.4g})")
    report = _passed(p, labels, order, s, "fast mode: two random projections v . J u per "
                     "input/output pair (Gaussian and positive directions)")
    if rounded is not None:
        report.atol_hid = (
            f"it passed by the rounding allowed for float32 alone: the projection v . J u "
            f"of {labels.output(rounded[3])} with respect to {labels.input(rounded[2])} differs "
            "from its central difference by more than the tolerance, by less than the outputs' "
            f"rounding over the step (analytical {rounded[0]:.4g}, numerical {rounded[1]:.4g}), "
            f"and bigger steps (up to {COARSE_PROJECTION[-1]:g} eps) measured no one slope: the "
            "check cannot tell a right VJP from a wrong one here. Check at inputs of order 1, "
            "with fast_mode=False, or compute the function in float64.")
        report.notes.append(report.atol_hid)
    elif hidden is not None:
        report.atol_hid = (
            f"it passed by atol alone: the projection v . J u of {labels.output(hidden[3])} "
            f"with respect to {labels.input(hidden[2])} differs from its central difference by "
            f"more than a twentieth of its size but by less than atol={s.atol:g} (analytical "
            f"{hidden[0]:.4g}, numerical {hidden[1]:.4g}): at this scale the check cannot tell a "
            "right VJP from a wrong one. Pass a smaller atol (atol=0 judges by rtol alone) or "
            "check at inputs of order 1.")
        report.notes.append(report.atol_hid)
    return report


def _every_entry(p: Problem, s: Settings, labels: Labels, swaps: Swaps, notes: list[str],
                 rng: np.random.Generator, order: int, what: str) -> GradcheckReport:
    """Fast mode's fallback on small inputs: the element-by-element check's report, saying why
    (``what`` the projection did)."""
    report = _slow(p, s, labels, swaps, notes, rng, order)
    report.notes.append(f"In fast mode a random projection v . J u {what}; the inputs being "
                        "small, every entry was then checked (this report).")
    return report


def _at_output(p: Problem, outs: tuple[Tensor, ...], c: int, v: np.ndarray) -> list[np.ndarray]:
    """Weights for every compared output: ``v`` for output ``c``, zeros for the others (the
    projections sum over all of them, in ``p.which``'s order)."""
    return [v if k == c else np.zeros(outs[j]._data.size) for k, j in enumerate(p.which)]


def _slope_bounds(p: Problem, r: int, c: int, left: np.ndarray, right: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The range a VJP may take at a kink: between the one-sided slopes, and in low precision
    between those at eps itself too (see :func:`_numerical_jacobians`)."""
    with np.errstate(invalid="ignore"):
        lo, hi = np.minimum(left, right), np.maximum(left, right)
        plain = p.plain_slopes.get((r, c))
        if plain is not None and plain[0].shape == lo.shape:
            lo = np.fmin(lo, np.minimum(*plain))
            hi = np.fmax(hi, np.maximum(*plain))
    return lo, hi


def _symmetric_jumps(p: Problem, i: int, numerical: list[np.ndarray], s: Settings,
                     f0: list[np.ndarray]) -> np.ndarray:
    """Elements of input ``i`` where the function jumps through its own value (``sign`` at 0:
    both one-sided slopes are the jump over the step, so they agree and no kink shows): a
    difference quotient of at least ``0.1 / eps`` that grows ``JUMP_GROWTH`` times with a ten
    times smaller step. (What avoid_kinks moves off, as it moves floor's one-sided jumps.)"""
    mask = np.zeros(p.inputs[i]._data.size, dtype=bool)
    steep = np.zeros_like(mask)
    for n in numerical:
        steep |= (np.abs(n) >= 0.1 / s.eps).any(axis=1)
    elements = np.flatnonzero(steep)
    if not elements.size:
        return mask
    rows, _ = numerical_rows(p, i, elements, s.eps / 10, f0)
    for c, n in enumerate(numerical):
        grew = np.abs(rows[c]) > JUMP_GROWTH * np.abs(n[elements]) + s.tol(n[elements])
        mask[elements[grew.any(axis=1)]] = True
    return mask


LOW_REFINE = (0.3, 1e-1, 3e-2, 1e-2, 1e-3, 1e-4)  # _refine_low_precision: smaller steps, shares of eps
LOW_COARSE = (4.0, 16.0, 64.0, 256.0, 1024.0)  # ... and bigger ones, times eps and the element's size
LOW_COARSE_FREE = 3  # ... of which the first three always, the others where the last two agree
RESOLVE = 0.01  # ... a step whose rounding is under this share of an entry may agree with it
#: ... worst first; once this many of an input's failing elements were measured again and none
#: of them cleared, the rest are not (the check fails whatever they give; a VJP wrong at each of
#: 2,000 float32 elements took 7 s, and the culprit search's check of its op as long again)
REFINE_SAMPLE = 32


class _CannotJudgeError(Exception):
    """An element :func:`_refine_low_precision` found no step to judge: the message says why."""


class _RefutedError(Exception):
    """Entries :func:`_refine_low_precision` measured wrong with two clean steps."""

    def __init__(self, refuted: list[tuple[float, Entry, int, int]], unmeasured: int = 0) -> None:
        super().__init__()
        self.refuted = refuted
        self.unmeasured = unmeasured  # failing elements not measured again (REFINE_SAMPLE)


def _refine_low_precision(p: Problem, s: Settings, analytical: list[list[np.ndarray]],
                          numerical: list[list[np.ndarray]], jumps: list[list[np.ndarray]],
                          f0: list[np.ndarray], notes: list[str], labels: Labels | None = None
                          ) -> list[tuple[float, Entry, int, int]]:
    """In low precision, input elements whose entries fail at the widened eps are measured again
    with smaller steps (where the outputs' rounding over them stays under the tolerance: relu
    1e-4 from its kink, which eps = 5e-3 crosses) and with bigger ones (where a cancellation
    inside rounds at the inputs' scale: x - x.mean() at 1e3), each extrapolated from it and its
    double. Where two steps both agree with the VJP at every entry of the element (none that
    resolves the entries disagreeing between them), their measurement replaces the first one (in
    place): no wrong VJP agrees with two measurements it is not (a VJP 1% off fails; before,
    these right VJPs failed as 'at a kink' or 'leaves the graph')."""
    moved = 0
    unjudged: list[tuple[int, int, float]] = []
    curved: list[tuple[int, int, float]] = []  # kinks at eps that a smaller step does not see
    others = False  # failing elements neither cleared, refuted, curved nor unjudged
    fe = s.noise * s.eps / NOISE_ULPS  # (the dtype's machine epsilon)
    asked_atol, asked_rtol = (s.asked or (s.eps, s.atol, s.rtol))[1:]
    refuted: list[tuple[float, Entry, int, int]] = []
    unmeasured = 0
    for r, i in enumerate(p.diff):
        x = p.base(i).ravel()
        failing = np.zeros(p.base(i).size, dtype=bool)
        severity = np.zeros(p.base(i).size)  # each element's worst |a - n| / tolerance
        for c in range(len(p.which)):
            a, n = analytical[r][c], numerical[r][c]
            failing |= (~(np.abs(a - n) <= s.tol(n))).any(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.abs(a - n) / s.tol(n)
            severity = np.fmax(severity, np.nanmax(np.where(np.isnan(ratio), np.inf, ratio),
                                                   axis=1, initial=0.0))
        # and the elements the widened step does not move in the dtype (x * x at 1.3e6 in
        # float32: eps = 5e-3 under its ulp of 0.125), which pass unseen with a warning: scaled
        # steps that agree with the VJP see them
        coarse = np.isfinite(x) & (s.eps < ROUNDING_ULPS * fe * np.abs(x))
        judged_failing = failing.copy()
        hid_rows: dict[int, tuple[float, float]] = {}
        # and the entries that pass by atol or the rounding allowed alone, of one sign with the
        # VJP's and apart from it by more than a twentieth (log(1 + x²) at 1e3, derivatives of
        # 1e-3 beside float32's rounding over eps: a VJP 10% off passed silently)
        for c in range(len(p.which)):
            a, n = analytical[r][c], numerical[r][c]
            with np.errstate(invalid="ignore"):
                top = np.maximum(np.abs(a), np.abs(n))
                apart = (np.sign(a) * np.sign(n) > 0) & (np.abs(a - n) > HIDDEN_SHARE * top)
                # (and entries under four times the rounding allowed over eps, where the
                # difference at eps says little: sigmoid at 10, a slope of 5e-5 beside outputs of
                # 1, measured 4.8e-5 for a VJP 10% off)
                apart |= (a != 0) & (4 * s.noise * np.abs(f0[c]).ravel()[None, :] > top) & \
                    np.isfinite(a) & np.isfinite(n)
            for k, e_out in zip(*np.nonzero(apart)):
                hid_rows.setdefault(int(k), (float(a[k, e_out]), float(n[k, e_out])))
            failing |= apart.any(axis=1)
        failing |= coarse
        order = np.flatnonzero(failing)
        order = order[np.argsort(-severity[order], kind="stable")]  # (the worst first)
        moved_before, still_failing = moved, False
        for done, k in enumerate(order):
            if done >= REFINE_SAMPLE and moved == moved_before and still_failing:
                unmeasured += order.size - done  # (see REFINE_SAMPLE)
                break
            size = max(1.0, abs(float(x[k])))
            steps = [share * s.eps for share in LOW_REFINE] + \
                [big * s.eps * size for big in LOW_COARSE]
            agreed: list[list[np.ndarray]] = []
            last: list[np.ndarray] | None = None  # the previous clean step's measurement
            prev: tuple[list[np.ndarray], list[Any]] | None = None  # the previous step's rows, noise
            alike = False  # ... and whether it measured what the one before it did
            smooth = False  # a step that resolved the slope to a tenth saw no kink
            resolved = False  # a step resolved it to RESOLVE (then a failure is the VJP's)
            for n_step, step in enumerate(steps):
                if n_step >= len(LOW_REFINE) + LOW_COARSE_FREE and not alike:
                    # (the biggest steps only while the function looks linear at the last two:
                    # sin(100 x) at 28 averaged to 0 over a step of 600, which then replaced a
                    # right measurement; the loop's else still says "unjudged")
                    continue
                try:
                    found, kinked = _extrapolated_rows(p, s, i, np.array([k]), step, f0)
                    rows = [row[0] for row in found]
                except Exception:  # (a point the function refuses)
                    agreed, last, prev, alike = [], None, None, False
                    continue
                fits, clean, resolves, noises = True, True, True, []
                for c in range(len(p.which)):
                    a, n = analytical[r][c][k], rows[c]
                    # (and the input's own rounding: a function that casts it to float32
                    # moves by whole ulps, so a step of a few hundred of them is off by its
                    # share of one -- sin(100 x) at 0.98, 5e-5: 0.2 of a slope of 88)
                    noise = _step_rounding(s, step, f0[c]) + \
                        2 * fe * abs(float(x[k])) / step * np.abs(n)
                    noises.append(noise)
                    # (an output the element does not reach moves by exactly nothing: its
                    # rounding is no reason to distrust the step -- unless eps saw it move: a
                    # step under the outputs' ulp moves them by nothing too, which "agreed"
                    # with a VJP that ignores the input, a matmul's at 2e3)
                    reached = (n != 0) | (a != 0) | (numerical[r][c][k] != 0)
                    with np.errstate(invalid="ignore"):
                        # (to the tolerance asked: the widening was for the rounding over eps,
                        # and this step's own is allowed -- log(1 + x²) at 1e3 with a VJP 10%
                        # off, 1.5e-4 under the widened atol, agreed with two clean steps)
                        fits &= bool((np.abs(a - n) <= asked_atol + asked_rtol * np.abs(n)
                                      + noise).all())
                        clean &= bool((~reached | (noise <= s.atol + s.rtol * np.abs(n))).all())
                        # (to agree, a step need only resolve the entries to 1%: two successive
                        # ones that do, both within their rounding of the VJP -- layer_norm at
                        # 0.01 in float32, whose 5e-3 step measured its curvature)
                        resolves &= bool((~reached | (noise <= s.atol + RESOLVE * np.abs(n))
                                          ).all())
                with np.errstate(invalid="ignore"):
                    smooth |= n_step < len(LOW_REFINE) and not any(
                        bool(kk.any()) for kk in kinked) and all(
                        bool((noise <= s.atol + 0.1 * np.abs(rows[c])).all())
                        for c, noise in enumerate(noises))
                    alike = prev is not None and all(
                        bool((np.abs(prev[0][c] - rows[c]) <= s.tol(rows[c]) + noises[c]
                              + prev[1][c]).all()) for c in range(len(p.which)))
                # (the rounding allowed is a bound: two successive steps alike to the tolerance
                # asked, the second matching the VJP to it and their difference, every entry eps
                # saw move moving, agree with it whatever the bound says -- |1e3 x| at 5e-6 in
                # float32, whose 1.5e-3 and 5e-4 steps gave -0.46097 and -0.46054 for a VJP of
                # -0.4610, was "not differentiable")
                with np.errstate(invalid="ignore"):
                    close = prev is not None and all(bool((((np.abs(
                        analytical[r][c][k] - rows[c]) <= asked_atol + asked_rtol * np.abs(
                            rows[c]) + np.abs(rows[c] - prev[0][c]))
                        & (np.abs(rows[c] - prev[0][c]) <= asked_atol + asked_rtol * np.abs(
                            rows[c]))
                        & ((rows[c] != 0) | (numerical[r][c][k] == 0)
                           | (np.abs(numerical[r][c][k]) * step > 4 * fe * np.abs(f0[c]).ravel())))
                        | ~np.isfinite(rows[c])).all()) for c in range(len(p.which)))
                if close:
                    for c in range(len(p.which)):
                        numerical[r][c][k], jumps[r][c][k] = rows[c], 0.0
                        _note_by_atol(p, i, int(k), analytical[r][c][k], rows[c],
                                      asked_rtol * np.abs(rows[c]))
                    moved += 1
                    break
                prev = (rows, noises)
                if not resolves:  # (no evidence either way: the steps around it still count)
                    last = None
                    continue
                resolved = True
                if not fits:
                    if not clean:
                        agreed, last = [], None
                        continue
                    # two successive clean steps that agree with each other -- to the check's
                    # own tolerance, not 1% -- with no kink between them, and not with the
                    # VJP, by more than the tolerance asked: wrong (x * x at 1e5 in float32
                    # with a VJP 20% off passed under the rounding allowed at eps)
                    if last is not None and all(
                            bool((np.abs(last[c] - rows[c]) <= s.tol(rows[c]) + 2 * noises[c]).all())
                            for c in range(len(p.which))) and not any(
                            bool(kk.any()) for kk in kinked):
                        for c in range(len(p.which)):
                            a = analytical[r][c][k]
                            # (the measurement replaces the first; where the comparison's
                            # rounding allowance at eps would still pass it, it fails here)
                            numerical[r][c][k], jumps[r][c][k] = rows[c], 0.0
                            with np.errstate(invalid="ignore"):
                                off = np.abs(a - rows[c]) > asked_atol + asked_rtol * np.abs(
                                    rows[c]) + noises[c]
                                off &= np.abs(a - rows[c]) > SPREAD_RATIO * np.abs(
                                    rows[c] - last[c])
                                off &= np.abs(a - rows[c]) <= s.tol_at(rows[c][None, :],
                                                                       f0[c])[0]
                            for e_out in np.flatnonzero(off):
                                j = p.which[c]
                                entry = Entry(i, j, unravel(int(k), p.in_shape(i)),
                                              unravel(int(e_out), tuple(p.outputs()[j].shape)),
                                              float(a[e_out]), float(rows[c][e_out]))
                                refuted.append((entry.abs_error, entry, r, c))
                        still_failing = True  # (measured off the VJP by two clean steps)
                        break
                    agreed, last = [], rows
                    continue
                last = rows if clean else None
                agreed.append(rows)
                if len(agreed) == 2 and any(bool((np.abs(analytical[r][c][k] - agreed[1][c])
                                                  > asked_atol + asked_rtol * np.abs(agreed[1][c])
                                                  + 3 * np.abs(agreed[1][c] - agreed[0][c])).any())
                                            for c in range(len(p.which))):
                    # (two steps within each other's rounding allowance, a bound, but far closer
                    # to each other than to the VJP: no agreement -- exp in float32 with a VJP
                    # 0.3% off, 1.6040 and 1.6042 against 1.6088, allowed 0.014)
                    agreed = [rows]
                    continue
                if len(agreed) == 2:
                    for c in range(len(p.which)):
                        # (each agrees within its own rounding, which the comparison after
                        # this no longer allows: the closer one stands -- a coarse step's
                        # truncation, sin(300 x) at 1.5e-3, was within its allowance only)
                        a = analytical[r][c][k]
                        numerical[r][c][k] = min((m[c] for m in agreed),
                                                 key=lambda m: float(np.nanmax(
                                                     np.abs(a - m), initial=0.0)))
                        jumps[r][c][k] = 0.0
                        _note_by_atol(p, i, int(k), a, numerical[r][c][k],
                                      asked_rtol * np.abs(numerical[r][c][k]))
                    moved += 1
                    break
            else:  # (neither cleared nor refuted)
                if coarse[k] and judged_failing[k]:
                    unjudged.append((i, k, float(x[k])))
                elif smooth and not resolved and judged_failing[k] and any(bool(s.kinked(
                        jumps[r][c][k], numerical[r][c][k] + jumps[r][c][k] / 2,
                        numerical[r][c][k] - jumps[r][c][k] / 2).any())
                        for c in range(len(p.which))):
                    # a kink at eps that a smaller step does not see: the function curves on a
                    # scale under the widened step, and float32's rounding swamps the steps
                    # that would resolve it (|1e3 x| at x ~ 1e-3 was "not differentiable")
                    curved.append((i, k, float(x[k])))
                elif judged_failing[k]:
                    others = still_failing = True  # (a failure of its own: the report says)
                elif int(k) in hid_rows and not coarse[k]:
                    p.unsettled.append((i, int(k), *hid_rows[int(k)]))
    if curved and not refuted and not unjudged and not others:
        i, k, xk = curved[0]
        raise _CannotJudgeError(
            f"{labels.input(i) if labels else 'the input'}'s element {unravel(k, p.in_shape(i))} "
            f"(= {xk:.6g}): the one-sided slopes at the widened eps={s.eps:g} part as at a kink, "
            "but a smaller step sees none -- the function curves on a scale under eps there -- "
            "and float32's rounding swamps the steps small enough to measure its slope. Check "
            "at inputs where the function varies on a scale of 1 (scale them), or compute the "
            "function in float64")
    if unjudged and not refuted:
        i, k, xk = unjudged[0]
        raise _CannotJudgeError(
            f"{labels.input(i) if labels else 'the input'}'s element {unravel(k, p.in_shape(i))} "
            f"(= {xk:.6g}) is under {ROUNDING_ULPS} of float32's ulps ({fe * abs(xk):.3g} each) "
            f"from a step of eps={s.eps:g}: the function rounds it to float32, so the step "
            "moves it by whole ulps or not at all, and no step measured one slope there (a "
            "function that varies on a finer scale, sin at 1e3). Check at inputs of order 1, "
            "or compute the function in float64")
    if moved:
        notes.append(f"Measured again with other steps: {moved} input element(s) where the "
                     f"widened eps={s.eps:g} crossed a kink nearby or met rounding of a "
                     "cancellation; two successive steps there agree with the VJP.")
    if unmeasured:
        p.unmeasured = unmeasured
        if refuted:
            raise _RefutedError(refuted, unmeasured)
        notes.append(f"{unmeasured} more input element(s) that failed at the widened eps were "
                     f"not measured again with other steps (the {REFINE_SAMPLE} worst were, and "
                     "none of them agreed with the VJP there): the entries counted as failing are "
                     "those that still fail within the rounding allowed at eps, and the ones "
                     "measured again.")
    return refuted


def _note_by_atol(p: Problem, i: int, k: int, a: np.ndarray, m: np.ndarray, allowed: Any
                  ) -> None:
    """Keep (on ``p.unsettled``, which the check's warning reads) an entry of element ``k`` of
    input ``i`` that agreed with its measurement ``m`` only by the atol asked or the step's
    rounding -- apart by more than ``allowed`` (rtol) and a twentieth of the larger (sigmoid at 10 in float32
    with a VJP 10% off: 4.99e-5 against 4.54e-5, under atol=1e-5), as a float64 check warns."""
    with np.errstate(invalid="ignore"):
        d = np.abs(a - m)
        by_atol = (d > allowed) & (d > HIDDEN_SHARE * np.maximum(np.abs(a), np.abs(m)))
    if by_atol.any() and not p.unsettled:
        e_out = int(np.argmax(np.where(by_atol, d, -1)))
        p.unsettled.append((i, k, float(a[e_out]), float(m[e_out])))


def _curvature_not_kink(p: Problem, s: Settings, analytical: list[list[np.ndarray]],
                        numerical: list[list[np.ndarray]], jumps: list[list[np.ndarray]],
                        f0: list[np.ndarray]) -> None:
    """In low precision no smaller step will do, and the wide step (float32: eps ~ 5e-3) makes
    a smooth function's one-sided slopes differ by its curvature, ``f'' eps`` -- 0.5% for exp, which
    would read as a kink. The failing elements are measured once more with twice the step: a
    kink's gap stays, curvature's doubles, so ``2 gap(eps) - gap(2 eps)`` is the gap a vanishing
    step would see -- it replaces the measured one (in place)."""
    for r, i in enumerate(p.diff):
        failing = np.zeros(p.base(i).size, dtype=bool)
        for c in range(len(p.which)):
            a, n = analytical[r][c], numerical[r][c]
            failing |= (~(np.abs(a - n) <= s.tol(n))).any(axis=1)
        elements = np.flatnonzero(failing)
        if not elements.size:
            continue
        try:
            _, wide = numerical_rows(p, i, elements, 2 * s.eps, f0)
        except Exception:  # (a point the function refuses: the first measurement stands)
            continue
        for c in range(len(p.which)):
            jumps[r][c][elements] = 2 * jumps[r][c][elements] - wide[c]


def _refine(p: Problem, s: Settings, analytical: list[list[np.ndarray]],
            numerical: list[list[np.ndarray]], jumps: list[list[np.ndarray]],
            f0: list[np.ndarray], notes: list[str], labels: Labels) -> None:
    """Input elements whose entries fail at ``eps`` are measured again with ``eps/10`` and
    ``eps/100``; where the gap between the one-sided slopes shrinks with the step, the function is
    smooth there but curves too much for ``eps`` (sqrt near 0, relu a little way from its kink),
    and the smaller step's differences replace the first ones (in place). Where the gap stays, it
    is a kink and the first measurement stands. Only in float64 (a smaller step would round)."""
    outs = p.outputs()
    jumped = [[np.zeros(a.shape, dtype=bool) for a in row] for row in analytical]
    if s.low_precision:  # (extrapolated already: see _numerical_jacobians)
        refuted = _refine_low_precision(p, s, analytical, numerical, jumps, f0, notes, labels)
        if refuted:
            raise _RefutedError(refuted)
        return jumped
    if any(outs[j].dtype != np.float64 for j in p.which):
        _curvature_not_kink(p, s, analytical, numerical, jumps, f0)
        return jumped
    moved: dict[int, int] = {}
    finest = s.eps
    # (a smaller step over outputs as large as 1e8 measures their rounding, 1.5e-8 / eps: at
    # eps = 1e-7 a 15% error, which replaced a right quotient -- `x + 1e8` was called wrong)
    fmax = max((float(np.max(np.abs(f[np.isfinite(f)]), initial=0.0)) for f in f0), default=0.0)
    for r, i in enumerate(p.diff):
        blocks = range(len(p.which))
        failing = np.zeros(p.base(i).size, dtype=bool)
        for c in blocks:
            a, n = analytical[r][c], numerical[r][c]
            failing |= (~(np.abs(a - n) <= s.tol(n))).any(axis=1)
        elements = np.flatnonzero(failing)
        x = p.base(i).ravel()
        eps = s.eps
        # elements whose quotient grew at the last step: a jump if it grows again with the next
        # (as 1/eps); if it settles, a kink lies within eps of the element, not at it (abs at
        # 1e-7 with eps=1e-6), and the function is smooth there
        grown: dict[int, list[np.ndarray]] = {}
        for _ in range(2):
            eps /= 10
            # (a step within a few hundred ulps of an element measures rounding, not slope)
            elements = elements[eps >= ROUNDING_ULPS * np.spacing(np.abs(x[elements]))]
            if elements.size:  # (judged by its smallest failing entry's tolerance)
                allowed = np.full(elements.size, np.inf)
                for c in blocks:
                    a, n = analytical[r][c][elements], numerical[r][c][elements]
                    fails = ~(np.abs(a - n) <= s.tol(n))
                    allowed = np.minimum(allowed, np.where(fails, s.tol(n), np.inf).min(axis=1))
                elements = elements[2 * np.spacing(fmax) / eps <= 0.1 * allowed]
            if not elements.size or eps < REFINE_MIN_EPS:
                break
            try:
                c_rows, k_rows = numerical_rows(p, i, elements, eps, f0)
            except Exception:  # (the function refuses a point a smaller step reaches -- inv of
                break  # a nearly singular matrix: the first measurement stands)
            still = []
            for row, k in enumerate(elements):
                before = grown.pop(int(k), None) or [numerical[r][c][k] for c in blocks]
                grew = [np.abs(c_rows[c][row]) > JUMP_GROWTH * np.abs(before[c]) + s.tol(
                    before[c]) for c in blocks]
                if any(g.any() for g in grew):  # the quotient grows as 1/eps: a jump?
                    grown[int(k)] = [c_rows[c][row] for c in blocks]
                    for c in blocks:
                        jumped[r][c][k] |= grew[c]
                    still.append(k)  # (a next step tells)
                    continue
                for c in blocks:
                    jumped[r][c][k] = False  # (it settled: no jump)
                gap = max(float(np.abs(jumps[r][c][k]).max(initial=0)) for c in blocks)
                new_gap = max(float(np.abs(k_rows[c][row]).max(initial=0)) for c in blocks)
                if not new_gap <= SMOOTH_SHRINK * gap:
                    # a kink (or noise): the first measurement stands -- unless a still smaller
                    # step finds the element smooth (a kink within this step of it, not at it)
                    still.append(k)
                    continue
                for c in blocks:
                    # smooth: no kink here; the smaller step's difference where the first one
                    # was off by its truncation error (not where they differ by rounding only)
                    jumps[r][c][k] = k_rows[c][row]
                    n = numerical[r][c][k]
                    off = np.abs(c_rows[c][row] - n) > 0.1 * s.tol(n)
                    numerical[r][c][k] = np.where(off, c_rows[c][row], n)
                if any(not (np.abs(analytical[r][c][k] - numerical[r][c][k])
                            <= s.tol(numerical[r][c][k])).all() for c in blocks):
                    still.append(k)
                else:  # the smaller step agrees with the VJP
                    moved[i] = moved.get(i, 0) + 1
                    finest = min(finest, eps)
            elements = np.array(still, dtype=np.int64)
    if moved:
        which = ", ".join(f"{n} element{'s' if n > 1 else ''} of {labels.input(i)}"
                          for i, n in moved.items())
        notes.append(f"Measured again with a smaller step (eps={finest:g}): {which}, where the "
                     f"function is smooth but curves too much for eps={s.eps:g} (the one-sided "
                     "slopes met as the step shrank: no kink); there the VJP agrees.")
    return jumped


def _fast_failure(p: Problem, s: Settings, labels: Labels, order: int, outs: tuple[Tensor, ...],
                  r: int, c: int, u: np.ndarray, v: np.ndarray, g: np.ndarray, a: float,
                  n: float, remeasured: bool = False,
                  steps: list[float] | None = None) -> GradcheckReport:
    """``remeasured``: ``n`` was measured with bigger steps (:func:`_projection_remeasured`,
    or ``steps``: :func:`_projection_coarse`'s) after the projection passed at eps by a
    widened or rounding tolerance, or where rounding decided it there."""
    i, j = p.diff[r], p.which[c]
    head = (f"Jacobian mismatch (fast mode: a random projection v . J u) for {labels.output(j)} "
            f"with respect to {labels.input(i)} (shape {p.in_shape(i)}):")
    if order == 2:
        head = "second derivative: " + head
    entry = Entry(i, j, None, None, a, n)
    how = f"{rule(s.atol, s.rtol)} (central differences with eps={s.eps:g})"
    if remeasured:
        atol, rtol = (s.asked or (s.eps, s.atol, s.rtol))[1:]
        how = (f"{rule(atol, rtol)} (central differences with steps "
               f"{', '.join(f'{h:g}' for h in steps or _remeasure_steps(p, s, i))}, each "
               "extrapolated from it and its double, alike to each other; at "
               f"eps={s.eps:g} " + ("rounding decided it" if steps else "it passed by the " + (
                   "tolerances widened for float32" if s.low_precision else "rounding allowed"))
               + ")")
    head = "\n".join([head, f"  analytical: {a:.10g}", f"  numerical:  {n:.10g}",
                      f"  absolute error {entry.abs_error:.3g}, relative error {entry.rel_error:.3g}",
                      f"  {how}"])
    details: list[str] = []
    scales = _scales_with_grad(p, outs, c, r, v)
    shape_in, shape_out = p.in_shape(i), tuple(outs[j].shape)
    entries = [entry]
    if g.size <= LOCALISE_MAX:
        # which elements: the gradient of v . output, element by element, from both sides
        numeric = projected_gradient(p, i, _at_output(p, outs, c, v), s.eps)
        tol = s.tol(numeric)
        excess = np.abs(g - numeric) - tol
        worst = [k for k in np.argsort(-excess)[:WORST] if excess[k] > 0]
        entries = [Entry(i, j, unravel(int(k), shape_in), None, float(g[k]), float(numeric[k]))
                   for k in worst]
        details += [f"The gradient of v . {labels.output(j)} (v random) with respect to each "
                    f"element of {labels.input(i)}, worst first ({int((excess > 0).sum())} of "
                    f"{g.size} elements fail):"] + entry_table(entries, labels.input, labels.output)
        cause = likely_cause(g, numeric, tol, order=order, in_label=labels.input(i),
                             incoming=labels.incoming(i),
                             in_shape=shape_in, out_shape=shape_out, scales_with_grad=scales)
    else:
        # too big to go element by element: two more directions tell a constant factor
        rng = np.random.default_rng(1)
        an, nu = [a], [n]
        vs = _at_output(p, outs, c, v)
        for _ in range(2):
            w = rng.standard_normal(g.size)
            w /= np.sqrt(dot(w, w))
            an.append(dot(g, w))
            nu.append(_slope_along(p, s, i, w, vs, c, remeasured))
        arr_a, arr_n = np.array(an), np.array(nu)
        # (not from slopes measured again past float32's rounding: a factor of 2 reads as 2.14
        # there, a small slope as none -- the culprit's own check, in float64, says more)
        cause = None if remeasured else likely_cause(
            arr_a, arr_n, s.tol(arr_n), order=order, in_label=labels.input(i),
            incoming=labels.incoming(i), in_shape=shape_in, out_shape=shape_out,
            scales_with_grad=scales)
        if cause is None and len(shape_in) >= 2 and shape_in[-1] == shape_in[-2]:
            # one more direction, transposed: does the VJP hand back the gradient transposed?
            wt = np.swapaxes(w.reshape(shape_in), -1, -2).ravel()
            along = _slope_along(p, s, i, wt, vs, c, remeasured)
            if abs(an[-1] - along) <= float(s.tol(np.array(along))):
                cause = transposed_cause(labels.input(i), shape_in)
        details.append(f"({labels.input(i)} has {g.size} elements, more than the {LOCALISE_MAX} "
                       "that fast mode checks one by one; run with fast_mode=False to see which "
                       "elements are wrong.)")
    return GradcheckReport(False, "wrong_vjp", order, head, details, _second_order_cause(p, cause),
                           entries)


def _slope_along(p: Problem, s: Settings, i: int, w: np.ndarray, vs: list[np.ndarray], c: int,
                 remeasured: bool) -> float:
    """The slope of ``v . output c`` along ``w``: a central difference with eps, or where eps
    could not judge (``remeasured``), extrapolated from the first bigger step and its double."""
    zeros = [np.zeros_like(v) for v in vs]
    if not remeasured:
        return float(directional(p, i, w, vs, s.eps, zeros)[0][c])
    step = _remeasure_steps(p, s, i)[0]
    one = float(directional(p, i, w, vs, step, zeros)[0][c])
    return (4 * one - float(directional(p, i, w, vs, 2 * step, zeros)[0][c])) / 3


def _graph_changes_the_vjp(p2: Problem, fast: Any, s: Settings,
                           diff: list[int]) -> GradcheckReport | None:
    """A failed check where the first derivatives computed with their graph (``create_graph=
    True``: the path a second derivative differentiates) differ from those computed without it
    (the path the first-order check judged) by more than the tolerance: a VJP whose
    differentiable branch is wrong passed both checks (PyTorch's too)."""
    try:
        with_graph = p2.values()
        p2.value_func = fast
        plain = p2.evaluate()
    except Exception:  # (the check itself says what it can of such a function)
        return None
    finally:
        p2.value_func = None
    for k, (a, b) in enumerate(zip(with_graph, plain)):
        if a.shape != b.shape:
            return None
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(a - b) <= s.atol + s.rtol * np.abs(b)) & np.isfinite(b)
        if bad.any():
            e = int(np.flatnonzero(bad)[0])
            return GradcheckReport(False, "first_derivative", 2, (
                f"the VJP gives other values when its graph is recorded (create_graph=True, the "
                f"VJP a second derivative differentiates) than without it (the VJP the "
                f"first-order check judged): the gradient of input {diff[k]} at element "
                f"{e} is {a[e]:.10g} with create_graph=True and {b[e]:.10g} without "
                f"({int(bad.sum())} of {bad.size} elements differ). A backward with a fast "
                "path for first derivatives and a differentiable one for create_graph must "
                "give the same values; the second one is the likely culprit"))
    return None


def _second_order_cause(p: Problem, cause: str | None) -> str | None:
    if isinstance(p.func, FirstDerivatives):
        try:
            return p.func.constant_in_vjp(p.inputs) or cause
        except Exception:  # the hint is a bonus; the check's verdict stands without it
            return cause
    return cause


# ------------------------------------------------------------------------------ second order
def _second_order(p: Problem, s: Settings, outs: tuple[Tensor, ...], grad_outputs: Any,
                  swaps: Swaps, notes: list[str],
                  own: dict[int, np.dtype] | None = None) -> GradcheckReport:
    func, inputs, diff = p.func, p.inputs, p.diff
    which = [j for j, o in enumerate(outs) if o.dtype.kind == "f" and o.requires_grad]
    if s.check_first_order:
        first = Settings(**{**dataclasses.asdict(s), "fast_mode": True, "method": "finite_differences"})
        p.try_value_func(no_grad()(func))
        r1 = _check(p, first, Labels(), swaps, list(notes))
        if not r1.ok and not s.fast_mode and r1.kind == "wrong_vjp":
            r1 = _check(p, s, Labels(), swaps, list(notes))
        if not r1.ok:
            if r1.kind == "wrong_vjp":
                r1.kind = "first_derivative"
                r1.headline = ("gradgradcheck checks second derivatives, and the first derivative "
                               "is already wrong, so it stops here: " + r1.headline)
            elif r1.kind in ("not_connected", "not_deterministic", "not_reentrant"):
                r1.headline = ("gradgradcheck checks second derivatives, and the first-order "
                               "check failed, so it stops here: " + r1.headline)
            else:
                r1.headline = ("gradgradcheck checks second derivatives, and the first derivative "
                               "cannot be checked at this point, so it stops here: " + r1.headline)
            return r1
    if grad_outputs is None:
        rng = np.random.default_rng(s.seed + 1)
        gos = tuple(Tensor(rng.standard_normal(outs[j].shape).astype(outs[j].dtype),
                           requires_grad=True, device=outs[j].device) for j in which)
        for g in gos if s.non_contiguous_grad_outputs else ():
            if g.ndim:  # every other element of an array twice as long: not contiguous
                base = g._data.repeat(2, axis=-1)
                g._data = base[..., ::2]
    else:
        gos = as_tuple(grad_outputs)
        if len(gos) != len(which):
            raise ValueError(f"gradgradcheck: got {len(gos)} grad_outputs for {len(which)} "
                             "differentiable outputs")
        gos = tuple(g if g.requires_grad else Tensor(g._data, requires_grad=True) for g in gos)
        for g in gos:  # float16/float32 grad_outputs in float64 too, as the inputs (a float32 v
            if g.dtype.kind == "f" and g.dtype != np.float64:  # nudged by eps=1e-6 rounded the
                swaps.swap(g, g._data.astype(np.float64))  # nudge away: numerical 0)
    n = len(inputs)
    inputs2 = tuple(inputs) + tuple(gos)
    diff2 = list(diff) + [n + k for k in range(len(gos))]
    p2 = Problem(FirstDerivatives(func, n, which, diff), inputs2, diff2, list(range(len(diff))))
    p2.try_value_func(FirstDerivatives(func, n, which, diff, create_graph=False))
    if p2.value_func is None:
        differs = _graph_changes_the_vjp(p2, FirstDerivatives(func, n, which, diff,
                                                              create_graph=False), s, diff)
        if differs is not None:
            return differs
    report = _check(p2, s, Labels(2, n, diff), swaps, notes, order=2)
    if report.ok and own and any(inputs[i]._data.dtype == np.float64 for i in own):
        # the VJP's VJP in the inputs' own precision too, as gradcheck does the VJP (one that
        # leaves the graph, or is 5% off, in float32 only passed)
        failed = _own_precision(p2, own, s, swaps, Labels(2, n, diff), report.notes)
        if failed is not None:
            failed.order = 2
            failed.headline = "second derivative: " + failed.headline.replace(
                "gradcheck failed: the VJP", "the VJP of the VJP", 1)
            failed.notes = report.notes
            report = failed
    if report.ok and s.check_first_order and r1.atol_hid and not report.atol_hid:
        # (the first-order check passed by atol alone: its warning is gradgradcheck's too)
        report.atol_hid = "its first-order check " + r1.atol_hid.removeprefix("it ")
        report.notes.append(report.atol_hid)
    return report


def _proportional(values: np.ndarray, v: np.ndarray) -> bool:
    """Whether ``values`` is a multiple of the random cotangent ``v`` (``g.detach() * 2``):
    a random vector is no other constant's multiple by chance."""
    if values.shape != v.shape or not v.size or not np.isfinite(values).all():
        return False
    if v.size == 1:  # (any number is a multiple of another: only the cotangent itself counts)
        return bool(np.array_equal(values, v))
    vv = float(np.vdot(v, v))
    c = float(np.vdot(v, values)) / vv if vv else 0.0
    return c != 0.0 and bool(np.allclose(values, c * v, rtol=1e-9, atol=0.0))


class FirstDerivatives:
    """``(*inputs, *v) -> grad(func(*inputs), checked inputs, v, create_graph=True)``: the function
    whose Jacobian ``gradgradcheck`` checks (a zero tensor where an input gets no gradient)."""

    def __init__(self, func: Callable[..., Any], n: int, which: list[int], diff: list[int],
                 create_graph: bool = True) -> None:
        self.func, self.n, self.which, self.diff = func, n, which, diff
        self.create_graph = create_graph  # False: values only (finite differences)

    def _grads(self, args: tuple[Any, ...]) -> tuple[tuple[Tensor, ...], tuple[Any, ...]]:
        ins, vs = args[: self.n], args[self.n:]
        os = outputs_of(self.func, ins)
        gs = grad([os[j] for j in self.which], [ins[i] for i in self.diff], list(vs),
                  create_graph=self.create_graph, allow_unused=True)
        return os, tuple(Tensor(np.zeros(ins[i].shape)) if g is None else g
                         for i, g in zip(self.diff, gs))

    def __call__(self, *args: Any) -> tuple[Tensor, ...]:
        return self._grads(args)[1]

    def constant_in_vjp(self, args: tuple[Any, ...]) -> str | None:
        """A constant shaped like a checked input that a VJP computed with (not a 0/1 mask): the
        mark of a VJP built from ``.data``/``.numpy()``/``.detach()``, whose derivative is lost."""
        ins, vs = args[: self.n], args[self.n:]
        shapes = {tuple(ins[i].shape) for i in self.diff if ins[i]._data.size > 1}
        others = [t._data for m, t in enumerate(ins) if isinstance(t, Tensor) and m not in self.diff]
        with keep_inputs():
            os, gs = self._grads(args)
        forward = {id(node) for node in _collect([o.grad_fn for o in os if o.grad_fn is not None])}
        for node in reversed(_collect([g.grad_fn for g in gs if g.grad_fn is not None])):
            if id(node) in forward or node.inputs is None:
                continue
            for edge, t in zip(node.next, node.inputs):
                if edge is not None or t.dtype.kind != "f" or any(t._data is o for o in others):
                    continue
                values = to_numpy(t._data)
                # the incoming gradient itself, detached (`g.detach()`): the cotangent as given
                incoming = [k for k, v in enumerate(vs) if isinstance(v, Tensor) and (
                    t._data is v._data or _proportional(values, to_numpy(v._data)))]
                if not incoming and (tuple(t.shape) not in shapes
                                     or np.isin(values, (0, 1)).all()):
                    continue  # (a 0/1 mask, relu's out > 0: its derivative is 0 anyway)
                detached = [i for i in self.diff if t._data is ins[i]._data]
                if incoming:
                    what = f"the incoming gradient (grad_output {incoming[0]}), detached"
                    fix = ("Use the incoming gradient `grad` as it arrives (it carries the "
                           "second derivative's graph): do not detach it or take its `.data`.")
                else:
                    what = (f"input {detached[0]} itself, detached" if detached else
                            f"a constant shaped like an input {tuple(t.shape)}")
                    fix = ("Compute it with Tensor ops on `ctx.saved_tensors` and the incoming "
                           "gradient, neither detached.")
                return (f"the VJP computes with {what} -- at {node.source_line}, in `{node.name}` "
                        "-- which has no derivative: a value taken out of the graph (`.data`, "
                        "`.numpy()`, `.detach()`, a new Tensor) loses its own derivative, so the "
                        f"second derivative misses that part. {fix}")
        return None
