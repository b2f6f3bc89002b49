"""tinygrad_cnn.Generator: PyTorch's torch.Generator API (its own stream, passed as
``generator=``), the default generator's functions, and what a torch.Generator gets here."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.data import DataLoader, RandomSampler, random_split


def test_generator_api_as_torchs():
    torch = pytest.importorskip("torch")
    ours, theirs = tg.Generator(), torch.Generator()
    assert ours.initial_seed() == theirs.initial_seed()  # a new generator's fixed seed
    assert ours.device == "cpu" and str(theirs.device) == "cpu"
    assert ours.manual_seed(7) is ours and ours.initial_seed() == 7
    assert ours.manual_seed(-1).initial_seed() == theirs.manual_seed(-1).initial_seed()
    with pytest.raises(RuntimeError, match="manual_seed expected an int"):
        ours.manual_seed(1.5)
    with pytest.raises(ValueError):
        ours.manual_seed(2**64)
    s = ours.seed()
    assert s == ours.initial_seed() and s >= 0


def test_same_seed_same_draws_and_the_default_generator_is_left_alone():
    tg.manual_seed(0)
    before = tg.get_rng_state()
    a = tg.randn(3, generator=tg.Generator().manual_seed(5))
    b = tg.randn(3, generator=tg.Generator().manual_seed(5))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    after = tg.get_rng_state()
    np.testing.assert_array_equal(before.numpy(), after.numpy())  # not drawn from
    g = tg.Generator().manual_seed(5)
    c, d = tg.randn(3, generator=g), tg.randn(3, generator=g)  # it advances
    np.testing.assert_array_equal(c.numpy(), a.numpy())
    assert not np.array_equal(c.numpy(), d.numpy())


@pytest.mark.parametrize("draw", [
    lambda g: tg.rand(4, generator=g),
    lambda g: tg.randn(2, 2, generator=g),
    lambda g: tg.randint(0, 10, (5,), generator=g),
    lambda g: tg.randperm(6, generator=g),
    lambda g: tg.zeros(5).normal_(generator=g),
    lambda g: tg.zeros(5).uniform_(-1, 1, generator=g),
    lambda g: tg.full((5,), 0.5).bernoulli(generator=g),
    lambda g: tg.bernoulli(tg.full((5,), 0.5), generator=g),
    lambda g: tg.zeros(5).bernoulli_(0.3, generator=g),
    lambda g: tg.nn.init.kaiming_uniform_(tg.zeros(3, 4), generator=g),
    lambda g: tg.nn.init.xavier_normal_(tg.zeros(3, 4), generator=g),
    lambda g: tg.nn.init.trunc_normal_(tg.zeros(3, 4), generator=g),
    lambda g: tg.nn.init.orthogonal_(tg.zeros(3, 4), generator=g),
])
def test_every_random_function_draws_from_the_generator_given(draw):
    a = draw(tg.Generator().manual_seed(3)).numpy()
    b = draw(tg.Generator().manual_seed(3)).numpy()
    c = draw(tg.Generator().manual_seed(4)).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_state_round_trip_and_the_default_generators_functions():
    g = tg.Generator().manual_seed(11)
    state = g.get_state()
    assert state.dtype == np.uint8 and state.ndim == 1
    first = tg.rand(3, generator=g).numpy()
    assert g.set_state(state) is g
    np.testing.assert_array_equal(tg.rand(3, generator=g).numpy(), first)
    assert g.initial_seed() == 11
    tg.manual_seed(9)
    assert tg.initial_seed() == 9 and tg.default_generator.initial_seed() == 9
    saved = tg.get_rng_state()
    x = tg.randn(4).numpy()
    tg.set_rng_state(saved)
    np.testing.assert_array_equal(tg.randn(4).numpy(), x)
    with pytest.raises(RuntimeError, match="set_state"):
        g.set_state(tg.tensor([1, 2, 3], dtype=tg.uint8))


def test_data_utilities_take_a_generator_as_in_ported_code():
    parts = random_split(range(10), [0.8, 0.2], generator=tg.Generator().manual_seed(42))
    again = random_split(range(10), [0.8, 0.2], generator=tg.Generator().manual_seed(42))
    assert [list(p) for p in parts] == [list(p) for p in again]
    order = list(RandomSampler(range(8), generator=tg.Generator().manual_seed(1)))
    assert sorted(order) == list(range(8))
    assert order == list(RandomSampler(range(8), generator=tg.Generator().manual_seed(1)))
    loader = DataLoader(tg.data.TensorDataset(tg.arange(6)), batch_size=6, shuffle=True,
                        generator=tg.Generator().manual_seed(2))
    (batch,) = next(iter(loader))
    assert sorted(batch.tolist()) == list(range(6))


def test_a_torch_generator_gets_a_clear_error():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="tinygrad_cnn.Generator"):
        random_split(range(4), [2, 2], generator=torch.Generator().manual_seed(0))


def test_reseeding_or_restoring_a_generator_counts_for_the_samplers_and_loaders_holding_it():
    """As with PyTorch's: a sampler or DataLoader keeps the Generator object, not the stream it
    had when built (found by an outside tester: reseeding each epoch left the orders running on)."""
    torch = pytest.importorskip("torch")
    g, tg_ = tg.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    ours = DataLoader(list(range(6)), batch_size=6, shuffle=True, generator=g)
    theirs = torch.utils.data.DataLoader(list(range(6)), batch_size=6, shuffle=True,
                                         generator=tg_)
    for loader, gen in ((ours, g), (theirs, tg_)):
        orders = []
        for _ in range(3):
            gen.manual_seed(123)
            orders.append(next(b.tolist() for b in loader))
        assert orders[0] == orders[1] == orders[2]
    for make in (lambda g: RandomSampler(range(6), generator=g),
                 lambda g: tg.data.SubsetRandomSampler(list(range(6)), generator=g),
                 lambda g: tg.data.WeightedRandomSampler([1.0, 2.0, 3.0], 5, generator=g)):
        sampler = make(g)
        state = g.get_state()
        first = list(sampler)
        g.set_state(state)
        assert list(sampler) == first


def test_states_have_one_length_and_clone_state_continues_the_stream():
    g = tg.Generator().manual_seed(1)
    s0 = g.get_state()
    tg.rand(5, generator=g)
    s1 = g.get_state()
    assert s0.shape == s1.shape and bool((s0 != s1).any())
    twin = g.clone_state()
    np.testing.assert_array_equal(tg.rand(3, generator=twin).numpy(),
                                  tg.rand(3, generator=g).numpy())
    with pytest.raises(TypeError, match="uint8 tensor"):
        g.set_state([1, 2, 3])


@pytest.mark.parametrize("fill", [
    lambda t: tg.nn.init.uniform_(t, 0, 100),
    lambda t: tg.nn.init.normal_(t),
    lambda t: tg.nn.init.sparse_(t, 0.5),
    lambda t: tg.nn.init.kaiming_normal_(t),
])
def test_random_inits_refuse_integer_tensors_as_pytorch(fill):
    """PyTorch's kernels refuse them ("not implemented for 'Long'"); the values were cut to
    integers (found by an outside tester)."""
    with pytest.raises(NotImplementedError, match="floating"):
        fill(tg.zeros(4, 3, dtype=tg.int64))
