"""The §4.1 targets at points worked out by hand."""

import math

import pytest
import torch

from experiments.fitting.targets import covariance, target_1d, target_2d
from experiments.fitting.task import FitTask

X = torch.tensor([[0.5, 0.5], [-3.0, 2.5], [0.0, 0.0]], dtype=torch.float64)


def gauss2d_at_zero(det):
    return 1 / (2 * math.pi * math.sqrt(det))


def test_level0_is_the_sine_product():
    t = target_2d(X, 0, 0, 0)
    torch.testing.assert_close(
        t, torch.tensor([1.0, -math.sin(3 * math.pi) * math.sin(2.5 * math.pi), 0.0], dtype=torch.float64)
    )


def test_levels_add_their_terms():
    s = 2 * math.sinh(0.5)
    assert target_2d(X[:1], 5, 0, 0).item() == pytest.approx(1 - 5 * s)
    # (-3, 2.5) is inside U's support: + b / 1.5
    base = target_2d(X[1:2], 5, 0, 0).item()
    assert target_2d(X[1:2], 5, 0.1, 0).item() == pytest.approx(base + 0.1 / 1.5)
    assert target_2d(X[:1], 5, 0.1, 0).item() == pytest.approx(1 - 5 * s)  # outside U
    # at the origin only the Gaussian is left: c N(0; 0, Sigma) with det(Sigma) = 0.6*3.9 - 1.1^2
    assert target_2d(X[2:], 5, 0.1, 40).item() == pytest.approx(40 * gauss2d_at_zero(0.6 * 3.9 - 1.1**2))


def test_sigma_readings():
    lower = covariance("lower")
    assert torch.equal(lower, lower.T) and bool((torch.linalg.eigvalsh(lower) > 0).all())
    literal = covariance("literal")
    assert literal[0, 1] == 2.0 and literal[1, 0] == 1.1
    assert target_2d(X[2:], 0, 0, 1, sigma="literal").item() == pytest.approx(gauss2d_at_zero(0.6 * 3.9 - 2.2))
    with pytest.raises(ValueError, match="sigma must be 'lower' or 'literal'"):
        covariance("mean")


def test_1d_analogue():
    x = torch.tensor([[0.5], [-3.0], [0.0]], dtype=torch.float64)
    t = target_1d(x, 5, 0.1, 40)
    assert t[0].item() == pytest.approx(1 - 5 * math.sinh(0.5) + 40 * math.exp(-0.25 / 1.2) / math.sqrt(1.2 * math.pi))
    assert t[1].item() == pytest.approx(
        -5 * math.sinh(-3.0) + 0.1 / 1.5 + 40 * math.exp(-9 / 1.2) / math.sqrt(1.2 * math.pi), abs=1e-12
    )
    assert t[2].item() == pytest.approx(40 / math.sqrt(1.2 * math.pi))


def test_task_data_is_seeded_scaled_and_standardized():
    task = FitTask(dim=2, level=3, n_train=500, n_test=300, data_seed=3)
    task.setup(torch.device("cpu"), torch.float64)
    x, y = task.train_set
    assert x.shape == (500, 2) and y.shape == (500, 1)
    assert x.min() >= -1 and x.max() <= 1  # the [-4, 4] box mapped to [-1, 1]
    assert abs(y.mean().item()) < 1e-12 and y.std().item() == pytest.approx(1.0)
    other = FitTask(dim=2, level=3, n_train=500, n_test=300, data_seed=3)
    other.setup(torch.device("cpu"), torch.float64)
    assert torch.equal(other.train_set[0], x)
    assert not torch.equal(task.test_set[0][:300], x[:300])  # test drawn independently


def test_task_metrics_are_in_target_units():
    task = FitTask(dim=1, level=1, n_train=200, n_test=200)
    task.setup(torch.device("cpu"), torch.float64)
    zero = torch.nn.Module()
    zero.forward = lambda x: torch.zeros(x.shape[0], 1, dtype=x.dtype)  # predicts the train mean
    m = task.evaluate(zero)
    assert m["train_mse"] == pytest.approx(task.y_var * (199 / 200))  # population variance
    assert m["train_nmse"] == pytest.approx(199 / 200)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"dim": 3, "level": 0}, "dim must be 1 or 2"),
        ({"dim": 2, "level": 4}, "level must be 0..3"),
        ({"dim": 2, "level": 0, "domain": (1, 1)}, "high > low"),
    ],
)
def test_task_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FitTask(**kwargs)
