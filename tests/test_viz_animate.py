"""The step-through of backward: one frame per VJP, values that match the engine, ``+=`` where paths
merge, a self-contained page -- and that page driven in a real headless Chromium: the slider and
the buttons change the frame shown."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from browser import Browser, find_chromium
from viz_fixtures import lenet_loss

from tinygrad_cnn import Tensor, viz
from tinygrad_cnn.autograd import _collect

needs_chromium = pytest.mark.skipif(find_chromium() is None,
                                    reason="no chromium (.ci/run and the README's test command "
                                           "install Debian's chromium)")


def test_one_frame_per_backward_node_in_engine_order():
    _, _, loss = lenet_loss()
    anim = viz.animate(loss)
    nodes = _collect([loss.grad_fn])
    assert len(anim) == len(anim.frames) == len(nodes) == 13
    assert [f["op"] for f in anim.frames] == [c.fn.name for c in nodes]
    assert [f["step"] for f in anim.frames] == list(range(1, 14))
    page = anim.html
    assert page.count('class="node"') >= 13 and all(f'id="{f["node"]}"' in page
                                                      for f in anim.frames)
    data = json.loads(re.search(r'<script type="application/json" id="frames">(.*?)</script>',
                                page, re.S).group(1).replace("<\\/", "</"))
    assert data == anim.frames
    assert all(p.grad is None for p in _params(loss))  # animate touches no .grad


def _params(loss):
    return [e for c in _collect([loss.grad_fn]) for e in c.next if isinstance(e, Tensor)]


def test_frames_carry_the_gradients_the_engine_computes():
    model, x, loss = lenet_loss()
    anim = viz.animate(loss)
    loss.backward()
    last = anim.frames[-1]  # conv1's VJP: sends the weight and bias gradients
    assert last["op"] == "conv2d" and last["module"] == "conv1"
    norms = {s["to"]: s["stat"] for s in last["sends"]}
    w = np.linalg.norm(model.conv1.weight.grad.numpy().astype(np.float64))
    assert f"‖g‖ = {w:.4g}" in norms["conv1.weight.grad"]
    assert anim.frames[0]["received"].startswith("() float32, g = 1")
    assert "y = conv2d(x, w) + b" in last["doc"] and "def backward" in last["code"]


def test_merging_paths_are_shown_as_plus_equals():
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True, name="x")
    y = x.exp()
    loss = (y * y.tanh()).sum()  # y reaches the loss along two paths
    anim = viz.animate(loss)
    sends = [(f["op"], s["to"], s["accumulate"]) for f in anim.frames for s in f["sends"]]
    to_y = [s for s in sends if s[1] == "d%0"]
    assert [s[2] for s in to_y] == [False, True]  # the second path adds: +=
    exp = next(f for f in anim.frames if f["op"] == "exp")
    assert "the sum of 2 gradients" in exp["merged"]


def test_page_is_self_contained():
    page = viz.animate(lenet_loss()[2]).html
    assert "<svg" in page or "<pre>" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert "<!DOCTYPE svg" not in page  # the DTD line names a remote file


def test_animate_refuses_what_it_cannot_show():
    with pytest.raises(TypeError, match="not a Tensor"):
        viz.animate(np.ones(2))
    with pytest.raises(ValueError, match="no graph"):
        viz.animate(Tensor(np.ones(2)))
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="before loss.backward"):
        viz.animate(loss)


def test_without_dot_the_page_shows_the_graph_as_text(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    anim = viz.animate(lenet_loss()[2])
    assert "<svg" not in anim.html and "was not installed" in anim.html
    assert all(f'id="{f["node"]}"' in anim.html for f in anim.frames)


def test_notebook_shows_it_inline_in_a_sandboxed_iframe():
    html = viz.animate(lenet_loss()[2])._repr_html_()
    assert html.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in html
    assert "<script" not in html  # escaped inside srcdoc


@needs_chromium
def test_page_in_a_headless_browser_steps_through_the_frames(tmp_path):
    anim = viz.animate(lenet_loss()[2])
    path = anim.save(tmp_path / "backprop.html")
    with Browser() as b:
        page = b.open(path.as_uri())
        b.wait_for(page, "document.readyState === 'complete' && "
                         "document.body.dataset.frame === '0'")

        def shown() -> dict:
            return b.eval(page, """({title: document.getElementById('f-title').textContent,
                counter: document.getElementById('counter').textContent,
                active: [...document.querySelectorAll('.node.active')].map(e => e.id),
                sent: [...document.querySelectorAll('.edge.sent')].map(e => e.id),
                prev: document.getElementById('prev').disabled})""")

        first = shown()
        assert first == {"title": "1. cross_entropy VJP", "counter": "step 1 of 13",
                         "active": [anim.frames[0]["node"]],
                         "sent": [s["edge"] for s in anim.frames[0]["sends"]], "prev": True}
        b.eval(page, "const s = document.getElementById('slider'); s.value = 9; "
                     "s.dispatchEvent(new Event('input')); true")
        moved = shown()
        assert moved["title"] == "10. conv2d VJP" and moved["counter"] == "step 10 of 13"
        assert moved["active"] == [anim.frames[9]["node"]] != first["active"]
        assert sorted(moved["sent"]) == sorted(s["edge"] for s in anim.frames[9]["sends"])
        assert len(moved["sent"]) == 3  # input, weight and bias gradients
        b.eval(page, "document.getElementById('next').click(); true")
        assert shown()["title"] == "11. max_pool2d VJP"
        b.eval(page, "document.getElementById('prev').click(); "
                     "document.getElementById('prev').click(); true")
        assert shown()["title"] == "9. relu VJP"
        text = b.eval(page, "document.getElementById('f-sends').textContent")
        assert text.startswith("d%3 = (2, 16, 10, 10) float32, ‖g‖ = ")


def test_cli_writes_the_step_through(tmp_path):
    out = tmp_path / "backprop.html"
    proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "draw", "--model", "lenet5",
                           "--animate", "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout and out.read_text().count('"step":') == 13
    bad = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "draw", "--animate", "-o",
                          str(tmp_path / "x.svg")], capture_output=True, text=True)
    assert bad.returncode != 0 and ".html" in bad.stderr and "Traceback" not in bad.stderr


def test_ci_and_the_readme_install_chromium_with_the_same_command():
    root = Path(__file__).resolve().parents[1]
    ci = (root / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert "apt-get install -y -qq graphviz chromium" in ci and "command -v chromium" in ci
    assert ci in (root / "README.md").read_text().splitlines()


@needs_chromium
@pytest.mark.parametrize("name", ["<!--<script>", "</script><b>x</b>", "a & b > c", "x\ny"])
def test_page_survives_hostile_tensor_names(tmp_path, name):
    """A tensor name is the user's text: inside the page's JSON it must not end the script block
    or put the HTML parser into a comment state (``<!--<script>`` killed the page)."""
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True, name=name)
    anim = viz.animate((x.tanh() * x).sum())
    path = anim.save(tmp_path / "names.html")
    with Browser() as b:
        page = b.open(path.as_uri())
        b.wait_for(page, "document.readyState === 'complete' && "
                         "document.body.dataset.frame === '0'")
        assert b.eval(page, "document.getElementById('counter').textContent") == \
            f"step 1 of {len(anim.frames)}"
        assert b.eval(page, "document.querySelectorAll('b').length") == 0  # no markup injected


def test_animate_keeps_its_gradients_to_itself():
    # found by an outside tester: after animate(L1), text/draw of another graph sharing leaf x
    # showed L1's gradient (‖grad‖ = 17.32) on x, whose .grad is None
    x = Tensor(np.array([0.1, 0.2, 0.3]), requires_grad=True, name="x")
    L1 = (x * 10).sum()
    viz.animate(L1)
    assert x.grad is None
    L2 = (x * 1.0).sum()
    text = viz.text(L2, backward=True)
    leaf_line = [ln for ln in text.splitlines() if ln.strip().startswith("x ")][-1]
    assert "grad not computed" in leaf_line and "17.32" not in text
    src = viz.draw(L2, backward=True).source
    assert "17.32" not in src
    assert "17.32" not in viz.text(L1, backward=True)  # nor on the animated graph itself
    # a user's own record still shows
    with viz.record_gradients(L2):
        L2.backward()
    assert "1.732" in viz.text(L2, backward=True)


def test_save_and_render_refuse_what_they_cannot_write(tmp_path):
    # found by an outside tester: an.save("b.svg") wrote HTML under any name, an.save(<folder>)
    # raised an IsADirectoryError naming the internal .part file, viz.render("hello", ...) an
    # AttributeError about .pipe
    x = Tensor(np.array([0.1, 0.2]), requires_grad=True, name="x")
    an = viz.animate((x * 2).sum())
    for name in ("b.svg", "b.txt", "b.gif", "b"):
        with pytest.raises(ValueError, match=rf"Animation.save: cannot write the step-through to "
                                             rf"'{name}'.*end in .html or .htm"):
            an.save(tmp_path / name)
    folder = tmp_path / "page.html"
    folder.mkdir()
    with pytest.raises(IsADirectoryError) as info:
        an.save(folder)
    assert f"cannot write {folder}: it is a directory" in str(info.value)
    assert ".part" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]
    assert not any(folder.iterdir())
    assert an.save(tmp_path / "B.HTM").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    for not_a_graph in ("hello", an, None):
        with pytest.raises(TypeError, match=r"^render: graph must be a drawing from viz.draw .*"
                                            rf"got {type(not_a_graph).__name__}"):
            viz.render(not_a_graph, tmp_path / "z.dot")
    assert not (tmp_path / "z.dot").exists()
    assert viz.render(viz.draw((x * 2).sum()), tmp_path / "z.dot").read_text().startswith("digraph")
