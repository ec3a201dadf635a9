"""The RBF network baseline against a float64 hand-written loop; sizing to a budget; training in fitting."""

import math

import pytest
import torch

from baselines.rbf import RBFNetwork
from gmnm import count_parameters

pytestmark = pytest.mark.usefixtures("float64")


@torch.no_grad()
def reference(net: RBFNetwork, x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros(x.shape[0], net.out_features)
    for n in range(x.shape[0]):
        for i in range(net.n_components):
            dist_sq = sum(float(x[n, k] - net.mu[i, k]) ** 2 for k in range(net.in_features))
            phi = math.exp(-dist_sq * float(net.scale[i]) ** 2 / 2)  # exp(-||x - c||^2 / (2 s^2)), 1/s = scale
            for j in range(net.out_features):
                out[n, j] += float(net.head.weight[j, i]) * phi
        out[n] += net.head.bias
    return out


def test_matches_reference():
    torch.manual_seed(0)
    net = RBFNetwork(3, 2, 6, sigma_init=0.8)
    with torch.no_grad():
        net.scale.add_(0.2 * torch.randn_like(net.scale))
    x = torch.randn(5, 3)
    torch.testing.assert_close(net(x), reference(net, x), rtol=1e-12, atol=1e-12)
    assert net(x.reshape(5, 1, 3)).shape == (5, 1, 2)  # leading dimensions are kept


def test_counts_and_budget_sizing():
    assert count_parameters(RBFNetwork(2, 1, 10)) == 10 * (2 + 1 + 1) + 1
    assert RBFNetwork(2, 1, budget=1000).n_components == 249  # 249 x 4 + 1 = 997 <= 1,000
    assert RBFNetwork(2, 1, 7, budget=1000).n_components == 7  # an explicit size wins
    with pytest.raises(ValueError, match="n_components must be a positive integer"):
        RBFNetwork(2, 1, budget=3)
    with pytest.raises(ValueError, match="mu_range"):
        RBFNetwork(2, 1, 4, mu_range=(1.0, 1.0))


def test_every_parameter_trains():
    torch.manual_seed(0)
    net = RBFNetwork(2, 1, 8)
    net(torch.randn(16, 2)).square().sum().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name


def test_fits_in_the_fitting_experiment(compose_cfg):
    from experiments.harness.runner import run_trial

    record = run_trial(compose_cfg("experiment=fit2d", "model=rbf", "profile=smoke", "trainer.steps=50"))
    assert record["summary"]["n_params"] == 997  # fit2d's budget of 1,000
    assert record["history"][-1]["train_mse"] < record["history"][0]["train_mse"]
