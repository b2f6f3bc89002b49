"""Ready-made models: LeNet-5 and ResNet-8 (``MODELS`` names them for the command line)."""

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


class BasicBlock(nn.Module):
    """The residual block of ResNet-18/34: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``
    with 3×3 convolutions; when the block strides or widens, the shortcut is a strided 1×1
    convolution and a BatchNorm (``downsample``), else the identity. (torchvision's names.)"""

    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or in_planes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + shortcut)


class ResNet(nn.Module):
    """A CIFAR-style ResNet (He et al. 2016, section 4.2) for small images: a 3×3 stem, three
    stages of ``BasicBlock``s at ``widths`` channels (the second and third start with a stride-2
    block), global average pooling (``AdaptiveAvgPool2d(1)``) and a linear head.

    ``(N, 1, 28, 28)`` -> stem ``(N, 16, 28, 28)`` -> stage 1 ``(N, 16, 28, 28)`` -> stage 2
    ``(N, 32, 14, 14)`` -> stage 3 ``(N, 64, 7, 7)`` -> pool ``(N, 64, 1, 1)`` -> ``(N, 10)``.
    Convolutions start He-normal (``fan_out``), BatchNorms at scale 1 and shift 0, as
    torchvision's ResNets."""

    def __init__(self, blocks: tuple[int, int, int] = (1, 1, 1),
                 widths: tuple[int, int, int] = (16, 32, 64), in_channels: int = 1,
                 num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        planes = widths[0]
        stages = []
        for i, (n, width) in enumerate(zip(blocks, widths)):
            layers = []
            for j in range(n):
                layers.append(BasicBlock(planes, width, stride=2 if i > 0 and j == 0 else 1))
                planes = width
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(planes, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.bn1(self.conv1(x)))  # (N, 16, 28, 28)
        x = self.layer1(x)  # (N, 16, 28, 28)
        x = self.layer2(x)  # (N, 32, 14, 14)
        x = self.layer3(x)  # (N, 64, 7, 7)
        x = self.avgpool(x).flatten(1)  # (N, 64)
        return self.fc(x)  # (N, num_classes) logits


def resnet8(num_classes: int = 10, in_channels: int = 1) -> ResNet:
    """ResNet-8 (one BasicBlock per stage: 1 + 3 × 2 convolutions + 1 linear layer, 78k
    parameters) for 28×28 MNIST digits."""
    return ResNet((1, 1, 1), (16, 32, 64), in_channels, num_classes)


# The models the command line knows, by the name ``--model`` takes and checkpoints record. Each
# entry builds the model with its defaults for 28×28 MNIST digits and 10 classes.
MODELS: dict[str, Callable[[], nn.Module]] = {"lenet5": LeNet5, "resnet8": resnet8}
