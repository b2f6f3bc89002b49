"""The random generators: the default one behind ``randn``/``rand``, initialisation, dropout and
shuffling (``manual_seed(n)`` makes every run that follows repeatable), and
:class:`Generator` objects of one's own, passed as ``generator=`` (PyTorch's
``torch.Generator``). Each wraps a ``numpy.random.Generator`` (PCG64): the same seed gives the
same stream here on every run, not PyTorch's stream.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterator
from typing import Any

import numpy as np

_INITIAL_SEED = 67280421310721  # a new torch.Generator()'s seed
_STATE_BYTES = 320  # get_state's length (a PCG64 state in JSON takes up to ~250)


class Generator:
    """A random generator of its own (``torch.Generator``): ``Generator().manual_seed(42)``
    passed as ``generator=`` to ``randn``, ``rand``, ``randint``, ``randperm``, ``normal_``,
    ``uniform_``, ``bernoulli``, ``random_split``, the samplers and ``DataLoader`` draws from
    it and advances it, leaving the default generator alone. ``get_state``/``set_state`` save
    and restore its position (a uint8 tensor, as PyTorch's). Attributes of the
    ``numpy.random.Generator`` inside (``normal``, ``integers``, ...) are reachable on it."""

    def __init__(self, device: str = "cpu") -> None:
        device = str(device)
        if device.split(":")[0] not in ("cpu", "cuda"):
            raise RuntimeError(f"Generator: device must be 'cpu' or 'cuda', got {device!r}")
        self.device = device
        self._seed = _INITIAL_SEED
        self._rng = np.random.default_rng(self._seed)
        self._worker_epochs = 0  # DataLoader worker epochs seeded from it since its seeding

    def manual_seed(self, seed: int) -> Generator:
        """Reseed (an int in PyTorch's range; a negative one counts modulo 2**64) and return
        this generator."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise RuntimeError(f"manual_seed expected an int, but got {type(seed).__name__} "
                               f"{seed!r}")
        seed = int(seed)
        if not -2**63 <= seed < 2**64:
            raise ValueError(f"manual_seed: the seed must lie in [-2**63, 2**64), got {seed}")
        self._seed = seed % 2**64
        self._rng = np.random.default_rng(self._seed)
        self._worker_epochs = 0
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the new seed."""
        self.manual_seed(secrets.randbits(63))
        return self._seed

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._seed

    def get_state(self) -> Any:
        """The generator's position, as a uint8 tensor for :meth:`set_state`."""
        from tinygrad_cnn.tensor import Tensor

        text = json.dumps({"seed": self._seed, "state": self._rng.bit_generator.state})
        # padded to one length (JSON ignores trailing spaces), so that states compare
        return Tensor(np.frombuffer(text.ljust(_STATE_BYTES).encode(), dtype=np.uint8).copy())

    def set_state(self, new_state: Any) -> Generator:
        """Go back to a position :meth:`get_state` returned; returns this generator."""
        from tinygrad_cnn.tensor import Tensor

        if not isinstance(new_state, Tensor) or new_state.dtype != np.uint8:
            kind = type(new_state)
            if kind.__module__.split(".")[0] == "torch":  # (t147: "got Tensor" for PyTorch's)
                raise TypeError("Generator.set_state: got PyTorch's RNG state; states are not "
                                "interchangeable (a seed here gives numpy's PCG64 stream, not "
                                "PyTorch's): pass a state from this library's get_state(), or "
                                "seed both with manual_seed and copy weights with state_dict")
            raise TypeError(f"Generator.set_state: expected a uint8 tensor from get_state(), got "
                            f"{kind.__name__}")
        data = new_state._data
        try:
            saved = json.loads(np.asarray(data, dtype=np.uint8).tobytes().decode())
            rng = np.random.default_rng(int(saved["seed"]))  # (its seed, then its position)
            rng.bit_generator.state = saved["state"]
        except (ValueError, TypeError, KeyError, UnicodeDecodeError) as e:
            raise RuntimeError("Generator.set_state: not a state from Generator.get_state "
                               f"(of this library; PyTorch's states differ): {e}") from None
        self._seed, self._rng = int(saved["seed"]), rng
        self._worker_epochs = 0
        return self

    def clone_state(self) -> Generator:
        """A new generator at this one's position (PyTorch's ``clone_state``)."""
        twin = Generator(self.device)
        return twin.set_state(self.get_state())

    def __getattr__(self, name: str) -> Any:  # the numpy generator's own methods
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._rng, name)

    def __repr__(self) -> str:
        return f"<tinygrad_cnn.Generator object, device={self.device!r}>"


default_generator = Generator()
default_generator.seed()  # (the default one starts from fresh entropy, as PyTorch's does)


def manual_seed(seed: int) -> Generator:
    """Reseed the default generator (initialisation, ``randn``, dropout, shuffling); returns it.
    The seed is ``int(seed)``, as PyTorch's: 1.5 seeds 1, a one-element tensor its value."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        try:
            seed = int(seed)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"manual_seed: the seed must be an int or convert to one with "
                            f"int(), as PyTorch's, got {seed!r} ({exc})") from None
    return default_generator.manual_seed(seed)  # (a negative one counts modulo 2**64, as PyTorch)


def seed() -> int:
    """Reseed the default generator from fresh entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator was last seeded with."""
    return default_generator.initial_seed()


def get_rng_state() -> Any:
    """The default generator's position (``default_generator.get_state()``)."""
    return default_generator.get_state()


def set_rng_state(new_state: Any) -> None:
    """Restore the default generator's position from :func:`get_rng_state`."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices: Any = None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str = "cuda") -> Iterator[None]:
    """PyTorch's ``torch.random.fork_rng()``: the default generator's position is saved on
    entry and restored on exit, so random draws inside leave the stream outside as it was
    (one generator serves the CPU and the GPU here, so ``devices`` changes nothing);
    ``enabled=False`` does nothing."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def generator() -> np.random.Generator:
    """The default generator's numpy generator."""
    return default_generator._rng


def held_generator(gen: Generator | np.random.Generator | int | None,
                   who: str) -> Generator | np.random.Generator | None:
    """What an object that draws later (a sampler, a ``DataLoader``) keeps of a ``generator=``
    argument: a :class:`Generator` itself (so that a later ``manual_seed`` or ``set_state`` on it
    counts, as with PyTorch's), ``None``, or :func:`as_generator`'s numpy generator (an int
    seed's generator is made once, and draws on from epoch to epoch)."""
    if gen is None or isinstance(gen, Generator):
        return gen
    return as_generator(gen, who)


def as_generator(gen: Generator | np.random.Generator | int | None,
                 who: str) -> np.random.Generator:
    """The numpy generator a ``generator=`` argument names: ``None`` -- the default one (looked
    up now, so a later ``manual_seed`` counts); a :class:`Generator` -- its own; a
    ``numpy.random.Generator`` -- itself (it advances as it is drawn from, as a
    ``torch.Generator`` does); an int -- a new generator seeded with it. ``who`` names the caller
    in the error."""
    if gen is None:
        return default_generator._rng
    if isinstance(gen, Generator):
        return gen._rng
    if isinstance(gen, np.random.Generator):
        return gen
    if isinstance(gen, (int, np.integer)) and not isinstance(gen, bool) and gen >= 0:
        return np.random.default_rng(int(gen))
    if type(gen).__name__ == "Generator" and type(gen).__module__.startswith("torch"):
        raise TypeError(f"{who}: a torch.Generator cannot drive this library; pass "
                        "tinygrad_cnn.Generator().manual_seed(n) (or an int seed) instead")
    raise TypeError(f"{who}: generator must be None, a tinygrad_cnn.Generator (e.g. "
                    f"tg.Generator().manual_seed(42)), a numpy.random.Generator or a "
                    f"non-negative int seed, got {type(gen).__name__} {gen!r}")
