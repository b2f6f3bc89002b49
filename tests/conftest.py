"""Shared test settings: hypothesis without deadlines (gradchecks take variable time)."""

from hypothesis import settings

settings.register_profile("default", deadline=None, max_examples=20)
settings.load_profile("default")


def pytest_terminal_summary(terminalreporter):  # (pytest's hook)
    """Say how many cases the differential fuzzer ran (test_fuzz.py)."""
    import sys

    fuzz = sys.modules.get("test_fuzz")
    if fuzz is not None and any(fuzz.COUNTS.values()):
        counts = ", ".join(f"{n:,} {what}" for what, n in fuzz.COUNTS.items())
        terminalreporter.write_line(f"differential fuzzer against PyTorch: {counts} "
                                    f"(profile {fuzz._MODE})")
