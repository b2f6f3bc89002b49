"""Session 41: what outside testers and the lead found after session 40, each against PyTorch.

Index ops on tensors of 33 to 64 dims (PyTorch takes up to 64): numpy indexes with at most 63
arrays, and its ``ufunc.at`` crashed the interpreter (a segmentation fault) past 32 dims, which
``scatter(reduce="add")``, ``index_add`` and the VJPs of gather reached.
"""

from __future__ import annotations

import subprocess
import sys

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
