"""Layers: thin modules over ``nn.functional``, with PyTorch's constructors, parameter and buffer
names, and default initialisation (Kaiming-uniform with ``a = sqrt(5)``: weights and biases in
``±1/sqrt(fan_in)``). One file per kind:

| file | layers |
|---|---|
| ``basic.py`` | Linear, Identity, Flatten, Unflatten, Dropout, Dropout1d-3d, Embedding |
| ``conv.py`` | Conv1d, Conv2d (``padding_mode``), ConvTranspose1d, ConvTranspose2d, Unfold, Fold |
| ``pool.py`` | MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvg/MaxPool1d/2d, MaxUnpool1d/2d, LPPool1d/2d, |
|  | Upsample, PixelShuffle, ChannelShuffle |
| ``padding.py`` | ZeroPad2d, ConstantPad2d, ReflectionPad2d, ReplicationPad2d, CircularPad2d |
| ``activation.py`` | ReLU, LeakyReLU, PReLU, GELU, SiLU, ELU, SELU, Softplus, LogSigmoid, Mish, ... |
| ``norm.py`` | BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, LayerNorm, GroupNorm, LocalResponseNorm |
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
from tinygrad_cnn.nn.layers.conv import (
    Conv1d,
    Conv2d,
    ConvTranspose1d,
    ConvTranspose2d,
    Fold,
    Unfold,
)
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
    BatchNorm3d,
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    LayerNorm,
    LocalResponseNorm,
)
from tinygrad_cnn.nn.layers.padding import (
    CircularPad2d,
    ConstantPad2d,
    ReflectionPad2d,
    ReplicationPad2d,
    ZeroPad2d,
)
from tinygrad_cnn.nn.layers.pool import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    ChannelShuffle,
    LPPool1d,
    LPPool2d,
    MaxPool1d,
    MaxPool2d,
    MaxUnpool1d,
    MaxUnpool2d,
    PixelShuffle,
    PixelUnshuffle,
    Upsample,
    UpsamplingBilinear2d,
    UpsamplingNearest2d,
)

__all__ = [
    "CELU", "ELU", "GELU", "SELU", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "AvgPool1d", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d",
    "BatchNorm2d", "BatchNorm3d", "ChannelShuffle", "CircularPad2d", "ConstantPad2d", "Conv1d",
    "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "CrossEntropyLoss", "Dropout", "Dropout1d",
    "Dropout2d", "Dropout3d", "Embedding", "Flatten", "Fold", "GroupNorm",
    "Hardsigmoid", "Hardswish", "Hardtanh", "HuberLoss", "Identity", "InstanceNorm1d",
    "InstanceNorm2d", "InstanceNorm3d", "KLDivLoss", "L1Loss", "LPPool1d", "LPPool2d", "LayerNorm",
    "LeakyReLU", "Linear", "LocalResponseNorm", "LogSigmoid", "LogSoftmax", "MSELoss",
    "MaxPool1d", "MaxPool2d", "MaxUnpool1d", "MaxUnpool2d", "Mish", "NLLLoss", "PReLU",
    "PixelShuffle", "PixelUnshuffle", "ReLU", "ReLU6", "ReflectionPad2d", "ReplicationPad2d",
    "SiLU", "Sigmoid", "SmoothL1Loss", "Softmax", "Softplus", "Tanh", "Unflatten", "Unfold",
    "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d", "ZeroPad2d",
]
