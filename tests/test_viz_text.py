"""The text form of the drawings: pinned for LeNet-5 (forward and backward), the same in a fresh
process, the gradient values it shows checked against the chain rule by hand, ``+=`` where paths
merge, ``not computed`` before any backward, and the graph of a gradient."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_function_api import SplitHalf  # a Function with two outputs
from viz_fixtures import lenet_loss, line_of

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Function, Tensor, grad, viz

GOLDEN = Path(__file__).parent / "golden"
ROOT = Path(__file__).resolve().parents[1]


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("TINYGRAD_CNN_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), (
        f"the text form differs from {path}; if the change is intended, rerun with "
        "TINYGRAD_CNN_UPDATE_GOLDEN=1 and review the diff")


def test_lenet_forward_text_is_pinned():
    _, _, loss = lenet_loss()
    text = viz.text(loss)
    _golden("lenet5_forward.txt", text)
    lines = text.splitlines()
    assert len([ln for ln in lines if ln.startswith(("%", "logits", "loss"))]) == 13
    model_line = f"viz_fixtures.py:{line_of('logits = model(x)')} in lenet_loss"
    assert all(model_line in ln for ln in lines if ln.startswith(("%", "logits")))
    assert f"viz_fixtures.py:{line_of('loss = F.cross_entropy')} in lenet_loss" in lines[-1]


def test_lenet_backward_text_is_pinned_and_says_not_computed():
    _, _, loss = lenet_loss()
    text = viz.text(loss, backward=True)
    _golden("lenet5_backward.txt", text)
    vjps = [ln for ln in text.splitlines() if re.match(r"\d+\.\s", ln)]
    assert len(vjps) == 13 and all("not computed" in ln for ln in vjps)
    assert "‖g‖" not in text and " 0.0" not in text


def test_text_is_the_same_in_a_fresh_process_and_has_no_paths_or_addresses():
    code = ("import sys; sys.path.insert(0, 'tests'); from viz_fixtures import lenet_loss; "
            "from tinygrad_cnn import viz; l = lenet_loss()[2]; "
            "print(viz.text(l) + viz.text(l, backward=True), end='')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         check=True).stdout
    _, _, loss = lenet_loss()
    assert out == viz.text(loss) + viz.text(loss, backward=True)
    assert str(ROOT) not in out and "0x" not in out and "/" not in out.replace(" / ", "")


def test_recorded_backward_text_matches_the_chain_rule():
    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True, name="x")
    w = Tensor(np.array([1.5, 0.5, -0.25]), requires_grad=True, name="w")
    s = (x * w).tanh()
    loss = (s * s).sum()  # s is used twice: its gradients add up
    with viz.record_gradients(loss):
        loss.backward()
    text = viz.text(loss, backward=True)
    sv = np.tanh(x.numpy() * w.numpy())
    gs = 2 * sv  # d(sum s*s)/ds
    lines = text.splitlines()
    mul2 = next(ln for ln in lines if ln.startswith("2."))
    # mul sends s*g to both of its inputs, which are the same tensor: the second one adds
    assert f"d%1 = (3,) ‖g‖ = {np.linalg.norm(sv):.4g}" in mul2
    assert f"d%1 += (3,) ‖g‖ = {np.linalg.norm(sv):.4g}" in mul2
    tanh = next(ln for ln in lines if "tanh VJP" in ln)
    assert f"d%1 (3,) ‖g‖ = {np.linalg.norm(gs):.4g}" in tanh
    gx = gs * (1 - sv ** 2) * w.numpy()
    assert f"‖grad‖ = {np.linalg.norm(gx):.4g}" in text
    np.testing.assert_allclose(x.grad.numpy(), gx)
    assert "gradients recorded" in lines[0]


def test_scalar_gradients_show_their_value():
    a = Tensor(np.array(2.0), requires_grad=True, name="a")
    loss = (a * a * 3.0).exp() * 0.5
    with viz.record_gradients(loss):
        loss.backward()
    text = viz.text(loss, backward=True)
    expected = 0.5 * np.exp(12.0) * 12.0  # d/da 0.5 exp(3 a^2) = 0.5 exp(3a^2) 6a
    assert f"grad = {expected:.4g}" in text
    assert "1.      mul VJP  d%3 () g = 1" in text


def test_text_of_the_graph_of_a_gradient():
    x = Tensor(np.random.default_rng(0).standard_normal((1, 2, 6, 6)), requires_grad=True, name="x")
    w = Tensor(np.random.default_rng(1).standard_normal((3, 2, 3, 3)), requires_grad=True, name="w")
    y = F.conv2d(x, w, stride=2, padding=1)
    (gx,) = grad((y * y).sum(), x, create_graph=True)
    text = viz.text(gx)
    assert "conv_transpose2d(" in text and "stride=(2, 2)" in text
    assert re.search(r"conv2d\(x, w, stride=\(2, 2\), padding=\(1, 1\)\)", text)


def test_text_handles_any_registered_op_and_custom_ones():
    class Twice(Function):
        """y = 2 x. VJP: 2 g."""

        @staticmethod
        def forward(ctx, x, y, flag=False):
            return 2 * x + 0 * y

        @staticmethod
        def backward(ctx, g):
            return 2 * g, None

    a = Tensor(np.ones(2), requires_grad=True, name="a")
    b = Tensor(np.ones(2), name="b")
    out = Twice.apply(a, b, flag=True)
    text = viz.text(out)
    assert "twice(a, b, flag=True)" in text
    back = viz.text(out, backward=True)
    assert "twice VJP" in back and "da = (2,)" in back


def test_text_arguments():
    with pytest.raises(TypeError, match="argument 0"):
        viz.text(np.ones(2))
    leaf = Tensor(np.ones(2), requires_grad=True, name="p")
    assert "0 ops" in viz.text(leaf) and re.search(r"^p +leaf +\(2,\)", viz.text(leaf), re.M)


def test_an_op_with_several_outputs():
    x = Tensor(np.array([1.0, 2.0, 3.0, 4.0]), requires_grad=True, name="x")
    a, b = SplitHalf.apply(x)
    a.name = "a"
    loss = (a.sum() + (b * b).sum()) * 1.0
    text = viz.text(loss)
    assert re.search(r"%0 +split_half\(x\) +\(2,\), \(2,\) +float64, float64", text)
    assert re.search(r"^a +output 0 of %0 +\(2,\) +float64", text, re.M)
    assert re.search(r"^%2 +output 1 of %0 +\(2,\) +float64", text, re.M)
    with viz.record_gradients(loss):
        loss.backward(retain_graph=True)
    back = viz.text(loss, backward=True)
    line = next(ln for ln in back.splitlines() if "split_half VJP" in ln)
    gb = 2 * np.array([9.0, 16.0])  # d(sum b*b)/db
    assert f"da (2,) ‖g‖ = {np.linalg.norm([1.0, 1.0]):.4g}" in line
    assert f"d%2 (2,) ‖g‖ = {np.linalg.norm(gb):.4g}" in line
    assert "output_of" not in back  # the per-output nodes run no VJP: no lines of their own
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 4 * 27, 4 * 64])
    fwd = viz.draw(loss).source
    assert fwd.count('label="output 0"') == 1 and fwd.count('label="output 1"') == 1
    assert "output_of" not in fwd
    bwd = viz.draw(loss, backward=True).source
    assert "output 0: ‖g‖ = " in bwd and "output 1: ‖g‖ = " in bwd and "output_of" not in bwd
    assert "to output 1" in bwd
    anim = viz.animate(loss)
    frame = next(f for f in anim.frames if f["op"] == "split_half")
    assert frame["received"].startswith("output 0: (2,) float64") and "output 1:" in frame["received"]
    assert [f["op"] for f in anim.frames].count("output_of") == 0


def test_cli_writes_the_text_form(tmp_path):
    out = tmp_path / "graph.txt"
    env = dict(os.environ, PATH=str(tmp_path))  # no Graphviz needed
    proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "draw", "-o", str(out)],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert text.startswith("# forward graph of loss: 13 ops")
    assert "conv2d(images, conv1.weight, conv1.bias, padding=(2, 2))" in text
    assert "frozen" not in text and "runpy" not in text  # no user line: no source shown
    back = tmp_path / "back.txt"
    subprocess.run([sys.executable, "-m", "tinygrad_cnn", "draw", "--backward", "-o", str(back)],
                   check=True, capture_output=True, env=env)
    assert "gradients recorded" in back.read_text() and "‖grad‖ = " in back.read_text()


# ------------------------------------------------------------------------------ an eighth outside pass
def test_a_vjp_that_grad_did_not_need_is_marked_not_run():
    """``grad(loss, x)`` runs only the VJPs on paths to x: the others are marked "did not run"
    (not "not computed" for a gradient the previous step did send), and the header says how many
    ran."""
    from tinygrad_cnn import grad

    x = Tensor(np.array([0.5, -1.0]), requires_grad=True, name="x")
    w = Tensor(np.array([2.0, 3.0]), requires_grad=True, name="W")
    loss = (x.exp() * w.sin()).sum()
    with viz.record_gradients(loss):
        grad(loss, x)
    lines = viz.text(loss, backward=True).splitlines()
    assert "4 VJPs in the order backward() runs them (3 ran" in lines[0]
    sin_row = next(r for r in lines if "sin VJP" in r)
    assert "(did not run)" in sin_row and "(not used)" in sin_row and "not computed" not in sin_row
    assert sum("(did not run)" in r for r in lines) == 1


def test_names_with_line_breaks_stay_on_one_line():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="two\nlines\tand tab")
    y = (x * 2).sum()
    for backward in (False, True):
        out = viz.text(y, backward=backward)
        assert "two\\nlines\\tand tab" in out
        assert all("lines" not in line or "two\\n" in line for line in out.splitlines())


def test_show_saved_with_a_custom_function_of_several_outputs():
    """``show_saved`` lists a node's saved arrays; a multi-output Function's context holds
    other attributes too (it crashed on one that had ``shape`` and ``dtype`` attributes but was
    not an array)."""
    from tinygrad_cnn import Function

    class Split2(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * 2, a * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3

    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    dot = viz.draw(Split2.apply(x)[0], backward=True, show_saved=True)
    assert "split2" in dot.source and "{saved a|(2,)|float64}" in dot.source  # named from source


def test_leaves_that_share_a_name_are_told_apart():
    """An outside tester: two leaves named `w` printed as `mul(w, w)`, and a leaf named `%0`
    could not be told from the first op's output: two different graphs printed alike."""
    a = Tensor(np.ones(2), requires_grad=True, name="w")
    b = Tensor(np.ones(2), requires_grad=True, name="w")
    c = Tensor(np.ones(2), requires_grad=True, name="%0")
    forward = viz.text(((a * b) + c).sum())
    # (a name of the user's with %, # or @ -- the marks of the names the form makes -- is
    # quoted: '%0' is the leaf, %0 the first op's output)
    assert "mul(w, w#2)" in forward and "add(%0, '%0')" in forward
    square = viz.text(((a * a) + c).sum())
    assert "mul(w, w)" in square and square != forward
    backward = viz.text(((a * b) + c).sum(), backward=True)
    assert "dw = (2,); dw#2 = (2,)" in backward
