"""tinygrad_cnn: a small, readable, fast autograd engine for convolutional networks, on numpy.

>>> from tinygrad_cnn import Tensor
>>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
tensor([[2., 4.],
        [6., 8.]])
"""

import numpy as np

from tinygrad_cnn.autograd import (
    AnomalyError,
    Context,
    Function,
    detect_anomaly,
    enable_grad,
    grad,
    is_grad_enabled,
    keep_inputs,
    no_grad,
    once_differentiable,
    set_grad_enabled,
)
from tinygrad_cnn.backend import is_available, tune_malloc
from tinygrad_cnn.gradcheck import GradcheckError, gradcheck, gradgradcheck
from tinygrad_cnn.random import manual_seed
from tinygrad_cnn.serialization import CheckpointError, load, save
from tinygrad_cnn.tensor import (
    Tensor,
    arange,
    cat,
    full,
    ones,
    ones_like,
    promote_types,
    rand,
    randn,
    result_type,
    stack,
    tensor,
    where,
    zeros,
    zeros_like,
)

float16, float32, float64 = np.dtype("float16"), np.dtype("float32"), np.dtype("float64")
int32, int64, bool_ = np.dtype("int32"), np.dtype("int64"), np.dtype("bool")

__version__ = "0.1.0"

tune_malloc()  # keep freed step buffers for reuse; TINYGRAD_CNN_TUNE_MALLOC=0 turns it off

__all__ = [
    "AnomalyError",
    "CheckpointError",
    "Context",
    "Function",
    "GradcheckError",
    "Tensor",
    "arange",
    "cat",
    "detect_anomaly",
    "enable_grad",
    "full",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_available",
    "is_grad_enabled",
    "keep_inputs",
    "load",
    "manual_seed",
    "no_grad",
    "once_differentiable",
    "ones",
    "ones_like",
    "promote_types",
    "rand",
    "randn",
    "result_type",
    "save",
    "set_grad_enabled",
    "stack",
    "tensor",
    "where",
    "zeros",
    "zeros_like",
]
