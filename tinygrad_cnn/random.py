"""The one random generator behind ``randn``/``rand``, initialisation, dropout and shuffling.

``manual_seed(n)`` makes every run that follows repeatable.
"""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the generator used by tinygrad_cnn (initialisation, ``randn``, dropout, shuffling)."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: the seed must be a non-negative int, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def generator() -> np.random.Generator:
    """The current generator (a ``numpy.random.Generator``)."""
    return _generator
