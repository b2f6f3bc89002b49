"""The custom-Function API as PyTorch has it: several outputs (backward gets one gradient per
output, zeros or None where none came), mark_non_differentiable, set_materialize_grads,
once_differentiable, mark_dirty for in-place Functions, and detach_. Each against PyTorch's
torch.autograd.Function doing the same, where PyTorch is installed."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Function, Tensor, gradcheck, gradgradcheck, once_differentiable


class SplitHalf(Function):
    """(2x over the first half, x² over the second): two outputs."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        n = x.shape[0] // 2
        return x[:n] * 2, x[n:] ** 2

    @staticmethod
    def backward(ctx, g1, g2):
        (x,) = ctx.saved_tensors
        n = x.shape[0] // 2
        return tg.cat([g1 * 2, g2 * 2 * x[n:]])


def x4():
    return Tensor(np.array([1.0, 2.0, 3.0, 4.0]), requires_grad=True)


def test_two_outputs_each_with_its_gradient():
    x = x4()
    a, b = SplitHalf.apply(x)
    (a.sum() + (b * b).sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 4 * 27, 4 * 64])


def test_an_unused_output_gets_zeros():
    x = x4()
    a, _ = SplitHalf.apply(x)
    a.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 0, 0])


def test_two_outputs_gradcheck_and_gradgradcheck():
    x = x4()
    assert gradcheck(SplitHalf.apply, x)
    assert gradgradcheck(SplitHalf.apply, x)


def test_saved_outputs_of_a_multi_output_op_stay_differentiable():
    class ExpBoth(Function):
        @staticmethod
        def forward(ctx, x):
            e = np.exp(x)
            ctx.save_for_backward(e)
            return e, e * 2

        @staticmethod
        def backward(ctx, g1, g2):
            (e,) = ctx.saved_tensors
            return (g1 + 2 * g2) * e

    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    assert gradcheck(ExpBoth.apply, x) and gradgradcheck(ExpBoth.apply, x)


def test_materialize_grads_false_passes_none():
    seen = []

    class Spy(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 1

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1 is None, g2 is None))
            return g1 if g1 is not None else g2

    x = x4()
    Spy.apply(x)[1].sum().backward()
    assert seen == [(True, False)]
    np.testing.assert_array_equal(x.grad.numpy(), [1, 1, 1, 1])


def test_mark_non_differentiable():
    class MaxWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            i = x.argmax(axis=0)
            ctx.mark_non_differentiable(i)
            ctx.i, ctx.n = i, x.shape[0]
            return x.max(axis=0), i

        @staticmethod
        def backward(ctx, g, gi):
            assert not gi._data.any()  # zeros for the indices
            onehot = np.zeros((ctx.n,) + ctx.i.shape)
            np.put_along_axis(onehot, ctx.i[None], 1.0, axis=0)
            return g.unsqueeze(0) * Tensor(onehot)

    x = Tensor(np.array([[1.0, 5.0], [3.0, 2.0]]), requires_grad=True)
    values, idx = MaxWithIndex.apply(x)
    assert values.requires_grad and not idx.requires_grad and idx.dtype == np.int64
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1], [1, 0]])


def test_mark_dirty_in_place_function():
    class MulTwoInPlace(Function):
        @staticmethod
        def forward(ctx, x):
            x *= 2
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = x4()
    h = x * 1
    out = MulTwoInPlace.apply(h)
    assert out is h and h._version == 2  # (the write in forward, then mark_dirty: PyTorch's 2)
    np.testing.assert_array_equal(h.numpy(), [2, 4, 6, 8])
    (h * h).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * 2 * np.array([2, 4, 6, 8]))
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        MulTwoInPlace.apply(x4())


def test_mark_dirty_bumps_the_version_seen_by_saved_tensors():
    class AddOneInPlace(Function):
        @staticmethod
        def forward(ctx, x):
            x += 1
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    x = x4()
    h = x.exp()  # saves its output
    AddOneInPlace.apply(h)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        h.sum().backward()


def test_once_differentiable():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return Tensor(3 * x._data**2 * g._data)  # on arrays: not differentiable again

    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    assert gradcheck(Cube.apply, x)
    v = Tensor(np.array([1.0, 1.0]), requires_grad=True)  # a gradient that is itself recorded
    (gx,) = tg.grad(Cube.apply(x), x, v, create_graph=True)
    np.testing.assert_array_equal(gx.numpy(), [3, 12])
    with pytest.raises(RuntimeError, match="differentiate twice.*once_differentiable"):
        gx.sum().backward()


def test_detach_in_place():
    x = x4()
    y = x * 2
    y.detach_()
    assert y.grad_fn is None and not y.requires_grad
    v = (x * 1)[1:]
    with pytest.raises(RuntimeError, match="detach_"):
        v.detach_()


def test_multi_output_against_torch():
    torch = pytest.importorskip("torch")

    class TorchSplit(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            n = x.shape[0] // 2
            return x[:n] * 2, x[n:] ** 2

        @staticmethod
        def backward(ctx, g1, g2):
            (x,) = ctx.saved_tensors
            n = x.shape[0] // 2
            return torch.cat([g1 * 2, g2 * 2 * x[n:]])

    xs = np.array([1.0, -2.0, 3.0, 0.5])
    x, xt = Tensor(xs, requires_grad=True), torch.tensor(xs, requires_grad=True)
    a, b = SplitHalf.apply(x)
    at, bt = TorchSplit.apply(xt)
    ((a * b).sum() + b.sum()).backward()
    ((at * bt).sum() + bt.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())


def test_one_tuple_output_against_torch():
    """A forward that returns a 1-tuple: backward receives one gradient (not a list), and a saved
    output comes back with the output's own grad_fn, so a second derivative through it works."""
    torch = pytest.importorskip("torch")

    def make(lib):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x * x * x
                ctx.save_for_backward(x, y)
                return (y,)

            @staticmethod
            def backward(ctx, g):
                x, y = ctx.saved_tensors
                return g * 3 * y / x  # 3 x^2, through the saved output

        return Cube

    xs = np.array([1.0, -2.0, 0.5])
    results = []
    for lib, t in ((tg, Tensor(xs, requires_grad=True)), (torch, torch.tensor(xs, requires_grad=True))):
        out = make(lib).apply(t)
        assert isinstance(out, tuple) and len(out) == 1
        (g,) = lib.autograd.grad(out[0].sum(), t, create_graph=True)
        g.sum().backward()
        results.append((g.detach().numpy().copy(), t.grad.numpy().copy()))
    np.testing.assert_allclose(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1])


# ------------------------------------------------------------------------------ PyTorch's call form
def _scaled_linear(lib):
    class ScaledLinear(lib.autograd.Function):
        """x @ w.T * scale (+ b): PyTorch's custom-Function call form, numbers and None among the
        positional arguments, backward returning None for them."""

        @staticmethod
        def forward(ctx, x, w, b, scale):
            ctx.save_for_backward(x, w)
            ctx.scale, ctx.has_b = scale, b is not None
            ctx.flags = tuple(ctx.needs_input_grad)
            out = x @ w.T * scale
            return out + b if b is not None else out

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            gx = g @ w * ctx.scale if ctx.needs_input_grad[0] else None
            gw = (g.T @ x) * ctx.scale if ctx.needs_input_grad[1] else None
            gb = g.sum(0) if ctx.has_b and ctx.needs_input_grad[2] else None
            return gx, gw, gb, None

    return ScaledLinear


def test_non_tensor_positional_arguments_as_in_pytorch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tg, torch):
        fn = _scaled_linear(lib)
        x = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        w = lib.tensor(np.ones((4, 3)), requires_grad=True)
        b = lib.tensor(np.ones(4), requires_grad=True)
        y = fn.apply(x, w, b, 2.0) + fn.apply(x, w, None, 3.0)
        y.sum().backward()
        results.append([y.tolist(), x.grad.tolist(), w.grad.tolist(), b.grad.tolist()])
        if lib is tg:
            ours = y
    assert results[0] == results[1]
    assert ours.grad_fn.next[0].flags == (True, True, True, False)  # one per argument, as PyTorch
    from tinygrad_cnn import viz

    assert "scaled_linear(leaf0, leaf1, leaf2, arg3=2)" in viz.text(ours)
    fn = _scaled_linear(tg)
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    w = Tensor(np.random.default_rng(1).standard_normal((4, 3)), requires_grad=True)
    assert tg.gradcheck(lambda x, w: fn.apply(x, w, None, 0.5), (x, w))


def test_a_gradient_for_a_non_tensor_argument_is_refused():
    class Times(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

    class Bad(Times):
        @staticmethod
        def backward(ctx, g):
            return g, g

    class Short(Times):
        @staticmethod
        def backward(ctx, g):
            return g

    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="input 1, which is not a tensor"):
        Bad.apply(x, 2.0).sum().backward()
    with pytest.raises(RuntimeError, match="returned 1 gradients for 2 inputs"):
        Short.apply(x, 2.0).sum().backward()
    with pytest.raises(TypeError, match="inputs must be Tensors"):  # the library's ops: keywords
        from tinygrad_cnn.ops.elementwise import Mul
        Mul.apply(x, 2.0)


def test_a_forward_that_returns_its_input_or_a_view_shares_the_version_counter():
    """A user's forward returning its input (or a numpy view of it) shares that input's memory:
    an in-place change through the result must reach the input's version counter, so a VJP that
    saved the input refuses to run (it gave a silently wrong gradient of 0)."""

    class Same(Function):
        @staticmethod
        def forward(ctx, a):
            return a

        @staticmethod
        def backward(ctx, g):
            return g

    class Head(Function):
        @staticmethod
        def forward(ctx, a):
            return a[:1]

        @staticmethod
        def backward(ctx, g):
            return tg.cat([g, g * 0])

    for fn in (Same, Head):
        x = tg.tensor([1.0, 2.0], requires_grad=True)
        h = x.exp()  # exp saves its output
        with pytest.raises(RuntimeError, match="returned an input"):  # PyTorch's error
            fn.apply(h).mul_(0)
        out = fn.apply(h)
        with tg.no_grad():
            out.mul_(0)
        assert h._version == 1 and h.tolist()[0] == 0
        with pytest.raises(RuntimeError, match="modified by an in-place operation"):
            h.sum().backward()
        with tg.no_grad():  # and outside recording the memory is shared, as in PyTorch
            y = tg.tensor([1.0, 2.0])
            fn.apply(y).add_(1)
        assert y.tolist()[0] == 2.0 and y._version == 1
    class Twice(Function):  # a fresh result keeps its own counter
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    Twice.apply(h).mul_(0)
    h.sum().backward()
    assert h._version == 0 and np.allclose(x.grad.numpy(), np.exp([1.0, 2.0]))


def test_requires_grad_of_a_computed_tensor_cannot_change():
    """``h.requires_grad = False`` on a non-leaf cut it out of the graph silently (x.grad was half
    of PyTorch's); now PyTorch's error, as requires_grad_(False) already gave."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    with pytest.raises(RuntimeError, match="leaf"):
        h.requires_grad = False
    with pytest.raises(RuntimeError, match="floating-point"):
        tg.tensor([1, 2]).requires_grad = True
    (h * x).sum().backward()
    assert x.grad.tolist() == [4.0, 8.0]
    x.requires_grad = False  # a leaf may switch
    assert not (x * 2).requires_grad


def test_a_dirty_input_must_be_returned():
    class AddOne(Function):
        @staticmethod
        def forward(ctx, a):
            a += 1
            ctx.mark_dirty(a)
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g

    x = tg.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="marked dirty .* not returned"):
        AddOne.apply(x)
    assert x._version == 2  # (PyTorch's: the write in forward and mark_dirty each count)


def test_backward_with_inputs_as_pytorch():
    """``backward(inputs=...)`` fills only those tensors' .grad (leaves or not); ``inputs=[]`` and
    ``grad(y, [])`` are errors, as in PyTorch."""
    torch = pytest.importorskip("torch")
    out = []
    for lib in (tg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        unused = lib.tensor([1.0], requires_grad=True)
        h = x * w
        y = (h * h).sum()
        y.backward(inputs=[x, h], retain_graph=True)
        row = [x.grad.tolist(), w.grad, h.grad.tolist()]
        y.backward(inputs=x, retain_graph=True)
        y.backward(inputs=[unused], retain_graph=True)
        lib.autograd.backward([y], inputs=[w], retain_graph=True)
        row += [x.grad.tolist(), unused.grad, w.grad.tolist()]
        for f in (lambda: y.backward(inputs=[]), lambda: lib.autograd.grad(y, [])):
            with pytest.raises(RuntimeError, match="inputs"):
                f()
        out.append(row)
    assert out[0] == out[1]


def test_user_functions_as_pytorchs_engine_treats_them():
    """A VJP may return its gradient broadcast or in another float dtype (summed down and cast,
    as PyTorch's engine does: it was refused), and forward runs with recording off."""
    torch = pytest.importorskip("torch")
    out = []
    for lib in (tg, torch):
        seen = []

        class Wide(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                seen.append(lib.is_grad_enabled())
                return a * 2

            @staticmethod
            def backward(ctx, g):
                return (g * 2).reshape(1, -1).expand(3, -1).float()

        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        Wide.apply(x).sum().backward()
        out.append((x.grad.tolist(), str(x.grad.dtype).replace("torch.", ""), seen))
    assert out[0] == out[1] == ([6.0, 6.0], "float64", [False])


def test_pytorch_2_form_with_setup_context():
    """``forward(*args)`` without ctx plus ``setup_context(ctx, inputs, output)`` (PyTorch 2): it
    was "forward() takes 2 positional arguments but 3 were given"."""
    torch = pytest.importorskip("torch")
    out = []
    for lib in (tg, torch):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(x, k):
                return x * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.k = inputs[1]
                ctx.save_for_backward(inputs[0])

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * ctx.k + x * 0, None

        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = Scale.apply(x, 3.0)
        y.sum().backward()
        out.append((y.tolist(), x.grad.tolist()))
        check = gradgradcheck if lib is tg else torch.autograd.gradgradcheck
        assert check(lambda t: Scale.apply(t, 3.0), (x,))
    assert out[0] == out[1] == ([3.0, 6.0], [3.0, 3.0])


def _tail(lib):
    class Tail(lib.autograd.Function if lib is not tg else Function):
        @staticmethod
        def forward(ctx, x):
            return x[1:]

        @staticmethod
        def backward(ctx, g):
            return lib.cat([lib.zeros(1, dtype=g.dtype), g])

    return Tail


def test_a_function_view_used_after_its_input_changed_in_place_is_refused_as_in_pytorch():
    """Found by an outside tester: a user's Function returning a view of its input, the input then
    changed in place (directly, or through another view of it), the view used afterwards: the
    view showed the new values but its gradient missed the change (x.grad [0, 40, 60] for
    [0, 400, 600]). PyTorch refuses that use; so do we. Used before the change it is fine."""
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        for change in (lambda h: h.mul_(10), lambda h: h[2:].mul_(10)):
            x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
            h = x * 1
            v = _tail(lib).apply(h)
            change(h)
            with pytest.raises(RuntimeError, match="modified inplace|changed in place since"):
                (v * v).sum().backward()
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        h = x * 1
        v = _tail(lib).apply(h)
        (v * v).sum().backward()
        assert x.grad.tolist() == [0.0, 4.0, 6.0]
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)  # backward from the view itself too
    h = x * 1
    v = _tail(tg).apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match="backward: this tensor is an output of"):
        v.backward(tg.ones(2))
    with pytest.raises(RuntimeError, match="backward: this tensor is an output of"), tg.no_grad():
        v.backward(tg.ones(2))  # (a backward under no_grad still follows the graph)
    with tg.no_grad():  # reading it is fine: nothing is recorded
        assert (v * 2).tolist() == [6.0, 8.0]


def test_function_outputs_sharing_memory_follow_pytorch():
    """Found by an outside tester: a Function returning the same array twice gave two tensors, so
    an in-place op on one changed the other's values but not its gradient ([12, 12] for [20, 20]).
    Now, as PyTorch: the same tensor twice (its gradient goes to the last position); an output
    that is a view of an earlier one shares its version counter, cannot be changed in place, and
    cannot be used once the other was."""
    torch = pytest.importorskip("torch")

    def two(lib, view):
        class Two(lib.autograd.Function if lib is not tg else Function):
            @staticmethod
            def forward(ctx, x):
                y = x * 2
                return (y, y[1:]) if view else (y, y)

            @staticmethod
            def backward(ctx, ga, gb):
                g = ga * 2
                return g + lib.cat([lib.zeros(1, dtype=g.dtype), gb * 2]) if view else g + gb * 2

        return Two

    grads, seen = [], []
    for lib in (tg, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        a, b = two(lib, False).apply(x)
        assert a is b
        a.mul_(5)
        (a.sum() + b.sum()).backward()
        grads.append(x.grad.tolist())
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        a, b = two(lib, True).apply(x)
        with pytest.raises(RuntimeError):
            b.mul_(5)
        a, b = two(lib, True).apply(x)
        a.mul_(5)
        with pytest.raises(RuntimeError):
            (a.sum() + b.sum()).backward()
        a, b = two(lib, True).apply(x)
        (a.sum() + b.sum()).backward()
        seen.append(x.grad.tolist())
    assert grads[0] == grads[1] == [20.0, 20.0, 20.0]
    assert seen[0] == seen[1] == [2.0, 4.0, 4.0]


def test_set_grad_enabled_takes_only_a_bool():
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        for bad in ("no", 1, None):
            with pytest.raises(TypeError, match="must be bool"):
                lib.set_grad_enabled(bad)
        assert lib.is_grad_enabled()
    with tg.set_grad_enabled(np.bool_(False)):
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()


def test_bad_hook_and_backward_results_raise_pytorchs_error_classes():
    """Found by an outside tester: a hook returning a non-Tensor is PyTorch's TypeError (one of
    the wrong shape a RuntimeError), a backward returning a float a RuntimeError."""
    torch = pytest.importorskip("torch")

    def half(lib):
        class Half(lib.autograd.Function if lib is not tg else Function):
            @staticmethod
            def forward(ctx, x):
                return x * 0.5

            @staticmethod
            def backward(ctx, g):
                return 0.5

        return Half

    for lib in (tg, torch):
        for result, kind in ((5.0, TypeError), (lib.ones(2), RuntimeError)):
            x = lib.ones(3, requires_grad=True)
            y = x * 2
            y.register_hook(lambda g, result=result: result)
            with pytest.raises(kind):
                y.sum().backward()
        x = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError):
            half(lib).apply(x).sum().backward()
