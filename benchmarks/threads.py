"""Thread scaling: the LeNet-5 training step (batch 64, as ``benchmarks/lenet.py``) on two threads
and then on one -- ours (``parallel.set_threads``, and OpenBLAS held to one thread for the one)
and PyTorch's (``torch.set_num_threads``) -- and what one parallel dispatch of ours costs (a
``run_chunks`` of nothing, split over two threads: the pool thread's wake-up). The measurements
behind RESULTS.md's "Where the Intel gap is: the second core".

    python -m benchmarks threads --pairs 3
"""

from __future__ import annotations

import sys
from typing import Any

from benchmarks.common import timeit
from benchmarks.lenet import our_step, torch_step


def _ours() -> dict[str, float]:
    from tinygrad_cnn import parallel

    step = our_step()
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

    step = torch_step()
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
