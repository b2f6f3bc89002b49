"""More regressions found by outside testers in the nn package, each checked against PyTorch:
containers built from other containers and mappings, forward hooks' return values and
``always_call``, attributes set before ``Module.__init__``, mixed-precision norms, Embedding's
``max_norm``, empty adaptive pools, container reprs, and the layers and Module methods that were
missing."""

from __future__ import annotations

import types
from collections import OrderedDict

import numpy as np
import pytest

from tinygrad_cnn import Tensor, nn

torch = pytest.importorskip("torch")
tnn = torch.nn


def arr(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def lib_tensor(lib, a):
    return torch.tensor(a) if lib is tnn else Tensor(a)


# ------------------------------------------------------------------ 1. containers from containers
@pytest.mark.parametrize("lib", [nn, tnn])
def test_module_dict_takes_any_mapping_and_module_dict(lib):
    d = lib.ModuleDict(lib.ModuleDict({"cd": lib.Tanh()}))
    assert list(d) == ["cd"]
    d.update(lib.ModuleDict({"ab": lib.ReLU(), "e": lib.Sigmoid()}))
    d.update(types.MappingProxyType({"fg": lib.ReLU()}))  # a Mapping that is not a dict
    d.update(OrderedDict(h=lib.Tanh()))
    d.update([("ij", lib.ReLU())])
    d.update(lib.ModuleDict({"k": lib.Tanh()}).items())
    assert list(d) == ["cd", "ab", "e", "fg", "h", "ij", "k"]
    assert isinstance(d["fg"], lib.ReLU)
    with pytest.raises(TypeError):
        d.update(3)
    with pytest.raises(ValueError, match="length 3; 2 is required"):
        d.update([("a", lib.ReLU(), 1)])


def test_module_dict_update_errors_as_torch():
    for lib in (nn, tnn):
        d = lib.ModuleDict()
        with pytest.raises(TypeError, match="iterable"):
            d.update(3)
        with pytest.raises(TypeError, match="element #0"):
            d.update([3])


@pytest.mark.parametrize("lib", [nn, tnn])
def test_lists_and_sequentials_from_each_other(lib):
    ml = lib.ModuleList(lib.ModuleList([lib.ReLU()]))
    ml.extend(lib.ModuleList([lib.Tanh()]))
    ml.extend(lib.Sequential(lib.Tanh()))
    assert len(ml) == 3
    s = lib.Sequential(lib.ReLU())
    s.extend(lib.Sequential(lib.Tanh()))
    s.extend(lib.ModuleList([lib.Tanh()]))
    s += lib.Sequential(lib.ReLU())
    assert len(s) == 4 and list(s.state_dict()) == []
    p = lib.ParameterList(lib.ParameterList([lib.Parameter(lib_tensor(lib, np.ones(2)))]))
    assert len(p) == 1 and list(p.state_dict()) == ["0"]
    pd = lib.ParameterDict(lib.ParameterDict({"cd": lib.Parameter(lib_tensor(lib, np.ones(2)))}))
    pd.update(lib.ParameterDict({"ab": lib.Parameter(lib_tensor(lib, np.ones(1)))}))
    pd.update(types.MappingProxyType({"z": lib_tensor(lib, np.ones(1)),
                                      "y": lib_tensor(lib, np.ones(1))}))  # sorted, as a dict
    assert list(pd) == ["cd", "ab", "y", "z"]
    with pytest.raises(TypeError):
        ml.extend(3)
