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
