"""A trial's identity (experiments/harness/config.py): what its key and its configuration hash depend on."""

import json

import pytest

from experiments.harness.config import config_hash, is_protocol, trial_key

CFG = {
    "experiment_name": "fit2d",
    "profile_name": "quick",
    "model_name": "gmnm",
    "seed": 0,
    "model": {"_target_": "gmnm.GMNM", "n_components": 4},
    "trainer": {"steps": 10, "device": "cpu", "progress": True},
    "task": {"level": 1, "root": "/data"},
    "paths": {"store_dir": "/a"},
    "models": {"gmnm": "tab:red"},
    "sizes": {"kan": {"grid": 5}},
    "scale": {"steps": 0.1},
}


def changed(path, value):
    out = json.loads(json.dumps(CFG))
    *parents, leaf = path.split(".")
    node = out
    for p in parents:
        node = node[p]
    node[leaf] = value
    return out


@pytest.mark.parametrize(
    "path,value",
    [
        ("paths.store_dir", "/b"),
        ("trainer.device", "cuda"),
        ("trainer.progress", False),
        ("task.root", "/elsewhere"),
        ("models.gmnm", "tab:blue"),
        ("sizes.kan.grid", 9),
        ("scale.steps", 1.0),
    ],
)
def test_key_ignores_what_does_not_change_the_trial(path, value):
    assert trial_key(changed(path, value)) == trial_key(CFG)
    assert len(trial_key(CFG)) == 16


@pytest.mark.parametrize(
    "path,value",
    [("seed", 1), ("trainer.steps", 11), ("model.n_components", 5), ("task.level", 2), ("profile_name", "paper")],
)
def test_key_changes_with_what_identifies_a_trial(path, value):
    assert trial_key(changed(path, value)) != trial_key(CFG)


def test_config_hash_is_the_key_without_the_seed():
    assert config_hash(changed("seed", 7)) == config_hash(CFG)
    assert config_hash(changed("trainer.steps", 11)) != config_hash(CFG)


@pytest.mark.parametrize(
    "overrides,protocol",
    [
        (None, True),
        (["experiment=fit2d", "profile=quick", "model=kan", "seed=3", "task.level=2"], True),
        (["experiment=fit2d", "paths.store_dir=/x", "trainer.device=cpu", "hydra.launcher.n_jobs=2"], True),
        (["experiment=fit2d", "trainer.optimizer.lr=0.1"], False),
        (["experiment=fit2d", "task.n_train=7"], False),
    ],
)
def test_protocol_trials_are_told_from_own_sweeps(overrides, protocol):
    assert is_protocol(overrides, ["task.level"]) is protocol
