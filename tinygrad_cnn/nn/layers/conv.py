"""Convolutions: Conv1d and Conv2d (with PyTorch's ``padding_mode``), ConvTranspose1d and
ConvTranspose2d; Unfold and Fold (im2col and col2im as layers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn.functional import _pair
from tinygrad_cnn.nn.functional_1d import _single
from tinygrad_cnn.nn.layers.basic import _empty, _reset_like_pytorch
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.tensor import Tensor

IntPair = int | tuple[int, int]
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _reversed_padding(m: Any) -> tuple[int, ...] | list[int]:
    """PyTorch's ``_reversed_padding_repeated_twice``: ``F.pad``'s widths for the padding, last
    dim first (``'same'`` with the odd extra after, ``'valid'`` zeros)."""
    if not isinstance(m.padding, str):
        return tuple(p for p in reversed(m.padding) for _ in range(2))  # (a tuple, as PyTorch's)
    widths = []
    for d, k in reversed(list(zip(m.dilation, m.kernel_size))):
        total = d * (k - 1) if m.padding == "same" else 0
        widths += [total // 2, total - total // 2]
    return widths


class Conv2d(Module):
    """2-D convolution with every PaddlePaddle/PyTorch parameter: rectangular kernels, stride,
    padding (also ``"same"``/``"valid"``) and dilation per axis, groups, bias on or off.

    ``padding_mode``: ``"zeros"`` (the default), or ``"reflect"``, ``"replicate"``,
    ``"circular"``: the input is padded that way (``F.pad``) and then convolved without
    padding, as PyTorch does."""

    transposed = False  # (PyTorch's attribute)

    transposed = False  # (PyTorch's _ConvNd attributes)
    _reversed_padding_repeated_twice = property(_reversed_padding)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair,
                 stride: IntPair = 1, padding: IntPair | str = 0, dilation: IntPair = 1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        _check_groups("Conv2d", in_channels, out_channels, groups)
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
        self.output_padding = (0, 0)  # (PyTorch's _ConvNd attribute; always 0 here)
        self.weight = _empty(out_channels, in_channels // groups, *self.kernel_size)
        self.register_parameter("bias", _empty(out_channels) if bias else None)  # None: registered
        self.reset_parameters()
        self.to(device=device, dtype=dtype)  # PyTorch's factory arguments

    def reset_parameters(self) -> None:
        """The constructor's initialisation again (PyTorch's Kaiming-uniform), in place."""
        _reset_like_pytorch(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        if self.padding_mode != "zeros":
            input = F.pad(input, tuple(self._reversed_padding_repeated_twice),
                          mode=self.padding_mode)
            return F.conv2d(input, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        return _conv_repr(self)


class ConvTranspose2d(Module):
    """Transposed convolution ("deconvolution"); ``weight (in, out // groups, kh, kw)``."""

    transposed = True  # (PyTorch's attribute)

    transposed = True  # (PyTorch's _ConvNd attributes)
    _reversed_padding_repeated_twice = property(_reversed_padding)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair,
                 stride: IntPair = 1, padding: IntPair = 0, output_padding: IntPair = 0,
                 groups: int = 1, bias: bool = True, dilation: IntPair = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        _check_groups("ConvTranspose2d", in_channels, out_channels, groups)
        if padding_mode != "zeros":
            raise ValueError(f"ConvTranspose2d: only padding_mode='zeros' is supported (as in "
                             f"PyTorch), got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        op = "ConvTranspose2d"
        self.kernel_size = _pair(kernel_size, "kernel_size", op, 1)
        self.stride, self.padding = _pair(stride, "stride", op, 1), _pair(padding, "padding", op, 0)
        self.output_padding = _pair(output_padding, "output_padding", op, 0)
        self.dilation, self.groups = _pair(dilation, "dilation", op, 1), groups
        self.padding_mode = padding_mode
        self.weight = _empty(in_channels, out_channels // groups, *self.kernel_size)
        self.register_parameter("bias", _empty(out_channels) if bias else None)  # None: registered
        self.reset_parameters()
        self.to(device=device, dtype=dtype)  # PyTorch's factory arguments

    def reset_parameters(self) -> None:
        """The constructor's initialisation again (PyTorch's Kaiming-uniform), in place."""
        _reset_like_pytorch(self.weight, self.bias)

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        """``output_size``: the wanted ``(H, W)`` (or a longer shape ending in them) -- PyTorch's
        way to pick among the sizes a strided transposed convolution can give (it sets
        ``output_padding``)."""
        pad = self.output_padding if output_size is None else self._output_padding(input, output_size)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, pad,
                                  self.groups, self.dilation)

    def _output_padding(self, x: Tensor, output_size: Sequence[int]) -> tuple[int, int]:
        size = _output_sizes("ConvTranspose2d", output_size)
        if isinstance(output_size, (int, np.integer)):
            size *= 2
        non_spatial = 2 if x.ndim == 4 else 1
        if len(size) == non_spatial + 2:
            size = size[non_spatial:]
        if len(size) != 2:  # (PyTorch's rule: the spatial sizes, or the whole output shape)
            raise ValueError(f"ConvTranspose2d: for {x.ndim}D input, output_size must have 2 or "
                             f"{non_spatial + 2} elements (got {len(size)}: {tuple(size)})")
        pads = []
        for i in range(2):
            least = ((x.shape[-2 + i] - 1) * self.stride[i] - 2 * self.padding[i]
                     + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            most = least + self.stride[i] - 1  # (PyTorch's module: by the stride alone)
            if not least <= size[i] <= most:
                raise ValueError(f"ConvTranspose2d: requested an output size of {tuple(size)}, "
                                 f"but the valid sizes for input {tuple(x.shape[-2:])} range from "
                                 f"{least} to {most} along {'HW'[i]}")
            pads.append(size[i] - least)
        return pads[0], pads[1]

    def extra_repr(self) -> str:
        return _conv_repr(self)


def _output_sizes(op: str, output_size: Any) -> list[int]:
    """``forward``'s ``output_size`` (a number or a sequence of them) as ints; anything but
    integers is refused, as PyTorch refuses it (8.5 was cut to 8)."""
    items = [output_size] if isinstance(output_size, (int, np.integer)) else \
        list(output_size) if isinstance(output_size, Sequence) else None
    if items is None or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                for v in items):
        raise ValueError(f"{op}: output_size must be an int or a sequence of ints, got "
                         f"{output_size!r}")
    return [int(v) for v in items]


# ------------------------------------------------------------------------------ 1-D
IntOne = int | tuple[int]


def _check_groups(op: str, in_channels: int, out_channels: int, groups: int) -> None:
    """PyTorch's constructor checks (ValueError), in its order."""
    if not isinstance(groups, (int, np.integer)):  # (True is 1, as PyTorch takes it)
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    if groups <= 0:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups}")
    if in_channels % groups:
        raise ValueError(f"{op}: in_channels must be divisible by groups, got "
                         f"in_channels={in_channels} and groups={groups}")
    if out_channels % groups:
        raise ValueError(f"{op}: out_channels must be divisible by groups, got "
                         f"out_channels={out_channels} and groups={groups}")


def _conv_repr(m: Any) -> str:
    """PyTorch's ``_ConvNd.extra_repr``: the arguments that differ from their defaults."""
    s = f"{m.in_channels}, {m.out_channels}, kernel_size={m.kernel_size}, stride={m.stride}"
    if m.padding != (0,) * len(m.padding):  # (a string: PyTorch shows padding=same/valid)
        s += f", padding={m.padding}"
    if m.dilation != (1,) * len(m.dilation):
        s += f", dilation={m.dilation}"
    output_padding = getattr(m, "output_padding", ())  # (transposed convolutions only)
    if output_padding != (0,) * len(output_padding):
        s += f", output_padding={output_padding}"
    if m.groups != 1:
        s += f", groups={m.groups}"
    if m.bias is None:
        s += ", bias=False"
    if getattr(m, "padding_mode", "zeros") != "zeros":
        s += f", padding_mode={m.padding_mode}"
    return s


class Conv1d(Module):
    """1-D convolution over ``(N, C, L)`` (or unbatched ``(C, L)``): ``weight (out_channels,
    in_channels // groups, kernel_size)``, ``bias (out_channels,)``; stride, padding (also
    ``"same"``/``"valid"``), dilation, groups. ``padding_mode`` as ``Conv2d``'s: a non-zeros mode
    pads the input with ``F.pad`` first. Initialised as PyTorch does (Kaiming-uniform, weights and
    bias in ``±1/sqrt(in_channels / groups * kernel_size)``)."""

    transposed = False  # (PyTorch's attribute)

    transposed = False  # (PyTorch's _ConvNd attributes)
    _reversed_padding_repeated_twice = property(_reversed_padding)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOne,
                 stride: IntOne = 1, padding: IntOne | str = 0, dilation: IntOne = 1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        op = "Conv1d"
        _check_groups(op, in_channels, out_channels, groups)
        self.kernel_size = (_single(kernel_size, "kernel_size", op, 1, ValueError),)
        self.stride = (_single(stride, "stride", op, 1, ValueError),)
        self.dilation = (_single(dilation, "dilation", op, 1, ValueError),)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of "
                                 "'same', 'valid' (or give an int)")
            if padding == "same" and self.stride != (1,):
                raise ValueError(f"{op}: padding='same' is not supported for strided "
                                 f"convolutions (stride {self.stride}); give an int padding")
            self.padding: tuple[int] | str = padding
        else:
            self.padding = (_single(padding, "padding", op, 0, ValueError),)
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{op}: padding_mode must be one of {PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.output_padding, self.groups, self.padding_mode = (0,), groups, padding_mode
        self.weight = _empty(out_channels, in_channels // groups, *self.kernel_size)
        self.register_parameter("bias", _empty(out_channels) if bias else None)  # None: registered
        self.reset_parameters()
        self.to(device=device, dtype=dtype)  # PyTorch's factory arguments

    def reset_parameters(self) -> None:
        """The constructor's initialisation again (PyTorch's Kaiming-uniform), in place."""
        _reset_like_pytorch(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        if self.padding_mode != "zeros":
            padded = F.pad(input, tuple(self._reversed_padding_repeated_twice),
                           mode=self.padding_mode)
            return F.conv1d(padded, self.weight, self.bias, self.stride, 0, self.dilation,
                            self.groups)
        return F.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        return _conv_repr(self)


class ConvTranspose1d(Module):
    """Transposed 1-D convolution; ``weight (in_channels, out_channels // groups, kernel_size)``,
    ``bias (out_channels,)``. ``forward(input, output_size=None)``: ``output_size`` (``(L,)`` or
    the whole output shape) picks the output length among those a stride allows."""

    transposed = True  # (PyTorch's attribute)

    transposed = True  # (PyTorch's _ConvNd attributes)
    _reversed_padding_repeated_twice = property(_reversed_padding)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOne,
                 stride: IntOne = 1, padding: IntOne = 0, output_padding: IntOne = 0,
                 groups: int = 1, bias: bool = True, dilation: IntOne = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        op = "ConvTranspose1d"
        if padding_mode != "zeros":
            raise ValueError(f'{op}: only "zeros" padding mode is supported (as in PyTorch), '
                             f"got {padding_mode!r}")
        _check_groups(op, in_channels, out_channels, groups)
        if isinstance(padding, str):
            raise ValueError(f"{op}: padding must be an int, got {padding!r} (a transposed "
                             "convolution takes no 'same'/'valid')")
        self.kernel_size = (_single(kernel_size, "kernel_size", op, 1, ValueError),)
        self.stride = (_single(stride, "stride", op, 1, ValueError),)
        self.padding = (_single(padding, "padding", op, 0, ValueError),)
        self.output_padding = (_single(output_padding, "output_padding", op, 0, ValueError),)
        self.dilation = (_single(dilation, "dilation", op, 1, ValueError),)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.groups, self.padding_mode = groups, padding_mode
        self.weight = _empty(in_channels, out_channels // groups, *self.kernel_size)
        self.register_parameter("bias", _empty(out_channels) if bias else None)  # None: registered
        self.reset_parameters()
        self.to(device=device, dtype=dtype)  # PyTorch's factory arguments

    def reset_parameters(self) -> None:
        """The constructor's initialisation again (PyTorch's Kaiming-uniform, with the fan-in of
        ``weight.shape[1] * kernel_size``), in place."""
        _reset_like_pytorch(self.weight, self.bias)

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        pad = self.output_padding if output_size is None else self._output_padding(input,
                                                                                   output_size)
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding, pad,
                                  self.groups, self.dilation)

    def _output_padding(self, input: Tensor, output_size: Sequence[int] | int) -> int:
        """PyTorch's ``_output_padding``: the ``output_padding`` that gives ``output_size``."""
        op = "ConvTranspose1d"
        size = _output_sizes(op, output_size)
        non_spatial = 2 if input.ndim == 3 else 1
        if len(size) == non_spatial + 1:
            size = size[non_spatial:]
        if len(size) != 1:
            raise ValueError(f"{op}: for {input.ndim}D input, output_size must have 1 or "
                             f"{non_spatial + 1} elements (got {len(size)}: {tuple(size)})")
        (k,), (s,), (p,), (d,) = self.kernel_size, self.stride, self.padding, self.dilation
        length = input.shape[-1]
        least = (length - 1) * s - 2 * p + d * (k - 1) + 1
        most = least + s - 1
        if not least <= size[0] <= most:
            raise ValueError(f"{op}: requested an output size of {size[0]}, but valid sizes "
                             f"range from {least} to {most} (for an input of length {length})")
        return size[0] - least

    def extra_repr(self) -> str:
        return _conv_repr(self)


# ------------------------------------------------------------------------------ im2col, col2im
class Unfold(Module):
    """``F.unfold`` (im2col) as a layer: ``(N, C, H, W) -> (N, C * KH * KW, L)``."""

    def __init__(self, kernel_size: IntPair, dilation: IntPair = 1, padding: IntPair = 0,
                 stride: IntPair = 1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = (kernel_size, dilation,
                                                                      padding, stride)

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """``F.fold`` (col2im) as a layer: ``(N, C * KH * KW, L) -> (N, C, *output_size)``."""

    def __init__(self, output_size: IntPair, kernel_size: IntPair, dilation: IntPair = 1,
                 padding: IntPair = 0, stride: IntPair = 1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")


def __getattr__(name: str) -> object:
    # (``torch.nn.modules.conv``'s names this module lacks, ``_ConvNd``: what to do instead)
    from tinygrad_cnn._missing import no_attribute

    raise no_attribute("tinygrad_cnn.nn.modules.conv", name)
