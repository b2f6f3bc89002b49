"""The complementary error function ``erfc``, float64 ``erf``, the normal CDF ``ndtr`` and the
inverse error function ``erfinv`` on arrays (no ops here; ``erf`` of every dtype is
``ops.unary.erf_array``).

Both need the tails to keep their digits -- ``erfc(10) = 2e-45``, ``Φ(-10) = 8e-24`` -- where
``1 - erf`` would cancel to 0, so they use W. J. Cody's rational approximations ("Rational
Chebyshev approximation for the error function", Math. Comp. 23, 1969; the CALERF routine of
SPECFUN), accurate to a few units in the last place of a float64 over the whole line (checked
against ``math.erfc`` in ``tests/test_layers.py``). float16/float32 inputs are computed in
float64 and rounded once, at the end.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_cnn.backend import array_module

_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03, 1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
      2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
      1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)
_ONE_OVER_SQRT_PI = 5.6418958354775628695e-1
_SMALL = 0.46875  # below: erf by one rational function; above: erfc by two others
SQRT1_2 = 0.70710678118654752440
SCALAR_MAX = 512  # elements up to which erf and erfc run element by element (see _blocks)


def _erf_small(x: Any) -> Any:
    """erf(x) for |x| <= 0.46875 (in place on its own temporaries: no array per step)."""
    z = x * x
    num, den = z * _A[4], z.copy()
    for i in range(3):
        num += _A[i]
        num *= z
        den += _B[i]
        den *= z
    num += _A[3]
    den += _B[3]
    num *= x
    num /= den
    return num


def _rational(y: Any, num_c: tuple[float, ...], den_c: tuple[float, ...],
              times: Any = None) -> Any:
    """``(num_c[-1] y^n + num_c[0] y^(n-1) + ...) / (y^n + den_c[0] y^(n-1) + ...)`` by Horner,
    Cody's layout (the leading numerator coefficient last), in place; ``times``: a factor of
    the numerator (rounded where the expression on every element rounds it)."""
    n = len(den_c)
    num, den = y * num_c[n], y.copy()
    for i in range(n - 1):
        num += num_c[i]
        num *= y
        den += den_c[i]
        den *= y
    num += num_c[n - 1]
    den += den_c[n - 1]
    if times is not None:
        num *= times
    num /= den
    return num


BLOCK = 1 << 15  # elements per block on numpy: its ~50 passes then run in the core's cache


def _erfc_large(y: Any) -> Any:
    """erfc(y) for y >= 0.46875 (and y = +inf, NaN); for smaller y a finite value of no use
    (the callers take Cody's small-argument function there). On numpy in place, each of the
    two functions where some element needs it: ``erf`` of a million float32 took 77 ms with a
    new array per step and the Chebyshev fits of before (PyTorch: 0.3 ms)."""
    xp = array_module(y)
    if xp is not np:
        return _erfc_large_where(y)
    with np.errstate(all="ignore"):
        r = _rational(y, _C, _D)  # 0.46875 <= y <= 4
        far = y > 4.0
        if far.any():
            z = y * y
            np.reciprocal(z, out=z)
            t = _rational(z, _P, _Q, times=z)
            np.subtract(_ONE_OVER_SQRT_PI, t, out=t)
            t /= y
            np.copyto(r, t, where=far)
        # exp(-y*y) in two pieces, so that the rounding of y*y does not cost digits
        y16 = y * 16.0
        np.trunc(y16, out=y16)
        y16 /= 16.0
        e = y16 * y16
        np.negative(e, out=e)
        np.exp(e, out=e)
        d = y - y16
        y16 += y
        d *= y16
        np.negative(d, out=d)
        np.exp(d, out=d)
        e *= d
        r *= e
    # erfc is 0 in float64 from 27.23 on (subnormal from 26.55: kept, as PyTorch's); inf makes NaN
    np.copyto(r, 0.0, where=y >= 27.25)
    return r


def _erfc_large_where(y: Any) -> Any:
    """:func:`_erfc_large` with ``where`` (CuPy's way: both functions on every element)."""
    xp = array_module(y)
    num, den = _C[8] * y, y
    for i in range(7):
        num, den = (num + _C[i]) * y, (den + _D[i]) * y
    mid = (num + _C[7]) / (den + _D[7])  # 0.46875 <= y <= 4
    z = 1.0 / (y * y)
    num, den = _P[5] * z, z
    for i in range(4):
        num, den = (num + _P[i]) * z, (den + _Q[i]) * z
    far = (_ONE_OVER_SQRT_PI - z * (num + _P[4]) / (den + _Q[4])) / y  # y > 4
    r = xp.where(y <= 4.0, mid, far)
    y16 = xp.trunc(y * 16.0) / 16.0
    r = xp.exp(-y16 * y16) * xp.exp(-(y - y16) * (y + y16)) * r
    return xp.where(y >= 27.25, 0.0, r)


def _blocks(d: Any, fn: Any, scalar: Any = None) -> Any:
    """``fn`` of a float64 array: at once on CuPy, a block at a time on numpy (the temporaries of
    a block stay in the cache); a small numpy array by ``scalar`` (``math.erf``, ``math.erfc``:
    the C library's, within an ulp) one element at a time, which costs less than the forty numpy
    passes of ``fn`` up to ``SCALAR_MAX`` elements (256: 14 µs instead of 36)."""
    xp = array_module(d)
    if xp is not np:
        return fn(d)
    flat = np.asarray(d).reshape(-1)  # (1-d: numpy's ufuncs make a 0-d array a scalar)
    if scalar is not None and flat.size <= SCALAR_MAX:
        return np.fromiter(map(scalar, flat.tolist()), np.float64, flat.size).reshape(np.shape(d))
    if flat.size <= BLOCK:
        return fn(flat).reshape(np.shape(d))
    out = np.empty_like(flat)
    for s in range(0, flat.size, BLOCK):
        out[s:s + BLOCK] = fn(flat[s:s + BLOCK])
    return out.reshape(d.shape)


def _erfc_of(d: Any) -> Any:
    xp = array_module(d)
    y = xp.abs(d)
    small = y <= _SMALL  # (NaN: the large branch, which keeps it NaN)
    with np.errstate(all="ignore"):  # (the branch not taken may overflow; CuPy never warns)
        if xp is not np:
            tail = _erfc_large(xp.where(small, 1.0, y))
            out = xp.where(small, 1.0 - _erf_small(xp.where(small, d, 0.0)),
                           xp.where(d < 0, 2.0 - tail, tail))
            return xp.where(xp.isnan(d), xp.nan, out)
        tail = _erfc_large(y)
        np.copyto(tail, 2.0 - tail, where=d < 0)
        s = _erf_small(d)
        np.subtract(1.0, s, out=s)
        np.copyto(tail, s, where=small)
    return tail


def erfc(x: Any) -> Any:
    """``1 - erf(x)``, without the cancellation for large ``x``."""
    d = x.astype(array_module(x).float64)
    return _blocks(d, _erfc_of, math.erfc).astype(x.dtype, copy=False)


def _erf_of(x: Any) -> Any:
    xp = array_module(x)
    a = xp.abs(x)
    small = a <= _SMALL  # (NaN: erfc's NaN)
    with np.errstate(all="ignore"):
        if xp is not np:
            return xp.where(small, _erf_small(xp.where(small, x, 0.0)),
                            xp.copysign(1.0 - erfc(a), x))
        t = _erfc_large(a)
        np.subtract(1.0, t, out=t)
        np.copysign(t, x, out=t)
        np.copyto(t, _erf_small(x), where=small)
    return t


def erf(x: Any) -> Any:
    """``erf(x)`` of a float64 array, within a few units in the last place (up to 5 found
    against exact values, erfc up to 7; PyTorch's and ``math.erf``: about 1): Cody's
    small-argument function below 0.46875, ``±(1 - erfc(|x|))`` above (``math.erf`` itself for
    arrays of up to ``SCALAR_MAX`` elements). float32 and float16,
    computed in float64 and rounded once, come out correctly rounded."""
    return _blocks(x, _erf_of, math.erf)


def ndtr(x: Any) -> Any:
    """The standard normal CDF ``Φ(x) = erfc(-x / √2) / 2`` (``torch.special.ndtr``), with full
    relative precision in the left tail."""
    d = x.astype(array_module(x).float64)
    return (0.5 * erfc(-d * SQRT1_2)).astype(x.dtype, copy=False)


# M. Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011): single-precision
# polynomials in w = -log((1 - x)(1 + x)), the centre (w < 5) and the tails
NEWTON_STEPS = 5
_GILES_CENTRE = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
               0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def erfinv(x: Any) -> Any:
    """The inverse error function on a float64 array: Giles' single-precision start, then Newton
    steps on ``erf(y) = |x|`` near 0 and on ``log erfc(y) = log(1 - |x|)`` beyond (the tail's
    digits kept: ``erfinv(1 - 1e-16)`` is 5.86). ``erfinv(±1) = ±inf``, NaN outside [-1, 1]."""
    xp = array_module(x)
    a = xp.abs(x)
    inside = a < 1
    ac = xp.where(inside, a, 0.0)
    one_minus = 1.0 - ac  # (exact near 1: Sterbenz)
    w = -xp.log(one_minus * (1.0 + ac))
    centre = w < 5.0
    wc, wt = w - 2.5, xp.sqrt(w) - 3.0
    pc, pt = xp.zeros_like(w), xp.zeros_like(w)
    for c in _GILES_CENTRE:
        pc = pc * wc + c
    for c in _GILES_TAIL:
        pt = pt * wt + c
    y = xp.where(centre, pc, pt) * ac
    near = ac < 0.5
    log_one_minus = xp.log(xp.where(near, 1.0, one_minus))
    for _ in range(NEWTON_STEPS):
        slope = (2.0 * _ONE_OVER_SQRT_PI) * xp.exp(-y * y)  # erf'(y)
        # near 0: f(y) = erf(y) - a; beyond: f(y) = log erfc(y) - log(1 - a), nearly linear in
        # y² out there (Giles' float32 start is far off at 1 - 1e-16, a plain step creeps)
        tail = xp.maximum(erfc(y), 1e-300)
        step = xp.where(near, (erf(y) - ac) / slope,
                        (xp.log(tail) - log_one_minus) / (-slope / tail))
        y = y - step
    out = xp.where(inside, y, xp.where(a == 1, xp.inf, xp.nan))
    return xp.copysign(out, x)


# ------------------------------------------------------------------ log-gamma and polygamma
def _lgamma1(v: float) -> float:
    try:
        return math.lgamma(v)
    except (ValueError, OverflowError):  # the poles (0, -1, -2, ...) and past float64: +inf
        return math.inf


def _c_lgamma() -> Any:
    """The C library's ``lgamma`` (through ctypes), or None where there is none to load."""
    import ctypes
    import ctypes.util

    try:
        fn = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6").lgamma
    except (OSError, AttributeError):
        return None
    fn.restype, fn.argtypes = ctypes.c_double, [ctypes.c_double]
    return fn


_LGAMMA = np.frompyfunc(_lgamma1, 1, 1)
_C_LGAMMA_FN = _c_lgamma()
_C_LGAMMA = None if _C_LGAMMA_FN is None else np.frompyfunc(_C_LGAMMA_FN, 1, 1)


def lgamma(x: Any) -> Any:
    """``log|Γ(x)|`` of a float64 array, element by element: +inf at the poles 0, -1, -2, ...
    and at ±inf, NaN at NaN. The C library's ``lgamma`` (PyTorch's values, within an ulp),
    through ctypes: Python's ``math.lgamma`` (a Lanczos sum, 4x faster) keeps only its absolute
    error near the roots 1 and 2 (``lgamma(1 - 2**-53)`` 2.2e-16 for 6.4e-17, 1e-5 relative at
    ``2 + 1e-10``) and is 25 ulps off at 2.5 -- it is the way where no C library loads."""
    x = np.asarray(x, dtype=np.float64)
    if _C_LGAMMA is None:
        return np.asarray(_LGAMMA(x), dtype=np.float64).reshape(x.shape)
    with np.errstate(all="ignore"):  # (the poles raise the C library's divide-by-zero flag)
        return np.asarray(_C_LGAMMA(x), dtype=np.float64).reshape(x.shape)


# Bernoulli numbers B_2, B_4, ..., B_16 (the asymptotic series of digamma and Hurwitz's zeta)
_B2K = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def digamma(x: Any) -> Any:
    """``ψ(x) = Γ'(x)/Γ(x)`` of a float64 array: reflected below 1/2
    (``ψ(x) = ψ(1 - x) - π / tan(πx)``), shifted up to 10 by ``ψ(x) = ψ(x + 1) - 1/x``, then
    the asymptotic series. PyTorch's values at the poles: -inf at +0, +inf at -0, NaN at the
    negative integers and at -inf."""
    x = np.array(x, dtype=np.float64)
    out = np.zeros_like(x)
    with np.errstate(all="ignore"):
        pole = (x <= 0) & (x == np.floor(x))
        reflect = (x < 0.5) & ~pole & np.isfinite(x)
        out[reflect] = -math.pi * _cotpi(x[reflect])
        x[reflect] = 1 - x[reflect]
        small = np.isfinite(x) & (x < 10) & ~pole
        while small.any():
            out[small] -= 1 / x[small]
            x[small] += 1
            small &= x < 10
        inv2 = 1 / (x * x)
        series = np.zeros_like(x)
        for k in range(len(_B2K) - 1, -1, -1):  # Σ B_2k / (2k x^2k), Horner in 1/x²
            series = (series + _B2K[k] / (2 * (k + 1))) * inv2
        out += np.log(x) - 0.5 / x - series
        out[np.isposinf(x)] = math.inf
        out[np.isneginf(x)] = math.nan
        out[pole] = math.nan
        zero = x == 0  # (x is unchanged there)
        out[zero] = np.copysign(math.inf, -np.copysign(1.0, x[zero]))
    return out


def _cotpi(x: Any) -> Any:
    """``cot(πx)`` with the argument reduced exactly first (``x - round(x)`` loses nothing in
    float64), so that a large ``x`` or one near a pole keeps its digits."""
    return 1 / np.tan(math.pi * (x - np.round(x)))


def _cot_derivative(n: int, c: Any) -> Any:
    """``d^n/dx^n cot(πx) / π^n`` as a polynomial in ``c = cot(πx)``: ``P_0 = c``,
    ``P_(k+1) = -(1 + c²) P_k'``."""
    poly = np.array([0.0, 1.0])
    for _ in range(n):
        poly = -np.polynomial.polynomial.polymul([1.0, 0.0, 1.0],
                                                  np.polynomial.polynomial.polyder(poly))
    return np.polynomial.polynomial.polyval(c, poly)


def polygamma(n: int, x: Any) -> Any:
    """The ``n``-th derivative of digamma (``n >= 1``) of a float64 array:
    ``(-1)^(n+1) n! ζ(n+1, x)``, Hurwitz's zeta summed up to ``x + k >= 15 + n`` and the
    Euler-Maclaurin tail from there (to a few ulps; negative non-integers too). At the poles
    ``(-1)^(n+1) inf``, at +inf 0, at -inf NaN."""
    x = np.array(x, dtype=np.float64)
    s = n + 1
    x = np.where(x == 0, 0.0, x)  # (-0 is the pole at 0)
    finite = np.isfinite(x)
    pole = (x <= 0) & (x == np.floor(x))
    # below -1/2 the reflection ψ⁽ⁿ⁾(x) = (-1)^n ψ⁽ⁿ⁾(1 - x) - π^(n+1) dⁿ/dxⁿ cot(πx) / π^n
    # (a sum from a large negative x up to 15 + n would take |x| steps, forever past 2^53)
    reflect = finite & (x < -0.5) & ~pole  # (above -1/2 the sum below: 1/x^(n+1) is exact)
    acc = np.zeros_like(x)
    q = np.where(finite & ~pole, np.where(reflect, 1 - x, x), 1.0)
    start = 15.0 + n
    with np.errstate(all="ignore"):
        low = q < start
        while low.any():
            acc[low] += q[low] ** -s
            q[low] += 1
            low &= q < start
        # tail: q^(1-s)/(s-1) + q^-s/2 + Σ B_2j/(2j)! s(s+1)...(s+2j-2) q^(-s-2j+1)
        tail = q ** (1 - s) / (s - 1) + 0.5 * q**-s
        rising, fact, power = float(s), 2.0, q ** (-s - 1)
        for j, b in enumerate(_B2K, 1):
            tail += b / fact * rising * power
            rising *= (s + 2 * j - 1) * (s + 2 * j)
            fact *= (2 * j + 1) * (2 * j + 2)
            power = power / (q * q)
        zeta = acc + tail
        out = np.array((-1.0) ** (n + 1) * math.factorial(n) * zeta, dtype=np.float64)
        if reflect.any():
            c = _cotpi(x[reflect])
            out[reflect] = (-1.0) ** n * out[reflect] - math.pi ** (n + 1) * _cot_derivative(n, c)
    out[pole] = (-1.0) ** (n + 1) * math.inf
    out[np.isposinf(x)] = 0.0
    out[np.isneginf(x) | np.isnan(x)] = math.nan
    return out
