"""PyTorch's ``torch.nn.modules`` path, for code that reaches into it: the layers and containers
(those of ``tinygrad_cnn.nn``), and ``nn.modules.module`` -- which here is
``tinygrad_cnn.nn.module`` itself: ``Module`` and the global module hooks
(``register_module_forward_pre_hook``, ``register_module_forward_hook``,
``register_module_full_backward_pre_hook``, ``register_module_full_backward_hook``)."""

import sys

from tinygrad_cnn.nn import module
from tinygrad_cnn.nn.layers import *  # noqa: F403  (every layer and loss, as torch.nn.modules)
from tinygrad_cnn.nn.layers import __all__ as _layers
from tinygrad_cnn.nn.module import (
    Module,
    ModuleDict,
    ModuleList,
    ParameterDict,
    ParameterList,
    Sequential,
)

# ``import tinygrad_cnn.nn.modules.module`` (PyTorch's import form) finds the one module
sys.modules[__name__ + ".module"] = module

__all__ = [*_layers, "Module", "ModuleDict", "ModuleList", "ParameterDict", "ParameterList",
           "Sequential", "module"]
