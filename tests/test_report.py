"""Reporting: pure functions on hand-made records, then the whole report on a tiny real store."""

import subprocess
import sys

import pytest
from conftest import fake, run_report

from experiments.analysis import regenerate as report
from experiments.harness.store import ResultStore
from experiments.harness.tableio import _csv_cell, read_rows


def test_report_on_empty_store_says_what_to_do(tmp_path, capsys):
    (tmp_path / "empty").mkdir()  # a store that exists but holds nothing (a missing one: below)
    assert run_report(tmp_path / "empty", tmp_path / "out") == 1
    assert "no trials of profile 'smoke'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_report_end_to_end(compose_cfg, tmp_path):
    from experiments.harness.runner import run_trial

    for model in ("gmnm", "mlp_relu"):
        for level in (0, 3):
            run_trial(compose_cfg("experiment=fit1d", f"model={model}", "profile=smoke", f"task.level={level}"))
    out = tmp_path / "out"
    assert run_report(tmp_path / "store", out) == 0
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
    assert run_report(tmp_path / "store", out) == 0
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
    # the median of one seed is that seed's value, written as every CSV cell is (6 significant digits)
    assert widths[1]["min_l2_mse_median"] == _csv_cell(study["gmnm_lsq", 0.1]["summary"]["min_l2"])
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
    assert run_report(store, out) == 0
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
    assert run_report(store, out) == 0
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


def test_docs_and_readme_summary_are_regenerated_from_the_tables(compose_cfg, tmp_path):
    from experiments.analysis.pages import BEGIN, END
    from experiments.harness.runner import run_trial

    for model in ("gmnm", "mlp_relu"):
        run_trial(compose_cfg("experiment=fit1d", f"model={model}", "profile=smoke", "task.level=2"))
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text(f"intro\n{BEGIN}\nstale numbers\n{END}\nrest\n")
    out = tmp_path / "results"
    assert (
        run_report(tmp_path / "store", out, "--docs", str(tmp_path / "docs"), "--readme", str(tmp_path / "README.md"))
        == 0
    )
    [glance] = read_rows(out / "tables" / "glance_smoke.csv")
    means = {
        r["model"]: float(r["mean"])
        for r in read_rows(out / "tables" / "fit1d_smoke.csv")
        if r["metric"] == "final_test_mse"
    }
    best = "GMNM" if means["gmnm"] < means["mlp_relu"] else "MLP (ReLU)"
    assert (glance["ours_best"], glance["gmnm"], glance["against"]) == (best, "GMNM", "MLP (ReLU)")
    assert glance["gmnm_rank"] == ("1 of 2" if best == "GMNM" else "2 of 2")
    readme = (tmp_path / "README.md").read_text()
    assert readme.startswith("intro\n") and readme.endswith("rest\n") and "stale numbers" not in readme
    assert f"| fit1d | level 2 (a, b, c) = (5, 0.1, 0) | smoke | final test MSE, mean | 1 | {best} | GMNM |" in readme
    results = (tmp_path / "docs" / "results.md").read_text()
    assert (
        "**The 1-D analogue (fit1d): our best model per level and protocol** (`smoke`; `results/tables/fit1d_winners_smoke.csv`)"
        in results
    )
    assert "](../results/figures/fit1d_smoke.png)" in results and "| ours best model |" in results  # columns in words


def test_provenance_spans_a_group_of_seeds_to_its_end():
    # three seeds trained in one process for 30 s: each record holds a 10 s share, the span is 30 s
    group = [fake("gmnm", 0, seed, 1.0, started="2026-01-01T00:00:00") for seed in range(3)]
    for r in group:
        r["summary"].update(wall_time_s=10.0, seeds_in_process=3, device="cpu", git_commit="abc", torch="2")
    late = fake("kan", 0, 0, 1.0, started="2026-01-01T00:00:20")
    late["summary"].update(wall_time_s=5.0, seeds_in_process=1, device="cpu", git_commit="abc", torch="2")
    line = next(x for x in report.provenance([*group, late], "smoke").splitlines() if x.startswith("| fit2d"))
    assert line.endswith("| 35 s | 30 s |")  # sum of shares 35 s; first start to last end 30 s


def test_a_report_of_your_own_store_leaves_the_checkout_alone(compose_cfg, tmp_path):
    """Without --publish the report goes to <store>/report; a typo'd profile, a missing store and the checkout's
    results/ without --publish are one line each, exit 2."""
    import subprocess

    from experiments.analysis.regenerate import main
    from experiments.harness.env import ROOT
    from experiments.harness.runner import run_trial

    def status() -> str:
        return subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True).stdout

    run_trial(compose_cfg("experiment=fit1d", "model=gmnm", "profile=smoke"))
    before = status()
    assert main(["--profile", "smoke", "--store", str(tmp_path / "store")]) == 0
    assert (tmp_path / "store" / "report" / "tables" / "fit1d_smoke.csv").exists()
    assert (tmp_path / "store" / "report" / "results.md").exists() and status() == before
    for argv, message in (
        (["--profile", "smok", "--store", str(tmp_path / "store")], "no profile 'smok' (conf/profile has paper, quick, smoke); did you mean smoke?"),
        (["--profile", "smoke", "--store", str(tmp_path / "nowhere")], f"no result store at {tmp_path / 'nowhere'}"),
        (["--profile", "smoke", "--store", str(tmp_path / "store"), "--out", str(ROOT / "results")], "add --publish"),
    ):  # fmt: skip
        r = subprocess.run(
            [sys.executable, "-m", "experiments.report", *argv], capture_output=True, text=True, cwd=ROOT
        )
        assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert status() == before


def test_a_ledger_that_fails_stops_the_report_before_it_writes_anything(compose_cfg, tmp_path, monkeypatch):
    from experiments.harness.runner import run_trial

    run_trial(compose_cfg("experiment=fit1d", "model=gmnm", "profile=smoke"))

    def broken(*args, **kwargs):
        raise KeyError("model.projection (no 'projection')")  # a claim whose records lack a key it selects on

    monkeypatch.setattr(report, "build", broken)
    with pytest.raises(KeyError, match="projection"):
        run_report(tmp_path / "store", tmp_path / "out")
    assert not (tmp_path / "out").exists()  # no table, figure or page of a half-made report
