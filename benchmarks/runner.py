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


Runs = list[dict[str, float]]


def measure(module: str, pairs: int, with_torch: bool) -> tuple[Runs, Runs]:
    """Each process's results, ours and PyTorch's alternating (``pairs`` of each)."""
    ours_runs, torch_runs = [], []
    for _ in range(pairs):
        ours_runs.append(_worker(module, "ours"))
        if with_torch:
            torch_runs.append(_worker(module, "torch"))
    return ours_runs, torch_runs


def median(runs: Runs) -> dict[str, float] | None:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]} if runs else None


def spread(ours_runs: Runs, torch_runs: Runs) -> dict[str, str]:
    """For each case, the range of the per-pair ratios ``ours_i / PyTorch_i`` ("0.95–1.10"), or
    of our own times without PyTorch."""
    out = {}
    for k in ours_runs[0]:
        if torch_runs:
            rs = [o[k] / t[k] for o, t in zip(ours_runs, torch_runs) if t.get(k)]
            out[k] = f"{min(rs):.2f}–{max(rs):.2f}" if rs else "—"
        else:
            vs = [o[k] for o in ours_runs]
            out[k] = f"{fmt_time(min(vs))}–{fmt_time(max(vs))}"
    return out


def table(module: str, ours_runs: Runs, torch_runs: Runs) -> list[str]:
    ours, theirs = median(ours_runs), median(torch_runs)
    ranges = spread(ours_runs, torch_runs)
    mod = importlib.import_module(f"benchmarks.{module}")
    if hasattr(mod, "summarize"):
        return mod.summarize(ours, theirs, ranges)
    lines = ["| case | tinygrad_cnn | PyTorch | ratio | ratio over the pairs |",
             "|---|---:|---:|---:|---:|"]
    for k, v in ours.items():
        t = theirs.get(k) if theirs else None
        if "MB" in k:  # memory, not time
            lines.append(f"| {k} | {v:.0f} MB | {f'{t:.0f} MB' if t else '—'} | {ratio(v, t)} | "
                         f"{ranges[k]} |")
        elif "loss" in k:  # a sanity check that both trained alike
            lines.append(f"| {k} (a check, not a speed) | {v:.4f} | {f'{t:.4f}' if t else '—'} "
                         "| | |")
        else:
            lines.append(f"| {k} | {fmt_time(v)} | {fmt_time(t)} | {ratio(v, t)} | {ranges[k]} |")
    return lines


def load_average() -> str:
    try:
        return ", ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("modules", nargs="*", default=MODULES, help=f"any of {MODULES}")
    p.add_argument("--pairs", type=int, default=3, help="alternating ours/PyTorch process pairs")
    p.add_argument("--out", default=None, help="also write the markdown table to this file")
    p.add_argument("--worker", nargs=2, metavar=("MODULE", "IMPL"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        module, impl = args.worker
        result = machine() if module == "machine" else \
            importlib.import_module(f"benchmarks.{module}").run(impl)
        print(json.dumps(result))
        return 0
    with_torch = torch_available()
    load_before = load_average()
    body = []
    for module in args.modules:
        t0 = time.perf_counter()
        ours_runs, torch_runs = measure(module, args.pairs, with_torch)
        body += ["", f"## {module}", ""] + table(module, ours_runs, torch_runs)
        print(f"[{module}: {time.perf_counter() - t0:.0f} s]", file=sys.stderr)
    lines = [f"# tinygrad_cnn benchmarks ({time.strftime('%Y-%m-%d')})", ""]
    for k, v in _worker("machine", "").items():  # as the children see it (their BLAS kernels)
        lines.append(f"- {k}: {v}")
    lines.append(f"- method: median over {args.pairs} process pairs (ours in a process without "
                 "torch, PyTorch in its own, alternated) of each process's median of >= 5 timed "
                 "repeats after warm-up; float32; \"ratio over the pairs\": the lowest and highest "
                 "of the pairs' own ratios")
    lines.append(f"- load average (1, 5, 15 min) before / after: {load_before} / "
                 f"{load_average()} (2 cores)")
    if not with_torch:
        lines.append("- PyTorch is not installed: its columns are empty")
    lines += body
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
