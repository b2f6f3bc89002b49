"""What a gradient check found, in words a newcomer can act on.

A :class:`GradcheckReport` leads with the verdict and the worst element, then a *likely cause*
where one is recognisable from the numbers:

* every failing entry off by one factor           -> a constant factor (a missing 1/2, mean vs sum);
* a VJP that does not scale with its grad_output  -> the incoming gradient is not multiplied in;
* no gradient where the function clearly depends on the input -> the VJP ignores that input (or,
  for a second derivative, computes with ``.data``/``.numpy()``/``detach()`` and leaves the graph);
* a broadcast input whose gradient is off         -> the broadcast dimensions are reduced wrongly;
* a square input's gradient equal to the numerical one transposed -> the VJP transposes it;
* gradient where the output does not depend on the element -> wrong indices, axes or transpose.

Whole Jacobians are printed only when they are small; otherwise the few worst entries are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

#: Jacobians with at most this many entries are printed whole in a report
PRINT_JACOBIAN_MAX = 36
#: how many of the worst entries a report lists
WORST = 5


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck``/``gradgradcheck`` when a check fails. ``err.report`` is the
    :class:`GradcheckReport`; ``err.node`` the graph node of the op found to be wrong (or None), for
    ``viz.draw(*err.report.outputs, highlight=err.node)``."""

    def __init__(self, message: str, report: GradcheckReport | None = None) -> None:
        super().__init__(message)
        self.report = report

    @property
    def node(self) -> Any:
        return None if self.report is None else self.report.node


class NotDifferentiableError(GradcheckError):
    """The check point sits on a kink (relu or abs at 0, a tie of max, clamp at its bound): the
    left and right slopes differ, so no VJP can match a finite difference there."""


@dataclass
class Entry:
    """One compared entry: ``d output[out_index] / d input[in_index]`` (or, in fast mode, a
    projection of it)."""

    input: int
    output: int | None
    in_index: tuple[int, ...] | None
    out_index: tuple[int, ...] | None
    analytical: float
    numerical: float
    left: float | None = None  # one-sided slopes, where measured
    right: float | None = None
    jump: bool = False  # the difference quotient grows as the step shrinks
    edge: bool = False  # a one-sided difference is NaN (the edge of the function's domain)
    tie: float | None = None  # tied inputs: the slope of moving them together (not the sum)

    @property
    def abs_error(self) -> float:
        return abs(self.analytical - self.numerical)

    @property
    def rel_error(self) -> float:
        return self.abs_error / abs(self.numerical) if self.numerical != 0 else float("inf")


@dataclass
class GradcheckReport:
    """The result of a check: truthy when it passed; ``str(report)`` says what was found.

    ``kind``: ``"ok"``, ``"wrong_vjp"`` (a first or second derivative is wrong),
    ``"first_derivative"`` (gradgradcheck found the first derivative wrong),
    ``"not_differentiable"`` (a kink, a jump or a domain edge at the check point),
    ``"not_finite"`` (an input or the value is inf or NaN there), ``"not_connected"`` (an output
    that changes with an input its graph does not reach: a ``.detach()``, ``.data`` or numpy
    inside), ``"not_reentrant"`` (two backward passes
    disagree), ``"not_deterministic"`` (two calls of the function itself disagree, or it changes
    an input in place), ``"taylor"``
    (the Taylor remainder does not shrink as h²).
    ``order``: 1 for first derivatives, 2 for second. ``cause``: the likely cause, in words.
    ``worst``: the worst entries. ``node``: the graph node of the op found to be wrong, with
    ``outputs`` the replayed outputs whose graph holds it (``viz.draw(*report.outputs,
    highlight=report.node)``). ``notes``: how the check ran (precision, moved points, mode).
    """

    ok: bool
    kind: str = "ok"
    order: int = 1
    headline: str = ""
    details: list[str] = field(default_factory=list)
    cause: str | None = None
    worst: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    node: Any = None
    outputs: tuple[Any, ...] = ()
    culprit: str | None = None
    node_report: GradcheckReport | None = None
    orders: dict[int, float] = field(default_factory=dict)  # Taylor: observed order per input
    method: str = "finite_differences"
    show_node_report: bool = False  # the checked function has more than one op
    atol_hid: str = ""  # a pass by atol alone: entries too small to judge (gradcheck warns)
    cause_of: str = ""  # a composite's cause read from this op's own check (its input numbers)

    def __bool__(self) -> bool:
        return self.ok

    @property
    def output(self) -> Any:
        """The first replayed output (whose graph holds ``node``), or None."""
        return self.outputs[0] if self.outputs else None

    def __str__(self) -> str:
        lines = [self.headline]
        if self.cause and self.cause_of:  # ("input 0" there is the op's, not the function's)
            lines.append(f"Likely cause (in {self.cause_of}, its inputs numbered as that op's): "
                         f"{self.cause}")
        elif self.cause:
            lines.append(f"Likely cause: {self.cause}")
        if self.culprit:
            lines.append(self.culprit)
        lines += self.details
        if self.notes:
            lines.append("How it was checked: " + " ".join(self.notes))
        if self.node_report is not None and self.show_node_report:
            lines.append("The op's own check:")
            lines += ["  " + line for line in self.node_report.headline.splitlines()]
            if self.node_report.cause and self.node_report.cause != self.cause:
                lines.append(f"  Likely cause: {self.node_report.cause}")
        return "\n".join(line for line in lines if line)

    def error(self) -> GradcheckError:
        cls = NotDifferentiableError if self.kind == "not_differentiable" else GradcheckError
        return cls(str(self), self)


# ------------------------------------------------------------------ advice, per entry point
def move_off_kinks(caller: str) -> str:
    """How to check away from kinks and ties, in the options of the entry point (``caller``)
    the report is shown from: ``gradcheck``/``gradgradcheck`` move the point (``avoid_kinks``),
    ``check_function`` draws its inputs away from them (``away_from``, ``distinct``)."""
    if caller == "check_function":
        return ("pass check_function away_from=[...] (the kinks: [0.0] for relu and abs, the "
                "bounds for clamp) or distinct=True (no ties: max, sort, median) to draw the "
                "inputs away from them")
    return "pass avoid_kinks=True to move the check point a little"


def scale_the_step(caller: str, eps: float) -> str:
    """What to do where the step ``eps`` drowns in the rounding of a large input element."""
    if caller == "check_function":
        return ("Draw inputs of order 1 (check_function's min_value and max_value), where its "
                "step is far above rounding.")
    return f"Pass an eps scaled to the input (about {eps:.3g}), or check at inputs of order 1."


def rule(atol: float, rtol: float) -> str:
    return (f"rule: |analytical - numerical| <= atol + rtol * |numerical| with atol={atol:g}, "
            f"rtol={rtol:g}")


def entry_table(entries: list[Entry], in_label: Any, out_label: Any) -> list[str]:
    """The worst entries as an aligned table."""
    rows = [("input element", "output element", "analytical", "numerical", "abs error",
             "rel error")]
    for e in entries:
        rows.append((f"{in_label(e.input)} {e.in_index}" if e.in_index is not None else "-",
                     f"{out_label(e.output)} {e.out_index}" if e.out_index is not None else "(projected)",
                     f"{e.analytical:.6g}", f"{e.numerical:.6g}", f"{e.abs_error:.3g}",
                     f"{e.rel_error:.3g}"))
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]


def small_jacobians(a: np.ndarray, n: np.ndarray) -> list[str]:
    if a.size > PRINT_JACOBIAN_MAX:
        return [f"(the Jacobians have {a.size} entries; they are printed only up to "
                f"{PRINT_JACOBIAN_MAX})"]
    def shown(x: np.ndarray) -> str:
        # (rounded as printed, then + 0.0: no "-0." for a tiny negative or a negative zero)
        with np.errstate(all="ignore"):
            x = np.where(np.isfinite(x), np.round(x, 6), x) + 0.0
        return str(x)

    with np.printoptions(precision=6, suppress=True, linewidth=100):
        return ["analytical Jacobian (rows: input elements, columns: output elements):",
                shown(a), "numerical Jacobian:", shown(n)]


# ------------------------------------------------------------------------------- likely causes
def _fraction(c: float) -> str:
    f = Fraction(c).limit_denominator(16)
    if abs(float(f) - c) <= 1e-6 * max(1.0, abs(c)) and f.denominator != 1:
        return f"{f.numerator}/{f.denominator}"
    return f"{c:.4g}"  # (the ratios agree to 1e-3: more digits would be rounding)


def broadcast_dims(in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> list[int] | None:
    """The output dims an input of ``in_shape`` is broadcast over to make ``out_shape``, or None
    when it is not a broadcast (same shape, or shapes that do not broadcast)."""
    if in_shape == out_shape or len(in_shape) > len(out_shape) or not out_shape:
        return None
    padded = (1,) * (len(out_shape) - len(in_shape)) + tuple(in_shape)
    dims = []
    for d, (a, b) in enumerate(zip(padded, out_shape)):
        if a == b:
            continue
        if a != 1:
            return None
        dims.append(d)
    return dims or None


def kink_verdict(analytical: float, left: float, right: float) -> str:
    """Why a VJP entry at a kink is wrong: outside the one-sided slopes, or -- inside them --
    part of a tie whose entries do not add up to what moving the tied elements together gives
    (was: "gives 1, outside [0, 1]" for max of [3, 3, 1] with a VJP of (1, 1, 0))."""
    lo, hi = sorted((left, right))
    slopes = f"the one-sided slopes are {left:.6g} and {right:.6g}"
    slack = 1e-5 + 1e-3 * max(abs(lo), abs(hi))  # (the slopes are differences: 0.9999999999)
    if lo - slack <= analytical <= hi + slack:
        return (f"{slopes}, and the VJP gives {analytical:.6g}, between them -- but the element "
                "is tied with others (in this input or another: max or maximum of equal "
                "values), and their VJP entries do not add up to what moving them all together "
                "gives: a VJP must share the gradient among tied elements -- all of it to one "
                "(PyTorch's way) or split evenly -- not hand it whole to each, nor to none (a "
                "strict comparison, `>` on both sides, drops it)")
    return (f"{slopes}, and the VJP gives {analytical:.6g}, outside [{lo:.6g}, {hi:.6g}] -- a "
            "VJP may pick any value between the slopes at a kink (PyTorch picks one), not one "
            "outside them")


def transposed_cause(in_label: str, in_shape: tuple[int, ...]) -> str:
    m = in_shape[-1]
    return (f"analytical = numerical with {in_label}'s last two dims swapped: the VJP returns "
            f"the gradient transposed (for a square {m}×{m} input the shapes agree, so nothing "
            "else catches it) -- check the order of a matmul's factors and which side takes the "
            "`.T` (for y = a @ b: grad_a = g @ b.T, grad_b = a.T @ g)")


def _transposed(a: np.ndarray, n: np.ndarray, tol: np.ndarray, in_shape: tuple[int, ...]) -> bool:
    """Whether ``a`` (first axis: the input's elements) equals ``n`` with the input's last two
    dims swapped, and not ``n`` itself: a gradient returned transposed (square matrices only --
    any other shape fails the VJP's shape check first)."""
    if len(in_shape) < 2 or in_shape[-1] != in_shape[-2] or in_shape[-1] < 2:
        return False
    size = int(np.prod(in_shape))
    if a.ndim == 0 or a.shape[0] != size or a.shape != n.shape:
        return False
    perm = np.swapaxes(np.arange(size).reshape(in_shape), -1, -2).ravel()
    t = np.broadcast_to(tol, n.shape)
    return bool(np.all(np.abs(a - n[perm]) <= t[perm])) and not bool(np.all(np.abs(a - n) <= t))


def likely_cause(a: np.ndarray, n: np.ndarray, tol: np.ndarray, *, order: int, in_label: str,
                 in_shape: tuple[int, ...], out_shape: tuple[int, ...] | None,
                 scales_with_grad: bool | None, incoming: bool = False) -> str | None:
    """A cause recognisable from the analytical ``a`` and numerical ``n`` values (same shape, any
    granularity: a whole Jacobian, a projected gradient, or one number), or None. ``incoming``:
    the input is gradgradcheck's grad_output, the gradient the VJP receives."""
    second = order == 2
    with np.errstate(invalid="ignore"):
        blown = ~np.isfinite(a) & np.isfinite(n)
    if np.any(blown):  # (before the scaling test: NaN * 2 is no 2 * NaN to it)
        k = int(np.flatnonzero(np.ravel(blown))[0])
        got = "NaN" if np.isnan(np.ravel(a)[k]) else "inf"
        whose = "VJP's VJP" if second else "VJP"
        return (f"the {whose} gives {got} where the derivative is "
                f"finite (numerical {float(np.ravel(n)[k]):.4g}): a 0/0, inf * 0 or inf - inf on "
                "the way (x / x at x = 0; the derivative of sqrt or log at 0 times a zero). "
                "Compute it in a form that stays finite there, or choose the value at that point "
                "with where(...)")
    if scales_with_grad is False:
        if second:
            return ("the VJP's VJP does not scale with its incoming gradient: somewhere the gradient "
                    "that arrives is not multiplied in (or a constant is added to it)")
        return ("the VJP does not scale with the incoming gradient: it returns the local derivative "
                "without multiplying by `grad` (or adds something to it). A VJP must be linear in "
                "`grad`: return `grad * f'(x)`, not `f'(x)`")
    sig = np.abs(n) > tol
    a_on = np.abs(a) > tol
    # entries one side gives and the other does not: where that other side is under the
    # tolerance and under a quarter of the first (not an entry of 2e-5 beside 1e-5 that a
    # doubled VJP makes of a numerical one just under atol: "wrong indices" of a factor of 2)
    with np.errstate(invalid="ignore"):
        stray_a = a_on & ~sig & (np.abs(n) < 0.25 * np.abs(a))
        stray_n = sig & ~a_on & (np.abs(a) < 0.25 * np.abs(n))
    dims = broadcast_dims(in_shape, out_shape) if out_shape is not None else None
    bcast = (f"{in_label} (shape {in_shape}) is broadcast over dim(s) {dims} of the output (shape "
             f"{out_shape}): its gradient is the incoming gradient summed over exactly those dims "
             "(keepdim where the input has size 1) -- not a mean, not another axis") if dims else None
    if sig.any() and not a_on.any():
        if second and incoming:
            return (f"the VJP has no derivative with respect to {in_label}, the incoming gradient: "
                    "it uses that gradient outside the graph (`grad.detach()`, `grad.data`, "
                    "`.numpy()` or a new Tensor), so its own derivative is lost. Use the incoming "
                    "gradient `grad` as it arrives")
        if second:
            return (f"the VJP has no derivative with respect to {in_label}: it is computed outside "
                    "the graph (from `.data`, `.numpy()`, `.detach()` or a new Tensor), so its own "
                    "derivative is lost. Write the VJP in Tensor ops on `ctx.saved_tensors`")
        return (f"the VJP gives no gradient (None or zeros) for {in_label}, but the output depends "
                "on it: it ignores that input")
    both = sig & a_on
    if both.any() and not stray_a.any() and not stray_n.any():
        ratio = a[both] / n[both]
        c = float(np.median(ratio))
        # (one entry is a ratio of any value: a factor only when it is a simple one, 2 or 1/3)
        simple = abs(float(Fraction(c).limit_denominator(16)) - c) <= 1e-3 * abs(c)
        # (each entry within 0.1% of the factor, or within its tolerance of it: measurements
        # rounded in float32 scatter by more than 0.1%)
        fit = (np.abs(ratio - c) <= 1e-3 * abs(c) + 1e-8) | (
            np.abs(a[both] - c * n[both]) <= abs(c) * np.broadcast_to(tol, a.shape)[both])
        if np.all(fit) and abs(c - 1) > 1e-3 and (
                int(both.sum()) > 1 or simple):
            if abs(c + 1) <= 1e-3:
                return ("analytical = -numerical at every entry that matters: the VJP's sign is "
                        "flipped")
            text = (f"analytical = {_fraction(c)} × numerical at every entry that matters: a "
                    "constant factor is wrong (a missing 1/2 or 2, a mean where a sum belongs, a "
                    "doubled term)")
            if int(both.sum()) == 1:  # (a shrunk case, [0, 0, 0, 0, -1]: one entry to go by)
                text += (" -- read from the one entry that is not zero here: check at a point "
                         "with more, where the factor may turn out to vary (wrong on one side of "
                         "0 only)")
            if dims is not None:
                k = int(np.prod([out_shape[d] for d in dims]))  # type: ignore[index]
                if abs(c * k - 1) <= 1e-3 or abs(c - k) <= 1e-3 * k:
                    text += f". The factor is 1/{k} or {k}, the size of the broadcast: {bcast}"
            return text
    if _transposed(a, n, tol, in_shape):
        return transposed_cause(in_label, in_shape)
    if stray_a.any():
        if bcast:
            return bcast
        return ("the VJP puts gradient on elements the output does not depend on (numerical 0, "
                "analytical not): wrong indices, axis, transpose or reshape in the VJP")
    if stray_n.any():
        if bcast:
            return bcast
        return ("the VJP gives no gradient for some elements the output depends on (a border, a "
                "masked region, a skipped case)")
    return bcast
