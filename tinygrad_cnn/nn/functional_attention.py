"""Attention as PyTorch's ``F.scaled_dot_product_attention`` computes it, composed of registered
ops (matmul, softmax, where, dropout): every gradient, second derivatives too, comes from their
VJPs."""

from __future__ import annotations

import math

import numpy as np

from tinygrad_cnn.backend import ArgumentTypeError, ArgumentValueError, like
from tinygrad_cnn.tensor import Tensor, where


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(query @ key^T * scale + bias) @ value`` over the last two dims (``query``
    ``(..., L, E)``, ``key`` ``(..., S, E)``, ``value`` ``(..., S, Ev)``, batch dims
    broadcasting). ``scale`` defaults to ``1 / sqrt(E)``. ``attn_mask``: a bool mask (True takes
    part) or a float bias, broadcast to ``(..., L, S)``; ``is_causal``: the lower-left triangle
    of ``(L, S)`` (no ``attn_mask`` then). A query that may attend to nothing gets 0 (and no
    gradient), as PyTorch's CPU kernel gives it. ``dropout_p`` drops weights always (PyTorch's:
    pass 0 in eval); ``enable_gqa`` repeats key and value heads (dim -3) to query's count."""
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2 or t.dtype.kind != "f":
            raise ArgumentValueError(f"{op}: {name} must be a floating tensor of at least 2 dims "
                                     f"(..., length, features), got shape {t.shape} and {t.dtype}")
    if not query.dtype == key.dtype == value.dtype:
        raise TypeError(f"{op}: query, key and value must have one dtype, got {query.dtype}, "
                        f"{key.dtype} and {value.dtype}; convert with .to(query.dtype)")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ArgumentValueError(f"{op}: query (..., L, E), key (..., S, E) and value (..., S, Ev) must "
                                 f"agree, got {query.shape}, {key.shape} and {value.shape}")
    if is_causal and attn_mask is not None:
        raise ArgumentValueError(f"{op}: give attn_mask or is_causal, not both (PyTorch's rule)")
    if not 0.0 <= dropout_p <= 1.0:
        raise ArgumentValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            raise TypeError(f"{op}: attn_mask must be a Tensor, got {type(attn_mask).__name__}")
        if attn_mask.dtype.kind != "b" and attn_mask.dtype != query.dtype:
            # (an integer 0/1 mask added as a bias would give plausible wrong numbers)
            raise ArgumentTypeError(f"{op}: attn_mask must be bool (True takes part) or a float bias of "
                                    f"the query's dtype {query.dtype}, got {attn_mask.dtype}; use "
                                    "mask.bool() for a 0/1 mask, or .to(query.dtype) for a bias")
    if enable_gqa and query.ndim >= 3:
        heads = query.shape[-3]
        for name in ("key", "value"):
            t = key if name == "key" else value
            if t.ndim < 3 or t.shape[-3] == heads:
                continue
            if t.shape[-3] == 0 or heads % t.shape[-3]:
                raise ArgumentValueError(f"{op}: with enable_gqa the query's {heads} heads must be a "
                                         f"multiple of the {name}'s {t.shape[-3]} (shape {t.shape})")
            t = t.repeat_interleave(heads // t.shape[-3], dim=-3)
            key, value = (t, value) if name == "key" else (key, t)
    length, source = query.shape[-2], key.shape[-2]
    features = query.shape[-1]
    # (no features: every score is an empty sum, 0, whatever the scale -- PyTorch's mean of value)
    factor = (1 / math.sqrt(features) if features else 1.0) if scale is None else float(scale)
    scores = query.matmul(key.mT) * factor
    allowed = None  # a bool mask of the pairs that take part (None: all)
    if is_causal:
        allowed = Tensor._make(like(np.tril(np.ones((length, source), dtype=bool)), query._data))
    elif attn_mask is not None:
        if attn_mask.dtype.kind == "b":
            allowed = attn_mask
        else:
            scores = scores + attn_mask
    if allowed is not None:
        scores = where(allowed, scores, -math.inf)
    # rows with nothing to attend to (all -inf): 0, with no NaN flowing back through softmax
    dead = (scores.detach() == -math.inf).all(-1, keepdim=True)
    if bool(dead.any()):
        weights = where(dead, 0.0, where(dead, 0.0, scores).softmax(-1))
    else:
        weights = scores.softmax(-1)
    if dropout_p > 0:
        from tinygrad_cnn.nn.functional import dropout

        weights = dropout(weights, dropout_p, training=True)
    return weights.matmul(value)


__all__ = ["scaled_dot_product_attention"]


