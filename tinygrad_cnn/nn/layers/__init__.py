"""Layers: thin modules over ``nn.functional``, with PyTorch's constructors, parameter and buffer
names, and default initialisation (Kaiming-uniform with ``a = sqrt(5)``: weights and biases in
``±1/sqrt(fan_in)``). One file per kind:

| file | layers |
|---|---|
| ``basic.py`` | Linear, Identity, Flatten, Unflatten, Dropout, Dropout1d-3d, Embedding |
| ``conv.py`` | Conv2d (``padding_mode``), ConvTranspose2d |
| ``pool.py`` | MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, Upsample, PixelShuffle |
| ``padding.py`` | ZeroPad2d, ConstantPad2d, ReflectionPad2d, ReplicationPad2d, CircularPad2d |
| ``activation.py`` | ReLU, LeakyReLU, PReLU, GELU, SiLU, ELU, SELU, Softplus, LogSigmoid, Mish, ... |
| ``norm.py`` | BatchNorm1d, BatchNorm2d, InstanceNorm2d, LayerNorm, GroupNorm |
| ``loss.py`` | CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss, BCELoss, ... |
"""

from tinygrad_cnn.nn.layers.activation import (
    CELU,
    ELU,
    GELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from tinygrad_cnn.nn.layers.basic import (
    Dropout,
    Dropout1d,
    Dropout2d,
    Dropout3d,
    Embedding,
    Flatten,
    Identity,
    Linear,
    Unflatten,
)
from tinygrad_cnn.nn.layers.conv import Conv2d, ConvTranspose2d
from tinygrad_cnn.nn.layers.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from tinygrad_cnn.nn.layers.norm import (
    BatchNorm1d,
    BatchNorm2d,
    GroupNorm,
    InstanceNorm2d,
    LayerNorm,
)
from tinygrad_cnn.nn.layers.padding import (
    CircularPad2d,
    ConstantPad2d,
    ReflectionPad2d,
    ReplicationPad2d,
    ZeroPad2d,
)
from tinygrad_cnn.nn.layers.pool import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool2d,
    MaxPool2d,
    PixelShuffle,
    PixelUnshuffle,
    Upsample,
    UpsamplingBilinear2d,
    UpsamplingNearest2d,
)

__all__ = [
    "CELU", "ELU", "GELU", "SELU", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool2d",
    "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "CircularPad2d",
    "ConstantPad2d", "Conv2d", "ConvTranspose2d", "CrossEntropyLoss", "Dropout", "Dropout1d",
    "Dropout2d", "Dropout3d", "Embedding", "Flatten", "GroupNorm",
    "Hardsigmoid", "Hardswish", "Hardtanh", "HuberLoss", "Identity", "InstanceNorm2d",
    "KLDivLoss", "L1Loss", "LayerNorm", "LeakyReLU", "Linear", "LogSigmoid", "LogSoftmax",
    "MSELoss",
    "MaxPool2d", "Mish", "NLLLoss", "PReLU", "PixelShuffle", "PixelUnshuffle", "ReLU", "ReLU6",
    "ReflectionPad2d", "ReplicationPad2d", "SiLU", "Sigmoid", "SmoothL1Loss", "Softmax",
    "Softplus", "Tanh", "Unflatten", "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d",
    "ZeroPad2d",
]
