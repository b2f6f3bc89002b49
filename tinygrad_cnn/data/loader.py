"""``DataLoader``: batches of ``(x, y)`` tensors from a dataset, optionally shuffled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from tinygrad_cnn.random import generator
from tinygrad_cnn.tensor import Tensor


class Subset:
    """The items of ``dataset`` at ``indices`` (``--limit`` uses the first N)."""

    def __init__(self, dataset: Any, indices: Any) -> None:
        self.dataset, self.indices = dataset, np.asarray(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: Any) -> Any:
        return self.dataset[self.indices[i]]

    def arrays(self, index: Any = slice(None)) -> Any:
        return self.dataset.arrays(self.indices[index])


class DataLoader:
    """Iterate over ``dataset`` in batches of ``(x, y)`` Tensors.

    ``shuffle`` draws a new order every epoch, from ``seed`` when given (epoch ``e`` uses
    ``seed + e``, so runs repeat exactly) or else from the generator that ``manual_seed`` seeds.
    A dataset with an ``arrays(index)`` method is batched with one fancy-index per batch; any other
    dataset item by item.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None) -> None:
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle
        self.drop_last, self.seed, self.epoch = drop_last, seed, 0

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        rng = np.random.default_rng(self.seed + self.epoch) if self.seed is not None else \
            generator()
        return rng.permutation(n)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        order = self._order()
        self.epoch += 1
        stop = len(self) * self.batch_size
        for start in range(0, min(stop, len(order)), self.batch_size):
            idx = order[start:start + self.batch_size]
            if hasattr(self.dataset, "arrays"):
                x, y = self.dataset.arrays(idx)
            else:
                items = [self.dataset[int(i)] for i in idx]
                x = np.stack([np.asarray(it[0]) for it in items])
                y = np.asarray([it[1] for it in items])
            yield Tensor._make(np.ascontiguousarray(x)), Tensor._make(np.asarray(y))
