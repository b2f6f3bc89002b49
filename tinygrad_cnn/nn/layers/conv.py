"""Convolutions: Conv2d (with PyTorch's ``padding_mode``) and ConvTranspose2d."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn.functional import _pair
from tinygrad_cnn.nn.layers.basic import _empty, _reset_like_pytorch
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.tensor import Tensor

IntPair = int | tuple[int, int]
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv2d(Module):
    """2-D convolution with every PaddlePaddle/PyTorch parameter: rectangular kernels, stride,
    padding (also ``"same"``/``"valid"``) and dilation per axis, groups, bias on or off.

    ``padding_mode``: ``"zeros"`` (the default), or ``"reflect"``, ``"replicate"``,
    ``"circular"``: the input is padded that way (``F.pad``) and then convolved without
    padding, as PyTorch does."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair,
                 stride: IntPair = 1, padding: IntPair | str = 0, dilation: IntPair = 1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d: groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"Conv2d: padding_mode must be one of {PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        op = "Conv2d"  # the checks of F.conv2d, at construction time
        self.kernel_size = _pair(kernel_size, "kernel_size", op, 1)
        self.stride, self.dilation = _pair(stride, "stride", op, 1), _pair(dilation, "dilation", op, 1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Conv2d: padding must be an int, an (h, w) pair, 'same' or "
                                 f"'valid'; got {padding!r}")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError("Conv2d: padding='same' needs stride 1; give explicit padding "
                                 "for strided convolutions")
            self.padding: IntPair | str = padding
        else:
            self.padding = _pair(padding, "padding", op, 0)
        self.groups, self.padding_mode = groups, padding_mode
        self.weight = _empty(out_channels, in_channels // groups, *self.kernel_size)
        self.register_parameter("bias", _empty(out_channels) if bias else None)  # None: registered
        self.reset_parameters()
        self.to(device=device, dtype=dtype)  # PyTorch's factory arguments

    def reset_parameters(self) -> None:
        """The constructor's initialisation again (PyTorch's Kaiming-uniform), in place."""
        _reset_like_pytorch(self.weight, self.bias)

    def _mode_padding(self) -> tuple[int, int, int, int]:
        """``F.pad``'s ``(left, right, top, bottom)`` for a non-zeros ``padding_mode``."""
        if self.padding == "valid":
            return (0, 0, 0, 0)
        if self.padding == "same":  # PyTorch puts the odd extra on the right/bottom
            (th, tw) = (d * (k - 1) for d, k in zip(self.dilation, self.kernel_size))
            return (tw // 2, tw - tw // 2, th // 2, th - th // 2)
        ph, pw = self.padding  # type: ignore[misc]
        return (pw, pw, ph, ph)

    def forward(self, x: Tensor) -> Tensor:
        if self.padding_mode != "zeros":
            x = F.pad(x, self._mode_padding(), mode=self.padding_mode)
            return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):  # (PyTorch shows padding=valid too)
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class ConvTranspose2d(Module):
    """Transposed convolution ("deconvolution"); ``weight (in, out // groups, kh, kw)``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair,
                 stride: IntPair = 1, padding: IntPair = 0, output_padding: IntPair = 0,
                 groups: int = 1, bias: bool = True, dilation: IntPair = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if padding_mode != "zeros":
            raise ValueError(f"ConvTranspose2d: only padding_mode='zeros' is supported (as in "
                             f"PyTorch), got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        op = "ConvTranspose2d"
        self.kernel_size = _pair(kernel_size, "kernel_size", op, 1)
        self.stride, self.padding = _pair(stride, "stride", op, 1), _pair(padding, "padding", op, 0)
        self.output_padding = _pair(output_padding, "output_padding", op, 0)
        self.dilation, self.groups = _pair(dilation, "dilation", op, 1), groups
        self.weight = _empty(in_channels, out_channels // groups, *self.kernel_size)
        self.register_parameter("bias", _empty(out_channels) if bias else None)  # None: registered
        self.reset_parameters()
        self.to(device=device, dtype=dtype)  # PyTorch's factory arguments

    def reset_parameters(self) -> None:
        """The constructor's initialisation again (PyTorch's Kaiming-uniform), in place."""
        _reset_like_pytorch(self.weight, self.bias)

    def forward(self, x: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        """``output_size``: the wanted ``(H, W)`` (or a longer shape ending in them) -- PyTorch's
        way to pick among the sizes a strided transposed convolution can give (it sets
        ``output_padding``)."""
        pad = self.output_padding if output_size is None else self._output_padding(x, output_size)
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, pad,
                                  self.groups, self.dilation)

    def _output_padding(self, x: Tensor, output_size: Sequence[int]) -> tuple[int, int]:
        size = [int(v) for v in output_size][-2:]
        if len(size) != 2:
            raise ValueError(f"ConvTranspose2d: output_size must end in (H, W), got "
                             f"{tuple(output_size)}")
        pads = []
        for i in range(2):
            least = ((x.shape[-2 + i] - 1) * self.stride[i] - 2 * self.padding[i]
                     + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            most = least + max(self.stride[i], self.dilation[i]) - 1
            if not least <= size[i] <= most:
                raise ValueError(f"ConvTranspose2d: requested an output size of {tuple(size)}, "
                                 f"but the valid sizes for input {tuple(x.shape[-2:])} range from "
                                 f"{least} to {most} along {'HW'[i]}")
            pads.append(size[i] - least)
        return pads[0], pads[1]

    def extra_repr(self) -> str:  # PyTorch's: what differs from the defaults, in its order
        extra = "".join(f", {k}={v}" for k, v, default in (
            ("padding", self.padding, (0, 0)), ("dilation", self.dilation, (1, 1)),
            ("output_padding", self.output_padding, (0, 0)), ("groups", self.groups, 1))
            if v != default)
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}{extra}" + ("" if self.bias is not None else ", bias=False"))
