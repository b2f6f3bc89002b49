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
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

from benchmarks.common import fmt_time, machine, ratio, torch_available

MODULES = ["engine", "breadth", "conv", "lenet", "epoch", "inference", "resnet"]


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(var, None)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _busy_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (``/proc/stat``), or None."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _worker(module: str, impl: str) -> dict[str, Any]:
    """One measuring process; its result also says how busy the rest of the machine was meanwhile
    (``"other load"``: CPU seconds of other processes per second of the run, in cores)."""
    busy0, child0, t0 = _busy_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN), \
        time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "benchmarks.runner", "--worker", module, impl],
                          capture_output=True, text=True, env=_child_env())
    busy1, child1, wall = _busy_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN), \
        time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark {module}/{impl} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if busy0 is not None and busy1 is not None and module != "machine":
        ours = (child1.ru_utime + child1.ru_stime) - (child0.ru_utime + child0.ru_stime)
        result[OTHER_LOAD] = max(0.0, (busy1 - busy0 - ours) / wall)
    return result


OTHER_LOAD = "other load"
Runs = list[dict[str, float]]


def measure(module: str, pairs: int, with_torch: bool, max_other_load: float | None = None,
            retries: int = 20) -> tuple[Runs, Runs]:
    """Each process's results, ours and PyTorch's alternating (``pairs`` of each). With
    ``max_other_load`` (in cores), a pair during which other processes kept the machine busier
    than that is measured again (at most ``retries`` times in all), after waiting for a quiet
    spell: on a shared machine PyTorch's OpenMP threads slow down many times over when a core is
    taken."""
    ours_runs: Runs = []
    torch_runs: Runs = []
    while len(ours_runs) < pairs:
        if max_other_load is not None:
            _wait_for_quiet(max_other_load)
        pair = [_worker(module, "ours")] + ([_worker(module, "torch")] if with_torch else [])
        busy = max(r.get(OTHER_LOAD, 0.0) for r in pair)
        if max_other_load is not None and busy > max_other_load and retries > 0:
            retries -= 1
            print(f"[{module}: other processes used {busy:.2f} cores; pair measured again]",
                  file=sys.stderr)
            continue
        ours_runs.append(pair[0])
        if with_torch:
            torch_runs.append(pair[1])
    return ours_runs, torch_runs


def _wait_for_quiet(max_other_load: float, window: float = 2.0, patience: float = 600.0) -> None:
    """Until the machine was busy less than ``max_other_load`` cores over ``window`` seconds
    (giving up after ``patience`` seconds)."""
    deadline = time.perf_counter() + patience
    while time.perf_counter() < deadline:
        b0 = _busy_seconds()
        time.sleep(window)
        b1 = _busy_seconds()
        if b0 is None or b1 is None or (b1 - b0) / window <= max_other_load:
            return


def median(runs: Runs) -> dict[str, float] | None:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != OTHER_LOAD} \
        if runs else None


def spread(ours_runs: Runs, torch_runs: Runs) -> dict[str, str]:
    """For each case, the range of the per-pair ratios ``ours_i / PyTorch_i`` ("0.95–1.10"), or
    of our own times without PyTorch."""
    out = {}
    for k in ours_runs[0]:
        if k == OTHER_LOAD:
            continue
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
        elif k.endswith("loss"):  # a sanity check that both trained alike ("final mean loss")
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
    p.add_argument("--max-other-load", type=float, default=None, metavar="CORES",
                   help="measure a pair again when other processes kept more than this many "
                        "cores busy meanwhile (and wait for a quiet spell before each pair)")
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
        ours_runs, torch_runs = measure(module, args.pairs, with_torch, args.max_other_load)
        loads = [r.get(OTHER_LOAD) for r in ours_runs + torch_runs if OTHER_LOAD in r]
        body += ["", f"## {module}", ""] + table(module, ours_runs, torch_runs)
        if loads:
            body.append(f"\nOther processes meanwhile: {min(loads):.2f}–{max(loads):.2f} cores "
                        f"(of {os.cpu_count()}) over the measuring processes.")
        print(f"[{module}: {time.perf_counter() - t0:.0f} s]", file=sys.stderr)
    lines = [f"# tinygrad_cnn benchmarks ({time.strftime('%Y-%m-%d')})", ""]
    for k, v in _worker("machine", "").items():  # as the children see it (their BLAS kernels)
        lines.append(f"- {k}: {v}")
    lines.append(f"- method: median over {args.pairs} process pairs (ours in a process without "
                 "torch, PyTorch in its own, alternated) of each process's median of >= 5 timed "
                 "repeats after warm-up; float32; \"ratio over the pairs\": the lowest and highest "
                 "of the pairs' own ratios")
    lines.append(f"- load average (1, 5, 15 min) before / after: {load_before} / "
                 f"{load_average()} ({os.cpu_count()} cores)")
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
