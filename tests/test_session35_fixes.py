"""Session 35: outside testers' findings (t116 hooks, t117 memory and grad modes, t118 the
nn.Module surface), each checked against PyTorch where it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn, optim


# ---------------------------------------------------------------- t118: the nn.Module surface
@pytest.mark.parametrize("bad", [[[1.0, 2.0]], ((1.0, 2.0),), 2.0, 3])
def test_load_state_dict_refuses_lists_and_numbers_as_pytorch(bad):
    """PyTorch wants a tensor in a state_dict: a list (a checkpoint that went through JSON or
    .tolist()) or a number loaded silently here; the model stays as it was."""
    m = nn.Linear(2, 1)
    before = m.weight.numpy().copy()
    with pytest.raises(RuntimeError, match="expected a tensor or a numeric array.*got a"):
        m.load_state_dict({"weight": bad, "bias": m.bias})
    np.testing.assert_array_equal(m.weight.numpy(), before)
    m.load_state_dict({"weight": np.array([[1.0, 2.0]]), "bias": np.zeros(1)})  # arrays load
    assert m.weight.tolist() == [[1.0, 2.0]] and m.bias.tolist() == [0.0]
    bn = nn.BatchNorm1d(1)
    sd = bn.state_dict()
    for scalar in (np.int64(5), np.float64(6.0)):  # numpy's scalars too (np.float64 is a float)
        sd["num_batches_tracked"] = scalar
        bn.load_state_dict(sd)
        assert bn.num_batches_tracked.item() == int(scalar)


def test_load_state_dict_list_refused_by_pytorch_too():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="expected torch.Tensor"):
        torch.nn.Linear(2, 1).load_state_dict({"weight": [[1.0, 2.0]], "bias": (3.0,)})


def test_triplet_margin_with_distance_loss_has_pytorchs_default_child():
    loss = nn.TripletMarginWithDistanceLoss()
    assert [n for n, _ in loss.named_modules()] == ["", "distance_function"]
    assert isinstance(loss.distance_function, nn.PairwiseDistance)
    assert repr(loss) == ("TripletMarginWithDistanceLoss(\n  (distance_function): "
                          "PairwiseDistance()\n)")
    tg.manual_seed(0)
    a, p, n = (tg.randn(4, 3, requires_grad=True) for _ in range(3))
    got = loss(a, p, n)
    want = nn.functional.triplet_margin_with_distance_loss(a, p, n)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    torch = pytest.importorskip("torch")
    tl = torch.nn.TripletMarginWithDistanceLoss()
    assert repr(loss) == repr(tl)
    ta, tp, tn = (torch.tensor(t.numpy()) for t in (a, p, n))
    np.testing.assert_allclose(got.numpy(), tl(ta, tp, tn).numpy(), rtol=1e-5)
    custom = nn.TripletMarginWithDistanceLoss(distance_function=lambda x, y: (x - y).abs().sum(1))
    assert [n for n, _ in custom.named_modules()] == [""]


@pytest.mark.parametrize("make", [
    lambda: nn.Sequential(nn.ReLU(), nn.Tanh()),
    lambda: nn.ModuleList([nn.ReLU(), nn.Tanh()]),
    lambda: nn.ParameterList([nn.Parameter(tg.zeros(1)), nn.Parameter(tg.ones(1))]),
])
def test_slice_assignment_on_containers_says_what_it_takes(make):
    c = make()
    item = nn.ELU() if not isinstance(c, nn.ParameterList) else nn.Parameter(tg.zeros(2))
    with pytest.raises(TypeError, match="integer index, not a slice"):
        c[0:1] = [item]
    assert len(c) == 2
    c[0] = item  # an integer index still works
    assert c[0] is item


# ---------------------------------------------------------------- t116: hooks
def test_optimizer_defaults_are_pytorchs_ints():
    """SGD kept momentum/dampening/weight_decay as 0.0 where PyTorch keeps 0 (param_groups,
    repr and state_dict show it)."""
    p = nn.Parameter(tg.ones(2))
    g = optim.SGD([p]).param_groups[0]
    assert [repr(g[k]) for k in ("momentum", "dampening", "weight_decay")] == ["0", "0", "0"]
    torch = pytest.importorskip("torch")
    import inspect
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
                 "RAdam", "Rprop", "ASGD", "LBFGS"):
        theirs = inspect.signature(getattr(torch.optim, name)).parameters
        ours = inspect.signature(getattr(optim, name)).parameters
        for k, par in theirs.items():
            if k in ours:
                assert repr(ours[k].default) == repr(par.default), (name, k)


def test_detach_in_place_of_a_saved_tensor_is_refused_at_backward():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * y
    y.detach_()
    with pytest.raises(RuntimeError, match=r"detached in place \(\.detach_\(\)\)"):
        z.sum().backward()
    # not saved (add keeps nothing), or saved as an output: as PyTorch, the gradient flows
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y + y
    y.detach_()
    z.sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    z = y * 1
    y.detach_()
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]), rtol=1e-6)
    # a leaf saved by an op and detached in place is no different from before (it had no graph)
    w = tg.tensor([3.0], requires_grad=False)
    x = tg.tensor([1.0], requires_grad=True)
    z = x * w
    w.detach_()
    z.sum().backward()
    assert x.grad.tolist() == [3.0]


def test_detach_in_place_refused_by_pytorch_too():
    torch = pytest.importorskip("torch")
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * y
    y.detach_()
    with pytest.raises(RuntimeError, match="detached in-place"):
        z.sum().backward()


def test_old_and_full_backward_hooks_cannot_be_mixed_on_one_module():
    m = nn.Linear(2, 2)
    with pytest.warns(DeprecationWarning):
        h = m.register_backward_hook(lambda *a: None)
    with pytest.raises(RuntimeError, match="cannot use both regular backward hooks and full"):
        m.register_full_backward_hook(lambda *a: None)
    h.remove()  # (PyTorch's flag stays after removal)
    with pytest.raises(RuntimeError, match="cannot use both"):
        m.register_full_backward_hook(lambda *a: None)
    m2 = nn.Linear(2, 2)
    m2.register_full_backward_hook(lambda *a: None)
    m2.register_full_backward_hook(lambda *a: None)  # the same kind twice is fine
    with pytest.raises(RuntimeError, match="cannot use both"), \
            pytest.warns(DeprecationWarning):
        m2.register_backward_hook(lambda *a: None)


def _two_out(L):
    """A Function of two outputs, in ``L`` (tinygrad_cnn or torch)."""

    class TwoOut(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, a, b):
            return a * 2 + (b * 3 if b is not None else 0)

    return TwoOut


_TwoOut = _two_out(tg)


def _unused_output_program(L, Fn, hook_result):
    seen = []
    x = L.tensor([1.0, 2.0], requires_grad=True)
    y1, y2 = Fn.apply(x)

    def hook(g):
        seen.append(None if g is None else g.tolist())
        return hook_result(L) if hook_result else None

    y2.register_hook(hook)
    y1.sum().backward()
    return seen, x.grad.tolist()


def test_a_hook_on_an_unused_output_runs_with_none():
    """PyTorch calls a tensor hook on an output of a multi-output op that got no gradient with
    None when the op's VJP runs; it was never called here. Returning a gradient there is an
    error in both."""
    seen, grad = _unused_output_program(tg, _TwoOut, None)
    assert seen == [None] and grad == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="can't replace a None gradient"):
        _unused_output_program(tg, _TwoOut, lambda L: L.ones(2))
    # a used output's hook sees its gradient, once
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y1, y2 = _TwoOut.apply(x)
    seen = []
    y2.register_hook(lambda g: seen.append(g.tolist()))
    (y1.sum() + y2.sum()).backward()
    assert seen == [[1.0, 1.0]] and x.grad.tolist() == [5.0, 5.0]


def test_a_hook_on_an_unused_output_as_pytorch():
    torch = pytest.importorskip("torch")
    TwoOut = _two_out(torch)
    assert _unused_output_program(torch, TwoOut, None) == _unused_output_program(tg, _TwoOut, None)
    with pytest.raises(RuntimeError, match="can't replace a None gradient"):
        _unused_output_program(torch, TwoOut, lambda L: L.ones(2))


def test_a_hook_on_an_unused_module_output_runs_with_none():
    for L in (tg, pytest.importorskip("torch")):
        class M(L.nn.Module):
            def forward(self, x):
                return x * 2, x * 3

        calls = []
        m = M()
        m.register_full_backward_hook(
            lambda mod, gi, go: calls.append(("module", [None if g is None else g.tolist()
                                                         for g in go])))
        x = L.tensor([1.0, 2.0], requires_grad=True)
        a, b = m(x)
        b.register_hook(lambda g: calls.append(("b", g)))
        a.sum().backward()
        assert calls == [("b", None), ("module", [[1.0, 1.0], None])], L.__name__
        assert x.grad.tolist() == [2.0, 2.0]


# ---------------------------------------------------------------- t117: memory and grad modes
def test_the_pool_thread_keeps_no_array_of_its_last_job():
    """A pool thread kept its last piece (and the closure holding the job's arrays) while it
    waited for the next: the arrays of the last big op stayed alive until the next one."""
    import gc
    import weakref

    from tinygrad_cnn import parallel

    before = parallel.threads()
    parallel.set_threads(2)
    try:
        def job():  # (its closure is what a pool thread holds, as _split_matmul's)
            a = np.ones((512, 1024), np.float32)
            out = np.empty_like(a)

            def piece(s, e):
                np.multiply(a[s:e], 2, out=out[s:e])

            parallel.run_chunks(a.shape[0], piece, nbytes=64 << 20, caller_weight=1.0)
            assert (out == 2).all()
            return weakref.ref(a)

        ref = job()
        gc.collect()
        assert ref() is None
    finally:
        parallel.set_threads(before)


def _grad_modes(L):
    x = L.ones(2, requires_grad=True)
    out = []
    with L.inference_mode():
        out.append(L.is_grad_enabled())
        with L.enable_grad():
            y = x * 2
            out.append((L.is_grad_enabled(), y.requires_grad))
            with L.no_grad():
                out.append(L.is_grad_enabled())
            out.append(L.is_grad_enabled())
        out.append(L.is_grad_enabled())
        with L.set_grad_enabled(True):
            out.append(L.is_grad_enabled())
        out.append(L.is_grad_enabled())
        with L.inference_mode(False):
            z = x * 2
            out.append(("inner", L.is_grad_enabled(), z.requires_grad))
        out.append(L.is_grad_enabled())
    out.append(L.is_grad_enabled())
    with L.no_grad(), L.inference_mode():
        out.append(L.is_grad_enabled())
        with L.enable_grad():
            out.append(L.is_grad_enabled())
    out.append(L.is_grad_enabled())
    return out


def test_is_grad_enabled_inside_inference_mode_is_pytorchs_grad_mode():
    """Inside inference_mode(), enable_grad() turns grad mode on (PyTorch reports True) while
    nothing records; it said False here."""
    got = _grad_modes(tg)
    assert got == [False, (True, False), False, True, False, True, False, ("inner", True, True),
                   False, True, False, True, True]
    torch = pytest.importorskip("torch")
    assert got == _grad_modes(torch)


# ---------------------------------------------------------------- t119: creation and randomness
@pytest.mark.parametrize("n,dtype,ok", [(300, tg.uint8, False), (256, tg.uint8, True),
                                        (200, tg.int8, False), (128, tg.int8, True),
                                        (2050, tg.float16, False), (2049, tg.float16, True)])
def test_randperm_refuses_a_dtype_too_narrow_for_the_permutation(n, dtype, ok):
    """randperm(300, dtype=uint8) wrapped (256 distinct values), float16 rounded past 2048:
    not a permutation. PyTorch refuses."""
    if not ok:
        with pytest.raises(RuntimeError, match=f"n={n} is too many"):
            tg.randperm(n, dtype=dtype)
        torch = pytest.importorskip("torch")
        with pytest.raises(RuntimeError):
            torch.randperm(n, dtype=getattr(torch, np.dtype(dtype).name))
        return
    t = tg.randperm(n, dtype=dtype)
    assert sorted(t.tolist()) == list(range(n))


def test_randint_in_float16_checks_its_range_as_pytorch():
    with pytest.raises(RuntimeError, match="to - 1 is out of bounds for c10::Half"):
        tg.randint(0, 70000, (5,), dtype=tg.float16)
    with pytest.warns(UserWarning, match=r"out of bounds \[-\(2\^11\), 2\^11\]"):
        t = tg.randint(0, 4000, (50,), dtype=tg.float16)
    assert np.isfinite(t.numpy()).all() and (t.numpy() < 4000).all()
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="out of bounds"):
        torch.randint(0, 70000, (5,), dtype=torch.float16)


@pytest.mark.parametrize("dtype", [tg.int8, tg.int16, tg.uint8])
def test_triangle_indices_take_int64_and_int32_only(dtype):
    for f in (tg.tril_indices, tg.triu_indices):
        with pytest.raises(NotImplementedError, match="use int64 or int32"):
            f(200, 200, dtype=dtype)
    np.testing.assert_array_equal(tg.triu_indices(200, 200, dtype=tg.int32).numpy(),
                                  np.stack(np.triu_indices(200)))


def test_bernoulli_of_integer_or_bool_probabilities_is_refused():
    for t in (tg.tensor([0, 1]), tg.tensor([True, False]), tg.tensor([0, 1], dtype=tg.int32)):
        with pytest.raises(NotImplementedError, match="must be a floating tensor"):
            tg.bernoulli(t)
        assert t.bernoulli(0.5).dtype == t.dtype  # a number p: PyTorch takes these dtypes
    assert tg.bernoulli(tg.tensor([0.0, 1.0], dtype=tg.float16)).tolist() == [0.0, 1.0]


def test_set_default_dtype_and_arange_errors():
    with pytest.raises(TypeError, match="only floating-point types"):
        tg.set_default_dtype(tg.int64)
    with pytest.raises(NotImplementedError, match="dtype=tinygrad_cnn.float16"):
        tg.set_default_dtype(tg.float16)
    assert tg.get_default_dtype() == tg.float32
    with pytest.raises(ValueError, match="step must be nonzero"):  # (PyTorch's ValueError)
        tg.arange(0, 2.9, 0.7, dtype=tg.int64)
    with pytest.raises(RuntimeError, match="too many for any memory"):
        tg.arange(0, 1, 1e-20)


def test_detach_in_place_of_an_input_a_user_function_saved_is_pytorchs_too():
    """PyTorch refuses a detached saved tensor for its own ops only: a user Function that saved
    its input by save_for_backward still gets the gradient (t121)."""
    for L in (tg, pytest.importorskip("torch")):
        class Square(L.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * g * x

        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        z = Square.apply(y)
        y.detach_()
        z.sum().backward()
        assert x.grad.tolist() == [8.0, 16.0], L.__name__


def test_triangle_indices_refuse_float_and_bool_as_pytorch_and_arange_too_big():
    for dt in (tg.float32, tg.bool):
        with pytest.raises(NotImplementedError, match="use int64 or int32"):
            tg.tril_indices(3, 3, dtype=dt)
    with pytest.raises(RuntimeError, match="arange: .* do not fit in memory"):
        tg.arange(0, 1, 1e-13)


# ---------------------------------------------------------------- t122: save and load
def test_a_map_location_function_leaves_loaded_parameters_leaves(tmp_path):
    m = nn.Linear(2, 1)
    plain = tg.tensor([1.0, 2.0], requires_grad=True)
    path = tmp_path / "ck.npz"
    tg.save({"model": m.state_dict(keep_vars=True), "t": plain, "n": tg.ones(2)}, path)
    seen = []

    def double(t, location):
        seen.append((location, t.requires_grad, t.grad_fn))
        return t * 2

    got = tg.load(path, map_location=double)
    w = got["model"]["weight"]
    assert isinstance(w, nn.Parameter) and w.is_leaf and w.requires_grad
    np.testing.assert_array_equal(w.numpy(), m.weight.numpy() * 2)
    assert got["t"].is_leaf and got["t"].requires_grad and got["t"].tolist() == [2.0, 4.0]
    assert not got["n"].requires_grad and got["n"].tolist() == [2.0, 2.0]
    assert all(loc == "cpu" and not rg and fn is None for loc, rg, fn in seen)
    (w.sum() * 3).backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[3.0, 3.0]])
    kept = tg.load(path, map_location=lambda t, loc: None)  # None keeps the loaded tensor
    assert isinstance(kept["model"]["weight"], nn.Parameter)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # (numpy's, on np.matrix)
def test_a_numpy_matrix_is_refused_not_loaded_as_an_array(tmp_path):
    path = tmp_path / "m.npz"
    with pytest.raises(TypeError, match="numpy matrix"):
        tg.save({"m": np.matrix([[1, 2], [3, 4]])}, path)
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_a_full_disk_leaves_a_hard_linked_checkpoint_as_it_was(tmp_path, monkeypatch):
    """A file with another hard link is written in place; a disk that filled part-way through
    the copy overwrote the old checkpoint under both names (t122). The room is reserved first."""
    import errno
    import os

    path = tmp_path / "ck.npz"
    tg.save({"w": tg.ones(3)}, path)
    os.link(path, tmp_path / "backup.npz")
    old = path.read_bytes()

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full, raising=False)
    with pytest.raises(OSError, match="is left as it was.*whole new content is in"):
        tg.save({"w": tg.zeros(1000)}, path)
    assert path.read_bytes() == old == (tmp_path / "backup.npz").read_bytes()
    assert tg.load(path)["w"].tolist() == [1.0, 1.0, 1.0]
    monkeypatch.undo()
    tg.save({"w": tg.zeros(1000)}, path)  # with room: written in place, both names see it
    assert tg.load(tmp_path / "backup.npz")["w"].shape == (1000,)


def test_containers_take_pytorchs_indices():
    """PyTorch's containers index through operator.index: a bool and a 0-d integer tensor count
    as ints (t121); a float is refused in both."""
    seq = nn.Sequential(nn.ReLU(), nn.Tanh())
    ml = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    pl = nn.ParameterList([nn.Parameter(tg.zeros(1)), nn.Parameter(tg.ones(1))])
    assert seq[True] is seq[1] and seq[tg.tensor(1)] is seq[1] and ml[True] is ml[1]
    assert pl[tg.tensor(1)] is pl[1]
    for bad in (1.0, tg.tensor(1.0)):
        with pytest.raises(TypeError, match="indices must be integers or slices"):
            seq[bad]


def test_an_elementwise_op_on_an_overlapping_view_is_laid_out_as_pytorch():
    """A long fuzz found it: abs() of x.unfold(0, 3, 1) (shape (2, 3), strides (1, 1)) had C
    strides (3, 1); PyTorch's TensorIterator puts the smaller dim first on equal strides: (1, 2)."""
    x = tg.tensor(np.arange(4.0), requires_grad=True)
    v = x.unfold(0, 3, 1)
    windows = np.array([[0.0, 1, 2], [1, 2, 3]])
    for y, want in ((v.abs(), windows), (-v, -windows), (v.exp(), np.exp(windows)),
                    (v * 1, windows), (v + v, 2 * windows), (v.relu(), windows)):
        assert y.stride() == (1, 2)
        np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-6)
    v.exp().sum().backward()  # (the gradient of the overlapping view adds up, as before)
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.0, 1, 2, 3]) * [1, 2, 2, 1], rtol=1e-6)
    torch = pytest.importorskip("torch")
    tv = torch.arange(4.0).unfold(0, 3, 1)
    assert tv.abs().stride() == (1, 2) and (tv + tv).stride() == (1, 2)
    assert x.unfold(0, 2, 1).abs().stride() == torch.arange(4.0).unfold(0, 2, 1).abs().stride()
