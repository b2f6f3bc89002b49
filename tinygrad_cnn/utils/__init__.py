"""``tinygrad_cnn.utils.data``: ``torch.utils.data``'s place for :mod:`tinygrad_cnn.data`, so
``from tinygrad_cnn.utils.data import DataLoader`` reads as the PyTorch line it ports."""

from typing import Any

from tinygrad_cnn.utils import data

__all__ = ["data"]


def __getattr__(name: str) -> Any:
    # (a PyTorch name this module lacks: the error says what to do instead)
    from tinygrad_cnn._missing import no_attribute

    raise no_attribute(__name__, name)
