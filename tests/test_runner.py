"""The Hydra runner and the trial loop: configs, determinism, skipping, divergence, errors."""

import math
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate

from experiments.run import run_trial
from experiments.train import train
from gmnm import count_parameters

CONF = Path(__file__).resolve().parents[1] / "conf"
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
MODELS = sorted(p.stem for p in (CONF / "model").glob("*.yaml"))
# The parameter counts the arch files promise (conf/arch/*.yaml): matched budgets for the
# fitting experiments, Table 1's sizes for the Poisson problem.
EXPECTED_PARAMS = {("fit2d", "gmnm"): 1000, ("fit2d", "kan"): 1000, ("fit2d", "mlp_relu"): 1051,
                   ("fit2d", "mlp_tanh"): 1051, ("fit1d", "gmnm"): 300, ("fit1d", "kan"): 300,
                   ("fit1d", "mlp_relu"): 286, ("fit1d", "mlp_tanh"): 286,
                   ("poisson", "gmnm"): 4500, ("poisson", "pinn"): 5301, ("poisson", "kan"): 1300,
                   # LSTM: 4h(in + h + 2) + head; GMNM head: scale 300 + pi 100 + bias 1 (mu fixed)
                   ("timeseries", "lstm3"): 112, ("timeseries", "lstm3_gmnm"): 509,
                   ("timeseries", "lstm32"): 4897,
                   # Table 2's sizes (tests/test_classification.py checks them against the paper);
                   # CIFAR-100 differs from CIFAR-10 by its 100-class output layer only
                   ("mnist", "cnn"): 28_586, ("mnist", "cnn_att"): 32_874, ("mnist", "cnn_gmnm"): 29_946,
                   ("mnist", "cnn_gmnm_att"): 34_234, ("cifar10", "cnn"): 209_066, ("cifar10", "cnn_att"): 213_354,
                   ("cifar10", "cnn_gmnm"): 200_746, ("cifar10", "cnn_gmnm_att"): 205_034,
                   ("cifar100", "cnn"): 232_196, ("cifar100", "cnn_att"): 236_484,
                   ("cifar100", "cnn_gmnm"): 205_156, ("cifar100", "cnn_gmnm_att"): 209_444,
                   # Table 4's sizes (tests/test_generation.py checks them against the paper)
                   **{(e, m): n for e in ("cifar10_ae", "cifar100_ae") for m, n in (
                       ("ae", 2_814_019), ("ae_att", 3_225_539), ("ae_gmnm", 2_778_627),
                       ("ae_att_gmnm", 3_190_147))}}


def swept_models(experiment: str) -> list[str]:
    """The models the experiment's own sweep runs, from its composed hydra.sweeper.params."""
    from hydra import compose, initialize_config_dir
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"experiment={experiment}"], return_hydra_config=True)
    return cfg.hydra.sweeper.params.model.split(",")


CASES = [(e, m) for e in EXPERIMENTS for m in swept_models(e)]


def test_every_model_config_is_swept_somewhere():
    assert {m for _, m in CASES} == set(MODELS)


@pytest.mark.parametrize("experiment,model", CASES)
@pytest.mark.parametrize("profile", ["smoke", "quick", "paper"])
def test_every_config_composes_and_instantiates(compose_cfg, experiment, model, profile):
    cfg = compose_cfg(f"experiment={experiment}", f"model={model}", f"profile={profile}")
    assert cfg.experiment_name == experiment and cfg.model_name == model and cfg.profile_name == profile
    net = instantiate(cfg.model)
    task = instantiate(cfg.task)
    assert count_parameters(net) == EXPECTED_PARAMS[experiment, model]
    x = task.example_input(3)
    if cfg.task._target_.endswith("ReconstructionTask"):  # autoencoders give back an image
        assert net(x).shape == x.shape
    else:  # classifiers: one logit per class; regressors: one output
        assert net(x).shape == (3, cfg.dataset.classes if "dataset" in cfg else 1)


@pytest.mark.parametrize("experiment", ["fit1d", "fit2d"])
def test_experiment_values_beat_group_defaults(compose_cfg, experiment):
    # The experiment file sets lr 0.01 over trainer/default's 0.003: the order of the defaults
    # list decides which wins, and once it silently did not.
    assert compose_cfg(f"experiment={experiment}").trainer.optimizer.lr == 0.01
    assert compose_cfg(f"experiment={experiment}", "trainer.optimizer.lr=0.5").trainer.optimizer.lr == 0.5


def test_poisson_uses_adam_then_lbfgs_in_float64(compose_cfg):
    cfg = compose_cfg("experiment=poisson", "profile=paper")
    assert cfg.trainer.dtype == "float64" and cfg.trainer.optimizer._target_ == "torch.optim.Adam"
    assert cfg.trainer.finetune.optimizer._target_ == "torch.optim.LBFGS"


def test_trial_record(compose_cfg, tmp_path):
    cfg = compose_cfg("experiment=fit2d", "model=gmnm", "profile=smoke", "seed=3")
    record = run_trial(cfg)
    assert record["status"] == "complete" and record["seed"] == 3 and record["profile"] == "smoke"
    assert [row["step"] for row in record["history"]] == [0, 10, 20]
    s = record["summary"]
    assert s["n_params"] == 1000 and s["steps"] == 20 and s["device"].startswith("cpu")
    assert s["min_test_mse"] == min(r["test_mse"] for r in record["history"])
    assert s["final_test_mse"] == record["history"][-1]["test_mse"]
    assert s["ms_per_step"] > 0 and s["wall_time_s"] > 0
    assert (tmp_path / "store" / "fit2d" / f"{record['key']}.json").exists()


@pytest.mark.parametrize("model", ["gmnm", "kan"])
def test_same_seed_same_metrics(compose_cfg, tmp_path, model):
    first = run_trial(compose_cfg("experiment=fit1d", f"model={model}", "profile=smoke"))
    second = run_trial(compose_cfg("experiment=fit1d", f"model={model}", "profile=smoke",
                                   f"paths.store_dir={tmp_path / 'other'}"))
    assert first["key"] == second["key"]
    assert first["history"] == second["history"]  # bit-identical metrics
    third = run_trial(compose_cfg("experiment=fit1d", f"model={model}", "profile=smoke", "seed=1",
                                  f"paths.store_dir={tmp_path / 'other'}"))
    assert third["history"][-1] != first["history"][-1]


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
    assert record["summary"]["steps"] < 20


class NaNTask:
    """A task whose loss turns NaN at step 3: the loop must stop there and say so."""

    def __init__(self):
        self.calls = 0

    def batches(self, batch_size, generator):
        while True:
            yield None

    def loss(self, model, batch):
        self.calls += 1
        value = model.w.square().sum()
        return value * math.nan if self.calls >= 3 else value

    def evaluate(self, model):
        return {"w": float(model.w.detach().sum())}


def test_train_stops_on_nan():
    model = torch.nn.Module()
    model.w = torch.nn.Parameter(torch.ones(2))
    result = train(model, NaNTask(), [(torch.optim.SGD(model.parameters(), lr=0.1), 10, 1)],
                   batch_size=None, generator=torch.Generator(), device=torch.device("cpu"), progress=False)
    assert result.status == "diverged" and result.steps == 3
    assert [r["step"] for r in result.history] == [0, 1, 2, 3]
    assert math.isnan(result.history[-1]["loss"])


def test_bad_device_is_explained(compose_cfg):
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ValueError, match="CUDA is not available here; use trainer.device=auto"):
        run_trial(compose_cfg("model=mlp_relu", "profile=smoke", "trainer.device=cuda"))
