"""``torch.distributed``'s guards, for code that checks before it sets up several processes:
there is no distributed training here, so ``is_available()`` and ``is_initialized()`` are False;
the set-up functions say so."""

from __future__ import annotations

from typing import Any

__all__ = ["is_available", "is_initialized"]


def is_available() -> bool:
    """False: tinygrad_cnn trains in one process."""
    return False


def is_initialized() -> bool:
    """False: no process group is ever set up."""
    return False


def __getattr__(name: str) -> Any:
    # (a PyTorch name this module lacks: the error says what to do instead)
    from tinygrad_cnn._missing import no_attribute

    raise no_attribute(__name__, name)
