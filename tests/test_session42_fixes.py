"""Session 42: the normalisation layers as one op each, and what an outside tester (t178) found in
them, each against PyTorch.

``batch_norm``, ``layer_norm``, ``group_norm`` and ``instance_norm`` record normalize and affine as
one node (PyTorch's native ops do); their values, gradients of every order, result layouts and
running statistics must be those of PyTorch, as the two-op graph's were.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.autograd import _collect

torch = pytest.importorskip("torch")
F = tg.nn.functional
TF = torch.nn.functional

_LAYERS: dict[str, tuple[Callable[..., Any], tuple[tuple[int, ...], ...]]] = {
    "batch_norm": (lambda m, x, w, b: m.batch_norm(x, None, None, w, b, training=True),
                   ((3, 4, 3, 5), (4,), (4,))),
    "layer_norm": (lambda m, x, w, b: m.layer_norm(x, (3, 5), w, b), ((3, 4, 3, 5), (3, 5), (3, 5))),
    "group_norm": (lambda m, x, w, b: m.group_norm(x, 2, w, b), ((3, 4, 3, 5), (4,), (4,))),
    "instance_norm": (lambda m, x, w, b: m.instance_norm(x, weight=w, bias=b),
                      ((3, 4, 3, 5), (4,), (4,))),
}
_LAYOUTS: dict[str, Callable[[Any, Any], Any]] = {
    "c": lambda m, x: x,
    "channels_last": lambda m, x: x.contiguous(memory_format=m.channels_last),
    "transposed": lambda m, x: x.transpose(2, 3).contiguous().transpose(2, 3),
}


def _pair(arrays: list[np.ndarray]) -> tuple[list[Any], list[Any]]:
    return ([tg.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def _contiguity(m: Any, t: Any) -> tuple[bool, bool]:
    return t.is_contiguous(), t.is_contiguous(memory_format=m.channels_last)


@pytest.mark.parametrize("layout", sorted(_LAYOUTS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", sorted(_LAYERS))
def test_each_layer_is_one_node_and_gives_pytorchs_values_gradients_and_layout(op, dtype, layout):
    fn, shapes = _LAYERS[op]
    rng = np.random.default_rng(len(op) + len(layout))
    arrays = [(rng.standard_normal(s) * 2 + 0.5).astype(dtype) for s in shapes]
    ours, theirs = _pair(arrays)
    y = fn(F, _LAYOUTS[layout](tg, ours[0]), *ours[1:])
    yt = fn(TF, _LAYOUTS[layout](torch, theirs[0]), *theirs[1:])
    assert y.grad_fn.fn.name == op
    nodes = [n.fn.name for n in _collect([y.grad_fn])]  # (and the layout's copies)
    assert nodes[0] == op and nodes.count(op) == 1 and "normalize" not in nodes and \
        "affine" not in nodes
    assert _contiguity(tg, y) == _contiguity(torch, yt)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), **tol)
    g = rng.standard_normal(y.shape).astype(dtype)
    # first order, then a second derivative through create_graph
    grads = tg.autograd.grad(y, ours, tg.tensor(g), create_graph=True)
    grads_t = torch.autograd.grad(yt, theirs, torch.tensor(g), create_graph=True)
    for a, b in zip(grads, grads_t):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), **tol)
    sum(ga.square().sum() for ga in grads).backward()
    sum(gb.square().sum() for gb in grads_t).backward()
    for a, b in zip(ours, theirs):
        if a.grad is None or b.grad is None:  # (bias: its gradient's gradient is none)
            assert a.grad is None and (b.grad is None or not b.grad.any())
            continue
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-3 if dtype ==
                                   "float32" else 1e-8, atol=1e-3 if dtype == "float32" else 1e-9)


@pytest.mark.parametrize("op", sorted(_LAYERS))
def test_each_layer_passes_gradcheck_and_gradgradcheck(op):
    fn, shapes = _LAYERS[op]
    rng = np.random.default_rng(1)
    ts = [tg.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    assert tg.gradcheck(lambda *a: fn(F, *a), ts)
    assert tg.gradgradcheck(lambda *a: fn(F, *a), ts)


def test_without_weight_and_bias_the_layer_is_normalize_and_in_eval_mode_affine():
    x = tg.randn(2, 4, 3, requires_grad=True)
    assert F.layer_norm(x, (3,)).grad_fn.fn.name == "normalize"
    assert F.batch_norm(x, None, None, training=True).grad_fn.fn.name == "normalize"
    assert F.group_norm(x, 2).grad_fn.fn.name == "group_norm"  # (one node, not two reshapes)
    w = tg.ones(4, requires_grad=True)
    assert F.batch_norm(x, tg.zeros(4), tg.ones(4), w).grad_fn.fn.name == "affine"


def test_the_layer_op_keeps_running_statistics_as_pytorch():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 3, 4)).astype(np.float32) * 3 + 1
    bn, bnt = tg.nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    inn = tg.nn.InstanceNorm1d(3, affine=True, track_running_stats=True)
    innt = torch.nn.InstanceNorm1d(3, affine=True, track_running_stats=True)
    for ours, theirs in ((bn, bnt), (inn, innt)):
        for _ in range(3):
            ours(tg.tensor(x)).sum().backward()
            theirs(torch.tensor(x)).sum().backward()
        np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), 1e-6)
        np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), 1e-6)
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), 1e-5,
                                   1e-5)


# ------------------------------------------------------------------ t178's findings
@pytest.mark.parametrize("call", [
    lambda m, x, rm, rv: m.nn.functional.batch_norm(x, rm, rv, m.ones(3), None, True),
    lambda m, x, rm, rv: m.nn.functional.batch_norm(x, rm, rv, None, m.ones(5), True),
    lambda m, x, rm, rv: m.nn.functional.instance_norm(x.reshape(5, 4, 1).expand(5, 4, 2), rm, rv,
                                                       m.ones(3)),
    lambda m, x, rm, rv: m.nn.functional.instance_norm(x.reshape(5, 4, 1).expand(5, 4, 2), rm,
                                                       m.ones(3)),
], ids=["bn_weight", "bn_bias", "in_weight", "in_running_var"])
def test_a_call_that_raises_leaves_the_running_statistics_alone(call):
    """t178: the running statistics moved before the weight, bias or running_var was refused
    (and instance_norm's wrong-size running_var gave numpy's reshape error)."""
    x = np.random.default_rng(3).standard_normal((5, 4)).astype(np.float32)
    with pytest.raises(RuntimeError):
        call(torch, torch.tensor(x), torch.zeros(4), torch.ones(4))
    rm, rv = tg.zeros(4), tg.ones(4)
    with pytest.raises(RuntimeError) as err:
        call(tg, tg.tensor(x), rm, rv)
    assert "reshape" not in str(err.value)
    assert (rm.numpy() == 0).all() and (rv.numpy() == 1).all()


@pytest.mark.parametrize("call", [
    lambda m, x: m.nn.functional.group_norm(x, 2, m.ones(4, 1)),
    lambda m, x: m.nn.functional.group_norm(x, 2, m.ones(4), m.ones(1, 4)),
    lambda m, x: m.nn.functional.instance_norm(x, weight=m.ones(1, 4)),
    lambda m, x: m.nn.functional.instance_norm(x, m.zeros(3), m.ones(3)),
    lambda m, x: m.nn.functional.layer_norm(x, (5,), m.ones(1, 5)),
], ids=["gn_weight_2d", "gn_bias_2d", "in_weight_2d", "in_running_3", "ln_weight_2d"])
def test_parameters_of_the_wrong_shape_are_refused_as_pytorch(call):
    x = np.random.default_rng(4).standard_normal((2, 4, 5)).astype(np.float32)
    with pytest.raises(RuntimeError):
        call(torch, torch.tensor(x))
    with pytest.raises(RuntimeError) as err:
        call(tg, tg.tensor(x))
    assert "must have" in str(err.value)


def test_batch_norm_takes_a_weight_of_c_elements_in_any_shape_as_pytorch():
    x = np.random.default_rng(5).standard_normal((2, 4, 5)).astype(np.float32)
    w = np.arange(1, 5, dtype=np.float32).reshape(1, 4)
    y = F.batch_norm(tg.tensor(x), None, None, tg.tensor(w), None, True)
    yt = TF.batch_norm(torch.tensor(x), None, None, torch.tensor(w), None, True)
    np.testing.assert_allclose(y.numpy(), yt.numpy(), 1e-5, 1e-6)


def test_normalized_shape_of_floats_is_a_type_error_as_pytorch():
    x = tg.randn(2, 4, 5)
    with pytest.raises(TypeError):
        TF.layer_norm(torch.randn(2, 4, 5), (5.0,))
    for shape in ((5.0,), [4, 5.0], "5", None):
        with pytest.raises(TypeError, match="normalized_shape"):
            F.layer_norm(x, shape)
        with pytest.raises(TypeError, match="normalized_shape"):
            F.rms_norm(x, shape)
    assert F.layer_norm(x, [np.int64(5)]).shape == (2, 4, 5)
    assert F.layer_norm(x, np.array([4, 5])).shape == (2, 4, 5)


def test_group_norm_module_without_affine_ignores_num_channels_as_pytorch():
    x = np.random.default_rng(6).standard_normal((2, 4, 5)).astype(np.float32)
    y = tg.nn.GroupNorm(2, 6, affine=False)(tg.tensor(x))
    yt = torch.nn.GroupNorm(2, 6, affine=False)(torch.tensor(x))
    np.testing.assert_allclose(y.numpy(), yt.numpy(), 1e-5, 1e-6)
    with pytest.raises(RuntimeError, match="GroupNorm"):
        tg.nn.GroupNorm(2, 6)(tg.tensor(x))


@pytest.mark.parametrize("call", [
    lambda m, x: m.nn.functional.layer_norm(x, (5,), m.ones(5, dtype=m.float64)),
    lambda m, x: m.nn.functional.group_norm(x, 2, m.ones(4, dtype=m.float64)),
    lambda m, x: m.nn.functional.batch_norm(x, m.zeros(4, dtype=m.float64),
                                            m.ones(4, dtype=m.float64)),
    lambda m, x: m.nn.BatchNorm1d(4)(x.double()),
    lambda m, x: m.nn.BatchNorm1d(3)(x),
    lambda m, x: m.nn.InstanceNorm1d(3, track_running_stats=True)(x),
], ids=["ln_dtype", "gn_dtype", "bn_dtype", "module_dtype", "module_channels",
        "instance_channels"])
def test_dtype_and_channel_mismatches_are_runtime_errors_as_pytorch(call):
    """t178: a plain TypeError or ValueError, which a ported ``except RuntimeError`` misses."""
    x = np.random.default_rng(7).standard_normal((2, 4, 5)).astype(np.float32)
    with pytest.raises(RuntimeError):
        call(torch, torch.tensor(x))
    with pytest.raises(RuntimeError):
        call(tg, tg.tensor(x))


def test_eval_batch_norm_of_a_transposed_input_is_c_ordered_as_pytorch():
    x = np.random.default_rng(8).standard_normal((2, 3, 4, 5)).astype(np.float32)
    args = lambda m: (m.zeros(3), m.ones(3), m.ones(3, requires_grad=True))  # noqa: E731
    y = F.batch_norm(tg.tensor(x).transpose(2, 3), *args(tg))
    yt = TF.batch_norm(torch.tensor(x).transpose(2, 3), *args(torch))
    assert y.stride() == yt.stride()
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), 1e-5, 1e-6)


def test_rms_norm_keeps_a_channels_last_input_channels_last_as_pytorch():
    x = np.random.default_rng(9).standard_normal((2, 3, 4, 5)).astype(np.float32)
    w = np.random.default_rng(10).standard_normal((4, 5)).astype(np.float32)
    xo = tg.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    y = F.rms_norm(xo.contiguous(memory_format=tg.channels_last), (4, 5), tg.tensor(w))
    yt = TF.rms_norm(xt.contiguous(memory_format=torch.channels_last), (4, 5), torch.tensor(w))
    assert y.stride() == yt.stride()
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), 1e-5, 1e-6)
    g = np.random.default_rng(11).standard_normal(y.shape).astype(np.float32)
    y.backward(tg.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), 1e-4, 1e-5)


@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_train_refuses_a_data_dir_it_could_not_download_into_before_any_work(tmp_path):
    """t177: ``train --data-dir /proc`` (no MNIST files, nothing can be written there) tried three
    mirrors and exited 1; the README promises a bad argument is one error line and exit 2, with
    nothing written."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "train", "--data-dir", "/proc",
                           "--epochs", "1"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "--data-dir" in errors[0] and "cannot be written" in errors[0]
    assert "download" not in proc.stdout.lower() and list(tmp_path.iterdir()) == []


def test_the_layers_stay_silent_under_a_users_error_filter():
    """As t151's ops: eps=0 over a constant group is 1 / 0 inside, which a user's
    ``simplefilter("error")`` turned into numpy's RuntimeWarning raised (the layer's forward
    called without its op's apply, to read back the statistics); PyTorch is silent."""
    import warnings

    cases = [
        lambda: F.layer_norm(tg.full((2, 4), 3.0), (4,), eps=0),
        lambda: F.layer_norm(tg.full((2, 4), 3.0), (4,), tg.ones(4), eps=0),
        lambda: F.group_norm(tg.full((2, 4), 3.0), 2, eps=0),
        lambda: F.instance_norm(tg.full((2, 4, 3), 3.0), weight=tg.ones(4), eps=0),
        lambda: F.instance_norm(tg.full((2, 4, 3), 3.0), tg.zeros(4), tg.ones(4), eps=0),
        lambda: F.group_norm(tg.full((2, 4), 3.0, requires_grad=True), 2, eps=0).sum().backward(),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for case in cases:
            case()


@pytest.mark.parametrize("call", [
    lambda: tg.ones(1).expand(2**40).contiguous(),
    lambda: tg.ones(2**20, 1) * tg.ones(1, 2**21),
    lambda: tg.einsum("i,j->ij", tg.ones(1).expand(2**31), tg.ones(1).expand(2**31)),
    lambda: tg.ones(2).repeat(2**40),
], ids=["clone", "mul", "einsum_too_big", "repeat"])
def test_a_result_too_large_for_memory_names_the_op_and_is_a_runtime_error(call):
    """numpy's MemoryError (and its "array is too big" ValueError) from inside an op: PyTorch's
    CPU allocator raises a RuntimeError, which a ported ``except RuntimeError`` catches (t172)."""
    with pytest.raises(tg.OutOfMemoryError) as err:
        call()
    assert isinstance(err.value, RuntimeError) and isinstance(err.value, MemoryError)
    assert "not enough memory" in str(err.value) and ":" in str(err.value).split(" ")[0]


def test_backward_with_create_graph_warns_of_the_reference_cycle_once_as_pytorch(monkeypatch):
    """t173: PyTorch warns (once per process) when backward(create_graph=True) puts a gradient
    with a graph into a leaf's .grad; at the user's line. A constant gradient, or grad(), no."""
    import warnings

    import tinygrad_cnn.autograd as autograd

    monkeypatch.setattr(autograd, "_GRAD_CYCLE_WARNED", False)
    x = tg.ones(2, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (x * 2).sum().backward(create_graph=True)  # (the gradient 2: no graph, no cycle)
        tg.autograd.grad((x * x).sum(), x, create_graph=True)
        assert not caught
        (x * x).sum().backward(create_graph=True)
        (x * x).sum().backward(create_graph=True)
    assert len(caught) == 1 and "reference cycle" in str(caught[0].message)
    assert caught[0].category is UserWarning and caught[0].filename == __file__


@pytest.mark.parametrize("make", [
    lambda m: m.nn.BatchNorm2d(3), lambda m: m.nn.BatchNorm2d(3, affine=False),
    lambda m: m.nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
], ids=["bn", "bn_no_affine", "instance"])
def test_running_statistics_under_inference_mode_with_enable_grad_as_pytorch(make):
    """t179: the layer op records no node there, and batch norm read its statistics from the
    node: AttributeError, with num_batches_tracked already counted."""
    x = np.random.default_rng(12).standard_normal((2, 3, 2, 2)).astype(np.float32)
    ours, theirs = make(tg), make(torch)
    with tg.inference_mode(), tg.enable_grad():
        y = ours(tg.tensor(x))
    with torch.inference_mode(), torch.enable_grad():
        yt = theirs(torch.tensor(x))
    assert y.requires_grad == yt.requires_grad
    np.testing.assert_allclose(y.numpy(), yt.numpy(), 1e-5, 1e-6)
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), 1e-6)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), 1e-6)


@pytest.mark.parametrize("call, theirs", [
    (lambda m: m.ones(3, 4).narrow(0, m.tensor(1.0), 1), RuntimeError),
    (lambda m: m.tensor([True, False]).kthvalue(1), NotImplementedError),
    (lambda m: m.tensor([True, False]).topk(1), RuntimeError),
    (lambda m: m.svd(m.ones(2, 2, dtype=m.float16)), NotImplementedError),
    (lambda m: m.linalg.inv(m.ones(2, 2, dtype=m.float16)), RuntimeError),
], ids=["narrow_float_start", "kthvalue_bool", "topk_bool", "svd_half", "inv_half"])
def test_error_classes_a_ported_except_catches_as_pytorchs(call, theirs):
    """t176: PyTorch's RuntimeError or NotImplementedError (a RuntimeError too) where ours was a
    plain TypeError or RuntimeError."""
    with pytest.raises(theirs):
        call(torch)
    with pytest.raises(theirs):
        call(tg)


def test_out_of_memory_in_the_backward_pass_and_factories_names_the_op():
    """t181: a VJP's or a factory's numpy MemoryError was bare (no op named, not a RuntimeError)."""
    w = tg.ones(1, requires_grad=True)
    with pytest.raises(tg.OutOfMemoryError, match="getitem: not enough memory"):
        w.expand(10**6, 10**6)[0, 0].backward()
    assert w.grad is None
    for name, call in [("zeros", lambda: tg.zeros(10**6, 10**6)),
                       ("randn", lambda: tg.randn(10**6, 10**6)),
                       ("eye", lambda: tg.eye(10**6)),
                       ("linspace", lambda: tg.linspace(0, 1, 10**14))]:
        with pytest.raises(tg.OutOfMemoryError, match=f"^{name}: not enough memory"):
            call()
    with pytest.raises(RuntimeError, match="not enough memory"):  # (numpy: "iterator is too large")
        tg.ones(1).expand(2**40, 2**40) + 1


def test_a_users_function_keeps_its_own_memory_and_value_errors():
    """t181: a user's forward raising ValueError("array is too big ...") or MemoryError("mine")
    came back as OutOfMemoryError with another message; PyTorch passes them through."""

    class Raises(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x, error):
            raise error

        @staticmethod
        def backward(ctx, g):
            return g, None

    for error in (ValueError("array is too big; mine"), MemoryError("mine")):
        with pytest.raises(type(error)) as caught:
            Raises.apply(tg.ones(2), error)
        assert type(caught.value) is type(error) and "mine" in str(caught.value)


@pytest.mark.parametrize("shape", ["12", (3, 4.5), [4.9], 4.0, True, (True,), np.True_])
def test_layer_norm_modules_refuse_a_shape_that_is_not_ints_as_pytorch(shape):
    """t181: nn.LayerNorm('12') was (1, 2), (3, 4.5) was (3, 4), True was 1."""
    with pytest.raises(TypeError):
        torch.nn.LayerNorm(shape)
    for make in (tg.nn.LayerNorm, tg.nn.RMSNorm):
        with pytest.raises(TypeError, match="normalized_shape"):
            make(shape)
    with pytest.raises(TypeError, match="normalized_shape"):
        F.layer_norm(tg.ones(2, 4), shape)


def test_normalized_shape_takes_0d_integer_tensors_as_pytorch():
    x = np.random.default_rng(13).standard_normal((2, 4)).astype(np.float32)
    y = F.layer_norm(tg.tensor(x), (tg.tensor(4),))
    yt = TF.layer_norm(torch.tensor(x), (torch.tensor(4),))
    np.testing.assert_allclose(y.numpy(), yt.numpy(), 1e-5, 1e-6)
    assert tg.nn.LayerNorm((tg.tensor(4),)).normalized_shape == (4,)
    assert F.rms_norm(tg.tensor(x), (tg.tensor(4),)).shape == (2, 4)


def test_the_cycle_warning_with_inputs_and_after_grad_is_written(monkeypatch):
    """t181: backward(inputs=[x], create_graph=True) warns in PyTorch too; and under an error
    filter PyTorch has written .grad before the warning raises."""
    import warnings

    import tinygrad_cnn.autograd as autograd

    monkeypatch.setattr(autograd, "_GRAD_CYCLE_WARNED", False)
    x = tg.tensor([1.5, 3.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (x * x).sum().backward(create_graph=True, inputs=[x])
    assert len(caught) == 1
    monkeypatch.setattr(autograd, "_GRAD_CYCLE_WARNED", False)
    y = tg.tensor([1.5, 3.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="reference cycle"):
            (y ** 2).sum().backward(create_graph=True)
    np.testing.assert_array_equal(y.grad.numpy(), [3.0, 6.0])


def test_the_statistics_common_case_is_the_general_way_bit_for_bit():
    """``moments``' fast case (float32/64, C order, last dim reduced) makes the general way's numpy
    calls without its checks: the same bits, special values (inf, NaN, -0, overflowing sums: the
    float64 fallback) included -- the general way is what the fuzzer compares with PyTorch."""
    import warnings

    from tinygrad_cnn.ops import norm

    rng = np.random.default_rng(14)
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e38, -3e38, 1e-45, 65504.0, 1e20]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for trial in range(600):
            dt = (np.float32, np.float64)[trial % 2]
            shape = tuple(int(s) for s in rng.integers(1, 5, rng.integers(1, 4)))
            shape = shape[:-1] + (max(shape[-1], 2),)
            x = (rng.standard_normal(shape) * rng.choice([1, 1e4, 1e30])).astype(dt)
            mask = rng.random(shape) < 0.2
            x[mask] = rng.choice(specials, mask.sum())
            extra = rng.choice(len(shape), rng.integers(0, len(shape)), replace=True)
            dims = tuple(sorted({len(shape) - 1, *map(int, extra)}))
            assert x.flags.c_contiguous and x.shape[-1] > 1 and x.ndim - 1 in dims  # (the fast case)
            ours, general = norm.moments(x, dims), norm._moments(x, dims)
            for a, b in zip(ours, general):
                assert a.dtype == b.dtype and a.shape == b.shape
                assert np.array_equal(a, b, equal_nan=True), (shape, dims, dt)
                assert np.array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize("call", [
    lambda: F.layer_norm(tg.zeros(1, 1).expand(10**6, 10**6), (10**6,)),
    lambda: F.layer_norm(tg.zeros(1, 1).expand(10**6, 10**6), (10**6,), tg.ones(10**6)),
    lambda: F.group_norm(tg.zeros(1, 1, 1).expand(10**3, 10**3, 10**6), 10),
    lambda: F.batch_norm(tg.zeros(1, 1).expand(10**5, 10**6), None, None, training=True),
], ids=["layer_norm", "layer_norm_affine", "group_norm", "batch_norm_train"])
def test_a_norm_over_a_huge_expanded_input_runs_out_of_memory_at_once(call):
    """t182: the statistics were summed over the 10¹² repeats first (minutes), and batch norm's
    forward run for its statistics raised numpy's bare MemoryError; PyTorch fails at once."""
    import time

    start = time.perf_counter()
    with pytest.raises(tg.OutOfMemoryError, match="not enough memory"):
        call()
    assert time.perf_counter() - start < 5


def test_instance_norm_without_spatial_elements_leaves_the_running_statistics_as_pytorch():
    """t182: an input (N, C, 0) moved them (batch norm's empty batch did not)."""
    rm, rv = tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0])
    rmt, rvt = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])
    F.instance_norm(tg.zeros(2, 2, 0), rm, rv)
    TF.instance_norm(torch.zeros(2, 2, 0), rmt, rvt)
    np.testing.assert_array_equal(rm.numpy(), rmt.numpy())
    np.testing.assert_array_equal(rv.numpy(), rvt.numpy())
