"""The time-series experiment (§5.3): Eq. 5 by hand, windows, split, the LSTM heads, a run."""

import math

import pytest
import torch
from conftest import run_report

from baselines import LSTMRegressor
from experiments.harness.store import ResultStore
from experiments.timeseries.data import target, windows
from experiments.timeseries.task import TimeSeriesTask
from gmnm import GMNM, count_parameters

A = torch.tensor([1.0, 0.5, 2.0, 1.5], dtype=torch.float64)
B = torch.tensor([0.1, -0.2, 0.3, 0.0], dtype=torch.float64)


def x(i, t):  # x_i(t) = a_i sin t + b_i, written out
    return A[i - 1].item() * math.sin(t) + B[i - 1].item()


@pytest.mark.parametrize("delays", [(1.0, 5.0, 1.0, 2.0), (0.1, 0.5, 0.1, 0.2)])
def test_eq5_by_hand(delays):
    d1, d2, d3, d4 = delays
    t = 7.3
    expected = x(3, t) * x(4, t - d1) - x(3, t - d2) * x(1, t - d3) + x(4, t) * x(3, t) - x(2, t - d2) * x(1, t - d4)
    assert target(torch.tensor([t], dtype=torch.float64), A, B, delays).item() == pytest.approx(expected, rel=1e-12)


def test_windows_end_at_the_target_time():
    inputs, y = windows(50, 10, (0.5, 100.0), A, B, (1.0, 5.0, 1.0, 2.0))
    assert inputs.shape == (50, 10, 4) and y.shape == (50, 1)
    t = torch.linspace(0.5, 100.0, 59, dtype=torch.float64)
    k = 17  # sample k's window is grid points k..k+9, its target y(t_{k+9})
    assert inputs[k, -1, 2].item() == pytest.approx(x(3, t[k + 9].item()), rel=1e-12)
    assert inputs[k, 0, 0].item() == pytest.approx(x(1, t[k].item()), rel=1e-12)
    assert y[k, 0].item() == pytest.approx(target(t[k + 9 : k + 10], A, B, (1.0, 5.0, 1.0, 2.0)).item())


def test_chronological_split_and_seeding():
    task = TimeSeriesTask(n_samples=100, data_seed=4)
    task.setup(torch.device("cpu"), torch.float64)
    (xtr, ytr), (xte, _) = task.train_set, task.test_set
    assert len(xtr) == 80 and len(xte) == 20
    # the test windows come after the training ones in time: the first test window is the
    # last training window shifted by one step
    assert torch.equal(xte[0, :-1], xtr[-1, 1:])
    again = TimeSeriesTask(n_samples=100, data_seed=4)
    again.setup(torch.device("cpu"), torch.float64)
    assert torch.equal(again.train_set[1], ytr)
    other = TimeSeriesTask(n_samples=100, data_seed=5)
    other.setup(torch.device("cpu"), torch.float64)
    assert not torch.equal(other.train_set[1], ytr)
    assert task.steps_per_epoch(32) == 3 and task.steps_per_epoch(None) == 1


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"split": "blocked"}, "split must be one of"),
        ({"train_fraction": 1.0}, "train_fraction must be in"),
        ({"delays": (1.0, 2.0)}, "delays must be four numbers"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TimeSeriesTask(**kwargs)


def test_lstm_heads():
    plain = LSTMRegressor(4, 3)
    assert count_parameters(plain) == 4 * 3 * (4 + 3 + 2) + 3 + 1
    head = GMNM(3, 1, 100, trainable_mu=False, bias=True)
    with_gmnm = LSTMRegressor(4, 3, head=head)
    assert count_parameters(with_gmnm) == 4 * 3 * (4 + 3 + 2) + 300 + 100 + 1
    seq = torch.randn(5, 10, 4)
    assert plain(seq).shape == (5, 1) and with_gmnm(seq).shape == (5, 1)
    # the head sees the LSTM's last hidden state
    out, _ = with_gmnm.lstm(seq)
    torch.testing.assert_close(with_gmnm(seq), head(out[:, -1]))


@pytest.mark.parametrize("model", ["lstm3", "lstm3_gmnm", "lstm32"])
def test_smoke_trial_counts_epochs(compose_cfg, model):
    from experiments.harness.runner import run_trial

    record = run_trial(compose_cfg("experiment=timeseries", f"model={model}", "profile=smoke", "trainer.epochs=2"))
    assert record["status"] == "complete"
    assert [row["step"] for row in record["history"]] == [0, 5, 10]  # 160 train samples / 32 = 5 per epoch
    assert record["config"]["task"]["delays"] == [1.0, 5.0, 1.0, 2.0]


def test_table6_report(compose_cfg, tmp_path):
    from experiments.harness.runner import run_trial
    from experiments.harness.tableio import read_rows

    for model in ("lstm3", "lstm3_gmnm", "lstm32"):
        for seed in (0, 1):
            run_trial(compose_cfg("experiment=timeseries", f"model={model}", "profile=smoke", f"seed={seed}"))
    out = tmp_path / "out"
    assert run_report(tmp_path / "store", out) == 0
    rows = read_rows(out / "tables" / "timeseries_table6_smoke.csv")
    assert [r["model"] for r in rows] == ["lstm3", "lstm3_gmnm", "lstm32"]
    gmnm = rows[1]
    assert (gmnm["paper_train_mse"], gmnm["paper_test_mse"], gmnm["n_seeds"]) == ("4e-5", "2e-5", "2")
    finals = sorted(
        r["summary"]["final_test_mse"] for r in ResultStore(tmp_path / "store").records() if r["model"] == "lstm3_gmnm"
    )
    for column, expected in (("min", finals[0]), ("max", finals[1]), ("median", sum(finals) / 2)):
        assert float(gmnm[f"final_test_mse_{column}"]) == pytest.approx(expected, rel=1e-5)  # 6 digits in the CSV
    assert (out / "figures" / "timeseries_smoke.png").read_bytes()[:4] == b"\x89PNG"
