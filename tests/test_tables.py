"""The toolkit family reports are written with (experiments/harness/records.py, summary.py, tableio.py, family.py), on hand-made inputs."""

import math

import pandas as pd
import pytest
from conftest import fake

from experiments.harness.summary import curve_band, describe
from experiments.harness.tableio import read_rows, write_csv


def test_describe():
    d = describe([1.0, 2.0, 3.0, math.nan, None])
    assert (d["mean"], d["std"], d["median"], d["min"], d["max"], d["n"]) == (2.0, 1.0, 2.0, 1.0, 3.0, 3)
    assert math.isnan(describe([5.0])["std"]) and describe([])["n"] == 0  # one value has no spread to estimate


def test_curve_band_keeps_common_steps():
    band = curve_band([fake("gmnm", 0, 0, 1.0), fake("gmnm", 0, 1, 2.0, steps=(0, 10))], "test_mse")
    assert band["step"].tolist() == [0, 10]
    assert band["mean"].tolist() == [4.5, 3.0] and band["low"].tolist() == [3.0, 2.0]
    assert band["high"].tolist() == [6.0, 4.0]


def test_write_csv_has_a_header(tmp_path):
    path = write_csv(tmp_path / "t.csv", [{"a": 1, "b": 0.5, "c": 2813167}, {"a": 2, "b": None, "c": None}])
    # 6 significant digits, but a count in full even where its column also holds a gap (a float to pandas)
    assert path.read_text().splitlines() == ["a,b,c", "1,0.5,2813167", "2,,"]
    assert read_rows(path) == [{"a": "1", "b": "0.5", "c": "2813167"}, {"a": "2", "b": "", "c": ""}]


def test_glance_ranks_the_papers_kind_of_training_and_sets_gmnm_against_the_best_other():
    from experiments.analysis.glance import finish
    from experiments.harness.summary import glance_row

    rows = pd.DataFrame(
        [
            {"protocol": p, "model": m, "head": h, "label": label, "mean": v, "n": 5}
            for p, m, h, label, v in (
                ("paper", "gmnm", "trained", "GMNM", 2.0),
                ("paper", "kan", "trained", "KAN", 1.0),
                ("paper", "pinn", "trained", "PINN", 4.0),
                ("paper", "gmnm_lsq", "lsq", "GMNM (LSQ head)", 1e-9),  # beyond the paper: not ranked
                ("tuned", "gmnm", "trained", "GMNM (tuned)", 0.5),
                ("tuned", "kan", "trained", "KAN (tuned)", 0.2),
            )
        ]
    )
    runs = [{"model": m, "status": "complete", "summary": {"min_l2": k * (1 + 0.1 * s)}}
            for m, k in (("gmnm", 2.0), ("kan", 1.0)) for s in range(5)]  # fmt: skip
    row = glance_row("poisson", "quick", "Eq. 4", "min", rows, value="mean", ours="gmnm", records=runs,
                     metric_key="min_l2", paper_best="gmnm")  # fmt: skip
    assert (row["ours_best"], row["ours_best_tuned"], row["agrees"], row["paper_best"]) == (
        "KAN", "KAN (tuned)", "no", "GMNM")  # fmt: skip
    assert (row["gmnm_rank"], row["against"], row["n_seeds"]) == ("2 of 3", "KAN", 5)
    [done] = finish([row])
    assert done["gmnm_effect"] == pytest.approx(2.0) and done["gmnm_effect_low"] < 2.0 < done["gmnm_effect_high"]
    assert "_ours" not in done and "_theirs" not in done


def test_a_tuned_record_is_a_row_of_its_own_by_its_protocol_not_its_name():
    from experiments.harness.records import Record, by_row

    def record(model, protocol):
        return {
            "model": model,
            "protocol_name": protocol,
            "label": model.upper(),
            "color": "tab:red",
            "lineup": ["gmnm", "kan", "gmnm_lsq"],
            "config": {},
        }

    records = [record("kan", "tuned"), record("gmnm", "tuned"), record("gmnm_lsq", "paper"), record("gmnm", "paper")]
    assert [key for key, _ in by_row(records)] == [
        ("paper", "gmnm"),
        ("paper", "gmnm_lsq"),
        ("tuned", "gmnm"),
        ("tuned", "kan"),
    ]
    tuned = records[1]
    assert Record(tuned).label == "GMNM (tuned)" and Record(records[3]).label == "GMNM"
    assert Record(tuned).color != Record(records[3]).color == "tab:red"
    assert Record(tuned).kind == "tuned" and Record(records[2]).kind == "paper"  # no lsq key in its config
    assert Record(records[2]).base == "gmnm_lsq" and Record(records[2]).head == "trained"
    lsq = {**record("gmnm_lsq", "paper"), "config": {"lsq": {"steps": 5}, "size_of": "gmnm", "task": {"level": 2}}}
    assert Record(lsq).kind == "lsq" and Record(lsq).base == "gmnm" and Record(lsq).config("task.level") == 2
