"""What outside tester t32 found probing this session's own changes, against PyTorch: int/bool
plus float16 with alpha stays float16, alpha past a float dtype's range or a bool operand of sub is
refused, cumsum of a 0-d -0.0 and its gradient along a size-1 dim keep the sign, a parameter may
not hide behind a class attribute, Module.__setstate__ and dir() as PyTorch's, batch_norm's
number arguments and running-statistics checks."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("first", [np.array([1, 2, 3], np.int32), np.array([True, False, True])])
@pytest.mark.parametrize("name", ["add", "sub"])
def test_int_or_bool_with_half_and_alpha_stays_half(first, name):
    h = np.array([1.5, 2.25, -3.0], np.float16)
    if name == "sub" and first.dtype == bool:
        for L in (tg, torch):
            with pytest.raises((TypeError, RuntimeError)):
                L.sub(L.tensor(first), L.tensor(h), alpha=2)
        return
    ours = getattr(tg, name)(tg.tensor(first), tg.tensor(h), alpha=1.1)
    theirs = getattr(torch, name)(torch.tensor(first), torch.tensor(h), alpha=1.1)
    assert ours.dtype == np.float16 and str(theirs.dtype) == "torch.float16"
    # (within one float16 ulp: PyTorch's mixed-dtype loop fuses the multiply-add)
    np.testing.assert_allclose(ours.numpy().astype(np.float32), theirs.numpy(), rtol=2e-3)


def test_alpha_past_the_float_range_and_unsigned_wrap_as_pytorch():
    for L in (tg, torch):
        with pytest.raises(RuntimeError):
            L.add(L.tensor([1.0], dtype=L.float16), L.tensor([1.0], dtype=L.float16), alpha=7e4)
        with pytest.raises(RuntimeError):
            L.add(L.tensor([1.0]), L.tensor([1.0]), alpha=1e39)
        assert L.add(L.tensor([1.0], dtype=L.float16), L.tensor([1.0], dtype=L.float16),
                     alpha=float("inf")).tolist() == [float("inf")]
        assert L.add(L.tensor([1], dtype=L.uint8), L.tensor([1], dtype=L.uint8),
                     alpha=-1).tolist() == [0]
        with pytest.raises(RuntimeError):
            L.add(L.tensor([1], dtype=L.uint8), L.tensor([1], dtype=L.uint8), alpha=-256)


def test_cumsum_of_a_0d_negative_zero_and_its_gradient_keep_the_sign():
    for L in (tg, torch):
        assert np.signbit(L.tensor(-0.0).cumsum(0).item())
        assert not np.signbit(L.tensor([-0.0]).cumsum(0).tolist()[0])
        t = L.tensor([[1.0]], requires_grad=True)
        L.cumsum(t, 0).backward(L.tensor([[-0.0]]))
        assert np.signbit(t.grad.tolist()[0][0]), L.__name__


def test_a_parameter_may_not_hide_behind_a_class_attribute():
    for L in (tg, torch):
        class M(L.nn.Module):
            w = 7

            def __init__(self):
                super().__init__()
                self.w = L.nn.Parameter(L.ones(3))

        with pytest.raises(KeyError, match="attribute 'w' already exists"):
            M()


class _Versioned(tg.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = tg.nn.Linear(2, 2)
        self.seen = 0

    def __setstate__(self, state):
        super().__setstate__(state)
        self.seen += 1


def test_setstate_override_calling_super_works_for_copy_and_pickle():
    m = _Versioned()
    for c in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert c.seen == 1 and c.lin.weight.shape == (2, 2)
        np.testing.assert_array_equal(c.lin.weight.numpy(), m.lin.weight.numpy())


def test_dir_lists_registered_names_as_pytorch():
    for L in (tg, torch):
        lin, seq = L.nn.Linear(2, 3), L.nn.Sequential(L.nn.ReLU())
        assert {"weight", "bias", "forward"} <= set(dir(lin))
        assert "0" not in dir(seq)
    bn = tg.nn.BatchNorm1d(2)
    assert {"running_mean", "running_var", "weight"} <= set(dir(bn))


def test_batch_norm_number_arguments_and_running_statistics():
    x = np.random.default_rng(0).standard_normal((6, 3))
    for L, TF in ((tg, F), (torch, torch.nn.functional)):
        out = TF.batch_norm(L.tensor(x), L.zeros(3, dtype=L.float64), L.ones(3, dtype=L.float64),
                            training=True, momentum=L.tensor(0.5), eps=L.tensor(1e-3))
        assert tuple(out.shape) == (6, 3)
        with pytest.raises((TypeError, RuntimeError)):  # float64 input, float32 statistics
            TF.batch_norm(L.tensor(x), L.zeros(3), L.ones(3), training=True)
        with pytest.raises(ValueError, match="both be None or neither"):
            TF.instance_norm(L.tensor(x[None]), running_mean=L.zeros(6, dtype=L.float64))
