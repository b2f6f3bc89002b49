"""``torch.utils.data.dataloader``'s place: ``DataLoader``, ``default_collate``, ``default_convert``,
``get_worker_info`` (from :mod:`tinygrad_cnn.data.loader`)."""

from tinygrad_cnn.data.loader import (
    DataLoader,
    WorkerInfo,
    default_collate,
    default_convert,
    get_worker_info,
)

__all__ = ["DataLoader", "WorkerInfo", "default_collate", "default_convert", "get_worker_info"]
