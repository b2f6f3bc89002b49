"""Module methods around the state dict and the tree, against PyTorch: set_submodule,
type(dst_type) and to_empty(device=, recurse=).

Each behaviour is run on both libraries (``lib`` is ``nn`` or ``torch.nn``) and compared."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, nn

torch = pytest.importorskip("torch")
tnn = torch.nn
LIBS = [nn, tnn]


def arr(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def zeros(lib, *shape):
    return torch.zeros(*shape) if lib is tnn else Tensor(np.zeros(shape, np.float32))


def tree(lib):
    """Linear, then a Sequential of a Linear and a BatchNorm: three levels, buffers too."""
    return lib.Sequential(lib.Linear(2, 3), lib.Sequential(lib.Linear(3, 1), lib.BatchNorm1d(1)))


def keys_of(result):
    return list(result.missing_keys), list(result.unexpected_keys)


def test_method_signatures_as_torch():
    for name in ("set_submodule", "type", "to_empty"):
        ours = [(p.name, p.kind, p.default)
                for p in inspect.signature(getattr(nn.Module, name)).parameters.values()]
        theirs = [(p.name, p.kind, p.default)
                  for p in inspect.signature(getattr(tnn.Module, name)).parameters.values()]
        assert ours == theirs, name


# ------------------------------------------------------------------ set_submodule
@pytest.mark.parametrize("lib", LIBS)
def test_set_submodule_as_torch(lib):
    m = tree(lib)
    new = lib.ReLU()
    m.set_submodule("1.0", new, strict=True)
    assert m[1][0] is new and m.get_submodule("1.0") is new
    m.set_submodule("1.extra", lib.Tanh())  # a new child (not strict)
    assert [n for n, _ in m[1].named_children()] == ["0", "1", "extra"]
    assert m.set_submodule("0", lib.Identity()) is None and isinstance(m[0], lib.Identity)
    m.plain = 3
    bad = [(("", lib.ReLU()), ValueError, "Cannot set the submodule without a target name"),
           (("0", 3), ValueError, "is not an nn.Module"),
           (("2", lib.ReLU(), True), AttributeError, "has no attribute `2`"),
           (("1.1.weight", lib.ReLU()), AttributeError, "`weight` is not an nn.Module"),
           (("5.x", lib.ReLU()), AttributeError, "has no attribute `5`"),
           (("1.1.weight.x", lib.ReLU()), AttributeError, "`weight` is not an nn.Module"),
           (("plain", lib.ReLU()), AttributeError, "`plain` is not an nn.Module"),
           (("training", lib.ReLU()), AttributeError, "`training` is not an nn.Module")]
    for args, error, message in bad:
        with pytest.raises(error, match=message):
            m.set_submodule(*args)


# ------------------------------------------------------------------ type and to_empty
@pytest.mark.parametrize("lib", LIBS)
def test_type_casts_every_parameter_and_buffer_as_torch(lib):
    for dst in ((torch.float64 if lib is tnn else tg.float64), "torch.DoubleTensor"):
        bn = lib.BatchNorm1d(3)
        w = bn.weight
        bn.weight.grad = torch.ones(3) if lib is tnn else Tensor(np.ones(3, np.float32))
        assert bn.type(dst) is bn
        assert bn.weight is w and bn.weight.requires_grad
        dtypes = {str(t.dtype).replace("torch.", "") for t in bn.state_dict().values()}
        assert dtypes == {"float64"}  # num_batches_tracked too, unlike .double()
        assert str(bn.weight.grad.dtype).replace("torch.", "") == "float64"
    lin = lib.Linear(2, 3)
    with pytest.raises(RuntimeError, match="must be floating point or complex"):
        lin.type(torch.int64 if lib is tnn else tg.long)
    assert str(lin.weight.dtype).replace("torch.", "") == "float32"
    bn = lib.BatchNorm1d(3)
    bn.requires_grad_(False)
    bn.type(torch.float16 if lib is tnn else tg.half)
    assert str(bn.num_batches_tracked.dtype).replace("torch.", "") == "float16"


@pytest.mark.parametrize("lib", LIBS)
def test_to_empty_as_torch(lib):
    m = tree(lib)
    m.register_buffer("steps", torch.ones(2, dtype=torch.int32) if lib is tnn
                      else Tensor(np.ones(2, np.int32)))
    m[0].weight.grad = torch.ones(3, 2) if lib is tnn else Tensor(np.ones((3, 2), np.float32))
    before = {k: arr(v) for k, v in m.state_dict(keep_vars=True).items()}  # (their memory)
    params = list(m.parameters())
    assert m.to_empty(device="cpu") is m
    assert all(a is b for a, b in zip(m.parameters(), params))  # the same Parameter objects
    for k, v in m.state_dict(keep_vars=True).items():
        old = before[k]
        assert tuple(v.shape) == old.shape and arr(v).dtype == old.dtype
        assert not np.shares_memory(arr(v), old)  # new memory, values not copied
    assert all(p.requires_grad for p in m.parameters())
    assert tuple(m[0].weight.grad.shape) == (3, 2)
    m = tree(lib)
    m.register_buffer("steps", zeros(lib, 2))
    child = m[0].weight
    own = arr(m.steps)
    kept = arr(child).copy()
    m.to_empty(device=None, recurse=False)  # only the root's own buffer
    np.testing.assert_array_equal(arr(m[0].weight), kept)
    assert m[0].weight is child and tuple(m.steps.shape) == own.shape
    with pytest.raises(TypeError):
        m.to_empty()  # device is keyword-only and required
    with pytest.raises(TypeError):
        m.to_empty("cpu")
