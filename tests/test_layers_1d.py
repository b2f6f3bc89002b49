"""The 1-D layers (Conv1d, ConvTranspose1d, MaxPool1d, AvgPool1d, the adaptive 1-D pools), the
unpooling, power-average, local-response-norm and channel-shuffle families, Unfold/Fold as layers,
InstanceNorm1d/3d and BatchNorm3d -- against PyTorch: values, input/weight/bias gradients, indices
(ties, -inf, NaN), unbatched inputs, exception types, reprs, state_dict keys and the default
initialisation; and tinygrad_cnn's own gradcheck in float64 for a few."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_cnn import Tensor, gradcheck, gradgradcheck, nn
from tinygrad_cnn.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

TOL = {np.float64: (1e-10, 1e-12), np.float32: (2e-5, 2e-5)}


def compare(ours, theirs, arrays, dtype=np.float64, grad=True, seed=0):
    """Run ``ours(*Tensors)`` and ``theirs(*torch tensors)`` on ``arrays`` (the floating ones cast
    to ``dtype`` and differentiated; integer ones passed as they are); compare the values, the
    indices of a ``(values, indices)`` result exactly, and every floating input's gradient."""
    rtol, atol = TOL[dtype]
    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
    mine = [Tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    ref = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    out, expected = ours(*mine), theirs(*ref)
    if isinstance(expected, tuple):
        assert isinstance(out, tuple) and len(out) == 2
        assert out[1].dtype == np.int64
        np.testing.assert_array_equal(out[1].numpy(), expected[1].numpy(), err_msg="indices")
        out, expected = out[0], expected[0]
    assert out.shape == tuple(expected.shape) and out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=rtol, atol=atol,
                               err_msg="values")
    if not grad:
        return out
    g = np.random.default_rng(seed).standard_normal(tuple(expected.shape)).astype(dtype)
    out.backward(Tensor(g))
    expected.backward(torch.tensor(g))
    for i, (a, b) in enumerate(zip(mine, ref)):
        if b.requires_grad:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol,
                                       err_msg=f"gradient of input {i}")
    return out


def cases(n, seed, draw):
    rng = np.random.default_rng(seed)
    return [draw(rng) for _ in range(n)]


# ------------------------------------------------------------------------------ conv1d
def _conv1d_case(rng):
    groups = int(rng.choice([1, 2, 3]))
    c_in, c_out = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    k, s, d = int(rng.integers(1, 5)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
    padding = ["same", "valid", 0, 1, 2][int(rng.integers(5))]
    if padding == "same":
        s = 1
    length = d * (k - 1) + 1 + int(rng.integers(0, 9))
    return (int(rng.integers(1, 4)), c_in, c_out, length, k, s, padding, d, groups,
            bool(rng.integers(2)))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # (PyTorch's)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", cases(12, 1, _conv1d_case))
def test_conv1d_matches_torch(case, dtype):
    n, c_in, c_out, length, k, s, padding, d, groups, bias = case
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((n, c_in, length)), rng.standard_normal((c_out, c_in // groups, k))]
    if bias:
        arrays.append(rng.standard_normal(c_out))
    compare(lambda *t: F.conv1d(*t, stride=s, padding=padding, dilation=d, groups=groups),
            lambda *t: TF.conv1d(*t, stride=s, padding=padding, dilation=d, groups=groups),
            arrays, dtype)


def _conv_t1d_case(rng):
    groups = int(rng.choice([1, 2]))
    c_in, c_out = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    k, s, d = int(rng.integers(1, 5)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
    opad = int(rng.integers(0, max(s, d)))
    p = int(rng.integers(0, 2))
    return (int(rng.integers(1, 3)), c_in, c_out, int(rng.integers(2, 7)), k, s, p, opad, groups, d,
            bool(rng.integers(2)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", cases(10, 3, _conv_t1d_case))
def test_conv_transpose1d_matches_torch(case, dtype):
    n, c_in, c_out, length, k, s, p, opad, groups, d, bias = case
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((n, c_in, length)), rng.standard_normal((c_in, c_out // groups, k))]
    if bias:
        arrays.append(rng.standard_normal(c_out))
    args = dict(stride=s, padding=p, output_padding=opad, groups=groups, dilation=d)
    compare(lambda *t: F.conv_transpose1d(*t, **args), lambda *t: TF.conv_transpose1d(*t, **args),
            arrays, dtype)


def test_conv1d_and_conv_transpose1d_unbatched():
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((4, 9)), rng.standard_normal((6, 2, 3)), rng.standard_normal(6)
    out = compare(lambda *t: F.conv1d(*t, padding=1, groups=2),
                  lambda *t: TF.conv1d(*t, padding=1, groups=2), [x, w, b])
    assert out.shape == (6, 9)
    wt = rng.standard_normal((4, 3, 3))
    out = compare(lambda *t: F.conv_transpose1d(*t, stride=2), lambda *t: TF.conv_transpose1d(
        *t, stride=2), [x, wt])
    assert out.shape == (3, 19)


# ------------------------------------------------------------------------------ pools
def _pool_case(rng):
    k = int(rng.integers(1, 5))
    return (k, [None, 1, 2, 3][int(rng.integers(4))], int(rng.integers(0, k // 2 + 1)),
            int(rng.integers(1, 3)), bool(rng.integers(2)), int(rng.integers(k + 4, 14)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", cases(12, 6, _pool_case))
def test_max_pool1d_matches_torch(case, dtype):
    k, s, p, d, ceil_mode, length = case
    if p and d > 1:  # (a window that reads only padding is refused here; see below)
        d = 1
    x = np.random.default_rng(7).standard_normal((2, 3, length))
    args = (k, s, p, d, ceil_mode, True)
    compare(lambda t: F.max_pool1d(t, *args), lambda t: TF.max_pool1d(t, *args), [x], dtype)
    compare(lambda t: F.max_pool1d_with_indices(t, *args[:5]),
            lambda t: TF.max_pool1d_with_indices(t, *args[:5]), [x], dtype)
    out = F.max_pool1d(Tensor(x), k, s, p, d, ceil_mode)  # no indices: a Tensor
    assert isinstance(out, Tensor)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", cases(10, 8, _pool_case))
def test_avg_pool1d_matches_torch(case, dtype):
    k, s, p, _, ceil_mode, length = case
    x = np.random.default_rng(9).standard_normal((2, 3, length))
    for count_include_pad in (True, False):
        args = (k, s, p, ceil_mode, count_include_pad)
        compare(lambda t: F.avg_pool1d(t, *args), lambda t: TF.avg_pool1d(t, *args), [x], dtype)


@pytest.mark.parametrize("length,size", [(10, 3), (7, 7), (5, 8), (9, 1), (12, 4)])
def test_adaptive_pools_1d_match_torch(length, size):
    x = np.random.default_rng(10).standard_normal((2, 3, length))
    compare(lambda t: F.adaptive_avg_pool1d(t, size), lambda t: TF.adaptive_avg_pool1d(t, size), [x])
    compare(lambda t: F.adaptive_max_pool1d(t, (size,), return_indices=True),
            lambda t: TF.adaptive_max_pool1d(t, (size,), return_indices=True), [x])
    compare(lambda t: F.adaptive_max_pool1d_with_indices(t, size),
            lambda t: TF.adaptive_max_pool1d_with_indices(t, size), [x[0]])
    assert F.adaptive_avg_pool1d(Tensor(x), 0).shape == (2, 3, 0)  # as PyTorch
    values, indices = F.adaptive_max_pool1d(Tensor(x[0]), 0, True)
    assert values.shape == indices.shape == (3, 0)


def test_pools_1d_unbatched():
    x = np.random.default_rng(11).standard_normal((3, 9))
    compare(lambda t: F.max_pool1d(t, 3, 2, 1, return_indices=True),
            lambda t: TF.max_pool1d(t, 3, 2, 1, return_indices=True), [x])
    compare(lambda t: F.avg_pool1d(t, 2, ceil_mode=True), lambda t: TF.avg_pool1d(
        t, 2, ceil_mode=True), [x])
    compare(lambda t: F.adaptive_avg_pool1d(t, 4), lambda t: TF.adaptive_avg_pool1d(t, 4), [x])
    compare(lambda t: F.lp_pool1d(t, 2, 3), lambda t: TF.lp_pool1d(t, 2, 3), [x])


SPECIAL = {
    # ties everywhere: the gradient and the index go to each window's first maximum
    "ties": np.array([[[1.0, 1.0, 1.0, 2.0, 2.0, 0.0, 2.0, 2.0, 2.0]]]),
    "-inf": np.array([[[-np.inf, -np.inf, -np.inf, 1.0, -np.inf, -np.inf, 0.0, -np.inf, 3.0]]]),
    "nan": np.array([[[1.0, np.nan, 2.0, 3.0, np.nan, np.nan, 0.0, 5.0, 4.0]]]),
}


@pytest.mark.parametrize("what", list(SPECIAL))
@pytest.mark.parametrize("args", [(3, 3, 0), (3, 2, 1), (2, 1, 1), (4, 3, 2)])
def test_max_pool1d_special_values(what, args):
    x = SPECIAL[what]
    k, s, p = args
    compare(lambda t: F.max_pool1d(t, k, s, p, return_indices=True, ceil_mode=True),
            lambda t: TF.max_pool1d(t, k, s, p, return_indices=True, ceil_mode=True), [x])
    compare(lambda t: F.adaptive_max_pool1d(t, 4, True),
            lambda t: TF.adaptive_max_pool1d(t, 4, True), [x])


@pytest.mark.parametrize("what", list(SPECIAL))
def test_max_pool2d_indices_with_special_values(what):
    x = np.concatenate([SPECIAL[what][..., :8]] * 4, axis=1).reshape(1, 2, 4, 4)
    x[0, 1] = x[0, 1].T
    for args in [(2, 2, 0), (3, 1, 1), ((2, 3), (1, 2), (1, 0))]:
        compare(lambda t: F.max_pool2d(t, *args, return_indices=True),
                lambda t: TF.max_pool2d(t, *args, return_indices=True), [x])
        compare(lambda t: F.max_pool2d_with_indices(t, *args, ceil_mode=True),
                lambda t: TF.max_pool2d_with_indices(t, *args, ceil_mode=True), [x])
    compare(lambda t: nn.MaxPool2d(3, 2, 1, return_indices=True)(t),
            lambda t: torch.nn.MaxPool2d(3, 2, 1, return_indices=True)(t), [x[0]])


def test_max_pool1d_refuses_a_window_of_padding_only():
    # PyTorch returns -inf with no input to send the gradient to; max_pool2d refuses it too
    with pytest.raises(ValueError, match="reads only padding"):
        F.max_pool1d(Tensor(np.ones((1, 1, 2))), 2, 1, 1, dilation=3)


# ------------------------------------------------------------------------------ unpooling
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k,s,p,hw,form", [(2, None, 0, (8, 6), None), (3, 2, 1, (9, 7), None),
                                          (2, 2, 0, (9, 7), "hw"), (3, 3, 0, (10, 10), "full")])
def test_max_unpool2d_matches_torch(k, s, p, hw, form, dtype):
    x = np.random.default_rng(12).standard_normal((2, 3, *hw)).astype(dtype)
    v, idx = TF.max_pool2d(torch.tensor(x), k, s, p, return_indices=True)
    size = {None: None, "hw": hw, "full": (2, 3, *hw)}[form]  # (the indices are into (H, W))
    args = (k, s, p, size)
    out = compare(lambda t: F.max_unpool2d(t, Tensor(idx.numpy()), *args),
                  lambda t: TF.max_unpool2d(t, idx, *args), [v.numpy()], dtype)
    assert out.shape == x.shape
    size0 = None if size is None else size[-2:]
    compare(lambda t: nn.MaxUnpool2d(k, s, p)(t, Tensor(idx[0].numpy()), size0),
            lambda t: torch.nn.MaxUnpool2d(k, s, p)(t, idx[0], size0), [v[0].numpy()], dtype)


@pytest.mark.parametrize("k,s,p,size", [(2, None, 0, None), (3, 2, 1, None), (2, 2, 0, [10]),
                                       (3, 2, 0, (2, 3, 12))])
def test_max_unpool1d_matches_torch(k, s, p, size):
    x = np.random.default_rng(13).standard_normal((2, 3, 11))
    v, idx = TF.max_pool1d(torch.tensor(x), k, s, p, return_indices=True)
    args = (k, s, p, size)
    compare(lambda t: F.max_unpool1d(t, Tensor(idx.numpy()), *args),
            lambda t: TF.max_unpool1d(t, idx, *args), [v.numpy()])
    size0 = size[-1:] if size is not None else None  # (unbatched: (L,) or (C, L))
    compare(lambda t: nn.MaxUnpool1d(k, s, p)(t, Tensor(idx[0].numpy()), size0),
            lambda t: torch.nn.MaxUnpool1d(k, s, p)(t, idx[0], size0), [v[0].numpy()])


def test_max_pool_then_unpool_layers_round_trip():
    x = np.random.default_rng(14).standard_normal((1, 2, 8))
    values, indices = nn.MaxPool1d(2, return_indices=True)(Tensor(x))
    back = nn.MaxUnpool1d(2)(values, indices)
    kept = back.numpy() != 0
    np.testing.assert_array_equal(back.numpy()[kept], x[kept])
    assert kept.sum() == 8  # one per window
    # the gradient of the unpooling gathers at the indices, as PyTorch's; one repeated index
    # receives the gradient of its output element once per appearance
    v = Tensor(np.array([[[1.0, 2.0]]]), requires_grad=True)
    out = F.max_unpool1d(v, Tensor(np.array([[[1, 1]]])), 2)
    out.backward(Tensor(np.array([[[0.0, 5.0, 0.0, 0.0]]])))
    np.testing.assert_array_equal(v.grad.numpy(), [[[5.0, 5.0]]])


# ------------------------------------------------------------------------------ lp pooling
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("p", [1, 2, 3, 1.5, math.inf, -math.inf])
@pytest.mark.parametrize("args", [(2, None, False), ((2, 3), (1, 2), True), (3, 2, True)])
def test_lp_pool2d_matches_torch(p, args, dtype):
    x = np.random.default_rng(15).standard_normal((2, 3, 7, 6))
    if p not in (1, 2, math.inf, -math.inf):
        x = np.abs(x) + 0.1  # (odd or fractional powers of negative sums: NaN in both)
    k, s, ceil_mode = args
    compare(lambda t: F.lp_pool2d(t, p, k, s, ceil_mode), lambda t: TF.lp_pool2d(t, p, k, s,
                                                                                ceil_mode),
            [x], dtype)
    k1 = k if isinstance(k, int) else k[0]
    s1 = s if s is None or isinstance(s, int) else s[1]
    compare(lambda t: nn.LPPool1d(p, k1, s1, ceil_mode)(t),
            lambda t: torch.nn.LPPool1d(p, k1, s1, ceil_mode)(t), [x[:, :, 0]], dtype)


def test_lp_pool_zero_window_has_zero_gradient():
    x = np.random.default_rng(16).standard_normal((1, 1, 4, 4))
    x[0, 0, :2, :2] = 0.0  # a window whose sum of squares is 0: PyTorch's gradient is 0
    out = compare(lambda t: nn.LPPool2d(2, 2)(t), lambda t: torch.nn.LPPool2d(2, 2)(t), [x])
    assert out.numpy()[0, 0, 0, 0] == 0.0
    compare(lambda t: F.lp_pool1d(t, 2, 2), lambda t: TF.lp_pool1d(t, 2, 2), [x[0, :, :, :]])


# ------------------------------------------------------------------------------ LRN, shuffle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(2, 5, 7), (2, 6, 3, 4), (1, 4, 2, 3, 2)])
@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_local_response_norm_matches_torch(shape, size, dtype):
    x = np.random.default_rng(17).standard_normal(shape) * 3
    compare(lambda t: F.local_response_norm(t, size, 1e-2, 0.6, 1.5),
            lambda t: TF.local_response_norm(t, size, 1e-2, 0.6, 1.5), [x], dtype)
    compare(lambda t: nn.LocalResponseNorm(size)(t),
            lambda t: torch.nn.LocalResponseNorm(size)(t), [x], dtype)


@pytest.mark.parametrize("shape,groups", [((2, 6, 3), 3), ((1, 8, 2, 2), 2), ((2, 4, 1, 2, 3), 4),
                                          ((2, 5, 3), 1)])
def test_channel_shuffle_matches_torch(shape, groups):
    x = np.random.default_rng(18).standard_normal(shape)
    compare(lambda t: F.channel_shuffle(t, groups), lambda t: TF.channel_shuffle(t, groups), [x])
    compare(lambda t: nn.ChannelShuffle(groups)(t),
            lambda t: torch.nn.ChannelShuffle(groups)(t), [x])


def test_unfold_and_fold_layers_match_torch():
    x = np.random.default_rng(19).standard_normal((2, 3, 6, 5))
    args = dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1))
    cols = compare(lambda t: nn.Unfold(**args)(t), lambda t: torch.nn.Unfold(**args)(t), [x])
    compare(lambda t: nn.Fold((6, 5), **args)(t), lambda t: torch.nn.Fold((6, 5), **args)(t),
            [cols.numpy()])


# ------------------------------------------------------------------------------ layers
def _load_theirs(ours, theirs):
    """PyTorch's parameters and buffers into ours; the same state_dict keys."""
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state)
    ours.load_state_dict({k: v.numpy().copy() for k, v in state.items()})


CONV_LAYERS = [
    (dict(), (2, 4, 9)),
    (dict(stride=2, padding=1, dilation=2, groups=2, bias=False), (2, 4, 11)),
    (dict(padding="same", dilation=2, padding_mode="reflect"), (2, 4, 9)),
    (dict(padding="same", padding_mode="circular"), (4, 9)),
    (dict(padding=2, padding_mode="replicate", stride=3), (1, 4, 10)),
    (dict(padding="valid", padding_mode="reflect"), (2, 4, 6)),
    (dict(padding=(1,), padding_mode="zeros", groups=4), (4, 8)),
]


@pytest.mark.parametrize("kwargs,shape", CONV_LAYERS)
def test_conv1d_layer_matches_torch(kwargs, shape):
    theirs = torch.nn.Conv1d(4, 8, 3, **kwargs).double()
    ours = nn.Conv1d(4, 8, 3, **kwargs).double()
    _load_theirs(ours, theirs)
    x = np.random.default_rng(20).standard_normal(shape)
    compare(ours, theirs, [x])
    for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == tname
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("output_size", [None, [12], (2, 6, 13), (6, 14)])
def test_conv_transpose1d_layer_matches_torch(output_size):
    theirs = torch.nn.ConvTranspose1d(4, 6, 3, stride=3, padding=1, groups=2, dilation=2).double()
    ours = nn.ConvTranspose1d(4, 6, 3, stride=3, padding=1, groups=2, dilation=2).double()
    _load_theirs(ours, theirs)
    x = np.random.default_rng(21).standard_normal((2, 4, 4))
    if output_size is not None and len(output_size) == 2:
        x = x[0]  # (an unbatched input takes (C, L) as the whole size)
    compare(lambda t: ours(t, output_size), lambda t: theirs(t, output_size), [x])
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="valid sizes range from 12 to 14"):
        ours(Tensor(x), [15])
    with pytest.raises(ValueError):
        theirs(torch.tensor(x), [15])


@pytest.mark.parametrize("make,fan_in", [
    (lambda m: m.Conv1d(6, 8, 5, groups=2), 3 * 5),
    (lambda m: m.Conv1d(3, 300, 2, bias=True), 6),
    (lambda m: m.ConvTranspose1d(4, 9, 3, groups=1), 9 * 3),
    (lambda m: m.ConvTranspose1d(6, 4, 7, groups=2), 2 * 7),
])
def test_default_initialisation_is_torchs(make, fan_in):
    ours, theirs = make(nn), make(torch.nn)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    bound = 1 / math.sqrt(fan_in)  # Kaiming-uniform with a = sqrt(5); the bias in the same range
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        assert p.dtype == np.float32
        values = p.numpy()
        assert np.abs(values).max() <= bound
        assert np.abs(tp.detach().numpy()).max() <= bound
        if values.size >= 100:  # uniform over the whole range, not a narrower one
            assert np.abs(values).max() > 0.9 * bound
            assert abs(values.std() - bound / math.sqrt(3)) < 0.2 * bound
    ours.reset_parameters()
    assert np.abs(ours.weight.numpy()).max() <= bound


NORMS = [
    (lambda m: m.InstanceNorm1d(3), (2, 3, 5)),
    (lambda m: m.InstanceNorm1d(3, affine=True, track_running_stats=True), (2, 3, 6)),
    (lambda m: m.InstanceNorm1d(3, affine=True), (3, 4)),
    (lambda m: m.InstanceNorm1d(3, affine=True, bias=False), (2, 3, 4)),
    (lambda m: m.InstanceNorm3d(2, affine=True, track_running_stats=True), (2, 2, 3, 2, 3)),
    (lambda m: m.InstanceNorm3d(2), (2, 3, 2, 2)),
    (lambda m: m.InstanceNorm2d(2, track_running_stats=True), (2, 2, 3, 3)),
    (lambda m: m.BatchNorm3d(3), (2, 3, 2, 3, 2)),
    (lambda m: m.BatchNorm3d(3, momentum=None, affine=False), (3, 3, 2, 1, 2)),
]


@pytest.mark.parametrize("make,shape", NORMS)
def test_norm_layers_match_torch(make, shape):
    ours, theirs = make(nn).double(), make(torch.nn).double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.uniform_(0.5, 1.5)
    _load_theirs(ours, theirs)
    for step, training in enumerate([True, True, False]):
        ours.train(training)
        theirs.train(training)
        x = np.random.default_rng(22 + step).standard_normal(shape) * 2 + 0.5
        ours.zero_grad()
        theirs.zero_grad()
        compare(ours, theirs, [x], seed=step)
        for p, tp in zip(ours.parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-12)
        state = theirs.state_dict()
        for name, b in ours.named_buffers():
            np.testing.assert_allclose(b.numpy(), state[name].numpy(), rtol=1e-10, atol=1e-12)


def test_instance_norm_without_affine_warns_on_a_channel_mismatch_as_torch():
    x = np.random.default_rng(23).standard_normal((1, 4, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        out = nn.InstanceNorm1d(3)(Tensor(x))
    with pytest.warns(UserWarning, match="does not match num_features"):
        ref = torch.nn.InstanceNorm1d(3)(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)


REPRS = [
    lambda m: m.Conv1d(4, 6, 3),
    lambda m: m.Conv1d(4, 6, 3, 2, 1, 2, 2, False, "reflect"),
    lambda m: m.Conv1d(4, 6, (3,), padding="same"),
    lambda m: m.Conv1d(4, 6, 3, padding="valid"),
    lambda m: m.ConvTranspose1d(4, 6, 3),
    lambda m: m.ConvTranspose1d(4, 6, 3, 2, 1, 1, 2, False, 2),
    lambda m: m.MaxPool1d(3),
    lambda m: m.MaxPool1d(3, 2, 1, 2, True, True),
    lambda m: m.MaxPool2d(3, return_indices=True),
    lambda m: m.AvgPool1d(3),
    lambda m: m.AvgPool1d((3,), 2, 1, True, False),
    lambda m: m.AdaptiveAvgPool1d(3),
    lambda m: m.AdaptiveMaxPool1d(3, True),
    lambda m: m.MaxUnpool1d(2),
    lambda m: m.MaxUnpool1d(3, 2, 1),
    lambda m: m.MaxUnpool2d(2),
    lambda m: m.MaxUnpool2d((2, 3), 1, (0, 1)),
    lambda m: m.LPPool1d(2, 3),
    lambda m: m.LPPool2d(1.5, (2, 3), 2, True),
    lambda m: m.LocalResponseNorm(2),
    lambda m: m.LocalResponseNorm(5, 1e-3, 0.5, 2.0),
    lambda m: m.ChannelShuffle(2),
    lambda m: m.Unfold(2),
    lambda m: m.Unfold((2, 3), 2, 1, (1, 2)),
    lambda m: m.Fold(4, 2),
    lambda m: m.InstanceNorm1d(3),
    lambda m: m.InstanceNorm3d(3, affine=True, track_running_stats=True),
    lambda m: m.BatchNorm3d(3),
    lambda m: m.BatchNorm3d(3, 1e-3, None, False, False, bias=False),
]


@pytest.mark.parametrize("make", REPRS)
def test_repr_is_torchs(make):
    assert repr(make(nn)) == repr(make(torch.nn))


@pytest.mark.parametrize("make", [
    lambda m: m.Conv1d(4, 6, 3), lambda m: m.Conv1d(4, 6, 3, bias=False),
    lambda m: m.ConvTranspose1d(4, 6, 3, groups=2), lambda m: m.InstanceNorm1d(3),
    lambda m: m.InstanceNorm1d(3, affine=True, track_running_stats=True),
    lambda m: m.BatchNorm3d(3), lambda m: m.InstanceNorm3d(2, affine=True),
    lambda m: m.LocalResponseNorm(3), lambda m: m.MaxUnpool1d(2), lambda m: m.LPPool2d(2, 2)])
def test_state_dict_keys_are_torchs(make):
    ours, theirs = make(nn), make(torch.nn)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    fresh = make(torch.nn)  # and ours loads into PyTorch's
    fresh.load_state_dict({k: torch.from_numpy(np.array(v.numpy()))
                           for k, v in ours.state_dict().items()})


# ------------------------------------------------------------------------------ errors
X1 = np.ones((2, 4, 10))
W1 = np.ones((6, 4, 3))
I2 = np.array([[[[0, 1], [2, 3]]]])

# (what is called, as m.<function>(lib, ...)), the exception type both raise, our message)
ERRORS = [
    (lambda m, t: m.conv1d(t(np.ones((2, 4, 10, 3))), t(W1)), RuntimeError, "3-D input"),
    (lambda m, t: m.conv1d(t(np.ones(10)), t(W1)), RuntimeError, "3-D input"),
    (lambda m, t: m.conv1d(t(X1), t(np.ones((6, 3, 3)))), RuntimeError, "expects 3 input"),
    (lambda m, t: m.conv1d(t(X1), t(W1), groups=3), RuntimeError, "expects 12 input"),
    (lambda m, t: m.conv1d(t(X1), t(np.ones((5, 2, 3))), groups=2), RuntimeError,
     "must divide the 5 output"),
    (lambda m, t: m.conv1d(t(X1), t(np.ones((6, 4, 3, 3)))), RuntimeError, "3-D tensor"),
    (lambda m, t: m.conv1d(t(X1), t(np.ones((6, 4, 11)))), RuntimeError, "larger than"),
    (lambda m, t: m.conv1d(t(X1), t(W1), stride=0), RuntimeError, "stride must be positive"),
    (lambda m, t: m.conv1d(t(X1), t(W1), padding=-1), RuntimeError, "non-negative"),
    (lambda m, t: m.conv1d(t(X1), t(W1), dilation=0), RuntimeError, "dilation must be"),
    (lambda m, t: m.conv1d(t(X1), t(W1), groups=0), RuntimeError, "groups must be positive"),
    (lambda m, t: m.conv1d(t(X1), t(W1), stride=2, padding="same"), RuntimeError,
     "not supported for strided"),
    (lambda m, t: m.conv1d(t(X1), t(W1), padding="full"), RuntimeError, "invalid padding"),
    (lambda m, t: m.conv1d(t(X1), t(W1), t(np.ones(4))), RuntimeError, r"shape \(6,\)"),
    (lambda m, t: m.conv1d(t(X1), t(W1), stride=(1, 2)), RuntimeError, "single integer"),
    (lambda m, t: m.conv1d(t(X1), t(W1.astype(np.float32))), RuntimeError, "one dtype"),
    (lambda m, t: m.conv_transpose1d(t(X1), t(np.ones((3, 2, 3)))), RuntimeError,
     "expects 3 input"),
    (lambda m, t: m.conv_transpose1d(t(X1), t(np.ones((4, 2, 3))), stride=2, output_padding=2),
     RuntimeError, "output_padding"),
    (lambda m, t: m.conv_transpose1d(t(np.ones((1, 4, 1))), t(np.ones((4, 2, 1))), padding=3),
     RuntimeError, "reduce the padding"),
    (lambda m, t: m.conv_transpose1d(t(X1), t(np.ones((4, 2, 3))), padding="same"), TypeError,
     "no 'same'"),
    (lambda m, t: m.max_pool1d(t(np.ones((1, 2, 3, 4))), 2), RuntimeError, "3-D input"),
    (lambda m, t: m.max_pool1d(t(X1), 2, padding=2), RuntimeError, "at most half"),
    (lambda m, t: m.max_pool1d(t(X1), 11), RuntimeError, "output would be empty"),
    (lambda m, t: m.max_pool1d(t(X1), 0), RuntimeError, "kernel_size must be positive"),
    (lambda m, t: m.max_pool1d(t(X1), 2, stride=0), RuntimeError, "stride must be positive"),
    (lambda m, t: m.max_pool1d(t(X1), 2, dilation=0), RuntimeError, "dilation must be"),
    (lambda m, t: m.max_pool1d(t(X1), (2, 2)), RuntimeError, "single integer"),
    (lambda m, t: m.avg_pool1d(t(np.ones((1, 2, 3, 4))), 2), RuntimeError, "3-D input"),
    (lambda m, t: m.avg_pool1d(t(X1), 2, padding=2), RuntimeError, "at most half"),
    (lambda m, t: m.avg_pool1d(t(X1), 11), RuntimeError, "output would be empty"),
    (lambda m, t: m.avg_pool1d(t(X1), (2, 2)), RuntimeError, "single integer"),
    (lambda m, t: m.adaptive_avg_pool1d(t(np.ones((1, 2, 3, 4))), 2), RuntimeError, "3-D input"),
    (lambda m, t: m.adaptive_avg_pool1d(t(X1), (2, 2)), RuntimeError, "one int"),
    (lambda m, t: m.adaptive_avg_pool1d(t(X1), None), TypeError, "output_size"),
    (lambda m, t: m.adaptive_max_pool1d(t(X1), (2, 2)), RuntimeError, "one int"),
    (lambda m, t: m.max_unpool2d(t(np.ones((1, 1, 2, 2))), t(I2 * 33), 2), RuntimeError,
     "invalid max index: 99"),
    (lambda m, t: m.max_unpool2d(t(np.ones((1, 1, 2, 2))), t(I2 - 1), 2), RuntimeError,
     "invalid max index: -1"),
    (lambda m, t: m.max_unpool2d(t(np.ones((1, 1, 2, 2))), t(I2.reshape(1, 1, 1, 4)), 2),
     RuntimeError, "indices of shape"),
    (lambda m, t: m.max_unpool2d(t(np.ones((1, 1, 2, 2))), t(I2.astype(np.int32)), 2),
     RuntimeError, "int64"),
    (lambda m, t: m.max_unpool2d(t(np.ones((1, 1, 2, 2))), t(I2), 2, output_size=(7, 7)),
     ValueError, "between 2 and 6"),
    (lambda m, t: m.max_unpool2d(t(np.ones((1, 1, 2, 2))), t(I2), 2, output_size=(4, 4, 4)),
     ValueError, "2 or 4 elements"),
    (lambda m, t: m.max_unpool2d(t(np.ones((2, 2))), t(I2[0, 0]), 2), RuntimeError, "4-D input"),
    (lambda m, t: m.max_unpool1d(t(np.ones((1, 1, 2))), t(np.array([[[0, 9]]])), 2),
     RuntimeError, "invalid max index: 9"),
    (lambda m, t: m.max_unpool1d(t(np.ones((1, 1, 1, 2))), t(np.array([[[[0, 1]]]])), 2),
     RuntimeError, "3-D input"),
    (lambda m, t: m.local_response_norm(t(np.ones((2, 3))), 2), ValueError, "3 or more dims"),
    (lambda m, t: m.local_response_norm(t(X1), 0), RuntimeError, "size"),
    (lambda m, t: m.channel_shuffle(t(np.ones((1, 6, 2, 2))), 4), RuntimeError, "divisible"),
    (lambda m, t: m.channel_shuffle(t(np.ones((2, 6))), 2), RuntimeError, "more than 2 dims"),
    (lambda m, t: m.channel_shuffle(t(np.ones((1, 6, 2))), 0), RuntimeError, "positive"),
]


@pytest.mark.parametrize("call,exc,match", ERRORS, ids=[m for _, _, m in ERRORS])
def test_errors_have_torchs_types(call, exc, match):
    with pytest.raises(exc, match=match):
        call(F, Tensor)
    with pytest.raises(exc):
        call(TF, torch.tensor)


LAYER_ERRORS = [
    (lambda m: m.Conv1d(4, 6, 3, groups=4), ValueError, "out_channels must be divisible"),
    (lambda m: m.Conv1d(4, 6, 3, groups=0), ValueError, "groups must be a positive"),
    (lambda m: m.Conv1d(3, 6, 3, groups=2), ValueError, "in_channels must be divisible"),
    (lambda m: m.Conv1d(4, 6, 3, padding_mode="foo"), ValueError, "padding_mode must be"),
    (lambda m: m.Conv1d(4, 6, 3, padding="same", stride=2), ValueError, "strided"),
    (lambda m: m.Conv1d(4, 6, 3, padding="full"), ValueError, "invalid padding string"),
    (lambda m: m.ConvTranspose1d(4, 6, 3, padding_mode="reflect"), ValueError, '"zeros"'),
    (lambda m: m.ConvTranspose1d(4, 6, 3, groups=4), ValueError, "out_channels must be"),
    (lambda m: m.InstanceNorm1d(3)(m_tensor(m, (1, 3, 4, 4))), ValueError, "3-D input"),
    (lambda m: m.InstanceNorm1d(3)(m_tensor(m, (3,))), ValueError, "3-D input"),
    (lambda m: m.InstanceNorm1d(3, affine=True)(m_tensor(m, (1, 4, 4))), ValueError, "channels"),
    (lambda m: m.InstanceNorm1d(3)(m_tensor(m, (1, 3, 1))), ValueError, "more than 1 spatial"),
    (lambda m: m.BatchNorm3d(3)(m_tensor(m, (1, 3, 4, 4))), ValueError, "5-D input"),
    (lambda m: m.InstanceNorm3d(3)(m_tensor(m, (3, 4, 4))), ValueError, "5-D input"),
]


def m_tensor(m, shape):
    return (Tensor if m is nn else torch.tensor)(np.ones(shape))


@pytest.mark.parametrize("call,exc,match", LAYER_ERRORS, ids=[m for _, _, m in LAYER_ERRORS])
def test_layer_errors_have_torchs_types(call, exc, match):
    with pytest.raises(exc, match=match):
        call(nn)
    with pytest.raises(exc):
        call(torch.nn)


# ------------------------------------------------------------------------------ gradcheck
GRADCHECKS = [
    ("conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2), [(2, 3, 8),
                                                                                  (4, 3, 3), (4,)]),
    ("conv1d same reflect", lambda x, w: nn.functional.conv1d(
        F.pad(x, (1, 2), mode="reflect"), w, groups=3), [(1, 3, 6), (3, 1, 4)]),
    ("conv_transpose1d", lambda x, w, b: F.conv_transpose1d(x, w, b, 2, 1, 1, 1, 2),
     [(2, 2, 4), (2, 3, 3), (3,)]),
    ("max_pool1d", lambda x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True), [(2, 2, 9)]),
    ("avg_pool1d", lambda x: F.avg_pool1d(x, 3, 2, 1, True, False), [(2, 2, 8)]),
    ("adaptive_max_pool1d", lambda x: F.adaptive_max_pool1d(x, 3), [(2, 2, 7)]),
    ("lp_pool2d", lambda x: F.lp_pool2d(x, 3, 2, ceil_mode=True), [(1, 2, 5, 4)]),
    ("local_response_norm", lambda x: F.local_response_norm(x, 3, 0.1, 0.75, 1.0),
     [(2, 4, 3, 2)]),
    ("max_unpool2d", lambda x: F.max_unpool2d(x, Tensor(np.array([[[[0, 3], [9, 14]]]])), 2,
                                              output_size=(4, 4)), [(1, 1, 2, 2)]),
]


@pytest.mark.parametrize("name,fn,shapes", GRADCHECKS, ids=[g[0] for g in GRADCHECKS])
def test_gradcheck_float64(name, fn, shapes):
    rng = np.random.default_rng(24)
    inputs = [Tensor(rng.uniform(0.5, 1.5, s) * rng.choice([-1, 1], s) if name != "lp_pool2d"
                     else rng.uniform(0.5, 1.5, s), requires_grad=True) for s in shapes]
    assert gradcheck(fn, inputs, avoid_kinks=True)


@pytest.mark.parametrize("name", ["conv_transpose1d", "local_response_norm", "lp_pool2d"])
def test_gradgradcheck_float64(name):
    # second derivatives: the 2-D ops' VJPs are Tensor ops, and so are the compositions here
    _, fn, shapes = next(g for g in GRADCHECKS if g[0] == name)
    rng = np.random.default_rng(25)
    inputs = [Tensor(rng.uniform(0.5, 1.5, s), requires_grad=True) for s in shapes]
    assert gradgradcheck(fn, inputs)


# ------------------------------------------------------------------------------ signatures
def _signature(fn):
    import inspect
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


# (PyTorch's conv1d, avg_pool1d, ... are builtins without a signature to read, and max_pool1d
# dispatches on return_indices through *args; these are the ones written in Python)
@pytest.mark.parametrize("name", ["max_pool1d_with_indices", "max_pool2d_with_indices",
                                  "adaptive_max_pool1d_with_indices",
                                  "adaptive_max_pool2d_with_indices", "max_unpool1d",
                                  "max_unpool2d", "lp_pool1d", "lp_pool2d", "local_response_norm"])
def test_function_signature_is_torchs(name):
    assert _signature(getattr(F, name)) == _signature(getattr(TF, name))


@pytest.mark.parametrize("name", ["Conv1d", "ConvTranspose1d", "MaxPool1d", "AvgPool1d",
                                  "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "MaxUnpool1d",
                                  "MaxUnpool2d", "LPPool1d", "LPPool2d", "LocalResponseNorm",
                                  "ChannelShuffle", "Unfold", "Fold", "InstanceNorm1d",
                                  "InstanceNorm3d", "BatchNorm3d"])
def test_layer_signature_is_torchs(name):
    ours, theirs = getattr(nn, name), getattr(torch.nn, name)
    assert _signature(ours.__init__) == _signature(theirs.__init__)
    assert [p[0] for p in _signature(ours.forward)] == [p[0] for p in _signature(theirs.forward)]
