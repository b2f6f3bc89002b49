"""Drawings: rendered with the real `dot` and parsed as SVG; deterministic DOT text; big graphs;
the CLI with and without Graphviz."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, grad, nn, viz
from tinygrad_cnn.models import LeNet5

SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is missing (the README's test command "
                                      "installs it)")


def svg_texts(svg: bytes | str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def small_cnn():
    x = Tensor(np.random.default_rng(0).standard_normal((2, 1, 8, 8)), name="x")
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(27, 4)).double()
    loss = F.cross_entropy(model(x), np.array([1, 3]))
    return model, x, loss


@needs_dot
def test_forward_graph_of_lenet_renders_with_op_and_parameter_labels():
    svg = viz.lenet5_graph().pipe(format="svg")
    texts = svg_texts(svg)
    joined = "\n".join(texts)
    for label in ("conv2d padding=(2, 2)", "max_pool2d kernel_size=(2, 2) stride=(2, 2)", "relu",
                  "cross_entropy", "conv1.weight", "fc3.bias", "(6, 1, 5, 5)", "(16, 6, 5, 5)",
                  "images", "(2, 1, 28, 28)", "logits", "loss"):
        assert label in joined, label
    assert "conv1" in texts and "fc2" in texts  # module clusters


@needs_dot
def test_backward_graph_has_vjp_nodes_gradient_shapes_and_norms():
    model, x, loss = small_cnn()
    loss.backward(retain_graph=True)
    g = viz.draw(loss, backward=True, show_saved=True)
    texts = "\n".join(svg_texts(g.pipe(format="svg")))
    assert "1. cross_entropy VJP" in texts and "conv2d VJP" in texts and "max_pool2d VJP" in texts
    assert "(3, 1, 3, 3)" in texts and "(2, 27)" in texts  # gradient shapes on the edges
    assert "0.weight" in texts and "‖grad‖ = " in texts
    norm = float(np.linalg.norm(model[0].weight.grad.numpy()))
    assert f"‖grad‖ = {norm:.4g}" in texts
    assert "saved input" in texts or "saved output" in texts
    assert "legend" in texts


def test_backward_graph_runs_in_engine_order():
    model, x, loss = small_cnn()
    src = viz.draw(loss, backward=True).source
    order = [line.split('label="')[1].split(" VJP")[0] for line in src.splitlines()
             if " VJP" in line and 'label="' in line and "legend" not in line]
    assert order[0] == "1. cross_entropy" and order[-1].endswith("conv2d")
    steps = [int(o.split(".")[0]) for o in order]
    assert steps == sorted(steps)


@needs_dot
def test_graph_of_a_gradient_shows_the_backward_computation():
    x = Tensor(np.random.default_rng(0).standard_normal((1, 2, 6, 6)), requires_grad=True)
    w = Tensor(np.random.default_rng(1).standard_normal((3, 2, 3, 3)), requires_grad=True)
    y = F.conv2d(x, w, stride=2, padding=1)
    (gx,) = grad((y * y).sum(), x, create_graph=True)
    texts = "\n".join(svg_texts(viz.draw(gx).pipe(format="svg")))
    assert "conv_transpose2d stride=(2, 2) padding=(1, 1)" in texts
    assert "conv2d stride=(2, 2) padding=(1, 1)" in texts  # y itself feeds the gradient


def _fixed_expression():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="a")
    b = Tensor(np.array([[3.0, 4.0]]), name="b")
    return ((a * b).relu().sum(1) + 1.0).exp()


PINNED = r'''digraph forward {
	fontname=Helvetica fontsize=11 nodesep=0.25 rankdir=TB ranksep=0.35
	node [fontname=Helvetica fontsize=10 height=0.3 margin="0.08,0.03"]
	edge [arrowsize=0.6 fontname=Helvetica fontsize=9]
	op0 [label="expand shape=(1, 2)" fillcolor="#e6e6e6" shape=box style="rounded,filled"]
	t1 [label="{a|(2,)|float64}" fillcolor="#9ecae1" shape=record style=filled]
	t1 -> op0
	t2 [label="{(1, 2)|float64}" fillcolor=white shape=record style=filled]
	op0 -> t2
	op3 [label=mul fillcolor="#e6e6e6" shape=box style="rounded,filled"]
	t2 -> op3
	c4 [label="{b|(1, 2)|float64}" fillcolor="#deebf7" shape=record style=filled]
	c4 -> op3
	t5 [label="{(1, 2)|float64}" fillcolor=white shape=record style=filled]
	op3 -> t5
	op6 [label=relu fillcolor="#e6e6e6" shape=box style="rounded,filled"]
	t5 -> op6
	t7 [label="{(1, 2)|float64}" fillcolor=white shape=record style=filled]
	op6 -> t7
	op8 [label="sum dim=(1,)" fillcolor="#e6e6e6" shape=box style="rounded,filled"]
	t7 -> op8
	t9 [label="{(1,)|float64}" fillcolor=white shape=record style=filled]
	op8 -> t9
	op10 [label=add fillcolor="#e6e6e6" shape=box style="rounded,filled"]
	t9 -> op10
	c11 [label="{()|float64}" fillcolor="#deebf7" shape=record style=filled]
	c11 -> op10
	t12 [label="{(1,)|float64}" fillcolor=white shape=record style=filled]
	op10 -> t12
	op13 [label=exp fillcolor="#e6e6e6" shape=box style="rounded,filled"]
	t12 -> op13
	t14 [label="{(1,)|float64}" fillcolor="#a1d99b" shape=record style=filled]
	op13 -> t14
}
'''


def test_dot_text_is_deterministic_and_pinned():
    first = viz.draw(_fixed_expression()).source
    second = viz.draw(_fixed_expression()).source
    assert first == second == PINNED
    code = ("import sys; sys.path.insert(0, 'tests'); from test_viz import _fixed_expression; "
            "from tinygrad_cnn import viz; print(viz.draw(_fixed_expression()).source, end='')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(__file__)), check=True)
    assert out.stdout == PINNED


def test_twenty_thousand_op_chain_and_max_nodes():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    full = viz.draw(y).source  # no RecursionError
    assert full.count(" -> ") >= 40_000
    small = viz.draw(y, max_nodes=200).source
    nodes = [ln for ln in small.splitlines() if "[label=" in ln]
    assert 150 <= len(nodes) <= 260
    assert "earlier ops not shown (max_nodes=200)" in small
    assert f"{20_000 - (len(nodes) - 1) // 3:,} earlier ops" in small
    back = viz.draw(y, backward=True, max_nodes=200).source
    assert "not shown" in back


def test_notebook_display_is_svg_or_the_install_line(monkeypatch):
    g = viz.draw(_fixed_expression())
    if shutil.which("dot"):
        bundle = g._repr_mimebundle_()
        assert bundle["image/svg+xml"].lstrip().startswith(("<?xml", "<svg", "<!--"))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    bundle = g._repr_mimebundle_()
    assert "apt-get install graphviz" in bundle["text/plain"] and "digraph" in bundle["text/plain"]
    with pytest.raises(viz.GraphvizNotFound, match="brew install graphviz"):
        viz.render(g, "x.svg")


def test_dot_output_needs_no_graphviz(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    path = viz.render(viz.draw(_fixed_expression()), tmp_path / "g.dot")
    assert path.read_text() == PINNED


def test_bad_arguments():
    with pytest.raises(TypeError, match="not a Tensor"):
        viz.draw(np.ones(2))
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw(_fixed_expression(), rankdir="XY")
    with pytest.raises(ValueError, match="unknown format"):
        viz.render(viz.draw(_fixed_expression()), "g.bmp")


@needs_dot
def test_cli_writes_lenet_svg(tmp_path):
    out = tmp_path / "lenet.svg"
    proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "draw", "--model", "lenet5",
                           "-o", str(out)], capture_output=True, text=True, check=True)
    assert "wrote" in proc.stdout
    assert "conv2.weight" in "\n".join(svg_texts(out.read_bytes()))
    back = tmp_path / "back.svg"
    subprocess.run([sys.executable, "-m", "tinygrad_cnn", "draw", "--backward", "-o", str(back)],
                   check=True, capture_output=True)
    assert "conv2d VJP" in "\n".join(svg_texts(back.read_bytes()))


def test_cli_without_dot_exits_with_the_install_line(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # no dot anywhere on the PATH
    proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "draw", "-o",
                           str(tmp_path / "g.svg")], capture_output=True, text=True, env=env)
    assert proc.returncode != 0
    assert "apt-get install graphviz" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "g.svg").exists()
    ok = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "draw", "-o",
                         str(tmp_path / "g.dot")], capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and (tmp_path / "g.dot").read_text().startswith("digraph")


def test_lenet_parameters_carry_module_paths_in_drawings():
    model = LeNet5()
    logits = model(Tensor(np.zeros((1, 1, 28, 28), np.float32)))
    src = viz.draw(logits).source
    assert "conv1.weight" in src and "cluster_fc1" in src
