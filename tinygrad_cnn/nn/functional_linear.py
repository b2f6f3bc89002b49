"""``F.bilinear``: ``y = x1^T A x2 + b`` for each pair of rows, PyTorch's ``torch.nn.functional.bilinear``.

A composition, not an op of its own: one three-operand ``einsum`` (``bi,oij,bj->bo``, which the
einsum op contracts pairwise, cheapest pair first, each pair one matmul) and a broadcast add.
Its gradients are einsum's VJPs, so second derivatives work as for any einsum.
"""

from __future__ import annotations

import math

from tinygrad_cnn.ops.linalg import einsum
from tinygrad_cnn.tensor import Tensor


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]``.

    ``input1 (*, in1_features)``, ``input2 (*, in2_features)`` with the same leading dims (none:
    1-D inputs give a 1-D result), ``weight (out_features, in1_features, in2_features)``,
    ``bias (out_features,)``; the result is ``(*, out_features)``. PyTorch's checks, errors and
    messages; every tensor of one dtype."""
    op = "bilinear()"
    for what, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: argument '{what}' must be a Tensor, not {type(t).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{op}: argument 'bias' must be a Tensor or None, not {type(bias).__name__}")
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"{op}: input dimensions do not match: got {input1.ndim} and "
                           f"{input2.ndim}")
    if input1.ndim == 0:
        raise IndexError(f"{op}: Dimension specified as -1 but tensor has no dimensions (the "
                         "inputs are (*, in_features))")
    for d in range(input1.ndim - 1):
        if input1.shape[d] != input2.shape[d]:
            raise RuntimeError(f"{op}: input batch dimensions do not match at dim {d}: got "
                               f"{input1.shape[d]} and {input2.shape[d]}")
    if weight.ndim != 3:
        raise RuntimeError(f"{op}: weight must be 3-D (out_features, in1_features, "
                           f"in2_features), got shape {weight.shape}")
    out_features, in1, in2 = weight.shape
    if input1.shape[-1] != in1:
        raise RuntimeError(f"{op}: input1 size does not match weight size: got "
                           f"{input1.shape[-1]} but expected {in1}")
    if input2.shape[-1] != in2:
        raise RuntimeError(f"{op}: input2 size does not match weight size: got "
                           f"{input2.shape[-1]} but expected {in2}")
    if bias is not None:
        if bias.ndim == 0:
            raise IndexError(f"{op}: Dimension specified as 0 but tensor has no dimensions (bias "
                             "is (out_features,))")
        if bias.shape[0] != out_features:
            raise RuntimeError(f"{op}: bias size does not match weight size: got "
                               f"{bias.shape[0]} but expected {out_features}")
        if bias.ndim != 1:
            raise RuntimeError(f"{op}: bias must be 1-D (out_features,), got shape {bias.shape}")
    tensors = {"input1": input1, "input2": input2, "weight": weight, "bias": bias}
    if len({t.dtype for t in tensors.values() if t is not None}) > 1:
        names = ", ".join(f"{k}: {t.dtype}" for k, t in tensors.items() if t is not None)
        raise RuntimeError(f"{op}: All tensors must have the same dtype, got {names}")
    lead = input1.shape[:-1]
    rows = math.prod(lead)
    y = einsum("bi,oij,bj->bo", input1.reshape(rows, in1), weight, input2.reshape(rows, in2))
    if bias is not None:
        y = y + bias
    return y.reshape(*lead, out_features)
