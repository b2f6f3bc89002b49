"""lerp, quantile and diff against PyTorch: what an outside tester (reductions and statistics,
eleventh session) found -- float lerp one rounding off PyTorch's fused multiply-add (and so
float32 quantile in ~6% of cases), ``diff(n=0)`` joining prepend/append on."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("tensor_weight", [False, True])
def test_lerp_is_bit_for_bit_pytorch_in_float_and_half(dtype: str, tensor_weight: bool) -> None:
    rng = np.random.default_rng(0)
    s, e = (rng.standard_normal(4000) * rng.choice([1e-3, 1, 100], 4000)).astype(dtype).reshape(2, -1)
    w = rng.uniform(-0.5, 1.5, s.shape)
    ours, theirs = [], []
    for M, out in ((tg, ours), (torch, theirs)):
        weight = M.tensor(w.astype(dtype)) if tensor_weight else 0.7
        out.append(M.lerp(M.tensor(s), M.tensor(e), weight).numpy())
    np.testing.assert_array_equal(ours[0], theirs[0])


def test_lerp_scalar_weight_in_float32_rounds_as_pytorch() -> None:
    a = tg.lerp(tg.tensor([1.0]), tg.tensor([100.0]), 0.7).item()
    b = torch.lerp(torch.tensor([1.0]), torch.tensor([100.0]), 0.7).item()
    assert a == b == pytest.approx(70.3, rel=1e-6)


def test_float32_quantile_is_bit_for_bit_pytorch() -> None:
    rng = np.random.default_rng(1)
    for _ in range(400):
        x = (rng.standard_normal(rng.integers(1, 9)) * rng.choice([1e-3, 1, 100])).astype(np.float32)
        q = float(rng.random())
        for interpolation in ("linear", "midpoint"):
            assert tg.quantile(tg.tensor(x), q, interpolation=interpolation).item() == \
                torch.quantile(torch.tensor(x), q, interpolation=interpolation).item()


@pytest.mark.parametrize("extra", [{"prepend": [0.0]}, {"append": [0.0]},
                                   {"prepend": [0.0], "append": [1.0]}, {}])
def test_diff_of_order_zero_is_the_input(extra: dict) -> None:
    x = [1.0, 4.0, 9.0]
    ours = tg.diff(tg.tensor(x), n=0, **{k: tg.tensor(v) for k, v in extra.items()})
    theirs = torch.diff(torch.tensor(x), n=0, **{k: torch.tensor(v) for k, v in extra.items()})
    assert ours.tolist() == theirs.tolist() == x


def test_diff_with_a_prepend_of_the_wrong_shape_names_diff() -> None:
    with pytest.raises(ValueError, match="diff: prepend and append must match"):
        tg.diff(tg.zeros(3, 4), 1, 1, tg.zeros(2, 2))
