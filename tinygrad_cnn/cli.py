"""The command line: ``python -m tinygrad_cnn train | evaluate | draw | demo``.

All output of the package goes through this module (the library itself never prints).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

DEFAULT_CHECKPOINT = "checkpoints/lenet5.npz"


class ProgressBar:
    """One line per epoch, redrawn in place on a terminal; a line every 10% otherwise."""

    def __init__(self, label: str, stream: TextIO = sys.stderr, width: int = 28) -> None:
        self.label, self.stream, self.width = label, stream, width
        self.tty = stream.isatty()
        self.last_tenth = -1

    def update(self, step: int, steps: int, loss: float, rate: float) -> None:
        frac = step / max(steps, 1)
        filled = int(frac * self.width)
        line = (f"{self.label} |{'█' * filled}{'·' * (self.width - filled)}| {step}/{steps} "
                f"loss {loss:.4f} {rate:,.0f} img/s")
        if self.tty:
            self.stream.write("\r" + line)
            if step == steps:
                self.stream.write("\n")
            self.stream.flush()
        elif int(frac * 10) != self.last_tenth or step == steps:
            self.last_tenth = int(frac * 10)
            self.stream.write(line + "\n")
            self.stream.flush()


def _build(args: argparse.Namespace, model: Any) -> tuple[Any, Any]:
    from tinygrad_cnn import optim

    if args.optimizer == "sgd":
        opt = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    else:
        opt = optim.Adam(model.parameters(), lr=args.lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(args.epochs, 1))
    return opt, sched


def _train(args: argparse.Namespace) -> int:
    import numpy as np

    import tinygrad_cnn as tg
    from tinygrad_cnn.data import MNIST, DataLoader, Subset
    from tinygrad_cnn.models import LeNet5
    from tinygrad_cnn.training import evaluate, train_epoch

    if args.lr is None:
        args.lr = 0.02 if args.optimizer == "sgd" else 1e-3
    out = Path(args.out)
    tg.manual_seed(args.seed)
    model = LeNet5()
    opt, sched = _build(args, model)
    start_epoch = 0
    if args.resume:
        state = tg.load(args.resume)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        sched.T_max = max(args.epochs, 1)  # anneal over the (possibly extended) total
        start_epoch = int(state["epoch"])
        print(f"resumed from {args.resume} after epoch {start_epoch}")
        if start_epoch >= args.epochs:
            print(f"nothing to do: the checkpoint already has {start_epoch} of {args.epochs} "
                  "epochs (raise --epochs to train further)")
            return 0
    if args.device != "cpu":
        model.to(args.device)

    def report(name: str, done: int, total: int) -> None:
        print(f"\rdownloading {name}: {done / 1e6:.1f} of {total / 1e6:.1f} MB", end="",
              file=sys.stderr)

    train_set = MNIST(args.data_dir, train=True, progress=report)
    test_set = MNIST(args.data_dir, train=False, progress=report)
    if args.limit:
        train_set = Subset(train_set, np.arange(min(args.limit, len(train_set))))
    train_loader = DataLoader(train_set, args.batch_size, shuffle=True, seed=args.seed)
    train_loader.epoch = start_epoch  # the same shuffles as an uninterrupted run
    test_loader = DataLoader(test_set, 1000)
    print(f"training LeNet-5 on {len(train_set):,} MNIST images, {args.epochs} epochs, batch "
          f"{args.batch_size}, {args.optimizer} lr {args.lr}, device {args.device}; checkpoints "
          f"to {out}")
    t_start = time.perf_counter()
    epoch = start_epoch
    try:
        for epoch in range(start_epoch + 1, args.epochs + 1):
            t0 = time.perf_counter()
            bar = ProgressBar(f"epoch {epoch}/{args.epochs}")
            loss = train_epoch(model, train_loader, opt, args.device, on_step=bar.update)
            sched.step()
            acc = evaluate(model, test_loader, args.device)
            tg.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                     "scheduler": sched.state_dict(), "epoch": epoch, "test_accuracy": acc,
                     "config": {k: v for k, v in vars(args).items() if k != "func"}}, out)
            print(f"epoch {epoch}: train loss {loss:.4f}, test accuracy {acc:.4f} "
                  f"({time.perf_counter() - t0:.1f} s); saved {out}")
    except KeyboardInterrupt:
        done = epoch - 1
        where = f"the checkpoint of epoch {done} at {out} is intact" if done > start_epoch or \
            args.resume else "no checkpoint was written yet"
        print(f"\ninterrupted during epoch {epoch}; {where}. Continue with --resume {out}",
              file=sys.stderr)
        return 130
    print(f"done in {time.perf_counter() - t_start:.1f} s; test accuracy: {acc:.4f}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import tinygrad_cnn as tg
    from tinygrad_cnn.data import MNIST, DataLoader
    from tinygrad_cnn.models import LeNet5
    from tinygrad_cnn.training import evaluate

    state = tg.load(args.checkpoint)
    model = LeNet5()
    model.load_state_dict(state["model"])
    if args.device != "cpu":
        model.to(args.device)
    acc = evaluate(model, DataLoader(MNIST(args.data_dir, train=False), args.batch_size),
                   args.device)
    print(f"checkpoint {args.checkpoint} (epoch {state.get('epoch', '?')})")
    print(f"test accuracy: {acc:.4f}")
    return 0


def _draw(args: argparse.Namespace) -> int:
    from tinygrad_cnn import viz

    if args.animate and Path(args.output).suffix.lower() not in (".html", ".htm"):
        print(f"error: draw --animate writes an HTML page: name the output .html (got "
              f"{args.output!r})", file=sys.stderr)
        return 2
    try:
        path = viz.draw_model_to_file(args.model, args.output, backward=args.backward,
                                      max_nodes=args.max_nodes, batch=args.batch,
                                      animate_backward=args.animate)
    except viz.GraphvizNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    """Fit a tiny tanh network to XOR with plain tensor expressions and backward()."""
    import tinygrad_cnn as tg

    tg.manual_seed(args.seed)
    x = tg.Tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = tg.Tensor([[0], [1], [1], [0]])
    w1 = (tg.randn(2, 8) * 0.8).requires_grad_()
    b1 = tg.zeros(8, requires_grad=True)
    w2 = (tg.randn(8, 1) * 0.8).requires_grad_()
    loss = out = None
    for step in range(args.steps):
        out = ((x @ w1 + b1).tanh() @ w2).sigmoid()
        loss = ((out - y) ** 2).mean()
        for p in (w1, b1, w2):
            p.grad = None
        loss.backward()
        with tg.no_grad():
            for p in (w1, b1, w2):
                p.sub_(p.grad * 2.0)
        if step % max(args.steps // 5, 1) == 0:
            print(f"step {step:4d}  loss {loss.item():.4f}")
    print(f"final loss {loss.item():.4f}; predictions "
          f"{[round(float(v), 3) for v in out.numpy().ravel()]}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tinygrad_cnn",
                                description="tinygrad_cnn: an autograd engine for CNNs, on numpy")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train LeNet-5 on MNIST",
                       description="Train LeNet-5 on MNIST with a progress bar; after every epoch "
                       "print the test accuracy and save a checkpoint (model, optimizer, epoch). "
                       "Ctrl-C stops cleanly; --resume continues.")
    t.add_argument("--epochs", type=int, default=3, help="total epochs (default 3)")
    t.add_argument("--batch-size", type=int, default=64, help="default 64")
    t.add_argument("--lr", type=float, default=None,
                   help="learning rate (default 0.02 for sgd, 0.001 for adam), cosine-annealed")
    t.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd",
                   help="sgd (momentum 0.9, weight decay 5e-4) or adam (default sgd)")
    t.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    t.add_argument("--data-dir", default=None, help="folder with the MNIST .gz files (default: "
                   "$TINYGRAD_CNN_DATA, ./data/mnist, the cache; downloaded when missing)")
    t.add_argument("--out", default=DEFAULT_CHECKPOINT, help=f"checkpoint (default "
                   f"{DEFAULT_CHECKPOINT})")
    t.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    t.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    t.add_argument("--resume", default=None, metavar="PATH", help="continue from a checkpoint")
    t.set_defaults(func=_train)

    e = sub.add_parser("evaluate", help="test accuracy of a checkpoint",
                       description="Evaluate a LeNet-5 checkpoint on the MNIST test set; the last "
                       "line is 'test accuracy: 0.9912' (a fraction).")
    e.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT, help=f"default {DEFAULT_CHECKPOINT}")
    e.add_argument("--data-dir", default=None)
    e.add_argument("--batch-size", type=int, default=1000)
    e.add_argument("--device", default="cpu")
    e.set_defaults(func=_evaluate)

    d = sub.add_parser("draw", help="draw a model's forward or backward graph",
                       description="Draw LeNet-5 on a sample batch with graphviz; the format "
                       "comes from the file name (.svg, .png, .pdf; .dot for the DOT text and .txt "
                       "for the text form, one line per op, which need no Graphviz). --animate "
                       "writes a step-through of the backward pass as one HTML page.")
    d.add_argument("--model", default="lenet5", choices=("lenet5",))
    d.add_argument("--backward", action="store_true", help="draw the backward graph")
    d.add_argument("--animate", action="store_true",
                   help="write a step-through of the backward pass, one frame per VJP (-o must "
                   "end in .html)")
    d.add_argument("-o", "--output", default="lenet5.svg", help="output file (default lenet5.svg)")
    d.add_argument("--max-nodes", type=int, default=None, help="keep at most this many nodes")
    d.add_argument("--batch", type=int, default=2, help="sample batch size (default 2)")
    d.set_defaults(func=_draw)

    m = sub.add_parser("demo", help="fit a tiny network to XOR (a first look at the engine)")
    m.add_argument("--steps", type=int, default=500)
    m.add_argument("--seed", type=int, default=0)
    m.set_defaults(func=_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if os.name == "posix":  # a Ctrl-C while numpy works in another thread must still arrive here
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        from tinygrad_cnn.serialization import CheckpointError

        if isinstance(exc, (FileNotFoundError, CheckpointError)) or type(exc).__module__.startswith(
                "tinygrad_cnn"):
            print(f"error: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
