"""Fuzzer specs (fuzz_specs.py's format; imported by it) of logcumsumexp (ops/cumulative.py),
cdist (ops/distance.py), and of the compositions and gradient-free ops added with them.

Compositions are listed under the registered op they apply: ``quantile``/``nanquantile`` under
``lerp`` (their interpolation; ``lower``/``higher``/``nearest`` under ``gather``), ``aminmax``
under ``max``, ``cov`` under ``matmul``, ``corrcoef`` under ``clamp``,
``F.multilabel_margin_loss`` under ``gather``. The ops without a gradient (``histc``,
``bincount``) are compared as values, listed under ``getitem`` as ``unique`` is.
"""

from __future__ import annotations

from typing import Any

from fuzz_specs import spec
from hypothesis import strategies as st


def _scan_dim(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    n = max(len(shapes[0]), 1)
    return st.fixed_dictionaries({"dim": st.integers(-n, n - 1)})


# ------------------------------------------------------------------------------ logcumsumexp
spec("logcumsumexp", lambda m, a, dim: a.logcumsumexp(dim), params=_scan_dim, rtol=4)
spec("logcumsumexp", lambda m, a, dim: m.t.logcumsumexp(a * 300, dim), id="large",
     params=_scan_dim, dtypes=("float32", "float64"), rtol=4)
spec("logcumsumexp", lambda m, a, dim: a.logcumsumexp(dim), id="integers", params=_scan_dim,
     dtypes=("int64", "bool"), grad=False)
