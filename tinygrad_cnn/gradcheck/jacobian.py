"""The numbers a gradient check compares: finite differences of the function and VJPs of the engine.

A :class:`Problem` is the function under check with its inputs. Every input is perturbed *in
place*: its tensor's ``data`` is swapped for a perturbed copy while the function runs and put back
afterwards, so a function that closes over its inputs (a model over its own parameters) sees the
perturbation too. :class:`Swaps` keeps the original arrays and restores them however the check ends.

Central differences give the numerical Jacobian; the one-sided differences come with them for free
(``f(x)`` is evaluated once), and where the left and right slopes disagree the function has a kink
there -- relu at 0, a tie of max, clamp at its bound -- and is not differentiable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_cnn._words import a_type
from tinygrad_cnn.autograd import grad
from tinygrad_cnn.backend import like, to_numpy
from tinygrad_cnn.tensor import Tensor


def as_tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """``a . b`` of two flat vectors, summed pairwise by numpy (no BLAS call: BLAS threads cost
    more to wake than these vectors take, and pairwise sums round less); an overflow is inf,
    without numpy's warning (exp(709)'s gradients)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.multiply(a, b).sum())


def unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


class Swaps:
    """Swap arrays into tensors and put every original back on ``restore()`` (newest first)."""

    def __init__(self) -> None:
        self._saved: list[tuple[Tensor, Any]] = []

    def swap(self, t: Tensor, data: Any) -> None:
        self._saved.append((t, t._data))
        t._data = data

    def restore(self) -> None:
        while self._saved:
            t, data = self._saved.pop()
            t._data = data


def outputs_of(func: Callable[..., Any], inputs: Sequence[Any]) -> tuple[Tensor, ...]:
    outs = as_tuple(func(*inputs))
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: output {i} of the function is {a_type(o)}, not a "
                            "Tensor; return a Tensor or a tuple of Tensors")
    return outs


class Problem:
    """``func`` at ``inputs``: ``diff`` are the inputs checked, ``which`` the outputs compared."""

    def __init__(self, func: Callable[..., Any], inputs: tuple[Any, ...], diff: list[int],
                 which: list[int], outs: tuple[Tensor, ...] | None = None) -> None:
        self.func = func
        self.inputs = inputs
        self.diff = diff
        self.which = which
        #: the outputs at the check point, while it has not moved (saves evaluations)
        self.at_point = outs
        #: a cheaper function with the same values (no graph recorded), once checked to agree
        self.value_func: Callable[..., Any] | None = None
        #: the output whose grad_output a VJP changed in place (see :meth:`vjps`), if any
        self.grad_changed: int | None = None
        #: in low precision: (input, element, analytical, numerical) of entries that passed
        #: only by the widened tolerance, apart by more than a twentieth, which no other step
        #: settled (the check warns that it cannot tell)
        self.unsettled: list[tuple[int, int, float, float]] = []
        #: in low precision: failing input elements not measured again (see REFINE_SAMPLE),
        #: which the report's count of failing entries leaves out
        self.unmeasured = 0
        # low precision: the one-sided slopes at eps itself, (lower, upper) per input and output,
        # beside the extrapolated ones (see check._numerical_jacobians)
        self.plain_slopes: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def outputs(self) -> tuple[Tensor, ...]:
        """The outputs at the check point, with their graph (kept: VJPs reuse it)."""
        if self.at_point is None:
            self.at_point = outputs_of(self.func, self.inputs)
        return self.at_point

    def moved(self) -> None:
        """The check point moved (``avoid_kinks``): outputs must be computed again."""
        self.at_point = None

    def values(self) -> list[np.ndarray]:
        """The compared outputs at the check point, flattened, in float64."""
        outs = self.outputs()
        return [to_numpy(outs[j]._data).astype(np.float64).ravel() for j in self.which]

    def evaluate(self) -> list[np.ndarray]:
        """The compared outputs at the inputs' current values, flattened, in float64. (The
        probes may step out of the function's domain -- log at -1e-6 -- where its NaN is what
        the check reads: numpy's warning about it is the checker's, not the user's.)"""
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            outs = outputs_of(self.value_func or self.func, self.inputs)
        return [to_numpy(outs[j]._data).astype(np.float64).ravel() for j in self.which]

    def try_value_func(self, func: Callable[..., Any]) -> None:
        """Evaluate finite differences with ``func`` (the function without recording its graph:
        faster) if it gives the very same values -- a function may depend on grad mode."""
        self.value_func = func
        try:
            same = all(np.array_equal(a, b, equal_nan=True)
                       for a, b in zip(self.values(), self.evaluate()))
        except Exception:
            same = False
        if not same:
            self.value_func = None

    def evaluate_at(self, i: int, values: np.ndarray) -> list[np.ndarray]:
        """The compared outputs with input ``i``'s values replaced by ``values`` (host array)."""
        return self.evaluate_moved({i: values})

    def evaluate_moved(self, moves: dict[int, np.ndarray]) -> list[np.ndarray]:
        """The compared outputs with the values of each input ``i`` in ``moves`` replaced by
        ``moves[i]`` (host arrays) at once."""
        originals = {i: self.inputs[i]._data for i in moves}
        for i, values in moves.items():
            original = originals[i]
            self.inputs[i]._data = like(values.astype(original.dtype, copy=False).reshape(
                original.shape), original)
        try:
            return self.evaluate()
        finally:
            for i, original in originals.items():
                self.inputs[i]._data = original

    def base(self, i: int) -> np.ndarray:
        """Input ``i``'s values as a float64 host array (a copy)."""
        return to_numpy(self.inputs[i]._data).astype(np.float64)

    def in_shape(self, i: int) -> tuple[int, ...]:
        return tuple(self.inputs[i].shape)

    # ---------------------------------------------------------------- VJPs
    def vjps(self, outs: tuple[Tensor, ...], c: int, v: np.ndarray) -> list[np.ndarray]:
        """``J_j^T v`` for output ``which[c]`` and every checked input, flattened float64 (zeros
        where the VJP gives no gradient)."""
        return self.vjps_many(outs, [c], [v])

    def vjps_many(self, outs: tuple[Tensor, ...], cs: Sequence[int], vs: Sequence[np.ndarray],
                  layout: str = "C") -> list[np.ndarray]:
        """``sum_c J_c^T v_c``: one backward pass with gradient ``vs[n]`` on output
        ``which[cs[n]]`` (all at once, as ``(y1 + y2).sum().backward()`` sends them), for every
        checked input, flattened float64. ``layout``: each gradient with the same values in a
        non-contiguous array (numpy arrays of two elements or more) -- ``"strided"``, every
        other element of a buffer (what a slice sends), ``"transposed"``, its dims in reverse
        memory order (what a transpose sends: F order)."""
        zeros = [np.zeros(self.inputs[i]._data.size) for i in self.diff]
        roots, given, sent = [], [], []
        for c, v in zip(cs, vs):
            o = outs[self.which[c]]
            if not o.requires_grad:
                continue  # the output does not depend on any input: its Jacobian is zero
            g = v.reshape(o.shape).astype(o.dtype)
            if layout != "C" and g.size > 1 and isinstance(o._data, np.ndarray):
                if layout == "strided":
                    buf = np.zeros(2 * g.size, dtype=g.dtype)
                    buf[::2] = g.ravel()
                    vt = Tensor._make(buf[::2].reshape(g.shape))
                else:
                    back = tuple(reversed(range(g.ndim)))
                    vt = Tensor._make(np.ascontiguousarray(g.transpose(back)).transpose(back))
            else:
                vt = Tensor(g.copy(), device=o.device)
            roots.append(o)
            given.append(g)
            sent.append(vt)
        if not roots:
            return zeros
        gs = grad(roots, [self.inputs[i] for i in self.diff], sent, retain_graph=True,
                  allow_unused=True)
        for c, vt, g in zip(cs, sent, given):
            if self.grad_changed is None and not np.array_equal(to_numpy(vt._data), g,
                                                                equal_nan=True):
                self.grad_changed = self.which[c]  # a VJP wrote into the gradient it received
        return [z if g is None else to_numpy(g._data).astype(np.float64).ravel()
                for z, g in zip(zeros, gs)]


# -------------------------------------------------------------------- whole Jacobians (slow mode)
def numerical_jacobians(p: Problem, eps: float, f0: list[np.ndarray]
                        ) -> tuple[list[list[np.ndarray]], list[list[np.ndarray]]]:
    """Central differences ``N[r][c]`` of shape (numel of input diff[r], numel of output which[c])
    and the jump between the one-sided slopes ``K = right - left`` of the same shape."""
    central: list[list[np.ndarray]] = []
    jumps: list[list[np.ndarray]] = []
    for i in p.diff:
        c_rows, k_rows = numerical_rows(p, i, range(p.base(i).size), eps, f0)
        central.append(c_rows)
        jumps.append(k_rows)
    return central, jumps


def _both_sides(p: Problem, i: int, x: np.ndarray, k: int, eps: float
                ) -> tuple[list[np.ndarray], list[np.ndarray], float, float]:
    """The compared outputs with element ``k`` of input ``i`` (flat values ``x``) moved by +eps
    and by -eps, and the steps taken: ``x ± eps`` rounds to the input's dtype (at |x| ~ 2e7 a
    step of 1e-6 is a few ulps, off by up to one: 0.2%, twice rtol -- a linear op's exact VJP
    was called wrong), so the quotients divide by what the input really moved; ``x`` is left as
    it was."""
    orig = x[k]
    dt = p.inputs[i]._data.dtype
    up, down = (float(np.asarray(v).astype(dt)) for v in (orig + eps, orig - eps))
    hp, hm = up - orig, orig - down
    if not (hp > 0 and hm > 0):  # (a step under an ulp: nothing moved; the report says so)
        hp = hm = eps
    x[k] = orig + eps
    plus = p.evaluate_at(i, x)
    x[k] = orig - eps
    minus = p.evaluate_at(i, x)
    x[k] = orig
    return plus, minus, hp, hm


def numerical_rows(p: Problem, i: int, elements: Any, eps: float, f0: list[np.ndarray]
                   ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The rows of :func:`numerical_jacobians` for the given elements of input ``i`` only, per
    compared output: central differences and jumps, each ``(len(elements), numel of output)``."""
    x = p.base(i).ravel()
    cols_c: list[list[np.ndarray]] = [[] for _ in p.which]
    cols_k: list[list[np.ndarray]] = [[] for _ in p.which]
    for k in elements:
        plus, minus, hp, hm = _both_sides(p, i, x, k, eps)
        for c in range(len(p.which)):
            cols_c[c].append((plus[c] - minus[c]) / (hp + hm))
            cols_k[c].append((plus[c] - f0[c]) / hp - (f0[c] - minus[c]) / hm)
    n = len(cols_c[0]) if cols_c else 0
    return ([np.array(col).reshape(n, f.size) for col, f in zip(cols_c, f0)],
            [np.array(col).reshape(n, f.size) for col, f in zip(cols_k, f0)])


def analytical_jacobians(p: Problem, outs: tuple[Tensor, ...]) -> list[list[np.ndarray]]:
    """``A[r][c]`` from one ``grad()`` call per output element (a one-hot ``grad_outputs``)."""
    jac = [[np.zeros((p.inputs[i]._data.size, outs[j]._data.size)) for j in p.which] for i in p.diff]
    for c, j in enumerate(p.which):
        size = outs[j]._data.size
        for m in range(size):
            onehot = np.zeros(size)
            onehot[m] = 1
            for r, g in enumerate(p.vjps(outs, c, onehot)):
                jac[r][c][:, m] = g
    return jac


# -------------------------------------------------------------------- projections (fast mode)
def directional(p: Problem, i: int, u: np.ndarray, vs: list[np.ndarray], eps: float,
                f0: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each output c: the central, right and left differences of ``v_c . f_c`` along ``u``."""
    x = p.base(i).ravel()
    plus = p.evaluate_at(i, x + eps * u)
    minus = p.evaluate_at(i, x - eps * u)
    central = np.array([dot(v, a - b) / (2 * eps) for v, a, b in zip(vs, plus, minus)])
    right = np.array([dot(v, a - f) / eps for v, a, f in zip(vs, plus, f0)])
    left = np.array([dot(v, f - b) / eps for v, f, b in zip(vs, f0, minus)])
    return central, right, left


def projected_gradient(p: Problem, i: int, vs: list[np.ndarray], eps: float) -> np.ndarray:
    """The numerical gradient of ``sum_c v_c . f_c`` with respect to every element of input ``i``
    (two evaluations per element): the fast mode's way to say which element is wrong."""
    x = p.base(i).ravel()
    out = np.zeros(x.size)
    for k in range(x.size):
        plus, minus, hp, hm = _both_sides(p, i, x, k, eps)
        out[k] = sum(dot(v, a - b) for v, a, b in zip(vs, plus, minus)) / (hp + hm)
    return out


def locate_kinks(p: Problem, i: int, u: np.ndarray, vs: list[np.ndarray], eps: float,
                 f0: list[np.ndarray], is_kink: Callable[[float, float], bool],
                 limit: int = 64) -> list[int]:
    """Elements of input ``i`` where ``sum_c v_c . f_c`` has a kink along ``u``: bisection over
    the direction's support, keeping the halves whose one-sided slopes disagree (two evaluations
    per half, so about ``4 log2(n)`` per kink). At most ``limit`` are returned."""
    found: list[int] = []
    stack = [np.flatnonzero(u)]
    while stack and len(found) < limit:
        idx = stack.pop()
        part = np.zeros_like(u)
        part[idx] = u[idx]
        _, right, left = directional(p, i, part, vs, eps, f0)
        if not is_kink(float(right.sum()), float(left.sum())):
            continue
        if idx.size == 1:
            found.append(int(idx[0]))
        else:
            half = idx.size // 2
            stack += [idx[half:], idx[:half]]  # the first half is looked at first
    return sorted(found)
