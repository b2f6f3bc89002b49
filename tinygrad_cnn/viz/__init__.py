"""Seeing backpropagation: drawings of the forward graph, the backward graph and the graph of a
gradient; their text form; a step-through of the backward pass; a CNN's feature maps, filters
and saliency.

* :func:`draw` -- a Graphviz drawing (inline SVG in notebooks); ``render`` writes it to a file.
  Ops are grouped by module, show their attributes, operand names where order matters, and the
  source line that created them; repeated blocks collapse to one ``×N`` box.
* :class:`record_gradients` -- run a backward inside it and the backward drawing colours every
  node by its gradient's norm (log scale), puts norms on the edges and values on scalars.
* :func:`text` -- the same graph as text, one line per op: for terminals, diffs and golden files.
* :func:`animate` -- one frame per VJP in a self-contained HTML page (slider, previous/next).
* :func:`feature_maps`, :func:`filters`, :func:`saliency` -- matplotlib figures of your CNN.

Files: ``dot.py`` (drawings), ``layout.py`` (what a drawing shows: collapsed blocks, max_nodes),
``colors.py``, ``text.py``, ``animate.py``, ``figures.py``, ``grads.py`` (the gradient recorder),
``graph.py`` (what they all share: names, operand roles, source lines, saved tensors, module
groups).
Walks are iterative and the output depends only on the graph, never on ``id()`` or set order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tinygrad_cnn.viz.animate import Animation, animate
from tinygrad_cnn.viz.dot import (
    DEFAULT_MAX_NODES,
    INSTALL,
    GraphvizFailed,
    GraphvizNotFound,
    draw,
    render,
)
from tinygrad_cnn.viz.figures import (
    feature_map_arrays,
    feature_maps,
    filters,
    saliency,
    saliency_map,
)
from tinygrad_cnn.viz.grads import GradStat, leaf_grad, node_grads, record_gradients
from tinygrad_cnn.viz.graph import op_label, source_text
from tinygrad_cnn.viz.text import text

__all__ = [
    "DEFAULT_MAX_NODES", "INSTALL", "Animation", "GradStat", "GraphvizFailed", "GraphvizNotFound",
    "animate", "draw",
    "draw_model_to_file", "feature_map_arrays", "feature_maps", "filters", "leaf_grad",
    "lenet5_graph", "lenet5_loss", "model_graph", "model_loss", "node_grads", "op_label",
    "record_gradients", "render", "saliency", "saliency_map", "source_text", "text",
]


_TITLES = {"lenet5": "LeNet-5", "resnet8": "ResNet-8"}


def model_loss(model: str = "lenet5", batch: int = 2, seed: int = 0) -> Any:
    """The loss of a model of ``tinygrad_cnn.models.MODELS`` (``"lenet5"``, ``"resnet8"``) on a
    fixed sample batch of 28×28 images (named ``images``, ``logits``, ``loss``)."""
    import numpy as np

    import tinygrad_cnn as tg
    from tinygrad_cnn.models import MODELS
    from tinygrad_cnn.nn import functional as F
    from tinygrad_cnn.tensor import Tensor

    if model not in MODELS:
        raise ValueError(f"draw: unknown model {model!r} (known: {', '.join(sorted(MODELS))})")
    tg.manual_seed(seed)
    net = MODELS[model]()
    x = Tensor(np.random.default_rng(seed).standard_normal((batch, 1, 28, 28)).astype(np.float32),
               name="images")
    logits = net(x)
    logits.name = "logits"
    loss = F.cross_entropy(logits, np.arange(batch) % 10)
    loss.name = "loss"
    return loss


def lenet5_loss(batch: int = 2, seed: int = 0) -> Any:
    """LeNet-5's loss on a fixed sample batch (named ``images``, ``logits``, ``loss``)."""
    return model_loss("lenet5", batch, seed)


def model_graph(model: str = "lenet5", batch: int = 2, backward: bool = False,
                max_nodes: int | None = None, seed: int = 0) -> Any:
    """A model on a sample batch: its forward graph, or (after a recorded backward) its backward
    graph, coloured by gradient norms."""
    loss = model_loss(model, batch, seed)
    if backward:
        with record_gradients(loss):
            loss.backward(retain_graph=True)
    return draw(loss, backward=backward, show_saved=False, max_nodes=max_nodes,
                title=f"{_TITLES.get(model, model)}, {'backward' if backward else 'forward'} graph "
                f"(batch {batch})")


def lenet5_graph(batch: int = 2, backward: bool = False, max_nodes: int | None = None,
                 seed: int = 0) -> Any:
    """LeNet-5 on a sample batch: its forward graph, or (after a recorded backward) its backward
    graph, coloured by gradient norms."""
    return model_graph("lenet5", batch, backward, max_nodes, seed)


def draw_model_to_file(model: str, path: str | Path, backward: bool = False,
                       max_nodes: int | None = None, batch: int = 2,
                       animate_backward: bool = False) -> Path:
    """What ``python -m tinygrad_cnn draw`` does: ``.svg``/``.png``/``.pdf`` (Graphviz), ``.dot``,
    ``.txt`` (the text form, no Graphviz needed); with ``animate_backward`` an ``.html``
    step-through of the backward pass. ``model``: a name of ``tinygrad_cnn.models.MODELS``."""
    path = Path(path)
    if animate_backward:
        if path.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"draw --animate writes an HTML page: name the output .html, got "
                             f"{path.name!r}")
        return animate(model_loss(model, batch), title=f"{_TITLES.get(model, model)} (batch "
                       f"{batch}): backpropagation, step by step").save(path)
    if path.suffix.lower() == ".txt":
        loss = model_loss(model, batch)
        if backward:
            with record_gradients(loss):
                loss.backward(retain_graph=True)
        from tinygrad_cnn._files import atomic_write

        page = text(loss, backward=backward).encode()
        atomic_write(path, lambda f: f.write(page))
        return path
    return render(model_graph(model, batch, backward, max_nodes), path)
