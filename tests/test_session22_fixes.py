"""Session 22: findings of the outside testers and items left open in session 21, each against
its oracle (PyTorch when installed, else the rule the README states)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import viz


def _lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if not ln.startswith("#")]


def test_text_form_quotes_a_name_that_is_not_one_word():
    """(was: a leaf named 'w, b' read as two arguments: `mul(w, b, %0)`)"""
    a = tg.tensor([1.0, 2.0], requires_grad=True, name="w, b")
    b = tg.tensor([3.0, 4.0], requires_grad=True, name="x=1 y")
    c = tg.tensor([3.0, 4.0], requires_grad=True, name="it's")
    loss = (a * b * c).sum()
    text = viz.text(loss)
    assert "mul('w, b', 'x=1 y')" in text
    assert "'it\\'s'" in text
    back = viz.text(loss, backward=True)
    assert "d'w, b' = (2,)" in back and "d'x=1 y' = (2,)" in back
    # one-word names stay as they are
    d = tg.tensor([1.0], requires_grad=True, name="conv1.weight")
    assert "mul(conv1.weight, 2)" in viz.text(d * 2)


def test_text_form_tells_a_backslash_from_a_line_break():
    """(was: a name `a` + backslash + `n` and a name `a` + line break both read `a\\n`)"""
    slash = tg.tensor([1.0], requires_grad=True, name="a\\n")
    newline = tg.tensor([1.0], requires_grad=True, name="a\n")
    text = viz.text((slash * newline).sum())
    assert "mul('a\\\\n', 'a\\n')" in text
    # the drawing's label too: the backslash doubled, the line break as its escape
    source = viz.draw((slash * newline).sum()).source
    assert "a\\\\\\\\n" in source or "a\\\\n" in source


def test_text_form_columns_align_for_wide_characters():
    """(was: padded by len(): a name in Chinese pushed its row's later columns two places)"""
    a = tg.tensor([1.0, 2.0], requires_grad=True, name="权重")
    b = tg.tensor([1.0, 2.0], requires_grad=True, name="bias")
    text = viz.text((a * b).sum())
    import unicodedata

    def width(s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)

    rows = [ln for ln in _lines(text) if " leaf " in ln]
    cols = {width(ln[:ln.index(" leaf ")]) for ln in rows}
    assert len(rows) == 2 and len(cols) == 1, text


@pytest.mark.parametrize("value", [2.0**40, 7e4, -7e4, 2**40, 1e39, float("inf"), float("nan"), 65504.0])
@pytest.mark.parametrize("case", ["addmv alpha", "addmv beta", "addmm alpha", "baddbmm alpha",
                                  "addcmul16", "addcdiv32", "lerp16", "lerp32", "lerp64"])
def test_factors_beyond_the_computing_dtype_are_refused_as_pytorch(case, value):
    """(was: addmv on float16 with alpha=2**40 gave inf, addcdiv/lerp with 1e39 gave inf/NaN:
    PyTorch refuses them, 'cannot be converted ... without overflow')"""
    torch = pytest.importorskip("torch")

    def run(m):
        h = lambda *s: m.ones(*s, dtype=m.float16)  # noqa: E731
        f = lambda *s: m.full(s, 0.5, dtype=m.float32)  # noqa: E731
        d = lambda *s: m.full(s, 0.5, dtype=m.float64)  # noqa: E731
        return {
            "addmv alpha": lambda: m.addmv(h(2), h(2, 2), h(2), alpha=value),
            "addmv beta": lambda: m.addmv(h(2), h(2, 2), h(2), beta=value),
            "addmm alpha": lambda: m.addmm(h(2, 2), h(2, 2), h(2, 2), alpha=value),
            "baddbmm alpha": lambda: m.baddbmm(h(1, 2, 2), h(1, 2, 2), h(1, 2, 2), alpha=value),
            "addcmul16": lambda: m.addcmul(h(2), h(2), h(2), value=value),
            "addcdiv32": lambda: m.addcdiv(f(2), f(2), f(2), value=value),
            "lerp16": lambda: m.lerp(h(2), m.zeros(2, dtype=m.float16), value),
            "lerp32": lambda: m.lerp(f(2), m.zeros(2), value),
            "lerp64": lambda: m.lerp(d(2), m.zeros(2, dtype=m.float64), value),
        }[case]()

    try:
        want = run(torch).double().numpy()
    except RuntimeError as e:
        assert "without overflow" in str(e)
        with pytest.raises(RuntimeError, match=f"{case.split()[0].rstrip('1236 ')}: .*without overflow"):
            run(tg)
        return
    got = np.asarray(run(tg).double().numpy())
    np.testing.assert_array_equal(got, want)
