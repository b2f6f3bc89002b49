"""Session 41: what outside testers and the lead found after session 40, each against PyTorch.

Index ops on tensors of 33 to 64 dims (PyTorch takes up to 64): numpy indexes with at most 63
arrays, and its ``ufunc.at`` crashed the interpreter (a segmentation fault) past 32 dims, which
``scatter(reduce="add")``, ``index_add`` and the VJPs of gather reached.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


def _shape(ndim: int) -> tuple[int, ...]:
    return (2,) + (1,) * (ndim - 3) + (3, 2)


def _index(shape: tuple[int, ...], dim: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, shape[dim], size=shape)


_DEEP_OPS = {
    "max": lambda m, x, i, d: m.max(x, d).values,
    "min": lambda m, x, i, d: m.min(x, d).values,
    "argmax": lambda m, x, i, d: m.argmax(x, d),
    "topk": lambda m, x, i, d: m.topk(x, 1, d).values,
    "sort": lambda m, x, i, d: m.sort(x, stable=True, dim=d).values,
    "argsort": lambda m, x, i, d: m.argsort(x, stable=True, dim=d),
    "kthvalue": lambda m, x, i, d: m.kthvalue(x, 1, d).values,
    "median": lambda m, x, i, d: m.median(x, d).values,
    "cummax": lambda m, x, i, d: m.cummax(x, d).values,
    "cummin": lambda m, x, i, d: m.cummin(x, d).values,
    "gather": lambda m, x, i, d: m.gather(x, d, i),
    "take_along_dim": lambda m, x, i, d: m.take_along_dim(x, i, d),
    "scatter": lambda m, x, i, d: m.scatter(x, d, i, x * 2),
    "scatter_value": lambda m, x, i, d: m.scatter(x, d, i, 1.5),
    "scatter_add": lambda m, x, i, d: m.scatter_add(x, d, i, x * 3),
    "scatter_reduce_sum": lambda m, x, i, d: m.scatter_reduce(x, d, i, x * 3, "sum"),
    "scatter_reduce_mean": lambda m, x, i, d: m.scatter_reduce(x, d, i, x * 3, "mean"),
    "scatter_reduce_amax": lambda m, x, i, d: m.scatter_reduce(x, d, i, x * 3, "amax"),
    "scatter_reduce_prod": lambda m, x, i, d: m.scatter_reduce(x, d, i, x * 3, "prod"),
    "index_add": lambda m, x, i, d: m.index_add(x, d, m.as_tensor([0, 0, 1][:x.shape[d]]),
                                                m.narrow(x, d, 0, x.shape[d]) * 2),
    "masked_select": lambda m, x, i, d: m.masked_select(x, x > 0),
    "getitem_mask": lambda m, x, i, d: x[x > 0],
    "take": lambda m, x, i, d: m.take(x, m.as_tensor([0, 5, 5, 11])),
    "index_select": lambda m, x, i, d: m.index_select(x, d, m.as_tensor([1, 0, 1])),
}


@pytest.mark.parametrize("ndim", [33, 64])
@pytest.mark.parametrize("op", sorted(_DEEP_OPS))
def test_index_ops_past_32_dims_match_pytorch(op: str, ndim: int) -> None:
    shape = _shape(ndim)
    x0 = np.random.default_rng(1).standard_normal(shape)
    for dim in (0, ndim - 2):
        idx = _index(shape, dim)
        x, xt = tg.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
        fn = _DEEP_OPS[op]
        ours = fn(tg, x, tg.tensor(idx), dim)
        theirs = fn(torch, xt, torch.tensor(idx), dim)
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12,
                                   err_msg=f"{op} dim {dim}")
        if not theirs.requires_grad:
            continue
        w = np.random.default_rng(2).standard_normal(tuple(theirs.shape))
        (ours * tg.tensor(w)).sum().backward()
        (theirs * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12,
                                   err_msg=f"{op} dim {dim} gradient")


@pytest.mark.parametrize("ndim", [33, 64])
def test_in_place_index_writes_past_32_dims_match_pytorch(ndim: int) -> None:
    shape = _shape(ndim)
    x0 = np.random.default_rng(3).standard_normal(shape)
    idx = _index(shape, 0)
    for name, fn in {
        "scatter_add_": lambda m, x: x.scatter_add_(0, m.tensor(idx), x.clone()),
        "scatter_reduce_add": lambda m, x: x.scatter_(0, m.tensor(idx), 2.0, reduce="add"),
        "index_put_accumulate": lambda m, x: x.index_put_(
            (m.tensor([0, 0, 1]),), m.tensor(1.0, dtype=m.float64), accumulate=True),
        "setitem_mask": lambda m, x: x.__setitem__(x > 0, 0.0),
        "index_fill_": lambda m, x: x.index_fill_(ndim - 1, m.tensor([1, 1]), -1.0),
    }.items():
        ours, theirs = tg.tensor(x0), torch.tensor(x0)
        fn(tg, ours)
        fn(torch, theirs)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, err_msg=name)


def test_no_crash_of_the_interpreter_at_64_dims() -> None:
    """The crash killed the process: run it in a child, which must exit normally."""
    code = ("import tinygrad_cnn as tg; s = (2,) + (1,) * 62 + (3,); "
            "x = tg.randn(*s); i = tg.zeros(*s, dtype=tg.int64); "
            "print(float(x.scatter(0, i, 1.0, reduce='add').sum()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("ndim", [33, 64])
def test_recorded_mask_write_past_32_dims_matches_pytorch(ndim: int) -> None:
    shape = _shape(ndim)
    x0 = np.random.default_rng(4).standard_normal(shape)
    grads = []
    for m in (tg, torch):
        x = m.tensor(x0, requires_grad=True)
        v = m.tensor(2.5, dtype=m.float64, requires_grad=True)
        h = x * 1
        h[h > 0] = v
        (h * h).sum().backward()
        grads.append((x.grad.numpy(), v.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-12)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-12)


# ------------------------------------------------------------------ composite results and views
# (t167) PyTorch returns these as tensors of their own; ours were views of an intermediate (a
# squeezed batch dim, a reshape), so detach_, t_ and unsqueeze_ refused them.
_RESULTS = {
    "conv1d": lambda m, f: f.conv1d(m.ones(1, 2, 5, requires_grad=True), m.ones(3, 2, 2)),
    "conv_transpose1d": lambda m, f: f.conv_transpose1d(m.ones(1, 2, 5, requires_grad=True),
                                                        m.ones(2, 3, 2)),
    "matmul_3d_2d": lambda m, f: m.ones(2, 3, 4, requires_grad=True) @ m.ones(4, 5),
    "matmul_3d_1d": lambda m, f: m.ones(2, 3, 4, requires_grad=True) @ m.ones(4),
    "matmul_1d_3d": lambda m, f: m.ones(4, requires_grad=True) @ m.ones(2, 4, 5),
    "max_pool2d_unbatched": lambda m, f: f.max_pool2d(m.ones(1, 4, 4, requires_grad=True), 2),
    "avg_pool2d_unbatched": lambda m, f: f.avg_pool2d(m.ones(1, 4, 4, requires_grad=True), 2),
    "adaptive_avg_pool2d_unbatched": lambda m, f: f.adaptive_avg_pool2d(
        m.ones(1, 4, 4, requires_grad=True), 2),
    "adaptive_max_pool2d_unbatched": lambda m, f: f.adaptive_max_pool2d(
        m.ones(1, 4, 4, requires_grad=True), 2),
    "cross_entropy_none": lambda m, f: f.cross_entropy(m.ones(3, 4, requires_grad=True),
                                                       m.tensor([0, 1, 2]), reduction="none"),
    "nll_loss_none": lambda m, f: f.nll_loss(m.ones(3, 4, requires_grad=True), m.tensor([0, 1, 2]),
                                             reduction="none"),
    "group_norm": lambda m, f: f.group_norm(m.ones(2, 4, 3, requires_grad=True), 2),
    "unfold_unbatched": lambda m, f: f.unfold(m.ones(1, 4, 4, requires_grad=True), 2),  # (t176)
    "fold_unbatched": lambda m, f: f.fold(m.ones(4, 9, requires_grad=True), (4, 4), 2),
    # and what PyTorch does return as views stays one
    "conv2d_unbatched": lambda m, f: f.conv2d(m.ones(2, 5, 5, requires_grad=True), m.ones(3, 2, 2, 2)),
    "conv1d_unbatched": lambda m, f: f.conv1d(m.ones(2, 5, requires_grad=True), m.ones(3, 2, 2)),
    "max_pool1d": lambda m, f: f.max_pool1d(m.ones(1, 2, 4, requires_grad=True), 2),
    "avg_pool1d": lambda m, f: f.avg_pool1d(m.ones(1, 2, 4, requires_grad=True), 2),
}


@pytest.mark.parametrize("name", sorted(_RESULTS))
def test_composite_results_are_views_where_pytorch_s_are(name: str) -> None:
    import torch.nn.functional as TF

    import tinygrad_cnn.nn.functional as F

    ours, theirs = _RESULTS[name](tg, F), _RESULTS[name](torch, TF)
    assert (ours._view is not None) == theirs._is_view()
    # detach_ as PyTorch: allowed on a tensor of its own, refused on a view
    try:
        theirs.detach_()
    except RuntimeError:
        with pytest.raises(RuntimeError, match="view"):
            ours.detach_()
    else:
        ours.detach_()
        assert not ours.requires_grad and ours.grad_fn is None
        ours.unsqueeze_(0)
        assert ours.shape == (1, *theirs.shape)


_WRITTEN = {
    "conv1d": (lambda m, f, x: f.conv1d(x, m.ones(3, 2, 2, dtype=m.float64)), (1, 2, 5)),
    "matmul_3d_2d": (lambda m, f, x: x @ m.ones(4, 5, dtype=m.float64), (2, 3, 4)),
    "cross_entropy_none": (lambda m, f, x: f.cross_entropy(x, m.tensor([0, 1, 2]), reduction="none"),
                           (3, 4)),
    "group_norm": (lambda m, f, x: f.group_norm(x, 2), (2, 4, 3)),
}


@pytest.mark.parametrize("name", sorted(_WRITTEN))
def test_composite_results_written_in_place_keep_pytorch_s_gradients(name: str) -> None:
    import torch.nn.functional as TF

    import tinygrad_cnn.nn.functional as F

    fn, shape = _WRITTEN[name]
    x0 = np.random.default_rng(5).standard_normal(shape)
    grads = []
    for m, f in ((tg, F), (torch, TF)):
        x = m.tensor(x0, requires_grad=True)
        y = fn(m, f, x)
        y.mul_(3)
        y.unsqueeze_(0)
        (y * y).sum().backward()
        grads.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-10)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-10)


# ------------------------------------------------------------------ renorm with non-finite slices
@pytest.mark.parametrize("p", [1, 2, 3, float("inf")])
@pytest.mark.parametrize("dim", [0, 1])
def test_renorm_gradient_of_a_slice_left_alone_is_pytorch_s(p: float, dim: int) -> None:
    """(t168) a NaN slice is left alone (NaN > maxnorm is False): its gradient is g, not NaN."""
    nan, inf = float("nan"), float("inf")
    x0 = np.array([[nan, 1., 2.], [3., 4., 0.], [0.1, 0.2, 0.1], [0, 0, 0], [inf, 1, 1], [-inf, nan, 0]])
    w = np.arange(18.).reshape(6, 3)
    out = []
    for m in (tg, torch):
        x = m.tensor(x0, requires_grad=True)
        y = m.renorm(x, p, dim, 1.0)
        (y * m.tensor(w)).sum().backward()
        out.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-9, atol=1e-12, equal_nan=True)


# ------------------------------------------------------------------ split/unbind VJPs in one array
# (t165) each piece's VJP made a full array of zeros, and each merge a full sum: O(n^2) for n
# pieces. Now they are written into one array; what follows checks every way pieces and other
# gradients can meet, against PyTorch.
def _piece_programs():
    def unbind_all(m, x):
        return sum(p * (i + 1) for i, p in enumerate(x.unbind(0)))

    def unbind_some(m, x):
        p = x.unbind(1)
        return p[0] * 2 + p[2].exp()

    def unbind_plus_dense(m, x):
        return (x * 3).sum(0) + sum(x.unbind(0))

    def dense_after(m, x):
        p = x.split(2, 0)
        return p[0].sum(0) * 2 + p[1].sum(0) + (x ** 2).sum(0)

    def two_splits(m, x):
        a, b = x.split([1, 3], 0)
        c = x.unbind(0)
        return a.sum(0) + b.sum(0) * 2 + c[1] * 5 + c[3].sin()

    def piece_twice(m, x):
        p = x.chunk(2, 1)
        return (p[0] * p[0]).sum(1) + p[0].sum(1) + p[1].tanh().sum(1)

    def nested(m, x):
        rows = x.unbind(0)
        return sum(r.unbind(0)[1] * r.unbind(0)[2] for r in rows)

    def split_of_view(m, x):
        return sum(p.sum() for p in x.t().split(1, 0)) * x[0, 0]

    def written_in_place(m, x):
        # (PyTorch refuses in-place writes into unbind's pieces; its select's are the same)
        h = x * 1
        p = h.unbind(0) if m is tg else [h.select(0, i) for i in range(h.shape[0])]
        p[1].mul_(3)
        return (h * h).sum(0) + p[2]

    return {f.__name__: f for f in (unbind_all, unbind_some, unbind_plus_dense, dense_after,
                                     two_splits, piece_twice, nested, split_of_view,
                                     written_in_place)}


_PIECES = _piece_programs()


@pytest.mark.parametrize("name", sorted(_PIECES))
def test_split_and_unbind_gradients_match_pytorch(name: str) -> None:
    x0 = np.random.default_rng(7).standard_normal((4, 3))
    out = []
    for m in (tg, torch):
        x = m.tensor(x0, requires_grad=True)
        y = _PIECES[name](m, x)
        w = m.tensor(np.linspace(-1, 2, y.numel()).reshape(tuple(y.shape)))
        (y * w).sum().backward()
        out.append(x.grad.numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["unbind_all", "unbind_plus_dense", "two_splits", "nested"])
def test_split_and_unbind_second_derivatives_match_pytorch(name: str) -> None:
    x0 = np.random.default_rng(8).standard_normal((4, 3))
    out = []
    for m in (tg, torch):
        x = m.tensor(x0, requires_grad=True)
        y = (_PIECES[name](m, x) ** 3).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (g * g).sum().backward()
        out.append((g.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-10)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-10)


def test_unbind_gradient_keeps_negative_zeros_as_pytorch_s_stack() -> None:
    out = []
    for m in (tg, torch):
        x = m.zeros(3, 2, requires_grad=True)
        p = x.unbind(0)
        (p[0] * -1.0 + p[1] * 2.0 + p[2] * -0.0).sum().backward()
        out.append(x.grad.numpy())
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(np.signbit(out[0]), np.signbit(out[1]))


def test_piece_hooks_retain_grad_and_grad_inputs_still_seen() -> None:
    x = tg.randn(3, 2, requires_grad=True)
    h = x * 2
    h.retain_grad()
    p = h.unbind(0)
    seen = []
    p[1].register_hook(lambda g: seen.append(g.numpy().copy()) or g * 10)
    (p[0] + p[1] + p[2]).sum().backward(retain_graph=True)
    np.testing.assert_array_equal(h.grad.numpy(), [[1, 1], [10, 10], [1, 1]])
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 2], [20, 20], [2, 2]])
    assert len(seen) == 1
    (gp,) = tg.autograd.grad((p[0] * 3).sum(), [h])
    np.testing.assert_array_equal(gp.numpy(), [[3, 3], [0, 0], [0, 0]])


def test_unbind_backward_is_linear_in_the_number_of_pieces() -> None:
    """Counted in work, not time: the pieces' VJPs allocate one input-sized array in all."""
    import tracemalloc

    peaks = []
    for n in (200, 800):
        x = tg.randn(n, 256, requires_grad=True)
        s = sum(x.unbind(0))
        tracemalloc.start()
        s.sum().backward()
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # the gradient array and the leaf's .grad (n * 256 * 4 bytes each) and the small pieces;
    # before, each merge made a new input-sized sum (the peak held 3.5 arrays)
    assert peaks[1] < 2.5 * 800 * 256 * 4, peaks


def test_unbind_pieces_vjps_make_no_input_sized_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    from tinygrad_cnn.ops import movement

    calls = []
    real = movement._scattered
    monkeypatch.setattr(movement, "_scattered", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = tg.randn(50, 3, requires_grad=True)
    sum(x.unbind(0)).sum().backward()
    sum(x.split(5, 0)).sum().backward()
    assert calls == []
    np.testing.assert_array_equal(x.grad.numpy(), np.full((50, 3), 2.0))


# ------------------------------------------------------------------ cdist's VJP in blocks of rows
@pytest.mark.parametrize("p", [0.5, 1.0, 1.5, 3.0, float("inf")])
@pytest.mark.parametrize("shapes", [((30, 7), (20, 7)), ((2, 17, 5), (1, 23, 5))])
def test_cdist_vjp_in_blocks_matches_pytorch(monkeypatch: pytest.MonkeyPatch, p: float,
                                             shapes: tuple) -> None:
    """(t165) the VJP for p != 2 held every pair's differences, P x R x M; now a block of rows
    at a time, as the forward (a small block size here, so that the blocks are exercised)."""
    from tinygrad_cnn.ops import distance

    monkeypatch.setattr(distance, "_CHUNK", 1000)
    a = np.random.default_rng(0).standard_normal(shapes[0])
    b = np.random.default_rng(1).standard_normal(shapes[1])
    a.reshape(-1)[3] = np.nan
    out = []
    for m in (tg, torch):
        x, y = m.tensor(a, requires_grad=True), m.tensor(b, requires_grad=True)
        d = m.cdist(x, y, p=p)
        (d * m.tensor(np.random.default_rng(2).standard_normal(tuple(d.shape)))).sum().backward()
        out.append((d.detach().numpy(), x.grad.numpy(), y.grad.numpy()))
    for ours, theirs in zip(*out):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12, equal_nan=True)


def test_cdist_vjp_memory_is_bounded() -> None:
    import tracemalloc

    x = tg.randn(1024, 64, requires_grad=True)
    y = tg.randn(1024, 64, requires_grad=True)
    d = tg.cdist(x, y, p=1.0)
    tracemalloc.start()
    d.sum().backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1024 * 1024 * 64 * 4 / 2, peak  # (the whole differences: 256 MB)


# ------------------------------------------------------------------ einsum of many operands
_EINSUMS = [
    ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 5)]),
    ("ab,bc,cd,de,ef->af", [(2, 3), (3, 2), (2, 4), (4, 3), (3, 2)]),
    ("bij,bjk,bkl->bil", [(2, 3, 4), (2, 4, 2), (2, 2, 3)]),
    ("i,ij,j->", [(3,), (3, 4), (4,)]),
    ("ab,ac,ad,a->bcd", [(3, 2), (3, 2), (3, 4), (3,)]),  # one label in four operands
    ("...ij,jk,...kl->...il", [(2, 3, 4), (4, 2), (1, 2, 3)]),
    ("ij,jk,kl,lm,mn,no,op,pq->iq", [(2, 2)] * 8),
]


@pytest.mark.parametrize("case", range(len(_EINSUMS)))
def test_einsum_of_many_operands_gradients_match_pytorch(case: int) -> None:
    """(t165) the VJP of each operand was the einsum of the n-1 others (O(n^2) contractions, each
    with its own path search): now down the contraction tree. First and second order, with one
    operand that needs no gradient."""
    eq, shapes = _EINSUMS[case]
    rng = np.random.default_rng(case)
    arrays = [rng.standard_normal(s) for s in shapes]
    w0 = rng.standard_normal(tuple(np.einsum(eq, *arrays).shape))
    out = []
    for m in (tg, torch):
        ops = [m.tensor(a, requires_grad=k != 1) for k, a in enumerate(arrays)]
        y = m.einsum(eq, *ops)
        w = m.tensor(w0)
        grads = m.autograd.grad((y * w).sum(), [o for o in ops if o.requires_grad], create_graph=True)
        sum((g * g).sum() for g in grads).backward()
        out.append([y.detach().numpy()] + [g.detach().numpy() for g in grads]
                   + [o.grad.numpy() for o in ops if o.requires_grad])
    for ours, theirs in zip(*out):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_einsum_chain_of_48_matrices_backward_is_pair_by_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    from tinygrad_cnn.ops import linalg

    letters = [chr(ord("a") + i) if i < 26 else chr(ord("A") + i - 26) for i in range(49)]
    eq = ",".join(letters[i] + letters[i + 1] for i in range(48)) + "->" + letters[0] + letters[48]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((3, 3)) / 2 for _ in range(48)]
    ops = [tg.tensor(a, requires_grad=True) for a in arrays]
    y = tg.einsum(eq, *ops)
    calls = []
    real = linalg._contract_pair
    monkeypatch.setattr(linalg, "_contract_pair", lambda *a: calls.append(1) or real(*a))
    y.sum().backward()
    assert len(calls) <= 3 * 48  # (the tree's 46 merges again and two VJPs per merge)
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    torch.einsum(eq, *ts).sum().backward()
    for o, t in zip(ops, ts):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-14)


def test_recorded_backward_still_shows_each_piece_s_vjp() -> None:
    """viz.record_gradients (and the step-through) wrap each node's VJP: the pieces' VJPs written
    straight into one array must not skip them."""
    import tinygrad_cnn.viz as viz

    x = tg.randn(3, 2, requires_grad=True)
    loss = sum(p * (i + 1) for i, p in enumerate(x.unbind(0))).sum()
    with viz.record_gradients(loss) as rec:
        loss.backward(retain_graph=True)
    assert [c.fn.name for c in rec.steps].count("getitem") == 3
    frames = viz.animate(loss).frames
    assert sum(f["op"] == "getitem" for f in frames) == 3
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1], [2, 2], [3, 3]])


# ------------------------------------------------------------------ float16 layers with a bias
def test_float16_linear_and_conv2d_with_bias_round_once_as_pytorch() -> None:
    """(t173) the float16 product was rounded, then its sum with the bias again: 1 ulp off a
    third of the time. PyTorch's CPU kernels add the bias in float32 and round once."""
    import torch.nn.functional as TF

    import tinygrad_cnn.nn.functional as F

    x = np.array([[0.1, 0.2]], np.float16)
    one = F.linear(tg.tensor(x), tg.tensor(np.ones((1, 2), np.float16)),
                   tg.tensor(np.array([0.001], np.float16)))
    assert one.item() == 0.301025390625
    rng = np.random.default_rng(0)
    cases = [
        ("linear", (rng.standard_normal((8, 300)), rng.standard_normal((5, 300)) / 10,
                    rng.standard_normal(5)), {}),
        ("conv2d", (rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)) / 3,
                    rng.standard_normal(4)), {"padding": 1}),
        ("conv2d", (rng.standard_normal((2, 4, 7, 5)), rng.standard_normal((6, 2, 2, 3)) / 3,
                    rng.standard_normal(6)), {"stride": 2, "groups": 2}),
    ]
    for name, arrays, kw in cases:
        a16 = [a.astype(np.float16) for a in arrays]
        ours = getattr(F, name)(*(tg.tensor(a) for a in a16), **kw).numpy()
        theirs = getattr(TF, name)(*(torch.tensor(a) for a in a16), **kw).numpy()
        assert ours.dtype == np.float16
        np.testing.assert_array_equal(ours, theirs, err_msg=name)
    # the module takes the same way; its weights are PyTorch's random ones, and a 300-term float32
    # sum added in OpenBLAS's order and in PyTorch's rounds to another float16 in ~8% of weight
    # draws (one ulp): seeded, and one float16 ulp allowed (the cases above are exact)
    torch.manual_seed(0)
    lin = tg.nn.Linear(300, 5).half()
    tlin = torch.nn.Linear(300, 5).half()
    lin.load_state_dict({k: tg.tensor(v.numpy()) for k, v in tlin.state_dict().items()})
    xs = rng.standard_normal((8, 300)).astype(np.float16)
    ours = lin(tg.tensor(xs)).detach().numpy()
    assert ours.dtype == np.float16
    np.testing.assert_allclose(ours.astype(np.float64),
                               tlin(torch.tensor(xs)).detach().numpy().astype(np.float64),
                               rtol=2.0**-10, atol=2.0**-24)



@pytest.mark.parametrize("call", [
    lambda F: F.cross_entropy(tg.randn(3, 4), tg.tensor([0.0, 1.0, 2.0])),
    lambda F: tg.nn.Embedding(3, 2)(tg.tensor([1.0])),
    lambda F: F.cross_entropy(tg.tensor([[1, 2]]), tg.tensor([0])),
    lambda F: F.nll_loss(tg.randn(3, 4), tg.tensor([0.0, 1.0, 2.0])),
    lambda F: F.gelu(tg.tensor([1, 2])),
])
def test_dtype_errors_are_also_pytorch_s_runtime_error(call: Any) -> None:
    """(t173) a ported ``except RuntimeError`` caught PyTorch's error and missed ours (a plain
    TypeError); ours is both, as the package's other dtype errors."""
    import tinygrad_cnn.nn.functional as F

    with pytest.raises(RuntimeError) as info:
        call(F)
    assert isinstance(info.value, TypeError)


# ------------------------------------------------------------------ names ported code reaches for
def test_old_svd_is_pytorch_s() -> None:
    a = np.random.default_rng(0).standard_normal((2, 4, 3))
    for kw in ({}, {"some": False}, {"compute_uv": False}):
        ours, theirs = tg.svd(tg.tensor(a), **kw), torch.svd(torch.tensor(a), **kw)
        assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs]
        np.testing.assert_allclose(ours.S.numpy(), theirs.S.numpy(), rtol=1e-12)
        if kw.get("compute_uv", True):  # (singular vectors up to sign: the product)
            k = 3
            rebuilt = (ours.U[..., :k] * ours.S.unsqueeze(-2)) @ ours.V.transpose(-2, -1)[..., :k, :]
            np.testing.assert_allclose(rebuilt.numpy(), a, atol=1e-12)
        else:
            assert not ours.U.numpy().any() and not ours.V.numpy().any()
    x, xt = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    tg.svd(x).S.sum().backward()
    torch.svd(xt).S.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10)


def test_apply_and_map_are_pytorch_s() -> None:
    for m in (tg, torch):
        x = m.tensor([1.0, 2.0, 3.0])
        assert x.apply_(lambda v: v * 2) is x
        assert x.tolist() == [2.0, 4.0, 6.0]
        assert m.tensor([1, 2, 3]).apply_(lambda v: v / 2).tolist() == [0, 1, 1]
        a = m.tensor([[1.0, 2.0]])
        a.map_(m.tensor([10.0]), lambda u, v: u + v)
        assert a.tolist() == [[11.0, 12.0]]
        with pytest.raises(RuntimeError, match="requires grad"):
            m.tensor([1.0], requires_grad=True).apply_(lambda v: v)
    base = tg.zeros(4)
    base[1:3].apply_(lambda v: v + 5)  # (through a view: the base sees it, its version moves)
    assert base.tolist() == [0, 5, 5, 0] and base._version == 1
    with pytest.raises(TypeError, match="must return a real number"):
        tg.tensor([1.0]).apply_(lambda v: "x")
    with pytest.raises(RuntimeError, match="broadcast"):
        tg.tensor([1.0, 2.0]).map_(tg.tensor([[1.0], [2.0]]), lambda u, v: u + v)


def test_stack_dataset_is_pytorch_s() -> None:
    from tinygrad_cnn.utils.data import StackDataset, TensorDataset

    a, b = TensorDataset(tg.arange(6.0).reshape(6, 1)), TensorDataset(tg.arange(6))
    s = StackDataset(a, b)
    assert len(s) == 6 and s[2][0][0].tolist() == [2.0] and s[2][1][0].item() == 2
    d = StackDataset(x=a, y=b)
    assert set(d[1]) == {"x", "y"}
    with pytest.raises(ValueError, match="size mismatch"):
        StackDataset(a, TensorDataset(tg.arange(5)))
    with pytest.raises(ValueError):
        StackDataset(a, y=b)


def test_nn_modules_utils_pair_and_advice_for_missing_names() -> None:
    from tinygrad_cnn.nn.modules.utils import _pair, _quadruple, _reverse_repeat_tuple, _single

    assert _pair(3) == (3, 3) and _pair((1, 2)) == (1, 2) and _single(4) == (4,)
    assert _quadruple(0) == (0, 0, 0, 0) and _reverse_repeat_tuple((1, 2), 2) == (2, 2, 1, 1)
    with pytest.raises(ImportError, match="subclass Conv2d"):
        exec("from tinygrad_cnn.nn.modules.conv import _ConvNd", {})
    for stmt, advice in [
        ("tg.optim.Adafactor", "Adam"), ("tg.optim.SparseAdam", "sparse"),
        ("tg.hub", "hub"), ("tg.profiler", "perf_counter"),
        ("tg.utils.data.DistributedSampler", "one process"),
    ]:
        with pytest.raises(AttributeError, match=advice):
            eval(stmt, {"tg": tg})
    for module, advice in [("tinygrad_cnn.nn.utils.prune", "mask"),
                           ("tinygrad_cnn.nn.utils.fusion", "fused weight"),
                           ("tinygrad_cnn.utils.data.distributed", "one process"),
                           ("tinygrad_cnn.nn.modules.lazy", "in_features")]:
        with pytest.raises(ModuleNotFoundError, match=advice):
            exec(f"import {module}", {})


def test_optimizer_repr_separates_groups_as_pytorch() -> None:
    text = repr(tg.optim.SGD([{"params": [tg.nn.Parameter(tg.ones(1))]},
                              {"params": [tg.nn.Parameter(tg.ones(1))], "lr": 0.1}], lr=1.0))
    assert "\n\nParameter Group 1\n" in text and text.startswith("SGD (\nParameter Group 0\n")


# ------------------------------------------------------------------ shapes changed behind the graph
@pytest.mark.parametrize("make", [
    lambda m, F, x: F.conv1d(x, m.ones(1, 1, 1, dtype=m.float64)),
    lambda m, F, x: x.repeat(1, 1, 2)[:, :, :4] * 1,
    lambda m, F, x: x * 2,
])
def test_gradient_for_an_output_reshaped_outside_the_graph_is_refused(make: Any) -> None:
    """(t174) a shape changed in place under no_grad() kept the output's node, whose VJP then
    read a gradient laid out for the new shape in the old one's order -- silently wrong. Both
    refuse now, with PyTorch's reason."""
    import torch.nn.functional as TF

    import tinygrad_cnn.nn.functional as F

    x0 = np.random.default_rng(0).standard_normal((2, 1, 4))
    for m, f in ((tg, F), (torch, TF)):
        x = m.tensor(x0, requires_grad=True)
        y = make(m, f, x)
        with m.no_grad():
            y.transpose_(0, 2)
        with pytest.raises(RuntimeError, match="shape compatible with"):
            (y * m.arange(8.0, dtype=m.float64).reshape(4, 1, 2)).sum().backward()


def test_gradient_that_broadcasts_to_the_recorded_shape_is_summed_as_pytorch() -> None:
    out = []
    for m in (tg, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        with m.no_grad():
            y.unsqueeze_(0)
        (y * m.tensor([[1.0, 3.0]])).sum().backward()
        z = x * 1
        z.data = m.ones(3, 2)
        (z * m.tensor([[1.0], [2.0], [3.0]])).sum().backward()
        out.append(x.grad.numpy())
    np.testing.assert_array_equal(out[0], out[1])


def test_var_and_std_without_degrees_of_freedom_warn_as_pytorch() -> None:
    """(t173) PyTorch warns (and gives NaN or inf); ours was silent."""
    for call, name in [(lambda m: m.tensor([1.0]).std(), "std"), (lambda m: m.var(m.tensor([1.0])), "var"),
                       (lambda m: m.var_mean(m.tensor([1.0])), "var_mean"),
                       (lambda m: m.tensor([[1.0, 2.0]]).var(0), "var"),
                       (lambda m: m.tensor([1.0, 2.0]).var(correction=2), "var")]:
        for m in (tg, torch):
            with pytest.warns(UserWarning, match=rf"{name}\(\): degrees of freedom is <= 0"):
                call(m)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.tensor([1.0, 2.0]).var()
        tg.tensor([1.0]).var(correction=0)


def test_set_printoptions_as_pytorch() -> None:
    x = [[1.23456789, 1e-6], [12345.678, -2.5]]
    try:
        for kw in ({"sci_mode": False}, {"sci_mode": True}):  # (a wide range: numpy's fixed mode
            for m in (tg, torch):  # turned to scientific notation where PyTorch does not)
                m.set_printoptions(profile="default")
                m.set_printoptions(**kw)
            for data in ([1e-9, 1e9], [float("nan"), 1.5]):
                assert repr(tg.tensor(data)) == repr(torch.tensor(data)), (kw, data)
        for kw in ({}, {"precision": 2}, {"sci_mode": False}, {"sci_mode": True},
                   {"profile": "short"}, {"threshold": 5, "edgeitems": 1}):
            for m in (tg, torch):
                m.set_printoptions(profile="default")
                m.set_printoptions(**kw)
            assert repr(tg.tensor(x)) == repr(torch.tensor(x)), kw
            if "threshold" not in kw:  # (numpy's summary spacing: "0., ..., 9.")
                assert repr(tg.arange(10.0)) == repr(torch.arange(10.0)), kw
    finally:
        tg.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    assert repr(tg.tensor([1.5, 2.0])) == "tensor([1.5, 2. ])"  # (numpy's digits, see README)
    with pytest.raises(ValueError, match="profile"):
        tg.set_printoptions(profile="long")


def test_inv_and_svd_results_are_laid_out_as_pytorch_s() -> None:
    """(t174) ours were row-major, PyTorch's column-major per matrix: y.reshape(-1) was a view
    here (a write through it changed the inverse) and a copy there."""
    a = np.random.default_rng(0).standard_normal((3, 3))
    b = np.random.default_rng(1).standard_normal((2, 4, 3))
    assert tg.linalg.inv(tg.tensor(a)).stride() == torch.linalg.inv(torch.tensor(a)).stride()
    for fm in (True, False):
        assert [t.stride() for t in tg.linalg.svd(tg.tensor(b), full_matrices=fm)] == \
            [t.stride() for t in torch.linalg.svd(torch.tensor(b), full_matrices=fm)]
    assert [t.stride() for t in tg.svd(tg.tensor(b))] == [t.stride() for t in torch.svd(torch.tensor(b))]
    y = tg.linalg.inv(tg.tensor(a, requires_grad=True))
    y.reshape(-1).mul_(2)
    np.testing.assert_allclose(y.detach().numpy(), np.linalg.inv(a))


# ------------------------------------------------------------------ t175: today's changes, attacked
@pytest.mark.parametrize("frozen", [(0, 1), (1, 2), (0, 2), (0,), (2,)])
def test_einsum_tree_vjp_with_operands_that_need_no_gradient(frozen: tuple) -> None:
    """A merged pair whose operands need no gradient has none to pass on (was: KeyError)."""
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in ((2, 3), (3, 4), (4, 2))]
    out = []
    for m in (tg, torch):
        ops = [m.tensor(a, requires_grad=k not in frozen) for k, a in enumerate(arrays)]
        y = m.einsum("ij,jk,kl->il", *ops)
        g = m.autograd.grad((y * y).sum(), [o for o in ops if o.requires_grad], create_graph=True)
        sum(x.sum() for x in g).backward()
        out.append([t.detach().numpy() for t in g] + [o.grad.numpy() for o in ops if o.requires_grad])
    for ours, theirs in zip(*out):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_piece_gradient_meeting_another_gradient_keeps_pytorch_s_zeros() -> None:
    for make in (lambda m, x: x.split(1)[0].sum() + (x * -0.0).sum(),
                 lambda m, x: (x * -0.0).sum() + x.split(1)[0].sum()):
        out = []
        for m in (tg, torch):
            x = m.zeros(2, requires_grad=True)
            make(m, x).backward()
            out.append(x.grad.numpy())
        np.testing.assert_array_equal(np.signbit(out[0]), np.signbit(out[1]))
        np.testing.assert_array_equal(out[0], out[1])


def test_old_svd_with_some_false_ignores_the_extra_vectors_gradients_as_pytorch() -> None:
    a = np.random.default_rng(0).standard_normal((4, 3))
    w = np.arange(12.0).reshape(4, 3)
    out = []
    for m in (tg, torch):
        x = m.tensor(a, requires_grad=True)
        u, s, v = m.svd(x, some=False)
        ((u[:, :3] ** 2 * m.tensor(w)).sum() + s.sum() + u[:, 3:].sum() + (v ** 2).sum()).backward()
        out.append(x.grad.numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-9, atol=1e-12)
    with pytest.raises(RuntimeError, match="full_matrices=True"):  # (linalg.svd's stays refused)
        u, s, vh = tg.linalg.svd(tg.tensor(a, requires_grad=True), full_matrices=True)
        u.sum().backward()


@pytest.mark.parametrize("dtype, value, expected", [
    ("float32", True, 1.0), ("float32", 1e300, float("inf")), ("float32", 10**30, 1e30),
    ("uint8", -1, 255), ("int64", 2.7, 2), ("bool", 2.5, True), ("bool", 0, False),
])
def test_apply_converts_the_callable_s_value_as_pytorch(dtype: str, value: Any, expected: Any) -> None:
    for m in (tg, torch):
        t = m.tensor([1], dtype=getattr(m, dtype))
        t.apply_(lambda _: value)
        assert t.tolist() == [pytest.approx(expected, rel=1e-6) if dtype == "float32" else expected]


@pytest.mark.parametrize("dtype, value, error", [
    ("float32", None, TypeError), ("float32", "1.5", TypeError), ("float32", [1.0], TypeError),
    ("bool", None, TypeError), ("int64", 2.5, None), ("uint8", 255.9, RuntimeError),
    ("uint8", 300, RuntimeError), ("uint8", float("nan"), RuntimeError), ("int64", 10**30, ValueError),
])
def test_apply_refuses_what_pytorch_refuses(dtype: str, value: Any, error: Any) -> None:
    if error is None:
        return
    for m in (tg, torch):
        with pytest.raises(error):
            m.tensor([1], dtype=getattr(m, dtype)).apply_(lambda _: value)


def test_tensor_of_a_tensor_warns_as_pytorch() -> None:
    """(t173) PyTorch recommends detach().clone() with a UserWarning; the package's own calls
    do not warn."""
    for m in (tg, torch):
        with pytest.warns(UserWarning, match="To copy construct from a tensor"):
            m.tensor(m.ones(2))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.tensor([1.0, 2.0])
        tg.as_tensor(tg.ones(2))
        tg.stack([tg.ones(2), tg.zeros(2)])


@pytest.mark.parametrize("ndim", [33, 64])
def test_repeat_tile_and_repeat_interleave_past_32_dims(ndim: int) -> None:
    """(t172) their plan put a count before each dim: 2 x ndim dims, past numpy's 64 (numpy's
    error). PyTorch's takes 33 dims, and refuses 64 ("only tensors with up to 64 dims")."""
    shape = (2,) + (1,) * (ndim - 3) + (3, 2)
    a = np.random.default_rng(0).standard_normal(shape)
    for call, expect in [
        (lambda x: x.repeat(*([2] + [1] * (ndim - 3) + [1, 3])),
         lambda: np.tile(a, [2] + [1] * (ndim - 2) + [3])),
        (lambda x: x.tile((1, 2)), lambda: np.tile(a, (1, 2))),
        (lambda x: x.repeat_interleave(2, dim=ndim - 2), lambda: np.repeat(a, 2, axis=ndim - 2)),
    ]:
        x = tg.tensor(a, requires_grad=True)
        y = call(x)
        np.testing.assert_array_equal(y.detach().numpy(), expect())
        y.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), np.full(shape, y.numel() / x.numel()))
        if ndim < 64:
            xt = torch.tensor(a, requires_grad=True)
            yt = call(xt)
            (yt * yt).sum().backward()
            x.grad = None
            (y * y).sum().backward()
            np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-13)


@pytest.mark.parametrize("sizes", [((3, 3), (100, 7)), ((7, 5), (70, 65)), ((100, 9), (67, 130)),
                                   ((5, 200), (3, 150)), ((2, 2), (129, 3))])
@pytest.mark.parametrize("name", ["adaptive_avg_pool2d", "adaptive_max_pool2d"])
def test_adaptive_pools_with_many_bins_match_pytorch(name: str, sizes: tuple) -> None:
    """(t172) one Python step per bin: a million output rows took 5-17 s; now the bins of one
    length at a time (more than 64 bins), with PyTorch's values, indices and gradients."""
    import torch.nn.functional as TF

    import tinygrad_cnn.nn.functional as F

    (h, w), out_size = sizes
    a = np.random.default_rng(0).standard_normal((2, 3, h, w))
    a[0, 0, 0, 0] = np.nan
    got = []
    for m, f in ((tg, F), (torch, TF)):
        x = m.tensor(a, requires_grad=True)
        y = getattr(f, name)(x, out_size)
        w8 = m.tensor(np.arange(np.prod(tuple(y.shape)), dtype=float).reshape(tuple(y.shape)) % 7)
        (y * w8).sum().backward()
        got.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(got[0][0], got[1][0], rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(got[0][1], got[1][1], rtol=1e-10, equal_nan=True)


def test_adaptive_pool_to_a_million_rows_is_vectorised(monkeypatch: pytest.MonkeyPatch) -> None:
    import tinygrad_cnn.nn.functional as F
    from tinygrad_cnn.ops import resample

    monkeypatch.setattr(resample, "adaptive_bins", lambda *a: pytest.fail("a Python step per bin"))
    x = tg.ones(1, 1, 3, 3, requires_grad=True)
    F.adaptive_max_pool2d(x, (10**5, 1)).sum().backward()
    F.adaptive_avg_pool2d(x, (10**5, 1)).sum().backward()
    assert x.grad.sum().item() == pytest.approx(2 * 10**5, rel=1e-6)


@pytest.mark.parametrize("call", [
    lambda x, F: tg.zeros([1] * 65), lambda x, F: x.unsqueeze(0), lambda x, F: x.reshape([1] * 65),
    lambda x, F: x[True], lambda x, F: x.expand([1] * 65), lambda x, F: tg.stack([x, x]),
    lambda x, F: tg.diag_embed(x), lambda x, F: F.one_hot(tg.zeros([1] * 64, dtype=tg.int64), 3),
    lambda x, F: tg.ones([1] * 63 + [3]).unfold(63, 2, 1), lambda x, F: tg.randn([1] * 65),
])
def test_results_past_64_dims_are_refused_in_the_op_s_words(call: Any) -> None:
    """(t172) numpy's "maximum supported dimension" or "number of dimensions must be within
    [0, 64]" came out; PyTorch allows more dims, numpy does not: a named error."""
    import tinygrad_cnn.nn.functional as F

    with pytest.raises(RuntimeError, match="at most 64 dims"):
        call(tg.ones([1] * 64), F)


@pytest.mark.parametrize("depth", [70, 1000])
def test_a_list_nested_too_deep_is_a_value_error_as_pytorch(depth: int) -> None:
    """(t172) 1,000 deep was a RecursionError; 70 deep was called "ragged". PyTorch's ValueError."""
    d: Any = 1.0
    for _ in range(depth):
        d = [d]
    with pytest.raises(ValueError, match="at most 64 dims"):
        tg.tensor(d)


def test_tensor_svd_method_is_pytorch_s() -> None:
    a = np.random.default_rng(0).standard_normal((4, 3))
    ours, theirs = tg.tensor(a).svd(), torch.tensor(a).svd()
    np.testing.assert_allclose(ours.S.numpy(), theirs.S.numpy(), rtol=1e-12)
    assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs]
