"""The second round of outside testers this session (t25-t27): fractional-order norms whose
second derivative went NaN everywhere for one zero element, Taylor checks that saw relu's kink
at 0 only along half of the random directions, fast mode calling a right VJP at a kink wrong,
an animation of a module with a backward pre-hook that crashed, sinc's second derivative at 0,
integer constants rounded in drawings, ``Module.float()`` copying float32 parameters, and
``default_collate`` making float64 of a numpy float32 and Python floats."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, check_grads, nn, viz
from tinygrad_cnn.data import default_collate


@pytest.mark.parametrize("p", [0.5, 1.25, 1.5, 2.5, 3.0])
@pytest.mark.parametrize("vals", [[0.0, 1.0, 2.0], [1.0, -2.0, 3.0], [0.0, 0.0, 1.0]])
def test_norm_hessians_match_pytorch(p, vals):
    torch = pytest.importorskip("torch")
    hessians = []
    for lib in (tg, torch):
        x = lib.tensor(vals, dtype=lib.float64, requires_grad=True)
        grad = tg.grad if lib is tg else torch.autograd.grad
        n = lib.linalg.vector_norm(x, ord=p)
        (g,) = grad(n, [x], create_graph=True)
        rows = [grad(g[i], [x], retain_graph=True)[0] for i in range(3)]
        hessians.append(np.array([r.detach().numpy() if lib is torch else r.numpy() for r in rows]))
    np.testing.assert_allclose(hessians[0], hessians[1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("x", [np.zeros(3), np.array([0.0, 1.5, -2.0])])
def test_taylor_sees_relus_kink_at_zero_for_every_seed(x):
    for seed in range(8):
        r = check_grads(lambda t: t.relu(), (Tensor(x, requires_grad=True),), method="taylor",
                        seed=seed)
        assert not r.ok and r.kind == "not_differentiable", (seed, r.headline)


def test_taylor_looking_left_does_not_call_a_smooth_function_kinked():
    # sigmoid at its (almost linear) inflection point: the left remainders sat just above
    # rounding, with an order of 1.57, and were read as a kink
    r = check_grads(lambda t: t.sigmoid(), (Tensor(np.array([-0.0003289882882441796]),
                                                   requires_grad=True),), method="taylor", seed=2)
    assert r.ok, r.headline
    rng = np.random.default_rng(5)
    for f in (lambda t: t.sigmoid(), lambda t: t.tanh(), lambda t: t.sin(), lambda t: t ** 3):
        for seed in range(4):
            x = rng.standard_normal(int(rng.integers(1, 6))) * 10 ** rng.uniform(-4, 1)
            for point in (x, np.zeros_like(x)):
                r = check_grads(f, (Tensor(point, requires_grad=True),), method="taylor",
                                seed=seed)
                assert r.ok, (seed, point, r.headline)


def test_fast_mode_calls_hardtanh_at_its_bounds_not_differentiable():
    for seed in range(4):
        for v in ([1.0, 0.2, -1.0], [1.0, 0.3, 1.0]):
            for fn in (F.hardtanh, lambda t: t.clamp(-1, 1)):
                r = check_grads(fn, (Tensor(np.array(v), requires_grad=True),), fast_mode=True,
                                seed=seed)
                assert not r.ok and r.kind == "not_differentiable", (seed, v, r.headline)


def test_animate_a_module_with_a_backward_pre_hook():
    m = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    calls = []
    m[1].register_full_backward_pre_hook(lambda mod, go: calls.append(1))
    x = tg.randn(2, 3, requires_grad=True)
    loss = m(x).sum()
    viz.animate(loss)
    assert calls == [] and x.grad is None
    loss.backward()
    assert calls == [1] and x.grad is not None


def test_sinc_second_derivative_at_zero_is_minus_pi_squared_over_three():
    for dtype, v in ((tg.float64, 0.0), (tg.float32, 0.0), (tg.float32, 1e-40)):
        t = tg.tensor([v], dtype=dtype, requires_grad=True)
        (g,) = tg.grad(tg.sinc(t).sum(), [t], create_graph=True)
        (h,) = tg.grad(g.sum(), [t])
        assert tg.sinc(t).item() == 1.0 and abs(g.item()) < 1e-30  # (-π²x/3)
        assert h.item() == pytest.approx(-math.pi ** 2 / 3, rel=1e-6)


def test_integer_constants_keep_their_value_in_labels():
    y = tg.tensor([1.0, 2.0], requires_grad=True)
    assert f"mul(leaf0, {2 ** 60 + 1})" in viz.text(y * (2 ** 60 + 1))


def test_a_cast_to_the_same_dtype_keeps_parameters_and_their_grads():
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        m = lib.nn.Linear(2, 1)
        m(lib.ones(1, 2)).sum().backward()
        data, grad = m.weight.detach(), m.weight.grad
        m.float()
        m.to(lib.float32)
        with lib.no_grad():
            m.weight.mul_(2)
        m(lib.ones(1, 2)).sum().backward()
        np.testing.assert_array_equal(data.numpy(), m.weight.detach().numpy())
        assert grad is m.weight.grad and float(grad.sum()) == pytest.approx(4.0)


def test_default_collate_of_a_numpy_scalar_and_python_numbers_as_pytorch():
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    for batch in ([np.float32(2), 1.0], [np.int64(1), 2.5], [np.float16(1), 1.0],
                  [np.int32(1), 2], [np.float64(1), 2], [np.uint8(3), 300]):
        ours, theirs = default_collate(batch), torch_collate(batch)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), batch
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
