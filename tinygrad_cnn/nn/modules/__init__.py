"""PyTorch's ``torch.nn.modules`` path, for code that reaches into it: the layers and containers
(those of ``tinygrad_cnn.nn``), and ``nn.modules.module`` -- which here is
``tinygrad_cnn.nn.module`` itself: ``Module`` and the global module hooks
(``register_module_forward_pre_hook``, ``register_module_forward_hook``,
``register_module_full_backward_pre_hook``, ``register_module_full_backward_hook``)."""

import importlib
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

# PyTorch's files of torch.nn.modules, each the file of tinygrad_cnn.nn.layers that holds its
# classes (``from torch.nn.modules.batchnorm import _BatchNorm``, ``nn.modules.loss._Loss``)
_FILES = {"activation": "activation", "batchnorm": "norm", "normalization": "norm",
          "instancenorm": "norm", "conv": "conv", "pooling": "pool", "loss": "loss",
          "linear": "basic", "dropout": "basic", "sparse": "basic", "flatten": "basic",
          "padding": "padding", "distance": "distance", "container": None}
for _name, _file in _FILES.items():
    _target = module if _file is None else importlib.import_module(
        f"tinygrad_cnn.nn.layers.{_file}")
    sys.modules[f"{__name__}.{_name}"] = _target
    globals()[_name] = _target

__all__ = [*_layers, "Module", "ModuleDict", "ModuleList", "ParameterDict", "ParameterList",
           "Sequential", "module", *_FILES]


def __getattr__(name: str) -> object:
    # (a PyTorch name this module lacks: the error says what to do instead)
    from tinygrad_cnn._missing import no_attribute

    raise no_attribute(__name__, name)
