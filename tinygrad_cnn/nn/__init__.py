"""Neural-network building blocks: ``Module``, layers, losses; ``nn.functional`` (``F``) holds the
functions and ``nn.init`` the initialisers."""

from tinygrad_cnn.nn import functional, init
from tinygrad_cnn.nn.layers import (
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    ConvTranspose2d,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MaxPool2d,
    MSELoss,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from tinygrad_cnn.nn.module import Module, Parameter, Sequential

__all__ = [
    "AvgPool2d", "BatchNorm2d", "Conv2d", "ConvTranspose2d", "CrossEntropyLoss", "Dropout",
    "Flatten", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "MaxPool2d", "Module", "Parameter",
    "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "functional", "init",
]
