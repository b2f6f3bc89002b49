"""The Taylor test: a gradient check with no step size and no tolerance to tune.

Along a random direction ``v``, with a random projection ``w`` of the outputs
(``phi(x) = w . f(x)``), the first-order Taylor remainder

    r(h) = |phi(x + h v) - phi(x) - h (J^T w) . v|

shrinks as ``h²`` when the VJP ``J^T w`` is right and only as ``h`` when it is wrong (the leftover
is ``h`` times the error of the directional derivative). Over ``h = h0, h0/2, ..., h0/2048`` the
*observed order* ``log2(r(h) / r(h/2))`` is about 2 or about 1: a verdict that needs no eps or
atol. The verdict takes the median order of the three smallest steps above rounding (Taylor's
theorem is about h -> 0, and big steps may cross the kinks of a relu network). Remainders at the
level of floating-point rounding are left out; if the three smallest are far down there (a
thirtieth of the rounding floor: a wrong VJP's remainder, falling as h, sinks only just under
it), the function is linear along ``v`` near ``x`` and the VJP exact. A remainder that falls as h
says the VJP's slope is off by ``r(h)/h``: under ``SLOPE_RTOL`` (1e-6) of the slope that is
rounding of the VJP's constants and passes, above it the VJP is wrong -- unless the gap between
the one-sided slopes stays as ``h`` shrinks (a smooth function's shrinks as ``f''·h``): then a
kink lies on the path (relu at 0) and the report says so.

It is the check for smooth functions. A network with thousands of relu or max-pool kinks has one
within a few 1e-5 of almost any point along a random direction, so its Taylor test often reports a
kink; check such networks with finite differences (eps = 1e-6 crosses far fewer).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_cnn.gradcheck.jacobian import Problem, dot
from tinygrad_cnn.gradcheck.report import GradcheckReport

if TYPE_CHECKING:
    from tinygrad_cnn.gradcheck.check import Labels

STEPS = 12  # h0, h0/2, ..., h0/2**11; then 12 more at a time while the order is not yet 2
ROUND_STEP = 1e3  # the smallest step: this many ulps of the biggest |x|
MAX_STEPS = 200  # (x² at 1e-20 with a doubled VJP shows its h·e term below h ~ 1e-20)
PASS_ORDER = 1.8
JUMP_ORDER = 0.4  # a remainder shrinking slower than h^0.4: the function jumps (sign at 0)
LOW_PASS_ORDER = 1.6  # in float32, whose rounding bends the smallest steps' order (sin(100 x))
EXACT = 0.03  # remainders this far under the floor are rounding alone (see taylor_check)
SLOPE_RTOL = 1e-6  # a VJP's slope off by less than this (relative) counts as rounding
LOW_SLOPE_RTOL = 1e-2  # in float32: what its rounding may hide where few steps rise above it
LOW_MIN_ABOVE = 4  # in float32: fewer steps above its rounding than this cannot fail a VJP


def _rms(f: np.ndarray) -> float:
    """The root mean square of the finite entries of ``f``; 1 where that is 0 or there are none."""
    fin = np.asarray(f, dtype=np.float64)
    fin = np.abs(fin[np.isfinite(fin)])
    top = float(fin.max()) if fin.size else 0.0
    if not top > 0:
        return 1.0
    return top * float(np.sqrt(np.mean((fin / top) ** 2)))  # (scaled: 1e200 squared is inf)


def _phi(ws: list[np.ndarray], fs: list[np.ndarray]) -> float:
    return float(sum(dot(w, f) for w, f in zip(ws, fs)))


def _wobble(ws: list[np.ndarray], p: Problem, i: int, x: np.ndarray, v: np.ndarray,
            fe: float, size: float) -> float:
    """The rounding noise of phi along ``v`` near ``x`` (of root-mean-square ``size``): its
    largest distance from the parabola fitted through thirteen points a few units of rounding
    of ``x`` apart."""
    step = 64 * fe * size + 1e-30
    hs = step * np.arange(-6, 7)
    phis = np.array([_phi(ws, p.evaluate_at(i, x + h * v)) for h in hs])
    fit = np.polyval(np.polyfit(hs / step, phis, 2), hs / step)
    return float(np.max(np.abs(phis - fit)))


def _slope_error(sr: np.ndarray, hs: np.ndarray, floor: np.ndarray) -> tuple[float, float] | None:
    """The VJP's slope error along ``v`` -- ``c1`` of ``R(h) = c1 h + c2 h² + c3 h³``, 0 for a
    right VJP -- fitted to the signed remainders ``sr`` at the steps ``hs`` by least squares,
    each ``R(h)/h`` weighted by its rounding bound ``floor/h`` (so the steps near rounding
    count little), dropping the biggest steps until the rest fit within their bounds (big
    steps may lie beyond the cubic's reach: sin(100 x) at h = 0.015). Returns ``c1`` and its
    standard error, or None when fewer than five steps fit."""
    order = np.argsort(-hs)
    q_all, s_all, h_all = (sr / hs)[order], (floor / hs)[order], hs[order]
    ok = np.isfinite(q_all) & np.isfinite(s_all) & (s_all > 0)
    q_all, s_all, h_all = q_all[ok], s_all[ok], h_all[ok]
    unit = float(np.max(s_all)) if s_all.size else 0.0  # (values of 1e-200: no underflow)
    if not unit > 0:
        return None
    for start in range(len(q_all)):
        q, sd, h = q_all[start:] / unit, s_all[start:] / unit, h_all[start:]
        if len(q) < 5:
            return None
        t = h / h[0]  # (scaled: a well-conditioned fit; c1 does not change)
        a = np.stack([np.ones_like(t), t, t * t], axis=1) / sd[:, None]
        try:
            coef, *_ = np.linalg.lstsq(a, q / sd, rcond=None)
            cov = np.linalg.pinv(a.T @ a)
        except np.linalg.LinAlgError:
            return None
        if np.max(np.abs(a @ coef - q / sd)) <= 1.0:
            return float(coef[0]) * unit, float(np.sqrt(max(cov[0, 0], 0.0))) * unit
    return None


def _floor(h: Any, ulps: float, fe: float, scale: float, dphi: float, x_round: float) -> Any:
    """The rounding floor of a remainder at steps ``h``: ``ulps`` units of phi's size (and of the
    slope's share of it), plus the rounding of x + h·v itself."""
    return ulps * fe * (scale + abs(dphi) * h + 1e-300) + x_round


def _probe(ws: list[np.ndarray], p: Problem, i: int, x: np.ndarray, v: np.ndarray,
           hs: np.ndarray, phi0: float, dphi: float, floor_at: Callable[[Any], Any],
           h_min: float) -> tuple[np.ndarray, list[float]] | None:
    """Steps below ``hs``, halving until three in a row are at rounding (or ``h_min``): where a
    kink crossed by the bigger steps is left behind."""
    new_h: list[float] = []
    new_phi: list[float] = []
    h, low = float(hs[-1]), 0
    while len(new_h) < 4 * STEPS and low < 3:
        h *= 0.5
        if h < h_min:
            break
        ph = _phi(ws, p.evaluate_at(i, x + h * v))
        new_h.append(h)
        new_phi.append(ph)
        low = low + 1 if abs(ph - phi0 - h * dphi) <= floor_at(h) else 0
    return (np.array(new_h), new_phi) if new_h else None


def _left_collapse(ws: list[np.ndarray], p: Problem, i: int, x: np.ndarray, v: np.ndarray,
                   hl: np.ndarray, lphis: np.ndarray, phi0: float, dphi: float,
                   floor_at: Callable[[Any], Any], h_min: float) -> float | None:
    """The steps on the left of x (``hl``, where the remainder ``lphis`` is far above rounding)
    continued down: where the remainder drops from above rounding to far under it in one
    halving and stays there, the bigger steps crossed a kink a little way off (relu at 1e-9
    from x), not one at x -- whose remainder shrinks as h to the smallest step, through the
    band between rounding and far under it. The last step that crossed, or None."""
    extra = _probe(ws, p, i, x, -v, hl, phi0, -dphi, floor_at, h_min)
    if extra is None:
        return None
    hs = np.concatenate([hl, extra[0]])
    rem = np.abs(np.concatenate([lphis, extra[1]]) - phi0 + hs * dphi)
    floor = floor_at(hs)
    above = np.flatnonzero(rem > floor)
    tail = np.arange(int(above[-1]) + 1, len(hs)) if above.size else np.arange(0)
    if above.size and len(tail) >= 2 and (rem[tail] < EXACT * floor[tail]).all():
        return float(hs[above[-1]])
    return None


def _jump(labels: Labels, p: Problem, i: int, rem: float, h: float, dphi: float, order: int,
          orders: dict[int, float]) -> GradcheckReport:
    head = (f"not differentiable: the Taylor test for {labels.input(i)} (shape "
            f"{p.in_shape(i)}) crosses a jump: along a random direction the remainder stays at "
            f"about {rem:.4g} down to h = {h:.3g} (observed order h^{orders[i]:.2f}) -- a step "
            "(sign at 0, floor or round at an integer, a comparison at its threshold) sits at or "
            "within h of the check point, so there is no derivative there to compare the VJP "
            f"(slope {dphi:.6g}) with. Check at a point away from it.")
    if order == 2:
        head = "second derivative: " + head
    return GradcheckReport(False, "not_differentiable", order, head, orders=orders,
                           method="taylor")


def _kink(labels: Labels, p: Problem, i: int, left: float, right: float, dphi: float,
          shrink: str, order: int, orders: dict[int, float], table: list[str]) -> GradcheckReport:
    head = (f"not differentiable: the Taylor test for {labels.input(i)} (shape "
            f"{p.in_shape(i)}) crosses a kink: along a random direction the slope is "
            f"{left:.6g} on the left and {right:.6g} on the right (the VJP gives "
            f"{dphi:.6g}), so the remainder shrinks as {shrink}. A kink (relu at "
            "0, a tie of max, clamp at its bound) sits within h of the check point: "
            "check at another point, or with finite differences (the default method), "
            "whose far smaller step crosses fewer kinks.")
    if order == 2:
        head = "second derivative: " + head
    return GradcheckReport(False, "not_differentiable", order, head, table, orders=orders,
                           method="taylor")


@np.errstate(all="ignore")  # (big steps may overflow the function: (1e6 x).exp() at h = 1e-2)
def taylor_check(p: Problem, labels: Labels, rng: np.random.Generator,
                 order: int = 1, low_precision: bool = False) -> GradcheckReport:
    """The Taylor test of ``p``'s VJPs. ``low_precision``: the function rounds to float32 on
    the way (found by the check), so its outputs carry float32 rounding whatever their dtype."""
    outs = p.outputs()
    fe = max([float(np.finfo(outs[j].dtype).eps) for j in p.which], default=1e-16)
    ulps = 1e3  # rounding of phi bounded by this many units of |w|.|f| (a long float64 chain)
    slope_rtol = SLOPE_RTOL  # a slope error under this (relative) cannot be told from rounding
    if low_precision:
        slope_rtol = LOW_SLOPE_RTOL
        fe = max(fe, float(np.finfo(np.float32).eps))
        ulps = 0.5  # (half an ulp of each output; with the wobble measured below)
    f0 = p.values()
    # each output weighed by its own size (root mean square): one output of 1e6 beside another
    # of 1 made the second's slope error look like the first's rounding (a VJP 20% off passed)
    ws = [rng.standard_normal(outs[j]._data.size) / _rms(f) for j, f in zip(p.which, f0)]
    phi0 = _phi(ws, f0)
    scale = float(sum(dot(np.abs(w), np.abs(f)) for w, f in zip(ws, f0)))
    grads = [np.zeros(p.inputs[i]._data.size) for i in p.diff]
    for c in range(len(p.which)):
        for r, g in enumerate(p.vjps(outs, c, ws[c])):
            grads[r] += g
    if not all(np.isfinite(g).all() for g in grads):
        # a NaN or inf VJP gives NaN remainders, which no comparison flags (the test passed
        # "exact to rounding"): it cannot judge them, and says so (the caller asks finite
        # differences, element by element)
        return GradcheckReport(False, "taylor_not_finite", order,
                               "the VJP gave NaN or inf, which the Taylor test cannot judge",
                               method="taylor")
    orders: dict[int, float] = {}
    rounded: dict[int, float] = {}  # inputs whose VJP slope is off by rounding (relative)
    unresolved: dict[int, float] = {}  # inputs whose remainder float32 rounding swamped
    # inputs passed with an order under PASS_ORDER: their fitted slope error is under what the
    # function's precision resolves (the bound, relative to the slope)
    unresolved_slope: dict[int, float] = {}
    crossed: dict[int, float] = {}  # inputs exact below a step that crossed a kink (that step)
    tables: list[str] = []
    for r, i in enumerate(p.diff):
        x = p.base(i).ravel()
        v = rng.standard_normal(x.size)
        dphi = dot(grads[r], v)
        size = float(np.sqrt(np.mean(x * x))) if x.size else 1.0
        # (float16 outputs start big; float32 rounding is measured, so small steps will do)
        h0 = (1e-2 if fe < 1e-10 or low_precision else 0.25) * max(1.0, size)
        # rounding of x + h v itself (large inputs) moves phi by about this much
        x_round = ulps * fe * dot(np.abs(grads[r]), np.abs(x) * np.abs(v))
        if low_precision:  # measured, not bounded (the bound, 30 float32 ulps of every input's
            # contribution, would hide a VJP off by 10%): phi's wobble about a parabola
            x_round = 4 * _wobble(ws, p, i, x, v, fe, size if x.size else 0.0) + x_round / ulps
        # no step under the rounding of x: there x + h·v == x, a remainder of 0 says nothing
        # (a jump -- floor at 1.0 -- would look exact there)
        h_min = ROUND_STEP * fe * float(np.max(np.abs(x), initial=0.0))
        floor_at = functools.partial(_floor, ulps=ulps, fe=fe, scale=scale, dphi=dphi,
                                     x_round=x_round)
        # a first step inside the function's domain on both sides (log near 0, erfinv near 1:
        # a step across the edge gives NaN, and the one-sided slopes would read as a kink)
        for _ in range(MAX_STEPS):
            first = _phi(ws, p.evaluate_at(i, x + h0 * v))
            if h0 < h_min or (np.isfinite(first) and
                              np.isfinite(_phi(ws, p.evaluate_at(i, x - h0 * v)))):
                break
            h0 *= 0.5 ** 4
        else:
            first = _phi(ws, p.evaluate_at(i, x + h0 * v))
        hs = h0 * 0.5 ** np.arange(STEPS)
        phis = [first] + [_phi(ws, p.evaluate_at(i, x + h * v)) for h in hs[1:]]
        while True:
            sr = np.array([ph - phi0 - h * dphi for ph, h in zip(phis, hs)])  # (signed)
            rem = np.abs(sr)
            floor = floor_at(hs)
            above = rem > floor
            steps = len(hs)
            pairs = [k for k in range(steps - 1) if above[k] and above[k + 1]]
            if not pairs:
                break
            # Taylor's theorem is about h -> 0: judge by the smallest steps above rounding (bigger
            # ones may cross kinks of relu or max, or not be small yet for a function that
            # curves on a scale far below the inputs' size: sin of 1e6)
            last = pairs[-3:]
            order_now = float(np.median(np.log2(rem[last] / rem[[k + 1 for k in last]])))
            # an order of 2 is not yet a verdict: a VJP off by e shows as h·e only once h·e
            # outgrows the h² term (x² at x = 1e-7 with a VJP of 4x: below h ~ 1e-7), so go on
            # halving down to near rounding (few steps more for a smooth function of size 1)
            if not above[-3:].any() or steps >= MAX_STEPS or rem[-1] < 1e3 * floor[-1] or \
                    hs[-1] * 0.5 < h_min:
                break
            more = hs[-1] * 0.5 ** np.arange(1, STEPS + 1)  # not small enough yet: go on halving
            more = more[more >= h_min]
            hs = np.concatenate([hs, more])
            phis += [_phi(ws, p.evaluate_at(i, x + h * v)) for h in more]
        # the remainder drops from above rounding to far under it in one halving and stays
        # there: the steps above crossed a kink or a jump a little way off (relu at 1e-5 from
        # x), and below it the function is smooth and the VJP exact. A wrong VJP's h·e halves
        # with h, a right one's h² quarters: neither drops thirtyfold at once
        last_above = int(np.flatnonzero(above)[-1]) if above.any() else -1
        tail = np.arange(last_above + 1, len(hs))
        collapsed = bool(pairs) and len(tail) >= 2 and bool(
            (rem[tail] < EXACT * floor[tail]).all())
        settled = None  # steps below a crossed kink where the remainder falls as h^2
        if pairs and not collapsed and order_now < PASS_ORDER:
            # falling as h at the smallest steps so far: a wrong VJP, or steps still crossing a
            # kink a little way off (relu at 1e-9 from x). Below the kink the order turns to 2
            # (or the remainder to rounding); a wrong VJP's h·e only grows against h² as h
            # shrinks, so an order of 1 never turns into 2 further down
            extra = _probe(ws, p, i, x, v, hs, phi0, dphi, floor_at, h_min)
            if extra is not None:
                hs2 = np.concatenate([hs, extra[0]])
                phis2 = phis + extra[1]
                sr2 = np.array([ph - phi0 - h * dphi for ph, h in zip(phis2, hs2)])
                rem2 = np.abs(sr2)
                floor2 = floor_at(hs2)
                above2 = rem2 > floor2
                last2 = int(np.flatnonzero(above2)[-1]) if above2.any() else -1
                tail2 = np.arange(last2 + 1, len(hs2))
                steep = [k for k in range(len(hs), len(hs2) - 1)
                         if rem2[k + 1] > 1e3 * floor2[k + 1]
                         and np.log2(rem2[k] / rem2[k + 1]) >= PASS_ORDER]
                if last2 >= 0 and len(tail2) >= 2 and \
                        (rem2[tail2] < EXACT * floor2[tail2]).all():
                    collapsed, tail, last_above = True, tail2, last2
                elif len(steep) >= 3 and steep[-3:] == list(range(steep[-3], steep[-3] + 3)):
                    settled = [k + 1 for k in steep[-3:]]
                if collapsed or settled:
                    hs, phis, sr, rem, floor, above = hs2, phis2, sr2, rem2, floor2, above2
        if collapsed:
            orders[i] = float("inf")
            judged = [int(k) for k in tail[-3:]]
            crossed[i] = float(hs[last_above])
        elif settled:
            orders[i] = float(np.median(np.log2(rem[[k - 1 for k in settled]] / rem[settled])))
            judged = settled
            crossed[i] = float(hs[settled[0] - 1])
        elif not pairs or (rem[-3:] < EXACT * floor[-3:]).all():
            # at rounding level for the smallest steps -- far below the check's floor, which
            # a remainder h·(VJP error) falling as h only sinks just under: linear along v
            # there (bigger steps may have crossed a kink or a step of round/floor), and the
            # VJP exact
            orders[i] = float("inf")
            judged = list(range(len(hs) - 3, len(hs))) if not pairs else \
                [k + 1 for k in pairs[-3:]]
        else:
            orders[i] = order_now
            judged = [k + 1 for k in pairs[-3:]]
        passed = orders[i] >= (LOW_PASS_ORDER if low_precision else PASS_ORDER)
        hidden_slope = None  # a slope error found under an h² term (the order looked right)
        if pairs and not collapsed and not settled:
            # a second opinion from the signed remainders: the fitted slope error c1. The order
            # alone errs where c2 h² and c3 h³ cancel near the judged steps
            # (the order then swings, without a wrong VJP) and where e·h hides under h² down
            # to rounding (float32); c1 does not swing, and it is 0 for a right VJP
            est = _slope_error(sr, hs, floor)
            if est is not None:
                c1, se = est
                if passed and abs(c1) > 5 * se and abs(c1) > slope_rtol * abs(dphi):
                    passed = False  # a slope error the h² term hid from the order
                    hidden_slope = c1
                elif not passed and abs(c1) + 3 * se <= slope_rtol * abs(dphi) and not (
                        low_precision and abs(orders[i] - 1) < 0.2 and abs(c1) > 5 * se):
                    # (in float32 an order of 1 with a slope error well above its own noise is
                    # the h·e of a wrong VJP -- 0.3% off passed -- not rounding: a right VJP's
                    # orders there are 1.8-2.1)
                    # what h·e there may be is under the resolution of the function's
                    # precision: the h² and h³ terms, cancelling near the judged steps, or
                    # rounding bent the order -- said so in the report, with the bound (a
                    # wrong VJP by less than it passes: "h^1.00" beside "h^2 or faster" read
                    # as a contradiction)
                    passed = True
                    unresolved_slope[i] = slope_rtol
            if not passed and low_precision and int(above.sum()) < LOW_MIN_ABOVE:
                # float32's rounding swamps the remainder at all but a few steps: too few to
                # tell an order (a VJP off by 3% lifts h·e above it at many more)
                k = int(np.flatnonzero(above)[-1])
                unresolved[i] = float(floor[k] / hs[k])
                passed = True
        if passed:
            # right of x the VJP fits; left of it too? (relu at 0 along a v whose components
            # at the zeros are all negative is linear on the right: only -v sees the kink)
            hl = hs[judged]
            lphis = np.array([_phi(ws, p.evaluate_at(i, x - h * v)) for h in hl])
            lrem = np.abs(lphis - phi0 + hl * dphi)
            lfloor = floor_at(hl)
            # (well above rounding, and the slope off by more than rounding of the VJP's
            # constants: sigmoid near its inflection point is linear to a few rounding units)
            if len(hl) > 1 and (lrem > 30 * lfloor).all() and \
                    float(np.median(lrem / hl)) > SLOPE_RTOL * abs(dphi):
                lorder = float(np.median(np.log2(lrem[:-1] / lrem[1:])))
                behind = _left_collapse(ws, p, i, x, v, hl, lphis, phi0, dphi, floor_at, h_min)
                if behind is not None:  # (a kink a little way off on the left: relu at 1e-9
                    crossed[i] = behind  # from x, crossed by the steps on the left only)
                    continue
                if lorder < JUMP_ORDER and float(hl[-1]) <= 1e-4 * max(1.0, size):
                    # h^0 down to the smallest steps: a jump at the point (floor at 1.0 along
                    # a v that crosses it only to the left); at bigger steps one a little way
                    # off may be crossed, and is not this point's
                    orders[i] = lorder
                    return _jump(labels, p, i, float(lrem[-1]), float(hl[-1]), dphi, order,
                                 orders)
                if 0.6 <= lorder < PASS_ORDER:  # h^1: a kink (h^0 is a jump of round or
                    # floor a little way off, as bigger steps on the right may cross)
                    h = float(hl[-1])
                    left = (phi0 - float(lphis[-1])) / h
                    right = (phis[judged[-1]] - phi0) / h
                    return _kink(labels, p, i, left, right, dphi, f"h^{lorder:.2f} on the left",
                                 order, orders, [])
            continue
        # a remainder falling as h at the smallest steps: the VJP's slope is off by rem / h.
        # Off by less than SLOPE_RTOL of itself is rounding of its constants, not a wrong VJP
        # (hardsigmoid's VJP multiplies by PyTorch's float32 1/6, 3e-8 off, also in float64)
        off = float(np.median(rem[judged] / hs[judged]))
        if off <= SLOPE_RTOL * abs(dphi):
            rounded[i] = off / abs(dphi)
            continue
        # failed: a jump, a kink on the path, or a wrong VJP?
        if orders[i] < JUMP_ORDER:  # the remainder does not shrink at all: a step along v
            k = judged[-1]
            h = float(hs[k])
            return _jump(labels, p, i, float(rem[k]), h, dphi, order, orders)
        k = judged[-1]
        h = float(hs[k])
        right = (phis[k] - phi0) / h
        left = (phi0 - _phi(ws, p.evaluate_at(i, x - h * v))) / h
        # the gap between the one-sided slopes: a smooth function's shrinks with h (as f''·h),
        # a kink's stays (relu at 0 too, where both slopes miss the VJP's 0 by more than they
        # differ). Not "the gap exceeds the slopes' distance from the VJP": that holds for a VJP
        # off by about f''·h, as wrong as one off by more
        big = 4 * h
        gap_big = ((_phi(ws, p.evaluate_at(i, x + big * v)) - phi0)
                   - (phi0 - _phi(ws, p.evaluate_at(i, x - big * v)))) / big
        noise = 8 * fe * (scale + abs(dphi) * big + 1e-300) / h  # rounding in a slope at h
        gap = right - left
        kink = abs(gap) > 10 * noise and abs(gap) > 0.5 * abs(gap_big)
        table = ["  h           remainder    order"]
        for m in range(max(0, len(hs) - STEPS - 4), len(hs)):  # the smallest steps
            o = f"{np.log2(rem[m - 1] / rem[m]):.2f}" if m and above[m] and above[m - 1] else ""
            table.append(f"  {hs[m]:<10.3g}  {rem[m]:<11.3g}  {o}")
        if kink:
            return _kink(labels, p, i, left, right, dphi, f"h^{orders[i]:.2f}", order, orders,
                         table)
        if hidden_slope is not None:
            head = (f"Taylor test failed for {labels.input(i)} (shape {p.in_shape(i)}): the "
                    f"remainder |f(x + h·v) - f(x) - h·J·v| holds an h term under its h² one "
                    f"(observed order h^{orders[i]:.2f}): Richardson's extrapolation of the "
                    f"smallest steps puts the VJP's slope along a random direction v off by "
                    f"{hidden_slope:.4g} (the VJP gives {dphi:.10g}), the same from two sets of "
                    "steps, so the VJP is wrong.")
        else:
            head = (f"Taylor test failed for {labels.input(i)} (shape {p.in_shape(i)}): the "
                    f"remainder |f(x + h·v) - f(x) - h·J·v| shrinks as h^{orders[i]:.2f}, not "
                    f"h^2, so the VJP is wrong: along a random direction v the function's slope "
                    f"is {right:.10g} but the VJP gives {dphi:.10g}.")
        if order == 2:
            head = "second derivative: " + head
        tables += table
        return GradcheckReport(False, "taylor", order, head, tables, orders=orders,
                               method="taylor")
    def _shown(i: int, o: float) -> str:
        if i in unresolved_slope:
            return (f"h^{o:.2f}, not h^2, but the slope it shows is off by less than "
                    f"{unresolved_slope[i]:.0e} of itself, under what the function's precision "
                    "resolves here: a VJP off by less than that would pass too (check in float64, "
                    "or with the default finite differences, to judge it)")
        if i in unresolved:
            return (f"above float32's rounding at fewer than {LOW_MIN_ABOVE} steps, too few to "
                    f"judge: a slope error under about {unresolved[i]:.2g} along v would not "
                    "show (check at another point, or in float64)")
        if i in rounded:
            return (f"h^{o:.2f} at the smallest steps, a slope off by {rounded[i]:.1g} of itself: "
                    "rounding of the VJP's constants")
        if i in crossed:
            return (f"exact to rounding below h = {crossed[i]:.3g} (bigger steps crossed a kink "
                    "or a jump a little way off the point)")
        return "exact to rounding" if o == float("inf") else f"h^{o:.2f}"

    shown = ", ".join(f"{labels.input(i)}: {_shown(i, o)}" for i, o in orders.items())
    what = "second derivatives" if order == 2 else "gradients"
    how = ("shrinks as h^2 or faster" if not unresolved_slope else
           "shrinks as h^2 or faster where the function's precision can tell")
    return GradcheckReport(True, "ok", order, f"Taylor test passed for the {what}: the remainder "
                           f"|f(x + h·v) - f(x) - h·J·v| {how} ({shown}).",
                           orders=orders, method="taylor")
