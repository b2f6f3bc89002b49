"""Session 24, porting names (issue 15): memory formats, ``Tensor.shape.numel()``,
``nn.utils.rnn.pad_sequence``/``unpad_sequence``, ``optim.lr_scheduler._LRScheduler`` and
``testing.assert_close`` -- each against PyTorch (the oracle) where it is installed."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
from tinygrad_cnn.nn.utils.rnn import pad_sequence, unpad_sequence
from tinygrad_cnn.testing import assert_close

torch = pytest.importorskip("torch")


# ------------------------------------------------------------------------------ memory formats
@pytest.mark.parametrize("make", [
    lambda m, x: x.contiguous(memory_format=m.channels_last),
    lambda m, x: x.to(memory_format=m.channels_last),
    lambda m, x: x.clone(memory_format=m.channels_last),
    lambda m, x: x.contiguous(memory_format=m.channels_last).clone(),  # preserve_format
    lambda m, x: x.contiguous(memory_format=m.channels_last).contiguous(),
    lambda m, x: x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2),
], ids=["contiguous", "to", "clone", "clone_preserves", "back_to_rows", "permuted"])
def test_channels_last_strides_values_and_gradients_as_pytorch(make):
    a = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    x = tg.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    y, ty = make(tg, x), make(torch, tx)
    assert y.stride() == ty.stride()
    for fmt in ("contiguous_format", "channels_last"):
        assert y.is_contiguous(memory_format=getattr(tg, fmt)) == \
            ty.is_contiguous(memory_format=getattr(torch, fmt))
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    w = np.random.default_rng(1).standard_normal(a.shape)
    (y * tg.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_torch_memory_format_objects_are_accepted_in_ported_code():
    x = tg.randn(2, 3, 4, 5)
    assert x.contiguous(memory_format=torch.channels_last).stride() == \
        torch.randn(2, 3, 4, 5).contiguous(memory_format=torch.channels_last).stride()


def test_module_to_channels_last_lays_out_conv_weights_only():
    tm = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(), torch.nn.Linear(4, 2))
    m = tg.nn.Sequential(tg.nn.Conv2d(3, 4, 3), tg.nn.Flatten(), tg.nn.Linear(4, 2))
    m.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    assert m.to(memory_format=tg.channels_last) is m
    tm.to(memory_format=torch.channels_last)
    for (k, v), (tk, tv) in zip(m.state_dict().items(), tm.state_dict().items()):
        assert k == tk and v.stride() == tv.stride(), k
        np.testing.assert_array_equal(v.numpy(), before[k])
    x = np.random.default_rng(0).standard_normal((2, 3, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(m(tg.tensor(x)).numpy(), tm(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_channels_last_convolution_matches_row_major():
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32), requires_grad=True)
    conv = tg.nn.Conv2d(3, 4, 3, padding=1)
    y0 = conv(x)
    g0 = tg.autograd.grad(y0.sum(), [x, conv.weight])
    conv.to(memory_format=tg.channels_last)
    y1 = conv(x.contiguous(memory_format=tg.channels_last))
    g1 = tg.autograd.grad(y1.sum(), [x, conv.weight])
    np.testing.assert_allclose(y1.numpy(), y0.numpy(), rtol=1e-5, atol=1e-6)
    for a, b in zip(g1, g0):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)


def test_memory_format_errors_name_the_op_and_the_way_out():
    with pytest.raises(RuntimeError, match=r"contiguous: memory_format=channels_last needs a 4-d "
                                           r"tensor .*got a 2-d one"):
        tg.randn(2, 3).contiguous(memory_format=tg.channels_last)
    with pytest.raises(TypeError, match="clone: memory_format must be one of"):
        tg.randn(2, 3).clone(memory_format="channels_last")
    with pytest.raises(RuntimeError, match="preserve_format"):
        tg.randn(2, 3).contiguous(memory_format=tg.preserve_format)
    with pytest.raises(RuntimeError, match="channels_last_3d needs a 5-d"):
        tg.zeros_like(tg.randn(2, 3, 4, 5), memory_format=tg.channels_last_3d)
    assert tg.ones_like(tg.randn(2, 3), memory_format=tg.preserve_format).shape == (2, 3)
    assert repr(tg.channels_last) == "tinygrad_cnn.channels_last"


# ------------------------------------------------------------------------------------- shapes
def test_shape_is_a_size_that_prints_as_a_tuple():
    x = tg.randn(2, 3, 4)
    assert x.shape.numel() == 24 == torch.randn(2, 3, 4).shape.numel()
    assert x.shape == (2, 3, 4) and isinstance(x.shape, tuple)
    assert repr(x.shape) == "(2, 3, 4)" and f"{x.shape}" == "(2, 3, 4)"
    # as torch.Tensor(t.shape): a tensor of that shape; tensor(t.shape): the numbers
    assert tg.Tensor(x.shape).shape == tuple(torch.Tensor(torch.randn(2, 3, 4).shape).shape)
    assert tg.tensor(x.shape).tolist() == [2, 3, 4]
    assert tg.randn(()).shape.numel() == 1 and tg.randn(0, 3).shape.numel() == 0


# ---------------------------------------------------------------------------- pad_sequence
@settings(max_examples=40, deadline=None)
@given(lengths=st.lists(st.integers(0, 5), min_size=1, max_size=4),
       trailing=st.sampled_from([(), (3,), (2, 2)]),
       batch_first=st.booleans(), side=st.sampled_from(["left", "right"]),
       value=st.sampled_from([0.0, -1.5, float("inf")]), seed=st.integers(0, 2**16))
def test_pad_sequence_values_and_gradients_match_pytorch(lengths, trailing, batch_first, side,
                                                         value, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((n, *trailing)) for n in lengths]
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    txs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = pad_sequence(xs, batch_first=batch_first, padding_value=value, padding_side=side)
    ty = torch.nn.utils.rnn.pad_sequence(txs, batch_first=batch_first, padding_value=value,
                                         padding_side=side)
    assert y.shape == tuple(ty.shape) and y.dtype == np.float64
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    w = rng.standard_normal(y.shape)
    (y * tg.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    for x, tx in zip(xs, txs):
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_pad_sequence_takes_the_first_dtype_and_tensor_rows_as_pytorch():
    a, b = np.ones((2, 3), np.float32), np.arange(12).reshape(4, 3)
    y = pad_sequence([tg.tensor(a), tg.tensor(b)])
    ty = torch.nn.utils.rnn.pad_sequence([torch.tensor(a), torch.tensor(b)])
    assert y.dtype == np.float32 and str(ty.dtype) == "torch.float32"
    np.testing.assert_array_equal(y.numpy(), ty.numpy())
    z = np.random.default_rng(0).standard_normal((3, 2, 4))
    np.testing.assert_array_equal(pad_sequence(tg.tensor(z)).numpy(),
                                  torch.nn.utils.rnn.pad_sequence(torch.tensor(z)).numpy())


def test_unpad_sequence_undoes_pad_sequence():
    seqs = [tg.randn(n, 2) for n in (3, 1, 4)]
    for batch_first in (False, True):
        back = unpad_sequence(pad_sequence(seqs, batch_first=batch_first), tg.tensor([3, 1, 4]),
                              batch_first=batch_first)
        for s, b in zip(seqs, back):
            np.testing.assert_array_equal(s.numpy(), b.numpy())


def test_pad_sequence_errors_say_what_to_fix():
    with pytest.raises(ValueError, match="empty list of sequences"):
        pad_sequence([])
    with pytest.raises(ValueError, match=r"sequence 1 has shape \(4, 2\), but sequence 0 has "
                                         r"\(2, 3\)"):
        pad_sequence([tg.ones(2, 3), tg.ones(4, 2)])
    with pytest.raises(ValueError, match="padding_side must be 'left' or 'right'"):
        pad_sequence([tg.ones(2)], padding_side="middle")
    with pytest.raises(ValueError, match="sequence 0 is 0-d"):
        pad_sequence([tg.tensor(1.0)])
    with pytest.raises(TypeError, match="sequence 1 is .*list"):
        pad_sequence([tg.ones(2), [1.0, 2.0]])
    with pytest.raises(AttributeError, match="no packed sequences"):
        tg.nn.utils.rnn.pack_padded_sequence  # noqa: B018


# ----------------------------------------------------------------------------- _LRScheduler
def test_old_scheduler_base_name_subclasses_as_in_pytorch():
    from tinygrad_cnn.optim.lr_scheduler import _LRScheduler

    def make(lib, base):
        class Halving(base):
            def get_lr(self):
                return [g["lr"] * (0.5 if self.last_epoch else 1.0)
                        for g in self.optimizer.param_groups]
        p = lib.zeros(2, requires_grad=True)
        opt = lib.optim.SGD([p], lr=1.0)
        return opt, Halving(opt)

    opt, sched = make(tg, _LRScheduler)
    topt, tsched = make(torch, torch.optim.lr_scheduler._LRScheduler)
    for _ in range(3):
        opt.step(), sched.step(), topt.step(), tsched.step()
        assert opt.param_groups[0]["lr"] == topt.param_groups[0]["lr"]


# ----------------------------------------------------------------------------- assert_close
_values = st.sampled_from([0.0, 1.0, -1.0, 1e-6, 2.5, 1e6, float("inf"), float("-inf"),
                           float("nan")])


def _verdict(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except AssertionError as e:
        return "fail", str(e).splitlines()[0]
    except (TypeError, ValueError) as e:
        return type(e).__name__, ""
    return "ok", ""


@settings(max_examples=150, deadline=None)
@given(a=st.lists(_values, min_size=1, max_size=4), data=st.data(),
       dtype=st.sampled_from(["float16", "float32", "float64", "int64", "bool"]),
       nudge=st.sampled_from([0.0, 1e-8, 1e-6, 1e-4, 1e-2]), equal_nan=st.booleans(),
       tol=st.sampled_from([None, (0.0, 0.0), (1e-3, 1e-5)]))
def test_assert_close_verdicts_match_pytorch(a, data, dtype, nudge, equal_nan, tol):
    e = np.array(a) * (1 + nudge) + data.draw(st.sampled_from([0.0, nudge]))
    with np.errstate(invalid="ignore", over="ignore"):  # (inf, nan cast to int: any value)
        arr_a = np.array(a).astype(dtype) if dtype != "bool" else np.array(a) > 0
        arr_e = e.astype(dtype) if dtype != "bool" else e > 0.5
    kw = {"equal_nan": equal_nan}
    if tol is not None:
        kw.update(rtol=tol[0], atol=tol[1])
    with np.errstate(invalid="ignore"):
        ours = _verdict(assert_close, tg.tensor(arr_a), tg.tensor(arr_e), **kw)
        theirs = _verdict(torch.testing.assert_close, torch.tensor(arr_a), torch.tensor(arr_e),
                          **kw)
    assert ours == theirs, (arr_a, arr_e, kw)


def test_assert_close_messages_and_structures_as_pytorch():
    import re

    def plain(text):  # (torch.Size([2]) -> (2,), torch.float32 -> float32)
        text = re.sub(r"torch\.Size\(\[(\d+)\]\)", r"(\1,)", text)
        return text.replace("torch.", "")

    def both(a, e, **kw):
        def conv(lib, v):
            return lib.tensor(v) if isinstance(v, np.ndarray) else v

        got = []
        for lib, fn in ((tg, assert_close), (torch, torch.testing.assert_close)):
            try:
                fn(conv(lib, a), conv(lib, e), **kw)
                got.append("ok")
            except (AssertionError, TypeError, ValueError) as exc:
                text = plain(str(exc))
                got.append((type(exc).__name__, text.splitlines()[0],
                            text.splitlines()[-1] if "item" in text else ""))
        assert got[0] == got[1], got
        return got[0]

    both(np.array([1.0, 2, 3]), np.array([1.0, 2.5, 3]))
    both(np.array([1.0, 2]), np.array([1.0, 2, 3]))  # shape
    both(np.array([1.0, 2], np.float32), np.array([1.0, 2]))  # dtype
    both(np.array([1.0, 2], np.float32), np.array([1.0, 2]), check_dtype=False)
    both(1.0, 1.5)
    both(1, 1.0)
    both([1.0, 2.0], [1.0, 2.5])
    both({"a": 1.0, "b": 2.0}, {"a": 1.0, "b": 3.0})
    both(np.array([1.0]), np.array([1.0]), rtol=1e-3)
    both(np.array([1, 2]), np.array([1, 3]))
    both(np.array([1.0]), np.array([2.0]), msg="custom")
    with pytest.raises(TypeError, match="wrap one side"):
        assert_close(tg.tensor([1.0]), np.array([1.0]))
    with pytest.raises(AssertionError, match="Greatest absolute difference: 0.5 at index "
                                             r"\(1, 0\) \(up to 1e-05 allowed\)"):
        assert_close(tg.tensor([[1.0], [2.0]]), tg.tensor([[1.0], [2.5]]))
    with pytest.raises(AssertionError, match="^wrapped: Tensor-likes"):
        assert_close(tg.tensor([1.0]), tg.tensor([2.0]), msg=lambda m: "wrapped: " + m)


def test_assert_close_needs_no_hypothesis():
    import subprocess
    import sys

    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "from tinygrad_cnn.testing import assert_close\n"
            "import tinygrad_cnn as tg\n"
            "assert_close(tg.tensor([1.0]), tg.tensor([1.0]))\n"
            "try:\n    from tinygrad_cnn.testing import check_function\n"
            "except ImportError as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "needs Hypothesis: pip install hypothesis" in done.stdout


# ------------------------------------------------------------------ missing names, imported
@pytest.mark.parametrize("module, name, advice", [
    ("tinygrad_cnn.nn", "LSTM", "unroll the recurrence"),
    ("tinygrad_cnn.nn.utils.rnn", "pack_padded_sequence", "pad with pad_sequence"),
    ("tinygrad_cnn.nn.functional", "grid_sample", "not implemented"),
    ("tinygrad_cnn", "compile", "delete `model = torch.compile(model)`"),
])
def test_from_import_of_a_missing_pytorch_name_keeps_the_advice(module, name, advice):
    """``from torch.nn import LSTM`` ported: Python turns the AttributeError into a bare "cannot
    import name"; the ImportError now says what to do instead, and attribute access and hasattr
    are as before."""
    import importlib

    with pytest.raises(ImportError, match=f"cannot import name '{name}' from '{module}'.*"
                                          f"{advice[:12]}"):
        exec(f"from {module} import {name}", {})
    mod = importlib.import_module(module)
    assert not hasattr(mod, name)
    with pytest.raises(AttributeError, match="PyTorch's"):
        getattr(mod, name)


# ------------------------------------------------------------------- save/load file objects
def test_save_and_load_through_file_objects_as_torch():
    """``torch.save(obj, buffer)`` / ``torch.load(buffer)`` ported (was: TypeError 'file objects
    are not supported')."""
    import io
    import tempfile

    model = tg.nn.Linear(3, 2)
    buf = io.BytesIO()
    tg.save({"model": model.state_dict(), "epoch": 3}, buf)
    buf.seek(0)
    back = tg.load(buf)
    assert back["epoch"] == 3
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(back["model"][k].numpy(), v.numpy())
    with tempfile.TemporaryFile() as f:  # an open file, at a position
        f.write(b"header")
        tg.save([tg.ones(2)], f)
        f.seek(6)
        assert tg.load(f)[0].tolist() == [1.0, 1.0]
    bad = io.BytesIO()
    with pytest.raises(TypeError, match=r"obj\['a'\] is an object"):
        tg.save({"a": object()}, bad)
    assert bad.getvalue() == b""  # nothing written for what cannot be saved
    with pytest.raises(TypeError, match="open it in binary mode"):
        tg.save([tg.ones(1)], io.StringIO())
    with pytest.raises(TypeError, match="open it in binary mode"):
        tg.load(io.StringIO("PK"))
    with pytest.raises(tg.CheckpointError, match="not a valid checkpoint"):
        tg.load(io.BytesIO(buf.getvalue()[:200]))


# ---------------------------------------------------------------------------- swa_utils
def _twin_models(seed=0):
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(),
                             torch.nn.Linear(4, 2)).double()
    m = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.BatchNorm1d(4), tg.nn.ReLU(),
                         tg.nn.Linear(4, 2)).double()
    m.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return m, tm


@pytest.mark.parametrize("how", ["swa", "ema_multi", "ema_fn", "swa_buffers", "ema_buffers"])
def test_averaged_model_follows_pytorch(how):
    """Train two twins with SGD for a few steps, averaging after each: the averaged weights,
    buffers and n_averaged agree with PyTorch's AveragedModel."""
    from torch.optim import swa_utils as theirs

    from tinygrad_cnn.optim import swa_utils as ours

    m, tm = _twin_models()
    kw = {"swa": {}, "ema_multi": {"multi_avg_fn": "get_ema_multi_avg_fn"},
          "ema_fn": {"avg_fn": "get_ema_avg_fn"},
          "swa_buffers": {"use_buffers": True},
          "ema_buffers": {"multi_avg_fn": "get_ema_multi_avg_fn", "use_buffers": True}}[how]

    def make(lib, model):
        args = {k: (getattr(lib, v)(0.8) if isinstance(v, str) else v) for k, v in kw.items()}
        return lib.AveragedModel(model, **args)

    avg, tavg = make(ours, m), make(theirs, tm)
    opt, topt = tg.optim.SGD(m.parameters(), lr=0.1), torch.optim.SGD(tm.parameters(), lr=0.1)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = rng.standard_normal((8, 3))
        loss, tloss = m(tg.tensor(x)).square().mean(), tm(torch.tensor(x)).square().mean()
        opt.zero_grad(), topt.zero_grad()
        loss.backward(), tloss.backward()
        opt.step(), topt.step()
        avg.update_parameters(m)
        tavg.update_parameters(tm)
    assert int(avg.n_averaged.item()) == int(tavg.n_averaged.item()) == 4
    for (k, v), (tk, tv) in zip(avg.state_dict().items(), tavg.state_dict().items()):
        assert k == tk
        np.testing.assert_allclose(v.numpy(), tv.detach().numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=k)
    x = rng.standard_normal((5, 3))
    avg.eval(), tavg.eval()
    np.testing.assert_allclose(avg(tg.tensor(x)).numpy(), tavg(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12)


def test_update_bn_recomputes_statistics_as_pytorch():
    from tinygrad_cnn.optim.swa_utils import update_bn

    m, tm = _twin_models()
    m.eval(), tm.eval()
    rng = np.random.default_rng(1)
    batches = [rng.standard_normal((6, 3)) for _ in range(3)]
    update_bn([(tg.tensor(b), 0) for b in batches], m)
    torch.optim.swa_utils.update_bn([(torch.tensor(b), 0) for b in batches], tm)
    for k in ("1.running_mean", "1.running_var", "1.num_batches_tracked"):
        np.testing.assert_allclose(m.state_dict()[k].numpy(), tm.state_dict()[k].numpy(),
                                   rtol=1e-12)
    assert not m.training and m[1].momentum == tm[1].momentum == 0.1


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 3])
def test_swalr_schedule_as_pytorch(strategy, anneal_epochs):
    from tinygrad_cnn.optim.swa_utils import SWALR

    def run(lib, sched_cls):
        p = lib.zeros(2, requires_grad=True)
        opt = lib.optim.SGD([{"params": [p], "lr": 0.5}, {"params": [], "lr": 0.2}], lr=0.1)
        sched = sched_cls(opt, swa_lr=[0.05, 0.01], anneal_epochs=anneal_epochs,
                          anneal_strategy=strategy)
        lrs = []
        for _ in range(6):
            opt.step()
            sched.step()
            lrs.append([g["lr"] for g in opt.param_groups])
        return lrs

    np.testing.assert_allclose(run(tg, SWALR), run(torch, torch.optim.swa_utils.SWALR),
                               rtol=1e-12)
    with pytest.raises(ValueError, match="anneal_strategy"):
        SWALR(tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1), 0.01,
              anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs"):
        SWALR(tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1), 0.01, anneal_epochs=-1)


# --------------------------------------------------------------- tester 02: paths and names
def test_pytorch_import_paths_of_ported_code():
    import importlib

    for module, names in {
        "tinygrad_cnn.nn.parameter": ["Parameter"],
        "tinygrad_cnn.utils.data.dataloader": ["DataLoader", "default_collate"],
        "tinygrad_cnn.utils.data.dataset": ["Dataset", "TensorDataset", "random_split"],
        "tinygrad_cnn.utils.data.sampler": ["Sampler", "RandomSampler", "BatchSampler"],
        "tinygrad_cnn.nn.modules.batchnorm": ["_BatchNorm", "BatchNorm2d"],
        "tinygrad_cnn.nn.modules.loss": ["_Loss", "_WeightedLoss", "CrossEntropyLoss"],
        "tinygrad_cnn.nn.modules.conv": ["Conv2d"],
        "tinygrad_cnn.nn.modules.module": ["Module"],
        "tinygrad_cnn.nn.modules.linear": ["Linear", "Identity"],
        "tinygrad_cnn.nn.modules.pooling": ["MaxPool2d"],
    }.items():
        mod = importlib.import_module(module)
        for name in names:
            assert getattr(mod, name) is getattr(tg.nn, name, None) or name.startswith("_") \
                or module.startswith("tinygrad_cnn.utils"), (module, name)
    assert tg.nn.modules.loss._Loss is importlib.import_module("tinygrad_cnn.nn.layers.loss")._Loss
    from tinygrad_cnn.utils.data.dataloader import default_collate
    assert default_collate is tg.utils.data.default_collate
    x = tg.ones(2)
    assert tg.autograd.Variable(x) is x and tg.autograd.Variable(x, requires_grad=True).requires_grad


def test_legacy_tensor_types_as_pytorch():
    cases = [([1, 2], "FloatTensor"), ([2 ** 40 + 1], "LongTensor"), ([1, 0], "BoolTensor"),
             ([3, 255], "ByteTensor"), ([1.5], "DoubleTensor"), ([1, 2], "IntTensor")]
    for data, name in cases:
        ours, theirs = getattr(tg, name)(data), getattr(torch, name)(data)
        assert ours.tolist() == theirs.tolist() and ours.type() == "tinygrad_cnn." + name
        assert isinstance(ours, getattr(tg, name))
        assert name == "DoubleTensor" or not isinstance(ours.double(), getattr(tg, name))
    assert tg.FloatTensor(2, 3).shape == tuple(torch.FloatTensor(2, 3).shape)
    assert tg.FloatTensor(tg.zeros(4, 1).shape).shape == (4, 1)
    assert tg.FloatTensor().shape == (0,)
    x = tg.tensor([1.7, -2.2])
    assert x.type(tg.LongTensor).tolist() == torch.tensor([1.7, -2.2]).type(
        torch.LongTensor).tolist()
    assert x.type(torch.DoubleTensor).dtype == np.float64  # (torch's type, in ported code)
    assert isinstance(x.dtype, tg.dtype)
    with pytest.raises(TypeError, match="give the data"):
        tg.FloatTensor(2, "a")


def test_size_slices_and_sums_stay_sizes():
    x, tx = tg.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    assert x.shape[1:].numel() == tx.shape[1:].numel() == 12
    assert x.size()[1:].numel() == 12 and repr(x.size()[1:]) == "Size([3, 4])"
    assert (x.shape + (5,)).numel() == 120 and ((1,) + x.shape).numel() == 24
    assert x.shape[0] == 2 and x.shape[-1] == 4 and x.shape[::2] == (2, 4)
    assert x.view(-1, x.shape[1:].numel()).shape == (2, 12)


def test_missing_neighbours_say_what_to_do():
    for obj, name, words in [(tg.nn, "GRUCell", "unroll"), (tg.nn, "TransformerEncoder", "stack"),
                             (tg.nn, "MaxPool3d", "3-d"), (tg.nn, "LazyLinear", "input size"),
                             (tg.nn.functional, "max_pool3d", "3-d"),
                             (tg, "jit", "TorchScript"),
                             (tg, "multiprocessing", "numpy"),
                             (tg.nn.Linear(2, 2), "compile", "delete"),
                             (tg.nn.Linear(2, 2), "bfloat16", "half")]:
        with pytest.raises(AttributeError, match=words):
            getattr(obj, name)
    assert tg.distributed.is_available() is False and tg.distributed.is_initialized() is False
    with pytest.raises(AttributeError, match="is_available"):
        tg.distributed.init_process_group  # noqa: B018


def test_deprecated_upsample_aliases_as_pytorch():
    import warnings

    a = np.random.default_rng(0).standard_normal((1, 2, 3, 4))
    for name, kw in [("upsample", {"scale_factor": 2, "mode": "bilinear"}),
                     ("upsample_nearest", {"scale_factor": 2}),
                     ("upsample_bilinear", {"size": (5, 7)})]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = getattr(tg.nn.functional, name)(tg.tensor(a), **kw).numpy()
            theirs = getattr(torch.nn.functional, name)(torch.tensor(a), **kw).numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-12)
        with pytest.warns(UserWarning, match="deprecated"):
            getattr(tg.nn.functional, name)(tg.tensor(a), **kw)


# ------------------------------------------------------- top-level aliases and odds and ends
def _both(fn, *arrays, grad=True):
    """fn(lib, *tensors) in both libraries from the same float64 arrays: values and gradients."""
    outs = []
    for lib in (tg, torch):
        xs = [lib.tensor(a, requires_grad=grad) for a in arrays]
        y = fn(lib, *xs)
        y = y[0] if isinstance(y, tuple) else y
        grads = None
        if grad and y.requires_grad:
            w = np.random.default_rng(9).standard_normal(tuple(y.shape))
            (y * lib.tensor(w)).sum().backward()
            grads = [None if x.grad is None else x.grad.numpy() for x in xs]
        outs.append((y.detach().numpy(), grads))
    (a, ga), (b, gb) = outs
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for u, v in zip(ga or [], gb or []):
        assert (u is None) == (v is None)
        if u is not None:
            np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)


_R = np.random.default_rng(3)
_IMG, _W = _R.standard_normal((2, 4, 5, 6)), _R.standard_normal((3, 4, 3, 3))


@pytest.mark.parametrize("fn, arrays", [
    (lambda L, x, w: L.conv2d(x, w, None, 1, 1), (_IMG, _W)),
    (lambda L, x: L.max_pool2d(x, 2), (_IMG,)),
    (lambda L, x: L.max_pool2d(x, (2, 3), (1, 2), 1), (_IMG,)),
    (lambda L, x: L.max_pool1d(x[0], 2), (_IMG,)),
    (lambda L, x: L.adaptive_max_pool1d(x[0], 3), (_IMG,)),
    (lambda L, x: L.avg_pool1d(x[0], 2), (_IMG,)),
    (lambda L, x: L.pixel_shuffle(x, 2), (_IMG,)),
    (lambda L, x: L.cosine_similarity(x, x * 2 + 1), (_IMG,)),
    (lambda L, x: L.layer_norm(x, (5, 6)), (_IMG,)),
    (lambda L, x: L.group_norm(x, 2), (_IMG,)),
    (lambda L, x: L.batch_norm(x, None, None, None, None, True, 0.1, 1e-5, True), (_IMG,)),
    (lambda L, x, w: L.embedding(w[0, 0], L.tensor([[0, 2], [1, 1]])), (_IMG, _W)),
    (lambda L, x: L.dropout(x, 0.5, False), (_IMG,)),
    (lambda L, x: L.threshold(x, 0.1, -1.0), (_IMG,)),
    (lambda L, x: L.row_stack([x[0, 0], x[1, 0]]), (_IMG,)),
    (lambda L, x: L.matrix_power(x[:, :, :5, :5], 3), (_IMG,)),
    (lambda L, x: L.linalg.matrix_power(x[:, :, :5, :5], -2), (_IMG,)),
    (lambda L, x: x.renorm(2, 1, 3.0), (_IMG,)),
    (lambda L, x: L.relu_(x * 1), (_IMG,)),
    (lambda L, x: L.sigmoid_(x * 1), (_IMG,)),
], ids=["conv2d", "max_pool2d", "max_pool2d_args", "max_pool1d", "adaptive_max_pool1d",
        "avg_pool1d", "pixel_shuffle", "cosine_similarity", "layer_norm", "group_norm",
        "batch_norm", "embedding", "dropout_eval", "threshold", "row_stack", "matrix_power",
        "linalg_matrix_power", "renorm", "relu_", "sigmoid_"])
def test_top_level_aliases_as_pytorch(fn, arrays):
    _both(fn, *arrays)


def test_tensor_odds_and_ends_as_pytorch():
    x, tx = tg.tensor([[1.5, -2.0]]), torch.tensor([[1.5, -2.0]])
    assert x.pin_memory() is x and x.share_memory_() is x and not x.is_pinned()
    assert x.is_same_size(tg.zeros(1, 2)) and not x.is_same_size(tg.zeros(2))
    assert tg.tensor([3.0]).is_nonzero() == torch.tensor([3.0]).is_nonzero()
    assert tg.tensor(0.0).is_nonzero() == torch.tensor(0.0).is_nonzero()
    with pytest.raises(RuntimeError, match="ambiguous"):
        x.is_nonzero()
    assert not x.is_inference()
    assert x.clone().fix_().tolist() == tx.clone().fix_().tolist()
    assert tg.matrix_power(tg.zeros(2, 2), 0).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    a = tg.asarray(np.arange(3.0))
    assert a.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(TypeError, match="matrix_power: n must be an int"):
        tg.ones(2, 2).matrix_power(1.5)


def test_init_dirac_and_deprecated_names_as_pytorch():
    for shape, groups in [((4, 2, 3, 3), 2), ((3, 5, 3), 1), ((2, 2, 1, 3, 3), 1)]:
        w, tw = tg.zeros(*shape), torch.zeros(*shape)
        tg.nn.init.dirac_(w, groups)
        torch.nn.init.dirac_(tw, groups)
        np.testing.assert_array_equal(w.numpy(), tw.numpy())
    with pytest.raises(ValueError, match="3, 4 or 5 dimensions"):
        tg.nn.init.dirac_(tg.zeros(2, 2))
    w = tg.zeros(3, 4)
    with pytest.warns(FutureWarning, match="xavier_uniform is now deprecated"):
        tg.nn.init.xavier_uniform(w)
    assert float(w.abs().sum()) > 0
    with pytest.warns(FutureWarning, match="constant is now deprecated"):
        tg.nn.init.constant(w, 2.0)
    assert w.tolist() == [[2.0] * 4] * 3


# ------------------------------------------------- a forward ported from PyTorch (tester 02 #1)
def _one_op(body):
    class Op(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return body(x)

        @staticmethod
        def backward(ctx, g):
            return g
    return Op


@pytest.mark.parametrize("body, words", [
    (lambda x: (x - x.mean()) / x.std(), "ddof="),
    (lambda x: x / x.var(0), "ddof="),
    (lambda x: x.repeat(2), "np.tile"),
    (lambda x: x.max(0), "axis="),
    (lambda x: x.min(dim=0), "axis="),
    (lambda x: x.sort(), "np.sort"),
])
def test_forward_methods_whose_numpy_meaning_differs_from_pytorchs_are_refused(body, words):
    """(was: silently numpy's: std of [1, 2, 3, 4] divided by n, repeat interleaved, max(1) the
    values alone, sort in place of the input tensor's memory)"""
    x = tg.tensor([[3.0, 1.0], [2.0, 4.0]], requires_grad=True)
    before = x.tolist()
    with pytest.raises(TypeError, match=words):
        _one_op(body).apply(x)
    assert x.tolist() == before


def test_forward_numpy_code_still_works_and_torch_only_methods_are_named():
    def body(x):
        return (np.sort(x, axis=0) * np.std(x) + np.repeat(x, 1, axis=0) + x.max()
                + x.max(axis=0) + x.std(ddof=1) + x.repeat(1, axis=1))

    x = tg.tensor([[3.0, 1.0], [2.0, 4.0]], requires_grad=True)
    a = x.numpy()
    y = _one_op(body).apply(x)
    np.testing.assert_allclose(y.numpy(), body(a))
    assert type(y._data) is np.ndarray
    with pytest.raises(AttributeError, match="forward receives numpy arrays.*np.clip"):
        _one_op(lambda t: t.clamp(0, 1)).apply(x)

    class Saves(tg.autograd.Function):  # (saved, marked and ctx-kept arrays are plain again)
        @staticmethod
        def forward(ctx, t):
            ctx.mask = t > 2
            ctx.save_for_backward(t)
            out = t * 2
            idx = np.argmax(t, axis=0)
            ctx.mark_non_differentiable(idx)
            return out, idx

        @staticmethod
        def backward(ctx, g, gi):
            (t,) = ctx.saved_tensors
            assert type(t._data) is np.ndarray and type(ctx.mask) is np.ndarray
            return g * 2

    out, idx = Saves.apply(x)
    assert not idx.requires_grad and type(idx._data) is np.ndarray
    out.sum().backward()
    assert x.grad.tolist() == [[2.0, 2.0], [2.0, 2.0]]
