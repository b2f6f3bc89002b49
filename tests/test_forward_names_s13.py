"""Every layer's ``forward`` takes its arguments under PyTorch's names (``input``, not ``x``), so
``layer(input=x)`` and ``with_kwargs`` hooks see what they see in PyTorch (outside tester t26).
Checked by signature against every class both libraries have."""

from __future__ import annotations

import inspect

import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


def _layers():
    out = []
    for name in sorted(dir(tg.nn)):
        ours, theirs = getattr(tg.nn, name), getattr(torch.nn, name, None)
        if (inspect.isclass(ours) and issubclass(ours, tg.nn.Module) and inspect.isclass(theirs)
                and "forward" in vars(ours) and "forward" in vars(theirs) and name != "Module"):
            out.append(name)
    return out


@pytest.mark.parametrize("name", _layers())
def test_forward_parameters_have_pytorch_names(name):
    ours = list(inspect.signature(getattr(tg.nn, name).forward).parameters)
    theirs = list(inspect.signature(getattr(torch.nn, name).forward).parameters)
    n = min(len(ours), len(theirs), 3)
    assert ours[:n] == theirs[:n]


def test_layers_take_input_by_keyword():
    x = tg.randn(2, 3)
    lin = tg.nn.Linear(3, 2)
    assert (lin(input=x) - lin(x)).abs().max().item() == 0
    seq = tg.nn.Sequential(lin, tg.nn.ReLU())
    assert (seq(input=x) - seq(x)).abs().max().item() == 0
    seen = []
    lin.register_forward_pre_hook(lambda m, args, kwargs: seen.append(sorted(kwargs)),
                                  with_kwargs=True)
    lin(input=x)
    assert seen == [["input"]]
