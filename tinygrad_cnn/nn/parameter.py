"""``torch.nn.parameter``'s place: ``Parameter`` (from :mod:`tinygrad_cnn.nn.module`)."""

from tinygrad_cnn.nn.module import Parameter

__all__ = ["Parameter"]
