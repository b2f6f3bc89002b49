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
