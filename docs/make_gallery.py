"""Redraw the README's gallery: ``python docs/make_gallery.py`` (needs Graphviz's ``dot``).

Writes, next to this file: LeNet-5's forward graph, its backward graph coloured by gradient norms,
the same backward graph as text, a step-through of its backward pass (one HTML page), and the graph
of a gradient. The drawings are deterministic: rerunning changes nothing unless the code did.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, grad, viz

HERE = Path(__file__).resolve().parent


def main() -> None:
    loss = viz.lenet5_loss(batch=2)
    viz.render(viz.draw(loss, title="LeNet-5, forward graph (batch 2)"),
               HERE / "lenet5_forward.svg")
    viz.animate(loss, title="LeNet-5 (batch 2): backpropagation, step by step").save(
        HERE / "backprop.html")
    with viz.record_gradients(loss):
        loss.backward(retain_graph=True)
    viz.render(viz.draw(loss, backward=True, title="LeNet-5, backward graph (batch 2)"),
               HERE / "lenet5_backward.svg")
    (HERE / "lenet5_backward.txt").write_text(viz.text(loss, backward=True))

    x = Tensor(np.random.default_rng(0).standard_normal((1, 2, 6, 6)), requires_grad=True,
               name="x")
    w = Tensor(np.random.default_rng(1).standard_normal((3, 2, 3, 3)), requires_grad=True,
               name="weight")
    y = F.conv2d(x, w, stride=2, padding=1)
    (gx,) = grad((y * y).sum(), x, create_graph=True)
    gx.name = "dL/dx"
    viz.render(viz.draw(gx, title="the graph of dL/dx"), HERE / "gradient_graph.svg")
    for name in ("lenet5_forward.svg", "lenet5_backward.svg", "lenet5_backward.txt",
                 "backprop.html", "gradient_graph.svg"):
        size = (HERE / name).stat().st_size
        print(f"wrote docs/{name} ({size / 1024:.0f} KB)")  # a script, not the library: it prints


if __name__ == "__main__":
    main()
