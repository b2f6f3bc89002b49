"""Neural-network building blocks: ``Module`` and its containers, layers, losses; ``nn.functional``
(``F``) holds the functions, ``nn.init`` the initialisers and ``nn.utils`` gradient clipping and
parameter vectors."""

from typing import Any

from tinygrad_cnn.nn import functional, init, layers, modules, parameter, utils
from tinygrad_cnn.nn.layers import *  # noqa: F403  (every layer and loss; their list is layers.__all__)
from tinygrad_cnn.nn.module import (
    Module,
    ModuleDict,
    ModuleList,
    Parameter,
    ParameterDict,
    ParameterList,
    Sequential,
)

__all__ = [*layers.__all__, "Module", "ModuleDict", "ModuleList", "Parameter", "ParameterDict",
           "ParameterList", "Sequential", "functional", "init", "modules", "parameter", "utils"]


def __getattr__(name: str) -> Any:
    # (a PyTorch name this module lacks: the error says what to do instead)
    from tinygrad_cnn._missing import no_attribute

    raise no_attribute(__name__, name)
