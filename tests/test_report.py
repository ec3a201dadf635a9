"""Reporting: pure functions on hand-made records, then the whole report on a tiny real store."""

import math
import subprocess
import sys

import pandas as pd
import pytest

from experiments.analysis import regenerate as report
from experiments.fitting.report import summary_table, winner_table
from experiments.harness.store import ResultStore
from experiments.harness.tables import curve_band, describe, read_rows, write_csv

LINEUP = ["gmnm", "kan", "mlp_relu", "mlp_tanh"]


def fake(
    model,
    level,
    seed,
    test_mse,
    status="complete",
    n_params=10,
    steps=(0, 10, 20),
    started="2026-01-01T00:00:00",
    config_hash="h",
    overrides=None,
    protocol=True,
    schema=2,
):
    history = [
        {"step": s, "loss": None, "train_mse": test_mse * (3 - i), "test_mse": test_mse * (3 - i)}
        for i, s in enumerate(steps)
    ]
    summary = {
        "n_params": n_params,
        "final_test_mse": test_mse,
        "min_test_mse": test_mse,
        "final_train_mse": test_mse,
        "min_train_mse": test_mse,
        "final_test_nmse": test_mse,
        "ms_per_step": 1.0,
        "started_at": started,
    }
    return {
        "schema": schema,
        "key": f"{model}{level}{seed}{config_hash}",
        "config_hash": config_hash,
        "experiment": "fit2d",
        "profile": "smoke",
        "model": model,
        "label": model.upper(),
        "color": "k",
        "lineup": LINEUP,
        "arch": f"{model}()",
        "seed": seed,
        "status": status,
        "overrides": overrides,
        "protocol": protocol,
        "config": {"task": {"level": level}},
        "summary": summary,
        "history": history,
    }


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


def test_write_csv_has_a_header(tmp_path):
    path = write_csv(tmp_path / "t.csv", [{"a": 1, "b": 0.5, "c": 2813167}, {"a": 2, "b": None, "c": None}])
    # 6 significant digits, but a count in full even where its column also holds a gap (a float to pandas)
    assert path.read_text().splitlines() == ["a,b,c", "1,0.5,2813167", "2,,"]
    assert read_rows(path) == [{"a": "1", "b": "0.5", "c": "2813167"}, {"a": "2", "b": "", "c": ""}]


def test_report_on_empty_store_says_what_to_do(tmp_path, capsys):
    assert report.main(["--store", str(tmp_path / "none"), "--out", str(tmp_path / "out"), "--profile", "smoke"]) == 1
    assert "no trials of profile 'smoke'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_report_end_to_end(compose_cfg, tmp_path):
    from experiments.harness.runner import run_trial

    for model in ("gmnm", "mlp_relu"):
        for level in (0, 3):
            run_trial(compose_cfg("experiment=fit1d", f"model={model}", "profile=smoke", f"task.level={level}"))
    out = tmp_path / "out"
    assert report.main(["--store", str(tmp_path / "store"), "--out", str(out), "--profile", "smoke"]) == 0
    rows = read_rows(out / "tables" / "fit1d_smoke.csv")
    assert {(r["model"], r["level"]) for r in rows} == {
        ("gmnm", "0"),
        ("gmnm", "3"),
        ("mlp_relu", "0"),
        ("mlp_relu", "3"),
    }
    assert {"experiment", "profile", "level", "model", "n_params", "metric", "mean", "std"} <= set(rows[0])
    winners = read_rows(out / "tables" / "fit1d_winners_smoke.csv")
    assert [w["level"] for w in winners] == ["0", "3"] and winners[0]["paper_best_model"] == "gmnm"
    assert (out / "figures" / "fit1d_smoke.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    provenance = (out / "PROVENANCE_smoke.md").read_text()
    assert "| fit1d | smoke | 4 | 0 | cpu" in provenance


def test_poisson_report_end_to_end(compose_cfg, tmp_path):
    from experiments.harness.runner import run_trial

    for model in ("gmnm", "kan", "pinn", "gmnm_lsq"):
        run_trial(compose_cfg("experiment=poisson", f"model={model}", "profile=smoke"))
    # another PDE, a config group chosen at launch (as the command line records it): a table of its own
    launch = ["experiment=poisson", "model=pinn", "profile=smoke", "pde@task.pde=bump"]
    bump = run_trial(compose_cfg(*launch), overrides=launch)
    study = {}  # the width study: its own figure and table, never Table 1's rows
    for model, sigma in [("gmnm", 0.2), ("gmnm_lsq", 0.2), ("gmnm_lsq", 0.1)]:
        launch = ["experiment=poisson_widths", f"model={model}", "profile=smoke", f"model.sigma_init={sigma}"]
        study[model, sigma] = run_trial(compose_cfg(*launch), overrides=launch, sweep_keys=["model.sigma_init"])
    out = tmp_path / "out"
    assert report.main(["--store", str(tmp_path / "store"), "--out", str(out), "--profile", "smoke"]) == 0
    rows = {r["model"]: r for r in read_rows(out / "tables" / "poisson_table1_smoke.csv")}
    assert list(rows) == ["gmnm", "kan", "pinn", "gmnm_lsq"]  # the lineup's order; not bump's, not the study's
    assert rows["gmnm_lsq"]["label"] == "GMNM (LSQ head)" and rows["gmnm_lsq"]["ms_per_step_lbfgs"] == ""
    widths = read_rows(out / "tables" / "poisson_widths_smoke.csv")
    spacing = 2 / 30  # Table 1's 30 x 30 grid on [-1, 1]^2
    assert [(r["model"], float(r["sigma_over_spacing"])) for r in widths] == [
        ("gmnm", round(0.2 / spacing, 3)),
        ("gmnm_lsq", round(0.1 / spacing, 3)),
        ("gmnm_lsq", round(0.2 / spacing, 3)),
    ]
    assert float(widths[1]["min_l2_mse_median"]) == pytest.approx(study["gmnm_lsq", 0.1]["summary"]["min_l2"])
    assert (out / "figures" / "poisson_widths_smoke.png").read_bytes()[:4] == b"\x89PNG"
    [other] = (out / "tables").glob("poisson_pde-*_smoke.csv")
    [row] = read_rows(other)
    assert (row["model"], row["problem"], row["paper_min_l2"]) == ("pinn", bump["problem"], "")
    assert float(row["min_l2_mse_mean"]) == pytest.approx(bump["summary"]["min_l2"], rel=1e-5)
    assert (rows["gmnm"]["n_params_trainable"], rows["gmnm"]["paper_n_params"]) == ("4500", "4500")
    assert (rows["pinn"]["n_params_trainable"], rows["pinn"]["paper_min_l2"]) == ("5301", "1.5e-7")
    assert rows["kan"]["paper_n_params"] == "10600" and "no integer grid" in rows["kan"]["note"]
    assert rows["kan"]["architecture"] == "KAN(width=[2, 10, 10, 1], grid=5, k=3)"
    assert float(rows["gmnm"]["min_l2_mse_mean"]) > 0 and float(rows["gmnm"]["min_rel_l2_mean"]) > 0
    assert (out / "figures" / "poisson_fig3_smoke.png").read_bytes()[:4] == b"\x89PNG"


def test_select_keeps_the_current_protocol_and_names_what_it_leaves_out():
    from experiments.analysis.selection import Unresolvable, select

    launch = ["experiment=fit2d", "profile=smoke", "model=gmnm", "task.level=1"]
    current = {("gmnm", 1): "new", ("gmnm", 3): "level3", ("kan", 1): "a", ("kan", 2): "b"}

    def now(record):  # what conf/ composes today for the record's launch point
        if record["model"] == "rbf":
            raise Unresolvable("model=rbf: Could not find 'model/rbf'")
        return current[record["model"], record["config"]["task"]["level"]]

    new = [fake("gmnm", 1, seed, 1.0, config_hash="new", overrides=[*launch, f"seed={seed}"]) for seed in (0, 1)]
    old = fake("gmnm", 1, 2, 9.0, config_hash="old", overrides=[*launch, "seed=2"])  # before conf/ changed
    other_level = fake("gmnm", 3, 0, 5.0, config_hash="level3", overrides=[*launch[:3], "task.level=3"])
    own = fake("gmnm", 1, 0, 1e6, config_hash="lr", overrides=[*launch, "trainer.optimizer.lr=1e6"], protocol=False)
    # the Python API with another lr (no overrides on record) never joins the protocol's row either
    script = fake("gmnm", 1, 5, 1e6, config_hash="lr2", overrides=None)
    legacy = fake("kan", 1, 0, 1.0, schema=None)
    removed = fake("rbf", 1, 0, 1.0, config_hash="r", overrides=["experiment=fit2d", "model=rbf"])
    direct = [fake("kan", 1, 0, 2.0, config_hash="a"), fake("kan", 2, 0, 2.0, config_hash="b")]  # Python API
    kept, notes = select(
        [*new, old, other_level, own, script, legacy, removed, *direct], now, sweep_keys=lambda r: ["task.level"]
    )
    assert sorted(r["key"] for r in kept) == sorted(r["key"] for r in [*new, other_level, *direct])
    assert len(notes) == 4
    assert notes[0].startswith("1 record(s) from an older store layout") and "fit2d/kan10h.json" in notes[0]
    assert notes[1].startswith("2 record(s) in 2 configuration(s) other than the experiment's current protocol")
    assert "e.g. trainer.optimizer.lr=1e6" in notes[1] and "fit2d/gmnm10lr.json" in notes[1]
    assert notes[2].startswith("1 stale record(s)") and "fit2d/gmnm12old.json" in notes[2]
    assert notes[3].startswith("1 record(s) whose launch point conf/ no longer composes: fit2d/rbf10r.json")
    assert "Could not find 'model/rbf'" in notes[3]


def test_report_leaves_out_own_sweeps_corrupt_stale_and_unresolvable_records_and_says_so(tmp_path, capsys):
    import json

    store = tmp_path / "store"
    cmd = [
        sys.executable,
        "-m",
        "experiments.run",
        "experiment=fit1d",
        "model=mlp_relu",
        "profile=smoke",
        f"paths.store_dir={store}",
        f"paths.log_dir={tmp_path / 'logs'}",
        "trainer.device=cpu",
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    out = tmp_path / "out"
    assert report.main(["--store", str(store), "--out", str(out), "--profile", "smoke"]) == 0
    table = (out / "tables" / "fit1d_smoke.csv").read_text()
    capsys.readouterr()

    subprocess.run([*cmd, "trainer.optimizer.lr=1e6"], check=True, capture_output=True, timeout=120)  # an own sweep
    [protocol] = [r for r in ResultStore(store).records() if "trainer.optimizer.lr=1e6" not in r["overrides"]]
    folder = store / "fit1d"
    (folder / "0123456789abcdef.json").write_text('{"key": "0123456789abcdef", "experim')  # cut short
    stale = {**protocol, "key": "stale0000000000a", "config_hash": "before-a-change"}  # conf/ changed since
    (folder / "stale0000000000a.json").write_text(json.dumps(stale))
    gone = {
        **protocol,
        "key": "gone000000000000",
        "model": "mlp_gone",
        "overrides": [*protocol["overrides"], "model=mlp_gone"],
    }  # a model conf/ no longer has
    (folder / "gone000000000000.json").write_text(json.dumps(gone))
    assert report.main(["--store", str(store), "--out", str(out), "--profile", "smoke"]) == 0
    assert (out / "tables" / "fit1d_smoke.csv").read_text() == table  # the paper table as it was
    err = capsys.readouterr().err
    assert (
        "left out 1 record(s) in 1 configuration(s) other than the experiment's current protocol "
        "(own sweeps or the Python API, e.g. trainer.optimizer.lr=1e6)"
    ) in err
    assert "left out 1 stale record(s)" in err and "fit1d/stale0000000000a.json" in err
    assert "left out 1 record(s) whose launch point conf/ no longer composes: fit1d/gone000000000000.json" in err
    assert f"left out 1 unreadable record(s), skipped: {folder / '0123456789abcdef.json'} (not valid JSON" in err
    assert (folder / "0123456789abcdef.json").exists()  # the report moves nothing


def test_poisson_phase_split_joins_the_columns():
    from experiments.poisson.report import _phase

    history = [{"step": s, "phase": p} for s, p in ((0, 0), (5, 0), (10, 0), (11, 1), (12, 1))]
    [adam] = _phase([{"history": history}], 0)
    [lbfgs] = _phase([{"history": history}], 1)
    assert [r["step"] for r in adam["history"]] == [0, 5, 10]
    assert [r["step"] for r in lbfgs["history"]] == [10, 11, 12]  # starts where Adam ended


def test_docs_and_readme_summary_are_regenerated_from_the_tables(compose_cfg, tmp_path):
    from experiments.analysis.pages import BEGIN, END
    from experiments.harness.runner import run_trial

    for model in ("gmnm", "mlp_relu"):
        run_trial(compose_cfg("experiment=fit1d", f"model={model}", "profile=smoke", "task.level=2"))
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text(f"intro\n{BEGIN}\nstale numbers\n{END}\nrest\n")
    out = tmp_path / "results"
    assert (
        report.main(
            [
                "--store",
                str(tmp_path / "store"),
                "--out",
                str(out),
                "--profile",
                "smoke",
                "--docs",
                str(tmp_path / "docs"),
            ]
        )
        == 0
    )
    [glance] = read_rows(out / "tables" / "glance_smoke.csv")
    means = {
        r["model"]: float(r["mean"])
        for r in read_rows(out / "tables" / "fit1d_smoke.csv")
        if r["metric"] == "final_test_mse"
    }
    assert glance["ours"] == f"GMNM {means['gmnm']:.2g}; MLP (ReLU) {means['mlp_relu']:.2g}"
    assert glance["ours_best"] == ("GMNM" if means["gmnm"] < means["mlp_relu"] else "MLP (ReLU)")
    readme = (tmp_path / "README.md").read_text()
    assert readme.startswith("intro\n") and readme.endswith("rest\n") and "stale numbers" not in readme
    assert (
        f"| fit1d | level 2 (a, b, c) = (5, 0.1, 0) | smoke | final test MSE, mean | 1 | {glance['ours']} |" in readme
    )
    results = (tmp_path / "docs" / "results.md").read_text()
    assert "**fit1d_winners_smoke.csv**" in results and "](../results/figures/fit1d_smoke.png)" in results


def test_provenance_spans_a_group_of_seeds_to_its_end():
    # three seeds trained in one process for 30 s: each record holds a 10 s share, the span is 30 s
    group = [fake("gmnm", 0, seed, 1.0, started="2026-01-01T00:00:00") for seed in range(3)]
    for r in group:
        r["summary"].update(wall_time_s=10.0, seeds_in_process=3, device="cpu", git_commit="abc", torch="2")
    late = fake("kan", 0, 0, 1.0, started="2026-01-01T00:00:20")
    late["summary"].update(wall_time_s=5.0, seeds_in_process=1, device="cpu", git_commit="abc", torch="2")
    line = next(x for x in report.provenance([*group, late], "smoke").splitlines() if x.startswith("| fit2d"))
    assert line.endswith("| 35 s | 30 s |")  # sum of shares 35 s; first start to last end 30 s


def test_glance_ranks_the_papers_kind_of_training_and_each_protocol_among_itself():
    from experiments.harness.tables import glance_row

    rows = pd.DataFrame(
        [
            {"protocol": p, "model": m, "head": h, "label": label, "mean": v, "n": 5}
            for p, m, h, label, v in (
                ("paper", "gmnm", "trained", "GMNM", 2.0),
                ("paper", "kan", "trained", "KAN", 1.0),
                ("paper", "gmnm_lsq", "lsq", "GMNM (LSQ head)", 1e-9),  # beyond the paper: listed, not ranked
                ("tuned", "gmnm", "trained", "GMNM (tuned)", 0.5),
                ("tuned", "kan", "trained", "KAN (tuned)", 0.2),
            )
        ]
    )
    row = glance_row("poisson", "quick", "Eq. 4", "min", rows, value="mean", paper_best="gmnm")
    assert (row["ours_best"], row["ours_best_tuned"], row["agrees"], row["paper_best"]) == (
        "KAN",
        "KAN (tuned)",
        "no",
        "GMNM",
    )
    assert "GMNM (LSQ head) 1e-09" in row["ours"] and row["n_seeds"] == 5


def test_a_tuned_record_is_a_row_of_its_own_by_its_protocol_not_its_name():
    from experiments.harness.tables import by_row, color, label

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
    assert label(tuned) == "GMNM (tuned)" and label(records[3]) == "GMNM"
    assert color(tuned) != color(records[3]) == "tab:red"
