"""Neural-network building blocks. ``tinygrad_cnn.nn.functional`` holds the functions (``F``)."""

from tinygrad_cnn.nn import functional

__all__ = ["functional"]
