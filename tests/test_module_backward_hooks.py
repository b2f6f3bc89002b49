"""Module backward hooks against PyTorch: ``register_full_backward_hook``,
``register_full_backward_pre_hook`` and the deprecated ``register_backward_hook`` -- the values of
grad_input and grad_output, when and how often the hooks run, gradients they replace, handles
that remove them, several inputs and outputs, inputs that do not require grad, in-place changes
of the hooked module's inputs and outputs, no_grad, and Grad-CAM on the last convolution."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")

LIBS = (tg, torch)


def _np(t):
    return None if t is None else t.detach().numpy().copy()


def _assert_same(ours, theirs, rtol=1e-5, atol=1e-6):
    """Nested tuples/lists of arrays and None, equal in structure and (close) in value."""
    if ours is None or theirs is None:
        assert ours is None and theirs is None, (ours, theirs)
    elif isinstance(ours, (tuple, list)):
        assert len(ours) == len(theirs), (ours, theirs)
        for a, b in zip(ours, theirs):
            _assert_same(a, b, rtol, atol)
    elif isinstance(ours, np.ndarray):
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, (ours, theirs)
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)
    else:
        assert ours == theirs


def _recorder(log, tag):
    def hook(module, grad_input, grad_output):
        log.append((tag, tuple(_np(g) for g in grad_input), tuple(_np(g) for g in grad_output)))
    return hook


def _mlp(lib):
    """Linear(3, 4) -> Tanh -> Linear(4, 2), the same weights in both libraries."""
    m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
    w1 = np.linspace(-1, 1, 12).reshape(4, 3)
    w2 = np.linspace(0.5, -0.7, 8).reshape(2, 4)
    m.load_state_dict({"0.weight": lib.tensor(w1, dtype=lib.float32),
                       "0.bias": lib.tensor([0.1, -0.2, 0.3, 0.0], dtype=lib.float32),
                       "2.weight": lib.tensor(w2, dtype=lib.float32),
                       "2.bias": lib.tensor([0.05, -0.05], dtype=lib.float32)})
    return m


def _x(lib, requires_grad=True):
    return lib.tensor([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]], dtype=lib.float32,
                      requires_grad=requires_grad)


def test_full_backward_hook_values_and_order_as_torch():
    """grad_input and grad_output of a layer and of the container around it, the pre-hooks, the
    order they run in (with a tensor hook on the output), and the gradients that result."""
    results = []
    for lib in LIBS:
        m, log = _mlp(lib), []
        m[0].register_full_backward_hook(_recorder(log, "first"))
        m[2].register_full_backward_hook(_recorder(log, "last"))
        m.register_full_backward_hook(_recorder(log, "model"))
        m.register_full_backward_pre_hook(lambda mod, go: log.append(("model-pre",)))
        m[0].register_full_backward_pre_hook(lambda mod, go: log.append(("first-pre",)))
        x = _x(lib)
        y = m(x)
        y.register_hook(lambda g: log.append(("tensor-hook",)))
        (y * lib.tensor([1.0, -3.0])).sum().backward()
        results.append((log, _np(x.grad), [_np(p.grad) for p in m.parameters()]))
    _assert_same(results[0], results[1])
    assert [entry[0] for entry in results[0][0]] == [
        "tensor-hook", "model-pre", "last", "first-pre", "first", "model"]


class _Several(tg.nn.Module):
    """forward(x, y, scale) -> (x * y, x + scale, an index tensor): several inputs, one not a
    tensor, and several outputs, one of integers."""

    def forward(self, x, y, scale):
        return x * y, x + scale, (x > 0).long()


class _SeveralTorch(torch.nn.Module):
    def forward(self, x, y, scale):
        return x * y, x + scale, (x > 0).long()


def _several(lib):
    return _Several() if lib is tg else _SeveralTorch()


@pytest.mark.parametrize("used", [(0,), (1,), (0, 1)])
@pytest.mark.parametrize("y_requires_grad", [False, True])
def test_several_inputs_and_outputs_as_torch(used, y_requires_grad):
    """One entry per positional argument (None for the number; zeros for ``y`` when it does not
    require grad, as PyTorch), one per output (None for an output not used in the loss and for
    the integer one)."""
    results = []
    for lib in LIBS:
        m, log = _several(lib), []
        m.register_full_backward_hook(_recorder(log, "hook"))
        pre = []
        m.register_full_backward_pre_hook(lambda mod, go: pre.append(tuple(_np(g) for g in go)))
        x = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        y = lib.tensor([3.0, 0.5, -1.0], requires_grad=y_requires_grad)
        outs = m(x, y, 2.0)
        assert not outs[2].requires_grad
        loss = sum((outs[i] * (i + 2)).sum() for i in used)
        loss.backward()
        results.append((log, pre, _np(x.grad), _np(y.grad)))
    _assert_same(results[0], results[1])
    assert len(results[0][0]) == 1


def test_unused_input_and_input_returned_as_is_as_torch():
    """An input that requires grad but that forward does not use gets zeros; a module that
    returns its input unchanged (Identity) passes the gradient through its hooks."""
    class Unused(tg.nn.Module):
        def forward(self, a, b):
            return a * 2

    class UnusedTorch(torch.nn.Module):
        def forward(self, a, b):
            return a * 2

    results = []
    for lib, unused in ((tg, Unused()), (torch, UnusedTorch())):
        log = []
        unused.register_full_backward_hook(_recorder(log, "unused"))
        ident = lib.nn.Identity()
        ident.register_full_backward_hook(_recorder(log, "identity"))
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        (ident(unused(a, b)) * lib.tensor([1.0, -1.0])).sum().backward()
        results.append((log, _np(a.grad), _np(b.grad)))
    _assert_same(results[0], results[1])



def test_keyword_tensors_and_index_outputs_as_torch():
    """Tensors passed by keyword are not in grad_input (their gradients still flow); a pool that
    returns its indices has grad_output (gradient, None)."""
    class Scale(tg.nn.Module):
        def forward(self, x, *, w):
            return x * w

    class ScaleTorch(torch.nn.Module):
        def forward(self, x, *, w):
            return x * w

    results = []
    for lib, scale in ((tg, Scale()), (torch, ScaleTorch())):
        log = []
        scale.register_full_backward_hook(_recorder(log, "scale"))
        pool = lib.nn.MaxPool2d(2, return_indices=True)
        pool.register_full_backward_hook(_recorder(log, "pool"))
        x = lib.tensor(np.linspace(-1, 1, 16).reshape(1, 1, 4, 4), dtype=lib.float32,
                       requires_grad=True)
        w = lib.tensor([2.0], requires_grad=True)
        out, idx = pool(scale(x, w=w))
        (out * lib.tensor([[1.0, -1.0], [3.0, 0.5]])).sum().backward()
        results.append((log, _np(idx), _np(x.grad), _np(w.grad)))
    _assert_same(results[0], results[1])
    assert [len(entry[1]) for entry in results[0][0]] == [1, 1]

def test_no_input_requires_grad_fires_with_the_outputs_as_torch():
    """The first layer of a model on an input that does not require grad: the hook still runs
    (when the gradients w.r.t. its output are ready), grad_input all None, with a warning; it may
    not return gradients then."""
    results = []
    torch.manual_seed(0)
    theirs = torch.nn.Conv2d(1, 2, 3)
    for lib in LIBS:
        conv = lib.nn.Conv2d(1, 2, 3)
        conv.load_state_dict(theirs.state_dict())
        log = []
        conv.register_full_backward_hook(_recorder(log, "conv"))
        x = lib.tensor(np.arange(16.0).reshape(1, 1, 4, 4) / 16, dtype=lib.float32)
        with pytest.warns(UserWarning, match="no inputs require gradients|none of its inputs"):
            conv(x).pow(2).sum().backward()
        results.append(log)
        bad = lib.nn.Linear(2, 2)
        bad.register_full_backward_hook(lambda m, gi, go: (lib.ones(2),))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match="return None"):
                bad(lib.ones(2)).sum().backward()
            fine = lib.nn.Linear(2, 2)
            fine.register_full_backward_hook(lambda m, gi, go: (None,))
            fine(lib.ones(2)).sum().backward()
    _assert_same(results[0], results[1])
    assert len(results[0]) == 1 and results[0][0][1] == (None,)


def test_replaced_gradients_as_torch():
    """A pre-hook's grad_output goes into the module's backward (and to its full hooks); a full
    hook's grad_input goes on to the inputs; hooks run in order, ``prepend`` first, each seeing
    what the one before returned; None in a returned grad_input stops that gradient."""
    results = []
    for lib in LIBS:
        m, order = _mlp(lib), []

        def double_go(mod, go):
            order.append("double")
            return (go[0] * 2,)

        def shift_go(mod, go):
            order.append("shift")
            return (go[0] + 1,)

        def scale_gi(mod, gi, go):
            order.append(("scale", _np(gi[0]), _np(go[0])))
            return (gi[0] * 10,)

        m[2].register_full_backward_pre_hook(double_go)
        m[2].register_full_backward_pre_hook(shift_go, prepend=True)
        m[2].register_full_backward_hook(scale_gi)
        m[2].register_full_backward_hook(lambda mod, gi, go: order.append(("seen", _np(gi[0]))))
        x = _x(lib)
        m(x).sum().backward()
        stopped = _x(lib)
        m[0].register_full_backward_hook(lambda mod, gi, go: (None,))
        m(stopped).sum().backward()
        results.append((order, _np(x.grad), [_np(p.grad) for p in m.parameters()],
                        stopped.grad))
    _assert_same(results[0][:3], results[1][:3])
    assert results[0][3] is None and results[1][3] is None
    assert [o if isinstance(o, str) else o[0] for o in results[0][0]][:4] == [
        "shift", "double", "scale", "seen"]


def test_pre_hook_none_gives_the_inputs_zeros_as_torch():
    """A pre-hook that returns None for every grad_output: nothing goes into the module's
    backward (its parameters get no gradient), but its inputs get zeros and its full hooks run
    with them, as PyTorch's (its input-side identity materializes the missing gradients); a
    module whose results do not depend on its input leaves the input's grad None."""
    results = []
    for lib in LIBS:
        a = lib.tensor([1.0, -2.0], requires_grad=True)
        tanh, log = lib.nn.Tanh(), []
        tanh.register_full_backward_pre_hook(lambda m, go: (None,))
        tanh.register_full_backward_hook(_recorder(log, "tanh"))
        tanh(a).sum().backward()
        mlp, x = _mlp(lib), _x(lib)
        mlp[1].register_full_backward_pre_hook(lambda m, go: (None,))
        mlp(x).sum().backward()
        lin, x2 = _mlp(lib)[0], _x(lib)
        lin.register_full_backward_pre_hook(lambda m, go: (None,))
        lin(x2).sum().backward()
        b = lib.tensor([1.0, 2.0], requires_grad=True)
        (grad_b,) = lib.autograd.grad(tanh(b * 2).sum() + b.sum(), b)
        two, c = lib.nn.Bilinear(2, 2, 1), lib.tensor([[1.0, 3.0]], requires_grad=True)
        two.register_full_backward_pre_hook(lambda m, go: (None,))
        two(c, c).sum().backward()
        class Ignores(lib.nn.Module):  # (its result does not depend on its input)
            def __init__(self):
                super().__init__()
                self.p = lib.nn.Parameter(lib.ones(2))

            def forward(self, x):
                return self.p * 2

        const = Ignores()
        const.register_full_backward_pre_hook(lambda m, go: (None,))
        d = lib.tensor([1.0, 3.0], requires_grad=True)
        const(d).sum().backward()
        results.append((_np(a.grad), log, _np(x.grad), [_np(p.grad) for p in mlp.parameters()],
                        _np(x2.grad), _np(lin.weight.grad), _np(grad_b), _np(c.grad),
                        _np(two.weight.grad), _np(d.grad)))
    _assert_same(*results)
    assert results[0][0].tolist() == [0.0, 0.0]
    tag, grad_input, grad_output = results[0][1][0]  # (the full hook ran, with zeros)
    assert grad_input[0].tolist() == [0.0, 0.0] and grad_output == (None,)
    assert results[0][5] is None and results[0][9] is None  # (no gradient into the module)


def test_handles_remove_hooks_as_torch():
    """``handle.remove()`` (or leaving its ``with``) takes a hook off; the hooks of a call are those
    registered when the module was called: removed after the call, it still runs for that call;
    registered after it, not yet."""
    results = []
    for lib in LIBS:
        lin, log = lib.nn.Linear(3, 2), []
        x = _x(lib)
        handle = lin.register_full_backward_hook(_recorder(log, "a"))
        pre = lin.register_full_backward_pre_hook(lambda m, go: log.append(("pre",)))
        out = lin(x)
        handle.remove()
        lin.register_full_backward_hook(_recorder(log, "late"))
        out.sum().backward()
        pre.remove()
        lin(x).sum().backward()
        with lin.register_full_backward_hook(_recorder(log, "with")):
            lin(x).sum().backward()
        lin(x).sum().backward()
        results.append([entry[0] for entry in log])
    assert results[0] == results[1] == ["pre", "a", "late", "late", "with", "late"]


def test_when_hooks_do_not_run_as_torch():
    """No run under no_grad, none for an output that does not require grad, none when the
    gradient asked for does not reach the module's inputs; one per call of the module, one per
    backward (retain_graph), and again in a second-order backward through the module."""
    counts = []
    torch.manual_seed(0)
    state = torch.nn.Linear(3, 3).state_dict()
    for lib in LIBS:
        lin, seen = lib.nn.Linear(3, 3), []
        lin.load_state_dict(state)
        lin.register_full_backward_hook(lambda m, gi, go: seen.append(
            (_np(gi[0]), _np(go[0]))))
        x = _x(lib)
        n = []
        with lib.no_grad():
            lin(x)
        detached = lin(x).detach()
        assert not detached.requires_grad
        lib.autograd.grad(lin(x).sum(), lin.weight)
        n.append(len(seen))
        lin(lin(x)).sum().backward()
        n.append(len(seen))
        loss = lin(x).sum()
        loss.backward(retain_graph=True)
        loss.backward()
        n.append(len(seen))
        (g,) = lib.autograd.grad((lin(x) ** 2).sum(), x, create_graph=True)
        g.sum().backward()
        n.append(len(seen))
        counts.append((n, seen))
    _assert_same(counts[0], counts[1])
    assert counts[0][0] == [0, 2, 4, 6]


def test_inplace_changes_of_hooked_views_raise_as_torch():
    """The hooked module's forward gets views of its inputs and its caller views of its outputs:
    changing one in place while recording is an error in both libraries (an in-place ReLU as the
    hooked module, or right after it); under no_grad it is allowed; an in-place change of the
    original input after the call is caught at backward."""
    for lib in LIBS:
        relu = lib.nn.ReLU(inplace=True)
        relu.register_full_backward_hook(lambda m, gi, go: None)
        with pytest.raises(RuntimeError, match="backward hooks|view"):
            relu(_x(lib) * 1)
        lin = lib.nn.Linear(3, 2)
        lin.register_full_backward_hook(lambda m, gi, go: None)
        with pytest.raises(RuntimeError, match="backward hooks|view"):
            lin(_x(lib)).relu_()
        with pytest.raises(RuntimeError, match="backward hooks|view"):
            out = lin(_x(lib))
            out += 1
        with lib.no_grad():
            out = relu(_x(lib, requires_grad=False))
            out.add_(1)
        a = _x(lib) * 1
        out = lin(a)
        with pytest.raises(RuntimeError, match="inplace|in-place"):
            a.mul_(2)
            out.sum().backward()
    lin = tg.nn.Linear(3, 2)
    lin.register_full_backward_pre_hook(lambda m, go: None)
    with pytest.raises(RuntimeError, match=r"relu_: .* output of Linear, which has backward hooks"):
        lin(_x(tg)).relu_()
    m = _mlp(tg)
    m[2].register_full_backward_hook(lambda m, gi, go: None)
    with pytest.raises(RuntimeError, match=r"of `2` \(Linear\), which has.*inplace=False"):
        m(_x(tg)).relu_()


def test_hooks_that_return_wrong_gradients_raise():
    """Wrong length (both libraries' RuntimeError), wrong shape or dtype, a Tensor instead of a
    tuple (PyTorch takes its length; here a TypeError), a hook that is not callable."""
    for lib in LIBS:
        for register, bad in (
                ("register_full_backward_hook", lambda m, gi, go: (gi[0], gi[0])),
                ("register_full_backward_pre_hook", lambda m, go: (go[0], go[0])),
                ("register_full_backward_hook", lambda m, gi, go: (gi[0][:1],)),
                ("register_full_backward_pre_hook", lambda m, go: (go[0].double(),))):
            lin = lib.nn.Linear(3, 2)
            getattr(lin, register)(bad)
            with pytest.raises(RuntimeError):
                lin(_x(lib)).sum().backward()
    lin = tg.nn.Linear(3, 2)
    lin.register_full_backward_hook(lambda m, gi, go: gi[0])
    with pytest.raises(TypeError, match="tuple of 1 gradients"):
        lin(_x(tg)).sum().backward()
    lin = tg.nn.Linear(3, 2)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0][:1],))
    with pytest.raises(RuntimeError, match=r"grad_input\[0\] of shape \(1, 3\).*\(2, 3\)"):
        lin(_x(tg)).sum().backward()
    with pytest.raises(TypeError, match="register_full_backward_hook: the hook must be callable"):
        tg.nn.Linear(1, 1).register_full_backward_hook(3)
    with pytest.raises(ZeroDivisionError):
        lin = tg.nn.Linear(3, 2)
        lin.register_full_backward_hook(lambda m, gi, go: 1 / 0)
        lin(_x(tg)).sum().backward()


@pytest.mark.filterwarnings("ignore:Using a non-full backward hook:FutureWarning")
def test_register_backward_hook_is_the_full_hook_with_a_deprecation_warning():
    """Grad-CAM code written for PyTorch's old hook reads ``grad_output[0]`` of a convolution: the
    same here; registering warns."""
    grads = []
    torch.manual_seed(0)
    theirs = torch.nn.Conv2d(2, 3, 3, padding=1)
    theirs.register_backward_hook(lambda m, gi, go: grads.append(_np(go[0])))
    ours = tg.nn.Conv2d(2, 3, 3, padding=1)
    ours.load_state_dict(theirs.state_dict())
    with pytest.warns(DeprecationWarning, match="register_full_backward_hook"):
        handle = ours.register_backward_hook(lambda m, gi, go: grads.append(_np(go[0])))
    for lib, conv in ((torch, theirs), (tg, ours)):
        x = lib.tensor(np.linspace(-1, 1, 32).reshape(1, 2, 4, 4), dtype=lib.float32,
                       requires_grad=True)
        (conv(x) ** 2).sum().backward()
    assert len(grads) == 2
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-5, atol=1e-6)
    handle.remove()
    ours(tg.ones(1, 2, 4, 4, requires_grad=True)).sum().backward()
    assert len(grads) == 2


def _cam_net(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(6, 5))


def test_grad_cam_on_the_last_conv_as_torch():
    """Grad-CAM: a forward hook keeps the last convolution's output, a full backward hook its
    gradient (grad_output[0]); the class activation map is relu(sum_c mean_hw(grad) * act).
    The same weights (PyTorch's state_dict) give the same gradients and the same map."""
    torch.manual_seed(0)
    theirs = _cam_net(torch)
    ours = _cam_net(tg)
    ours.load_state_dict(theirs.state_dict())
    images = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    maps = []
    for lib, model in ((tg, ours), (torch, theirs)):
        kept = {}
        last_conv = model[3]
        handles = [
            last_conv.register_forward_hook(lambda m, args, out: kept.__setitem__("act", out)),
            last_conv.register_full_backward_hook(
                lambda m, gi, go: kept.__setitem__("grad", go[0])),
        ]
        x = lib.tensor(images)
        scores = model(x)
        target = scores.argmax(1)
        scores[lib.arange(2), target].sum().backward()
        act, grad = kept["act"].detach(), kept["grad"]
        weights = grad.mean((2, 3), keepdim=True)  # (N, C, 1, 1)
        cam = (weights * act).sum(1).relu()  # (N, H, W)
        maps.append((_np(grad), _np(cam), _np(target),
                     [_np(p.grad) for p in model.parameters()]))
        for h in handles:
            h.remove()
        assert last_conv.weight.grad is not None
    _assert_same(maps[0], maps[1], rtol=1e-4, atol=1e-6)
    assert maps[0][1].shape == (2, 4, 4) and maps[0][1].max() > 0


def test_a_backward_hook_sees_its_modules_weight_grad_filled_as_in_pytorch():
    """A leaf's .grad is filled once its last gradient is in (PyTorch's AccumulateGrad), not at
    the end of the pass: a backward hook logging its layer's weight gradient finds it there
    (found by an outside tester: it read None)."""
    torch = pytest.importorskip("torch")
    seen = {}
    for lib in (tg, torch):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Conv2d(1, 2, 3), lib.nn.ReLU(), lib.nn.Flatten(),
                                lib.nn.Linear(8, 2))
        norms: list = []
        for layer in (net[0], net[3]):
            layer.register_full_backward_hook(
                lambda mod, gi, go, norms=norms: norms.append(
                    None if mod.weight.grad is None else float((mod.weight.grad ** 2).sum())))
        x = lib.ones(1, 1, 4, 4, requires_grad=True)
        net(x).sum().backward()
        seen[lib.__name__] = (norms, [float((p.grad ** 2).sum()) for p in (net[0].weight,
                                                                            net[3].weight)])
    (ours, our_final), (theirs, their_final) = seen["tinygrad_cnn"], seen["torch"]
    assert None not in ours and None not in theirs
    assert ours == our_final[::-1]  # the last layer's hook first, each with its final gradient
    assert theirs == their_final[::-1]


def test_post_accumulate_grad_hooks_as_pytorchs():
    """``register_post_accumulate_grad_hook``: after each backward's accumulation into a leaf's
    .grad, with the leaf; not for grad(); refused on non-leaves; removable."""
    calls = {}
    for lib in (tg, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        seen: list = []
        handle = w.register_post_accumulate_grad_hook(
            lambda p, seen=seen: seen.append(p.grad.tolist()))
        (w * 3).sum().backward()
        (w * w).sum().backward()
        lib.autograd.grad((w * 5).sum(), [w])  # no .grad touched: no call
        handle.remove()
        (w * 3).sum().backward()
        calls[lib.__name__] = seen
        with pytest.raises(RuntimeError):
            (w * 2).register_post_accumulate_grad_hook(lambda p: None)
        with pytest.raises(RuntimeError):
            lib.ones(2).register_post_accumulate_grad_hook(lambda p: None)
    assert calls["tinygrad_cnn"] == calls["torch"] == [[3.0, 3.0], [5.0, 7.0]]


def test_a_one_element_checkpoint_entry_loads_into_a_0d_parameter_as_in_pytorch():
    for lib in (tg, torch):
        m = lib.nn.Module()
        m.p = lib.nn.Parameter(lib.tensor(0.0))
        m.load_state_dict({"p": lib.tensor([3.0])})
        assert m.p.item() == 3.0 and tuple(m.p.shape) == ()
        with pytest.raises(RuntimeError):
            m.load_state_dict({"p": lib.tensor([3.0, 4.0])})


def test_post_accumulate_grad_hooks_run_for_backward_with_inputs_as_pytorchs():
    """backward(inputs=[...]) fills the named leaves' .grad, and their hooks run (they did not:
    found by an outside tester); grad() still runs none."""
    logs = {}
    for lib in (tg, torch):
        log: list = []
        a = lib.tensor([1.0, 1.0], requires_grad=True)
        b = lib.tensor([2.0, 2.0], requires_grad=True)
        a.register_post_accumulate_grad_hook(lambda t, log=log: log.append(("a", t.grad.tolist())))
        b.register_post_accumulate_grad_hook(lambda t, log=log: log.append(("b", t.grad.tolist())))
        (a * b).sum().backward(inputs=[a])
        log.append("|")
        (a * b).sum().backward(inputs=[a, b])
        log.append("|")
        lib.autograd.backward([(a * b).sum()], inputs=[b])
        lib.autograd.grad((a * b).sum(), [a])
        logs[lib.__name__] = log
    assert logs["tinygrad_cnn"] == logs["torch"]
