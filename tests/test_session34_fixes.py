"""The thirty-fourth session's fixes:

- ``number ** x``: the number takes ``x``'s dtype in the forward (1e-50 is 0 in float32, 70000 is
  inf in float16), and the VJP to ``x`` took the log of that rounding -- ``log(0)`` or
  ``log(inf)`` -- where PyTorch's takes the log of the number as it was given: the gradient of
  ``1e-50 ** x`` at ``x = 0`` was 0 (PyTorch: -115.13), of ``70000. ** x`` in half inf or NaN
  (PyTorch: 11.16 and 0).
"""

from __future__ import annotations

import html
import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from browser import Browser, find_chromium

import tinygrad_cnn as tg
from tinygrad_cnn import gradcheck, gradgradcheck, viz

EXPONENTS = [0.0, 1.0, -1.0, 0.5, 2.0, -3.0]


def _rpow_grad(base, dtype):
    e = tg.tensor(EXPONENTS, dtype=dtype, requires_grad=True)
    out = base ** e
    out.sum().backward()
    return out.detach().numpy(), e.grad.numpy()


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("base", [1e-50, 1e39, 1e-8, 70000.0, 0.0, -2.0, 3, 0.5, 2**25 + 1,
                                  float("inf"), 2**62])
def test_number_to_the_tensor_as_torch(base, dtype):
    torch = pytest.importorskip("torch")
    out, grad = _rpow_grad(base, dtype)
    t = torch.tensor(EXPONENTS, dtype=getattr(torch, dtype), requires_grad=True)
    tout = base ** t
    tout.sum().backward()
    tol = {"float16": 2e-3, "float32": 2e-6, "float64": 1e-14}[dtype]
    # (the forward may differ in its last ulp -- numpy's pow against PyTorch's vectorised one)
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=tol, equal_nan=True)
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=tol, equal_nan=True)


@pytest.mark.parametrize("dtype, base, expected", [
    ("float32", 1e-50, math.log(1e-50)),   # 1e-50 is 0 in float32: log(0) gave a masked 0
    ("float32", 1e39, math.log(1e39)),     # inf in float32: log(inf) gave inf
    ("float16", 70000.0, math.log(70000)),  # inf in half
    ("float16", 1e-8, math.log(1e-8)),      # 0 in half
])
def test_number_base_log_is_of_the_number(dtype, base, expected):
    """At ``x = 0`` the output is 1 whatever the base's rounding, and the gradient is
    ``log(base)`` of the number itself."""
    out, grad = _rpow_grad(base, dtype)
    assert out[0] == 1
    assert grad[0] == pytest.approx(expected, rel=1e-3)
    # where the rounded base gives 0 (or inf) outputs, the gradient is 0 (or +-inf), not NaN
    assert not np.isnan(grad).any()


def test_huge_int_base_is_a_clear_error():
    e = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(OverflowError, match="too big"):
        (10**400) ** e


def test_zero_base_keeps_its_mask():
    """``0 ** x``: constant where ``x >= 0`` (gradient 0), ``-inf`` beyond, as PyTorch's."""
    out, grad = _rpow_grad(0.0, "float64")
    np.testing.assert_array_equal(out, [1, 0, np.inf, 0, 0, np.inf])
    np.testing.assert_array_equal(grad, [0, 0, -np.inf, 0, 0, -np.inf])


def test_negative_base_gradient_is_nan():
    out, grad = _rpow_grad(-2.0, "float64")
    assert np.isnan(grad).all()  # log(-2): NaN, as C's log and PyTorch


@pytest.mark.parametrize("base", [0.3, 2.5, 7])
def test_number_base_first_and_second_derivatives(base):
    e = tg.tensor(np.linspace(-1.5, 1.5, 7), dtype=tg.float64, requires_grad=True)
    assert gradcheck(lambda x: base ** x, (e,))
    assert gradgradcheck(lambda x: base ** x, (e,))


def test_rpow_drawn_by_the_number():
    e = tg.tensor([1.0, 2.0], requires_grad=True)
    text = viz.text(0.5 ** e)
    assert "pow(0.5, leaf0)" in text and "_base" not in text


# --------------------------------------------------------------------- t107: 1-d input of a loss
@pytest.mark.parametrize("op", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("shape", [(2,), (0,), (1, 1), (2, 2)])
def test_unbatched_class_loss_with_a_wrong_target_is_a_clear_error(op, shape):
    """A 1-d input (C,) is one sample: its target is one index (0-d or (1,)); any other target
    was numpy's "cannot reshape array of size 2 into shape (1,)"."""
    f = getattr(tg.nn.functional, op)
    with pytest.raises(ValueError, match=rf"{op}: the input of shape \(3,\) needs a 0-d target "
                                         r"\(one class index\), but target has shape "
                                         + re.escape(str(shape))):
        f(tg.zeros(3), tg.tensor(np.zeros(shape, np.int64)))


@pytest.mark.parametrize("op", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("target", [np.array(1), np.array([1])])
def test_unbatched_class_loss_takes_one_index_as_torch(op, target):
    torch = pytest.importorskip("torch")
    x = np.array([0.5, -1.0, 2.0])
    ours = getattr(tg.nn.functional, op)(tg.tensor(x), tg.tensor(target))
    theirs = getattr(torch.nn.functional, op)(torch.tensor(x), torch.tensor(target))
    assert ours.shape == tuple(theirs.shape)
    assert float(ours) == pytest.approx(float(theirs), rel=1e-12)


# ------------------------------------------------------------------------ t106: drawings' names
def _labels(drawing):
    return re.findall(r'label="\{([^|]*)\|', drawing.source)


def test_drawing_names_in_place_versions_as_the_text_form():
    """The text form names a tensor's earlier versions `y@1`, `y@2`; the drawing labelled all
    three boxes `y` (beside a user's tensor named `y@1`, the box reading `y@1` was another)."""
    x = tg.Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True, name="x")
    y = x * 1.0
    y.name = "y"
    y[1:3].mul_(10)
    y[0] = 7.0
    loss = (y * y).sum()
    text_names = [line.split()[0] for line in viz.text(loss).splitlines()[2:]]
    assert text_names[:2] == ["x", "y@1"] and "y@2" in text_names and "y" in text_names
    drawn = _labels(viz.draw(loss))
    assert [n for n in drawn if n.startswith("y")] == ["y@1", "y@2", "y"]


def test_drawing_names_repeated_names_apart():
    a = tg.Tensor([1.0, 2.0], requires_grad=True, name="a")
    h = a * 2
    h.name = "h"
    h2 = h * 3
    h2.name = "h"
    drawn = _labels(viz.draw(h2.sum()))
    assert "h" in drawn and "h#2" in drawn


class _Chain(tg.nn.Module):
    def __init__(self, names):
        super().__init__()
        self.names = names
        for n in names:
            self.add_module(n, tg.nn.Linear(1, 1))

    def forward(self, h):
        for n in self.names:
            h = getattr(self, n)(h)
        return h


@pytest.mark.parametrize("odd", ["b\\N", "a\\l", 'q\\"x', "x&amp;y"])
def test_collapsed_box_shows_module_names_as_written(odd):
    """A module name with a backslash in a collapsed ``×N`` box: Graphviz read `b\\N` as the
    node's id and `a\\l` as a line break (every other label escaped it)."""
    loss = _Chain(("a", odd, "c"))(tg.Tensor([[1.0]], requires_grad=True)).sum()
    for drawing in (viz.draw(loss), viz.draw(loss, backward=True)):
        line = next(ln for ln in drawing.source.splitlines() if "×2" in ln)
        shown = odd.replace("\\", "\\\\").replace("&", "&amp;").replace('"', '\\"')
        assert shown in line
        if shutil.which("dot"):
            svg = subprocess.run(["dot", "-Tsvg"], input=drawing.source.encode(),
                                 capture_output=True, check=True).stdout.decode()
            texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
            assert any(t.startswith(odd + " … c") for t in texts), texts


def test_step_through_shows_module_names_escaped_and_no_stray_blank():
    class M(tg.nn.Module):
        def __init__(self):
            super().__init__()
            self.add_module("tab\tx", tg.nn.Linear(2, 1))

        def forward(self, x):
            return getattr(self, "tab\tx")(x)

    loss = M()(tg.Tensor([[1.0, 2.0]], requires_grad=True)).sum()
    frames = viz.animate(loss).frames
    modules = {f["module"] for f in frames if f["module"]}
    assert modules == {"tab\\tx"}  # as the drawings and the "sends" list show it


@pytest.mark.skipif(find_chromium() is None, reason="needs chromium (.ci/run installs it)")
def test_step_through_of_a_library_model_has_no_stray_blank(tmp_path):
    """The CLI's LeNet-5 is built inside the library: its ops have no source line of the user's,
    and the page's "where" line read " in module fc3" (a leading blank)."""
    out = tmp_path / "backprop.html"
    proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "draw", "--model", "lenet5",
                           "--animate", "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    with Browser() as b:
        page = b.open(out.as_uri())
        b.wait_for(page, "document.readyState === 'complete' && "
                         "document.body.dataset.frame === '0'")
        wheres = b.eval(page, """[...Array(13).keys()].map(i => {
            const s = document.getElementById('slider'); s.value = i;
            s.dispatchEvent(new Event('input'));
            return document.getElementById('f-where').textContent; })""")
    assert len(wheres) == 13 and not any(w.startswith(" ") for w in wheres), wheres
    assert any(w.startswith("in module fc") for w in wheres), wheres


def test_text_form_quotes_a_module_path_as_it_quotes_names():
    """A module named `a  b`: its parameters were quoted in the name column, the module column
    wrote it bare -- two columns to a reader splitting on blanks."""
    class M(tg.nn.Module):
        def __init__(self):
            super().__init__()
            self.add_module("a  b", tg.nn.Linear(1, 1))
            self.c = tg.nn.Linear(1, 1)

        def forward(self, h):
            return self.c(getattr(self, "a  b")(h))

    loss = M()(tg.Tensor([[1.0]], requires_grad=True)).sum()
    for text in (viz.text(loss), viz.text(loss, backward=True)):
        rows = [line for line in text.splitlines() if "linear" in line]
        assert "  'a  b'  " in rows[0] + rows[1] and any("  c  " in r for r in rows)


# ----------------------------------------------------------------- t105: the CLI's checkpoints
DATA = str(Path(__file__).resolve().parents[1] / "data" / "mnist")


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tinygrad_cnn", *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory):
    """A real `train` checkpoint, one epoch of a 3-epoch run (settings as `train` saves them)."""
    kit = tmp_path_factory.mktemp("t105")
    proc = _cli("train", "--epochs", "1", "--limit", "64", "--data-dir", DATA, "--out",
                kit / "a.npz")
    assert proc.returncode == 0, proc.stderr
    state = tg.load(kit / "a.npz")
    state = dict(state, config=dict(state["config"], epochs=3),
                 scheduler=dict(state["scheduler"], T_max=3))
    tg.save(state, kit / "good.npz")
    return kit, state


@pytest.mark.parametrize("change, named", [
    ({}, "T_max has none"),
    ({"last_epoch": 0}, "last_epoch is 0, expected 1"),
    ({"T_max": 0}, "T_max is 0, expected 3"),
    ({"base_lrs": [5.0]}, "base_lrs is [5.0], expected [0.02]"),
    ({"last_epoch": 1.0}, "last_epoch is 1.0"),
])
def test_resume_refuses_a_scheduler_state_train_did_not_save(one_epoch, change, named):
    """The schedule is rebuilt from the config and the epoch; a scheduler entry that disagrees
    with them (crafted, or another run's) resumed without a word."""
    kit, state = one_epoch
    sched = dict(state["scheduler"], **change) if change else {}
    tg.save(dict(state, scheduler=sched), kit / "bad.npz")
    proc = _cli("train", "--resume", kit / "bad.npz", "--out", kit / "x.npz")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "error: argument --resume" in proc.stderr and named in proc.stderr, proc.stderr
    assert not (kit / "x.npz").exists()


def test_resume_of_a_consistent_scheduler_state_trains_on(one_epoch):
    kit, _ = one_epoch
    proc = _cli("train", "--resume", kit / "good.npz", "--epochs", "2", "--out", kit / "y.npz")
    assert proc.returncode == 0, proc.stderr
    assert tg.load(kit / "y.npz")["scheduler"]["last_epoch"] == 2


@pytest.mark.parametrize("dtype", ["bool", "int64"])
@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_a_non_floating_weight_is_refused(one_epoch, dtype, command):
    """`load_state_dict` casts (as PyTorch's): a bool conv1.weight evaluated to 0.10 without a
    word; `train` saves only float32 weights."""
    kit, state = one_epoch
    model = dict(state["model"], **{"conv1.weight": tg.tensor(np.zeros((6, 1, 5, 5), dtype))})
    tg.save(dict(state, model=model), kit / f"w_{dtype}.npz")
    flag = "--checkpoint" if command == "evaluate" else "--resume"
    extra = ("--data-dir", DATA) if command == "evaluate" else ("--out", kit / "z.npz")
    proc = _cli(command, flag, kit / f"w_{dtype}.npz", *extra)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"holds weight conv1.weight as {dtype}, not a floating dtype" in proc.stderr


def test_a_float64_weight_still_loads(one_epoch):
    kit, state = one_epoch
    w = state["model"]["conv1.weight"].numpy().astype(np.float64)
    tg.save(dict(state, model=dict(state["model"], **{"conv1.weight": tg.tensor(w)})),
            kit / "w_f64.npz")
    proc = _cli("evaluate", "--checkpoint", kit / "w_f64.npz", "--data-dir", DATA)
    assert proc.returncode == 0, proc.stderr


def test_limit_beyond_the_data_is_said(tmp_path):
    """`--limit 70000` trained on the 60,000 images there are without a word."""
    proc = subprocess.Popen([sys.executable, "-m", "tinygrad_cnn", "train", "--limit", "70000",
                             "--data-dir", DATA, "--out", tmp_path / "l.npz"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        while "training" not in line:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
    finally:
        proc.terminate()
        proc.communicate(timeout=60)
    assert "on 60,000 MNIST images (all there are: --limit 70,000 asks for more)" in line


# ------------------------------------------------------------------------ t105: save's messages
@pytest.mark.parametrize("dtype", [tg.float32, np.float64, np.dtype("int8")])
def test_save_names_a_dtype_as_the_user_wrote_it(tmp_path, dtype):
    with pytest.raises(TypeError, match=rf"save: obj\['d'\] is the dtype {np.dtype(dtype)}; "
                                        "checkpoints hold no dtypes"):
        tg.save({"d": dtype}, tmp_path / "d.npz")
    assert not (tmp_path / "d.npz").exists()


def test_save_of_a_container_that_holds_itself_says_why_first(tmp_path):
    c = []
    c.append(c)
    with pytest.raises(ValueError) as info:
        tg.save(c, tmp_path / "c.npz")
    message = str(info.value)
    assert message.startswith("save: obj is nested more than 64 containers deep (a container "
                              "that holds itself?), at obj[0][0][0] ... [0][0] (65 levels)")
    assert len(message) < 160


# ------------------------------------------------- t109: one first derivative, recorded or not
INF, NAN = float("inf"), float("nan")
SPECIAL_ROWS = [[2.0, INF, 3.0], [2.0, NAN, 3.0], [-INF, 2.0, 0.5], [INF, INF, 2.0],
                [1e-200, 1e-200, 1e300], [0.0, -0.942, NAN], [2.0, 0.0, INF, 3.0],
                [NAN, 0.0, 2.0], [1.0, 2.0, 0.0, NAN, 0.0], [0.0, 2.0, 3.0], [1.5, -2.0, 0.25]]


def _first(op, row, dtype, create_graph):
    x = tg.tensor(row, dtype=dtype, requires_grad=True)
    y = {"prod": lambda: x.prod(), "prod0": lambda: x.prod(0),
         "cumprod": lambda: x.cumprod(0).sum()}[op]()
    return tg.grad(y, x, create_graph=create_graph)[0].detach().numpy()


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
@pytest.mark.parametrize("op", ["prod", "prod0", "cumprod"])
@pytest.mark.parametrize("row", SPECIAL_ROWS, ids=str)
def test_prod_and_cumprod_first_derivative_does_not_depend_on_create_graph(op, row, dtype):
    """Recorded (create_graph=True), prod's VJP took the product of the others and cumprod's an
    O(n²) product formula: 6 for the inf of [2, inf, 3] where .backward() (and PyTorch) give NaN,
    finite values beside a NaN, 1e100 where the product underflowed."""
    plain = _first(op, row, dtype, False)
    np.testing.assert_array_equal(_first(op, row, dtype, True), plain)


@pytest.mark.parametrize("op", ["prod", "prod0", "cumprod"])
@pytest.mark.parametrize("row", SPECIAL_ROWS, ids=str)
def test_prod_and_cumprod_first_derivative_as_torch(op, row):
    torch = pytest.importorskip("torch")
    x = torch.tensor(row, dtype=torch.float64, requires_grad=True)
    y = {"prod": lambda: x.prod(), "prod0": lambda: x.prod(0),
         "cumprod": lambda: x.cumprod(0).sum()}[op]()
    theirs = torch.autograd.grad(y, x)[0].numpy()
    for create_graph in (False, True):
        np.testing.assert_allclose(_first(op, row, "float64", create_graph), theirs, rtol=1e-12,
                                   equal_nan=True)


def test_prod_and_cumprod_second_derivatives_stay_exact_beside_a_tiny_factor():
    """Why the recorded VJPs avoid dividing by x where values are regular: d²(prod)/dx0 dx1 of
    [1e-20, 3, 1] is 1 (x2); the graph of out / x cancels to 0."""
    for f in (lambda x: x.prod(), lambda x: x.cumprod(0)[-1]):
        x = tg.tensor([1e-20, 3.0, 1.0], dtype=tg.float64, requires_grad=True)
        g = tg.grad(f(x), x, create_graph=True)[0]
        h = tg.grad(g[0], x)[0].numpy()
        np.testing.assert_allclose(h, [0.0, 1.0, 3.0], rtol=1e-12)
    assert gradgradcheck(lambda x: x.cumprod(0), (tg.tensor([0.5, 0.0, 2.0, -1.5],
                                                             dtype=tg.float64, requires_grad=True),))


@pytest.mark.parametrize("dtype", ["float16", "float64"])
def test_kl_div_log_target_recorded_gradient_at_inf(dtype):
    """Recorded, kl_div(log_target=True) rebuilt x as t - (t - x): NaN where x or t is inf (the
    target's gradient there is -inf, as .backward() and PyTorch give)."""
    a = np.array([[0.5, np.inf, -np.inf], [0.1, 0.2, 0.3]], dtype)
    b = np.array([[0.3, -0.14, np.inf], [0.1, 0.2, 0.3]], dtype)
    grads = []
    for create_graph in (False, True):
        x, t = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
        loss = tg.nn.functional.kl_div(x, t, reduction="batchmean", log_target=True)
        grads.append([v.detach().numpy() for v in tg.grad(loss, [x, t], create_graph=create_graph)])
    for plain, recorded in zip(*grads):
        np.testing.assert_array_equal(recorded, plain)
    assert grads[0][1][0, 1] == -np.inf and grads[0][1][0, 2] == np.inf


def test_kl_div_log_target_second_derivative_after_an_in_place_change_of_x():
    """The recorded VJP reads t - x as the forward saw it: changing x afterwards changes nothing."""
    x0 = tg.tensor([0.2, -0.4, 0.1], dtype=tg.float64, requires_grad=True)
    t = tg.tensor([0.3, 0.1, -0.2], dtype=tg.float64, requires_grad=True)
    assert gradgradcheck(lambda x, t: tg.nn.functional.kl_div(x, t, reduction="sum",
                                                               log_target=True), (x0, t))


@pytest.mark.parametrize("equation, shape", [("i->i", (3,)), ("ij->ji", (2, 3)), ("->", ()),
                                             ("ii->i", (3, 3)), ("iij->ij", (2, 2, 3)),
                                             ("iii->i", (2, 2, 2)), ("jii->ij", (3, 2, 2)),
                                             ("...->...", (2, 3))])
def test_einsum_of_one_operand_without_sums_is_a_view_as_torch(equation, shape):
    """PyTorch's einsum returns a view for a permutation or a diagonal: an in-place change of the
    operand shows through it, and reaches the gradient (ours copied: [1, 1, 1] for [10, 10, 10])."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tg, torch):
        x = lib.arange(float(np.prod(shape)), dtype=lib.float64).reshape(shape)
        x.requires_grad_(True)
        h = x * 1
        e = lib.einsum(equation, h)
        h.mul_(10)
        (e * e).sum().backward()
        results.append((np.array(e.tolist()), x.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


# ------------------------------------------------------------ t108: threads and process state
def test_backward_of_two_threads_into_one_leaf_adds_one_at_a_time(monkeypatch):
    """PyTorch's AccumulateGrad holds a lock; ours did not: one thread's whole first gradient was
    lost (12 of 300 trials), and numpy's += (which lets go of the GIL) lost updates on a big leaf.
    Here each accumulation sleeps inside: without the lock both threads are in at once."""
    import threading
    import time

    from tinygrad_cnn import autograd

    inside = {"now": 0, "peak": 0}
    original = autograd._accumulate_leaf

    def slow(*args):
        inside["now"] += 1
        inside["peak"] = max(inside["peak"], inside["now"])
        try:
            time.sleep(0.02)
            original(*args)
        finally:
            inside["now"] -= 1

    monkeypatch.setattr(autograd, "_accumulate_leaf", slow)
    w = tg.tensor(np.zeros(3), requires_grad=True)
    barrier = threading.Barrier(2)

    def work(k):
        y = (w * float(k)).sum()
        barrier.wait()
        y.backward()

    threads = [threading.Thread(target=work, args=(k,)) for k in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert inside["peak"] == 1
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0, 3.0])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_child_forked_while_the_parent_holds_the_library_locks_does_not_hang():
    """A DataLoader worker forked while another thread of the parent ran a kernel hung for good on
    the copy of a lock that thread held (parallel's, workspace's, the leaf accumulation's)."""
    from tinygrad_cnn import autograd, blas, parallel, workspace

    locks = [parallel._lock, parallel._hold_lock, workspace._lock, blas._lock,
             autograd._ACCUMULATE_LOCK]
    for lock in locks:
        lock.acquire()
    try:
        pid = os.fork()
        if pid == 0:  # the child: a convolution big enough for the pool, its workspace and BLAS
            code = 1
            try:
                x = tg.randn(64, 4, 28, 28, requires_grad=True)
                tg.nn.functional.conv2d(x, tg.randn(16, 4, 3, 3)).sum().backward()
                code = 0 if x.grad is not None else 1
            finally:
                os._exit(code)
    finally:
        for lock in locks:
            lock.release()
    deadline = time.time() + 120
    while time.time() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail("the forked child hung on a lock the parent held when it forked")


def test_full_collections_come_back_when_the_recorded_graphs_are_freed():
    """Recording 32,768 ops without a backward defers Python's full collections; they stayed off
    after the graph was dropped (an evaluation loop without no_grad: cyclic garbage elsewhere
    grew 10x) until some later backward."""
    import gc

    if not gc.isenabled():
        pytest.skip("gc is off")
    before = gc.get_threshold()
    x = tg.tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(40_000):
        y = y * 1.0
    assert gc.get_threshold()[2] == 1 << 30  # deferred while the graph lives
    del x, y
    assert gc.get_threshold() == before


# ------------------------------------------------------------------ t110: the README's claims
@pytest.mark.parametrize("op, call", [
    ("fmax", lambda t: tg.fmax(t, [1.0])), ("fmin", lambda t: tg.fmin(t, [1.0])),
    ("matmul", lambda t: t @ [1.0, 2.0]), ("matmul", lambda t: t.matmul([1.0, 2.0])),
    ("floor_divide", lambda t: t // [1.0]),
])
def test_a_list_operand_error_names_the_op(op, call):
    """"Errors name the op": these said `operand: unsupported operand ...`."""
    with pytest.raises(TypeError, match=rf"^{op}: unsupported operand: a Tensor and a list"):
        call(tg.tensor([1.0, 2.0]))


def test_a_bad_hook_on_a_leaf_is_not_said_to_be_on_an_output():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: 3)
    with pytest.raises(TypeError, match=r"\(registered on a leaf tensor\) returned an int"):
        (x * 2).sum().backward()
    y = x * 2
    y.register_hook(lambda g: 3)
    with pytest.raises(TypeError, match=r"\(registered on the output of mul\) returned an int"):
        y.sum().backward()


def test_no_stray_files_at_the_top_of_the_tree():
    """A fuzz log (r_b.txt) was committed by accident; what the top of the tree holds is known."""
    root = Path(__file__).resolve().parents[1]
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    top = {p.split("/")[0] for p in tracked.stdout.split()}
    assert not {p for p in top if p.endswith((".txt", ".log"))}, top


# ------------------------------------------------------------ t111: the data API against PyTorch
class _GradItems(tg.data.Dataset):
    w = tg.ones(2, requires_grad=True)

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return self.w * i


class _GradStream(tg.data.IterableDataset):
    w = tg.ones(2, requires_grad=True)

    def __iter__(self):
        yield self.w * 2


@pytest.mark.parametrize("dataset, kw", [(_GradItems(), {"batch_size": 2}),
                                         (_GradItems(), {"batch_size": None}),
                                         (_GradStream(), {"batch_size": 1})])
def test_a_worker_refuses_samples_that_require_grad(dataset, kw):
    """The worker read the samples under no_grad: with num_workers=1 the batch came back detached,
    its gradients silently gone (PyTorch's worker raises)."""
    with pytest.raises(RuntimeError, match="a tensor with a graph.*cannot cross to the main process"):
        list(tg.data.DataLoader(dataset, num_workers=1, timeout=60, **kw))
    if kw["batch_size"] == 2:  # without workers the graph stays, as PyTorch's
        batch = next(iter(tg.data.DataLoader(dataset, **kw)))
        assert batch.requires_grad


def test_a_worker_still_batches_plain_tensors():
    class Plain(tg.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return tg.ones(2) * i, i

    batches = list(tg.data.DataLoader(Plain(), batch_size=2, num_workers=2, timeout=60))
    np.testing.assert_array_equal(batches[1][0].numpy(), [[2, 2], [3, 3]])
    np.testing.assert_array_equal(batches[1][1].numpy(), [2, 3])


def test_collate_errors_are_also_pytorchs_types():
    collate = tg.data.default_collate
    with pytest.raises(KeyError, match="has keys"):
        collate([{"a": 1}, {"b": 2}])
    with pytest.raises(RuntimeError):  # (ours before, still)
        collate([{"a": 1}, {"b": 2}])
    with pytest.raises(IndexError, match="a batch of 0 samples"):
        collate([])
    with pytest.raises(ValueError, match="does not fit int64"):
        collate([10**20, 1])
    with pytest.raises(TypeError, match="an array of dtype complex128, which tensors do not take"):
        collate([np.array([1j])] * 2)


@pytest.mark.parametrize("replacement", [True, False])
@pytest.mark.parametrize("num_samples", [2, 10**8])
def test_random_sampler_over_nothing_is_an_error(replacement, num_samples):
    """numpy's "high <= 0", a ZeroDivisionError, or (without replacement, past one block of
    keys) an endless loop."""
    sampler = tg.data.RandomSampler(range(0), replacement=replacement, num_samples=num_samples)
    with pytest.raises(RuntimeError, match="cannot draw .* keys from an empty data source"):
        next(iter(sampler))


def test_multiprocessing_context_is_checked_when_the_loader_is_made():
    import multiprocessing

    with pytest.raises(ValueError, match="can only be used with multi-process loading"):
        tg.data.DataLoader(range(4), multiprocessing_context="spawn")
    with pytest.raises(ValueError, match="should specify a valid start method"):
        tg.data.DataLoader(range(4), num_workers=1, multiprocessing_context="bogus")
    with pytest.raises(TypeError, match="should be a valid context object"):
        tg.data.DataLoader(range(4), num_workers=1, multiprocessing_context=3)
    loader = tg.data.DataLoader(range(4), num_workers=1, timeout=60,
                                multiprocessing_context=multiprocessing.get_context("fork"))
    assert [int(b) for b in loader] == [0, 1, 2, 3]


def test_prefetch_factor_reads_back_as_pytorchs():
    assert tg.data.DataLoader(range(4)).prefetch_factor is None
    assert tg.data.DataLoader(range(4), num_workers=2).prefetch_factor == 2
    assert tg.data.DataLoader(range(4), num_workers=2, prefetch_factor=3).prefetch_factor == 3


# ----------------------------------------------------------- t112: the Tensor's protocol surface
@pytest.mark.parametrize("shape, attr, says", [
    ((3,), "T", "The use of `x.T` on tensors of dimension other than 2"),
    ((2, 3, 4), "T", "The use of `x.T` on tensors of dimension other than 2"),
    ((), "T", "Tensor.T is deprecated on 0-D tensors"),
    ((), "mT", "Tensor.mT is deprecated on 0-D tensors"),
    ((), "H", "Tensor.H is deprecated on 0-D tensors"),
    ((), "mH", "Tensor.mH is deprecated on 0-D tensors"),
])
def test_deprecated_transposes_warn_as_pytorchs(shape, attr, says, monkeypatch):
    """Code clean here warned under PyTorch; mT and mH of a 0-d tensor raised here, where PyTorch
    gives it back with its warning (once per process, as PyTorch's)."""
    monkeypatch.setattr(sys.modules["tinygrad_cnn.tensor"], "_WARNED_TRANSPOSES", set())
    t = tg.zeros(shape)
    with pytest.warns(UserWarning, match=re.escape(says)):
        out = getattr(t, attr)
    assert out.shape == tuple(reversed(shape)) if attr == "T" else out.shape == shape
    import warnings

    with warnings.catch_warnings():  # (once: a second use is quiet)
        warnings.simplefilter("error")
        getattr(t, attr)


def test_transposes_of_matrices_do_not_warn():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = tg.zeros(2, 3)
        assert t.T.shape == t.mT.shape == t.H.shape == t.mH.shape == (3, 2)
        assert tg.zeros(2, 3, 4).mT.shape == (2, 4, 3)


def test_item_of_several_elements_is_pytorchs_runtime_error_and_still_a_value_error():
    t = tg.tensor([1.0, 2.0])
    for call in (t.item, lambda: float(t)):
        with pytest.raises(RuntimeError, match="only a one-element tensor"):
            call()
        with pytest.raises(ValueError):
            call()


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_non_finite_float_into_an_int_tensor_is_pytorchs_error(value):
    """NaN was "the list holds something that is not a number" (a TypeError)."""
    with pytest.raises(RuntimeError, match="cannot be converted to .*int64 without overflow"):
        tg.tensor([value], dtype=tg.int64)


def test_data_ptr_of_an_empty_tensor_is_zero():
    assert tg.zeros(0).data_ptr() == 0 == tg.zeros(2, 0).data_ptr()
    t = tg.zeros(3)
    assert t.data_ptr() != 0 and t[1:].data_ptr() == t.data_ptr() + 4


# ------------------------------------------------------------- t114: a user's autograd Function
class _K(tg.Function):
    @staticmethod
    def forward(ctx, x, w, scale=1.0):
        ctx.save_for_backward(x, w)
        ctx.scale = scale
        return x * w * scale

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return g * w * ctx.scale, g * x * ctx.scale


@pytest.mark.parametrize("call", [lambda x, w: _K.apply(x=x, w=w),
                                  lambda x, w: _K.apply(x, w=w),
                                  lambda x, w: _K.apply(x, w=w, scale=2.0),
                                  lambda x, w: _K.apply(x, scale=2.0, w=w),
                                  lambda x, w: _K.apply(x, w, scale=2.0)])
def test_a_tensor_passed_to_apply_by_keyword_is_an_input(call):
    """PyTorch binds apply's keywords to forward's parameters: K.apply(x=x, w=w) gave w no
    gradient and x only its other path's ([2, 4] for [5, 8])."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    w = tg.tensor([3.0, 4.0], requires_grad=True)
    out = call(x, w)
    scale = out.grad_fn.attrs.get("scale", 1.0)
    (out.sum() + (x * x).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.array([3.0, 4.0]) * scale + [2.0, 4.0])
    np.testing.assert_allclose(w.grad.numpy(), np.array([1.0, 2.0]) * scale)


def test_a_keyword_tensor_that_cannot_take_its_place_is_an_error():
    class Gap(tg.Function):
        @staticmethod
        def forward(ctx, x, k, w):
            return x * w

        @staticmethod
        def backward(ctx, g):
            return g, None, g

    x = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="passed as w= cannot be bound .* pass it positionally"):
        Gap.apply(x, w=tg.tensor([2.0], requires_grad=True))


@pytest.mark.parametrize("name", ["seq", "next", "fn", "out", "scope", "source", "hooks", "attrs"])
def test_a_ctx_attribute_the_engine_uses_is_refused(name):
    """ctx.seq = 2 came back in backward as the engine's counter (a zero gradient), ctx.next as
    the input tuple; others broke the graph with unrelated errors."""
    class S(tg.Function):
        @staticmethod
        def forward(ctx, x):
            setattr(ctx, name, 2.0)
            return x * 3

        @staticmethod
        def backward(ctx, g):
            return g * getattr(ctx, name)

    with pytest.raises(AttributeError, match=rf"S.forward set ctx.{name}, a name the engine"):
        S.apply(tg.tensor([1.0, 2.0], requires_grad=True))


def test_an_input_kept_as_a_ctx_attribute_warns_that_it_is_a_constant():
    """ctx.x = x keeps forward's numpy array: backward's 2 * ctx.x * g has no graph through x, and
    a second derivative silently lost its terms ([6, 12] for PyTorch's [8, 14])."""
    class A(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.x = x
            ctx.mask = x > 0  # (a derived array: no warning)
            return x * x

        @staticmethod
        def backward(ctx, g):
            return 2 * ctx.x * g

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match=r"keeps its input 0 as ctx.x: .*save_for_backward"):
        A.apply(x)


_WRITES = {
    "imul": lambda x: x.__imul__(2), "setitem": lambda x: x.__setitem__(slice(None), 5.0),
    "view_setitem": lambda x: x[:1].__setitem__(0, 7.0), "fill": lambda x: x.fill(0.0),
    "ufunc_out": lambda x: np.multiply(x, 2, out=x), "clip_out": lambda x: np.clip(x, 0, 1, out=x),
    "copyto": lambda x: np.copyto(x, 3.0), "add_at": lambda x: np.add.at(x, [0], 1.0),
    "put_along_axis": lambda x: np.put_along_axis(x, np.array([0]), 9.0, axis=0),
}


@pytest.mark.parametrize("write", list(_WRITES), ids=list(_WRITES))
def test_a_write_into_an_input_in_forward_is_an_in_place_change(write):
    """A forward that wrote into its input without mark_dirty left the tensor's version alone:
    an op that had saved it read the new values in backward ([6, 10] for [4, 6]); PyTorch's
    version counter catches it."""
    class B(tg.Function):
        @staticmethod
        def forward(ctx, x):
            _WRITES[write](x)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return 2 * g

    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    a = x * 1
    b = a * a  # (saves a)
    y = B.apply(a)
    assert a._version >= 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        (y.sum() + b.sum()).backward()


def test_reading_an_input_in_forward_changes_no_version():
    class R(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            y = np.exp(x) + x[1:].sum() + np.clip(x, 0, 1)  # (new arrays: writes into them are free)
            y[0] = 0.0
            return y

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.exp()

    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    a = x * 1
    b = a * a
    R.apply(a).sum().backward(retain_graph=True)
    assert a._version == 0
    (b.sum()).backward()



# ------------------------------------------------------------ t115: this session's changes, tried
@pytest.mark.parametrize("write", ["flat", "flat_assigned", "partition", "reshaped_partition"])
def test_writes_through_flat_and_partition_count_too(write):
    """x.flat[0] = 5 and x.partition(0) wrote into the input without a version bump: a saved
    tensor's backward read the new value (cos(5) for a gradient that should have raised)."""
    class F(tg.Function):
        @staticmethod
        def forward(ctx, a):
            if write == "flat":
                a.flat[0] = 5.0
            elif write == "flat_assigned":  # (x.flat = v: numpy's setter, not the iterator)
                a.flat = 0.0
            elif write == "partition":
                a.partition(0, axis=-1)
            else:
                a.reshape(-1).partition(0)
            return a.sum(keepdims=True) * 1.0

        @staticmethod
        def backward(ctx, g):
            return None

    base = tg.tensor(np.array([[1.0, -2.0], [3.0, 4.0]]), requires_grad=True)
    x = base * 1
    s = x.sin()
    F.apply(x)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        s.sum().backward()


def test_reading_through_flat_is_no_write():
    class F(tg.Function):
        @staticmethod
        def forward(ctx, a):
            return np.array([sum(a.flat), a.flat[1], len(a.flat)]) * 1.0

        @staticmethod
        def backward(ctx, g):
            return None

    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1
    np.testing.assert_array_equal(F.apply(x).numpy(), [6.0, 2.0, 3.0])
    assert x._version == 0


class _Numbered(tg.data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return tg.tensor([float(i), 1.0]), i


class _Leaves(tg.data.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return tg.tensor([float(i)], requires_grad=True)


def test_a_worker_refuses_a_collate_fn_that_builds_a_graph():
    w = tg.tensor([1.0, 2.0], requires_grad=True)

    def collate(batch):
        return tg.stack([sample[0] for sample in batch]) * w

    assert next(iter(tg.data.DataLoader(_Numbered(), batch_size=2, collate_fn=collate))) \
        .requires_grad
    with pytest.raises(RuntimeError, match="holds a tensor with a graph"):
        list(tg.data.DataLoader(_Numbered(), batch_size=2, num_workers=2, collate_fn=collate,
                                timeout=60))


@pytest.mark.parametrize("kw", [{"batch_size": None},
                                {"batch_size": 2, "collate_fn": lambda b: b}])
def test_leaves_that_require_grad_cross_from_a_worker_as_pytorchs(kw):
    """A leaf that requires grad pickles with its flag (PyTorch's [True, True]); the first worker
    check refused it with a message that said PyTorch does too."""
    out = list(tg.data.DataLoader(_Leaves(), num_workers=2, timeout=60, **kw))
    flat = [t for o in out for t in (o if isinstance(o, list) else [o])]
    assert [t.requires_grad for t in flat] == [True, True]
    with pytest.raises(RuntimeError, match="default_collate would stack"):
        list(tg.data.DataLoader(_Leaves(), batch_size=2, num_workers=2, timeout=60))


def test_setup_context_inputs_hold_defaults_and_keywords():
    """setup_context's inputs were the positional arrays alone: inputs[1] an IndexError for
    apply(x) of forward(x, scale=1.0); PyTorch gives (x, 1.0)."""
    class S(tg.Function):
        @staticmethod
        def forward(x, scale=1.0):
            return x * scale

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.scale = inputs[1]

        @staticmethod
        def backward(ctx, g):
            return g * ctx.scale, None

    for call, want in ((lambda x: S.apply(x), 1.0), (lambda x: S.apply(x, scale=3.0), 3.0),
                       (lambda x: S.apply(x, 3.0), 3.0)):
        x = tg.tensor([1.0, 2.0], requires_grad=True)
        call(x).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [want, want])


def test_an_index_kept_on_ctx_does_not_warn():
    import warnings

    class G(tg.Function):
        @staticmethod
        def forward(ctx, x, idx):
            ctx.idx = idx
            return x[idx]

        @staticmethod
        def backward(ctx, g):
            out = tg.zeros(3, dtype=g.dtype)
            out[ctx.idx] = g
            return out, None

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
        G.apply(x, tg.tensor([0, 2])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 1.0])


def test_ctx_special_set_by_hand_is_refused():
    class S(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.special = 3
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(AttributeError, match="set ctx.special"):
        S.apply(tg.tensor([1.0], requires_grad=True))
