import json

import pytest

from experiments.store import ResultStore, trial_key

CFG = {"seed": 0, "model": {"_target_": "gmnm.GMNM", "n_components": 4},
       "trainer": {"steps": 10, "device": "cpu", "progress": True},
       "paths": {"store_dir": "/a"}}


def test_key_ignores_where_and_how_it_is_shown():
    moved = json.loads(json.dumps(CFG))
    moved["paths"]["store_dir"] = "/b"
    moved["trainer"]["device"] = "cuda"
    moved["trainer"]["progress"] = False
    assert trial_key(moved) == trial_key(CFG)
    assert len(trial_key(CFG)) == 16


@pytest.mark.parametrize("path,value", [("seed", 1), ("trainer.steps", 11), ("model.n_components", 5)])
def test_key_changes_with_what_identifies_a_trial(path, value):
    changed = json.loads(json.dumps(CFG))
    *parents, leaf = path.split(".")
    node = changed
    for p in parents:
        node = node[p]
    node[leaf] = value
    assert trial_key(changed) != trial_key(CFG)


def record(key, status="complete"):
    return {"key": key, "experiment": "fit2d", "status": status, "history": []}


def test_put_get_and_listing(tmp_path):
    store = ResultStore(tmp_path)
    store.put(record("k1"))
    store.put(record("k2", "diverged"))
    (tmp_path / "fit2d" / ".leftover.tmp").write_text("{")  # a writer killed mid-write
    assert [r["key"] for r in store.records()] == ["k1", "k2"]
    assert store.is_finished("fit2d", "k1") and store.is_finished("fit2d", "k2")
    assert not store.is_finished("fit2d", "k3")
    assert sorted(p.name for p in (tmp_path / "fit2d").iterdir()) == [".leftover.tmp", "k1.json", "k2.json"]


def test_failed_write_leaves_nothing(tmp_path):
    store = ResultStore(tmp_path)
    with pytest.raises(TypeError):
        store.put({**record("k1"), "bad": object()})
    assert list((tmp_path / "fit2d").iterdir()) == []


def test_corrupt_record_names_the_file(tmp_path):
    (tmp_path / "fit2d").mkdir()
    (tmp_path / "fit2d" / "k1.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"k1.json is not valid JSON.*delete it and re-run"):
        list(ResultStore(tmp_path).records())


def test_tensor_batches():
    import torch
    from experiments.batching import tensor_batches
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
