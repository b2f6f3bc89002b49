"""Per-op overhead against an older tree of ours, in ONE process: the package at ``--base`` (a git
revision) is extracted under another name (``tinygrad_cnn_base``) and imported beside the working
tree's, and the two run each case in turn, round after round, timed by ``time.thread_time``.

Why one process: on our VMs a Python process runs in one of two speed modes for its whole life
(the same tree's 16×16 ``add`` forward+backward takes 9.5 µs in one process and 19 µs in the
next), so A/Bs between processes need dozens of pairs to show a 5% effect; inside one process
both trees share the mode, and the best of 25 rounds of 200 calls repeats to 1–3%.

    python -m benchmarks.overhead --base ba84f24      # the round's start (issues 12 and 14)
    python -m benchmarks.overhead --base HEAD --cases rot90,nll_loss   # breadth.py's cases too
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = ["add", "mul", "relu", "exp", "sum", "matmul", "reshape", "getitem", "mean", "max",
         "sigmoid", "tanh", "softmax", "log_softmax", "where", "cat", "gather", "add bias",
         "mul column", "chain1000"]


def _extract(rev: str, into: str) -> None:
    """The package at ``rev``, renamed ``tinygrad_cnn_base`` (its own imports too)."""
    tar = subprocess.run(["git", "archive", rev, "tinygrad_cnn"], cwd=ROOT, check=True,
                         capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(into, filter="data")
    src, dst = os.path.join(into, "tinygrad_cnn"), os.path.join(into, "tinygrad_cnn_base")
    os.rename(src, dst)
    for folder, _, files in os.walk(dst):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path) as f:
                    text = f.read()
                with open(path, "w") as f:
                    f.write(re.sub(r"\btinygrad_cnn\b", "tinygrad_cnn_base", text))


def _cases(tg: Any) -> dict[str, Callable[[], None]]:
    """Each case: the op on 16×16 float32 inputs, forward and backward (as ``engine.py``)."""
    T = tg.Tensor
    rng = np.random.default_rng(0)
    a = T(rng.standard_normal((16, 16)).astype(np.float32), requires_grad=True)
    b = T(rng.standard_normal((16, 16)).astype(np.float32), requires_grad=True)
    positive = T(rng.standard_normal((16, 16)) > 0)
    index = T(rng.integers(0, 16, (16, 8)))
    bias = T(rng.standard_normal(16).astype(np.float32), requires_grad=True)
    column = T(rng.standard_normal((16, 1)).astype(np.float32), requires_grad=True)
    ops = {"add": lambda: a + b, "mul": lambda: a * b, "relu": lambda: a.relu(),
           "exp": lambda: a.exp(), "sum": lambda: a.sum(), "matmul": lambda: a @ b,
           "reshape": lambda: a.reshape(256), "getitem": lambda: a[2:10],
           "mean": lambda: a.mean(), "max": lambda: a.max(), "sigmoid": lambda: a.sigmoid(),
           "tanh": lambda: a.tanh(), "softmax": lambda: a.softmax(-1),
           "log_softmax": lambda: a.log_softmax(-1), "where": lambda: tg.where(positive, a, b),
           "cat": lambda: tg.cat([a, b]), "gather": lambda: a.gather(1, index),
           "add bias": lambda: a + bias, "mul column": lambda: a * column}
    cases: dict[str, Callable[[], None]] = {}
    for name, op in ops.items():
        g = T(np.ones(op().shape, dtype=np.float32))
        cases[name] = lambda op=op, g=g: op().backward(g)

    def chain() -> None:  # recording and backpropagating 1,000 multiplications
        y = T(np.ones(4), requires_grad=True)
        for _ in range(1000):
            y = y * 1.0
        y.sum().backward()

    cases["chain1000"] = chain
    from benchmarks.breadth import cases as breadth_cases  # (the breadth issues' ops, by name)

    for name, op in breadth_cases(tg, lambda arr, rg=False: T(arr, requires_grad=rg)).items():
        if name not in cases:
            g = T(np.ones(op().shape, dtype=np.float32))
            cases[name] = lambda op=op, g=g: op().backward(g)
    return cases


def compare(base: Any, new: Any, names: list[str], rounds: int = 25,
            calls: int = 200) -> dict[str, tuple[float, float]]:
    """Best seconds per call of each case, ``(base, new)``, the two alternating every round."""
    a, b = _cases(base), _cases(new)
    best = {k: [float("inf"), float("inf")] for k in names}
    for k in names:  # warm both
        for _ in range(20):
            a[k]()
            b[k]()
    for r in range(rounds):
        for k in names:
            n = 2 if k == "chain1000" else calls
            order = ((a[k], 0), (b[k], 1)) if r % 2 else ((b[k], 1), (a[k], 0))
            for fn, side in order:
                t0 = time.thread_time()
                for _ in range(n):
                    fn()
                best[k][side] = min(best[k][side], (time.thread_time() - t0) / n)
    return {k: (v[0], v[1]) for k, v in best.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.overhead", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="git revision to compare with")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated cases")
    parser.add_argument("--rounds", type=int, default=25)
    args = parser.parse_args(argv)
    names = [c.strip() for c in args.cases.split(",") if c.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        try:
            _extract(args.base, tmp)
        except subprocess.CalledProcessError as exc:
            parser.error(f"cannot read {args.base!r} from git: {exc.stderr.decode().strip()}")
        sys.path.insert(0, tmp)
        sys.path.insert(0, ROOT)
        base = importlib.import_module("tinygrad_cnn_base")
        new = importlib.import_module("tinygrad_cnn")
        known = list(_cases(new))
        unknown = [c for c in names if c not in known]
        if unknown:
            parser.error(f"unknown cases {unknown}; choose from {', '.join(known)}")
        results = compare(base, new, names, rounds=args.rounds)
    print(f"| case (16×16, forward+backward) | {args.base} | this tree | ratio |")
    print("|---|---:|---:|---:|")
    for k, (tb, tn) in results.items():
        print(f"| {k} | {tb * 1e6:.2f} µs | {tn * 1e6:.2f} µs | {tn / tb:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
