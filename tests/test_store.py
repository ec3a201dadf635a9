import json

import pytest

from experiments.harness.config import config_hash, is_protocol, trial_key
from experiments.harness.store import ResultStore, StoreError

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


def record(key, status="complete"):
    return {"key": key, "experiment": "fit2d", "status": status, "history": []}


def test_put_get_and_listing(tmp_path):
    store = ResultStore(tmp_path)
    store.put(record("k1"))
    store.put(record("k2", "diverged"))
    (tmp_path / "fit2d" / ".leftover.tmp").write_text("{")  # a writer killed mid-write
    assert [r["key"] for r in store.records()] == ["k1", "k2"]
    assert store.finished("fit2d", "k1") and store.finished("fit2d", "k2")
    assert store.finished("fit2d", "k3") is None
    assert sorted(p.name for p in (tmp_path / "fit2d").iterdir()) == [".leftover.tmp", "k1.json", "k2.json"]


def test_failed_write_leaves_nothing(tmp_path):
    store = ResultStore(tmp_path)
    with pytest.raises(TypeError):
        store.put({**record("k1"), "bad": object()})
    assert not (tmp_path / "fit2d").exists()  # not even a temporary file: the record is encoded first


@pytest.mark.parametrize(
    "text,why",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "a JSON list, not a record"),
        ('{"key": "k1"}', "no experiment, status"),
        ('{"key": "k9", "experiment": "fit2d", "status": "complete"}', "holds the record of trial k9, not k1"),
    ],
)
def test_unreadable_record_is_skipped_and_counted_by_readers(tmp_path, text, why):
    store = ResultStore(tmp_path)
    store.put(record("k0"))
    (tmp_path / "fit2d" / "k1.json").write_text(text)
    assert [r["key"] for r in store.records()] == ["k0"]  # the report goes on with the rest
    [skipped] = store.skipped
    assert skipped.path == tmp_path / "fit2d" / "k1.json" and why in skipped.why
    assert (tmp_path / "fit2d" / "k1.json").read_text() == text  # a reader moves nothing


def test_unreadable_record_is_moved_aside_by_the_runner_and_its_trial_runs_again(tmp_path, caplog):
    store = ResultStore(tmp_path)
    (tmp_path / "fit2d").mkdir()
    (tmp_path / "fit2d" / "k1.json").write_text("{truncated")
    with caplog.at_level("WARNING"):
        assert store.finished("fit2d", "k1") is None  # absent, so its trial is trained again
    [moved] = (tmp_path / "fit2d" / "corrupt").iterdir()
    assert moved.name.startswith("k1.") and moved.read_text() == "{truncated"  # kept for a look
    assert not (tmp_path / "fit2d" / "k1.json").exists()
    [warning] = caplog.records
    assert "k1.json is not a readable record" in warning.getMessage() and str(moved) in warning.getMessage()
    store.put(record("k1"))
    assert [r["key"] for r in store.records()] == ["k1"]  # the folder of moved records is not read


def test_store_check_creates_nothing_and_names_the_folder(tmp_path):
    ResultStore(tmp_path / "new" / "store").check_writable("fit2d")  # a folder that does not exist yet: fine
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "afile").write_text("")
    with pytest.raises(
        StoreError, match=r"cannot be written at .*afile/store/fit2d \(.*afile is a file, not a folder\)"
    ):
        ResultStore(tmp_path / "afile" / "store").check_writable("fit2d")


def test_read_only_store_fails_before_any_training(tmp_path, monkeypatch):
    import errno
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(StoreError, match="Read-only file system.*point paths.store_dir at a folder you can write"):
        ResultStore(tmp_path).check_writable("fit2d")


def test_tensor_batches():
    import torch

    from experiments.harness.batching import tensor_batches

    x, y = torch.arange(10.0)[:, None], torch.arange(10.0)
    g = torch.Generator().manual_seed(0)
    keep = tensor_batches(x, y, 4, g)
    epoch = [next(keep) for _ in range(3)]  # 4 + 4 + 2: the last batch is kept
    assert [len(b[0]) for b in epoch] == [4, 4, 2]
    assert sorted(torch.cat([b[1] for b in epoch]).tolist()) == list(range(10))  # a permutation
    assert all(torch.equal(bx[:, 0], by) for bx, by in epoch)  # x and y stay paired
    drop = tensor_batches(x, y, 4, torch.Generator().manual_seed(0), drop_last=True)
    assert [len(next(drop)[0]) for _ in range(3)] == [4, 4, 4]  # the partial batch is dropped
    full = tensor_batches(x, y, None, g)
    assert next(full)[0] is x
