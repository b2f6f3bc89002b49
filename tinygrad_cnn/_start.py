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
        os.write(2, b"\ninterrupted\n" if signum == signal.SIGINT else b"\nterminated\n")
    finally:
        os._exit(128 + signum)  # (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP: as during a command)


def _stops() -> list[Any]:
    return [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP")
                                              else [])


def quiet_interrupts() -> None:
    """Install the start-up handler of Ctrl-C, SIGTERM and SIGHUP (main thread only; elsewhere
    nothing; a signal ignored -- `cmd &` in a script, `nohup` -- is left so). Was: a SIGTERM
    in the first half second ended the process without a word."""
    try:
        for signum in _stops():
            if signal.getsignal(signum) is signal.SIG_DFL or (
                    signum == signal.SIGINT and signal.getsignal(signum) is
                    signal.default_int_handler):
                signal.signal(signum, _interrupted)
    except ValueError:  # not the main thread
        pass


def restore_interrupts() -> None:
    """Python's own handlers again (Ctrl-C's KeyboardInterrupt), where ours are installed."""
    try:
        for signum in _stops():
            if signal.getsignal(signum) is _interrupted:
                signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT
                              else signal.SIG_DFL)
    except ValueError:
        pass
