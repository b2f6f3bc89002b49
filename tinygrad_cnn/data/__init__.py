"""Data: the IDX format, MNIST, ``TensorDataset`` and ``DataLoader``."""

from tinygrad_cnn.data.idx import IDXError, read_idx, write_idx
from tinygrad_cnn.data.loader import DataLoader, Subset, TensorDataset
from tinygrad_cnn.data.mnist import MNIST, ChecksumError, DownloadError

__all__ = ["MNIST", "ChecksumError", "DataLoader", "DownloadError", "IDXError", "Subset",
           "TensorDataset", "read_idx", "write_idx"]
