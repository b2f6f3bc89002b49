"""Ready-made models."""

from __future__ import annotations

from collections.abc import Callable

from tinygrad_cnn import nn
from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.tensor import Tensor


class LeNet5(nn.Module):
    """LeNet-5 for 28×28 digits, in today's form (ReLU and max pooling):

    ``(N, 1, 28, 28)`` -> conv 5×5 pad 2 (6) -> ReLU -> max pool 2 -> ``(N, 6, 14, 14)``
    -> conv 5×5 (16) -> ReLU -> max pool 2 -> ``(N, 16, 5, 5)`` -> 400 -> 120 -> 84 -> 10 logits.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = F.max_pool2d(self.conv1(x).relu(), 2)  # (N, 6, 14, 14)
        x = F.max_pool2d(self.conv2(x).relu(), 2)  # (N, 16, 5, 5)
        x = x.flatten(1)  # (N, 400)
        x = self.fc1(x).relu()
        x = self.fc2(x).relu()
        return self.fc3(x)  # (N, num_classes) logits


# The models the command line knows, by the name ``--model`` takes and checkpoints record. Each
# entry builds the model with its defaults for 28×28 MNIST digits and 10 classes.
MODELS: dict[str, Callable[[], nn.Module]] = {"lenet5": LeNet5}
