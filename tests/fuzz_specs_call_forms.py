"""Fuzzer specs for the ops behind the call forms of ``test_call_forms.py`` (``fuzz_specs.py``'s
format; imported by it): ``div(..., rounding_mode="trunc"/"floor")`` in every dtype PyTorch takes
(integers too, kept away from a zero divisor, which raises in both), and at zeros, infinities and
NaN for floats. Their gradient is zero, as PyTorch's."""

from __future__ import annotations

from fuzz_specs import FLOATS, binary

for _mode in ("trunc", "floor"):
    def _div(m, a, b, mode=_mode):
        return a.div(b, rounding_mode=mode)

    binary(f"div_{_mode}", _div, domain=("real", "nonzero"), smooth=False,
           dtypes=FLOATS + ("int64", "int32"))
    binary(f"div_{_mode}", _div, id="zeros_and_infs", smooth=False, dtypes=FLOATS,
           specials=("zero", "inf", "nan"))
    binary(f"div_{_mode}", lambda m, a, b, mode=_mode: (a * 40).div(b, rounding_mode=mode),
           id="large_quotients", domain=("real", "nonzero"), smooth=False, dtypes=FLOATS)
