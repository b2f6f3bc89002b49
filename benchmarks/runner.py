"""Run benchmark modules in separate processes and write one markdown table.

Each module ``benchmarks/<name>.py`` has ``run(impl) -> {case: seconds}`` for ``impl`` in
``("ours", "torch")``. Ours always runs in a process that never imports torch; PyTorch runs in its
own process; the two alternate ``--pairs`` times and the table shows the median over the pairs of
each process's own median. ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` are removed from the children's
environment so numpy picks its best kernel.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from benchmarks.common import fmt_time, machine, ratio, torch_available

MODULES = ["engine", "conv", "lenet", "epoch", "inference", "resnet"]


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(var, None)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _worker(module: str, impl: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.runner", "--worker", module, impl],
                          capture_output=True, text=True, env=_child_env())
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark {module}/{impl} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(module: str, pairs: int, with_torch: bool) -> tuple[dict[str, float], dict[str, float] | None]:
    ours_runs, torch_runs = [], []
    for _ in range(pairs):
        ours_runs.append(_worker(module, "ours"))
        if with_torch:
            torch_runs.append(_worker(module, "torch"))

    def median(runs: list[dict[str, float]]) -> dict[str, float]:
        return {k: statistics.median(r[k] for r in runs) for k in runs[0]}

    return median(ours_runs), (median(torch_runs) if torch_runs else None)


def table(module: str, ours: dict[str, float], theirs: dict[str, float] | None) -> list[str]:
    mod = importlib.import_module(f"benchmarks.{module}")
    if hasattr(mod, "summarize"):
        return mod.summarize(ours, theirs)
    lines = ["| case | tinygrad_cnn | PyTorch | ratio |", "|---|---:|---:|---:|"]
    for k, v in ours.items():
        t = theirs.get(k) if theirs else None
        if "MB" in k:  # memory, not time
            lines.append(f"| {k} | {v:.0f} MB | {f'{t:.0f} MB' if t else '—'} | {ratio(v, t)} |")
        elif "loss" in k:  # a sanity check that both trained alike
            lines.append(f"| {k} (a check, not a speed) | {v:.4f} | {f'{t:.4f}' if t else '—'} | |")
        else:
            lines.append(f"| {k} | {fmt_time(v)} | {fmt_time(t)} | {ratio(v, t)} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("modules", nargs="*", default=MODULES, help=f"any of {MODULES}")
    p.add_argument("--pairs", type=int, default=3, help="alternating ours/PyTorch process pairs")
    p.add_argument("--out", default=None, help="also write the markdown table to this file")
    p.add_argument("--worker", nargs=2, metavar=("MODULE", "IMPL"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        module, impl = args.worker
        result = importlib.import_module(f"benchmarks.{module}").run(impl)
        print(json.dumps(result))
        return 0
    with_torch = torch_available()
    lines = [f"# tinygrad_cnn benchmarks ({time.strftime('%Y-%m-%d')})", ""]
    for k, v in machine().items():
        lines.append(f"- {k}: {v}")
    lines.append(f"- method: median over {args.pairs} process pairs (ours in a process without "
                 "torch, PyTorch in its own, alternated) of each process's median of >= 5 timed "
                 "repeats after warm-up; float32")
    if not with_torch:
        lines.append("- PyTorch is not installed: its columns are empty")
    for module in args.modules:
        t0 = time.perf_counter()
        ours, theirs = measure(module, args.pairs, with_torch)
        lines += ["", f"## {module}", ""] + table(module, ours, theirs)
        print(f"[{module}: {time.perf_counter() - t0:.0f} s]", file=sys.stderr)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
