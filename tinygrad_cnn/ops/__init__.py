"""Every op of tinygrad_cnn, one family per file, each op a ``Function`` with its VJP.

``REGISTRY`` maps each op's functional name (``"add"``, ``"conv2d"``, ...) to its class. The
drawings label nodes from it and the test suite walks it: an op without a gradcheck and a
gradgradcheck case fails the suite.
"""

from __future__ import annotations

from tinygrad_cnn.autograd import Function
from tinygrad_cnn.ops import (
    activation,
    conv,
    correlation,
    cumulative,
    distance,
    elementwise,
    histogram,
    indexing,
    inplace,
    linalg,
    loss,
    movement,
    norm,
    pool,
    quantile,
    reduce,
    resample,
    shape,
    statistics,
    threshold,
    unary,
)

FAMILIES = (elementwise, unary, activation, threshold, reduce, movement, inplace, shape, indexing,
            linalg, conv, pool, loss, norm, resample, statistics, distance,
            cumulative, quantile, histogram, correlation)


def _build_registry() -> dict[str, type[Function]]:
    registry: dict[str, type[Function]] = {}
    for module in FAMILIES:
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Function) and obj.__module__ == \
                    module.__name__:
                if obj.name in registry:
                    raise RuntimeError(f"two ops are named {obj.name!r}: {registry[obj.name]} and "
                                       f"{obj}")
                registry[obj.name] = obj
    return dict(sorted(registry.items()))


REGISTRY: dict[str, type[Function]] = _build_registry()

# the elementwise ops: their results are laid out in memory as PyTorch's (Function.pointwise);
# so are the elementwise losses' with reduction="none"
_NOT_POINTWISE = (activation.Softmax, activation.LogSoftmax, loss.CrossEntropy, loss.NLLLoss,
                  loss.BinaryCrossEntropyWithLogits, loss.KLDiv)  # (C order in PyTorch)
for _op in REGISTRY.values():
    if _op.__module__ in (elementwise.__name__, unary.__name__, threshold.__name__,
                          activation.__name__, loss.__name__) and _op not in _NOT_POINTWISE:
        _op.pointwise = True

__all__ = ["FAMILIES", "REGISTRY"]
