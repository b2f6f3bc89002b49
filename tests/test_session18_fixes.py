"""Session 18's fixes, each checked against an exact oracle or PyTorch (skipped without it)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg


def test_erfinv_output_may_be_changed_in_place_before_backward():
    # The VJP recomputes erfinv from the saved input (PyTorch's formula), so an in-place change of
    # the output is allowed; the gradient is still √π/2·exp(erfinv(x)²) times the upstream 2.
    from tinygrad_cnn.ops._special import erfinv

    xs = np.array([0.1, 0.5, -0.3, 0.0])
    x = tg.tensor(xs, requires_grad=True)
    y = x.erfinv()
    y.mul_(2)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.sqrt(np.pi) / 2 * np.exp(erfinv(xs) ** 2), rtol=1e-13)
    assert tg.gradgradcheck(tg.erfinv, (tg.tensor(xs[:3], requires_grad=True),))


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_keeps_float32_parameters_state_in_float32_and_matches_pytorch(line_search):
    # The two-loop recursion multiplied by numpy float64 scalars, turning the direction d into
    # float64 for float32 parameters: the state differed from PyTorch's and a save/load round trip
    # (which casts to the parameter's dtype) changed the trajectory.
    torch = pytest.importorskip("torch")
    runs = {}
    for m in (tg, torch):
        p = m.tensor([1.5, 2.0, 3.0, -1.0], requires_grad=True)
        opt = m.optim.LBFGS([p], lr=0.5, line_search_fn=line_search, history_size=3, max_iter=5)

        def closure(p=p, opt=opt):
            opt.zero_grad()
            loss = ((p - 1) ** 4).sum() + (p * p).sum() * 0.1
            loss.backward()
            return loss

        for _ in range(4):
            opt.step(closure)
        state = opt.state[p]
        assert str(state["d"].dtype).endswith("float32")
        assert all(str(v.dtype).endswith("float32") for v in state["old_dirs"] + state["old_stps"])
        runs[m.__name__] = p.detach().numpy().copy()
    np.testing.assert_allclose(runs["tinygrad_cnn"], runs["torch"], rtol=1e-6)


def _lbfgs(n: int):
    p = tg.tensor(np.linspace(-1.0, 2.0, n), requires_grad=True)
    opt = tg.optim.LBFGS([p], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        return loss

    return p, opt, closure


def _edit(sd, **changes):
    import copy

    sd = copy.deepcopy(sd)
    for k, v in changes.items():
        if v is KeyError:
            del sd["state"][0][k]
        else:
            sd["state"][0][k] = v
    return sd


@pytest.mark.parametrize("name", ["other model", "pairs of two lengths", "string", "negative count",
                                  "ro None", "H_diag a vector", "d missing"])
def test_lbfgs_refuses_a_state_that_step_could_not_have_left(name):
    # These failed in the next step() with numpy's broadcast error, a TypeError on None, or NaN
    # parameters (pairs of two lengths); now load_state_dict names the state and what fits, and
    # leaves the optimizer as it was.
    p, opt, closure = _lbfgs(4)
    opt.step(closure)
    opt.step(closure)
    sd = opt.state_dict()
    bad = {"other model": sd, "pairs of two lengths": _edit(sd, old_dirs=[tg.zeros(4)] * 3),
           "string": _edit(sd, d="abc"), "negative count": _edit(sd, n_iter=-3),
           "ro None": _edit(sd, ro=None), "H_diag a vector": _edit(sd, H_diag=tg.zeros(4)),
           "d missing": _edit(sd, d=KeyError)}[name]
    q, opt2, closure2 = _lbfgs(5 if name == "other model" else 4)
    opt2.step(closure2)
    before = opt2.state_dict()
    with pytest.raises(ValueError, match=r"LBFGS\.load_state_dict: .*state"):
        opt2.load_state_dict(bad)
    after = opt2.state_dict()
    assert after["param_groups"] == before["param_groups"]
    np.testing.assert_array_equal(after["state"][0]["d"].numpy(), before["state"][0]["d"].numpy())
    opt2.step(closure2)  # and it still steps
    assert np.isfinite(q.detach().numpy()).all()


def test_a_refused_load_state_dict_leaves_any_optimizer_as_it_was():
    # The groups' options were loaded before a parameter's state was refused for its shape.
    a, b = tg.zeros(3, requires_grad=True), tg.zeros(2, requires_grad=True)
    opt = tg.optim.SGD([a, b], lr=0.1, momentum=0.9)
    for p in (a, b):
        p.grad = tg.ones(p.shape)
    opt.step()
    good = opt.state_dict()
    bad = {"state": {0: {"momentum_buffer": tg.ones(3)}, 1: {"momentum_buffer": tg.ones(5)}},
           "param_groups": [dict(good["param_groups"][0], lr=7.0, momentum=0.5)]}
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0.9
    np.testing.assert_array_equal(opt.state[b]["momentum_buffer"].numpy(), np.ones(2))


def test_logit_deg2rad_rad2deg_heaviside_match_pytorch():
    torch = pytest.importorskip("torch")
    xs = [0.2, 0.5, 0.9, 1.0, 0.0, -0.1, 1.2, float("nan"), 0.1, 0.25]
    for eps in (None, 0.1, 0.25):
        grads = []
        for m in (tg, torch):
            x = m.tensor(xs, dtype=m.float64, requires_grad=True)
            y = m.logit(x, eps=eps)
            y.sum().backward()
            grads.append((y.detach().numpy(), x.grad.numpy()))
        (y, g), (ty, tgrad) = grads
        np.testing.assert_allclose(y, ty, rtol=1e-14, equal_nan=True)
        # the gradient at a NaN input: ours NaN; PyTorch's with eps depends on the CPU's vector
        # width (its vector loop gives 0, its scalar tail NaN: NaN at index 7 of 10 float64s
        # with AVX-512, 0 with AVX2), so it is compared everywhere else
        finite = ~np.isnan(np.array(xs))
        np.testing.assert_allclose(g[finite], tgrad[finite], rtol=1e-14)
        assert np.isnan(g[~finite]).all()
    ints = [180, 90, -45]
    for name in ("deg2rad", "rad2deg", "logit"):
        ours, theirs = getattr(tg, name)(tg.tensor(ints)), getattr(torch, name)(torch.tensor(ints))
        assert str(ours.dtype) == "float32" and str(theirs.dtype) == "torch.float32"
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, equal_nan=True)
    x = [-1.0, 0.0, 2.0, float("nan"), -0.0]
    np.testing.assert_array_equal(tg.heaviside(tg.tensor(x), tg.tensor([0.5])).numpy(),
                                  torch.heaviside(torch.tensor(x), torch.tensor([0.5])).numpy())
    v = tg.tensor([0.5, 0.25, 0.75, 1.0, 2.0], requires_grad=True)
    tg.heaviside(tg.tensor(x), v).sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [0, 1, 0, 0, 1])  # where x == 0
    with pytest.raises(TypeError, match="heaviside: self and values must have one dtype"):
        tg.heaviside(tg.tensor(x), tg.tensor([1]))
    h = tg.tensor([0.3, 0.6])
    h.logit_()
    np.testing.assert_allclose(h.numpy(), torch.logit(torch.tensor([0.3, 0.6])).numpy(), rtol=1e-6)


def _sgd(lr: float = 0.1):
    return tg.optim.SGD([tg.nn.Parameter(tg.zeros(2))], lr=lr, momentum=0.9)


@pytest.mark.parametrize("make", [
    lambda o, S: S.CosineAnnealingLR(o, T_max=4), lambda o, S: S.LambdaLR(o, lambda e: 0.9**e),
    lambda o, S: S.MultiplicativeLR(o, lambda e: 0.9),
    lambda o, S: S.CyclicLR(o, 0.01, 0.1, step_size_up=2),
    lambda o, S: S.CosineAnnealingWarmRestarts(o, T_0=2),
    lambda o, S: S.SequentialLR(o, [S.ConstantLR(o, 0.5, total_iters=2), S.ExponentialLR(o, 0.9)],
                                milestones=[2])],
    ids=["cosine", "lambda", "multiplicative", "cyclic", "warm_restarts", "sequential"])
def test_a_group_added_after_the_scheduler_is_refused_not_left_unscheduled(make):
    # CosineAnnealingLR drove the new group to lr 0 for good; the others never scheduled it
    # (PyTorch fails with a bare zip() error in each).
    opt = _sgd()
    sched = make(opt, tg.optim.lr_scheduler)
    with pytest.raises(ValueError, match=r"\.step: the optimizer has 2 parameter groups, but .*"
                                         r"make the scheduler again"):
        for epoch in range(6):
            if epoch == 1:
                opt.add_param_group({"params": [tg.nn.Parameter(tg.zeros(2))], "lr": 0.05})
            opt.step()
            sched.step()


def test_chainable_schedules_still_take_a_group_added_later_as_pytorch():
    torch = pytest.importorskip("torch")
    lrs = []
    for m, P in ((tg, tg.nn.Parameter), (torch, torch.nn.Parameter)):
        opt = m.optim.SGD([P(m.zeros(2))], lr=0.1, momentum=0.9)
        sched = m.optim.lr_scheduler.StepLR(opt, 2)
        for epoch in range(6):
            if epoch == 1:
                opt.add_param_group({"params": [P(m.zeros(2))], "lr": 0.05})
            opt.step()
            sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    np.testing.assert_allclose(lrs[0], lrs[1], rtol=1e-12)


def test_scheduler_state_dicts_of_another_length_are_refused():
    S = tg.optim.lr_scheduler
    opt = _sgd()
    two = S.LambdaLR(tg.optim.SGD([{"params": [tg.nn.Parameter(tg.zeros(1))]},
                                   {"params": [tg.nn.Parameter(tg.zeros(1))]}], lr=0.1),
                     [lambda e: 1.0, lambda e: 0.5])
    with pytest.raises(ValueError, match="LambdaLR.load_state_dict: the state_dict holds 2"):
        S.LambdaLR(opt, lambda e: 1.0).load_state_dict(two.state_dict())
    seq = S.SequentialLR(opt, [S.ConstantLR(opt, 0.5, total_iters=2), S.ExponentialLR(opt, 0.9)],
                         milestones=[2])
    state = seq.state_dict()
    state["_schedulers"] = state["_schedulers"][:1]
    with pytest.raises(ValueError, match="SequentialLR.load_state_dict: the state_dict holds 1"):
        seq.load_state_dict(state)


def test_constant_lr_factor_zero_and_one_cycle_phase_of_no_steps_do_not_divide_by_zero():
    # Both passed their checks and then raised a bare ZeroDivisionError (as PyTorch's do).
    S = tg.optim.lr_scheduler
    opt = _sgd()
    sched = S.ConstantLR(opt, factor=0.0, total_iters=2)
    seen = [opt.param_groups[0]["lr"]]
    for _ in range(3):
        opt.step()
        sched.step()
        seen.append(opt.param_groups[0]["lr"])
    assert seen == [0.0, 0.0, 0.1, 0.1]  # 0 for total_iters epochs, then the rate it replaced
    opt = _sgd()
    sched = S.OneCycleLR(opt, 1.0, total_steps=2, pct_start=0.5)  # a warm-up of no steps
    assert opt.param_groups[0]["lr"] == 1.0  # at max_lr at once
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(1.0 / 25 / 1e4)
    opt = _sgd()
    S.OneCycleLR(opt, 1.0, total_steps=4, pct_start=0.25, three_phase=True)
    assert opt.param_groups[0]["lr"] == 1.0


@pytest.mark.parametrize("dtype", [np.uint16, np.uint32, np.uint64])
def test_data_loader_refuses_unsigned_types_tensors_do_not_take(dtype):
    # default_collate built uint64 tensors, which then promoted with int64 to float64 (numpy's
    # rule; PyTorch refuses): tinygrad_cnn.tensor refuses these dtypes, so does the loader.
    samples = [np.array([7], dtype=dtype), np.array([9], dtype=dtype)]
    for batch_size in (2, None):
        with pytest.raises(TypeError, match=rf"DataLoader .*dtype {np.dtype(dtype)}.*astype"):
            next(iter(tg.data.DataLoader(samples, batch_size=batch_size)))
    batch = next(iter(tg.data.DataLoader([np.array([7], np.uint8)] * 2, batch_size=2)))
    assert batch.dtype == np.uint8 and batch.shape == (2, 1)


@pytest.mark.parametrize("bounds", ["min", "max", "both", "clip"])
def test_clamp_in_place_with_tensor_bounds_that_require_grad_is_recorded(bounds):
    # buf.clamp_(min=x) on a buf that requires no grad took the unrecorded path: x got no
    # gradient through buf, silently (outside tester t64).
    torch = pytest.importorskip("torch")
    grads = []
    for m in (tg, torch):
        x = m.tensor([3.0, -1.0, 0.5], dtype=m.float64, requires_grad=True)
        buf = m.zeros(3, dtype=m.float64)
        if bounds == "both":
            buf.clamp_(x * 0 - 0.25, x)
        elif bounds == "clip":
            buf.clip_(min=x)
        else:
            buf.clamp_(**{bounds: x})
        ((buf * buf).sum() + x.sum()).backward()
        assert buf.requires_grad
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(*grads)


def test_every_in_place_unary_form_records_a_tensor_argument():
    # The class of the clamp_ bug: any tensor among an in-place form's arguments is an operand.
    x = tg.tensor([0.3, 0.6], requires_grad=True)
    for fn in (lambda b: b.clamp_(max=x), lambda b: b.lerp_(x, 0.5), lambda b: b.copysign_(x)):
        b = tg.tensor([0.5, 0.5])
        fn(b)
        assert b.requires_grad and b.grad_fn is not None


def test_losses_that_need_not_their_input_allow_changing_it_in_place_after():
    # cross_entropy and kl_div saved their input (the logits) and raised a version error when
    # it changed in place before backward; PyTorch's read log_softmax's output and the target.
    torch = pytest.importorskip("torch")
    grads = []
    for m, F in ((tg, tg.nn.functional), (torch, torch.nn.functional)):
        per = []
        for make in (lambda h: F.cross_entropy(h, m.tensor([2, 0])),
                     lambda h: F.cross_entropy(h, m.tensor([2, 0]), label_smoothing=0.1,
                                               weight=m.tensor([1.0, 2.0, 0.5], dtype=m.float64)),
                     lambda h: F.kl_div(h, m.tensor([[0.2, 0.3, 0.5]] * 2, dtype=m.float64),
                                        reduction="batchmean"),
                     lambda h: F.kl_div(h, m.tensor([[0.2, 0.3, 0.5]] * 2, dtype=m.float64).log(),
                                        reduction="sum", log_target=True)):
            x = m.tensor([[0.5, -1.2, 2.0], [1.0, 0.0, -3.0]], dtype=m.float64, requires_grad=True)
            h = x * 1
            loss = make(h)
            h.mul_(3.0)
            loss.backward()
            per.append(x.grad.numpy())
        grads.append(per)
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-14)
    # second derivatives too: the logits' graph as it was when the loss was made (outside
    # tester t65: refused), for a computed and for a leaf input changed under no_grad
    second = []
    for m in (tg, torch):
        grad = tg.grad if m is tg else torch.autograd.grad
        for leaf in (False, True):
            x = m.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], dtype=m.float64, requires_grad=True)
            h = x if leaf else x * 1
            loss = m.nn.functional.cross_entropy(h, m.tensor([0, 2]), label_smoothing=0.1)
            with m.no_grad():
                h.mul_(0.0)
            (g,) = grad(loss, [x], create_graph=True)
            (gg,) = grad((g * g).sum(), [x])
            second.append((g.detach().numpy(), gg.numpy()))
    for ours, theirs in zip(second[:2], second[2:]):
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-13)
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)


def test_a_long_file_name_saves_with_short_hidden_files_beside_it(tmp_path):
    # A legal name of 241-254 bytes passed every check, then the save failed at the end of the
    # epoch: its hidden ".NAME.PID.XXXXXXXX.part" (and ".NAME.lock") were longer than 255 bytes.
    from tinygrad_cnn._files import remove_stale_parts, sidecar

    for n in (241, 250):
        name = "a" * n + ".npz"
        tg.save({"w": tg.ones(2)}, tmp_path / name)
        np.testing.assert_array_equal(tg.load(tmp_path / name)["w"].numpy(), [1.0, 1.0])
        stem = sidecar(name)
        assert len(stem.encode()) + 24 <= 255 and stem.startswith(".aaaa")
        assert sidecar(name[:-1] + "x") != stem  # (the hash tells two long names apart)
    assert sidecar("short.npz") == ".short.npz"
    # a part a killed writer left (its process is gone) is found under the short stem
    dead = __import__("subprocess").run(["true"]).args and 2**22 + 12345
    part = tmp_path / f"{sidecar(name)}.{dead}.0123abcd.part"
    part.write_bytes(b"x")
    assert remove_stale_parts(tmp_path / name) == [part]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["a" * 241 + ".npz", name])


def test_cli_trains_and_saves_to_a_long_out_name_and_refuses_a_blow_up(tmp_path):
    from tinygrad_cnn import cli

    data = str(__import__("pathlib").Path(__file__).resolve().parents[1] / "data" / "mnist")
    name = "b" * 245 + ".npz"
    args = ["train", "--epochs", "1", "--limit", "64", "--data-dir", data]
    assert cli.main([*args, "--out", str(tmp_path / name)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    # the last step's blow-up shows only in the weights (the mean loss is of the losses before
    # each step): such a run is not saved over the good checkpoint, and the exit status is 1
    good = tg.load(tmp_path / name)
    assert cli.main([*args[:2], "2", *args[3:], "--resume", str(tmp_path / name), "--lr", "1e300"]) == 1
    after = tg.load(tmp_path / name)
    for k, v in good["model"].items():
        np.testing.assert_array_equal(after["model"][k].numpy(), v.numpy())


@pytest.mark.parametrize("edit, message", [
    (lambda s: s["state"][1].__setitem__("momentum_buffer", 3), r"state\['momentum_buffer'\].* is an int"),
    (lambda s: s["state"][0].__setitem__("step", None),
     "state 'step' of parameter 0 is None; it must be a number"),
    (lambda s: s["state"][0].__setitem__("step", tg.tensor(-1.0)),
     "'step' of parameter 0 must be a count >= 0"),
    (lambda s: s["param_groups"][0].__setitem__("momentum", -1.0), "momentum"),
])
def test_optimizer_load_refuses_state_its_step_cannot_use(edit, message):
    # Each loaded, then failed in the step after a resumed run had loaded its data (TypeError,
    # ZeroDivisionError, OverflowError): now load_state_dict names the key.
    import copy

    a, b = tg.nn.Parameter(tg.ones(3)), tg.nn.Parameter(tg.ones(2))
    opt = tg.optim.SGD([a, b], lr=0.1, momentum=0.9)
    for p in (a, b):
        p.grad = tg.ones(p.shape)
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    sd["state"][0]["step"] = tg.tensor(1.0)
    edit(sd)
    with pytest.raises((TypeError, ValueError), match=message):
        tg.optim.SGD([a, b], lr=0.1, momentum=0.9).load_state_dict(sd)


def test_optimizer_state_dict_keeps_a_loaded_key_that_names_no_parameter():
    # load_state_dict kept it (as PyTorch's), then state_dict() raised KeyError: <an id>.
    p = tg.nn.Parameter(tg.ones(2))
    opt = tg.optim.SGD([p], lr=0.1)
    opt.load_state_dict({"state": {5: {"momentum_buffer": tg.zeros(2)}},
                         "param_groups": [dict(opt.state_dict()["param_groups"][0])]})
    assert list(opt.state_dict()["state"]) == [5]


def test_a_ctrl_c_while_python_m_tinygrad_cnn_imports_is_one_line():
    # A Ctrl-C in the first ~0.4 s (numpy and the package importing) printed a KeyboardInterrupt
    # traceback through runpy; the start-up handler prints "interrupted" and exits 130.
    import subprocess
    import sys
    import types

    from tinygrad_cnn import _start

    def fake(*argv):
        return types.SimpleNamespace(orig_argv=["python", *argv])

    assert _start.run_as_main(fake("-m", "tinygrad_cnn", "train"))
    assert _start.run_as_main(fake("-X", "dev", "-mtinygrad_cnn"))
    assert not _start.run_as_main(fake("-m", "pytest", "tinygrad_cnn"))
    assert not _start.run_as_main(fake("script.py", "-m", "tinygrad_cnn"))
    code = ("import os, signal, time; from tinygrad_cnn import _start; _start.quiet_interrupts(); "
            "os.kill(os.getpid(), signal.SIGINT); time.sleep(10)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 130 and r.stderr.strip() == "interrupted", r.stderr
    # an ordinary import leaves Python's handler alone; python -m hands it back before main
    code = ("import signal, tinygrad_cnn; "
            "assert signal.getsignal(signal.SIGINT) is signal.default_int_handler")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
    r = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "--help"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and "train" in r.stdout


def test_cli_refuses_paths_the_system_cannot_open_naming_the_argument(tmp_path):
    # A path past PATH_MAX gave "[Errno 36]" and exit 1 naming no argument; "ck.npz/." and
    # "missing/../m.npz" were normalised as text and read or replaced another file.
    import os
    import subprocess
    import sys

    (tmp_path / "ck.npz").write_bytes(b"keep")
    too_long = "x/" * 2100 + "a.npz"
    for argv, flag in [(["evaluate", "--checkpoint", too_long], "--checkpoint"),
                       (["train", "--resume", too_long], "--resume"),
                       (["train", "--data-dir", too_long], "--data-dir"),
                       (["train", "--out", "ck.npz/."], "--out"),
                       (["evaluate", "--checkpoint", "ck.npz/."], "--checkpoint"),
                       (["train", "--out", "missing/../m.npz"], "--out"),
                       (["evaluate", "--checkpoint", "y" * 300 + ".npz"], "--checkpoint")]:
        r = subprocess.run([sys.executable, "-m", "tinygrad_cnn", *argv], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PYTHONPATH": os.getcwd()})
        assert r.returncode == 2, (argv, r.stderr)
        assert f"error: argument {flag}:" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert (tmp_path / "ck.npz").read_bytes() == b"keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.npz"]


def test_read_idx_of_a_gzip_bomb_stops_at_the_declared_size(tmp_path):
    # A 3 MB .gz whose header declares 10 bytes, then 3 GB of zeros, filled the memory.
    import zlib

    from tinygrad_cnn.data.idx import IDXError, read_idx

    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    z = c.compress(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + bytes(10))
    for _ in range(100):  # 1 GB inflated
        z += c.compress(bytes(10**7))
    (tmp_path / "bomb.gz").write_bytes(z + c.flush())
    with pytest.raises(IDXError, match="bomb.gz: the file is longer than its header says"):
        read_idx(tmp_path / "bomb.gz")


def test_resume_uses_the_checkpoints_data_dir_and_evaluate_takes_model_for_bare_weights(tmp_path):
    # --resume dropped the checkpoint's --data-dir (trained on other files, saved as None);
    # evaluate --model could not evaluate {"model": state_dict} (the README's own example).
    import shutil

    from tinygrad_cnn import cli
    from tinygrad_cnn.models import LeNet5

    data = __import__("pathlib").Path(__file__).resolve().parents[1] / "data" / "mnist"
    mine = tmp_path / "mine"
    shutil.copytree(data, mine)
    ck = str(tmp_path / "a.npz")
    base = ["train", "--limit", "64", "--out", ck]
    assert cli.main([*base, "--epochs", "1", "--data-dir", str(mine)]) == 0
    assert cli.main(["train", "--resume", ck, "--epochs", "2"]) == 0
    assert tg.load(ck)["config"]["data_dir"] == str(mine.resolve())
    mine.rename(tmp_path / "moved")
    with pytest.raises(SystemExit) as exc:
        cli.main(["train", "--resume", ck, "--epochs", "3"])
    assert exc.value.code == 2
    assert cli.main(["train", "--resume", ck, "--epochs", "3", "--data-dir",
                     str(tmp_path / "moved")]) == 0
    weights = str(tmp_path / "w.npz")
    tg.save({"model": LeNet5().state_dict()}, weights)
    assert cli.main(["evaluate", "--checkpoint", weights, "--model", "lenet5", "--data-dir",
                     str(data)]) == 0
    with pytest.raises(SystemExit):
        cli.main(["evaluate", "--checkpoint", weights, "--data-dir", str(data)])


@pytest.mark.parametrize("value", ["1_0", "\uff12", "2.5", "abc"])
def test_env_int_takes_ascii_digits_only(value, monkeypatch):
    # int() took "1_0" as 10 and a full-width digit as 2, though the warning says "an integer".
    from tinygrad_cnn.backend import env_int

    monkeypatch.setenv("TINYGRAD_CNN_TEST_INT", value)
    with pytest.warns(RuntimeWarning, match="TINYGRAD_CNN_TEST_INT=.* is not valid") as rec:
        assert env_int("TINYGRAD_CNN_TEST_INT", 7) == 7
    assert rec[0].filename == __file__  # (the caller's line, not one of ours)
    monkeypatch.setenv("TINYGRAD_CNN_TEST_INT", " 3 ")
    assert env_int("TINYGRAD_CNN_TEST_INT", 7) == 3


def test_progress_bar_falls_back_to_ascii_on_a_stream_that_cannot_encode_blocks():
    import io

    from tinygrad_cnn.cli import ProgressBar

    for encoding, full in (("ascii", "#"), ("utf-8", "\u2588")):
        raw = io.BytesIO()
        stream = io.TextIOWrapper(raw, encoding=encoding)
        ProgressBar("epoch 1/1", stream=stream, width=4).update(2, 2, 0.5, 100.0)
        stream.flush()
        assert f"|{full * 4}|" in raw.getvalue().decode(encoding)


def test_a_folder_in_place_of_an_mnist_file_is_a_bad_data_dir_not_a_download_failure(tmp_path):
    from tinygrad_cnn import cli
    from tinygrad_cnn.data.mnist import locate

    (tmp_path / "t10k-labels-idx1-ubyte.gz").mkdir()
    with pytest.raises(IsADirectoryError, match="t10k-labels-idx1-ubyte.gz is not a file"):
        locate("test-labels", tmp_path, mirrors=("http://127.0.0.1:9",))
    with pytest.raises(SystemExit) as exc:
        cli.main(["evaluate", "--data-dir", str(tmp_path), "--checkpoint", "none.npz"])
    assert exc.value.code == 2
    # and an explicit folder's download error does not suggest the variable it wins over
    with pytest.raises(Exception, match=r"Put the file into .*empty\.$"):
        locate("test-images", tmp_path / "empty", mirrors=("http://127.0.0.1:9",))


def test_one_blas_thread_keeps_a_setting_made_while_it_held():
    # A user's openblas_set_num_threads made while a training thread held OpenBLAS to one
    # thread was undone when the hold ended (outside tester t62).
    from tinygrad_cnn import parallel

    blas = parallel._openblas()
    if not blas:
        pytest.skip("numpy without OpenBLAS")
    before = blas[1]()
    try:
        with parallel.one_blas_thread():
            assert blas[1]() == 1
            blas[0](3)  # the user's, from another thread
        assert blas[1]() == 3
        blas[0](2)
        with parallel.one_blas_thread():
            pass
        assert blas[1]() == 2  # ours alone: restored
    finally:
        blas[0](before)


def test_a_read_only_earlier_run_at_the_default_path_is_kept_not_a_refusal(tmp_path, monkeypatch):
    # A new run at the default path keeps the earlier file as NAME.previous.npz (a rename needs
    # no write permission on it), but a read-only one was refused "make it writable to replace
    # it"; the new checkpoint also took the earlier file's read-only mode.
    import os
    import stat

    from tinygrad_cnn import cli

    data = str(__import__("pathlib").Path(__file__).resolve().parents[1] / "data" / "mnist")
    monkeypatch.chdir(tmp_path)
    args = ["train", "--limit", "64", "--epochs", "1", "--data-dir", data]
    assert cli.main(args) == 0
    os.chmod("checkpoints/lenet5.npz", 0o444)
    assert cli.main(args) == 0
    assert stat.S_IMODE(os.stat("checkpoints/lenet5.previous.npz").st_mode) == 0o444
    assert stat.S_IMODE(os.stat("checkpoints/lenet5.npz").st_mode) & 0o200


def test_save_names_what_it_refuses(tmp_path):
    # numpy's datetime64 was described as "datetime.datetime", a complex was refused though the
    # message listed "numbers", an int of 5,000 digits gave a bare ValueError naming nothing,
    # and an empty path was reported as the folder ".".
    for obj, kind, message in [(np.datetime64(1, "s"), TypeError, r"obj\['k'\] is a numpy.datetime64"),
                               (1 + 2j, TypeError, r"is a complex; .*real numbers"),
                               (10**5000, ValueError, r"obj\['k'\] is an int of 16610 bits")]:
        with pytest.raises(kind, match=message):
            tg.save({"k": obj}, tmp_path / "x.npz")
    assert not list(tmp_path.iterdir())
    tg.save({"k": 10**1000}, tmp_path / "big.npz")
    assert tg.load(tmp_path / "big.npz")["k"] == 10**1000
    with pytest.raises(FileNotFoundError, match="save: the path is empty"):
        tg.save({}, "")
    with pytest.raises(FileNotFoundError, match="load: the path is empty"):
        tg.load("")


def test_lgamma_digamma_polygamma_against_mpmath_and_pytorch():
    mpmath = pytest.importorskip("mpmath")
    torch = pytest.importorskip("torch")
    mpmath.mp.dps = 40
    x = np.random.default_rng(0).uniform(-12, 25, 300)
    x = x[np.abs(x - np.round(x)) > 1e-2]
    for n in (0, 1, 2, 4):
        exact = np.array([float(mpmath.polygamma(n, mpmath.mpf(v))) for v in x])
        ours = tg.polygamma(n, tg.tensor(x)).numpy()
        # relative to the size of the terms (digamma crosses 0 between the poles)
        scale = np.maximum(np.abs(exact), 1.0)
        assert np.max(np.abs(ours - exact) / scale) < 1e-13, n
        theirs = torch.polygamma(n, torch.tensor(x)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-9)  # (PyTorch's trigamma: 5e-10)
    exact = np.array([float(mpmath.loggamma(mpmath.mpf(v)).real) for v in x])
    np.testing.assert_allclose(tg.lgamma(tg.tensor(x)).numpy(), exact, rtol=1e-13, atol=1e-14)
    special = [0.0, -0.0, -2.0, float("inf"), float("nan"), 1e-300, 1e300]
    for name in ("lgamma", "digamma"):
        ours = getattr(tg, name)(tg.tensor(special, dtype=tg.float64)).numpy()
        theirs = getattr(torch, name)(torch.tensor(special, dtype=torch.float64)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-15)  # (inf and NaN where PyTorch's)
    a = tg.tensor([0.3, 2.5, -1.5], requires_grad=True)
    assert tg.gradcheck(lambda t: t.lgamma(), (a,)) and tg.gradgradcheck(lambda t: t.digamma(), (a,))
    with pytest.raises(ValueError, match="polygamma: n must be an int >= 0"):
        tg.polygamma(-1, a)
    with pytest.raises(TypeError, match=r"the order is polygamma\(n, input\)"):
        tg.polygamma(a, 1)
    h = tg.tensor([2.0, 3.0])
    h.lgamma_()
    np.testing.assert_allclose(h.numpy(), [0.0, np.log(2.0)], atol=1e-7)


def test_in_place_shape_ops_match_pytorch_and_refuse_what_views_would_miss():
    torch = pytest.importorskip("torch")
    grads = []
    for m in (tg, torch):
        x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=m.float64, requires_grad=True)
        h = x * 1
        assert h.t_() is h
        h.unsqueeze_(0)
        h.transpose_(0, 2)  # (2, 3, 1)
        h.squeeze_(2)
        h.swapaxes_(0, 1)  # (3, 2)
        h.swapdims_(0, 1)  # (2, 3)
        w = m.arange(6.0, dtype=m.float64).reshape(2, 3)
        (h * h * w).sum().backward()
        grads.append((tuple(h.shape), x.grad.numpy()))
        y = m.ones(3)
        y.unsqueeze_(1)
        y.squeeze_()
        assert tuple(y.shape) == (3,)
    assert grads[0][0] == grads[1][0]
    np.testing.assert_array_equal(grads[0][1], grads[1][1])
    with pytest.raises(RuntimeError, match="t_: a leaf tensor that requires grad"):
        tg.ones(2, 3, requires_grad=True).t_()
    x = tg.ones(2, 3)
    v = x[0]
    with pytest.raises(RuntimeError, match="shares its memory with another tensor"):
        x.t_()
    with pytest.raises(RuntimeError, match="is a view of another tensor"):
        v.unsqueeze_(0)
    del v
    assert x.t_().shape == (3, 2)  # (the view is gone)


def test_a_function_returning_one_input_in_two_slots_passes_each_slots_gradient():
    # Both slots were one tensor: the gradients of both reached backward in the last slot
    # (8 instead of 35), silently (outside tester t66).
    torch = pytest.importorskip("torch")
    seen = []
    for m in (tg, torch):
        base = tg.Function if m is tg else torch.autograd.Function

        class Dup(base):
            @staticmethod
            def forward(ctx, x):
                return x, x

            @staticmethod
            def backward(ctx, ga, gb):
                return ga * 10 + gb

        class Pass(base):
            @staticmethod
            def forward(ctx, x, y):
                return x, y

            @staticmethod
            def backward(ctx, ga, gb):
                return ga * 2, gb * 3

        x = m.tensor([1.0], dtype=m.float64, requires_grad=True)
        a, b = Dup.apply(x)
        (a * 3 + b * 5).sum().backward()
        y = m.tensor([1.0], dtype=m.float64, requires_grad=True)
        h = y * 1
        a2, b2 = Pass.apply(h, h)
        (a2 * 5 + b2 * 7).sum().backward()
        seen.append((x.grad.item(), y.grad.item(), a is b))
    assert seen[0] == seen[1] == (35.0, 31.0, False)


def test_a_leaf_frozen_after_the_forward_gets_no_gradient():
    # requires_grad_(False) after the graph was made: backward still added into .grad (PyTorch's
    # AccumulateGrad checks requires_grad when it runs; outside tester t66).
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    w = tg.tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    x.requires_grad_(False)
    y.backward()
    assert x.grad is None
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 2.0])


def test_set_grad_enabled_made_earlier_switches_when_entered():
    cm = tg.set_grad_enabled(False)
    tg.set_grad_enabled(True)
    with cm:
        assert not tg.is_grad_enabled()
        assert not (tg.ones(2, requires_grad=True) * 2).requires_grad
    assert tg.is_grad_enabled()
    with tg.no_grad():
        with tg.set_grad_enabled(True):
            assert tg.is_grad_enabled()
        assert not tg.is_grad_enabled()


def test_read_idx_reads_every_gzip_member_and_raw_idx_named_gz(tmp_path):
    # The bounded inflate stopped after the first member: `cat a.gz b.gz`, pigz/bgzip output and
    # an empty last member were refused as "longer than its header says" (outside tester t65).
    import gzip

    from tinygrad_cnn.data.idx import IDXError, idx_bytes, read_idx

    want = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    raw = idx_bytes(want)
    for data in (gzip.compress(raw[:30]) + gzip.compress(raw[30:]),
                 gzip.compress(raw) + gzip.compress(b""), gzip.compress(b"") + gzip.compress(raw),
                 gzip.compress(raw[:2]) + gzip.compress(raw[2:]), gzip.compress(raw) + bytes(64),
                 raw):  # (a .gz a browser already unpacked)
        (tmp_path / "f.gz").write_bytes(data)
        np.testing.assert_array_equal(read_idx(tmp_path / "f.gz"), want)
    (tmp_path / "f.gz").write_bytes(gzip.compress(raw) + gzip.compress(b"x"))
    with pytest.raises(IDXError, match="longer than its header says"):
        read_idx(tmp_path / "f.gz")


def test_t65_optimizer_and_scheduler_loads():
    torch = pytest.importorskip("torch")
    # a kept key naming no parameter, holding a PyTorch tensor: state_dict() raised
    p = tg.tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    opt = tg.optim.Adam([p])
    sd = opt.state_dict()
    sd["state"][99] = {"x": torch.ones(2)}
    opt.load_state_dict(sd)
    assert list(opt.state_dict()["state"]) == [99]
    # PyTorch tensor options (PyTorch allows a tensor lr): the step failed in numpy
    q = tg.tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    opt = tg.optim.Adam([q], lr=torch.tensor(0.01), betas=(torch.tensor(0.9), 0.999))
    q.grad = tg.ones(2)
    opt.step()
    np.testing.assert_allclose(q.detach().numpy(), [0.99, 0.99], rtol=1e-6)
    # LBFGS: more pairs than history_size, and options a step cannot use, on load too
    w = tg.tensor(np.linspace(-1.0, 2.0, 3), requires_grad=True)
    lb = tg.optim.LBFGS([w], history_size=3)

    def closure():
        lb.zero_grad()
        loss = ((w - 0.5) ** 4).sum()
        loss.backward()
        return loss

    lb.step(closure)
    lb.step(closure)
    sd = lb.state_dict()
    state = sd["state"][0]
    for k in ("old_dirs", "old_stps", "ro"):
        state[k] = state[k] * 3
    with pytest.raises(ValueError, match="more than history_size 3"):
        tg.optim.LBFGS([w], history_size=3).load_state_dict(sd)
    bad = lb.state_dict()
    bad["param_groups"][0]["max_eval"] = None
    with pytest.raises(ValueError, match="LBFGS: max_eval must be an int >= 1"):
        tg.optim.LBFGS([w], history_size=3).load_state_dict(bad)
    # SequentialLR: a refused load leaves it as it was
    S = tg.optim.lr_scheduler
    three = tg.optim.SGD([{"params": [tg.nn.Parameter(tg.zeros(1))]} for _ in range(3)], lr=0.1)
    seq3 = S.SequentialLR(three, [S.LambdaLR(three, [lambda e: 1.0] * 3), S.StepLR(three, 2)],
                          milestones=[2])
    for _ in range(5):
        three.step()
        seq3.step()
    two = tg.optim.SGD([{"params": [tg.nn.Parameter(tg.zeros(1))]} for _ in range(2)], lr=0.1)
    seq2 = S.SequentialLR(two, [S.LambdaLR(two, [lambda e: 1.0] * 2), S.StepLR(two, 2)],
                          milestones=[2])
    before = (seq2.last_epoch, list(seq2.get_last_lr()))
    with pytest.raises(ValueError, match="holds 3 lr_lambdas"):
        seq2.load_state_dict(seq3.state_dict())
    assert (seq2.last_epoch, list(seq2.get_last_lr())) == before
    # logit with eps > 1/2: PyTorch's order of the two clamps
    x = [-0.5, 1.0, 0.5]
    np.testing.assert_allclose(tg.logit(tg.tensor(x), 0.6).numpy(),
                               torch.logit(torch.tensor(x), 0.6).numpy(), rtol=1e-6)


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("distance", ["default", "cosine", "l1"])
def test_triplet_margin_with_distance_loss_matches_pytorch(swap, distance):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    values = [rng.normal(size=(5, 4)) for _ in range(3)]
    results = []
    for m in (tg, torch):
        a, p, n = (m.tensor(v, requires_grad=True) for v in values)
        fn = {"default": None,
              "cosine": lambda x, y, m=m: 1 - m.nn.functional.cosine_similarity(x, y),
              "l1": lambda x, y: (x - y).abs().sum(-1)}[distance]
        for reduction in ("mean", "sum", "none"):
            loss = m.nn.TripletMarginWithDistanceLoss(distance_function=fn, margin=0.7, swap=swap,
                                                      reduction=reduction)(a, p, n)
            loss.sum().backward()
        f = m.nn.functional.triplet_margin_with_distance_loss(a, p, n, distance_function=fn)
        results.append([f.detach().numpy(), a.grad.numpy(), p.grad.numpy(), n.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        tg.nn.functional.triplet_margin_with_distance_loss(tg.ones(2, 3), tg.ones(2, 3), tg.ones(2, 3),
                                                           margin=0.0)


_SMALL_OPS = {  # outside tester t64's missing list: each against PyTorch, values and gradients
    "isposinf": lambda m, a, b: m.isposinf(a * m.tensor([float("inf")] * 3 + [1.0], dtype=a.dtype)),
    "isneginf": lambda m, a, b: m.isneginf(a * m.tensor([float("inf")] * 3 + [1.0], dtype=a.dtype)),
    "logaddexp2": lambda m, a, b: m.logaddexp2(a * 30, b),
    "diagflat": lambda m, a, b: m.diagflat(a, 1),
    "vdot": lambda m, a, b: m.vdot(a, b),
    "ger": lambda m, a, b: m.ger(a, b),
    "addr": lambda m, a, b: m.addr(m.outer(b, a), a, b, beta=0.5, alpha=2),
    "addr_beta0": lambda m, a, b: m.addr(m.full((4, 4), float("nan"), dtype=a.dtype), a, b, beta=0),
    # (non-negative exponents: PyTorch's VJP takes 2 ** e in integers, 0 for e < 0 -- see below)
    "ldexp": lambda m, a, b: m.ldexp(a, m.tensor([1, 2, 3, 0])),
    "adjoint": lambda m, a, b: m.outer(a, b).adjoint(),
    "mvlgamma": lambda m, a, b: m.mvlgamma(a.abs() + 2, 3),
    "rsub": lambda m, a, b: m.rsub(a, b, alpha=3),
    "trapz": lambda m, a, b: m.trapz(a, b),
    "ndtr": lambda m, a, b: m.special.ndtr(a * 4),
    "multigammaln": lambda m, a, b: m.special.multigammaln(a.abs() + 2, 2),
    "psi": lambda m, a, b: m.special.psi(a.abs() + 0.1),
    "gammaln": lambda m, a, b: m.special.gammaln(a),
    "expit": lambda m, a, b: m.special.expit(a),
}


@pytest.mark.parametrize("name", sorted(_SMALL_OPS))
def test_small_missing_ops_match_pytorch(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    av, bv = rng.normal(size=4), rng.normal(size=4)
    out = []
    for m in (tg, torch):
        a, b = m.tensor(av, requires_grad=True), m.tensor(bv, requires_grad=True)
        y = _SMALL_OPS[name](m, a, b)
        got = [y.detach().numpy()]
        if y.dtype.is_floating_point if m is torch else y.dtype.kind == "f":
            y.sum().backward()
            got += [np.zeros(4) if t.grad is None else t.grad.numpy() for t in (a, b)]
        out.append(got)
    assert len(out[0]) == len(out[1])
    rtol = 1e-9 if name == "psi" else 1e-12  # (PyTorch's trigamma is off by up to 5e-10)
    for ours, theirs in zip(*out):
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-14, equal_nan=True)


def test_small_missing_api_against_pytorch():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    tg.ldexp(x, tg.tensor([-2, 3])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.25, 8.0])  # (PyTorch's: [0, 8])
    torch = pytest.importorskip("torch")
    x = [1.0, 0.0, -3.5, float("inf"), 1e-310]
    ours, theirs = tg.frexp(tg.tensor(x, dtype=tg.float64)), torch.frexp(torch.tensor(x, dtype=torch.float64))
    np.testing.assert_array_equal(ours.mantissa.numpy(), theirs.mantissa.numpy())
    np.testing.assert_array_equal(ours.exponent.numpy(), theirs.exponent.numpy())
    assert str(ours.exponent.dtype) == "int32"
    ours_next = tg.nextafter(tg.tensor([1.0, 0.0]), tg.tensor([2.0, -1.0])).numpy()
    theirs_next = torch.nextafter(torch.tensor([1.0, 0.0]), torch.tensor([2.0, -1.0])).numpy()
    np.testing.assert_array_equal(ours_next, theirs_next)
    assert tuple(tg.broadcast_shapes((2, 1), (3,), 1)) == tuple(torch.broadcast_shapes((2, 1), (3,), 1))
    with pytest.raises(RuntimeError, match="cannot be broadcast together"):
        tg.broadcast_shapes((2,), (3,))
    s = tg.scalar_tensor(3)
    assert s.shape == () and str(s.dtype) == "float32" and s.item() == 3.0
    idx = tg.tensor([0, 5, 11, -1])
    theirs_idx = torch.unravel_index(torch.tensor([0, 5, 11, -1]), (3, 4))
    for ours_c, theirs_c in zip(tg.unravel_index(idx, (3, 4)), theirs_idx):
        np.testing.assert_array_equal(ours_c.numpy(), theirs_c.numpy())
    with pytest.raises(RuntimeError, match="unravel_index: index out of bounds"):
        tg.unravel_index(tg.tensor([12]), (3, 4))
    with pytest.raises(RuntimeError, match="vdot: 1D tensors expected"):
        tg.vdot(tg.ones(2, 2), tg.ones(2))


@pytest.mark.parametrize("case", ["plain", "causal", "bool_mask_with_an_empty_row", "float_mask",
                                  "scale", "gqa", "causal_long_source"])
def test_scaled_dot_product_attention_matches_pytorch(case):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    heads = 1 if case == "gqa" else 3
    q_v, k_v, v_v = (rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, heads, 6, 5)),
                     rng.normal(size=(2, heads, 6, 7)))
    mask = rng.random((4, 6)) > 0.4
    mask[1] = False  # (a query that may attend to nothing: 0, as PyTorch's CPU kernel)
    bias = rng.normal(size=(1, 3, 4, 6))
    results = []
    for m in (tg, torch):
        q, k, v = (m.tensor(a, requires_grad=True) for a in (q_v, k_v, v_v))
        kw = {"plain": {}, "causal": {"is_causal": True}, "bool_mask_with_an_empty_row":
              {"attn_mask": m.tensor(mask)}, "float_mask": {"attn_mask": m.tensor(bias)},
              "scale": {"scale": 0.3}, "gqa": {"enable_gqa": True},
              "causal_long_source": {"is_causal": True}}[case]
        if case == "causal_long_source":
            q = m.tensor(q_v[:, :, :2], requires_grad=True)
        out = m.nn.functional.scaled_dot_product_attention(q, k, v, **kw)
        (out * out).sum().backward()
        results.append([out.detach().numpy(), q.grad.numpy(), k.grad.numpy(), v.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)
    args = tuple(tg.tensor(a[:1, :1, :3, :2], requires_grad=True) for a in (q_v, q_v, q_v))
    sdpa = tg.nn.functional.scaled_dot_product_attention
    assert tg.gradcheck(lambda *t: sdpa(*t, is_causal=True), args)
    assert tg.gradgradcheck(lambda *t: sdpa(*t, is_causal=True), args)


def test_t68_half_mid_training_warns_save_keeps_attributes_optimizer_copies_drop_hooks(tmp_path):
    import copy
    import pickle

    from tinygrad_cnn import nn, optim

    # module.half() after Adam stepped: its float32 moments were rounded to float16 silently
    # (1e-11 became 0; PyTorch's step raises)
    lin = nn.Linear(1, 1, bias=False)
    opt = optim.Adam(lin.parameters(), lr=1e-3)
    lin.weight.grad = tg.full((1, 1), 1e-4)
    opt.step()
    lin.half()
    lin.weight.grad = tg.full((1, 1), 1e-4, dtype=tg.float16)
    with pytest.warns(UserWarning, match=r"Adam.step: state\['exp_avg_sq'\] .* is float32, the "
                                         r"parameter float16.*module.half\(\)"):
        opt.step()
    # tg.save kept neither a tensor's own attributes nor its name (torch.save keeps them)
    t = tg.ones(2)
    t.foo = 5
    p = nn.Parameter(tg.ones(2))
    p._no_weight_decay = True
    tg.save({"t": t, "p": p, "n": tg.tensor([1.0], name="nm")}, tmp_path / "x.npz")
    back = tg.load(tmp_path / "x.npz")
    assert back["t"].foo == 5 and back["p"]._no_weight_decay is True
    assert isinstance(back["p"], nn.Parameter) and back["n"].name == "nm"
    t.bad = object()
    with pytest.raises(TypeError, match=r"obj.__dict__\['bad'\] is an object"):
        tg.save(t, tmp_path / "y.npz")
    # deepcopy/pickle of an optimizer: its hooks stay behind (the copy ran the original's)
    lin = nn.Linear(1, 1)
    opt = optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)
    calls = []
    opt.register_step_post_hook(lambda o, a, k: calls.append(1))
    for q in lin.parameters():
        q.grad = tg.ones(q.shape)
    opt.step()
    copy.deepcopy(opt).step()
    pickle.loads(pickle.dumps(opt)).step()
    assert len(calls) == 1
    opt.step()
    assert len(calls) == 2


def test_module_dtype_change_casts_grad_in_place():
    # .double() replaced .grad with a new object: a reference kept to it went stale in float32
    # (PyTorch casts it in place; outside tester t68).
    m = tg.nn.Linear(2, 1)
    m(tg.ones(1, 2)).sum().backward()
    g = m.weight.grad
    m.double()
    assert m.weight.grad is g and g.dtype == np.float64
    np.testing.assert_array_equal(g.numpy(), [[1.0, 1.0]])


@pytest.mark.parametrize("x_grad", [True, False])
def test_kl_div_log_target_allows_changing_the_input_before_backward_to_the_target(x_grad):
    # The target's gradient read the saved input: an in-place change of it raised where PyTorch
    # (whose product saves t - x) goes on (outside tester t65); second derivatives too.
    torch = pytest.importorskip("torch")
    out = []
    for m in (tg, torch):
        grad = tg.grad if m is tg else torch.autograd.grad
        x = m.tensor([[0.1, 0.2], [0.5, -1.0]], dtype=m.float64, requires_grad=x_grad)
        t = m.tensor([[-1.0, -2.0], [-0.5, -0.7]], dtype=m.float64, requires_grad=True)
        xi = x * 1
        loss = m.nn.functional.kl_div(xi, t, reduction="sum", log_target=True)
        with m.no_grad():
            xi.mul_(0.0)
        wrt = [x, t] if x_grad else [t]
        first = grad(loss, wrt, create_graph=True)
        second = grad(sum((g * g).sum() for g in first), wrt)
        out.append([a.detach().numpy() for a in (*first, *second)])
    for ours, theirs in zip(*out):
        np.testing.assert_allclose(ours, theirs, rtol=1e-13)
