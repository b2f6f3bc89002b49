"""Regressions found by the outside testers of the twentieth session (each was a difference from
PyTorch 2.13 found by a reproduction; PyTorch is the oracle where it is installed)."""
import numpy as np
import pytest

import tinygrad_cnn as tg


@pytest.mark.parametrize("beta,alpha", [(2, 1), (1, 2), (0, 1), (1, 0), (0, 0), (-1, 1),
                                        (True, False), (False, True)])
def test_addr_of_bool_tensors_reads_its_scalars_as_truth_values(beta, alpha):
    torch = pytest.importorskip("torch")
    m, v = np.array([[True, False], [False, False]]), np.array([True, False])
    ours = tg.addr(tg.tensor(m), tg.tensor(v), tg.tensor(v), beta=beta, alpha=alpha)
    theirs = torch.addr(torch.tensor(m), torch.tensor(v), torch.tensor(v), beta=beta, alpha=alpha)
    assert ours.dtype == tg.bool
    assert ours.numpy().tolist() == theirs.numpy().tolist()


@pytest.mark.parametrize("dtype", ["int64", "float32"])
@pytest.mark.parametrize("name", ["beta", "alpha"])
def test_addr_refuses_a_bool_factor_unless_the_result_is_bool(name, dtype):
    m, v = tg.ones(2, 2).to(getattr(tg, dtype)), tg.tensor([1, 2]).to(getattr(tg, dtype))
    with pytest.raises(RuntimeError, match=f"addr: Boolean {name} only supported for Boolean"):
        tg.addr(m, v, v, **{name: True})


def test_broadcast_shapes_reads_a_bool_length_as_an_int_as_pytorch():
    assert tg.broadcast_shapes((True,), (2,)) == (2,)
    assert tg.broadcast_shapes((False, 3), (1, 3)) == (0, 3)


_DATA = str(__import__("pathlib").Path(__file__).resolve().parents[1] / "data" / "mnist")


def test_resume_keeps_the_checkpoints_device_unless_device_is_given(tmp_path, capsys):
    """(was: --device fell back to cpu on resume while every other setting left out came from
    the checkpoint; a run trained on the GPU went on on the CPU without a word)"""
    from tinygrad_cnn import cli
    from tinygrad_cnn.backend import DeviceUnavailableError, get_module

    ck = tmp_path / "dev.npz"
    assert cli.main(["train", "--limit", "64", "--epochs", "1", "--data-dir", _DATA, "--out",
                     str(ck)]) == 0
    assert tg.load(ck)["config"]["device"] == "cpu"
    state = tg.load(ck)
    state["config"]["device"] = "cuda"
    tg.save(state, ck)
    capsys.readouterr()
    try:
        get_module("cuda")
    except DeviceUnavailableError:
        with pytest.raises(SystemExit) as exc:
            cli.main(["train", "--resume", str(ck), "--epochs", "2"])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert f"argument --resume: {ck} was trained on cuda, which is not available here; " \
               "pass --device cpu to continue it on the CPU" in err
    assert cli.main(["train", "--resume", str(ck), "--epochs", "2", "--device", "cpu"]) == 0
    assert "changed on resume: --device cuda -> cpu" in capsys.readouterr().out
    assert tg.load(ck)["config"]["device"] == "cpu" and tg.load(ck)["epoch"] == 2
    state = tg.load(ck)
    state["config"]["device"] = "tpu"
    tg.save(state, ck)
    with pytest.raises(SystemExit):
        cli.main(["train", "--resume", str(ck), "--epochs", "3"])
    assert "has device='tpu' in its config, which is not a valid setting" in capsys.readouterr().err
