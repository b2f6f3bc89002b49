"""``tinygrad_cnn.testing``: PyTorch's ``torch.testing.assert_close`` (no extra dependency), and a
test kit for your own ops -- Hypothesis strategies for tensors and ``check_function`` -- which
needs Hypothesis and is imported on first use.

    from tinygrad_cnn.testing import assert_close, check_function, tensors

    assert_close(model(x), expected)        # dtype-aware default tolerances, as PyTorch's
    check_function(MyOp.apply, shapes=[(3, 4)], torch_fn=torch.nn.functional.softplus)

``check_function`` draws inputs of the given shapes (Hypothesis), and on each case runs
``gradcheck``, ``gradgradcheck`` and -- given a PyTorch counterpart -- a comparison of values and
gradients with PyTorch. A failure is shrunk to the smallest case Hypothesis finds and raised as
:class:`CheckFunctionError` with that case, the report, and the seed that reproduces it.

The strategies: :func:`tensors` (shapes, dtypes, values kept away from kinks or ties,
non-contiguous views), :func:`broadcastable_tensors`, :func:`shapes`, :func:`dtypes`.

A pytest plugin (``tinygrad_cnn.pytest_plugin``, installed with the package) adds a ``gradcheck``
fixture.
"""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.testing.close import assert_close

__all__ = ["CheckFunctionError", "arrays", "assert_close", "broadcastable_shapes",
           "broadcastable_tensors", "check_function", "dtypes", "shapes", "tensors"]

#: the names of the Hypothesis kit (``_kit.py``), imported when first asked for
_KIT = {"CheckFunctionError", "arrays", "broadcastable_shapes", "broadcastable_tensors",
        "check_function", "dtypes", "shapes", "tensors", "FLOATS", "TORCH_TOLERANCE"}


def __getattr__(name: str) -> Any:
    if name in _KIT or (name.startswith("_") and not name.startswith("__")
                        and name != "_kit"):  # (its helpers too)
        import importlib

        kit = importlib.import_module("tinygrad_cnn.testing._kit")  # (ImportError naming
        return getattr(kit, name)  # Hypothesis, without it)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
