"""PyTorch's samplers beyond rand/randn/randint (tinygrad_cnn/sampling.py): multinomial (and
Tensor.multinomial), normal in its four forms, randint_like, rand_like/randn_like(generator=),
the in-place exponential_, random_, geometric_, log_normal_, cauchy_, and nn.init.sparse_.

Against PyTorch: dtypes, shapes, requires_grad and errors (type, and message where it is
PyTorch's). The draws are ours (the same seed gives the same draws here, not PyTorch's), checked
by their statistics: fixed seeds, and bounds of at least 6 standard errors, so they cannot
flake."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg


def _gen(seed=0):
    return tg.Generator().manual_seed(seed)


def _outcome(f, lib):
    """What ``f(lib)`` gives, comparably: the exception's type and its message's first part, or
    the result's dtype, shape and requires_grad (or the value itself)."""
    try:
        r = f(lib)
    except Exception as e:  # (the error is the outcome)
        return ("error", type(e).__name__, str(e).split(" (")[0])
    if hasattr(r, "shape") and hasattr(r, "requires_grad"):
        return ("tensor", str(r.dtype).replace("torch.", ""), tuple(r.shape),
                bool(r.requires_grad))
    return ("value", r)


def _T(m, *a, **k):
    return m.tensor(*a, **k)


# ------------------------------------------------------------------------------ against torch
AGAINST_TORCH = {
    # multinomial: dims, dtypes, num_samples, weights (PyTorch's messages, word for word)
    "mn int": lambda m: m.multinomial(_T(m, [1, 2, 3]), 1),
    "mn 0d": lambda m: m.multinomial(_T(m, 1.0), 1),
    "mn 3d": lambda m: m.multinomial(m.ones(2, 2, 2), 1),
    "mn ns0": lambda m: m.multinomial(m.ones(3), 0),
    "mn ns float": lambda m: m.multinomial(m.ones(3), 1.0),
    "mn ns bool": lambda m: m.multinomial(m.ones(3), True),
    "mn ns tensor": lambda m: m.multinomial(m.ones(3), m.tensor(2)),
    "mn too many": lambda m: m.multinomial(m.ones(3), 4),
    "mn too many replaced": lambda m: m.multinomial(m.ones(3), 4, True),
    "mn zero sum": lambda m: m.multinomial(m.zeros(3), 1),
    "mn zero sum replaced": lambda m: m.multinomial(m.zeros(3), 2, True),
    "mn row of zeros": lambda m: m.multinomial(_T(m, [[1.0, 1.0], [0.0, 0.0]]), 1),
    "mn negative": lambda m: m.multinomial(_T(m, [1.0, -1.0]), 1),
    "mn nan": lambda m: m.multinomial(_T(m, [1.0, math.nan]), 2),
    "mn inf": lambda m: m.multinomial(_T(m, [1.0, math.inf]), 1),
    "mn negative replaced": lambda m: m.multinomial(_T(m, [1.0, -1.0]), 2, True),
    "mn inf replaced": lambda m: m.multinomial(_T(m, [1.0, math.inf]), 2, True),
    "mn nan replaced": lambda m: m.multinomial(_T(m, [1.0, math.nan]), 2, True),
    "mn no categories": lambda m: m.multinomial(m.ones(0), 1),
    "mn no categories replaced": lambda m: m.multinomial(m.ones(0), 2, True),
    "mn no rows": lambda m: m.multinomial(m.ones(0, 3), 1),
    "mn no rows replaced": lambda m: m.multinomial(m.ones(0, 3), 5, True),
    "mn 2^24 + 1": lambda m: m.multinomial(m.ones(2**24 + 1), 1),
    "mn replacement int": lambda m: m.multinomial(m.ones(3), 1, 1),
    "mn list": lambda m: m.multinomial([1.0, 2.0], 1),
    "mn requires grad": lambda m: m.multinomial(m.ones(3, requires_grad=True), 2),
    "mn 2d": lambda m: m.multinomial(m.ones(4, 5), 3),
    "mn float16": lambda m: m.multinomial(m.ones(4, 5, dtype=m.float16), 3, True),
    "mn method": lambda m: m.ones(4).multinomial(2),
    "mn keywords": lambda m: m.multinomial(input=m.ones(3), num_samples=2, replacement=True),
    # normal's four forms
    "n tensor tensor": lambda m: m.normal(m.zeros(3), m.ones(3)),
    "n tensor tensor grad": lambda m: m.normal(m.zeros(3, requires_grad=True), m.ones(3)),
    "n tensor float": lambda m: m.normal(m.zeros(3, requires_grad=True), 1.0),
    "n tensor": lambda m: m.normal(m.zeros(3)),
    "n float tensor": lambda m: m.normal(0.0, m.ones(3, requires_grad=True)),
    "n float float size": lambda m: m.normal(0.0, 1.0, (2, 3)),
    "n size list": lambda m: m.normal(0.0, 1.0, [2, 3]),
    "n size int": lambda m: m.normal(0.0, 1.0, 3),
    "n no size": lambda m: m.normal(0.0, 1.0),
    "n size None": lambda m: m.normal(0.0, 1.0, size=None),
    "n dtype": lambda m: m.normal(0.0, 1.0, (2,), dtype=m.float64),
    "n requires_grad": lambda m: m.normal(0.0, 1.0, (2,), requires_grad=True),
    "n ints": lambda m: m.normal(0, 1, (2,)),
    "n bool": lambda m: m.normal(True, 1.0, (2,)),
    "n broadcast": lambda m: m.normal(m.zeros(2, 1), m.ones(3)),
    "n mismatch": lambda m: m.normal(m.zeros(2, 3), m.ones(6)),
    "n mismatch 1d": lambda m: m.normal(m.zeros(2), m.ones(3)),
    "n float64 mean": lambda m: m.normal(m.zeros(2, dtype=m.float64), m.ones(2)),
    "n float64 std": lambda m: m.normal(m.zeros(2), m.ones(2, dtype=m.float64)),
    "n float64 std grad": lambda m: m.normal(m.zeros(2),
                                             m.ones(2, dtype=m.float64, requires_grad=True)),
    "n int mean": lambda m: m.normal(m.zeros(2, dtype=m.int64), m.ones(2)),
    "n int mean float": lambda m: m.normal(m.zeros(2, dtype=m.int64), 1.0),
    "n float int std": lambda m: m.normal(0.0, m.ones(2, dtype=m.int64)),
    "n float16": lambda m: m.normal(m.zeros(2, dtype=m.float16), 1.0),
    "n negative std tensor": lambda m: m.normal(m.zeros(2), -m.ones(2)),
    "n negative std": lambda m: m.normal(m.zeros(2), -1.0),
    "n negative std numbers": lambda m: m.normal(0.0, -1.0, (2,)),
    "n nan std": lambda m: m.normal(m.zeros(2), math.nan),
    "n nan std tensor": lambda m: m.normal(m.zeros(2), _T(m, [math.nan, 1.0])),
    "n inf std tensor": lambda m: m.normal(m.zeros(2), _T(m, [math.inf, 1.0])),
    "n 0-d": lambda m: m.normal(_T(m, 0.0), _T(m, 1.0)),
    "n tensors and size": lambda m: m.normal(m.zeros(2), m.ones(2), (2,)),
    "n tensor and size": lambda m: m.normal(m.zeros(2), 1.0, size=(2,)),
    "n empty": lambda m: m.normal(m.zeros(0), 1.0),
    "n list": lambda m: m.normal([0.0, 1.0], 1.0),
    "n negative 0-d std": lambda m: m.normal(0.0, _T(m, -1.0)),
    "n std 0": lambda m: m.normal(_T(m, [1.0, 2.0]), 0.0).tolist(),
    # randint_like: random_'s rules for the dtype
    "ril high": lambda m: m.randint_like(m.zeros(3), 5),
    "ril low high": lambda m: m.randint_like(m.zeros(3, dtype=m.int64), 2, 5),
    "ril keywords": lambda m: m.randint_like(m.zeros(3, dtype=m.int64), low=2, high=5),
    "ril high keyword": lambda m: m.randint_like(m.zeros(3, dtype=m.int64), high=5),
    "ril low above high": lambda m: m.randint_like(m.zeros(3, dtype=m.int64), 5, 2),
    "ril negative high": lambda m: m.randint_like(m.zeros(3, dtype=m.int64), -5),
    "ril float high": lambda m: m.randint_like(m.zeros(3), 5.5),
    "ril bool": lambda m: m.randint_like(m.zeros(3, dtype=m.bool), 2),
    "ril bool 3": lambda m: m.randint_like(m.zeros(3, dtype=m.bool), 3),
    "ril uint8 -1": lambda m: m.randint_like(m.zeros(3, dtype=m.uint8), -1, 3),
    "ril float16 100000": lambda m: m.randint_like(m.zeros(3, dtype=m.float16), 100000),
    "ril dtype": lambda m: m.randint_like(m.zeros(3, dtype=m.int64), 5, dtype=m.float64),
    "ril requires_grad": lambda m: m.randint_like(m.zeros(3), 5, requires_grad=True),
    "ril requires_grad int": lambda m: m.randint_like(m.zeros(3, dtype=m.int64), 5,
                                                      requires_grad=True),
    "ril 0-d": lambda m: m.randint_like(m.tensor(1), 3),
    "rand_like generator": lambda m: m.rand_like(m.zeros(3), generator=m.Generator()),
    "randn_like generator": lambda m: m.randn_like(m.zeros(3), generator=m.Generator()),
    # the in-place fills' arguments
    "exp 0": lambda m: m.zeros(3).exponential_(0),
    "exp nan": lambda m: m.zeros(3).exponential_(math.nan),
    "exp inf": lambda m: m.zeros(3).exponential_(math.inf).tolist(),
    "exp tensor": lambda m: m.zeros(3).exponential_(m.tensor(2.0)),
    "exp int and bad lambda": lambda m: m.zeros(3, dtype=m.int64).exponential_(-1),
    "geo 0": lambda m: m.zeros(3).geometric_(0),
    "geo 1": lambda m: m.zeros(3).geometric_(1),
    "geo nan": lambda m: m.zeros(3).geometric_(math.nan),
    "geo bool and bad p": lambda m: m.zeros(3, dtype=m.bool).geometric_(2),
    "geo float16 tiny p": lambda m: m.zeros(3, dtype=m.float16).geometric_(1e-8).tolist(),
    "geo int64 tiny p": lambda m: m.zeros(3, dtype=m.int64).geometric_(1e-30).tolist(),
    "ln std 0": lambda m: m.zeros(3).log_normal_(1, 0),
    "ln std nan": lambda m: m.zeros(3).log_normal_(1, math.nan),
    "ln mean inf": lambda m: m.zeros(3).log_normal_(math.inf, 1).tolist(),
    "cauchy sigma 0": lambda m: m.zeros(3).cauchy_(0, 0),
    "cauchy sigma -1": lambda m: m.zeros(3).cauchy_(0, -1),
    "cauchy median inf": lambda m: m.zeros(3).cauchy_(math.inf, 1).tolist(),
    "leaf that requires grad": lambda m: m.zeros(3, requires_grad=True).exponential_(),
    "in a graph": lambda m: (m.zeros(3, requires_grad=True) * 1).exponential_(),
    "in a graph random_": lambda m: (m.zeros(3, requires_grad=True) * 1).random_(3),
    "in a graph geometric_": lambda m: (m.zeros(3, requires_grad=True) * 1).geometric_(0.2),
    "empty": lambda m: m.zeros(0).exponential_(),
    "random_ 5 5": lambda m: m.zeros(3).random_(5, 5),
    "random_ 0": lambda m: m.zeros(3).random_(0),
    "random_ float": lambda m: m.zeros(3).random_(1.5),
    "random_ 2**64": lambda m: m.zeros(3).random_(2**64),
    "random_ to=": lambda m: m.zeros(3).random_(to=4),
    "random_ from= to=": lambda m: m.zeros(3).random_(**{"from": 2, "to": 4}),
    "random_ 0-d tensor": lambda m: m.zeros(3).random_(m.tensor(3)),
    "random_ from 2**24": lambda m: m.zeros(3).random_(2**24, None),
    "random_ float16 from 2049": lambda m: m.zeros(3, dtype=m.float16).random_(2049, None),
    # nn.init.sparse_
    "sparse 3-d": lambda m: m.nn.init.sparse_(m.zeros(2, 2, 2), 0.5),
    "sparse 1-d": lambda m: m.nn.init.sparse_(m.zeros(2), 0.5),
    "sparse": lambda m: m.nn.init.sparse_(m.zeros(4, 3), 0.5),
    "sparse negative std": lambda m: m.nn.init.sparse_(m.zeros(4, 3), 0.5, -1.0),
}
_DTYPES = ("float16", "float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool")
_FILLS = (("exponential_", (1.0,)), ("geometric_", (0.5,)), ("log_normal_", (1.0, 2.0)),
          ("cauchy_", (0.0, 1.0)), ("random_", ()), ("random_", (5,)), ("random_", (-3, 2)),
          ("random_", (3, None)), ("random_", (-1, None)), ("random_", (0, 300)),
          ("random_", (0, 2**25)), ("random_", (2**60,)), ("random_", (-2**63, None)))
for _dt in _DTYPES:
    for _name, _args in _FILLS:
        AGAINST_TORCH[f"{_name}{_args} {_dt}"] = (
            lambda m, name=_name, dt=_dt, args=_args: getattr(m.zeros(3, dtype=getattr(m, dt)),
                                                              name)(*args))
# our messages say more where PyTorch's is its argument parser's (or a leaf's); the type is its
_OWN_MESSAGES = {"mn list", "n size int", "n no size", "n size None", "n tensors and size",
                 "n tensor and size", "n list", "ril float high", "leaf that requires grad",
                 "random_ float", "random_ 2**64"}


@pytest.mark.parametrize("name", sorted(AGAINST_TORCH))
def test_dtypes_shapes_and_errors_as_torch(name):
    torch = pytest.importorskip("torch")
    f = AGAINST_TORCH[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (random_'s precision warning: checked below)
        mine, want = _outcome(f, tg), _outcome(f, torch)
    if name in _OWN_MESSAGES:
        assert mine[:2] == want[:2], (mine, want)
    else:
        assert mine == want


def test_random_precision_warning_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        with pytest.warns(UserWarning, match=r"to - 1 is out of bounds \[-\(2\^24\), 2\^24\]"):
            lib.zeros(3).random_(0, 2**25)


# ------------------------------------------------------------------------------ statistics
def _close(freq, p, n, sds=6.0):
    """Observed frequencies within ``sds`` standard errors of the probabilities ``p``."""
    freq, p = np.asarray(freq, dtype=np.float64), np.asarray(p, dtype=np.float64)
    bound = sds * np.sqrt(np.maximum(p * (1 - p), 1e-12) / n)
    assert (np.abs(freq - p) <= bound).all(), (freq, p, bound)


def test_multinomial_with_replacement_draws_by_weight():
    w = tg.tensor([1.0, 0.0, 2.0, 3.0, 4.0])
    n = 40_000
    draws = tg.multinomial(w, n, replacement=True, generator=_gen(1)).numpy()
    assert draws.dtype == np.int64 and draws.shape == (n,)
    freq = np.bincount(draws, minlength=5) / n
    assert freq[1] == 0  # a zero weight is never drawn
    _close(freq, np.array([1, 0, 2, 3, 4]) / 10, n)
    rows = tg.multinomial(tg.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 3.0]]), 1000, True,
                          generator=_gen(2)).numpy()
    assert (rows[0] == 1).all() and (rows[1] == 0).all()
    _close([(rows[2] == 1).mean()], [0.75], 1000)
    # one draw per row (PyTorch's fast path), float16 weights, huge weights
    one = tg.multinomial(tg.tensor([[1.0, 3.0]] * 20_000, dtype=tg.float16), 1, True,
                         generator=_gen(3)).numpy()
    assert one.shape == (20_000, 1)
    _close([one.mean()], [0.75], 20_000)
    huge = tg.multinomial(tg.tensor([3e38, 3e38, 0.0]), 20_000, True, generator=_gen(4)).numpy()
    _close(np.bincount(huge, minlength=3) / 20_000, [0.5, 0.5, 0.0], 20_000)


def test_multinomial_without_replacement_draws_in_sequence():
    """Without replacement: distinct categories per row, in the order drawn -- the first with
    probability p_i, the next p_j / (1 - p_i), ... (every ordering of 3 of [1, 2, 3] checked
    against its exact probability); zero weights never drawn."""
    n = 30_000
    w = tg.tensor([[1.0, 2.0, 3.0]] * n)
    draws = tg.multinomial(w, 3, generator=_gen(5)).numpy()
    assert draws.shape == (n, 3) and (np.sort(draws, axis=1) == [0, 1, 2]).all()
    p = np.array([1, 2, 3]) / 6
    import itertools

    for order in itertools.permutations(range(3)):
        exact = p[order[0]] * p[order[1]] / (1 - p[order[0]])
        _close([(draws == order).all(axis=1).mean()], [exact], n)
    many = tg.tensor([0.0, 1.0, 0.0, 1.0, 2.0, 0.0] * 10)  # 60 categories, 30 non-zero
    picked = tg.multinomial(many, 20, generator=_gen(6)).numpy()
    assert len(set(picked.tolist())) == 20 and (many.numpy()[picked] > 0).all()
    first = tg.multinomial(tg.tensor([[1.0, 0.0, 3.0]] * n), 1, generator=_gen(7)).numpy()
    _close([(first == 2).mean()], [0.75], n)
    assert not (first == 1).any()
    with pytest.raises(RuntimeError, match="from a row with 2 non-zero weights"):
        tg.multinomial(tg.tensor([1.0, 0.0, 1.0, 0.0]), 3)


def test_normal_forms_draw_their_distribution():
    n = 50_000
    ff = tg.normal(2.0, 3.0, (n,), generator=_gen(8)).numpy()
    assert ff.dtype == np.float32
    assert abs(ff.mean() - 2) < 6 * 3 / math.sqrt(n) and abs(ff.std() / 3 - 1) < 0.02
    mean = tg.tensor([[-5.0], [0.0], [5.0]], dtype=tg.float64)
    std = tg.tensor([0.5, 1.0] * (n // 2), dtype=tg.float64)
    tt = tg.normal(mean, std, generator=_gen(9)).numpy()
    assert tt.shape == (3, n) and tt.dtype == np.float64
    for row, m in zip(tt, (-5, 0, 5)):
        assert abs(row[0::2].mean() - m) < 6 * 0.5 / math.sqrt(n / 2)
        assert abs(row[0::2].std() / 0.5 - 1) < 0.03 and abs(row[1::2].std() - 1) < 0.03
    tf = tg.normal(tg.zeros(n), 2.0, generator=_gen(10)).numpy()
    ft = tg.normal(1.0, tg.full((n,), 2.0), generator=_gen(11)).numpy()
    assert abs(tf.std() / 2 - 1) < 0.02 and abs(ft.mean() - 1) < 6 * 2 / math.sqrt(n)
    np.testing.assert_array_equal(tg.normal(tg.tensor([1.0, -2.0]), 0.0).numpy(), [1, -2])


def test_normal_gives_its_tensors_a_zero_gradient_as_torch():
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (tg, torch):
        mean = lib.zeros(2, 1, requires_grad=True)
        std = lib.ones(3, dtype=lib.float64, requires_grad=True)
        out = lib.normal(mean, std)
        out2 = lib.normal(1.0, std) + lib.normal(mean, 2.0)
        (out.sum() + out2.sum()).backward()
        grads.append((str(out.dtype).replace("torch.", ""), tuple(out.shape),
                      mean.grad.numpy().tolist(), str(std.grad.dtype).replace("torch.", ""),
                      std.grad.numpy().tolist()))
    assert grads[0] == grads[1]


def test_in_place_fills_draw_their_distributions():
    n = 50_000
    e = tg.zeros(n, dtype=tg.float64).exponential_(4.0, generator=_gen(12)).numpy()
    assert (e >= 0).all() and abs(e.mean() * 4 - 1) < 0.03
    _close([(e > 0.25).mean()], [math.exp(-1)], n)
    g = tg.zeros(n, dtype=tg.int64).geometric_(0.25, generator=_gen(13)).numpy()
    assert g.min() >= 1 and abs(g.mean() / 4 - 1) < 0.03
    _close([(g == 1).mean(), (g == 2).mean()], [0.25, 0.1875], n)
    gf = tg.zeros(n).geometric_(0.5, generator=_gen(14)).numpy()
    assert gf.dtype == np.float32 and (gf == np.round(gf)).all() and gf.min() == 1
    ln = tg.zeros(n, dtype=tg.float64).log_normal_(1.0, 0.5, generator=_gen(15)).numpy()
    assert (ln > 0).all() and abs(np.log(ln).mean() - 1) < 6 * 0.5 / math.sqrt(n)
    assert abs(np.log(ln).std() / 0.5 - 1) < 0.02
    c = tg.zeros(n, dtype=tg.float64).cauchy_(3.0, 2.0, generator=_gen(16)).numpy()
    _close([(c < 3).mean(), (c < 1).mean(), (c < 5).mean()], [0.5, 0.25, 0.75], n)


@pytest.mark.parametrize("dtype,top", [("float16", 2048), ("float32", 2**24),
                                       ("float64", 2**53), ("int8", 127), ("uint8", 255),
                                       ("int16", 2**15 - 1), ("int32", 2**31 - 1),
                                       ("int64", 2**63 - 1), ("bool", 1)])
def test_random_ranges_per_dtype_as_torch(dtype, top):
    """``random_()`` and ``random_(from, None)``: up to the dtype's top (a float's 2**digits);
    ``random_(to)`` and ``random_(from, to)``: ``[from, to)``, every value drawn, evenly."""
    n = 20_000
    t = tg.zeros(n, dtype=getattr(tg, dtype))
    full = t.random_(generator=_gen(17)).numpy().astype(np.float64)
    assert full.min() >= 0 and full.max() <= top
    if top < 10_000:  # the top itself is drawn (PyTorch's range is inclusive)
        assert full.max() == top
    else:
        assert full.max() > top * 0.99
    if dtype != "bool":
        five = t.random_(5, generator=_gen(18)).numpy().astype(np.int64)
        _close(np.bincount(five, minlength=5) / n, [0.2] * 5, n)
        lo = -3 if dtype != "uint8" else 3
        span = t.random_(lo, lo + 5, generator=_gen(19)).numpy().astype(np.int64)
        assert span.min() == lo and span.max() == lo + 4
        above = t.random_(3, None, generator=_gen(20)).numpy().astype(np.float64)
        assert above.min() >= 3 and above.max() <= top
    if dtype in ("int64", "float32", "float64"):
        signed = t.random_(-2**63, None, generator=_gen(21)).numpy().astype(np.float64)
        _close([(signed < 0).mean()], [0.5], n)


def test_randint_like_and_sparse_init():
    x = tg.zeros(4, 5, dtype=tg.int16)
    r = tg.randint_like(x, -2, 3, generator=_gen(22))
    assert r.dtype == tg.int16 and r.shape == (4, 5) and set(r.numpy().ravel()) <= set(range(-2, 3))
    f = tg.randint_like(x, 7, dtype=tg.float64, generator=_gen(23))
    assert f.dtype == tg.float64 and (f.numpy() == np.round(f.numpy())).all()
    w = tg.nn.Parameter(tg.zeros(10, 400))
    assert tg.nn.init.sparse_(w, 0.25, std=0.5, generator=_gen(24)) is w
    zeros = (w.numpy() == 0).sum(axis=0)
    assert (zeros == 3).all()  # ceil(0.25 * 10) of each column
    rest = w.numpy()[w.numpy() != 0]
    assert abs(rest.std() / 0.5 - 1) < 0.05
    tg.nn.init.sparse_(w, -0.2, generator=_gen(25))  # a negative count slices as PyTorch's
    assert ((w.numpy() == 0).sum(axis=0) == 8).all()


# ------------------------------------------------------------------------------ repeatability
DRAWS = {
    "multinomial": lambda g: tg.multinomial(tg.ones(3, 10), 4, generator=g),
    "multinomial replaced": lambda g: tg.ones(10).multinomial(20, True, generator=g),
    "normal": lambda g: tg.normal(tg.zeros(5), tg.ones(5), generator=g),
    "normal size": lambda g: tg.normal(0.0, 1.0, (5,), generator=g),
    "randint_like": lambda g: tg.randint_like(tg.zeros(5), 100, generator=g),
    "rand_like": lambda g: tg.rand_like(tg.zeros(5), generator=g),
    "randn_like": lambda g: tg.randn_like(tg.zeros(5), generator=g),
    "exponential_": lambda g: tg.zeros(5).exponential_(generator=g),
    "random_": lambda g: tg.zeros(5).random_(generator=g),
    "geometric_": lambda g: tg.zeros(5).geometric_(0.1, generator=g),
    "log_normal_": lambda g: tg.zeros(5).log_normal_(generator=g),
    "cauchy_": lambda g: tg.zeros(5).cauchy_(generator=g),
    "sparse_": lambda g: tg.nn.init.sparse_(tg.zeros(6, 4), 0.5, generator=g),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_the_same_seed_gives_the_same_draws_and_the_default_generator_is_left_alone(name):
    draw = DRAWS[name]
    tg.manual_seed(0)
    before = tg.get_rng_state().numpy()
    a, b = draw(_gen(7)).numpy(), draw(_gen(7)).numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(tg.get_rng_state().numpy(), before)  # not drawn from
    g = _gen(7)
    first, second = draw(g).numpy(), draw(g).numpy()  # it advances
    np.testing.assert_array_equal(first, a)
    assert not np.array_equal(first, second)
    tg.manual_seed(3)
    c = draw(None).numpy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(draw(None).numpy(), c)  # the default one, by manual_seed


def test_in_place_fills_in_a_graph_give_zero_gradient():
    x = tg.ones(4, requires_grad=True)
    y = x * 2
    y.exponential_(generator=_gen(1)).random_(3).geometric_(0.5).log_normal_().cauchy_()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(4))
    with pytest.raises(RuntimeError, match="leaf"):
        tg.ones(2, requires_grad=True).cauchy_()
    t = tg.zeros(3)
    version = t._version_counter[0]
    t.exponential_()
    assert t._version_counter[0] == version + 1
