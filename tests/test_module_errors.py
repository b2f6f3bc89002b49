"""An error raised by an op inside a Module names the module's path and class and the user's line
(``in `features.3` (Conv2d), at train.py:42 in main``) -- once, from the innermost module."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from tinygrad_cnn import AnomalyError, Tensor, detect_anomaly, nn, no_grad
from tinygrad_cnn.models import LeNet5

HERE = os.path.basename(__file__)


def test_an_op_error_names_the_innermost_module_and_the_calling_line():
    features = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(3, 2, 3))
    x = Tensor(np.ones((1, 1, 8, 8), np.float32))
    with pytest.raises(ValueError) as info:
        line = sys._getframe().f_lineno + 1
        features(x)
    msg = str(info.value)
    assert msg.startswith("conv2d: the input has 4 channels")
    assert msg.endswith(f"(in `2` (Conv2d), at {HERE}:{line} in "
                        "test_an_op_error_names_the_innermost_module_and_the_calling_line)")
    assert msg.count("(in `") == 1  # the outer Sequential adds nothing
    # in the message itself (not only a note, which Python 3.10 lacks and str() omits)
    assert not getattr(info.value, "__notes__", None)


def test_a_package_model_points_at_the_users_call():
    with pytest.raises(ValueError, match=rf"\(in `conv1` \(Conv2d\), at {HERE}:\d+ in test_a_pa"):
        LeNet5()(Tensor(np.ones((1, 3, 28, 28), np.float32)))


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        h = self.fc(x)
        return h @ x  # (N, 2) @ (N, 3): the wrong shapes, on this line


def test_an_error_in_a_users_forward_names_the_line_in_that_forward():
    with pytest.raises(ValueError) as info:
        Net()(Tensor(np.ones((4, 3), np.float32)))
    line = Net.forward.__code__.co_firstlineno + 2
    assert str(info.value).endswith(f"(in the model (Net), at {HERE}:{line} in forward)")
    assert str(info.value).startswith("matmul")


def test_user_exceptions_keep_their_message_and_get_a_note():
    class Broken(nn.Module):
        def forward(self, x):
            raise KeyError("mine")

    outer = nn.Sequential(Broken())
    with pytest.raises(KeyError) as info:
        outer(Tensor(np.ones(2)))
    assert str(info.value) == "'mine'"  # not ours: the message stays as raised
    notes = getattr(info.value, "__notes__", [])
    if sys.version_info >= (3, 11):
        assert notes == [f"in `0` (Broken), at {HERE}:{Broken.forward.__code__.co_firstlineno + 1}"
                         " in forward"]


def test_anomaly_inside_a_module_is_named_once():
    class LogLayer(nn.Module):
        def forward(self, x):
            return x.log()

    model = nn.Sequential(nn.Linear(2, 2), LogLayer())
    with no_grad():
        model[0].weight.fill_(-1.0)
        model[0].bias.fill_(0.0)
    with detect_anomaly(), pytest.raises(AnomalyError) as info, np.errstate(invalid="ignore"):
        model(Tensor(np.array([[5.0, 5.0]], np.float32)))  # log(-10)
    msg = str(info.value)
    assert "forward of log made NaN" in msg and "`1`" in msg
    assert msg.count("`1`") == 1
