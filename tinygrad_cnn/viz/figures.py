"""Your own CNN, seen: its feature maps, its filters and its saliency (the input gradient), as
matplotlib figures (``pip install matplotlib``).

``feature_maps(model, x)`` runs the model once and shows, for one sample, the channels of every
image-shaped tensor the forward made (convolutions, activations, pooling), labelled by module and
op. ``filters(model.conv1)`` shows a convolution's kernels. ``saliency(model, x, target)`` shows
``|∂ logit[target] / ∂ x|``: the input pixels that move the target's score most.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.autograd import Context, _collect, enable_grad, grad, keep_inputs
from tinygrad_cnn.backend import to_numpy
from tinygrad_cnn.tensor import Tensor


def _plt() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is in the test extras
        raise ImportError("tinygrad_cnn.viz figures need matplotlib: pip install matplotlib") from None
    return plt


# matplotlib's backends that show nothing: figures for saving only (a script, a test, a server)
_NON_INTERACTIVE = frozenset({"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"})


def _subplots(nrows: int, ncols: int, **kwargs: Any) -> tuple[Any, Any]:
    """``plt.subplots(nrows, ncols, **kwargs)`` where the backend shows figures (Jupyter's inline
    backend, which closes them after each cell; a window's, whose figures stay until closed, as
    every pyplot figure's). Where it shows nothing (Agg: a script that saves PNGs), a
    ``matplotlib.figure.Figure`` that pyplot does not keep: a figure drawn per epoch and dropped
    is freed, where pyplot's registry kept every one (t184: 200 calls of the three figures took a
    process from 60 MB to 4.2 GB)."""
    plt = _plt()
    import matplotlib

    if matplotlib.get_backend().lower() in _NON_INTERACTIVE:
        from matplotlib.figure import Figure

        fig = Figure(figsize=kwargs.pop("figsize", None))
        return fig, fig.subplots(nrows, ncols, **kwargs)
    return plt.subplots(nrows, ncols, **kwargs)


def _batch(x: Any, what: str) -> Tensor:
    """An image batch ``(N, C, H, W)`` (a single ``(C, H, W)`` image gets a batch axis)."""
    t = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    if t.ndim == 3:
        t = t.reshape(1, *t.shape)
    if t.ndim != 4:
        raise ValueError(f"{what}: expected an image batch (N, C, H, W) or one image (C, H, W), "
                         f"got shape {t.shape}")
    if t.dtype.kind != "f":
        raise TypeError(f"{what}: the input must be floating, got {t.dtype}")
    return t


def _model_dtype(model: Any, x: Tensor) -> Tensor:
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    if params and params[0].dtype != x.dtype:
        return Tensor(x.numpy().astype(params[0].dtype))
    return x


def feature_map_arrays(model: Any, x: Any, sample: int = 0) -> list[tuple[str, np.ndarray]]:
    """``(label, maps (C, H, W))`` of every image-shaped tensor (4-D) the forward of ``model``
    made, in the order it made them, for ``sample`` of the batch. Labels name the module and op
    (``"conv1 · conv2d"``)."""
    xb = _model_dtype(model, _batch(x, "feature_maps"))
    if not 0 <= sample < xb.shape[0]:
        raise IndexError(f"feature_maps: sample {sample} is outside the batch of {xb.shape[0]}")
    with enable_grad(), keep_inputs():  # nodes keep their inputs: every intermediate stays alive
        out = model(xb)
    if not isinstance(out, Tensor) or out.grad_fn is None:
        raise ValueError("feature_maps: the model's output has no graph (do its parameters "
                         "require grad?)")
    nodes = sorted(_collect([out.grad_fn]), key=lambda c: c.seq)
    # the output of each op is an input of a later one (kept by keep_inputs), or the result
    produced: dict[int, Tensor] = {id(out.grad_fn): out}
    for c in nodes:
        for e, t in zip(c.next, c.inputs or ()):
            if isinstance(e, Context):
                produced[id(e)] = t
    result = []
    for c in nodes:
        t = produced.get(id(c))
        if t is None or t.ndim != 4:
            continue
        label = f"{c.scope} · {c.fn.name}" if c.scope else c.fn.name
        result.append((label, np.asarray(to_numpy(t._data))[sample]))
    return result


def feature_maps(model: Any, x: Any, sample: int = 0, max_channels: int = 8,
                 layers: list[str] | None = None) -> Any:
    """A figure of the feature maps of ``model`` on ``x``: one row per image-shaped tensor its
    forward made (``layers``: only those whose label contains one of these strings, e.g.
    ``["conv1", "max_pool2d"]``), up to ``max_channels`` channels each, for ``sample``."""
    maps = feature_map_arrays(model, x, sample)
    if layers is not None:
        maps = [(label, m) for label, m in maps if any(s in label for s in layers)]
    if not maps:
        raise ValueError("feature_maps: the forward made no image-shaped (N, C, H, W) tensor"
                         + (f" matching {layers}" if layers is not None else ""))
    cols = min(max_channels, max(m.shape[0] for _, m in maps))
    fig, axes = _subplots(len(maps), cols, figsize=(1.3 * cols + 1.2, 1.35 * len(maps)),
                          squeeze=False)
    for row, (label, m) in enumerate(maps):
        for col in range(cols):
            ax = axes[row][col]
            ax.set_xticks([])
            ax.set_yticks([])
            if col < m.shape[0]:
                ax.imshow(m[col], cmap="viridis")
            else:
                ax.axis("off")
        axes[row][0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    for col in range(cols):
        axes[0][col].set_title(f"channel {col}", fontsize=8)
    fig.suptitle(f"feature maps (sample {sample})", fontsize=10)
    fig.tight_layout()
    return fig


def filters(conv: Any, max_filters: int = 32, max_channels: int = 8) -> Any:
    """A figure of a convolution's kernels (``nn.Conv2d`` or a weight ``(K, C, kh, kw)``): one row
    per input channel (up to ``max_channels``), one column per filter (up to ``max_filters``), on
    one diverging colour scale centred at zero (red positive, blue negative)."""
    weight = getattr(conv, "weight", conv)
    if not isinstance(weight, Tensor) and not isinstance(weight, np.ndarray):
        raise TypeError(f"filters: expected a Conv2d or a weight tensor, got {type(conv).__name__}")
    w = np.asarray(to_numpy(weight._data if isinstance(weight, Tensor) else weight))
    if w.ndim != 4:
        raise ValueError(f"filters: a convolution weight is 4-D (K, C, kh, kw), got shape "
                         f"{w.shape}")
    k, c = min(w.shape[0], max_filters), min(w.shape[1], max_channels)
    lim = float(np.abs(w).max()) or 1.0
    fig, axes = _subplots(c, k, figsize=(0.9 * k + 0.8, 0.95 * c + 0.6), squeeze=False)
    for i in range(c):
        for j in range(k):
            ax = axes[i][j]
            ax.imshow(w[j, i], cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"{j}", fontsize=8)
        axes[i][0].set_ylabel(f"in {i}", fontsize=8)
    name = getattr(weight, "name", None) or "weight"
    fig.suptitle(f"{name} {tuple(w.shape)}: filters (columns) × input channels (rows)",
                 fontsize=10)
    fig.tight_layout()
    return fig


def saliency_map(model: Any, x: Any, target: int, sample: int = 0) -> np.ndarray:
    """``|∂ logits[sample, target] / ∂ x[sample]|``, the largest over the input channels:
    an ``(H, W)`` array. No parameter's ``.grad`` is touched."""
    xb = _model_dtype(model, _batch(x, "saliency"))
    if not 0 <= sample < xb.shape[0]:
        raise IndexError(f"saliency: sample {sample} is outside the batch of {xb.shape[0]}")
    xi = Tensor(np.asarray(to_numpy(xb._data))[sample:sample + 1].copy(), requires_grad=True)
    with enable_grad():
        logits = model(xi)
        if logits.ndim != 2:
            raise ValueError(f"saliency: the model must return logits (N, classes), got shape "
                             f"{logits.shape}")
        if not 0 <= target < logits.shape[1]:
            raise IndexError(f"saliency: target {target} is not one of the "
                             f"{logits.shape[1]} classes")
        (gx,) = grad(logits[0, target], xi)
    return np.abs(np.asarray(to_numpy(gx._data))[0]).max(axis=0)


def saliency(model: Any, x: Any, target: int, sample: int = 0) -> Any:
    """A figure: the input image, its saliency map for class ``target`` (:func:`saliency_map`)
    and the two overlaid."""
    xb = _batch(x, "saliency")
    sal = saliency_map(model, xb, target, sample)
    img = np.asarray(to_numpy(xb._data))[sample]
    img = img[0] if img.shape[0] == 1 else np.moveaxis(img, 0, -1)
    fig, (a, b, c) = _subplots(1, 3, figsize=(8, 2.9))
    a.imshow(img, cmap="gray_r" if img.ndim == 2 else None)
    a.set_title("input", fontsize=9)
    im = b.imshow(sal, cmap="hot")
    b.set_title(f"|∂ logit[{target}] / ∂ input|", fontsize=9)
    fig.colorbar(im, ax=b, fraction=0.046)
    c.imshow(img, cmap="gray_r" if img.ndim == 2 else None)
    c.imshow(sal, cmap="hot", alpha=0.55)
    c.set_title("overlaid", fontsize=9)
    for ax in (a, b, c):
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
