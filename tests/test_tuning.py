"""Equal-budget tuning: search spaces checked before any trial, the validation objective, the
sweeper end to end (make tune under smoke), resumption after SIGKILL, the tuned protocol."""

import math
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from conftest import ROOT, command, compose
from omegaconf import OmegaConf, open_dict

from experiments.analysis.selection import select
from experiments.analysis.tuning import objective, space
from experiments.analysis.tuning.models import tunable
from experiments.analysis.tuning.report import read_study
from experiments.harness.config import mlp_count, trial_key
from experiments.harness.errors import ConfigError
from gmnm import GMNM, count_parameters

LINEUP = yaml.safe_load((ROOT / "conf" / "lineup.yaml").read_text())
TUNED = ["fit1d", "fit2d", "poisson", "timeseries", "mnist"]  # make tune's experiments
STUDIES = [(e, m) for e in TUNED for m in tunable(e)]


def tuner(tmp_path, *overrides):
    tuned = f"paths.tuned_dir={tmp_path / 'conf' / 'protocols' / 'tuned'}"
    return command(tmp_path, "hydra/sweeper=tune", tuned, *overrides, multirun=True)


# --- budgets and spaces, over every study make tune runs -------------------------------------


@pytest.mark.parametrize("experiment,model", STUDIES)
def test_every_model_of_an_experiment_gets_the_profiles_trials_and_a_learning_rate(experiment, model):
    for profile, least in (("smoke", 2), ("quick", 12), ("paper", 20)):
        cfg = compose(f"experiment={experiment}", f"model={model}", f"profile={profile}")
        assert cfg.tune.trials == OmegaConf.load(ROOT / "conf" / "profile" / f"{profile}.yaml").tune.trials >= least
    keys = [p.key for p in space.parse(cfg)]
    assert "trainer.optimizer.lr" in keys and len(keys) == len(set(keys))


def test_no_model_or_experiment_file_sets_its_own_trial_count():
    for path in [*(ROOT / "conf" / "model").glob("*.yaml"), *(ROOT / "conf" / "experiment").glob("*.yaml")]:
        assert "trials" not in OmegaConf.to_container(OmegaConf.load(path)).get("tune", {}), path


@pytest.mark.parametrize("experiment,model", [(e, m) for e, m in STUDIES if e != "mnist"] + [("mnist", "cnn_gmnm")])
def test_no_search_space_buys_a_model_more_parameters(experiment, model):
    cfg = compose(f"experiment={experiment}", f"model={model}", "profile=smoke")
    space.check_sizes(
        cfg,
        space.parse(cfg),
        lambda extra: compose(f"experiment={experiment}", f"model={model}", "profile=smoke", *extra),
    )


@pytest.mark.parametrize(
    "entry,message",
    [
        (
            {"model.sigma_scal": {"float": [0.5, 2.0]}},
            "model.sigma_scal: no such key in the configuration and no argument of gmnm.GMNM",
        ),
        ({"trainer.optimizer.lr": {"float": [0.1, 0.001]}}, "the range [0.1, 0.001] is empty or inverted"),
        ({"trainer.optimizer.lr": {"float": [0.0, 0.1], "log": True}}, "a log scale needs low > 0"),
        ({"model.mu_init": {"choice": []}}, "choice needs a non-empty list"),
        ({"model.n_components": {"int": [1.5, 3]}}, "int needs integer bounds"),
        ({"trainer.optimizer.lr": {"range": [0.001, 0.1]}}, "expected one of"),
    ],
)
def test_a_bad_search_space_names_the_key(entry, message):
    cfg = compose("experiment=fit1d", "model=gmnm", "profile=smoke")
    with open_dict(cfg):
        cfg.search = {**OmegaConf.to_container(cfg.search), **entry}
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")) as e:
        space.parse(cfg)
    assert next(iter(entry)) in str(e.value)


def test_a_value_that_grows_the_model_is_refused_with_its_key():
    base = ("experiment=fit1d", "model=gmnm", "profile=smoke")
    cfg = compose(*base)
    with open_dict(cfg):
        cfg.search = {"model.n_components": {"int": [50, 150]}}
    with pytest.raises(ConfigError, match=r"model.n_components=150 gives 450 parameters, more than the protocol's 300"):
        space.check_sizes(cfg, space.parse(cfg), lambda extra: compose(*base, *extra))


def test_mlp_shapes_are_the_widest_of_each_depth_within_the_count():
    cfg = compose("experiment=fit2d", "model=mlp_relu", "profile=smoke")
    (param,) = [p for p in space.parse(cfg) if p.key == "model.hidden"]
    limit = mlp_count(2, 1, [30, 30])
    assert [30, 30] in param.choices and [len(h) for h in param.choices] == [1, 2, 3, 4]
    for hidden in param.choices:
        assert mlp_count(2, 1, hidden) <= limit < mlp_count(2, 1, [hidden[0] + 1] * len(hidden))


def test_overrides_are_hydra_literals():
    p = space.Param("model.hidden", "choice", choices=([3], [2, 2]))
    assert space.override(p, [2, 2]) == "model.hidden=[2,2]"
    assert (
        space.override(space.Param("model.sigma_scale", "float", 0.5, 2.0, new=True), 0.75) == "+model.sigma_scale=0.75"
    )
    assert (
        space.override(space.Param("model.trainable_mu", "choice", choices=(True, False)), False)
        == "model.trainable_mu=false"
    )


def test_sigma_scale_multiplies_the_initial_width(float64):
    a, b = GMNM(2, 1, 16, sigma_scale=1.0), GMNM(2, 1, 16, sigma_scale=2.5)
    assert b.initial_sigma == pytest.approx(2.5 * a.initial_sigma)
    assert GMNM(2, 1, 16, sigma_init=0.2, sigma_scale=3.0).initial_sigma == pytest.approx(0.6)
    assert count_parameters(a) == count_parameters(b)
    with pytest.raises(ValueError, match="sigma_scale must be a positive number"):
        GMNM(2, 1, 16, sigma_scale=0.0)


# --- the objective: validation values only ----------------------------------------------------


def _record(status="complete", **summary):
    return {"experiment": "fit2d", "status": status, "summary": summary}


def test_objective_is_the_geometric_mean_of_validation_values_and_a_divergence_fails_the_trial():
    recs = [
        _record(final_val_nmse=1e-2, min_val_nmse=1e-3, final_test_nmse=1e-9),
        _record(final_val_nmse=1e-4, min_val_nmse=1e-5, final_test_nmse=1e-9),
    ]
    assert objective.trial_value(recs, "val_nmse", "final") == pytest.approx(1e-3)
    assert objective.trial_value(recs, "val_nmse", "min") == pytest.approx(1e-4)
    assert objective.trial_value(recs + [_record("diverged", final_val_nmse=1e-9)], "val_nmse", "final") is None
    assert objective.trial_value([_record(final_val_nmse=math.nan)], "val_nmse", "final") is None
    assert objective.trial_value([{"status": "failed"}], "val_nmse", "final") is None
    with pytest.raises(ConfigError, match="no 'final_val_loss'"):
        objective.trial_value(recs, "val_loss", "final")


def test_the_timeseries_validation_window_lies_between_training_and_test():
    import torch

    from experiments.timeseries.task import TimeSeriesTask

    task = TimeSeriesTask(n_samples=200, val_fraction=0.1)
    task.setup(torch.device("cpu"), torch.float64)
    n_train, n_val, n_test = (len(task.splits[s][0]) for s in ("train", "val", "test"))
    assert (n_train, n_val, n_test) == (140, 20, 40)
    whole = TimeSeriesTask(n_samples=200, val_fraction=0.0)
    whole.setup(torch.device("cpu"), torch.float64)
    assert torch.equal(whole.train_set[1][140:160], task.splits["val"][1])  # the windows just before the test
    assert torch.equal(whole.test_set[1], task.test_set[1])


# --- the tuned protocol and the report ---------------------------------------------------------


def test_paper_protocol_keys_are_those_of_records_made_before_protocols():
    cfg = OmegaConf.to_container(compose("experiment=fit1d", "profile=smoke"), resolve=True)
    before = {k: v for k, v in cfg.items() if k != "protocol_name"}
    assert trial_key(cfg) == trial_key(before)
    assert trial_key({**cfg, "protocol_name": "tuned"}) != trial_key(cfg)


@pytest.mark.parametrize("launch", [["model=kan"], ["-m"]])  # one run, or a sweep with no tuned model
def test_protocol_tuned_without_tuned_values_is_an_error(tmp_path, launch):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.run",
            *launch,
            "experiment=fit1d",
            "profile=smoke",
            "protocol=tuned",
            f"paths.tuned_dir={tmp_path}",
            f"paths.store_dir={tmp_path / 'store'}",
            f"paths.log_dir={tmp_path / 'logs'}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert (
        f"protocol=tuned: no tuned values for model={'kan' if launch != ['-m'] else 'gmnm'} in experiment=fit1d"
        in r.stderr
    )
    assert not (tmp_path / "store").exists()


def test_report_keeps_tuning_runs_apart_and_shows_tuned_rows_beside_the_papers():
    base = {
        "schema": 2,
        "experiment": "fit1d",
        "profile": "quick",
        "model": "gmnm",
        "label": "GMNM",
        "color": "tab:red",
        "lineup": ["gmnm", "kan", "gmnm_lsq"],
        "config_hash": "a",
        "protocol": True,
        "overrides": ["experiment=fit1d", "seed=0"],
        "summary": {"started_at": "2026-01-01T00:00:00"},
    }
    tuning = {
        **base,
        "tuning_study": "fit1d/gmnm/quick",
        "protocol": False,
        "config_hash": "b",
        "overrides": ["experiment=fit1d", "trainer.optimizer.lr=0.1", "tuning_study=fit1d/gmnm/quick"],
    }
    tuned = {**base, "protocol_name": "tuned", "config_hash": "c", "overrides": ["experiment=fit1d", "protocol=tuned"]}
    kept, notes = select([base, tuning, tuned], current=lambda r: r["config_hash"])
    assert sorted((r["model"], r.get("protocol_name", "paper")) for r in kept) == [("gmnm", "paper"), ("gmnm", "tuned")]
    assert any("1 run(s) of tuning studies (fit1d/gmnm/quick)" in n for n in notes)


# --- end to end: make tune, resumption -----------------------------------------------------------


def test_make_tune_under_smoke_writes_a_tuned_config_per_model_that_protocol_tuned_runs(tmp_path):
    args = " ".join(
        f"{k}={tmp_path / v}"
        for k, v in (
            ("paths.store_dir", "store"),
            ("paths.log_dir", "logs"),
            ("paths.tuned_dir", "conf/protocols/tuned"),
        )
    )
    r = subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(ROOT),
            "tune",
            "PROFILE=smoke",
            "EXPERIMENTS=timeseries",  # three models, no sweep of its own: a study is seconds
            "JOBS=2",
            f"ARGS={args} trainer.device=cpu",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    models = tunable("timeseries")
    for model in models:
        tuned = yaml.safe_load(
            (tmp_path / "conf" / "protocols" / "tuned" / "smoke" / "timeseries" / f"{model}.yaml").read_text()
        )
        prov = tuned["tuned"]
        assert prov["study"] == f"timeseries/{model}/smoke" and prov["trials"] == 2 and prov["profile"] == "smoke"
        assert prov["complete"] + prov["failed"] == 2 and prov["seed"] == 1000 and prov["commit"]
        assert 0 < tuned["trainer"]["optimizer"]["lr"] <= 0.1
        assert "val_mse" in prov["objective"] and "test" not in prov["objective"]
    # the tuned protocol runs them: every tuned model, none other, its values in the record
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.run",
            "-m",
            "experiment=timeseries",
            "profile=smoke",
            "protocol=tuned",
            *args.split(),
            "trainer.device=cpu",
            f"hydra.searchpath=[file://{tmp_path / 'conf'}]",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    from experiments.harness.store import ResultStore

    tuned_runs = [r for r in ResultStore(tmp_path / "store").records() if r.get("protocol_name") == "tuned"]
    assert sorted(r["model"] for r in tuned_runs) == sorted(models)
    gmnm = next(r for r in tuned_runs if r["model"] == "lstm3_gmnm")
    chosen = yaml.safe_load((tmp_path / "conf/protocols/tuned/smoke/timeseries/lstm3_gmnm.yaml").read_text())
    assert gmnm["config"]["trainer"]["optimizer"]["lr"] == chosen["trainer"]["optimizer"]["lr"]


def test_a_study_killed_with_sigkill_resumes_without_restarting_or_double_counting(tmp_path):
    import optuna

    # 3 trials of 4 levels, one trial at a time, runs long enough (2,000 steps) to be killed mid-trial
    cmd = tuner(
        tmp_path,
        "experiment=fit1d",
        "model=gmnm",
        "profile=smoke",
        "tune.trials=3",
        "hydra.sweeper.batch_size=1",
        "scale.max_steps=2000",
    )
    db = tmp_path / "store" / "_tuning" / "smoke" / "fit1d" / "gmnm.db"
    log = tmp_path / "tuner.log"
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300

    def trials():
        if not db.exists():
            return []
        try:  # read-only: a reader that created the tables would race the tuner creating them
            return read_study(db, "fit1d/gmnm/smoke").get_trials()
        except Exception:  # noqa: BLE001 - the study is being created
            return []

    while not (
        sum(t.state.is_finished() for t in trials()) >= 1
        and any(t.state == optuna.trial.TrialState.RUNNING for t in trials())
    ):
        assert proc.poll() is None, "the study ended before it could be killed:\n" + log.read_text()[-3000:]
        assert time.monotonic() < deadline, "too few trials finished in time"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {t.number: t for t in trials()}
    (running,) = [t for t in before.values() if t.state == optuna.trial.TrialState.RUNNING]

    r = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    after = trials()
    assert [t.number for t in after] == list(range(3)) and all(t.state.is_finished() for t in after)
    for number, t in before.items():  # finished trials kept, the killed one finished with its own values
        if t.state.is_finished():
            assert (after[number].value, after[number].params) == (t.value, t.params)
    assert after[running.number].params == running.params
    from experiments.harness.store import ResultStore

    runs = [x for x in ResultStore(tmp_path / "store").records() if x.get("tuning_study") == "fit1d/gmnm/smoke"]
    assert len(runs) == len({x["key"] for x in runs}) == 3 * 4  # every trial at every level, once
    assert (tmp_path / "conf/protocols/tuned/smoke/fit1d/gmnm.yaml").exists()


def test_a_bad_search_space_stops_the_tuner_before_any_trial(tmp_path):
    """The process's side (exit 2, one line, nothing written); the messages of every kind of bad space are
    checked in-process above."""
    override, message = "++search={model.n_components: {int: [100, 400]}}", "model.n_components=400 gives 1,200"
    r = subprocess.run(
        tuner(tmp_path, "experiment=fit1d", "model=gmnm", "profile=smoke", override),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "store").exists() and not (tmp_path / "conf").exists()


COMMITTED = sorted((ROOT / "conf" / "protocols" / "tuned").glob("*/*/*.yaml"))


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: "/".join(p.parts[-3:]))
def test_every_committed_tuned_config_composes_and_keeps_the_matched_size(path):
    from hydra.utils import instantiate

    profile, experiment, model = path.parts[-3], path.parts[-2], path.stem
    paper = compose(f"experiment={experiment}", f"model={model}", f"profile={profile}")
    tuned = compose(f"experiment={experiment}", f"model={model}", f"profile={profile}", "protocol=tuned")
    assert tuned.protocol_name == "tuned" and tuned.tuned.study == f"{experiment}/{model}/{profile}"
    assert tuned.tuned.trials == paper.tune.trials
    chosen = yaml.safe_load(path.read_text())
    assert tuned.trainer.optimizer.lr == chosen["trainer"]["optimizer"]["lr"] != paper.trainer.optimizer.lr
    assert count_parameters(instantiate(tuned.model)) <= count_parameters(instantiate(paper.model))


def test_a_study_at_one_level_prunes_its_runs_and_tells_optuna(tmp_path):
    """tune.at fixes the sweep's point; the pruner (here one that stops any positive value) stops each run at its
    first evaluation; the runs are stored as pruned (not finished: a later sweep trains them again), the
    trials told PRUNED, and with none completed no tuned config is written."""
    import optuna

    from experiments.harness.store import ResultStore

    r = subprocess.run(
        tuner(
            tmp_path,
            "experiment=fit1d",
            "model=gmnm",
            "profile=smoke",
            "tune.at='${per_profile:{smoke:{task.level:1}}}'",  # as conf/ writes it: a resolver's plain dict
            "~tune.pruner",
            "+tune.pruner={_target_:optuna.pruners.ThresholdPruner,upper:0.0}",
        ),  # fmt: skip
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 2 and "every one diverged, failed or was pruned" in r.stderr, r.stderr[-2000:]
    db = tmp_path / "store" / "_tuning" / "smoke" / "fit1d" / "gmnm.db"
    study = read_study(db, "fit1d/gmnm/smoke")
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.PRUNED] * 2
    assert study.user_attrs["at"] == "task.level=1" and study.user_attrs["pruner"]["upper"] == 0.0
    store = ResultStore(tmp_path / "store")
    runs = list(store.records())
    assert [(x["status"], x["config"]["task"]["level"], len(x["history"])) for x in runs] == [("pruned", 1, 2)] * 2
    assert all(store.finished("fit1d", x["key"]) is None for x in runs)
    assert not (tmp_path / "conf").exists()


def test_a_monitor_that_says_stop_ends_the_run_as_pruned():
    from functools import partial

    import torch

    from experiments.harness.train import Phase, train

    cfg = compose("experiment=fit1d", "model=mlp_tanh", "profile=smoke")
    from hydra.utils import instantiate

    model, task = instantiate(cfg.model), instantiate(cfg.task)
    task.setup(torch.device("cpu"), torch.float32)
    seen = []

    def monitor(step, metrics):
        seen.append((step, metrics["val_nmse"]))
        return len(seen) < 3

    result = train(model, task, [Phase(partial(torch.optim.Adam, lr=1e-3), steps=50, eval_every=5)],
                   batch_size=None, generator=torch.Generator().manual_seed(0), device=torch.device("cpu"),
                   progress=False, monitor=monitor)  # fmt: skip
    assert result.status == "pruned" and [s for s, _ in seen] == [5, 10, 15] and result.steps == 15
    assert [row["val_nmse"] for row in result.history[1:]] == [v for _, v in seen]  # it saw what was recorded


def test_paper_studies_fit_at_level_1_and_quick_ones_at_every_level():
    assert dict(compose("experiment=fit1d", "profile=paper").tune.at) == {"task.level": 1}
    assert dict(compose("experiment=fit2d", "profile=quick").tune.at) == {}
