"""``add``/``sub`` with ``alpha`` as PyTorch computes them (outside tester t29): alpha takes no
part in the result dtype (a bool result stays bool), an integer alpha past the result's range is
an error, and a float16 result is computed in float32 with alpha rounded to float16 and rounded
once -- bit for bit against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", ["add", "sub"])
@pytest.mark.parametrize("other", ["tensor", "number", "0-d"])
def test_float16_with_alpha_rounds_once_as_pytorch(name, other):
    rng = np.random.default_rng(0)
    a = (rng.random(4000) * 400).astype(np.float16)
    b = (rng.random(4000) * 400).astype(np.float16)
    ob = {"tensor": (tg.tensor(b), torch.tensor(b)), "number": (3.3, 3.3),
          "0-d": (tg.tensor(b[0]), torch.tensor(b[0]))}[other]
    ours = getattr(tg, name)(tg.tensor(a), ob[0], alpha=1.2348).numpy()
    theirs = getattr(torch, name)(torch.tensor(a), ob[1], alpha=1.2348).numpy()
    assert ours.dtype == np.float16
    # (a 0-d operand: PyTorch's vector loop fuses the multiply-add, 1 ulp in a few of 4000)
    assert (ours != theirs).sum() <= (8 if other == "0-d" else 0)
    x, y = tg.tensor(a.copy()), torch.tensor(a.copy())
    getattr(x, name + "_")(ob[0], alpha=1.2348)
    getattr(y, name + "_")(ob[1], alpha=1.2348)
    assert x.dtype == np.float16 and (x.numpy() != y.numpy()).sum() <= (8 if other == "0-d" else 0)


def test_float16_with_alpha_keeps_its_gradients():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = tg.tensor([3.0, 4.0], requires_grad=True)
    tg.sub(x.half(), y.half(), alpha=2.5).float().sum().backward()
    assert x.grad.tolist() == [1.0, 1.0] and y.grad.tolist() == [-2.5, -2.5]


def test_alpha_takes_no_part_in_the_dtype():
    for alpha in (2, 0):
        for L in (tg, torch):
            t, u = L.tensor([True, False]), L.tensor([True, True])
            out, inplace = L.add(t, u, alpha=alpha), t.clone().add_(u, alpha=alpha)
            assert str(out.dtype).endswith("bool") and str(inplace.dtype).endswith("bool")
        assert tg.add(tg.tensor([True, False]), tg.tensor([True, True]), alpha=alpha).tolist() \
            == torch.add(torch.tensor([True, False]), torch.tensor([True, True]),
                         alpha=alpha).tolist()


def test_integer_alpha_past_the_result_range_is_an_error():
    with pytest.raises(RuntimeError):
        torch.add(torch.tensor([1], dtype=torch.int8), torch.tensor([1], dtype=torch.int8),
                  alpha=300)
    with pytest.raises(RuntimeError, match="add: alpha=300 cannot be converted to the result's int8"):
        tg.add(tg.tensor([1], dtype=tg.int8), tg.tensor([1], dtype=tg.int8), alpha=300)
    assert tg.add(tg.tensor([1], dtype=tg.int8), tg.tensor([1], dtype=tg.int8),
                  alpha=-128).tolist() == [-127]


def test_without_alpha_a_0d_operand_is_still_rounded_to_half_first():
    for name in ("add", "sub"):
        for L in (tg, torch):
            h = L.tensor([-65504.0], dtype=L.float16)
            v = L.tensor(65519.0 if name == "add" else -65519.0)
            out = getattr(L, name)(h, v)
            getattr(h, name + "_")(v)
            assert out.tolist() == h.tolist() == [0.0], (L.__name__, name)
