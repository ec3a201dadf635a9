"""Reporting: pure functions on hand-made records, then the whole report on a tiny real store."""

import math

import pytest

from experiments import report
from experiments.fitting.report import summary_rows, winner_rows
from experiments.reporting import curve_band, describe, read_csv, write_csv


def fake(model, level, seed, test_mse, status="complete", n_params=10, steps=(0, 10, 20)):
    history = [{"step": s, "loss": None, "train_mse": test_mse * (3 - i), "test_mse": test_mse * (3 - i)}
               for i, s in enumerate(steps)]
    summary = {"n_params": n_params, "final_test_mse": test_mse, "min_test_mse": test_mse,
               "final_train_mse": test_mse, "min_train_mse": test_mse, "final_test_nmse": test_mse,
               "ms_per_step": 1.0}
    return {"experiment": "fit2d", "profile": "smoke", "model": model, "seed": seed, "status": status,
            "config": {"task": {"level": level}}, "summary": summary, "history": history}


def test_describe():
    d = describe([1.0, 2.0, 3.0, math.nan, None])
    assert (d["mean"], d["std"], d["median"], d["min"], d["max"], d["n"]) == (2.0, 1.0, 2.0, 1.0, 3.0, 3)
    assert describe([5.0])["std"] == 0.0 and describe([])["n"] == 0


def test_curve_band_keeps_common_steps():
    band = curve_band([fake("gmnm", 0, 0, 1.0), fake("gmnm", 0, 1, 2.0, steps=(0, 10))], "test_mse")
    assert band["step"].tolist() == [0, 10]
    assert band["mean"].tolist() == [4.5, 3.0] and band["low"].tolist() == [3.0, 2.0]
    assert band["high"].tolist() == [6.0, 4.0]


def test_summary_and_winners():
    records = [fake("gmnm", 1, 0, 1.0), fake("gmnm", 1, 1, 3.0),
               fake("mlp_relu", 1, 0, 100.0), fake("mlp_relu", 1, 1, 1e9, status="diverged"),
               fake("kan", 1, 0, 0.5)]
    rows = summary_rows(records)
    gmnm = next(r for r in rows if r["model"] == "gmnm" and r["metric"] == "final_test_mse")
    assert (gmnm["mean"], gmnm["std"], gmnm["n_seeds"], gmnm["rank"]) == (2.0, math.sqrt(2), 2, 2)
    assert (gmnm["a"], gmnm["b"], gmnm["c"]) == (5.0, 0.0, 0.0)
    mlp = next(r for r in rows if r["model"] == "mlp_relu" and r["metric"] == "final_test_mse")
    assert (mlp["mean"], mlp["n_diverged"], mlp["rank"]) == (100.0, 1, 3)  # diverged seed excluded
    claims = [{"experiment": "fit2d", "claim": "best_model", "value": "gmnm"}]
    [win] = winner_rows(rows, claims)
    assert win["ours_best_model"] == "kan" and win["paper_best_model"] == "gmnm"
    assert win["agrees_with_paper"] is False
    assert win["log10_best_mlp_over_gmnm"] == pytest.approx(math.log10(100.0 / 2.0))


def test_write_csv_has_a_header(tmp_path):
    path = write_csv(tmp_path / "t.csv", [{"a": 1, "b": 0.5}, {"a": 2, "b": None}])
    assert path.read_text().splitlines() == ["a,b", "1,0.5", "2,"]
    assert read_csv(path) == [{"a": "1", "b": "0.5"}, {"a": "2", "b": ""}]


def test_report_on_empty_store_says_what_to_do(tmp_path, capsys):
    assert report.main(["--store", str(tmp_path / "none"), "--out", str(tmp_path / "out"),
                        "--profile", "smoke"]) == 1
    assert "no trials of profile 'smoke'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_report_end_to_end(compose_cfg, tmp_path):
    from experiments.run import run_trial
    for model in ("gmnm", "mlp_relu"):
        for level in (0, 3):
            run_trial(compose_cfg("experiment=fit1d", f"model={model}", "profile=smoke", f"task.level={level}"))
    out = tmp_path / "out"
    assert report.main(["--store", str(tmp_path / "store"), "--out", str(out), "--profile", "smoke"]) == 0
    rows = read_csv(out / "tables" / "fit1d_smoke.csv")
    assert {(r["model"], r["level"]) for r in rows} == {("gmnm", "0"), ("gmnm", "3"), ("mlp_relu", "0"),
                                                        ("mlp_relu", "3")}
    assert {"experiment", "profile", "level", "model", "n_params", "metric", "mean", "std"} <= set(rows[0])
    winners = read_csv(out / "tables" / "fit1d_winners_smoke.csv")
    assert [w["level"] for w in winners] == ["0", "3"] and winners[0]["paper_best_model"] == "gmnm"
    assert (out / "figures" / "fit1d_smoke.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    provenance = (out / "PROVENANCE_smoke.md").read_text()
    assert "| fit1d | smoke | 4 | 0 | cpu" in provenance


def test_poisson_report_end_to_end(compose_cfg, tmp_path):
    from experiments.run import run_trial
    for model in ("gmnm", "kan", "pinn"):
        run_trial(compose_cfg("experiment=poisson", f"model={model}", "profile=smoke"))
    out = tmp_path / "out"
    assert report.main(["--store", str(tmp_path / "store"), "--out", str(out), "--profile", "smoke"]) == 0
    rows = {r["model"]: r for r in read_csv(out / "tables" / "poisson_table1_smoke.csv")}
    assert set(rows) == {"gmnm", "kan", "pinn"}
    assert (rows["gmnm"]["n_params_trainable"], rows["gmnm"]["paper_n_params"]) == ("4500", "4500")
    assert (rows["pinn"]["n_params_trainable"], rows["pinn"]["paper_min_l2"]) == ("5301", "1.5e-7")
    assert rows["kan"]["paper_n_params"] == "10600" and "no integer grid" in rows["kan"]["note"]
    assert float(rows["gmnm"]["min_l2_mse_mean"]) > 0 and float(rows["gmnm"]["min_rel_l2_mean"]) > 0
    assert (out / "figures" / "poisson_fig3_smoke.png").read_bytes()[:4] == b"\x89PNG"


def test_stale_records_are_left_out(tmp_path, capsys):
    import subprocess
    import sys
    from experiments.store import ResultStore
    store = tmp_path / "store"
    cmd = [sys.executable, "-m", "experiments.run", "experiment=fit1d", "model=mlp_relu", "profile=smoke",
           f"paths.store_dir={store}", f"paths.log_dir={tmp_path / 'logs'}", "trainer.device=cpu"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    [record] = ResultStore(store).records()
    assert "model=mlp_relu" in record["overrides"]
    out = tmp_path / "out"
    assert report.main(["--store", str(store), "--out", str(out), "--profile", "smoke"]) == 0
    assert "stale" not in capsys.readouterr().err
    # Pretend conf/ changed since: the record's config no longer hashes to its key.
    record["key"] = "0" * 16
    ResultStore(store).put(record)
    kept, stale = report.current_records(list(ResultStore(store).records()))
    assert len(kept) == 1 and len(stale) == 1 and stale[0]["key"] == "0" * 16


def test_poisson_phase_split_joins_the_columns():
    from experiments.poisson.report import _phase
    history = [{"step": s, "phase": p} for s, p in ((0, 0), (5, 0), (10, 0), (11, 1), (12, 1))]
    [adam] = _phase([{"history": history}], 0)
    [lbfgs] = _phase([{"history": history}], 1)
    assert [r["step"] for r in adam["history"]] == [0, 5, 10]
    assert [r["step"] for r in lbfgs["history"]] == [10, 11, 12]  # starts where Adam ended
