"""The colours of the drawings, and the log scale that colours nodes by gradient norm (shared by
the drawings and the step-through)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from tinygrad_cnn.viz.grads import GradStat

OP, INPUT, LEAF, PARAM, OUTPUT, SAVED, NOTE = ("#e6e6e6", "#deebf7", "#9ecae1", "#fdd49e",
                                               "#a1d99b", "#dadaeb", "#ffffff")
GROUP, HIGHLIGHT, NONFINITE, ZERO = "#d9d9d9", "#ff4d4d", "#e7298a", "#f7f7f7"
# ColorBrewer RdYlBu, reversed: blue for small gradients, red for large ones
SCALE = ("#313695", "#4575b4", "#74add1", "#abd9e9", "#e0f3f8", "#fee090", "#fdae61", "#f46d43",
         "#a50026")
_DARK = {0, 1, 8}  # scale colours that need white text


class HTMLLabel(str):
    """A Graphviz HTML-like label (``<<table>...</table>>``); every other label is plain text."""


class LogScale:
    """Gradient norms to colours, on a log scale spanning the norms of one drawing (at least one
    decade): blue for the smallest, red for the largest."""

    def __init__(self, norms: Iterable[float]) -> None:
        logs = [math.log10(n) for n in norms if n > 0 and math.isfinite(n)]
        self.empty = not logs
        self.lo = math.floor(min(logs)) if logs else 0
        self.hi = max(math.ceil(max(logs)) if logs else 1, self.lo + 1)

    def index(self, norm: float) -> int:
        if not 0 < norm < math.inf:  # (a norm past float64's range: the end of the scale)
            return len(SCALE) - 1 if norm > 0 else 0
        frac = (math.log10(norm) - self.lo) / (self.hi - self.lo)
        return min(len(SCALE) - 1, max(0, int(frac * len(SCALE))))

    def style(self, stat: GradStat | None) -> dict[str, str]:
        """Fill and font colours of a node whose gradient is ``stat``."""
        if stat is None:
            return {"fillcolor": "white", "style": "rounded,filled,dashed"}
        if not stat.finite:
            return {"fillcolor": NONFINITE, "fontcolor": "white"}
        if stat.norm == 0:
            return {"fillcolor": ZERO}
        i = self.index(stat.norm)
        return {"fillcolor": SCALE[i], **({"fontcolor": "white"} if i in _DARK else {})}

    def legend_label(self) -> str:
        cells = "".join(f'<td bgcolor="{c}" width="16" height="10"></td>' for c in SCALE)
        # the middle tick: 10 ** mid, mid a whole or half decade, written as 1eK or 3eK
        # without computing it (10 ** 308.5 overflows, 10 ** -323.5 is subnormal and inexact)
        k, half = divmod(self.lo + self.hi, 2)
        ticks = [f"1e{self.lo}", f"{3 if half else 1}e{k}", f"1e{self.hi}"]
        return HTMLLabel(
            '<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">'
            '<tr><td colspan="9"><font point-size="8">‖grad‖, log scale</font></td></tr>'
            f"<tr>{cells}</tr><tr>"
            f'<td colspan="3" align="left"><font point-size="7">{ticks[0]}</font></td>'
            f'<td colspan="3"><font point-size="7">{ticks[1]}</font></td>'
            f'<td colspan="3" align="right"><font point-size="7">{ticks[2]}</font></td>'
            "</tr></table>>")
