"""Shared test settings: hypothesis without deadlines (gradchecks take variable time)."""

from hypothesis import settings

settings.register_profile("default", deadline=None, max_examples=20)
settings.load_profile("default")


def pytest_configure(config):
    """``backward(create_graph=True)``'s reference-cycle warning is given once per process, as
    PyTorch's: taken as given here, so that it is not raised by whichever test happens to be the
    first to call it under ``simplefilter("error")`` (test_session42_fixes.py tests it)."""
    import tinygrad_cnn.autograd

    tinygrad_cnn.autograd._GRAD_CYCLE_WARNED = True


def pytest_terminal_summary(terminalreporter):
    """Say how many cases the differential fuzzer ran (test_fuzz.py)."""
    import sys

    fuzz = sys.modules.get("test_fuzz")
    if fuzz is not None and any(fuzz.COUNTS.values()):
        counts = ", ".join(f"{n:,} {what}" for what, n in fuzz.COUNTS.items())
        terminalreporter.write_line(f"differential fuzzer against PyTorch: {counts} "
                                    f"(profile {fuzz._MODE})")
