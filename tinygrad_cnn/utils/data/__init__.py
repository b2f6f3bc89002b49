"""``torch.utils.data``'s names, from :mod:`tinygrad_cnn.data` (the datasets, samplers,
``random_split``, ``DataLoader`` and ``default_collate``)."""

from tinygrad_cnn.data import *  # noqa: F403
from tinygrad_cnn.data import __all__  # noqa: F401

# torch.utils.data.dataloader / .dataset / .sampler, reachable as attributes (PyTorch's are)
from tinygrad_cnn.utils.data import dataloader, dataset, sampler  # noqa: F401
