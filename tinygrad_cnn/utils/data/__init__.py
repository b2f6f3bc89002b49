"""``torch.utils.data``'s names, from :mod:`tinygrad_cnn.data` (the datasets, samplers,
``random_split``, ``DataLoader`` and ``default_collate``)."""

from tinygrad_cnn.data import *  # noqa: F403
from tinygrad_cnn.data import __all__  # noqa: F401

# torch.utils.data.dataloader / .dataset / .sampler, reachable as attributes (PyTorch's are)
from tinygrad_cnn.utils.data import dataloader, dataset, sampler  # noqa: F401


def __getattr__(name: str) -> object:
    # (a PyTorch name this module lacks: the error says what to do instead)
    from tinygrad_cnn._missing import no_attribute

    raise no_attribute(__name__, name)
