"""The engine: backward/grad, higher order, long graphs, freeing, version counters, grad mode,
hooks, anomaly detection."""

from __future__ import annotations

import gc
import threading
import tracemalloc

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Function, Tensor, detect_anomaly, enable_grad, grad, no_grad


def rand(*shape, seed=0, grad=True):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=grad)


# --------------------------------------------------------------------------- basics
def test_backward_accumulates_into_leaves():
    x = rand(3)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 5.0))


def test_gradient_meets_at_shared_nodes():
    x = rand(4)
    y = x * x
    z = (y + y * 3).sum()  # y used twice
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 8 * x.numpy())


def test_leaf_grads_do_not_alias_each_other():
    a, b = rand(3, seed=1), rand(3, seed=2)
    (a + b).sum().backward()
    with no_grad():
        a.grad.mul_(10)
    np.testing.assert_array_equal(b.grad.numpy(), np.ones(3))


def test_non_leaf_grad_only_with_retain_grad():
    x = rand(3)
    y = x * 2
    z = y * 3
    z.retain_grad()
    (z * z).sum().backward()
    with pytest.warns(UserWarning, match=r"not a leaf.*retain_grad"):  # as PyTorch warns
        assert y.grad is None
    np.testing.assert_allclose(z.grad.numpy(), 2 * z.numpy())


def test_grad_returns_without_touching_dot_grad():
    x, w = rand(3), rand(3, seed=1)
    y = (x * w).sum()
    gx, gw = grad(y, [x, w])
    np.testing.assert_allclose(gx.numpy(), w.numpy())
    np.testing.assert_allclose(gw.numpy(), x.numpy())
    assert x.grad is None and w.grad is None


def test_grad_with_respect_to_non_leaf():
    x = rand(3)
    h = x * 2
    y = (h * h).sum()
    (gh,) = grad(y, h)
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())


def test_grad_outputs_vector_jacobian_product():
    x = rand(3)
    v = Tensor(np.array([1.0, 0.0, 2.0]))
    (gx,) = grad(x * x, x, v)
    np.testing.assert_allclose(gx.numpy(), 2 * x.numpy() * v.numpy())


def test_grad_skips_branches_that_do_not_lead_to_inputs():
    calls = []

    class Spy(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            calls.append(1)
            return g

    x, w = rand(3), rand(3, seed=1)
    y = (Spy.apply(w) * x).sum()
    grad(y, x)
    assert calls == []


# --------------------------------------------------------------------------- higher order
def test_hessian_vector_product_matches_finite_differences():
    rng = np.random.default_rng(0)
    X = Tensor(rng.standard_normal((5, 3)))
    w1 = Tensor(rng.standard_normal((3, 4)) * 0.5, requires_grad=True)
    w2 = Tensor(rng.standard_normal((4, 1)) * 0.5, requires_grad=True)
    v1, v2 = rng.standard_normal((3, 4)), rng.standard_normal((4, 1))

    def loss(a, b):
        return ((X @ a).tanh() @ b).tanh().sum()

    g1, g2 = grad(loss(w1, w2), [w1, w2], create_graph=True)
    assert g1.requires_grad and g2.requires_grad
    dot = (g1 * Tensor(v1)).sum() + (g2 * Tensor(v2)).sum()
    h1, h2 = grad(dot, [w1, w2])

    eps = 1e-6

    def first_grad(sign):
        a = Tensor(w1.numpy() + sign * eps * v1, requires_grad=True)
        b = Tensor(w2.numpy() + sign * eps * v2, requires_grad=True)
        return [g.numpy() for g in grad(loss(a, b), [a, b])]

    plus, minus = first_grad(+1), first_grad(-1)
    np.testing.assert_allclose(h1.numpy(), (plus[0] - minus[0]) / (2 * eps), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(h2.numpy(), (plus[1] - minus[1]) / (2 * eps), rtol=1e-5, atol=1e-7)


def test_third_derivative_of_a_polynomial():
    x = Tensor(np.array(2.0), requires_grad=True)
    y = x**4
    (d1,) = grad(y, x, create_graph=True)
    (d2,) = grad(d1, x, create_graph=True)
    (d3,) = grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (32.0, 48.0, 48.0)


def test_backward_create_graph_gives_differentiable_leaf_grad():
    x = rand(3)
    (x * x * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (gg,) = grad(x.grad.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 6 * x.numpy())


# --------------------------------------------------------------------------- big graphs
def test_chain_of_100000_ops_backpropagates():
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
    del y  # freeing a long chain must not overflow the C stack either
    gc.collect()


def test_deep_graph_grad_and_free():
    x = rand(2)
    y = x
    for _ in range(20_000):
        y = y.tanh() * 1.5
    (g,) = grad(y.sum(), x)
    assert np.isfinite(g.numpy()).all()


# --------------------------------------------------------------------------- freeing
def _graph_with_saved_arrays(n=400):
    x = Tensor(np.ones((n, n)), requires_grad=True)
    # each exp saves its output (n*n*8 bytes) and keeps nothing else alive but the graph
    y = x.exp().exp().exp().sum()
    return x, y


def test_saved_arrays_are_freed_after_backward():
    tracemalloc.start()
    try:
        _x, y = _graph_with_saved_arrays()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        y.backward()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    saved = 3 * 400 * 400 * 8  # three exp outputs
    grad_bytes = 400 * 400 * 8  # x.grad is new
    assert before - after >= saved - grad_bytes - 100_000, (before, after)


def test_retain_graph_keeps_saved_arrays_and_second_backward_without_it_fails():
    x, y = _graph_with_saved_arrays(8)
    y.backward(retain_graph=True)
    y.backward()  # works: the first one retained the graph
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(np.e ** np.e + np.e + 1) * np.ones((8, 8)),
                               rtol=1e-12)
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


# --------------------------------------------------------------------------- version counters
def test_inplace_update_of_saved_tensor_raises_naming_the_op():
    x = rand(4, 3)
    w = rand(3, 2, seed=1)
    loss = (x @ w).tanh().sum()
    with no_grad():
        w.sub_(0.1)  # an optimizer step between forward and backward
    with pytest.raises(RuntimeError, match=r"matmul.*version 1, expected version 0"):
        loss.backward()


def test_inplace_through_a_view_is_seen():
    x = rand(2, 3)
    w = rand(6, seed=1)
    wv = w.detach().reshape(2, 3)  # shares memory and version counter with w
    loss = (x * w.reshape(2, 3)).sum()
    wv.mul_(2)
    with pytest.raises(RuntimeError, match="in-place"):
        loss.backward()


def test_inplace_on_output_saved_by_exp_raises():
    x = rand(3)
    y = x.exp()
    z = y.sum()
    with no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match="exp"):
        z.backward()


def test_inplace_in_grad_mode_is_recorded():
    x = rand(3)
    y = x * 2
    y.mul_(x)  # y = 2x * x
    y += 1
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * x.numpy())
    assert y._version == 2


def test_inplace_on_leaf_requiring_grad_is_refused():
    x = rand(3)
    with pytest.raises(RuntimeError, match="no_grad"):
        x.add_(1)
    with no_grad():
        x.add_(1)  # fine
    assert x._version == 1


# --------------------------------------------------------------------------- grad mode
def test_no_grad_records_nothing_and_nests():
    x = rand(3)
    with no_grad():
        y = x * 2
        with enable_grad():
            z = x * 2
        w = x * 2
    assert y.grad_fn is None and not y.requires_grad
    assert z.grad_fn is not None and z.requires_grad
    assert w.grad_fn is None
    assert tg.is_grad_enabled()


def test_no_grad_as_decorator_and_set_grad_enabled():
    x = rand(3)

    @no_grad()
    def f(t):
        return t * 2

    assert f(x).grad_fn is None
    assert (x * 2).grad_fn is not None
    with tg.set_grad_enabled(False):
        assert (x * 2).grad_fn is None
    assert tg.is_grad_enabled()
    tg.set_grad_enabled(False)
    assert not tg.is_grad_enabled()
    tg.set_grad_enabled(True)

    @tg.set_grad_enabled(False)
    def g(t):
        return t * 2

    assert tg.is_grad_enabled() and g(x).grad_fn is None


def test_grad_mode_is_per_thread():
    x = rand(3)
    inside, recorded = threading.Event(), {}
    release = threading.Event()

    def worker():
        with no_grad():
            inside.set()
            release.wait(5)
            recorded["worker"] = (x * 2).grad_fn is not None

    th = threading.Thread(target=worker)
    th.start()
    inside.wait(5)
    recorded["main"] = (x * 2).grad_fn is not None  # the other thread is inside no_grad now
    release.set()
    th.join()
    assert recorded == {"main": True, "worker": False}


# --------------------------------------------------------------------------- hooks
def test_hooks_on_leaf_and_non_leaf():
    x = rand(3)
    seen = []
    h = x.register_hook(lambda g: seen.append(g.numpy().copy()))
    y = x * 2
    y.register_hook(lambda g: g * 10)  # replaces y's gradient
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 20.0))
    np.testing.assert_array_equal(seen[0], np.full(3, 20.0))
    h.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert len(seen) == 1


# --------------------------------------------------------------------------- anomaly
class BrokenLog(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x * 0)  # inf/NaN on purpose


def test_detect_anomaly_names_op_and_creation_site():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with detect_anomaly():
        y = BrokenLog.apply(x).sum()  # the line the message must point at
        with pytest.raises(RuntimeError) as info:
            y.backward()
    msg = str(info.value)
    assert "broken_log" in msg and "NaN or Inf" in msg
    assert "test_autograd.py" in msg and "BrokenLog.apply(x).sum()" in msg


def test_without_anomaly_mode_nan_passes_silently():
    x = Tensor(np.array([1.0]), requires_grad=True)
    BrokenLog.apply(x).sum().backward()
    assert not np.isfinite(x.grad.numpy()).all()


# --------------------------------------------------------------------------- custom functions
def test_custom_function_with_needs_input_grad():
    class ScaledAdd(Function):
        @staticmethod
        def forward(ctx, x, y, alpha=1.0):
            ctx.alpha = alpha
            ctx.flags = ctx.needs_input_grad
            return x + alpha * y

        @staticmethod
        def backward(ctx, g):
            return g, g * ctx.alpha

    x, y = rand(3), rand(3, seed=1, grad=False)
    out = ScaledAdd.apply(x, y, alpha=2.0)
    assert out.grad_fn.flags == (True, False)
    assert out.grad_fn.attrs == {"alpha": 2.0} and out.grad_fn.name == "scaled_add"
    assert tg.gradcheck(lambda a, b: ScaledAdd.apply(a, b, alpha=3.0), (x, rand(3, seed=2)))


def test_vjp_of_wrong_shape_is_reported():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            return g  # should be expanded to x's shape

    x = rand(3)
    with pytest.raises(RuntimeError, match=r"bad.backward returned a gradient of shape \(\).*shape \(3,\)"):
        Bad.apply(x).backward()


def test_vjp_of_wrong_dtype_is_reported():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return tg.ones(4).long()

    with pytest.raises(RuntimeError, match=r"shape \(4,\) and dtype int64.*shape \(3,\) and "
                                           r"dtype float64"):
        Bad.apply(rand(3)).sum().backward()

    for cast in ("float", "long", "bool"):  # another dtype is cast back, as PyTorch's engine does
        class Narrow(Bad):
            @staticmethod
            def backward(ctx, g, cast=cast):
                return getattr(g, cast)()

        x = rand(3)
        Narrow.apply(x).sum().backward()
        assert x.grad.dtype == np.float64 and x.grad.tolist() == [1.0, 1.0, 1.0]


def test_vjp_returning_wrong_count_is_reported():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match="1 gradients for 2 inputs"):
        Bad.apply(rand(3), rand(3, seed=1)).sum().backward()


# --------------------------------------------------------------------------- errors
def test_backward_of_non_scalar_says_what_to_pass():
    with pytest.raises(RuntimeError, match="gradient=ones_like"):
        (rand(3) * 2).backward()


def test_gradient_of_wrong_shape_is_refused():
    y = rand(3) * 2
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*shape \(3,\)"):
        y.backward(Tensor(np.ones(2)))


def test_unused_input_in_grad():
    x, unused = rand(3), rand(3, seed=1)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        grad(y, [x, unused], retain_graph=True)
    gx, gu = grad(y, [x, unused], allow_unused=True)
    assert gu is None and gx is not None


def test_grad_of_tensor_without_grad_fn():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        grad(rand(2).sum(), Tensor([1.0]))


# --------------------------------------------------------------------------- gc while recording
def test_full_collections_wait_while_a_big_graph_is_recorded():
    import gc

    from tinygrad_cnn import autograd

    before = gc.get_threshold()
    x = Tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(2 * (autograd._DEFER_MASK + 1)):  # two deferral points
        y = y * 1.0
    assert gc.get_threshold()[2] > 10**8 and gc.get_threshold()[:2] == before[:2]
    y.sum().backward()
    assert gc.get_threshold() == before
    np.testing.assert_array_equal(x.grad.numpy(), [1, 1])


def test_gc_settings_of_the_program_are_respected():
    import gc

    from tinygrad_cnn import autograd

    x = Tensor(np.ones(2), requires_grad=True)
    gc.disable()
    try:
        y = x
        for _ in range(autograd._DEFER_MASK + 1):
            y = y * 1.0
        assert autograd._deferred is None
    finally:
        gc.enable()
    before = gc.get_threshold()
    y = x
    for _ in range(autograd._DEFER_MASK + 1):
        y = y * 1.0
    gc.set_threshold(500, 5, 5)  # the program changes them meanwhile: its choice is kept
    try:
        y.sum().backward()
        assert gc.get_threshold() == (500, 5, 5)
    finally:
        gc.set_threshold(*before)


def test_grad_takes_pytorchs_only_inputs_and_is_grads_batched():
    torch = pytest.importorskip("torch")
    x = np.array([1.0, 2.0, 3.0])
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours**3, theirs**3
    eye = np.eye(3)
    # a Jacobian, one row per vector
    (j,) = tg.grad(y, ours, Tensor(eye), True, True, True, None, True)  # PyTorch's positions
    (tj,) = torch.autograd.grad(ty, theirs, torch.tensor(eye), True, True, True, None, True)
    np.testing.assert_allclose(j.numpy(), tj.detach().numpy())
    # and a Hessian from the recorded gradient
    (g,) = tg.grad(y.sum(), ours, create_graph=True)
    (tg_,) = torch.autograd.grad(ty.sum(), theirs, create_graph=True)
    (h,) = tg.grad(g, ours, Tensor(eye), is_grads_batched=True)
    (th,) = torch.autograd.grad(tg_, theirs, torch.tensor(eye), is_grads_batched=True)
    np.testing.assert_allclose(h.numpy(), th.numpy())
    with pytest.warns(FutureWarning, match="only_inputs argument is deprecated"):
        tg.grad((ours * 2).sum(), ours, only_inputs=False)
    with pytest.raises(RuntimeError, match="is_grads_batched=True needs"):
        tg.grad((ours * 2).sum(), ours, is_grads_batched=True)


@pytest.mark.parametrize("name", ["relu", "hardtanh", "relu6", "leaky_relu", "max_pool2d",
                                  "avg_pool2d", "adaptive_max_pool2d", "abs", "times3"])
def test_a_gradient_through_a_mask_or_scatter_can_be_differentiated_again_as_in_pytorch(name):
    """The gradient of relu (or a pool) with create_graph=True came without a graph: grad() of
    it raised "does not require grad" where PyTorch gives zeros (a relu network's gradient
    penalty with respect to its input). Where PyTorch raises (x * 3), so do we. (abs: PyTorch
    gives zeros as a symbolic ZeroTensor, whose tolist() raises -- this test once read that as
    PyTorch refusing, and held ours to an error; ours gives the zeros now.)"""
    torch = pytest.importorskip("torch")

    def f(lib, x):
        fn = lib.nn.functional
        if name in ("max_pool2d", "avg_pool2d"):
            return getattr(fn, name)(x.reshape(1, 1, 1, 2), (1, 2))
        if name == "adaptive_max_pool2d":
            return fn.adaptive_max_pool2d(x.reshape(1, 1, 1, 2), 1)
        if name == "abs":
            return x.abs()
        if name == "times3":
            return x * 3
        return getattr(fn, name)(x)

    outcomes = []
    for lib, grad_fn in ((tg, tg.grad), (torch, torch.autograd.grad)):
        x = lib.tensor([-1.0, 2.0], requires_grad=True)
        (g,) = grad_fn(f(lib, x).sum(), [x], create_graph=True)
        try:
            h = grad_fn(g.sum(), [x])[0]
        except RuntimeError:
            outcomes.append("error")
            continue
        outcomes.append(h.numpy(force=True).tolist() if lib is torch else h.tolist())
    assert outcomes[0] == outcomes[1]


def test_a_relu_network_gradient_penalty_reaches_every_parameter_as_in_pytorch():
    """The link was made only for a gradient without a graph: with weights after the relu, the
    penalty's gradient missed the input and the first layer's bias (None, or 'not used'), where
    PyTorch gives zeros; relu's third derivative raised."""
    torch = pytest.importorskip("torch")
    results = []
    for lib, grad_fn in ((tg, tg.grad), (torch, torch.autograd.grad)):
        x = lib.ones(2, 3, requires_grad=True)
        w = lib.tensor([[0.5, -1.0, 2.0], [1.0, 1.0, -1.0]], requires_grad=True)
        b = lib.tensor([0.1, -0.2], requires_grad=True)
        out = (lib.nn.functional.relu(x @ w.T + b) * lib.tensor([1.0, 2.0])).sum()
        (g,) = grad_fn(out, x, create_graph=True)
        penalty = ((g.norm(dim=1) - 1) ** 2).mean()
        row = [t.tolist() for t in grad_fn(penalty, [x, w, b])]
        x2 = lib.tensor([1.0, -1.0], requires_grad=True)
        (g2,) = grad_fn(lib.nn.functional.relu(x2).sum(), x2, create_graph=True)
        (h,) = grad_fn((g2 * g2).sum(), x2, create_graph=True)
        row.append(grad_fn(h.sum(), x2)[0].tolist())
        results.append(row)
    np.testing.assert_allclose(np.array(results[0][1]), np.array(results[1][1]), rtol=1e-6)
    assert results[0][0] == results[1][0] and results[0][2:] == results[1][2:]


# --------------------------------------------------------------- PyTorch's node API (outside tester)
def _walk(node, seen=None):
    """Every node reachable through next_functions, as (name of its kind, leaf ids) -- the walk a
    torchviz-style drawing does."""
    seen = {} if seen is None else seen
    if node is None or id(node) in seen:
        return seen
    seen[id(node)] = node
    for nxt, _ in node.next_functions:
        _walk(nxt, seen)
    return seen


def test_next_functions_walk_the_graph_as_pytorchs_do():
    torch = pytest.importorskip("torch")
    xs = np.array([1.0, -2.0, 3.0])
    x, w = Tensor(xs, requires_grad=True), Tensor(xs * 2, requires_grad=True)
    xt, wt = torch.tensor(xs, requires_grad=True), torch.tensor(xs * 2, requires_grad=True)
    ours = ((x * w).relu() + x.exp()).sum() * 2.0
    theirs = ((xt * wt).relu() + xt.exp()).sum() * 2.0
    mine, ref = _walk(ours.grad_fn), _walk(theirs.grad_fn)
    assert len(mine) == len(ref)  # mul, relu, exp, add, sum, mul and two AccumulateGrads each
    leaves = [n.variable for n in mine.values() if n.name() == "AccumulateGrad"]
    assert sorted(map(id, leaves)) == sorted(map(id, (x, w)))
    assert ours.grad_fn.next_functions[1] == (None, 0)  # the constant 2.0, as PyTorch's
    assert theirs.grad_fn.next_functions[1] == (None, 0)
    assert ours.grad_fn.name() == ours.grad_fn.name == "mul"  # a name that may be called


def test_next_functions_of_an_op_with_several_outputs_name_the_op_and_the_output():
    class Halves(Function):  # two outputs: each gets a node of its own that leads to the op
        @staticmethod
        def forward(ctx, x):
            return x[:1] * 1.0, x[1:] * 2.0

        @staticmethod
        def backward(ctx, ga, gb):
            return tg.cat([ga, gb * 2.0])

    x = Tensor(np.arange(3.0), requires_grad=True)
    _, b = Halves.apply(x)
    ((node, k),) = (b * 1.0).grad_fn.next_functions[:1]
    assert k == 1 and node.name() == "halves"  # the op itself and which output (PyTorch's form)
    assert node.next_functions[0][0].variable is x


def test_anomaly_switches_as_in_pytorch():
    x = Tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(tg.AnomalyError, match="log"):
        with detect_anomaly():  # ours checks forwards too (documented): the masked log raises
            tg.where(x > 0, x.log(), tg.zeros_like(x)).sum().backward()
    x.grad = None
    with detect_anomaly(check_nan=False):  # PyTorch's switch: record, raise nothing
        assert tg.is_anomaly_enabled() and not tg.is_anomaly_check_nan_enabled()
        tg.where(x > 0, x.log(), tg.zeros_like(x)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5])
    assert not tg.is_anomaly_enabled() and tg.is_anomaly_check_nan_enabled()
    tg.set_detect_anomaly(True)  # a function call that sets it ...
    try:
        assert tg.is_anomaly_enabled()
        with pytest.raises(tg.AnomalyError):
            (x * float("inf")).sum().backward()
    finally:
        tg.set_detect_anomaly(False)
    assert not tg.is_anomaly_enabled()
    with tg.set_detect_anomaly(True, check_nan=False):  # ... or a context manager that restores
        assert tg.is_anomaly_enabled() and not tg.is_anomaly_check_nan_enabled()
    assert not tg.is_anomaly_enabled() and tg.is_anomaly_check_nan_enabled()


def test_an_id_keyed_walk_finds_every_leaf_as_in_pytorch():
    """An outside tester: AccumulateGrad nodes were made afresh on each access, so a walk that
    keeps only ids saw a freed node's id reused by another leaf's and lost that leaf."""
    torch = pytest.importorskip("torch")
    found = {}
    for lib in (torch, tg):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(4, 5), lib.nn.ReLU(), lib.nn.Linear(5, 3))
        y = m(lib.randn(2, 4)).sum()
        seen, stack, leaves = set(), [y.grad_fn], []
        while stack:
            fn = stack.pop()
            if fn is None or id(fn) in seen:
                continue
            seen.add(id(fn))
            stack += [f for f, _ in fn.next_functions]
            if hasattr(fn, "variable"):
                leaves.append(tuple(fn.variable.shape))
        found[lib.__name__] = sorted(leaves)
    assert found["tinygrad_cnn"] == found["torch"] == [(3,), (3, 5), (5,), (5, 4)]


def test_pytorchs_spellings_of_gradcheck_and_the_anomaly_switch():
    from tinygrad_cnn.autograd import gradcheck as imported

    assert tg.autograd.gradcheck is tg.gradcheck is imported
    assert tg.autograd.gradgradcheck is tg.gradgradcheck
    x = Tensor(np.array([0.5, -1.5]), requires_grad=True)
    assert tg.autograd.gradcheck(lambda a: a * a, (x,))
    tg.set_anomaly_enabled(True, check_nan=False)
    try:
        assert tg.is_anomaly_enabled() and not tg.is_anomaly_check_nan_enabled()
    finally:
        tg.set_anomaly_enabled(False)
    assert not tg.is_anomaly_enabled() and tg.is_anomaly_check_nan_enabled()
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tg.autograd.nope  # noqa: B018


# ------------------------------------------------- node hooks: grad_fn.register_prehook / register_hook
def _node_hook_log(T):
    """The same program in either library: what node hooks see, and what they change."""
    def flat(gs):
        return [None if g is None else g.tolist() for g in gs]

    log = []
    x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    z = (y * y).sum()
    pre = y.grad_fn.register_prehook(lambda go: (log.append(("pre", flat(go))), (go[0] * 10,))[1])
    y.grad_fn.register_hook(lambda gi, go: log.append(("post", flat(gi), flat(go))))
    y.register_hook(lambda g: log.append(("tensor hook first", g.tolist())))
    z.backward(retain_graph=True)
    log.append(("x.grad", x.grad.tolist()))
    pre.remove()
    x.grad = None
    z.backward()
    log.append(("x.grad, pre-hook removed", x.grad.tolist()))

    a, b = T.tensor([1.0, 2.0], requires_grad=True), T.tensor([3.0, 4.0], requires_grad=True)
    c = a * b
    c.grad_fn.register_hook(lambda gi, go: (gi[0] * 0, gi[1]))  # replaces what mul sends
    c.sum().backward()
    log.append(("a, b", a.grad.tolist(), b.grad.tolist()))

    w = T.tensor([1.0, 2.0], requires_grad=True)
    v = w * 3
    v.grad_fn.next_functions[0][0].register_prehook(lambda go: (go[0] + 1,))  # AccumulateGrad's
    v.sum().backward()
    log.append(("w", w.grad.tolist()))

    class Two(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + (0 if g2 is None else g2 * 3)

    u = T.tensor([1.0, 2.0], requires_grad=True)
    p, q = Two.apply(u)
    p.grad_fn.register_prehook(lambda go: log.append(("two pre", flat(go))))
    q.grad_fn.register_hook(lambda gi, go: log.append(("two post", flat(gi), flat(go))))
    (p.sum() + 5 * q.sum()).backward()
    p, q = Two.apply(u)
    p.grad_fn.register_prehook(lambda go: log.append(("two pre, one output used", flat(go))))
    p.sum().backward()
    log.append(("u", u.grad.tolist()))
    return log


def test_node_hooks_see_and_replace_what_pytorchs_do():
    torch = pytest.importorskip("torch")
    ours, theirs = _node_hook_log(tg), _node_hook_log(torch)
    assert ours == theirs


def test_node_hooks_that_return_the_wrong_thing_are_named():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2

    def bad_pre(go):
        return (go[0], go[0])

    y.grad_fn.register_prehook(bad_pre)
    with pytest.raises(RuntimeError, match=r"bad_pre.*register_prehook of mul.*2 values.*tuple of 1"):
        y.sum().backward()
    y = x * 2

    def bad_post(gi, go):
        return (gi[0][:1], None)

    y.grad_fn.register_hook(bad_post)
    with pytest.raises(RuntimeError, match=r"bad_post.*shape \(1,\).*grad_inputs\[0\].*shape \(2,\)"):
        y.sum().backward()
    with pytest.raises(TypeError, match="must be callable"):
        y.grad_fn.register_hook(3)
    acc = (x * 2).grad_fn.next_functions[0][0]  # (AccumulateGrad's hooks: session 29's tests)
    with pytest.raises(TypeError, match="must be callable"):
        acc.register_hook(3)



# ------------------------------------- second derivatives do not depend on the input's memory layout
def _fd_jacobian(fn, a, eps=1e-6):
    """Central differences of ``fn`` (array -> flat array) at ``a``: one row per input element."""
    rows = []
    for i in range(a.size):
        d = np.zeros(a.size)
        d[i] = eps
        d = d.reshape(a.shape)
        rows.append((fn(a + d) - fn(a - d)) / (2 * eps))
    return np.stack(rows)


_LAYOUT_CASES = {  # name: (input shape, the function, through a transposed view of the input)
    "softmax": ((4, 3), lambda t, w: (t.transpose(0, 1).softmax(1) * w).sum()),
    "log_softmax": ((4, 3), lambda t, w: (t.transpose(0, 1).log_softmax(1) * w).sum()),
    "cumprod": ((4, 3), lambda t, w: (t.transpose(0, 1).cumprod(1) * w).sum()),
    "std": ((3, 4, 2), lambda t, w: (t.transpose(1, 2).std(0) * w).sin().sum()),
}
_LAYOUT_W = {"softmax": (3, 4), "log_softmax": (3, 4), "cumprod": (3, 4), "std": (2, 4)}


@pytest.mark.parametrize("name", sorted(_LAYOUT_CASES))
def test_second_derivatives_do_not_depend_on_the_layout(name):
    """An outside tester: an op whose result is copied to C order (softmax, cumprod, std, ...)
    saved the array from before the copy, so its VJP read the output as a constant -- on a
    transposed input the Hessian of log_softmax was all zeros, cumprod's and std's had wrong
    entries. Oracle: central differences of the (first-order, right) gradient."""
    shape, f = _LAYOUT_CASES[name]
    w = Tensor(np.random.default_rng(1).standard_normal(_LAYOUT_W[name]))
    a = np.random.default_rng(3).standard_normal(shape)

    def grad_of(v):
        x = Tensor(v, requires_grad=True)
        (gx,) = tg.grad(f(x, w), [x])
        return gx.numpy().ravel()

    hess = tg.autograd.functional.hessian(lambda t: f(t, w), Tensor(a)).numpy().reshape(a.size, -1)
    assert np.abs(hess).max() > 1e-2
    np.testing.assert_allclose(hess, _fd_jacobian(grad_of, a), rtol=1e-5, atol=1e-6)


def test_cross_entropy_third_derivative_with_a_batch_of_one():
    """The tester's case: (N=1, C=3, L=2) with class targets; the third derivative was wrong."""
    import tinygrad_cnn.nn.functional as F
    a = np.array([[[0.3, -1.2], [1.1, 0.4], [-0.5, 0.9]]])
    target = Tensor(np.array([[0, 2]]))

    def second(v, create):
        x = Tensor(v, requires_grad=True)
        (g,) = tg.grad(F.cross_entropy(x, target), [x], create_graph=True)
        (h,) = tg.grad((g * g).sum(), [x], create_graph=create)
        return x, h

    x, h = second(a, True)
    (third,) = tg.grad((h * h).sum(), [x])

    def h_sq(v):  # the function whose gradient the third derivative is
        _, hv = second(v, False)
        return np.array([(hv.numpy() ** 2).sum()])

    np.testing.assert_allclose(third.numpy().ravel(), _fd_jacobian(h_sq, a).ravel(), rtol=1e-5,
                               atol=1e-8)


_PENALTIES = {
    "abs": lambda m, x: x.abs().sum(),
    "l1_loss": lambda m, x: m.nn.functional.l1_loss(x, m.zeros(3)),
    "nll_loss": lambda m, x: m.nn.functional.nll_loss(x.reshape(1, 3), m.tensor([1])),
    "norm_1": lambda m, x: x.norm(1),
    "norm_inf": lambda m, x: x.norm(float("inf")),
    "norm_-inf": lambda m, x: x.norm(float("-inf")),
    "prelu": lambda m, x: m.nn.functional.prelu(x, m.tensor([0.25])).sum(),
}


@pytest.mark.parametrize("name", sorted(_PENALTIES))
def test_a_gradient_penalty_through_a_piecewise_linear_op_is_zero_not_an_error(name):
    """An outside tester: the create_graph gradient of abs, l1_loss, nll_loss, norm(1/±inf) and
    prelu had no graph, so ``(g ** 2).sum().backward()`` raised 'does not require grad' where
    PyTorch gives zeros (a gradient penalty on an L1 loss)."""
    torch = pytest.importorskip("torch")
    grads = []
    for m in (tg, torch):
        x = m.tensor([0.5, -1.0, 2.0], requires_grad=True)
        (g,) = m.autograd.grad(_PENALTIES[name](m, x), x, create_graph=True)
        assert g.requires_grad
        (g ** 2).sum().backward()
        hess = x.grad.numpy(force=True) if m is torch else x.grad.numpy()  # (torch: a ZeroTensor)
        grads.append((g.detach().numpy(), hess))
    (g_o, h_o), (g_t, h_t) = grads
    np.testing.assert_allclose(g_o, g_t, rtol=1e-6)
    np.testing.assert_array_equal(h_o, h_t)
    assert not h_o.any()


def test_the_second_derivative_of_a_fractional_norm_keeps_nan_out_of_the_other_elements():
    """An outside tester: norm(p=0.5) of an input with zeros had a second derivative of NaN in
    every element (the zero elements' inf times where's 0); PyTorch's is NaN only at the zeros
    (where the true one is unbounded) and finite elsewhere; so is ours."""
    torch = pytest.importorskip("torch")
    for v in ([0.0, 1.0, 0.0], [0.0, 1.0, 2.0], [3.0, 1.0, 2.0]):
        hs = []
        for m in (tg, torch):
            x = m.tensor(v, dtype=m.float64, requires_grad=True)
            (g,) = m.autograd.grad(x.norm(0.5), x, create_graph=True)
            (h,) = m.autograd.grad(g[1], x)
            hs.append(h.numpy())
        ours, theirs = hs
        zero = np.array(v) == 0
        np.testing.assert_allclose(ours[~zero], theirs[~zero], rtol=1e-12)
        assert np.isnan(theirs[zero]).all() and np.isnan(ours[zero]).all()


def _accumulate_hook_cases(L):
    out = []
    x = L.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.grad_fn.next_functions[0][0].register_prehook(lambda go: (go[0] + 100,))
    x.register_hook(lambda g: g * 2)  # tensor hooks run first, then the node's pre-hooks
    y.sum().backward()
    out.append(x.grad.tolist())
    x = L.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.grad_fn.next_functions[0][0].register_prehook(lambda go: (go[0] * 10,))
    out.append(L.autograd.grad(y.sum(), [x], retain_graph=True)[0].tolist())  # no AccumulateGrad
    y.sum().backward(inputs=[x])  # backward(inputs=) does
    out.append(x.grad.tolist())
    x = L.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.grad_fn.register_prehook(lambda go: (None,))  # no gradient: the VJP sends none
    (y.sum() + x.sum()).backward()
    out.append(x.grad.tolist())
    return out


def test_accumulate_grad_pre_hooks_run_where_and_when_pytorchs_do():
    """An outside tester: an AccumulateGrad pre-hook ran before the leaf's tensor hook and inside
    autograd.grad (PyTorch: after it, and not at all), and a pre-hook returning (None,) crashed
    in the VJP."""
    torch = pytest.importorskip("torch")
    assert _accumulate_hook_cases(tg) == _accumulate_hook_cases(torch)
