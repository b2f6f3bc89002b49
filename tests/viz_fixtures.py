"""Graphs for the drawing tests. The pinned text forms name lines of this file: keep them put."""

from __future__ import annotations

import numpy as np

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.models import LeNet5


def line_of(code: str) -> int:
    """The line of this file that holds ``code``."""
    with open(__file__) as f:
        return next(n for n, line in enumerate(f, start=1) if code in line)


def fixed_expression():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="a")
    b = Tensor(np.array([[3.0, 4.0]]), name="b")
    return ((a * b).relu().sum(1) + 1.0).exp()


def lenet_loss(batch: int = 2):
    tg.manual_seed(0)
    model = LeNet5()
    x = Tensor(np.random.default_rng(0).standard_normal((batch, 1, 28, 28)).astype(np.float32),
               name="images")
    logits = model(x)
    logits.name = "logits"
    loss = F.cross_entropy(logits, np.arange(batch) % 10)
    loss.name = "loss"
    return model, x, loss


class Block(nn.Module):
    """A residual block: x + conv(relu(conv(x))), then relu."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return (x + self.conv2(self.conv1(x).relu())).relu()


def resnet_like(blocks: int = 4, channels: int = 4):
    """A stem, a stage of ``blocks`` identical residual blocks, a head."""
    tg.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, channels, 3, padding=1),
                         nn.Sequential(*[Block(channels) for _ in range(blocks)]),
                         nn.Flatten(), nn.Linear(channels * 8 * 8, 10))


def tanh_mlp(depth: int = 20, width: int = 16, gain: float = 1.0):
    """``depth`` Linear+Tanh layers; ``gain`` scales the initial weights (small: vanishing
    gradients, large: exploding ones)."""
    tg.manual_seed(0)
    layers = [nn.Linear(3, width), nn.Tanh()]
    for _ in range(depth - 1):
        layers += [nn.Linear(width, width), nn.Tanh()]
    layers.append(nn.Linear(width, 1))
    model = nn.Sequential(*layers)
    with tg.no_grad():
        for p in model.parameters():
            p.mul_(gain)
    return model
