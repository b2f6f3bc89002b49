"""What an outside tester (t22) found the drawing and debugging tools showing wrong: an animation
whose own backward ran the user's hooks and filled retained ``.grad``s (the next real backward
then doubled them), backward drawings showing a stale ``.grad`` (or the zeros of
``zero_grad(set_to_none=False)``) before any backward of the drawn graph, recordings of
``grad()``/``backward(inputs=)`` crediting leaves that got nothing, constants rounded to another
value, anomaly detection per thread (PyTorch's is global), and backward anomalies without the
op's input ranges."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn, viz


def test_animate_runs_no_hooks_and_fills_no_retained_grad():
    torch = pytest.importorskip("torch")
    results = {}
    for lib in (tg, torch):
        calls: list[str] = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.retain_grad()
        y.register_hook(lambda g: calls.append("y"))
        x.register_hook(lambda g: calls.append("x"))
        loss = (y * 3).sum()
        if lib is tg:
            viz.animate(loss)
            assert y.grad is None and calls == []  # the animation changed nothing
        loss.backward()
        results[lib.__name__] = (y.grad.numpy().copy(), x.grad.numpy().copy(), list(calls))
    ours, theirs = results["tinygrad_cnn"], results["torch"]
    np.testing.assert_allclose(ours[0], theirs[0])
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)
    assert ours[2] == theirs[2]


def test_animate_runs_no_module_backward_hook():
    m = nn.Linear(2, 2)
    calls = []
    m.register_full_backward_hook(lambda mod, gi, go: calls.append(1))
    out = m(tg.randn(3, 2, requires_grad=True)).sum()
    viz.animate(out)
    assert calls == []
    out.backward()
    assert calls == [1]


def test_backward_text_before_backward_says_not_computed_not_a_stale_grad():
    m = nn.Linear(2, 1)
    opt = tg.optim.SGD(m.parameters(), lr=0.1)
    x = tg.tensor([[1.0, 2.0]])
    m(x).sum().backward()
    opt.step()
    opt.zero_grad(set_to_none=False)  # .grad holds zeros
    loss = m(x).sum()
    text = viz.text(loss, backward=True)
    assert "‖grad‖ = 0" not in text and "grad = 0" not in text
    assert text.count("grad not computed") == 2
    loss.backward(retain_graph=True)  # now it has run (retained: nothing freed to see it by)
    text = viz.text(loss, backward=True)
    assert "grad not computed" not in text and "‖grad‖ = 2.236" in text

    # a leaf's .grad from another graph is not this graph's gradient
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    w.name = "w"
    (w * 100).sum().backward()
    other = w.exp().sum()
    assert "w       leaf  (2,)   float32  grad not computed" in viz.text(other, backward=True)
    dot = viz.to_dot(other, backward=True) if hasattr(viz, "to_dot") else None
    if dot is not None:
        assert "141.4" not in dot


def test_recorded_grad_with_inputs_credits_only_the_requested_leaves():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    a.name = "a"
    b = tg.tensor([3.0, 4.0], requires_grad=True)
    b.name = "b"
    loss = (a * b).sum() + a.exp().sum()
    with viz.record_gradients(loss):
        loss.backward(inputs=[b], retain_graph=True)
    assert a.grad is None
    text = viz.text(loss, backward=True)
    assert "a       leaf  (2,)   float32  grad not computed" in text
    assert "b       leaf  (2,)   float32  ‖grad‖ = 2.236" in text  # db = a: sqrt(5)
    assert "da +=" not in text  # the exp path never ran: nothing arrived before
    with viz.record_gradients(loss):
        tg.autograd.grad(loss, [a])
    text = viz.text(loss, backward=True)
    assert "b       leaf  (2,)   float32  grad not computed" in text
    expected = np.linalg.norm(np.array([3.0, 4.0]) + np.exp([1.0, 2.0]))
    assert f"a       leaf  (2,)   float32  ‖grad‖ = {expected:.4g}" in text


def test_constants_keep_their_exact_value_in_the_text_form():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.name = "x"
    assert "sub(x, 1.0000001)" in viz.text(x - 1.0000001)
    assert "mul(x, 123456789.0)" in viz.text(x * 123456789.0)
    assert "mul(x, 0.5)" in viz.text(x * 0.5)
    assert "mul(x, 1e+20)" in viz.text(x * 1e20)


def test_detect_anomaly_covers_every_thread_as_pytorchs():
    torch = pytest.importorskip("torch")
    for lib, error in ((tg, tg.autograd.AnomalyError if hasattr(tg.autograd, "AnomalyError")
                        else RuntimeError), (torch, RuntimeError)):
        seen: list[object] = []

        def work(lib=lib):
            seen.append(lib.is_anomaly_enabled())
            y = lib.tensor([0.0, 1.0], requires_grad=True)
            try:
                (y.sqrt() * 0).sum().backward()  # 0 / 0 in sqrt's VJP: NaN
            except RuntimeError as exc:
                seen.append(exc)

        with lib.autograd.detect_anomaly():
            t = threading.Thread(target=work)
            t.start()
            t.join()
        assert seen[0] is True, lib.__name__
        assert len(seen) == 2 and isinstance(seen[1], error), (lib.__name__, seen)
        assert not lib.is_anomaly_enabled()


def test_backward_anomaly_names_the_ops_input_ranges_and_the_gradient_it_got():
    y = tg.tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(RuntimeError) as info, tg.detect_anomaly():
        (y.sqrt() * 3).sum().backward()
    msg = str(info.value)
    assert "sqrt.backward returned NaN or Inf" in msg
    assert "its inputs in the forward: input 0: shape (2,), range [0, 1]" in msg
    assert "the gradient it received: shape (2,), range [3, 3]" in msg
