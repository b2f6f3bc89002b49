"""Small words for error messages."""

from __future__ import annotations

from typing import Any


def a_type(obj: Any) -> str:
    """``'an int'``, ``'a float'``, ``'an ellipsis'``: the type of ``obj`` with its article."""
    name = type(obj).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"
