"""What the fifteenth session found, each checked against an oracle (the real behaviour of the
tool involved, PyTorch where it runs)."""

from __future__ import annotations

import os
import shutil

import pytest

from tinygrad_cnn import viz


def test_a_dot_that_fails_before_reading_its_input_is_reported_as_dot_failing(tmp_path, monkeypatch):
    # the failing dot exits before reading a byte; a source far larger than a pipe's buffer makes
    # a line-by-line writer meet a broken pipe every time (it did, one run in a few, in CI)
    graphviz = pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("render refuses image formats without dot before running it")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dot").write_text('#!/bin/sh\necho "dot: crashed" >&2\nexit 3\n')
    (fake / "dot").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    g = graphviz.Digraph()
    for i in range(40_000):
        g.node(f"n{i}", label="x" * 20)
    assert len(g.source) > 1_000_000
    with pytest.raises(viz.GraphvizFailed, match=r"dot failed \(exit status 3\): dot: crashed"):
        viz.render(g, tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()
