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


def as_generator(gen: np.random.Generator | int | None, who: str) -> np.random.Generator:
    """The generator a ``generator=`` argument names: ``None`` -- the one ``manual_seed`` seeds
    (looked up now, so a later ``manual_seed`` counts); a ``numpy.random.Generator`` -- itself (it
    advances as it is drawn from, as a ``torch.Generator`` does); an int -- a new generator
    seeded with it. ``who`` names the caller in the error."""
    if gen is None:
        return _generator
    if isinstance(gen, np.random.Generator):
        return gen
    if isinstance(gen, (int, np.integer)) and not isinstance(gen, bool) and gen >= 0:
        return np.random.default_rng(int(gen))
    raise TypeError(f"{who}: generator must be None, a numpy.random.Generator (e.g. "
                    f"np.random.default_rng(42)) or a non-negative int seed, got "
                    f"{type(gen).__name__} {gen!r}")
