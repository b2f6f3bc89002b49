"""The first moment of ``python -m tinygrad_cnn``: importing numpy and the package takes about
half a second, and a Ctrl-C then (after a typo, say) printed a KeyboardInterrupt traceback
through runpy. Until the command line takes over (``cli.main`` installs its own handler), a
Ctrl-C prints ``interrupted`` and exits with status 130, as one during a command does."""

from __future__ import annotations

import os
import signal

TYPE_CHECKING = False  # (typing is not imported: it takes milliseconds, during which a Ctrl-C
if TYPE_CHECKING:      # printed a traceback)
    from typing import Any


def run_as_main(sys: Any) -> bool:
    """Whether this process is ``python [options] -m tinygrad_cnn ...``."""
    argv = list(getattr(sys, "orig_argv", ()))
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg == "-m":
            return argv[i + 1:i + 2] == ["tinygrad_cnn"]
        if arg == "-mtinygrad_cnn":
            return True
        if not arg.startswith("-") or arg.startswith("-c"):
            return False  # a script or -c runs
        i += 2 if arg in ("-X", "-W") else 1  # (the options that take a value)
    return False


def _interrupted(signum: int, frame: Any) -> None:
    try:
        os.write(2, b"\ninterrupted\n")
    finally:
        os._exit(130)


def quiet_interrupts() -> None:
    """Install the start-up Ctrl-C handler (main thread only; elsewhere nothing)."""
    try:
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # (ignored, as `cmd &` in a
            signal.signal(signal.SIGINT, _interrupted)              # script: left so)
    except ValueError:  # not the main thread
        pass


def restore_interrupts() -> None:
    """Python's own Ctrl-C handler again (KeyboardInterrupt), where ours is installed."""
    try:
        if signal.getsignal(signal.SIGINT) is _interrupted:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:
        pass
