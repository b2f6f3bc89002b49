"""How long the drawings take on long graphs: ``viz.animate`` (the step-through of backward,
whose graph carries a gradient on every edge) and ``viz.draw`` (the backward graph, uncollapsed)
of a chain of N multiplies. Graphviz's ``dot`` does most of the work; its version is printed.

    python -m benchmarks.viz               # N = 1,000, 3,000, 10,000; median of 3, warm process
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

from benchmarks.common import cpu_name


def _chain(n: int):
    import tinygrad_cnn as tg

    x = tg.randn(4, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001
    return y.sum()


def main(argv: list[str] | None = None) -> None:
    from tinygrad_cnn import viz

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    dot = subprocess.run(["dot", "-V"], capture_output=True, text=True).stderr.strip()
    print(f"# {cpu_name()}; {dot}; median of {args.repeat} runs, warm process")
    print("| ops | viz.animate (s) | page (MB) | viz.draw backward, svg (s) |")
    print("|---:|---:|---:|---:|")
    for n in args.sizes:
        loss = _chain(n)
        anim, drawn = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            page = viz.animate(loss).html
            anim.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            viz.draw(loss, backward=True, collapse=False, max_nodes=None).pipe(format="svg")
            drawn.append(time.perf_counter() - t0)
        print(f"| {n:,} | {statistics.median(anim):.2f} | {len(page) / 1e6:.1f} | "
              f"{statistics.median(drawn):.2f} |")


if __name__ == "__main__":
    main()
