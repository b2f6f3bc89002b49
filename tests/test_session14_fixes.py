"""What the fourteenth session's outside testers found (t37: the autograd API; t38: indexing and
the scatter family; t39: convolutions and pooling), each checked against PyTorch where it runs."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg

# --- t37: the autograd API --------------------------------------------------------------------

def test_a_tensor_cannot_be_its_own_grad():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="own grad"):
        x.grad = x
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0, 3.0])  # the parameter is untouched
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_a_grad_of_another_shape_is_a_clear_error():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * 2).sum().backward()
    x.data = tg.ones(5)
    with pytest.raises(RuntimeError, match=r"shape \(5,\).*shape \(3,\).*\.grad = None"):
        (x * 2).sum().backward()
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(5, 2.0))


def test_a_function_without_backward_says_what_to_write():
    class NoBack(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="no_back: this Function defines no backward"):
        NoBack.apply(x).sum().backward()


def test_vjp_is_an_alias_of_backward_as_in_pytorch():
    torch = pytest.importorskip("torch")

    class Cube(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def vjp(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x

    class TCube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def vjp(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x

    class Sub(Cube):
        pass

    v = np.array([1.0, -2.0, 0.5])
    t = torch.tensor(v, requires_grad=True)
    TCube.apply(t).sum().backward()
    for cls in (Cube, Sub):
        x = tg.tensor(v, requires_grad=True)
        cls.apply(x).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())


def test_the_legacy_call_form_is_refused_with_the_way_out():
    class Two(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with pytest.raises(RuntimeError, match=r"Two\.apply"):
        Two()(tg.ones(2))


# --- t39: convolutions and pooling -----------------------------------------------------------

F = tg.nn.functional


@pytest.mark.parametrize("call", [
    lambda: F.conv1d(tg.ones(1, 4, 5), tg.ones(2, 4, 3), groups=3),
    lambda: F.conv1d(tg.ones(1, 4, 5), tg.ones(2, 4, 3), stride=0),
    lambda: F.conv_transpose1d(tg.ones(1, 4, 5), tg.ones(4, 2, 3), output_padding=1),
    lambda: F.max_pool1d(tg.ones(1, 4, 5), 2, padding=2),
    lambda: F.avg_pool1d(tg.ones(1, 4, 5), 7),
    lambda: F.adaptive_avg_pool1d(tg.ones(1, 4, 5), -1),
    lambda: F.lp_pool1d(tg.ones(1, 4, 5), 2, 7),
])
def test_1d_value_errors_are_value_errors_and_pytorchs_runtime_errors(call):
    # the README's rule (a wrong value is a ValueError) as the 2-D functions follow it, and PyTorch's
    # class, so code ported from it still catches them
    with pytest.raises(ValueError) as info:
        call()
    assert isinstance(info.value, RuntimeError)


def test_1d_dtype_mismatch_is_a_type_error():
    with pytest.raises(TypeError, match="one dtype") as info:
        F.conv1d(tg.ones(1, 4, 5).double(), tg.ones(2, 4, 3))
    assert isinstance(info.value, RuntimeError)


@pytest.mark.parametrize("pool", ["lp_pool1d", "lp_pool2d"])
def test_lp_pool_checks_its_own_arguments(pool):
    x = tg.ones(1, 2, 5) if pool == "lp_pool1d" else tg.ones(1, 2, 5, 2)
    fn = getattr(F, pool)
    with pytest.raises(ValueError, match=f"{pool}: norm_type must be a non-zero number"):
        fn(x, 0, 2)
    with pytest.raises(TypeError, match=f"{pool}: norm_type must be a number"):
        fn(x, "2", 2)
    for p in (2, float("inf")):  # kernel errors name lp_pool, not avg_pool/max_pool
        with pytest.raises(ValueError, match=f"^{pool}: "):
            fn(x, p, 7 if pool == "lp_pool1d" else (1, 3))


def test_a_foreign_tensor_is_named_with_its_library():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="got torch.Tensor"):
        F.fold(torch.zeros(1, 8, 9), (5, 5), 2)
    with pytest.raises(TypeError, match="got numpy.ndarray"):
        F.conv2d(tg.ones(1, 1, 3, 3), np.ones((1, 1, 2, 2)))


def test_conv_transpose2d_output_size_has_pytorchs_lengths():
    torch = pytest.importorskip("torch")
    m = tg.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    tm = torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    for size in [(10, 9), (1, 2, 10, 9)]:
        assert m(tg.zeros(1, 4, 5, 5), output_size=size).shape == \
            tuple(tm(torch.zeros(1, 4, 5, 5), output_size=size).shape)
    assert m(tg.zeros(4, 5, 5), output_size=(2, 10, 9)).shape == (2, 10, 9)
    with pytest.raises(ValueError, match="must have 2 or 4 elements"):
        m(tg.zeros(1, 4, 5, 5), output_size=(7, 10, 9))
    with pytest.raises(ValueError, match="must have 2 or 4 elements"):
        tm(torch.zeros(1, 4, 5, 5), output_size=(7, 10, 9))


def test_conv_layers_have_pytorchs_convnd_attributes():
    torch = pytest.importorskip("torch")
    cases = [(tg.nn.Conv2d, torch.nn.Conv2d, (2, 3, (3, 4)), dict(padding=(1, 2))),
             (tg.nn.Conv2d, torch.nn.Conv2d, (2, 3, (3, 4)), dict(padding="same", dilation=2)),
             (tg.nn.Conv2d, torch.nn.Conv2d, (2, 3, 3), dict(padding="valid")),
             (tg.nn.Conv1d, torch.nn.Conv1d, (2, 3, 4), dict(padding="same")),
             (tg.nn.Conv1d, torch.nn.Conv1d, (2, 3, 4), dict(padding=2)),
             (tg.nn.ConvTranspose2d, torch.nn.ConvTranspose2d, (2, 3, 3), dict(padding=(1, 0))),
             (tg.nn.ConvTranspose1d, torch.nn.ConvTranspose1d, (2, 3, 3), dict(padding=1))]
    for ours, theirs, args, kw in cases:
        a, b = ours(*args, **kw), theirs(*args, **kw)
        for name in ("transposed", "output_padding", "padding_mode", "_reversed_padding_repeated_twice"):
            assert getattr(a, name) == getattr(b, name), (ours.__name__, kw, name)


# --- t38: indexing and the scatter family -----------------------------------------------------

def test_searchsorted_with_an_empty_last_dim_as_pytorch():
    torch = pytest.importorskip("torch")
    for seq, vals in [((2, 0), [[1.0], [2.0]]), ((3, 4), np.zeros((3, 0))), ((0, 4), np.zeros((0, 2)))]:
        ours = tg.searchsorted(tg.zeros(*seq), tg.tensor(vals))
        theirs = torch.searchsorted(torch.zeros(*seq), torch.tensor(vals, dtype=torch.float32))
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_searchsorted_sorter_out_of_range_names_the_op():
    with pytest.raises(RuntimeError, match=r"searchsorted\(\): sorter index out of range"):
        tg.searchsorted(tg.tensor([1.0, 2.0, 3.0]), tg.tensor([1.5]), sorter=tg.tensor([0, 1, 9]))


def test_gather_of_a_0d_input_with_a_1d_index():
    torch = pytest.importorskip("torch")
    x, tx = tg.tensor(3.0, requires_grad=True), torch.tensor(3.0, requires_grad=True)
    for idx in ([0, 0], [], 0):
        y = x.gather(0, tg.tensor(idx, dtype=tg.int64))
        ty = tx.gather(0, torch.tensor(idx, dtype=torch.int64))
        assert y.shape == tuple(ty.shape)
        np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    x.gather(0, tg.tensor([0, 0])).sum().backward()
    assert x.grad.item() == 2.0
    with pytest.raises(ValueError, match="0-d input takes a 0-d or 1-d index"):
        x.gather(0, tg.tensor([[0], [0]]))


def test_scatter_with_reduce_runs_forward_and_refuses_at_backward_as_pytorch():
    x = tg.zeros(2, 3, requires_grad=True)
    y = (x * 1).scatter(1, tg.tensor([[0]]), 2.0, reduce="add")
    np.testing.assert_array_equal(y.detach().numpy(), [[2, 0, 0], [0, 0, 0]])
    with pytest.raises(RuntimeError, match="scatter: reduce='add' has no gradient"):
        y.sum().backward()


def test_scatter_reduce_takes_max_and_min_as_aliases():
    torch = pytest.importorskip("torch")
    for reduce in ("max", "min"):
        ours = tg.zeros(2, 3).scatter_reduce(1, tg.tensor([[0, 0]]), tg.tensor([[1.0, 5.0]]), reduce)
        theirs = torch.zeros(2, 3).scatter_reduce(1, torch.tensor([[0, 0]]),
                                                  torch.tensor([[1.0, 5.0]]), reduce)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_scatter_reduce_prod_gradient_with_zeros_as_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    for _ in range(60):
        x = rng.choice([0.0, 1.5, -2.0, 0.5, 3.0], size=(3, 4))
        s = rng.choice([0.0, 1.5, -2.0, 0.5, -1.0], size=(3, 4))
        index = rng.integers(0, 4, size=(3, 4))
        include_self = bool(rng.random() < 0.5)
        w = rng.standard_normal((3, 4))
        res = []
        for L in (tg, torch):
            a, b = L.tensor(x, requires_grad=True), L.tensor(s, requires_grad=True)
            out = a.scatter_reduce(1, L.tensor(index), b, "prod", include_self=include_self)
            (out * L.tensor(w)).sum().backward()
            res.append([out.detach().numpy(), a.grad.numpy(), b.grad.numpy()])
        for o, t in zip(*res):
            np.testing.assert_allclose(o, t, rtol=1e-12, atol=1e-12)
    a = tg.tensor(rng.random((3, 4)) + 0.5, requires_grad=True)
    b = tg.tensor(rng.random((2, 3)) + 0.5, requires_grad=True)
    f = lambda a, b: a.scatter_reduce(1, tg.tensor([[0, 0, 2], [1, 3, 3]]), b, "prod")  # noqa: E731
    assert tg.gradcheck(f, (a, b)) and tg.gradgradcheck(f, (a, b))


@pytest.mark.parametrize("op", ["index_add", "index_copy", "scatter", "scatter_add", "scatter_reduce"])
def test_an_empty_index_gives_the_source_a_zero_gradient_of_its_shape(op):
    torch = pytest.importorskip("torch")
    grads = []
    for L in (tg, torch):
        x = L.ones(2, 3, requires_grad=True)
        s = L.ones(2, 0, requires_grad=True)
        empty, index = L.tensor([], dtype=L.int64), L.zeros(2, 0, dtype=L.int64)
        y = {"index_add": lambda: x.index_add(1, empty, s),
             "index_copy": lambda: x.index_copy(1, empty, s),
             "scatter": lambda: x.scatter(1, index, s),
             "scatter_add": lambda: x.scatter_add(1, index, s),
             "scatter_reduce": lambda: x.scatter_reduce(1, index, s, "sum")}[op]()
        y.sum().backward()
        grads.append((tuple(s.grad.shape), x.grad.numpy().tolist()))
    assert grads[0] == grads[1]


def test_masked_fill_names_itself_when_the_mask_does_not_broadcast():
    with pytest.raises(ValueError, match=r"masked_fill: the mask of shape \(3,\)"):
        tg.zeros(3, 4).masked_fill(tg.zeros(3, dtype=tg.bool), 1.0)
