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
