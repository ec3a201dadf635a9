import os

import pytest
import torch

from baselines import KAN, MLP
from gmnm import count_parameters


def test_mlp_shape_and_count():
    mlp = MLP(2, 1, hidden=[30, 30], activation="tanh")
    assert count_parameters(mlp) == 30 * 30 + 5 * 30 + 1  # H^2 + 5H + 1
    assert mlp(torch.randn(4, 3, 2)).shape == (4, 3, 1)
    assert [type(m).__name__ for m in mlp.net] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]


@pytest.mark.parametrize(
    "args,activation,message",
    [
        ((0, 1, [3]), "relu", "MLP: in_features must be a positive integer, got 0"),
        ((2, 1, [0]), "relu", r"MLP: hidden must be positive integers, got \[0\]"),
        ((2, 1.5, [3]), "relu", "MLP: out_features must be a positive integer, got 1.5"),
        ((2, 1, [3]), "swish", "activation must be one of"),
    ],
)
def test_mlp_bad_arguments(args, activation, message):
    with pytest.raises(ValueError, match=message):
        MLP(*args, activation=activation)


def test_kan_writes_nothing_and_keeps_rng(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    kan = KAN(2, 1, hidden=[5], grid=5, seed=7)
    assert torch.equal(torch.rand(3), expected)  # pykan's internal reseeding is undone
    assert os.listdir(tmp_path) == []  # no ./model checkpoint folder
    y = kan(torch.rand(4, 6, 2) * 2 - 1)
    assert y.shape == (4, 6, 1)
    y.sum().backward()
    assert os.listdir(tmp_path) == []


def test_kan_counts_only_numerical_parameters():
    # per edge: grid + k spline coefficients, scale_base, scale_sp
    assert count_parameters(KAN(2, 1, hidden=[5, 5], grid=20, k=3)) == 40 * (20 + 3 + 2)
    assert count_parameters(KAN(1, 1, hidden=[5], grid=25, k=3)) == 10 * (25 + 3 + 2)


def test_kan_is_seeded():
    x = torch.rand(5, 2)
    torch.testing.assert_close(KAN(2, 1, [3], seed=1)(x), KAN(2, 1, [3], seed=1)(x))
    assert not torch.allclose(KAN(2, 1, [3], seed=1)(x), KAN(2, 1, [3], seed=2)(x))


def test_kan_float64():
    kan = KAN(2, 1, [3], dtype=torch.float64)
    assert kan(torch.rand(5, 2, dtype=torch.float64)).dtype == torch.float64


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"channels": []}, r"CNN: channels must give at least one block's width, got \[\]"),
        ({"channels": [8, 0]}, r"CNN: channels must be positive integers, got \[8, 0\]"),
        ({"hidden": 0}, "CNN: hidden must be a positive integer, got 0"),
        ({"n_classes": 1}, "CNN: n_classes must be at least 2, got 1"),
    ],
)
def test_cnn_bad_arguments(kwargs, message):
    from baselines.cnn import CNN

    with pytest.raises(ValueError, match=message):
        CNN(**{"in_channels": 1, "image_size": 28, "n_classes": 10, **kwargs})
