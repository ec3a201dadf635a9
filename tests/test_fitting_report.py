"""Fig. 2's tables (experiments/fitting/report.py) on hand-made records."""

import math

import pandas as pd
import pytest
from conftest import fake

from experiments.fitting.report import summary_table, winner_table


def test_summary_and_winners():
    records = [
        fake("gmnm", 1, 0, 1.0),
        fake("gmnm", 1, 1, 3.0),
        fake("mlp_relu", 1, 0, 100.0),
        fake("mlp_relu", 1, 1, 1e9, status="diverged"),
        fake("kan", 1, 0, 0.5),
    ]
    rows = summary_table(records)
    ranked = rows[rows["metric"] == "final_test_mse"].set_index("model")
    gmnm = ranked.loc["gmnm"]
    assert (gmnm["mean"], gmnm["std"], gmnm["n_seeds"], gmnm["rank"]) == (2.0, math.sqrt(2), 2, 2)
    assert (gmnm["a"], gmnm["b"], gmnm["c"], gmnm["protocol"]) == (5.0, 0.0, 0.0, "paper")
    mlp = ranked.loc["mlp_relu"]
    assert (mlp["mean"], mlp["n_diverged"], mlp["rank"]) == (100.0, 1, 3)  # diverged seed excluded
    assert list(ranked.index) == ["gmnm", "kan", "mlp_relu"]  # lineup order
    claims = pd.DataFrame([{"experiment": "fit2d", "claim": "best_model", "value": "gmnm"}])
    [win] = winner_table(rows, claims).to_dict("records")
    assert win["ours_best_model"] == "kan" and win["paper_best_model"] == "gmnm"
    assert win["agrees_with_paper"] is False
    assert win["log10_best_mlp_over_gmnm"] == pytest.approx(math.log10(100.0 / 2.0))


def test_the_fitting_figure_says_what_its_lines_are(monkeypatch):
    """Labelled axes, the line and band named in each title, runs counted in the legend, and each model its own
    line style (GMNM and the RBF network overlap at some levels)."""
    from experiments.fitting import report

    monkeypatch.setattr(report, "_plot_target", lambda ax, task: None)  # the target panel needs a real task
    figure = report.figure

    records = [fake(m, 1, s, t) for m, t in (("gmnm", 1.0), ("kan", 1.1), ("mlp_relu", 5.0)) for s in (0, 1)]
    fig = figure(records)
    _, train, test = fig.axes[:3]
    for ax, split in ((train, "train"), (test, "test")):
        assert ax.get_ylabel() == f"{split} MSE (log scale)" and ax.get_xlabel() == "step"
        assert ax.get_title() == f"level 1: {split} MSE (as written)"
        assert len({line.get_linestyle() for line in ax.lines}) == 3
    legend = test.get_legend()
    assert legend.get_title().get_text() == "line: mean over runs\nband: min to max"
    assert all(t.get_text().endswith("2 runs)") for t in legend.get_texts())
