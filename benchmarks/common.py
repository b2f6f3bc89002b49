"""Timing helpers and the machine description shared by the benchmarks.

Every figure is a median over several repeats taken after a warm-up, in the process state named
next to it ("warm": the same process has already run the case, so numpy's allocator holds the
buffers; "fresh": a new process).
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any


def timeit(fn: Callable[[], Any], repeat: int = 7, min_time: float = 0.05,
           warmup: int = 2) -> float:
    """Median seconds per call of ``fn`` over ``repeat`` repeats (each at least ``min_time`` long),
    after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time or number >= 1 << 20:
            break
        number *= 2 if dt > min_time / 4 else 4
    samples = [dt / number]
    for _ in range(repeat - 1):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return statistics.median(samples)


def torch_available() -> bool:
    """Whether PyTorch is installed -- without importing it (an import would bloat this process,
    and children inherit their parent's peak RSS figure)."""
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would include the parent's)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        from tinygrad_cnn import blas

        return blas.describe()
    parts = []
    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            parts.append(f"{lib.get('internal_api')} {lib.get('version')} "
                         f"({lib.get('architecture')}, {lib.get('num_threads')} threads)")
    return "; ".join(parts) or "no BLAS found"


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> dict[str, str]:
    import numpy as np

    info = {
        "cpu": f"{cpu_name()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy BLAS": blas_info(),
    }
    if torch_available():
        from importlib.metadata import version

        info["torch"] = version("torch")
    else:
        info["torch"] = "not installed"
    return info


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None or theirs == 0:
        return "—"
    return f"{ours / theirs:.2f}×"


def torch_lenet5() -> Any:
    """PyTorch's twin of ``tinygrad_cnn.models.LeNet5`` (same layers and parameter names)."""
    import torch.nn as tnn

    TF = tnn.functional

    class LeNet5(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1, self.conv2 = tnn.Conv2d(1, 6, 5, padding=2), tnn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = tnn.Linear(400, 120), tnn.Linear(120, 84), \
                tnn.Linear(84, 10)

        def forward(self, x: Any) -> Any:
            x = TF.max_pool2d(self.conv1(x).relu(), 2)
            x = TF.max_pool2d(self.conv2(x).relu(), 2).flatten(1)
            return self.fc3(self.fc2(self.fc1(x).relu()).relu())

    return LeNet5()
