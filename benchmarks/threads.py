"""Thread scaling: the LeNet-5 training step (batch 64, as ``benchmarks/lenet.py``) on one thread
and on two -- ours (``parallel.set_threads`` and OpenBLAS held to one thread; then the default)
and PyTorch's (``torch.set_num_threads``) -- and what one parallel dispatch of ours costs (a
``run_chunks`` of nothing, split over two threads: the pool thread's wake-up). The measurements
behind RESULTS.md's "Where the Intel gap is: the second core".

    python -m benchmarks threads --pairs 3
"""

from __future__ import annotations

import sys
from typing import Any

from benchmarks.common import timeit, torch_lenet5
from benchmarks.lenet import _data


def _ours() -> dict[str, float]:
    import tinygrad_cnn as tg
    import tinygrad_cnn.nn.functional as F
    from tinygrad_cnn import Tensor, optim, parallel
    from tinygrad_cnn.models import LeNet5

    tg.manual_seed(0)
    model = LeNet5()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xs, ys = _data()
    x = Tensor(xs)

    def step() -> None:
        opt.zero_grad()
        F.cross_entropy(model(x), ys).backward()
        opt.step()

    before = parallel.threads()
    results = {}
    try:
        # (two threads first, as PyTorch's side: its OpenMP pool, once cut to one thread, may
        # not come back to its two-threaded speed within the process)
        parallel.set_threads(2)
        results["LeNet-5 training step, two threads"] = timeit(step, repeat=15, min_time=0.2)
        parallel.set_threads(1)
        with parallel.one_blas_thread():
            results["LeNet-5 training step, one thread"] = timeit(step, repeat=15, min_time=0.2)
        parallel.set_threads(2)
        # (nbytes far above the split threshold: the pool thread always gets a piece)
        results["a parallel dispatch of nothing, two threads"] = timeit(
            lambda: parallel.run_chunks(64, lambda s, e: None, nbytes=1 << 40), repeat=15)
    finally:
        parallel.set_threads(before)
    return results


def _torch() -> dict[str, float]:
    import torch

    torch.manual_seed(0)
    model = torch_lenet5()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xs, ys = _data()
    x, y = torch.tensor(xs), torch.tensor(ys)

    def step() -> None:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    before = torch.get_num_threads()
    results = {}
    try:
        for n, word in ((2, "two threads"), (1, "one thread")):
            torch.set_num_threads(n)
            results[f"LeNet-5 training step, {word}"] = timeit(step, repeat=15, min_time=0.2)
    finally:
        torch.set_num_threads(before)
    return results


def run(impl: str) -> dict[str, Any]:
    return _ours() if impl == "ours" else _torch()


if __name__ == "__main__":
    from benchmarks.runner import main

    sys.exit(main(["threads", *sys.argv[1:]]))
