"""The command line: ``python -m tinygrad_cnn <command>``.

All output of the package goes through this module (the library itself never prints).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _demo(args: argparse.Namespace) -> int:
    """Fit a tiny tanh network to XOR with plain tensor expressions and backward()."""
    import tinygrad_cnn as tg

    tg.manual_seed(args.seed)
    x = tg.Tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = tg.Tensor([[0], [1], [1], [0]])
    w1 = (tg.randn(2, 8) * 0.8).requires_grad_()
    b1 = tg.zeros(8, requires_grad=True)
    w2 = (tg.randn(8, 1) * 0.8).requires_grad_()
    loss = None
    for step in range(args.steps):
        out = ((x @ w1 + b1).tanh() @ w2).sigmoid()
        loss = ((out - y) ** 2).mean()
        for p in (w1, b1, w2):
            p.grad = None
        loss.backward()
        with tg.no_grad():
            for p in (w1, b1, w2):
                p.sub_(p.grad * 2.0)
        if step % (args.steps // 5) == 0:
            print(f"step {step:4d}  loss {loss.item():.4f}")
    print(f"final loss {loss.item():.4f}; predictions {[round(float(v), 3) for v in out.numpy().ravel()]}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tinygrad_cnn",
                                description="tinygrad_cnn: an autograd engine for CNNs, on numpy")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="fit a tiny network to XOR (a first look at the engine)")
    d.add_argument("--steps", type=int, default=500)
    d.add_argument("--seed", type=int, default=0)
    d.set_defaults(func=_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
