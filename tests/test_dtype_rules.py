"""Numbers and tensors of other dtypes meeting a tensor, against PyTorch: what an outside tester
(dtypes and promotion, eleventh session) found where values were silently wrong or the error was
numpy's. Each case runs the same expression in both libraries and compares the values, the dtype,
or that both raise."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


def _run(fn, lib):
    try:
        out = fn(lib)
    except Exception as exc:  # (the class is compared below)
        return exc
    return out


def _same(expr) -> None:
    """``expr(lib)`` gives the same values and dtype in both libraries, or raises in both."""
    ours, theirs = _run(expr, tg), _run(expr, torch)
    if isinstance(theirs, Exception):
        assert isinstance(ours, Exception), f"PyTorch raised {theirs!r}, we gave {ours!r}"
        return
    assert not isinstance(ours, Exception), f"we raised {ours!r}, PyTorch gave {theirs!r}"
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(np.asarray(ours.tolist()), np.asarray(theirs.tolist()))


@pytest.mark.parametrize("expr", [
    lambda M: M.div(-3, M.tensor([2], dtype=M.uint8)),
    lambda M: M.true_divide(300, M.tensor([3], dtype=M.int8)),
    lambda M: M.div(2**40, M.tensor([3], dtype=M.int32)),
    lambda M: M.div(np.int64(-3), M.tensor([2], dtype=M.uint8)),
    lambda M: M.div(-3, M.tensor([2.0], dtype=M.float16)),
    lambda M: M.div(7, M.tensor([2, -2])),
    lambda M: M.div(-3, M.tensor([2], dtype=M.uint8), rounding_mode="floor"),
], ids=["uint8", "int8", "int32", "np_int64", "float16", "int64", "floor"])
def test_div_with_the_number_first_is_a_float_division(expr) -> None:
    _same(expr)


@pytest.mark.parametrize("expr", [
    lambda M: M.tensor([1.0]).new_tensor(3),
    lambda M: M.tensor([1]).new_tensor(0),
    lambda M: M.tensor([1.0]).new_tensor(True),
    lambda M: M.tensor([1.0]).new_tensor(3, dtype=M.int64),
    lambda M: M.tensor([1], dtype=M.int8).new_tensor(2.5),
], ids=["int", "zero", "bool", "dtype", "float_into_int8"])
def test_new_tensor_of_a_number_is_a_value_not_a_size(expr) -> None:
    _same(expr)


@pytest.mark.parametrize("expr", [
    lambda M: M.tensor(2**63),
    lambda M: M.tensor(-2**63 - 1),
    lambda M: M.tensor([[2**63]]),
    lambda M: M.tensor([True, 2**63]),
    lambda M: M.tensor(300, dtype=M.int8),
    lambda M: M.tensor(256, dtype=M.uint8),
    lambda M: M.tensor(-1, dtype=M.uint8),
    lambda M: M.tensor([300], dtype=M.int8),
    lambda M: M.tensor([-1, 5], dtype=M.uint8),
    lambda M: M.tensor([300.5], dtype=M.int8),
    lambda M: M.tensor(1e10, dtype=M.int32),
    lambda M: M.tensor(2.5, dtype=M.int8),
    lambda M: M.tensor(2**63, dtype=M.float32),
    lambda M: M.tensor(-2**63),
], ids=["2**63", "below_int64", "nested", "with_bool", "int8_300", "uint8_256", "uint8_-1",
        "list_int8_300", "list_uint8_-1", "list_float_overflow", "float_int32", "float_int8",
        "float32", "int64_min"])
def test_integers_that_do_not_fit_are_refused_as_pytorch_refuses_them(expr) -> None:
    _same(expr)


def test_out_of_range_integers_name_the_op() -> None:
    with pytest.raises(RuntimeError, match=r"tensor\(\): the value 300 cannot be converted to int8"):
        tg.tensor([300], dtype=tg.int8)
    with pytest.raises(ValueError, match="overflow when unpacking long long"):
        tg.tensor(2**63)


def _assign(key, value, dtype="int8"):
    def expr(M):
        t = M.tensor([1, 2, 3], dtype=getattr(M, dtype))
        t[key(M)] = value(M)
        return t
    return expr


_KEYS = {"index_tensor": lambda M: M.tensor([0, 2]), "list": lambda M: [0, 2],
         "mask": lambda M: M.tensor([True, False, True]), "slice": lambda M: slice(0, 2),
         "int": lambda M: 1}
_VALUES = {"0d_float": lambda M: M.tensor(2.7), "0d_int_300": lambda M: M.tensor(300),
           "1d_int64": lambda M: M.tensor([5]), "1d_float": lambda M: M.tensor([2.7]),
           "0d_same_dtype": lambda M: M.tensor(4, dtype=M.int8),
           "0d_float_1e10": lambda M: M.tensor(1e10)}


@pytest.mark.parametrize("value", list(_VALUES))
@pytest.mark.parametrize("key", list(_KEYS))
def test_setitem_with_a_tensor_of_another_dtype(key: str, value: str) -> None:
    # index arrays need the destination's dtype; one element through a single bool mask is a
    # fill (cast, with the overflow check); ints and slices copy (cast, wrapping)
    _same(_assign(_KEYS[key], _VALUES[value]))


def test_setitem_mask_and_int_with_a_0d_value_of_another_dtype() -> None:
    def expr(M):
        t = M.zeros(2, 3, dtype=M.int8)
        t[M.tensor([True, False]), 0] = M.tensor(2.7)
        return t
    _same(expr)


def test_setitem_through_a_mask_of_a_wider_0d_value_keeps_its_gradient() -> None:
    out = []
    for M in (tg, torch):
        t = M.zeros(2, 3)
        v = M.tensor(2.5, dtype=M.float64, requires_grad=True)
        t[M.tensor([True, False])] = v
        t.sum().backward()
        out.append((t.tolist(), float(v.grad)))
    assert out[0] == out[1]


@pytest.mark.parametrize("expr", [
    lambda M: M.tensor([5], dtype=M.int8).masked_fill(M.tensor([True]), M.tensor(300)),
    lambda M: M.tensor([5], dtype=M.int8).masked_fill(M.tensor([True]), M.tensor(2.7)),
    lambda M: M.tensor([5], dtype=M.int8).index_fill(0, M.tensor([0]), M.tensor(300)),
], ids=["masked_fill_overflow", "masked_fill_cast", "index_fill_overflow"])
def test_fills_with_a_0d_tensor_check_overflow_as_with_a_number(expr) -> None:
    _same(expr)


def _inplace(start, dtype, op):
    def expr(M):
        h = M.tensor(start, dtype=getattr(M, dtype))
        op(h, M)
        return h
    return expr


@pytest.mark.parametrize("expr", [
    _inplace([-65504.0], "float16", lambda h, M: h.__iadd__(np.float64(65519.0))),
    _inplace([-65504.0], "float16", lambda h, M: h.__iadd__(M.tensor(65519.0))),
    _inplace([-65504.0], "float16", lambda h, M: h.__isub__(M.tensor(-65519.0))),
    _inplace([1.0, 2.0, 3.0], "float16", lambda h, M: h[1:].__iadd__(np.float64(65519.0))),
    _inplace([0.5, 0.5], "float16", lambda h, M: h.__imul__(M.tensor([100000, 100000]))),
    _inplace([0.5, 0.5], "float16", lambda h, M: h.__itruediv__(M.tensor([100000, 100000]))),
    _inplace([-0.0] * 8, "float16", lambda h, M: h.__imul__(M.tensor([-2**31] * 8, dtype=M.int32))),
    _inplace([1.5, 2.5], "float16", lambda h, M: h.__iadd__(M.tensor(1, dtype=M.int64))),
], ids=["add_np_float64", "add_0d", "sub_0d", "view_add", "mul_int_tensor", "div_int_tensor",
        "mul_int32_nan", "add_0d_int"])
def test_half_in_place_ops_cast_the_operand_as_the_out_of_place_op(expr) -> None:
    _same(expr)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int32", "int64", "bool"])
@pytest.mark.parametrize("value", [-2.5, 2.7, float("inf"), float("-inf"), 300.5, -1e20,
                                   np.float32(3.5), np.float64(-0.5)])
def test_copy_of_a_float_into_integers_converts_as_a_cast(dtype: str, value: float) -> None:
    _same(lambda M: M.tensor([1, 2]).to(getattr(M, dtype)).copy_(value))


def test_integer_division_by_zero_is_a_runtime_error_too() -> None:
    with pytest.raises(RuntimeError, match="integer division by zero"):
        tg.tensor([3]) // 0
    with pytest.raises(ZeroDivisionError):
        tg.tensor([3]) % tg.tensor([0])
    with pytest.raises(RuntimeError):
        torch.tensor([3]) // 0


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_finfo_gives_python_numbers_as_pytorch(dtype: str) -> None:
    ours, theirs = tg.finfo(getattr(tg, dtype)), torch.finfo(getattr(torch, dtype))
    for name in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(ours, name) == getattr(theirs, name)
        assert type(getattr(ours, name)) is type(getattr(theirs, name))
    assert ours.dtype == theirs.dtype


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_gives_python_ints_as_pytorch(dtype: str) -> None:
    ours, theirs = tg.iinfo(getattr(tg, dtype)), torch.iinfo(getattr(torch, dtype))
    assert (ours.bits, ours.min, ours.max, ours.dtype) == \
        (theirs.bits, theirs.min, theirs.max, theirs.dtype)
    assert type(ours.max) is int


def test_finfo_and_iinfo_refuse_the_other_kind() -> None:
    with pytest.raises(TypeError):
        tg.finfo(tg.int32)
    with pytest.raises(TypeError):
        tg.iinfo(tg.float32)
    with pytest.raises(TypeError):
        tg.iinfo(tg.bool)


# the outside tester of this session's own changes (t17): in-place and out-of-place forms agree
@pytest.mark.parametrize("expr", [
    _inplace([0.1], "float16", lambda h, M: h.__isub__(M.tensor([0.1]))),
    _inplace([1.7, 65000.0], "float16", lambda h, M: h.__imul__(M.tensor([0.1, 0.1]))),
    _inplace([-2.3], "float16", lambda h, M: h.__itruediv__(M.tensor([0.1], dtype=M.float64))),
    _inplace([0.1], "float16", lambda h, M: h.add_(M.tensor([0.1]), alpha=3)),
    lambda M: M.tensor([0.5, 3.0], dtype=M.float16) * M.tensor(2049),
    lambda M: M.tensor([0.5, 3.0], dtype=M.float16) * M.tensor(70000),
    lambda M: M.tensor([0.5, 3.0], dtype=M.float16) / M.tensor(70000),
    lambda M: M.tensor(2049) * M.tensor([0.5, 3.0], dtype=M.float16),
    lambda M: M.tensor([0.5, 3.0, 1.7], dtype=M.float16) * M.tensor(0.1),
    lambda M: (M.tensor([0.5, 3.0], dtype=M.float16, requires_grad=True) * 1).mul_(M.tensor(2049)),
    _inplace([0.1], "float32", lambda h, M: h.__isub__(np.float64(0.1))),
    _inplace([0.1], "float32", lambda h, M: h.mul_(M.tensor(0.1, dtype=M.float64))),
    _inplace([0.1], "float32", lambda h, M: h.__iadd__(np.int64(16777217))),
], ids=["f16_sub_f32", "f16_mul_f32", "f16_div_f64", "f16_add_alpha", "f16_mul_0d_int",
        "f16_mul_0d_int_big", "f16_div_0d_int", "0d_int_mul_f16", "f16_mul_0d_f32",
        "f16_recorded_mul_0d_int", "f32_sub_np_f64", "f32_mul_0d_f64", "f32_add_np_int"])
def test_in_place_and_scalar_operands_as_pytorch(expr) -> None:
    ours, theirs = _run(expr, tg), _run(expr, torch)
    assert not isinstance(ours, Exception) and not isinstance(theirs, Exception)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.detach().numpy().astype(np.float64),
                                  theirs.detach().numpy().astype(np.float64))


@pytest.mark.parametrize("expr", [
    lambda M: M.tensor(np.int64(300), dtype=M.uint8),
    lambda M: M.tensor([np.int64(300)], dtype=M.uint8),
    lambda M: M.tensor(np.uint8(200), dtype=M.int8),
    lambda M: M.as_tensor(np.float64(300.0), dtype=M.int8),
    lambda M: M.zeros(1, dtype=M.uint8).new_tensor(np.int64(300)),
    lambda M: M.tensor([np.int64(-1)], dtype=M.uint8),
    lambda M: M.tensor(np.float64(2.5), dtype=M.int32),
    lambda M: M.tensor([1, None]),
    lambda M: M.tensor([1.0, None], dtype=M.float64),
], ids=["np_int_uint8", "np_list", "np_uint8_int8", "as_tensor", "new_tensor", "np_minus_one",
        "np_float_int32", "none", "none_float64"])
def test_numpy_scalars_and_none_in_creation(expr) -> None:
    _same(expr)


@pytest.mark.parametrize("value", [None, "1.5"])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_setitem_refuses_none_and_strings(value, dtype) -> None:
    x = tg.zeros(3, dtype=getattr(tg, dtype))
    with pytest.raises(TypeError, match="can't assign"):
        x[0:2] = value
