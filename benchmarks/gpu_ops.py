"""Every registered op's gradient-check cases (``tests/op_cases*.py``) run on the CPU and on a
device, float64: forward values, and the gradient of every input for one random output
gradient, must agree. Run on a GPU machine (CuPy and a CUDA device):

    python -m benchmarks.gpu_ops            # a JSON report; exit status 1 on any mismatch
    python -m benchmarks.gpu_ops --device cpu   # the harness itself, CPU against CPU

A case whose function makes CPU tensors of its own (a target, an index) cannot run on the
device as written: it is listed under "not portable", apart from the failures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np


def _flat(out: Any) -> list[Any]:
    from tinygrad_cnn import Tensor

    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [o for item in out for o in _flat(item)]
    return []


def _moved(inputs: tuple[Any, ...], device: str) -> tuple[Any, ...]:
    from tinygrad_cnn import Tensor

    return tuple(Tensor(np.array(a.numpy()), requires_grad=a.requires_grad, device=device)
                 if isinstance(a, Tensor) else a for a in inputs)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind not in "fc":
        return bool(np.array_equal(a, b))
    return bool(np.allclose(a, b, rtol=1e-9, atol=1e-10, equal_nan=True))


def check_case(name: str, make: Any, device: str) -> str | None:
    """None when the case agrees; otherwise what differs."""
    from tinygrad_cnn import Tensor

    rng = np.random.default_rng(0)
    fn, inputs = make(rng)
    on_cpu = tuple(Tensor(np.array(a.numpy()), requires_grad=a.requires_grad)
                   if isinstance(a, Tensor) else a for a in inputs)
    on_dev = _moved(inputs, device)
    outs_c, outs_d = _flat(fn(*on_cpu)), _flat(fn(*on_dev))
    if len(outs_c) != len(outs_d):
        return f"{len(outs_c)} outputs on the CPU, {len(outs_d)} on {device}"
    grads_c, grads_d = [], []
    for i, (c, d) in enumerate(zip(outs_c, outs_d)):
        if d.device != device and name != "to_device":  # (that case moves to the CPU)
            return f"output {i} is on {d.device}, not {device}"
        if not _close(c.numpy(), d.numpy()):
            diff = np.abs(c.numpy().astype(float) - d.numpy().astype(float))
            return f"output {i} differs (max {np.nanmax(diff) if diff.size else 0:.3g})"
        if c.requires_grad and c.dtype.kind == "f":
            g = rng.standard_normal(c.shape)
            grads_c.append((c, Tensor(g)))
            grads_d.append((d, Tensor(g, device=device)))
    if grads_c:
        from tinygrad_cnn import autograd

        autograd.backward([o for o, _ in grads_c], [g for _, g in grads_c])
        autograd.backward([o for o, _ in grads_d], [g for _, g in grads_d])
    for i, (c, d) in enumerate(zip(on_cpu, on_dev)):
        if not isinstance(c, Tensor) or (c.grad is None and d.grad is None):
            continue
        if (c.grad is None) != (d.grad is None):
            return f"input {i}: gradient only on {'the CPU' if d.grad is None else device}"
        if d.grad.device != d.device or not _close(c.grad.numpy(), d.grad.numpy()):
            return f"input {i}: gradient differs"
    return None


def run(device: str) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from op_cases import CASES

    report: dict[str, Any] = {"device": device, "cases": 0, "agree": 0, "failures": {},
                              "not portable": {}}
    for name, cases in sorted(CASES.items()):
        for id_, make in cases:
            key = f"{name}[{id_}]"
            report["cases"] += 1
            try:
                problem = check_case(name, make, device)
            except Exception as e:  # (each case is reported: none stops the run)
                text = f"{type(e).__name__}: {e}"
                if "different devices" in text:
                    report["not portable"][key] = text[:200]
                else:
                    report["failures"][key] = text[:300] + "\n" + traceback.format_exc()[-600:]
                continue
            if problem is None:
                report["agree"] += 1
            else:
                report["failures"][key] = problem
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_ops")
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args(argv)
    import tinygrad_cnn as tg

    if not tg.is_available(args.device):
        sys.stderr.write(f"no {args.device} device here: nothing to check\n")
        return 0
    t0 = time.perf_counter()
    report = run(args.device)
    report["seconds"] = round(time.perf_counter() - t0, 1)
    text = json.dumps(report, indent=2)
    sys.stdout.write(text + "\n")
    out_dir = os.environ.get("OUT")
    if out_dir:
        Path(out_dir, "gpu_ops_report.json").write_text(text)
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
