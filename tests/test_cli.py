"""The command line as users run it: bad names, and a sweep killed with SIGKILL then re-run."""

import itertools
import os
import subprocess

import pytest
from conftest import command, kill_after

from experiments.harness.store import ResultStore


def runner(tmp_path, *overrides, multirun=False):
    return command(tmp_path, *overrides, multirun=multirun)


@pytest.fixture
def cwd(tmp_path):
    path = tmp_path / "cwd"
    path.mkdir()
    return path


@pytest.mark.parametrize(
    "override,valid", [("experiment=fit2dd", "fit2d"), ("model=gmmn", "mlp_tanh"), ("profile=fast", "quick")]
)
def test_misspelled_choice_lists_the_valid_ones(tmp_path, cwd, override, valid):
    r = subprocess.run(runner(tmp_path, override), cwd=cwd, capture_output=True, text=True, timeout=120)
    group, bad = override.split("=")
    [line] = r.stderr.strip().splitlines()  # one line, before Hydra composes anything
    assert r.returncode == 2 and line.startswith(f"error: {override}: no such {group} (") and f" {valid}" in line
    assert not (tmp_path / "store").exists() and os.listdir(cwd) == []


def test_sweep_killed_with_sigkill_is_completed_by_rerunning(tmp_path, cwd):
    # fit1d's sweep under smoke, KAN (one seed a process) and GMNM x 4 levels x 1 seed; 200 steps so a
    # kill lands mid-sweep.
    cmd = runner(
        tmp_path,
        "experiment=fit1d",
        "profile=smoke",
        "trainer.steps=200",
        "model=gmnm,kan",
        multirun=True,
    )
    store = ResultStore(tmp_path / "store")
    done_before = kill_after(cmd, cwd, store, 3)
    assert 3 <= len(done_before) < 8

    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    records = list(store.records())
    keys = [rec["key"] for rec in records]
    assert len(records) == 8 and len(set(keys)) == 8
    assert {(rec["model"], rec["config"]["task"]["level"]) for rec in records} == set(
        itertools.product(["gmnm", "kan"], range(4))
    )
    assert all(rec["status"] == "complete" for rec in records)
    for key, rec in done_before.items():  # finished trials were skipped, not redone
        assert next(x for x in records if x["key"] == key) == rec
    assert r.stdout.count("skip fit1d/") == len(done_before)  # Hydra logs to stdout
    assert os.listdir(cwd) == []  # nothing written into the working directory
    leftovers = [p for p in (tmp_path / "store").rglob("*") if p.is_file() and not p.name.endswith(".json")]
    assert len(leftovers) <= 1  # at most the temporary file of the trial that was killed


def test_parallel_launchers_give_the_records_of_a_sequential_sweep(tmp_path, cwd):
    # make reproduce runs sweeps with Hydra's joblib launcher (JOBS processes, one thread each), a
    # cluster with submitit (submitit_local: the same code path as SLURM's, as local processes):
    # each must find the same trials, under the same keys, with the same metrics as the basic one.
    sweep = ["experiment=timeseries", "profile=smoke", "model=lstm3,lstm3_gmnm"]
    metrics = {}
    for name, launcher in (
        ("basic", []),
        ("joblib", ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]),
        ("submitit", ["hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10"]),
    ):
        r = subprocess.run(
            runner(tmp_path / name, *sweep, *launcher, multirun=True),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert r.returncode == 0, r.stderr[-2000:]
        records = list(ResultStore(tmp_path / name / "store").records())
        metrics[name] = {rec["key"]: (rec["model"], rec["summary"]["final_test_mse"]) for rec in records}
    assert len(metrics["basic"]) == 2
    assert {m for m, _ in metrics["basic"].values()} == {"lstm3", "lstm3_gmnm"}
    # one thread per process changes no result here: these small ops have no threaded reductions
    assert metrics["joblib"] == metrics["basic"]
    assert metrics["submitit"] == metrics["basic"]
    assert os.listdir(cwd) == []


def test_slurm_launcher_carries_the_projects_defaults():
    from conftest import compose

    launcher = compose(
        "experiment=mnist", "hydra/launcher=submitit_slurm", "hydra.launcher.partition=gpu", hydra=True
    ).hydra.launcher
    assert launcher._target_.endswith("submitit_launcher.SlurmLauncher")  # the plugin's schema, kept
    assert (launcher.partition, launcher.gpus_per_task, launcher.timeout_min, launcher.array_parallelism) == (
        "gpu",
        1,
        240,
        64,
    )
