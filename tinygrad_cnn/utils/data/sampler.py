"""``torch.utils.data.sampler``'s place: the samplers (from :mod:`tinygrad_cnn.data.sampler`)."""

from tinygrad_cnn.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler", "SubsetRandomSampler",
           "WeightedRandomSampler"]
