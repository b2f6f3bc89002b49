"""``torch.utils.data.dataset``'s place: the datasets and ``random_split`` (from
:mod:`tinygrad_cnn.data.dataset`)."""

from tinygrad_cnn.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)

__all__ = ["ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "StackDataset", "Subset",
           "TensorDataset", "random_split"]
