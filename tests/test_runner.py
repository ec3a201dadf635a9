"""The Hydra runner and the trial loop: configs, profiles, determinism, skipping, divergence, errors."""

import math
import os
import subprocess
from pathlib import Path

import pytest
import torch
from conftest import command, compose
from hydra.utils import instantiate
from omegaconf import OmegaConf

from experiments.harness.runner import run_trial
from experiments.harness.store import ResultStore
from experiments.harness.train import Phase, train
from experiments.harness.variants import lsq_variants
from gmnm import count_parameters

CONF = Path(__file__).resolve().parents[1] / "conf"
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
MODELS = sorted([p.stem for p in (CONF / "model").glob("*.yaml")] + list(lsq_variants()))  # files, and <m>_lsq
LINEUP = OmegaConf.to_container(OmegaConf.load(CONF / "lineup.yaml"))
CASES = [(e, m) for e in EXPERIMENTS for m in LINEUP[e]]


def test_every_experiment_and_model_is_in_the_lineup():
    assert set(LINEUP) == set(EXPERIMENTS)
    assert {m for _, m in CASES} == set(MODELS)


def test_conf_is_small_and_has_no_copies():
    files = sorted(f for f in CONF.rglob("*.yaml") if "protocols" not in f.parts)  # make tune writes those
    assert len(files) <= 55
    contents = [f.read_bytes() for f in files]
    assert len(set(contents)) == len(contents), "two files of conf/ are byte-identical"


@pytest.mark.parametrize("experiment,model", CASES)
def test_every_config_resolves_and_instantiates(experiment, model):
    for profile in ("smoke", "quick", "paper"):  # every profile resolves; the model's shape is the same in each
        cfg = compose(f"experiment={experiment}", f"model={model}", f"profile={profile}")
        OmegaConf.to_container(cfg, resolve=True)  # what `--cfg job --resolve` does
        assert (cfg.experiment_name, cfg.model_name, cfg.profile_name) == (experiment, model, profile)
        assert OmegaConf.to_container(cfg.model, resolve=True) == OmegaConf.to_container(
            compose(f"experiment={experiment}", f"model={model}", "profile=smoke").model, resolve=True
        )
    net, task = instantiate(cfg.model), instantiate(cfg.task)
    x = task.example_input(3).to(next(net.parameters()).dtype)  # KAN is built in the trainer's dtype
    out = net(x)
    if cfg.task._target_.endswith("ReconstructionTask"):  # autoencoders give back an image
        assert out.shape == x.shape
    else:  # classifiers: one logit per class; regressors: one output
        assert out.shape == (3, cfg.io.classes if "classes" in cfg.io else cfg.io.out_features)
    if "budget" in cfg.io and cfg.arch is None:  # sized from the budget alone: never above it
        assert 0.9 * cfg.io.budget <= count_parameters(net) <= cfg.io.budget
    elif "budget" in cfg.io and experiment.startswith("fit"):  # fitting: matched sizes, within 6 %
        assert abs(count_parameters(net) - cfg.io.budget) <= 0.06 * cfg.io.budget


@pytest.fixture
def data_overrides(mnist_root, cifar_root):
    """Image experiments read the real MNIST and generated CIFAR files."""

    def overrides(experiment):
        if experiment in ("mnist", "eq3_mnist"):
            return [f"paths.data_dir={mnist_root}"]
        if experiment.startswith("cifar"):
            return [f"paths.data_dir={cifar_root[0]}", "task.verify=false"]
        return []

    return overrides


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_runs_with_its_default_model(compose_cfg, data_overrides, experiment):
    cfg = compose_cfg(f"experiment={experiment}", "profile=smoke", *data_overrides(experiment))
    record = run_trial(cfg)
    assert record["status"] == "complete" and record["model"] == cfg.model_name
    assert record["model"] in LINEUP[experiment] and record["lineup"] == list(LINEUP[experiment])
    assert record["summary"]["steps"] <= 2 * 10  # smoke: at most 10 steps (or one epoch) per phase


def runner(tmp_path, *overrides, multirun=False):
    return command(tmp_path, *overrides, multirun=multirun)


def test_default_model_from_the_command_line(tmp_path, mnist_root):
    # the first thing a new user tries: an experiment with no model=
    r = subprocess.run(
        runner(tmp_path, "experiment=mnist", "profile=smoke"),
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "GMNM_DATA": str(mnist_root)},
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    [record] = ResultStore(tmp_path / "store").records()
    assert (record["experiment"], record["model"], record["status"]) == ("mnist", "cnn_gmnm", "complete")


@pytest.mark.parametrize(
    "experiment,model,fits",
    [
        ("poisson", "cnn", "gmnm, kan, pinn, rbf"),
        ("timeseries", "kan", "lstm3, lstm3_gmnm, lstm32"),
        ("mnist", "kan", "cnn, cnn_att"),
    ],
)
def test_a_model_that_does_not_fit_is_refused_in_one_line(experiment, model, fits):
    # in one process (tests/test_bad_input.py has the command line's exit 2 and one line)
    from experiments.harness.config import check_model
    from experiments.harness.errors import ConfigError

    with pytest.raises(ConfigError) as error:
        check_model(compose(f"experiment={experiment}", f"model={model}"))
    assert str(error.value).startswith(f"experiment={experiment} does not take model={model}; its models: {fits}")


@pytest.mark.parametrize(
    "profile,steps,every,n_train,seeds",
    [
        ("paper", 20000, 200, 5000, "range(0,10)"),
        ("quick", 2000, 20, 1000, "range(0,3)"),  # quick caps the seeds at 3
        ("smoke", 10, 2, 200, "range(0,1)"),
    ],
)
def test_profiles_scale_the_protocol(profile, steps, every, n_train, seeds):
    cfg = compose("experiment=fit2d", f"profile={profile}", hydra=True)
    assert (cfg.trainer.steps, cfg.trainer.eval_every, cfg.task.n_train) == (steps, every, n_train)
    assert cfg.hydra.sweeper.params.seed == seeds
    assert cfg.hydra.sweeper.params.model == ",".join(LINEUP["fit2d"])
    assert cfg.hydra.sweeper.params["task.level"] == "0,1,2,3"


def test_profiles_scale_epochs_phases_and_own_numbers():
    epochs = {p: compose("experiment=timeseries", f"profile={p}").trainer.epochs for p in ("paper", "quick", "smoke")}
    assert epochs == {"paper": 50, "quick": 5, "smoke": 1}
    lbfgs = {
        p: compose("experiment=poisson", f"profile={p}").trainer.finetune.steps for p in ("paper", "quick", "smoke")
    }
    assert lbfgs == {"paper": 200, "quick": 10, "smoke": 2}
    # a number an experiment sets per profile (MNIST trains on 6,000 images under quick)
    sizes = {p: compose("experiment=mnist", f"profile={p}").task.n_train for p in ("paper", "quick", "smoke")}
    assert sizes == {"paper": None, "quick": 6000, "smoke": 256}
    seeds = compose("experiment=mnist", "profile=paper", hydra=True).hydra.sweeper.params.seed
    assert seeds == "range(0,6)"


def test_derived_experiments_inherit_and_override():
    fit1d = compose("experiment=fit1d", "profile=paper")
    assert (fit1d.task.dim, fit1d.io.in_features, fit1d.io.budget, fit1d.trainer.steps) == (1, 1, 300, 20000)
    assert fit1d.model.n_components == 100 and compose("experiment=fit2d").model.n_components == 200
    cifar100 = compose("experiment=cifar100", "model=cnn")
    assert (cifar100.task.dataset, cifar100.model.n_classes, list(cifar100.model.channels)) == (
        "cifar100",
        100,
        [32, 128, 32],
    )


@pytest.mark.parametrize("experiment", ["fit1d", "fit2d"])
def test_experiment_values_and_command_line_win(compose_cfg, experiment):
    assert compose_cfg(f"experiment={experiment}").trainer.optimizer.lr == 0.01
    assert compose_cfg(f"experiment={experiment}", "trainer.optimizer.lr=0.5").trainer.optimizer.lr == 0.5
    assert compose_cfg(f"experiment={experiment}", "model.n_components=7").model.n_components == 7


def test_poisson_uses_adam_then_lbfgs_in_float64(compose_cfg):
    cfg = compose_cfg("experiment=poisson", "profile=paper")
    assert cfg.trainer.dtype == "float64" and cfg.trainer.optimizer._target_ == "torch.optim.Adam"
    assert cfg.trainer.finetune.optimizer._target_ == "torch.optim.LBFGS"


def test_trial_record(compose_cfg, tmp_path):
    cfg = compose_cfg("experiment=fit2d", "model=gmnm", "profile=smoke", "seed=3")
    record = run_trial(cfg)
    assert record["status"] == "complete" and record["seed"] == 3 and record["profile"] == "smoke"
    assert [row["step"] for row in record["history"]] == [0, 2, 4, 6, 8, 10]
    s = record["summary"]
    assert s["n_params"] == 1000 and s["steps"] == 10 and s["device"].startswith("cpu")
    assert s["min_test_mse"] == min(r["test_mse"] for r in record["history"])
    assert s["final_test_mse"] == record["history"][-1]["test_mse"]
    # what the report needs, so it never re-composes the config
    assert (record["label"], record["color"], record["lineup"]) == ("GMNM", "tab:red", list(LINEUP["fit2d"]))
    assert record["arch"].startswith("GMNM(in_features=2, out_features=1, n_components=200")
    assert record["problem"] == "T(x) in 2-D on [-4.0, 4.0]^2, level 0 (a, b, c) = (0, 0, 0)"
    assert "lineup" not in record["config"] and record["schema"] == 2
    assert (tmp_path / "store" / "fit2d" / f"{record['key']}.json").exists()


@pytest.mark.parametrize("model", ["gmnm", "kan"])
def test_same_seed_same_metrics(compose_cfg, tmp_path, model):
    first = run_trial(compose_cfg("experiment=fit1d", f"model={model}", "profile=smoke"))
    second = run_trial(
        compose_cfg("experiment=fit1d", f"model={model}", "profile=smoke", f"paths.store_dir={tmp_path / 'other'}")
    )
    assert first["key"] == second["key"]
    assert first["history"] == second["history"]  # bit-identical metrics
    third = run_trial(
        compose_cfg(
            "experiment=fit1d", f"model={model}", "profile=smoke", "seed=1", f"paths.store_dir={tmp_path / 'other'}"
        )
    )
    assert third["history"][-1] != first["history"][-1]


def test_seeds_of_one_configuration_share_its_hash(compose_cfg):
    # KAN's model config follows the seed (`seed: ${seed}`); its seeds are still one configuration
    kan = [run_trial(compose_cfg("experiment=fit1d", "model=kan", "profile=smoke", f"seed={s}")) for s in (0, 1)]
    assert kan[0]["key"] != kan[1]["key"] and kan[0]["config_hash"] == kan[1]["config_hash"]
    other = run_trial(compose_cfg("experiment=fit1d", "model=kan", "profile=smoke", "task.level=1"))
    assert other["config_hash"] != kan[0]["config_hash"]


def test_with_the_data_redrawn_each_seed_of_a_group_trains_on_its_own_draw(compose_cfg, tmp_path):
    """protocol=redrawn: data_seed follows the seed, also for seeds trained together in one process, and each
    record is the one its own trial would write."""
    from experiments.harness.runner import run_seeds

    cfg = compose_cfg("experiment=timeseries", "model=lstm3", "profile=smoke", "protocol=redrawn")
    records = run_seeds(cfg, [0, 1])
    assert [r["config"]["task"]["data_seed"] for r in records] == [0, 1]
    assert [r["problem"].endswith(f"data seed {s}") for s, r in enumerate(records)] == [True, True]
    assert records[0]["config_hash"] == records[1]["config_hash"] and records[0]["protocol_name"] == "redrawn"
    alone = run_trial(compose_cfg("experiment=timeseries", "model=lstm3", "profile=smoke", "protocol=redrawn",
                                  "seed=1", f"paths.store_dir={tmp_path / 'alone'}"))  # fmt: skip
    assert alone["key"] == records[1]["key"] and alone["history"][-1] == records[1]["history"][-1]
    written = run_trial(compose_cfg("experiment=timeseries", "model=lstm3", "profile=smoke", "seed=1"))
    assert written["key"] != alone["key"] and written["config"]["task"]["data_seed"] == 0  # the paper's: one draw


def test_finished_trial_is_skipped(compose_cfg, tmp_path):
    cfg = compose_cfg("experiment=fit1d", "model=mlp_relu", "profile=smoke")
    record = run_trial(cfg)
    path = tmp_path / "store" / "fit1d" / f"{record['key']}.json"
    before = (path.stat().st_mtime_ns, path.read_bytes())
    assert run_trial(cfg) == record
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before


def test_divergence_is_recorded(compose_cfg):
    cfg = compose_cfg("experiment=fit1d", "model=mlp_relu", "profile=smoke", "trainer.optimizer.lr=1e30")
    record = run_trial(cfg)
    assert record["status"] == "diverged"
    assert record["summary"]["steps"] < 10


class NaNTask:
    """A task whose loss turns NaN at step 3: the loop must stop there and say so."""

    def __init__(self):
        self.calls = 0

    def steps_per_epoch(self, batch_size):
        return 4

    def batches(self, batch_size, generator):
        while True:
            yield None

    def loss(self, model, batch):
        self.calls += 1
        value = model.w.square().sum()
        return value * math.nan if self.calls >= 3 else value

    def evaluate(self, model):
        return {"w": float(model.w.detach().sum())}


def one_weight():
    model = torch.nn.Module()
    model.w = torch.nn.Parameter(torch.ones(2))
    return model


def test_train_stops_on_nan():
    model = one_weight()
    result = train(
        model,
        NaNTask(),
        [Phase(lambda params: torch.optim.SGD(params, lr=0.1), steps=10, eval_every=1)],
        batch_size=None,
        generator=torch.Generator(),
        device=torch.device("cpu"),
        progress=False,
    )
    assert result.status == "diverged" and result.steps == 3
    assert [r["step"] for r in result.history] == [0, 1, 2, 3]
    assert math.isnan(result.history[-1]["loss"])


def test_epochs_are_converted_by_the_trainer():
    model = one_weight()
    task = NaNTask()
    task.calls = -100  # stays finite
    result = train(
        model,
        task,
        [Phase(lambda params: torch.optim.SGD(params, lr=0.1), epochs=2)],
        batch_size=8,
        generator=torch.Generator(),
        device=torch.device("cpu"),
        progress=False,
    )
    assert [r["step"] for r in result.history] == [0, 4, 8]  # 4 steps per epoch, evaluated per epoch


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({}, "exactly one of steps and epochs"),
        ({"steps": 5, "epochs": 1}, "exactly one of steps and epochs"),
        ({"steps": 0, "eval_every": 1}, "steps=0 >= 1"),
        ({"steps": 5}, "eval_every >= 1, got eval_every=None"),
    ],
)
def test_bad_phases_are_explained(kwargs, message):
    model = one_weight()
    with pytest.raises(ValueError, match=message):
        train(
            model,
            NaNTask(),
            [Phase(lambda params: torch.optim.SGD(params, lr=0.1), **kwargs)],
            batch_size=None,
            generator=torch.Generator(),
            device=torch.device("cpu"),
            progress=False,
        )


def test_bad_device_is_explained(compose_cfg):
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ValueError, match="trainer.device='cuda': .*; or trainer.device=cpu"):
        run_trial(compose_cfg("model=mlp_relu", "profile=smoke", "trainer.device=cuda"))


def test_a_runs_median_step_time_is_over_its_evaluation_blocks():
    from experiments.harness.train import TrainResult

    result = TrainResult(phase_steps=[0], phase_times_s=[0.0])
    for seconds, step in ((0.10, 10), (0.01, 20), (0.02, 30)):  # a slow first block (warm-up), then fast ones
        result.clock(seconds, step, step)
    assert result.median_ms_per_step == pytest.approx(2.0) and result.ms_per_step == pytest.approx(13.0 / 3)


def test_a_compiled_trial_is_the_same_trial(compose_cfg, tmp_path, monkeypatch):
    """trainer.compile: the same key and metrics as the eager trial (dynamo's graphs run by the eager backend,
    so the check needs no C++ build), marked compiled, and its step times left out of timing claims."""
    from experiments.analysis.ledger.metrics import run_median_ms_per_step

    compiled = []
    plain = torch.nn.Module.compile

    def spy(self, **kwargs):
        compiled.append(type(self).__name__)
        plain(self, backend="eager")

    monkeypatch.setattr(torch.nn.Module, "compile", spy)
    eager = run_trial(compose_cfg("experiment=fit1d", "model=mlp_tanh", "profile=smoke"))
    other = compose_cfg("experiment=fit1d", "model=mlp_tanh", "profile=smoke", "trainer.compile=true",
                        f"paths.store_dir={tmp_path / 'other'}")  # fmt: skip
    record = run_trial(other)
    assert compiled == ["MLP"] and record["key"] == eager["key"]
    assert record["summary"]["compiled"] and not eager["summary"]["compiled"]
    for mine, theirs in zip(record["history"], eager["history"], strict=True):
        assert mine["test_mse"] == pytest.approx(theirs["test_mse"], rel=1e-5)
    assert math.isnan(run_median_ms_per_step(record)) and run_median_ms_per_step(eager) > 0


def test_a_run_into_a_store_of_ones_own_keeps_its_job_logs_there(tmp_path):
    """Hydra's job logs follow the store: nothing is written into the checkout (results/logs) by such a run."""
    import subprocess
    import sys

    from experiments.harness.env import ROOT

    checkout_logs = ROOT / "results" / "logs"
    before = sorted(checkout_logs.rglob("*")) if checkout_logs.exists() else []
    cmd = [sys.executable, "-m", "experiments.run", "experiment=fit2d", "model=mlp_relu", "profile=smoke",
           "trainer.device=cpu", f"paths.store_dir={tmp_path / 'store'}"]  # fmt: skip
    r = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert list((tmp_path / "store" / "logs").rglob("*.log"))  # the job's log, beside the records
    after = sorted(checkout_logs.rglob("*")) if checkout_logs.exists() else []
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]  # and nothing in the folder it ran from
