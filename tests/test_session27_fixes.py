"""Session 27: what outside testers found and what the last session left open, each checked
against PyTorch."""

from __future__ import annotations

import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


# ---------------------------------------------------------------- issue 12: empty tensors' strides


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4), (0, 0, 2), (1, 0, 1, 5)])
def test_empty_tensor_strides_are_pytorchs(shape):
    # (was: numpy's all-zero strides, (0, 0) for a 0x3 tensor where PyTorch says (3, 1))
    ours, theirs = tg.zeros(*shape), torch.zeros(*shape)
    assert ours.stride() == theirs.stride()
    assert ours.contiguous().stride() == theirs.contiguous().stride()
    assert tg.empty(*shape, dtype=tg.int64).stride() == theirs.stride()
    assert all(ours.stride(d) == theirs.stride(d) for d in range(-len(shape), len(shape)))
    assert ours.is_contiguous() and theirs.is_contiguous()


def test_empty_slices_keep_their_strides():
    # an empty slice of a filled tensor has its base's strides, as in PyTorch
    for index in ((slice(None), slice(2, 2)), (slice(1, 1),)):
        assert tg.zeros(3, 4)[index].stride() == torch.zeros(3, 4)[index].stride()
