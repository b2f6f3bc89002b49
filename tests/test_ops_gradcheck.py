"""Every registered op passes gradcheck and gradgradcheck in float64 (the cases live in op_cases.py),
and the binary ops do so for broadcasting shapes drawn by hypothesis."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes
from op_cases import CASES

from tinygrad_cnn import Tensor, gradcheck, gradgradcheck, where
from tinygrad_cnn.ops import REGISTRY

ALL = [(name, id_, make) for name, cases in sorted(CASES.items()) for id_, make in cases]


def test_registry_is_covered():
    missing = sorted(set(REGISTRY) - set(CASES))
    assert not missing, f"ops without a gradcheck/gradgradcheck case in op_cases.py: {missing}"
    unknown = sorted(set(CASES) - set(REGISTRY))
    assert not unknown, f"cases for ops that are not registered: {unknown}"


def test_every_op_documents_its_vjp():
    """The step-through page (viz.animate) shows each op's docstring as its VJP formula: every
    registered op has its own (none inherited from Function), and it says what the VJP is."""
    from tinygrad_cnn.viz.animate import _doc

    for name, cls in sorted(REGISTRY.items()):
        doc = _doc(cls)
        assert doc != "(this op has no docstring)", f"{name} has no docstring"
        assert "VJP" in doc or "gradient" in doc.lower(), f"{name}'s docstring gives no VJP: {doc}"


def test_every_case_uses_its_op():
    """A case must really run its op (a typo would otherwise check a different op)."""
    from tinygrad_cnn.autograd import _collect

    for name, id_, make in ALL:
        func, inputs = make(np.random.default_rng(0))
        outs = func(*inputs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        ops = {node.fn.name for o in outs if o.grad_fn for node in _collect([o.grad_fn])}
        assert name in ops, f"case {name}/{id_} does not apply {name} (it applies {sorted(ops)})"


@pytest.mark.parametrize("name,id_,make", ALL, ids=[f"{n}-{i}" for n, i, _ in ALL])
def test_gradcheck(name, id_, make):
    func, inputs = make(np.random.default_rng(0))
    assert gradcheck(func, inputs)


@pytest.mark.parametrize("name,id_,make", ALL, ids=[f"{n}-{i}" for n, i, _ in ALL])
def test_gradgradcheck(name, id_, make):
    func, inputs = make(np.random.default_rng(1))
    assert gradgradcheck(func, inputs)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 0.5),
    "pow": lambda a, b: (a * a + 0.5) ** b,
    "maximum": lambda a, b: a.maximum(b),
    "minimum": lambda a, b: a.minimum(b),
    "matmul_via_mul_sum": lambda a, b: (a * b).sum(-1, keepdim=True),
}


@pytest.mark.parametrize("op", sorted(BINARY))
@settings(max_examples=12, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2**16))
def test_broadcasting_binary_ops(op, shapes, seed):
    rng = np.random.default_rng(seed)
    a = Tensor(rng.standard_normal(shapes.input_shapes[0]), requires_grad=True)
    b = Tensor(rng.standard_normal(shapes.input_shapes[1]), requires_grad=True)
    out = BINARY[op](a, b)
    assert out.shape == np.broadcast_shapes(a.shape, b.shape) or op == "matmul_via_mul_sum"
    assert gradcheck(BINARY[op], (a, b))
    assert gradgradcheck(BINARY[op], (a, b))


@settings(max_examples=10, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2**16))
def test_broadcasting_where(shapes, seed):
    rng = np.random.default_rng(seed)
    cond = Tensor(rng.random(shapes.input_shapes[0]) > 0.5)
    a = Tensor(rng.standard_normal(shapes.input_shapes[1]), requires_grad=True)
    b = Tensor(rng.standard_normal(shapes.input_shapes[2]), requires_grad=True)
    assert gradcheck(lambda a, b: where(cond, a, b * b), (a, b))
    assert gradgradcheck(lambda a, b: where(cond, a * b, b * b), (a, b))


def test_amax_ties_share_the_gradient_max_dim_gives_it_to_the_index():
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]]), requires_grad=True)
    x.amax(1).sum().backward()  # as torch.amax (and max() without dim)
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0.5, 0.5], [0.5, 0, 0.5]])
    x.grad = None
    values, indices = x.max(1)  # as torch.max(dim): the first maximum takes it all
    values.sum().backward()
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])


def test_maximum_ties_split_half():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([1.0, 3.0]), requires_grad=True)
    a.maximum(b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 1.0])
