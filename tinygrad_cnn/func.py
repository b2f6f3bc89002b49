"""``tg.func``: of PyTorch's ``torch.func`` (functorch), ``functional_call`` -- a module called
with some parameters and buffers replaced, as MAML's inner loop does (see
:mod:`tinygrad_cnn.nn.utils.stateless`). Its transforms (``grad``, ``vmap``, ``jacrev``, ...) are
not here: asking for one says what to use instead (``tinygrad_cnn.autograd.functional``)."""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.nn.utils.stateless import functional_call

__all__ = ["functional_call"]


def __getattr__(name: str) -> Any:
    from tinygrad_cnn._missing import no_attribute

    raise no_attribute(__name__, name)
