"""Data, with ``torch.utils.data``'s names: datasets (``Dataset``, ``IterableDataset``,
``TensorDataset``, ``Subset``, ``ConcatDataset``, ``ChainDataset``, ``random_split``), samplers
(``Sampler``, ``SequentialSampler``, ``RandomSampler``, ``SubsetRandomSampler``,
``WeightedRandomSampler``, ``BatchSampler``), ``DataLoader``, ``default_collate``,
``default_convert`` and ``get_worker_info``; the IDX format and MNIST."""

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
from tinygrad_cnn.data.idx import IDXError, read_idx, write_idx
from tinygrad_cnn.data.loader import (
    DataLoader,
    WorkerInfo,
    default_collate,
    default_convert,
    get_worker_info,
)
from tinygrad_cnn.data.mnist import MNIST, ChecksumError, DownloadError
from tinygrad_cnn.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = ["MNIST", "BatchSampler", "ChainDataset", "ChecksumError", "ConcatDataset", "DataLoader",
           "Dataset", "DownloadError", "IDXError", "IterableDataset", "RandomSampler", "Sampler",
           "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler", "TensorDataset",
           "WeightedRandomSampler", "WorkerInfo", "default_collate", "default_convert",
           "get_worker_info", "random_split", "read_idx", "write_idx"]
