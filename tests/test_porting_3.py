"""Porting gaps, checked against PyTorch: float16 gradient clipping, vector_to_parameters sharing
memory, arange's dtype from numpy scalars and 0-d tensors, cat with legacy empty tensors, the
package's submodules reachable from ``import tinygrad_cnn``, and small missing names."""

import math

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)

torch = pytest.importorskip("torch")

DTYPES = ["float16", "float32", "float64"]


# ---- 1. clip_grad_norm_ / clip_grad_value_ ------------------------------------------------------


def _grad_pair(grads: list[np.ndarray]) -> tuple[list, list]:
    ours, theirs = [], []
    for g in grads:
        p = tg.zeros(*g.shape, dtype=g.dtype, requires_grad=True)
        p.grad = tg.tensor(g.copy())
        q = torch.zeros(*g.shape, dtype=getattr(torch, str(g.dtype)), requires_grad=True)
        q.grad = torch.from_numpy(g.copy())
        ours.append(p)
        theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0, 0.5, 0, -1, -math.inf])
@pytest.mark.parametrize("scale", [300.0, 1e-3])
def test_clip_grad_norm_matches_torch(dtype: str, norm_type: float, scale: float) -> None:
    rng = np.random.default_rng(0)
    grads = [(rng.standard_normal(1000) * scale).astype(dtype),
             np.array([[1.0, -2.0], [3.0, 0.0]], dtype), np.zeros(0, dtype)]
    if norm_type < 0 or math.isinf(norm_type):
        grads.pop()  # a norm without identity of an empty gradient is an error (tested below)
    ours, theirs = _grad_pair(grads)
    got = clip_grad_norm_(ours, 1.0, norm_type)
    want = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type)
    assert got.dtype == np.dtype(dtype) and want.dtype == getattr(torch, dtype)
    rtol = 0 if dtype == "float16" else 1e-5  # float32/64: summation order differs
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=rtol)
    for p, q in zip(ours, theirs):
        assert p.grad.dtype == np.dtype(dtype)
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=rtol, atol=0)


def test_clip_grad_norm_float16_accumulates_in_float32() -> None:
    # the squares overflow float16 (300**2 * 1000 = 9e7 > 65504), the norm does not
    p = tg.zeros(1000, dtype=tg.float16, requires_grad=True)
    p.grad = tg.full((1000,), 300.0, dtype=tg.float16)
    total = clip_grad_norm_(p, 1.0)
    assert total.dtype == np.float16 and total.item() == 9488.0  # float16(300 * sqrt(1000))
    np.testing.assert_allclose(p.grad.numpy().astype(np.float64), 1 / math.sqrt(1000), rtol=1e-3)
    # a norm that itself passes 65504 is inf in float16, and clips to 0, as in PyTorch
    p.grad = tg.full((1000,), 300.0, dtype=tg.float16)
    q = torch.zeros(1000, dtype=torch.float16, requires_grad=True)
    q.grad = torch.full((1000,), 300.0, dtype=torch.float16)
    assert clip_grad_norm_(p, 1.0, 1).item() == torch.nn.utils.clip_grad_norm_(q, 1.0, 1).item()
    assert not q.grad.any() and not p.grad.numpy().any()


def test_clip_grad_norm_mixed_dtypes_promote_the_total() -> None:
    grads = [np.array([1.0, 2.0, 3.0], "float16"), np.array([1.0, 2.0, 3.0], "float64")]
    ours, theirs = _grad_pair(grads)
    got, want = clip_grad_norm_(ours, 1.0), torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert got.dtype == np.float64 and want.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_clip_grad_norm_special_values_and_errors() -> None:
    for bad in (np.nan, np.inf):
        ours, theirs = _grad_pair([np.array([1.0, bad, 0.0], "float32")])
        got = clip_grad_norm_(ours, 1.0)
        want = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        np.testing.assert_array_equal(ours[0].grad.numpy(), theirs[0].grad.numpy())
        with pytest.raises(RuntimeError, match="non-finite"):
            clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    # a negative max_norm flips the gradients, as PyTorch does
    ours, theirs = _grad_pair([np.array([1.0, 2.0], "float32")])
    clip_grad_norm_(ours, -1.0)
    torch.nn.utils.clip_grad_norm_(theirs, -1.0)
    np.testing.assert_allclose(ours[0].grad.numpy(), theirs[0].grad.numpy(), rtol=1e-6)
    # no gradients: a float32 zero
    got = clip_grad_norm_([tg.zeros(2, requires_grad=True)], 1.0)
    assert got.dtype == np.float32 and got.item() == 0
    ours, theirs = _grad_pair([np.zeros(0, "float16")])
    assert clip_grad_norm_(ours, 1.0).item() == 0 and clip_grad_norm_(ours, 1.0).dtype == np.float16
    for norm_type in (math.inf, -1.0):
        with pytest.raises(RuntimeError):
            torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type)
        with pytest.raises(RuntimeError, match=f"clip_grad_norm_: the {norm_type} norm of an emp"):
            clip_grad_norm_(ours, 1.0, norm_type)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("clip", [0.3, 6e4, math.inf, -1.0, math.nan])
def test_clip_grad_value_matches_torch(dtype: str, clip: float) -> None:
    ours, theirs = _grad_pair([np.array([1e4, -6e4, 0.5, np.nan, -np.inf], dtype)])
    clip_grad_value_(ours, clip)
    torch.nn.utils.clip_grad_value_(theirs, clip)
    np.testing.assert_array_equal(ours[0].grad.numpy(), theirs[0].grad.numpy())


def test_clip_grad_value_refuses_a_bound_that_overflows_the_dtype() -> None:
    for dtype, clip in (("float16", 65510.0), ("float32", 1e39)):
        ours, theirs = _grad_pair([np.array([1.0, 2.0], "float64"), np.array([1.0, -6.0], dtype)])
        with pytest.raises(RuntimeError, match="without overflow"):
            torch.nn.utils.clip_grad_value_(theirs, clip)
        with pytest.raises(RuntimeError, match=f"clip_grad_value_: .* {dtype} without overflow"):
            clip_grad_value_(ours, clip)
        assert ours[0].grad.numpy().tolist() == [1.0, 2.0]  # checked before anything changed


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("clip", [0.0, -0.0, 1.0, -1.0, math.inf, math.nan])
def test_clip_grad_value_keeps_the_sign_of_zero_as_torch(dtype: str, clip: float) -> None:
    """clip_grad_value_(ps, 0) on [3., -4.]: PyTorch's clamp gives [0., -0.] (-4 is replaced by
    the lower bound -0.0); numpy's maximum/minimum gave [0., 0.]."""
    grads = [np.array([3.0, -4.0, 0.0, -0.0, np.nan, 1e-3, -1e-3], dtype)]
    ours, theirs = _grad_pair(grads)
    clip_grad_value_(ours, clip)
    torch.nn.utils.clip_grad_value_(theirs, clip)
    got, want = ours[0].grad.numpy(), theirs[0].grad.numpy()
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 0.5])
def test_get_total_norm_and_clip_grads_with_norm_match_torch(dtype: str,
                                                             norm_type: float) -> None:
    """nn.utils.get_total_norm(tensors, ...) and clip_grads_with_norm_(parameters, max_norm,
    total_norm): clip_grad_norm_ in two steps, as PyTorch >= 2.6 splits it."""
    rng = np.random.default_rng(1)
    grads = [(rng.standard_normal(50) * 30).astype(dtype), np.array([[1.0, -2.0]], dtype)]
    ours, theirs = _grad_pair(grads)
    got = tg.nn.utils.get_total_norm([p.grad for p in ours], norm_type)
    want = torch.nn.utils.get_total_norm([q.grad for q in theirs], norm_type)
    assert str(got.dtype) == str(want.dtype).replace("torch.", "")
    rtol = 0 if dtype == "float16" else 1e-5
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=rtol)
    assert tg.nn.utils.clip_grads_with_norm_(ours, 1.0, got) is None
    torch.nn.utils.clip_grads_with_norm_(theirs, 1.0, want)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=rtol, atol=0)
    # a total of another dtype (float64): the coefficient in its dtype, the grads keep theirs
    ours, theirs = _grad_pair(grads)
    tg.nn.utils.clip_grads_with_norm_(ours, 0.5, tg.tensor(np.float64(7.0)))
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.5, torch.tensor(7.0, dtype=torch.float64))
    for p, q in zip(ours, theirs):
        assert p.grad.dtype == np.dtype(dtype)
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=rtol, atol=0)


def test_get_total_norm_edges_and_errors_as_torch() -> None:
    # a single tensor, and no tensors (a float32 zero)
    got = tg.nn.utils.get_total_norm(tg.tensor([3.0, 4.0]))
    assert got.item() == torch.nn.utils.get_total_norm(torch.tensor([3.0, 4.0])).item() == 5.0
    empty, tempty = tg.nn.utils.get_total_norm([]), torch.nn.utils.get_total_norm([])
    assert empty.item() == tempty.item() == 0.0 and empty.dtype == np.float32
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.get_total_norm([torch.tensor([1.0, math.inf])], error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="get_total_norm: the total norm .* non-finite"):
        tg.nn.utils.get_total_norm([tg.tensor([1.0, math.inf])], error_if_nonfinite=True)
    with pytest.raises(RuntimeError):
        torch.nn.utils.get_total_norm([torch.tensor([1, 2])])
    with pytest.raises(RuntimeError, match="floating point tensors, got int64"):
        tg.nn.utils.get_total_norm([tg.tensor(np.array([1, 2]))])
    with pytest.raises(TypeError, match="expected Tensors, got a NoneType"):
        tg.nn.utils.get_total_norm([tg.zeros(2, requires_grad=True).grad])
    ours, theirs = _grad_pair([np.array([1.0, 2.0], "float32")])
    with pytest.raises(TypeError):
        torch.nn.utils.clip_grads_with_norm_(theirs, 1.0, 4.0)
    with pytest.raises(TypeError, match="total_norm must be a Tensor"):
        tg.nn.utils.clip_grads_with_norm_(ours, 1.0, 4.0)


def test_clip_grad_norm_deprecated_alias_and_empty_generator_warn_as_torch() -> None:
    ours, theirs = _grad_pair([np.array([3.0, 4.0], "float32")])
    with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated in favor of"):
        want = torch.nn.utils.clip_grad_norm(theirs, 1.0)
    with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated in favor of"):
        got = tg.nn.utils.clip_grad_norm(ours, 1.0)
    assert got.item() == want.item() == 5.0
    np.testing.assert_allclose(ours[0].grad.numpy(), theirs[0].grad.numpy(), rtol=1e-6)
    message = "`parameters` is an empty generator, no gradient clipping will occur."
    with pytest.warns(UserWarning, match=message):
        torch.nn.utils.clip_grad_norm_((p for p in []), 1.0)
    with pytest.warns(UserWarning, match=message) as record:
        assert clip_grad_norm_((p for p in []), 1.0).item() == 0.0
    assert record[0].filename == __file__  # (pointing at the caller)


def test_parameters_to_vector_promotes_as_torch_cat() -> None:
    v = parameters_to_vector([tg.ones(2, dtype=tg.float16), tg.ones(2, 2)])
    w = torch.nn.utils.parameters_to_vector([torch.ones(2, dtype=torch.float16), torch.ones(2, 2)])
    assert v.dtype == np.float32 and w.dtype == torch.float32 and v.tolist() == w.tolist()


# ---- 2. vector_to_parameters shares memory -------------------------------------------------------


def test_vector_to_parameters_shares_memory_as_torch() -> None:
    ps = [tg.zeros(2, 3, requires_grad=True), tg.zeros(4, requires_grad=True)]
    qs = [torch.zeros(2, 3, requires_grad=True), torch.zeros(4, requires_grad=True)]
    v, w = tg.arange(11.0), torch.arange(11.0)  # one element more: its tail is unused
    vector_to_parameters(v, ps)
    torch.nn.utils.vector_to_parameters(w, qs)
    v[0] = 100.0
    w[0] = 100.0
    for p, q in zip(ps, qs):
        assert p.tolist() == q.tolist() and p.is_leaf and p.requires_grad and p.grad_fn is None
        assert np.shares_memory(p.numpy(), v.numpy())
    # the parameters take the vector's dtype; a strided vector works when a view can be made
    vector_to_parameters(tg.arange(12, dtype=tg.float64)[::2][:5].repeat(2), ps)
    assert ps[0].dtype == np.float64
    strided = tg.arange(12.0)[::2]
    p = tg.zeros(2, 3, requires_grad=True)
    vector_to_parameters(strided, [p])
    q = torch.zeros(2, 3, requires_grad=True)
    torch.nn.utils.vector_to_parameters(torch.arange(12.0)[::2], [q])
    assert p.tolist() == q.tolist() and np.shares_memory(p.numpy(), strided.numpy())
    # a vector with history: the parameters stay leaves without it
    x = tg.arange(6.0, requires_grad=True) * 2
    vector_to_parameters(x, [p])
    assert p.is_leaf and p.grad_fn is None and p.requires_grad


def test_vector_to_parameters_errors() -> None:
    ps = [tg.zeros(2, 3, requires_grad=True), tg.zeros(4, requires_grad=True)]
    qs = [torch.zeros(2, 3, requires_grad=True), torch.zeros(4, requires_grad=True)]
    with pytest.raises(TypeError, match="vector_to_parameters: expected a Tensor"):
        vector_to_parameters([1.0] * 10, ps)
    with pytest.raises(TypeError):
        torch.nn.utils.vector_to_parameters([1.0] * 10, qs)
    for ours, theirs in ((tg.arange(9.0), torch.arange(9.0)), (tg.arange(10), torch.arange(10))):
        with pytest.raises(RuntimeError):
            torch.nn.utils.vector_to_parameters(theirs, qs)
        with pytest.raises(RuntimeError, match="vector_to_parameters: "):
            vector_to_parameters(ours, ps)
    with pytest.raises(RuntimeError, match=r"1-D vector, got shape \(2, 5\)"):
        vector_to_parameters(tg.zeros(2, 5), ps)
    assert ps[0].numpy().sum() == 0  # nothing changed


# ---- 3. arange's dtype ---------------------------------------------------------------------------

ARANGE_CASES = [
    (np.int64(5),), (np.int32(5),), (np.uint8(5),), ("t_int64",), ("t_int32",), ("t_bool",),
    (np.float64(5),), (np.float16(5),), ("t_float32",), ("t_float64",), (np.int64(1), 5),
    (1, np.float64(5)), (1, 5, np.int32(2)), (1, 5, "t_float32"), (np.bool_(True),), (True,),
    (1, 5, 0.5), (5,), (0, 0),
]


def _arange_args(case: tuple, lib) -> list:
    out = []
    for a in case:
        if isinstance(a, str):
            dtype = a.removeprefix("t_")
            value = True if dtype == "bool" else 2
            out.append(lib.tensor(value, dtype=getattr(lib, dtype)))
        else:
            out.append(a)
    return out


@pytest.mark.parametrize("case", ARANGE_CASES, ids=str)
def test_arange_dtype_matches_torch(case: tuple) -> None:
    got = tg.arange(*_arange_args(case, tg))
    want = torch.arange(*_arange_args(case, torch))
    assert str(got.dtype) == str(want.dtype).removeprefix("torch.")
    assert got.tolist() == want.tolist()


def test_arange_errors_and_requires_grad() -> None:
    for args in ((0, 5, 0), (5, 0, 1), (0, 5, -1), (0, math.inf), (0, math.nan)):
        with pytest.raises(RuntimeError):
            torch.arange(*args)
        with pytest.raises(RuntimeError, match="arange: "):
            tg.arange(*args)
    for bad, tbad in ((tg.tensor([5]), torch.tensor([5])), (np.array(5), np.array(5))):
        with pytest.raises(TypeError):
            torch.arange(tbad)
        with pytest.raises(TypeError, match="arange\\(\\): argument 'end'"):
            tg.arange(bad)
    t = tg.arange(3.0, dtype=tg.float64, requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.dtype == np.float64


# ---- 4. cat skips legacy empty tensors -----------------------------------------------------------

CAT_CASES = [  # (shapes and dtypes of the inputs, dim)
    ([((0,), "float32"), ((2, 3), "float64")], 0),
    ([((2, 3), "float64"), ((0,), "float32")], 0),
    ([((0,), "float32"), ((2, 3), "float64"), ((0,), "float32"), ((2, 1), "float64")], 1),
    ([((0,), "float32"), ((2, 3), "float64")], -1),
    ([((0,), "float32"), ((2, 3), "float16")], 0),  # the empty float32 one promotes
    ([((0,), "float32"), ((2, 3), "int64")], 0),
    ([((0,), "int64"), ((2, 3), "float16")], 0),
    ([((0,), "float32"), ((2, 3), "bool")], 0),
    ([((0,), "float32"), ((0,), "float64")], 0),
    ([((0,), "float32")], 3),  # only legacy empties: dim is not checked
    ([((0,), "float32"), ((3,), "float32")], 0),
    ([((0, 3), "float32"), ((2, 3), "float32")], 0),
]


@pytest.mark.parametrize(("inputs", "dim"), CAT_CASES, ids=str)
def test_cat_skips_legacy_empty_tensors_as_torch(inputs: list, dim: int) -> None:
    rng = np.random.default_rng(1)
    arrays = [(rng.standard_normal(s) * 3).astype(d) for s, d in inputs]
    got = tg.cat([tg.tensor(a) for a in arrays], dim=dim)
    want = torch.cat([torch.from_numpy(a) for a in arrays], dim=dim)
    assert got.shape == tuple(want.shape) and str(got.dtype) == str(want.dtype)[6:]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_cat_legacy_empty_gradients() -> None:
    x, e = tg.randn(2, 3, dtype=tg.float64, requires_grad=True), tg.zeros(0, requires_grad=True)
    tx = torch.from_numpy(x.numpy().copy()).requires_grad_()
    te = torch.zeros(0, requires_grad=True)
    w = np.random.default_rng(2).standard_normal((2, 4))
    (tg.cat([e, x, e, x[:, :1]], dim=1) * tg.tensor(w)).sum().backward()
    (torch.cat([te, tx, te, tx[:, :1]], dim=1) * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    assert e.grad.shape == tuple(te.grad.shape) == (0,) and e.grad.dtype == np.float32
    # the accumulation idiom of evaluation loops
    preds, tpreds = tg.tensor([]), torch.tensor([])
    for _ in range(3):
        batch = np.random.default_rng(3).integers(0, 9, (4,))
        preds, tpreds = tg.cat((preds, tg.tensor(batch))), torch.cat((tpreds, torch.tensor(batch)))
    assert preds.tolist() == tpreds.tolist() and preds.dtype == np.float32


def test_cat_errors() -> None:
    e = tg.tensor([])
    for args, dim, kind in (((e, tg.ones(2, 3)), 2, IndexError), ((e, tg.ones(3)), 1, IndexError),
                            ((tg.zeros(2, 0), tg.ones(2, 3)), 0, RuntimeError),
                            ((tg.zeros(0, 0), tg.ones(2, 3)), 0, RuntimeError),
                            ((e, tg.tensor(1.0)), 0, RuntimeError)):
        with pytest.raises(kind):
            torch.cat([torch.from_numpy(a.numpy()) for a in args], dim=dim)
        with pytest.raises(IndexError if kind is IndexError else ValueError, match="cat: "):
            tg.cat(args, dim=dim)
    with pytest.raises(TypeError, match="cat: item 0 is a list"):
        tg.cat([[1.0], tg.ones(2)])


# ---- 5. nn and optim without importing them ------------------------------------------------------


def test_submodules_reachable_from_a_bare_import() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = ("import tinygrad_cnn as torch\n"
            "m = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.ReLU())\n"
            "opt = torch.optim.SGD(m.parameters(), lr=0.1)\n"
            "torch.optim.lr_scheduler.StepLR(opt, 1)\n"
            "y = torch.nn.functional.relu(m(torch.ones(3, 2))).sum()\n"
            "y.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()\n"
            "print(type(torch.nn.init.kaiming_normal_).__name__)\n")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root,
                         env={"PYTHONPATH": str(root), "PATH": ""}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "function"


# ---- 6. small missing names ----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsigmoid_matches_torch_on_both_tails(dtype: str) -> None:
    a = np.array([-100.0, -30.0, -20.0, -1.0, 0.0, 1e-8, 20.0, 30.0, 100.0, np.inf, -np.inf,
                  np.nan], dtype)
    x = tg.tensor(a, requires_grad=True)
    y = tg.nn.LogSigmoid()(x)
    (y * tg.tensor(np.linspace(1, 2, a.size).astype(dtype))).sum().backward()
    tx = torch.tensor(a, requires_grad=True)
    ty = torch.nn.functional.logsigmoid(tx)
    (ty * torch.from_numpy(np.linspace(1, 2, a.size).astype(dtype))).sum().backward()
    assert y.dtype == np.dtype(dtype)
    tol = {"float16": 1e-3, "float32": 2e-7, "float64": 1e-15}[dtype]
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=tol, atol=1e-43)
    # float32 sigmoid(-100) underflows to 0 where PyTorch keeps a subnormal 3.8e-44
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=1e-43)
    assert y.numpy()[1] == ty.detach().numpy()[1]  # -30: not rounded to -30 in float64


def test_logsigmoid_second_derivative_and_errors() -> None:
    a = np.array([-3.0, -0.5, 0.0, 0.7, 4.0])
    x, tx = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (g,) = tg.grad(tg.nn.functional.logsigmoid(x).sum(), x, create_graph=True)
    (tg_,) = torch.autograd.grad(torch.nn.functional.logsigmoid(tx).sum(), tx, create_graph=True)
    g.sum().backward()
    tg_.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-14)
    with pytest.raises(TypeError, match="logsigmoid: the input must be a floating tensor"):
        tg.nn.functional.logsigmoid(tg.tensor([1, 2]))
    assert repr(tg.nn.LogSigmoid()) == repr(torch.nn.LogSigmoid())


def test_clamp_min_clamp_max() -> None:
    a = np.array([1.0, -2.0, 3.0, np.nan], "float32")
    x, tx = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for ours, theirs in ((x.clamp_min(0.5), tx.clamp_min(0.5)), (tg.clamp_max(x, 0.0),
                                                                 torch.clamp_max(tx, 0.0)),
                         (tg.clamp_min(x, tg.tensor(0.5)), torch.clamp_min(tx, torch.tensor(0.5)))):
        np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())
    (x.clamp_min(0.5) * 2 + x.clamp_max(2.0)).sum().backward()
    (tx.clamp_min(0.5) * 2 + tx.clamp_max(2.0)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    ints, tints = tg.tensor([1, 2]), torch.tensor([1, 2])
    assert str(ints.clamp_min(1.5).dtype) == str(tints.clamp_min(1.5).dtype)[6:]
    assert str(tg.clamp_max(ints, 1).dtype) == str(torch.clamp_max(tints, 1).dtype)[6:]


def test_rand_like_randn_like() -> None:
    base = tg.zeros(2, 3, dtype=tg.float64)
    tg.manual_seed(7)
    a, b = tg.rand_like(base), tg.randn_like(base)
    tg.manual_seed(7)
    assert a.tolist() == tg.rand_like(base).tolist() and b.tolist() == tg.randn_like(base).tolist()
    assert a.dtype == b.dtype == np.float64 and a.shape == b.shape == (2, 3)
    assert ((a.numpy() >= 0) & (a.numpy() < 1)).all()
    assert tg.rand_like(base, dtype=tg.float16).dtype == np.float16
    assert tg.randn_like(tg.zeros(2), requires_grad=True).requires_grad
    for fn, tfn in ((tg.rand_like, torch.rand_like), (tg.randn_like, torch.randn_like)):
        with pytest.raises(NotImplementedError):
            tfn(torch.zeros(2, dtype=torch.int64))
        with pytest.raises(NotImplementedError, match=f"{fn.__name__}: samples of dtype int64"):
            fn(tg.zeros(2, dtype=tg.int64))
        with pytest.raises(TypeError):
            tfn([1.0])
        with pytest.raises(TypeError, match=f"{fn.__name__}\\(\\): argument 'input'"):
            fn([1.0])
    with pytest.raises(NotImplementedError, match="rand: samples of dtype int64"):
        tg.rand(3, dtype=tg.int64)  # used to give zeros


def test_is_contiguous_matches_torch() -> None:
    cases = [lambda t: t, lambda t: t.t(), lambda t: t[:, ::2], lambda t: t[::2],
             lambda t: t[:, :2], lambda t: t[:1], lambda t: t[:, :1].expand(3, 4),
             lambda t: t[:1].expand(3, 4), lambda t: t[:0].t(), lambda t: t[:, :1].t(),
             lambda t: t.permute(1, 0).contiguous(), lambda t: t.reshape(2, 6)[1]]
    for f in cases:
        assert f(tg.zeros(3, 4)).is_contiguous() == f(torch.zeros(3, 4)).is_contiguous()


def test_where_with_one_argument_is_nonzero_as_tuple() -> None:
    for a in (np.array([[0, 1], [2, 0]]), np.array(True), np.array([0.0, 0.5, np.nan]),
              np.zeros((2, 0))):
        got, want = tg.where(tg.tensor(a)), torch.where(torch.tensor(a))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.tolist() == w.tolist() and g.dtype == np.int64
    with pytest.raises(TypeError, match="where: give both x and y"):
        tg.where(tg.tensor([True]), tg.tensor([1.0]))


def test_type_without_and_with_a_dtype() -> None:
    names = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
             "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
             "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}
    for dtype, name in names.items():
        assert torch.zeros(2, dtype=getattr(torch, dtype)).type() == f"torch.{name}"
        assert tg.zeros(2, dtype=dtype).type() == f"tinygrad_cnn.{name}"
    x = tg.zeros(2, requires_grad=True)
    tx = torch.zeros(2, requires_grad=True)
    assert x.type(tg.float32) is x and tx.type(torch.float32) is tx
    y = x.type(tg.float64)
    assert y.dtype == np.float64 and y.grad_fn is not None  # a differentiable cast, as torch's
    assert x.type("torch.DoubleTensor").dtype == np.float64
    assert x.type("tinygrad_cnn.LongTensor").dtype == np.int64
    assert x.type(dtype="float16").dtype == np.float16
    with pytest.raises(ValueError, match="type\\(\\): invalid type 'torch.FooTensor'"):
        x.type("torch.FooTensor")
    with pytest.raises(TypeError):
        x.type("no such dtype")


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (6, 2, 3, 3), (2, 3, 2), (1, 7)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_orthogonal_(shape: tuple, dtype: str) -> None:
    w = tg.empty(*shape, dtype=dtype, requires_grad=True)
    assert tg.nn.init.orthogonal_(w, gain=2.0) is w
    assert w.shape == shape and w.dtype == np.dtype(dtype) and w.is_leaf
    m = w.numpy().astype(np.float64).reshape(shape[0], -1)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m  # the fewer of rows and columns
    np.testing.assert_allclose(gram, 4 * np.eye(len(gram)), atol=1e-5 if dtype == "float32"
                               else 1e-12)
    t = torch.nn.init.orthogonal_(torch.empty(*shape, dtype=getattr(torch, dtype)), gain=2.0)
    tm = t.double().reshape(shape[0], -1).numpy()
    tgram = tm @ tm.T if tm.shape[0] <= tm.shape[1] else tm.T @ tm
    np.testing.assert_allclose(tgram, 4 * np.eye(len(tgram)), atol=1e-5)  # the same property
    tg.manual_seed(3)
    a = tg.nn.init.orthogonal_(tg.empty(*shape)).tolist()
    tg.manual_seed(3)
    assert tg.nn.init.orthogonal_(tg.empty(*shape)).tolist() == a  # seeded


def test_orthogonal_edges_and_eye_() -> None:
    empty = tg.empty(0, 3)
    assert tg.nn.init.orthogonal_(empty) is empty  # a no-op, as in PyTorch
    with pytest.raises(ValueError):
        torch.nn.init.orthogonal_(torch.empty(3))
    with pytest.raises(ValueError, match="orthogonal_: only tensors with 2 or more dimensions"):
        tg.nn.init.orthogonal_(tg.empty(3))
    with pytest.raises(NotImplementedError, match="orthogonal_: fills floating tensors only"):
        tg.nn.init.orthogonal_(tg.zeros(2, 2, dtype=tg.int64))
    for shape in ((3, 5), (5, 3), (0, 2)):
        for dtype in ("float32", "int64"):
            w = tg.full(shape, 7, dtype=dtype)
            t = torch.full(shape, 7, dtype=getattr(torch, dtype))
            assert tg.nn.init.eye_(w) is w
            assert w.tolist() == torch.nn.init.eye_(t).tolist() and w.dtype == np.dtype(dtype)
    with pytest.raises(ValueError):
        torch.nn.init.eye_(torch.empty(2, 2, 2))
    with pytest.raises(ValueError, match="eye_: only tensors with 2 dimensions"):
        tg.nn.init.eye_(tg.empty(2, 2, 2))


def test_get_parameter() -> None:
    m = tg.nn.Sequential(tg.nn.Linear(2, 3), tg.nn.BatchNorm1d(3))
    tm = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    assert m.get_parameter("0.weight") is m[0].weight
    assert m.get_parameter("1.bias") is m[1].bias
    for target in ("1.running_mean", "0.foo", "2.weight", "weight"):
        with pytest.raises(AttributeError):
            tm.get_parameter(target)
        with pytest.raises(AttributeError, match="get_(parameter|submodule)\\("):
            m.get_parameter(target)
