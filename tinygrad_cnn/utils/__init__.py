"""``tinygrad_cnn.utils.data``: ``torch.utils.data``'s place for :mod:`tinygrad_cnn.data`, so
``from tinygrad_cnn.utils.data import DataLoader`` reads as the PyTorch line it ports."""

from tinygrad_cnn.utils import data

__all__ = ["data"]
