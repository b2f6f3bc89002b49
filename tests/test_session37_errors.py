"""Session 37: errors that name the op and the argument where a bare Python error came out
(outside tester t135, F3 and F4): scalar hyper-parameters that are not numbers, callables that are
not callable, and an optimizer step refused before any parameter moves."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import data, nn, optim
from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.optim import lr_scheduler as sched


def _x() -> tg.Tensor:
    return tg.randn(2, 3, 4)


def _sgd(**kw: Any) -> optim.SGD:
    return optim.SGD([nn.Parameter(tg.ones(2))], lr=0.1, **kw)


class _DS(data.Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int) -> int:
        return i


# ------------------------------------------------------------------ activations and dropout
NOT_NUMBER = [
    ("leaky_relu", "negative_slope", lambda v: F.leaky_relu(_x(), v)),
    ("elu", "alpha", lambda v: F.elu(_x(), v)),
    ("celu", "alpha", lambda v: F.celu(_x(), v)),
    ("softplus", "beta", lambda v: F.softplus(_x(), v)),
    ("softplus", "threshold", lambda v: F.softplus(_x(), 1.0, v)),
    ("threshold", "threshold", lambda v: F.threshold(_x(), v, 0.0)),
    ("threshold", "value", lambda v: F.threshold(_x(), 0.0, v)),
    ("hardtanh", "min_val", lambda v: F.hardtanh(_x(), v, 1.0)),
    ("hardtanh", "max_val", lambda v: F.hardtanh(_x(), -1.0, v)),
    ("rrelu", "lower", lambda v: F.rrelu(_x(), v)),
    ("rrelu", "upper", lambda v: F.rrelu(_x(), 0.1, v)),
    ("softshrink", "lambd", lambda v: F.softshrink(_x(), v)),
    ("hardshrink", "lambd", lambda v: F.hardshrink(_x(), v)),
    ("dropout", "p", lambda v: F.dropout(_x(), p=v)),
    ("dropout1d", "p", lambda v: F.dropout1d(_x(), p=v)),
    ("dropout2d", "p", lambda v: F.dropout2d(tg.randn(1, 2, 3, 4), p=v)),
    ("dropout3d", "p", lambda v: F.dropout3d(tg.randn(1, 2, 3, 4, 5), p=v)),
    ("alpha_dropout", "p", lambda v: F.alpha_dropout(_x(), p=v, training=True)),
    ("feature_alpha_dropout", "p", lambda v: F.feature_alpha_dropout(_x(), p=v, training=True)),
    ("LeakyReLU", "negative_slope", lambda v: nn.LeakyReLU(v)),
    ("ELU", "alpha", lambda v: nn.ELU(v)),
    ("CELU", "alpha", lambda v: nn.CELU(v)),
    ("Softplus", "beta", lambda v: nn.Softplus(v)),
    ("Softplus", "threshold", lambda v: nn.Softplus(1.0, v)),
    ("Threshold", "threshold", lambda v: nn.Threshold(v, 0.0)),
    ("Hardtanh", "min_val", lambda v: nn.Hardtanh(v, 1.0)),
    ("RReLU", "upper", lambda v: nn.RReLU(0.1, v)),
    ("Softshrink", "lambd", lambda v: nn.Softshrink(v)),
    ("Hardshrink", "lambd", lambda v: nn.Hardshrink(v)),
    ("Dropout", "p", lambda v: nn.Dropout(v)),
    ("Dropout2d", "p", lambda v: nn.Dropout2d(v)),
    ("AlphaDropout", "p", lambda v: nn.AlphaDropout(v)),
    ("FeatureAlphaDropout", "p", lambda v: nn.FeatureAlphaDropout(v)),
    ("constant_", "val", lambda v: nn.init.constant_(tg.empty(2, 2), v)),
]


@pytest.mark.parametrize("bad", ["a", None, [0.1]], ids=["str", "None", "list"])
@pytest.mark.parametrize(("op", "arg", "call"), NOT_NUMBER, ids=[f"{o}-{a}" for o, a, _ in NOT_NUMBER])
def test_scalar_argument_not_a_number(op: str, arg: str, call: Any, bad: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TypeError, match=rf"^{op}: {arg} must be a number .*got "
                                            rf"{type(bad).__name__}$"):
            call(bad)


@pytest.mark.parametrize(("op", "arg", "call"), NOT_NUMBER, ids=[f"{o}-{a}" for o, a, _ in NOT_NUMBER])
def test_scalar_argument_refuses_a_tensor_of_two(op: str, arg: str, call: Any) -> None:
    """A 0-d tensor is a number there (PyTorch's Number); one of shape (2,) is not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TypeError, match=rf"^{op}: {arg} must be a number .*Tensor of shape"):
            call(tg.tensor([0.1, 0.2]))


@pytest.mark.parametrize("value", [0.25, 1, True, np.float32(0.25), np.int64(1), tg.tensor(0.25)],
                         ids=["float", "int", "bool", "np.float32", "np.int64", "0-d tensor"])
def test_valid_scalars_still_accepted(value: Any) -> None:
    x = tg.tensor([-2.0, 0.5, 3.0])
    v = float(value.item() if isinstance(value, tg.Tensor) else value)
    assert F.leaky_relu(x, value).tolist() == pytest.approx([-2.0 * v, 0.5, 3.0])
    assert F.hardshrink(x, value).tolist() == pytest.approx([-2.0, 0.5 if v < 0.5 else 0.0, 3.0])
    assert nn.LeakyReLU(value)(x).tolist() == pytest.approx([-2.0 * v, 0.5, 3.0])
    w = nn.init.constant_(tg.empty(2), value)
    assert w.tolist() == [pytest.approx(v)] * 2


def test_dropout_takes_a_0d_tensor_p() -> None:
    """(was: AttributeError 'Tensor' object has no attribute 'astype' while training)"""
    x = tg.ones(1000)
    tg.manual_seed(0)
    y = F.dropout(x, p=tg.tensor(0.5))
    kept = y.numpy() != 0
    assert set(np.unique(y.numpy())) <= {0.0, 2.0}
    assert 400 < kept.sum() < 600
    assert F.dropout(x, p=tg.tensor(1.0)).sum().item() == 0.0


# ------------------------------------------------------------------ optimizers
OPTIONS = [
    (optim.SGD, "lr"), (optim.SGD, "momentum"), (optim.SGD, "dampening"),
    (optim.SGD, "weight_decay"), (optim.Adam, "lr"), (optim.Adam, "eps"),
    (optim.AdamW, "weight_decay"), (optim.RMSprop, "alpha"), (optim.RMSprop, "momentum"),
    (optim.Adagrad, "lr_decay"), (optim.Adagrad, "initial_accumulator_value"),
    (optim.Adadelta, "rho"), (optim.Adamax, "eps"), (optim.NAdam, "momentum_decay"),
    (optim.RAdam, "eps"), (optim.ASGD, "lambd"), (optim.ASGD, "alpha"), (optim.ASGD, "t0"),
]


@pytest.mark.parametrize("bad", ["a", None], ids=["str", "None"])
@pytest.mark.parametrize(("cls", "opt"), OPTIONS, ids=[f"{c.__name__}-{o}" for c, o in OPTIONS])
def test_optimizer_option_not_a_number(cls: Any, opt: str, bad: Any) -> None:
    params = [nn.Parameter(tg.ones(2))]
    kw = {} if opt == "lr" else {"lr": 0.1}
    with pytest.raises(TypeError, match=rf"^{cls.__name__}: option '{opt}' of parameter group 0 "
                                        rf"must be a number.*got {type(bad).__name__}$"):
        cls(params, **kw, **{opt: bad})
    o = cls([nn.Parameter(tg.ones(2))], **kw)
    with pytest.raises(TypeError, match=rf"^{cls.__name__}: option '{opt}' of parameter group 1 "
                                        "must be a number"):
        o.add_param_group({"params": [nn.Parameter(tg.ones(2))], opt: bad})
    assert len(o.param_groups) == 1


@pytest.mark.parametrize(("cls", "opt", "good"), [(optim.Adam, "betas", (0.9, 0.999)),
                                                  (optim.NAdam, "betas", (0.9, 0.999)),
                                                  (optim.Rprop, "etas", (0.5, 1.2)),
                                                  (optim.Rprop, "step_sizes", (1e-6, 50))])
def test_optimizer_pairs(cls: Any, opt: str, good: tuple[float, float]) -> None:
    def make(v: Any) -> Any:
        return cls([nn.Parameter(tg.ones(2))], **{opt: v})

    with pytest.raises(TypeError, match=rf"^{cls.__name__}: option '{opt}' of parameter group 0 "
                                        "must be a tuple of 2 numbers"):
        make(("a", good[1]))
    with pytest.raises(TypeError, match=rf"^{cls.__name__}: {opt} must be a tuple of 2 numbers, "
                                        "got NoneType$"):
        make(None)
    with pytest.raises(ValueError, match=rf"{cls.__name__}: option '{opt}'.*got 1: "):
        make(good[:1])
    assert make(good).param_groups[0][opt] == good


def test_lbfgs_lr_not_a_number() -> None:
    with pytest.raises(TypeError, match="^LBFGS: lr must be a number"):
        optim.LBFGS([nn.Parameter(tg.ones(2))], lr="a")
    with pytest.raises(TypeError, match="^LBFGS: max_iter must be a number"):
        optim.LBFGS([nn.Parameter(tg.ones(2))], max_iter=None)


def test_optimizer_valid_numbers_and_tensors_still_accepted() -> None:
    for lr in (0.1, 1, True, np.float32(0.1), tg.tensor(0.1), tg.tensor([0.1]), np.array(0.1)):
        p = nn.Parameter(tg.ones(2))
        o = optim.SGD([p], lr=lr, momentum=np.float64(0.5))
        p.grad = tg.ones(2)
        o.step()
        assert p.tolist() == pytest.approx([1 - float(np.asarray(lr._data if
                                                                 isinstance(lr, tg.Tensor) else lr
                                                                 ).reshape(()))] * 2)


def test_group_without_params_is_a_named_key_error() -> None:
    with pytest.raises(KeyError, match="SGD: parameter group 0 has no 'params'"):
        optim.SGD([{"lr": 0.1}], lr=0.1)
    o = _sgd()
    with pytest.raises(KeyError, match="SGD: parameter group 1 has no 'params'"):
        o.add_param_group({"lr": 0.1})
    assert len(o.param_groups) == 1


@pytest.mark.parametrize("missing", ["param_groups", "state"])
def test_load_state_dict_missing_key(missing: str) -> None:
    o = _sgd(momentum=0.9)
    saved = o.state_dict()
    saved_lr = o.param_groups[0]["lr"]
    del saved[missing]
    with pytest.raises(KeyError, match=rf"SGD.load_state_dict: the state_dict has no '{missing}'"):
        o.load_state_dict(saved)
    assert o.param_groups[0]["lr"] == saved_lr


@pytest.mark.parametrize(("key", "bad", "match"), [
    ("lr", "a", r"option 'lr' of parameter group 0 must be a number.*got str"),
    ("momentum", None, r"option 'momentum' of parameter group 0 must be a number.*got NoneType"),
])
def test_load_state_dict_option_not_a_number(key: str, bad: Any, match: str) -> None:
    o = _sgd(momentum=0.9)
    saved = o.state_dict()
    saved["param_groups"][0][key] = bad
    with pytest.raises(TypeError, match=rf"^SGD.load_state_dict: {match}$"):
        o.load_state_dict(saved)
    assert o.param_groups[0]["lr"] == 0.1 and o.param_groups[0]["momentum"] == 0.9


def test_load_state_dict_betas_not_a_pair() -> None:
    o = optim.Adam([nn.Parameter(tg.ones(2))])
    saved = o.state_dict()
    saved["param_groups"][0]["betas"] = 0.9
    with pytest.raises(TypeError, match=r"^Adam.load_state_dict: option 'betas' of parameter "
                                        r"group 0 must be a tuple of 2 numbers"):
        o.load_state_dict(saved)
    assert o.param_groups[0]["betas"] == (0.9, 0.999)


# ------------------------------------------------------------------ F4: a step refused whole
def _two_groups(cls: Any, **kw: Any) -> tuple[Any, list[nn.Parameter]]:
    lin = nn.Linear(2, 2)
    params = list(lin.parameters())
    o = cls([{"params": [params[0]]}, {"params": [params[1]]}], **kw)
    lin(tg.randn(3, 2)).sum().backward()
    return o, params


@pytest.mark.parametrize(("cls", "key", "bad", "error", "match"), [
    (optim.SGD, "lr", "bad", TypeError, r"SGD.step: option 'lr' of parameter group 1 must be a number"),
    (optim.SGD, "momentum", None, TypeError, r"SGD.step: option 'momentum' of parameter group 1"),
    (optim.Adam, "betas", (0.9,), ValueError, r"Adam.step: option 'betas' of parameter group 1"),
    (optim.Adam, "eps", "x", TypeError, r"Adam.step: option 'eps' of parameter group 1"),
    (optim.RMSprop, "alpha", [0.9], TypeError, r"RMSprop.step: option 'alpha' of parameter group 1"),
])
def test_step_checks_every_group_before_any_update(cls: Any, key: str, bad: Any, error: type,
                                                   match: str) -> None:
    o, params = _two_groups(cls, lr=0.1)
    before = [p.numpy().copy() for p in params]
    o.param_groups[1][key] = bad
    with pytest.raises(error, match=match):
        o.step()
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.numpy(), b)
    assert not o.state or all(not s for s in o.state.values())


def test_step_with_groups_changed_validly_by_hand_still_steps() -> None:
    o, params = _two_groups(optim.SGD, lr=0.1)
    o.param_groups[1]["lr"] = np.float32(0.5)
    o.param_groups[0]["momentum"] = 0.9
    before = [p.numpy().copy() for p in params]
    o.step()
    for p, b, lr in zip(params, before, (0.1, 0.5)):
        np.testing.assert_allclose(p.numpy(), b - lr * p.grad.numpy(), rtol=1e-6)


# ------------------------------------------------------------------ schedulers
@pytest.mark.parametrize(("name", "arg", "make"), [
    ("ExponentialLR", "gamma", lambda o, v: sched.ExponentialLR(o, v)),
    ("StepLR", "step_size", lambda o, v: sched.StepLR(o, v)),
    ("StepLR", "gamma", lambda o, v: sched.StepLR(o, 2, gamma=v)),
    ("MultiStepLR", "gamma", lambda o, v: sched.MultiStepLR(o, [1], gamma=v)),
    ("ConstantLR", "factor", lambda o, v: sched.ConstantLR(o, factor=v)),
    ("LinearLR", "start_factor", lambda o, v: sched.LinearLR(o, start_factor=v)),
    ("PolynomialLR", "power", lambda o, v: sched.PolynomialLR(o, power=v)),
    ("CosineAnnealingLR", "T_max", lambda o, v: sched.CosineAnnealingLR(o, v)),
    ("ReduceLROnPlateau", "factor", lambda o, v: sched.ReduceLROnPlateau(o, factor=v)),
])
@pytest.mark.parametrize("bad", ["a", None], ids=["str", "None"])
def test_scheduler_number_arguments(name: str, arg: str, make: Any, bad: Any) -> None:
    o = _sgd()
    with pytest.raises(TypeError, match=rf"^{name}: {arg} must be a number.*got "
                                        rf"{type(bad).__name__}$"):
        make(o, bad)
    assert o.param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize("cls", [sched.LambdaLR, sched.MultiplicativeLR])
def test_lr_lambda_not_callable_at_construction(cls: Any) -> None:
    with pytest.raises(TypeError, match=rf"^{cls.__name__}: lr_lambda .*(callable|function).*int"):
        cls(_sgd(), 5)
    o = _sgd()
    o.add_param_group({"params": [nn.Parameter(tg.ones(1))]})
    with pytest.raises(TypeError, match=rf"^{cls.__name__}: lr_lambda .*str"):
        cls(o, [lambda e: 1.0, "x"])


@pytest.mark.parametrize("bad", ["a", None, "1.5", [1.0]], ids=["str", "None", "numeric-str", "list"])
def test_plateau_metrics_must_be_a_number(bad: Any) -> None:
    s = sched.ReduceLROnPlateau(_sgd())
    with pytest.raises(TypeError, match=rf"^ReduceLROnPlateau.step: metrics must be a number.*"
                                        rf"got {type(bad).__name__}$"):
        s.step(bad)
    assert s.last_epoch == 0 and s.num_bad_epochs == 0


def test_plateau_metrics_valid_kinds() -> None:
    o = _sgd()
    s = sched.ReduceLROnPlateau(o, patience=0, factor=0.5)
    for m in (1.0, 1, np.float32(1.0), tg.tensor(1.0), tg.tensor([1.0]), np.array(1.0)):
        s.step(m)
    assert s.best == 1.0
    assert o.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 5)


# ------------------------------------------------------------------ data
@pytest.mark.parametrize(("lengths", "got"), [("ab", "str"), (4, "int"), (None, "NoneType"),
                                              (["a", "b"], "str at index 0"),
                                              ([2, None], "NoneType at index 1")])
def test_random_split_lengths(lengths: Any, got: str) -> None:
    with pytest.raises(TypeError, match=rf"^random_split: lengths must be a sequence of ints .*got "
                                        rf"{got}$"):
        data.random_split(_DS(), lengths)


def test_random_split_valid_lengths_unchanged() -> None:
    for lengths in ([1, 3], [0.25, 0.75], (np.int64(2), 2), tg.tensor([1, 3])):
        parts = data.random_split(_DS(), lengths, generator=0)
        assert sorted(i for p in parts for i in p.indices) == [0, 1, 2, 3]


@pytest.mark.parametrize(("arg", "kw"), [
    ("collate_fn", {"collate_fn": 5}), ("worker_init_fn", {"worker_init_fn": "f"}),
    ("sampler", {"sampler": 5}), ("batch_sampler", {"batch_sampler": 5, "batch_size": 1}),
])
def test_dataloader_arguments_checked_at_construction(arg: str, kw: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match=rf"^DataLoader: {arg} must be "):
        data.DataLoader(_DS(), **kw)


def test_dataloader_valid_callables_and_samplers() -> None:
    loader = data.DataLoader(_DS(), batch_size=2, collate_fn=list, sampler=[3, 2, 1, 0])
    assert list(loader) == [[3, 2], [1, 0]]
    loader = data.DataLoader(_DS(), batch_sampler=[[0, 1], [2, 3]], collate_fn=sum)
    assert list(loader) == [1, 5]


# ------------------------------------------------------------------ autograd
def test_grad_outputs_and_inputs_must_be_tensors() -> None:
    x = tg.randn(2, requires_grad=True)
    with pytest.raises(TypeError, match=r"^grad: outputs must be a Tensor or a sequence of "
                                        r"Tensors, got int$"):
        tg.autograd.grad(5, x)
    with pytest.raises(TypeError, match=r"^grad: outputs must be Tensors, output 1 is an int$"):
        tg.autograd.grad([x.sum(), 5], x)
    with pytest.raises(TypeError, match=r"^grad: inputs must be a Tensor or a sequence of "
                                        r"Tensors, got int$"):
        tg.autograd.grad(x.sum(), 5)
    (g,) = tg.autograd.grad([(x * 2).sum()], [x])
    assert g.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("fn", ["jacobian", "hessian", "vjp", "jvp", "vhp", "hvp"])
def test_functional_func_must_be_callable(fn: str) -> None:
    with pytest.raises(TypeError, match=rf"^{fn}: func must be callable .*got int$"):
        getattr(tg.autograd.functional, fn)(5, tg.randn(2))
