"""Engine overhead: long chains (linear growth of backward) and the per-op cost of small-tensor ops
(forward + backward) against PyTorch eager.

    python -m benchmarks.engine            # both implementations, each in its own process
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from benchmarks.common import timeit

SMALL_OPS = ["add", "mul", "relu", "exp", "sum", "matmul", "reshape", "getitem",
             # ops of the breadth issues (14, 15)
             "mean", "max", "sigmoid", "tanh", "softmax", "log_softmax", "where", "cat", "gather",
             # broadcasting operands that require grad (a bias added by hand, a column scale)
             "add bias", "mul column"]


def _chain(lib: Any, n: int) -> tuple[float, float]:
    """Seconds to record and to backpropagate a chain of ``n`` multiplications (median of 3)."""
    fwd, bwd = [], []
    for _ in range(3):
        x = lib.make(np.ones(4), True)
        t0 = time.perf_counter()
        y = x
        for _ in range(n):
            y = y * 1.0
        t1 = time.perf_counter()
        y.sum().backward()
        t2 = time.perf_counter()
        fwd.append(t1 - t0)
        bwd.append(t2 - t1)
        del y
    return float(np.median(fwd)), float(np.median(bwd))


class _Ours:
    def __init__(self) -> None:
        import tinygrad_cnn as tg

        self.tg = tg
        self.mod = tg

    def make(self, arr: np.ndarray, requires_grad: bool = False) -> Any:
        return self.tg.Tensor(arr, requires_grad=requires_grad)


class _Torch:
    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.mod = torch

    def make(self, arr: np.ndarray, requires_grad: bool = False) -> Any:
        return self.torch.tensor(arr, requires_grad=requires_grad)


def _small_op(lib: Any, op: str) -> float:
    rng = np.random.default_rng(0)
    a = lib.make(rng.standard_normal((16, 16)).astype(np.float32), True)
    b = lib.make(rng.standard_normal((16, 16)).astype(np.float32), True)
    positive = lib.make(rng.standard_normal((16, 16)) > 0)
    index = lib.make(rng.integers(0, 16, (16, 8)))
    bias = lib.make(rng.standard_normal(16).astype(np.float32), True)
    column = lib.make(rng.standard_normal((16, 1)).astype(np.float32), True)
    f = {
        "add": lambda: a + b,
        "mul": lambda: a * b,
        "relu": lambda: a.relu(),
        "exp": lambda: a.exp(),
        "sum": lambda: a.sum(),
        "matmul": lambda: a @ b,
        "reshape": lambda: a.reshape(256),
        "getitem": lambda: a[2:10],
        "mean": lambda: a.mean(),
        "max": lambda: a.max(),
        "sigmoid": lambda: a.sigmoid(),
        "tanh": lambda: a.tanh(),
        "softmax": lambda: a.softmax(-1),
        "log_softmax": lambda: a.log_softmax(-1),
        "where": lambda: lib.mod.where(positive, a, b),
        "cat": lambda: lib.mod.cat([a, b]),
        "gather": lambda: a.gather(1, index),
        "add bias": lambda: a + bias,
        "mul column": lambda: a * column,
    }[op]
    out = f()
    g = lib.make(np.ones(out.shape, dtype=np.float32))

    def step() -> None:
        f().backward(g)

    return timeit(step, repeat=7, min_time=0.05)


def run(impl: str) -> dict[str, float]:
    lib = _Ours() if impl == "ours" else _Torch()
    results: dict[str, float] = {}
    for n in (10_000, 200_000):
        fwd, bwd = _chain(lib, n)
        results[f"chain {n} forward"] = fwd
        results[f"chain {n} backward"] = bwd
    for op in SMALL_OPS:
        results[f"small op {op}"] = _small_op(lib, op)
    return results


if __name__ == "__main__":
    from benchmarks.runner import main

    sys.exit(main(["engine", *sys.argv[1:]]))
