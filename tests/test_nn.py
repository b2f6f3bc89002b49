"""nn: modules, parameters and their names, state_dict, init, layers (BatchNorm included)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, gradcheck, gradgradcheck, nn
from tinygrad_cnn.models import LeNet5


def test_parameters_registered_by_attribute_and_named_by_path():
    m = LeNet5()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight",
                     "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]
    assert m.conv1.weight.name == "conv1.weight"
    assert sum(p.numel() for p in m.parameters()) == 61706
    assert [type(c).__name__ for c in m.children()] == ["Conv2d", "Conv2d", "Linear", "Linear",
                                                       "Linear"]
    assert len(list(m.modules())) == 6


def test_nested_names_come_from_the_root_that_is_called():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Sequential(nn.Flatten(), nn.Linear(8, 2)))
    net(Tensor(np.ones((1, 1, 4, 4), dtype=np.float32)))
    assert [p.name for p in net.parameters()] == ["0.weight", "0.bias", "2.1.weight", "2.1.bias"]


def test_user_given_parameter_names_are_kept():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(np.ones(2), name="my weight")

    m = M()
    list(m.named_parameters())
    assert m.w.name == "my weight"


def test_train_eval_zero_grad_and_repr():
    m = LeNet5()
    m.eval()
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    tg.nn.functional.cross_entropy(m(Tensor(np.zeros((2, 1, 28, 28), np.float32))),
                                   np.array([1, 2])).backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(float(abs(p.grad).sum().item()) == 0 for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    text = repr(m)
    assert "(conv1): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))" in text
    assert "(fc3): Linear(in_features=84, out_features=10, bias=True)" in text


def test_state_dict_round_trip_and_errors():
    a, b = LeNet5(), LeNet5()
    b.load_state_dict(a.state_dict())
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb
        np.testing.assert_array_equal(pa.numpy(), pb.numpy())
    state = a.state_dict()
    state["fc1.weight"] = Tensor(np.zeros((3, 3), np.float32))
    del state["fc3.bias"]
    state["extra.weight"] = Tensor(np.zeros(1))
    with pytest.raises(RuntimeError) as info:
        b.load_state_dict(state)
    msg = str(info.value)
    assert "fc1.weight: the checkpoint has shape (3, 3), the model (120, 400)" in msg
    assert "missing keys: fc3.bias" in msg and "unexpected keys: extra.weight" in msg
    before = b.fc2.weight.numpy().copy()
    np.testing.assert_array_equal(b.fc2.weight.numpy(), before)  # nothing changed
    state["fc1.weight"] = a.fc1.weight
    missing, unexpected = b.load_state_dict(state, strict=False)
    assert missing == ["fc3.bias"] and unexpected == ["extra.weight"]


def test_default_init_is_pytorchs_and_he_init_is_paddles_smart_init():
    tg.manual_seed(0)
    conv = nn.Conv2d(16, 32, 5)
    bound = 1 / math.sqrt(16 * 25)
    assert abs(conv.weight.numpy()).max() <= bound + 1e-7
    assert abs(conv.bias.numpy()).max() <= bound + 1e-7
    w = Tensor(np.zeros((256, 64, 3, 3), np.float32))
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    smart = math.sqrt(2.0 / (3 * 3 * 64))  # PaddlePaddle: (2 / (filter_size**2 * channels))**0.5
    assert abs(w.numpy().std() - smart) / smart < 0.02 and abs(w.numpy().mean()) < 0.01
    nn.init.kaiming_uniform_(w, nonlinearity="relu")
    assert abs(w.numpy()).max() <= math.sqrt(6 / (64 * 9)) + 1e-7
    nn.init.xavier_uniform_(w)
    assert abs(w.numpy()).max() <= math.sqrt(6 / (64 * 9 + 256 * 9)) + 1e-7
    nn.init.zeros_(w)
    assert not w.numpy().any()
    nn.init.uniform_(w, 2, 3)
    assert w.numpy().min() >= 2 and w.numpy().max() < 3


def test_manual_seed_makes_models_repeatable():
    tg.manual_seed(5)
    a = LeNet5()
    tg.manual_seed(5)
    b = LeNet5()
    np.testing.assert_array_equal(a.conv1.weight.numpy(), b.conv1.weight.numpy())


def test_layers_shapes_and_flags():
    x = Tensor(np.random.default_rng(0).standard_normal((2, 4, 8, 8)).astype(np.float32))
    assert nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=1, bias=False)(x).shape == (2, 6, 4, 9)
    assert nn.Conv2d(4, 4, 3, padding="same", groups=4)(x).shape == (2, 4, 8, 8)
    assert nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)(x).shape == \
        (2, 3, 16, 16)
    assert nn.MaxPool2d(2)(x).shape == (2, 4, 4, 4) and nn.AvgPool2d(3, 1, 1)(x).shape == x.shape
    assert nn.Flatten()(x).shape == (2, 256)
    for act in (nn.ReLU(), nn.LeakyReLU(0.2), nn.Sigmoid(), nn.Tanh(), nn.Softmax(1),
                nn.LogSoftmax(1)):
        assert act(x).shape == x.shape
    d = nn.Dropout(0.5)
    d.eval()
    assert d(x) is x
    assert nn.CrossEntropyLoss()(Tensor(np.ones((2, 3))), np.array([0, 1])).shape == ()
    assert nn.MSELoss(reduction="sum")(x, x).item() == 0


def test_batchnorm_train_eval_and_running_stats():
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((8, 3, 4, 4)) * 2 + 5
    bn = nn.BatchNorm2d(3)
    y = bn(Tensor(xs.astype(np.float32)))
    out = y.numpy()
    np.testing.assert_allclose(out.mean((0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.var((0, 2, 3)), 1, atol=1e-3)
    mean, var = xs.mean((0, 2, 3)), xs.var((0, 2, 3), ddof=1)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * var, rtol=1e-5)
    bn.eval()
    z = bn(Tensor(xs.astype(np.float32))).numpy()
    expected = (xs - bn.running_mean.numpy()[None, :, None, None]) / np.sqrt(
        bn.running_var.numpy()[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(z, expected, rtol=1e-4, atol=1e-5)
    assert "running_mean" in bn.state_dict() and bn.num_batches_tracked.item() == 1


def test_batchnorm_gradients():
    bn = nn.BatchNorm2d(2).double()
    x = Tensor(np.random.default_rng(0).standard_normal((3, 2, 2, 2)), requires_grad=True)
    assert gradcheck(lambda t: bn(t), x)
    assert gradgradcheck(lambda t: bn(t) * t, x)


def test_torch_parity_of_default_layers():
    torch = pytest.importorskip("torch")
    tg.manual_seed(0)
    ours = nn.BatchNorm2d(3)
    theirs = torch.nn.BatchNorm2d(3)
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(ours(Tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               atol=1e-5)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-5)
