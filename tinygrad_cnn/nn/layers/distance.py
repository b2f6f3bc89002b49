"""Distance layers over ``F.cosine_similarity`` and ``F.pairwise_distance``, with PyTorch's
constructors and attribute names (``PairwiseDistance`` keeps ``p`` as ``norm``, as PyTorch)."""

from __future__ import annotations

from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.tensor import Tensor


class CosineSimilarity(Module):
    """The cosine similarity of ``x1`` and ``x2`` along ``dim``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """The ``p``-norm distance of ``x1 - x2 + eps`` over the last dim."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
