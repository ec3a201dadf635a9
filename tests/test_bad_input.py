"""Every bad input a careful user tried, from the command line: exit 2, one line naming the key
(or file) and what is allowed, no traceback, and the result store as it was (here: absent)."""

import os
import subprocess
import sys

import pytest

from experiments.store import ResultStore


def run(tmp_path, *overrides, multirun=False, env=None):
    cmd = [sys.executable, "-m", "experiments.run", *(["--multirun"] if multirun else []),
           f"paths.store_dir={tmp_path / 'store'}", f"paths.log_dir={tmp_path / 'logs'}", "trainer.device=cpu",
           "profile=smoke", *overrides]
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def refused(r, tmp_path, *expected):
    assert r.returncode == 2, r.stderr[-2000:]
    [line] = [x for x in r.stderr.strip().splitlines() if not x.startswith("[")]  # Hydra's log lines aside
    assert line.startswith("error: ") and "Traceback" not in r.stderr
    for text in expected:
        assert text in line
    assert not (tmp_path / "store").exists()  # nothing half-written, not even a folder
    assert os.listdir(tmp_path / "cwd") == []
    return line


@pytest.mark.parametrize("overrides,expected", [
    (["experiment=fit2d", "seed=abc"], ["seed='abc': must be an integer >= 0"]),
    (["experiment=fit2d", "seed=1.5"], ["seed=1.5: must be an integer >= 0"]),
    (["experiment=fit2d", "trainer.optimizer.lr=fast"], ["trainer.optimizer.lr='fast': must be a number > 0"]),
    (["experiment=fit2d", "trainer.batch_size=0"], ["trainer.batch_size=0: must be an integer >= 1, or null (full batch)"]),
    (["experiment=timeseries", "trainer.epochs=-1"], ["trainer.epochs=-1: must be an integer >= 1"]),
    (["experiment=fit2d", "task.n_train=0"], ["task.n_train=0: must be an integer >= 2"]),
    (["experiment=fit2d", "task.level=7"], ["task.level=7: must be one of 0, 1, 2, 3"]),
    (["experiment=poisson", "trainer.finetune.steps=0"], ["trainer.finetune.steps=0: must be an integer >= 1"]),
    (["experiment=mnist", "trainer.dtype=float16"], ["trainer.dtype='float16': must be one of float32, float64"]),
    (["experiment=timeseries", "trainer.vectorize=maybe"], ["trainer.vectorize='maybe': must be one of true, false, auto"]),
    (["experiment=mnist", "model=kan"], ["experiment=mnist does not take model=kan; its models: cnn, cnn_att"]),
    (["experiment=mnist", "paths.data_dir=/nonexistent/gmnm-mnist"],
     ["the data folder /nonexistent/gmnm-mnist does not exist", "paths.data_dir"]),
    (["experiment=fit2d", "sizes.gmnm.n_components=0"], ["model=gmnm cannot be built from its config"]),
])
def test_bad_value_is_refused_before_any_work(tmp_path, overrides, expected):
    refused(run(tmp_path, *overrides), tmp_path, *expected)
    assert not os.path.exists("/nonexistent/gmnm-mnist")  # no folder made for a path that does not exist


@pytest.mark.parametrize("overrides,expected", [
    (["experiment=fit2d", "seed=0,abc"], ["seed='abc' (of seed_group=[0, 'abc'])"]),
    (["experiment=fit2d", "trainer.optimizer.lr=0.1,fast", "hydra/launcher=joblib"],
     ["trainer.optimizer.lr='fast': must be a number > 0"]),
])
def test_a_sweep_is_checked_whole_before_its_first_job(tmp_path, overrides, expected):
    refused(run(tmp_path, *overrides, multirun=True), tmp_path, *expected)


def test_full_traceback_on_request(tmp_path):
    r = run(tmp_path, "experiment=fit2d", "seed=abc", env={"HYDRA_FULL_ERROR": "1"})
    assert r.returncode != 0 and "Traceback" in r.stderr and "ConfigError: seed='abc'" in r.stderr


def test_unwritable_store_fails_before_training(tmp_path):
    (tmp_path / "afile").write_text("")
    r = run(tmp_path, "experiment=fit2d", f"paths.store_dir={tmp_path / 'afile' / 'store'}")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "the result store cannot be written at" in r.stderr and "paths.store_dir" in r.stderr
    assert "complete fit2d" not in r.stdout  # nothing trained


@pytest.fixture
def damaged_mnist(tmp_path, mnist_root):
    """A data root with the real MNIST, its training images cut short."""
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in (mnist_root / "MNIST" / "raw").iterdir():
        if f.name == "train-images-idx3-ubyte":
            (raw / f.name).write_bytes(f.read_bytes()[:1_000_000])
        else:
            (raw / f.name).symlink_to(f)
    return tmp_path / "data"


def test_truncated_data_file_is_named_not_called_missing(tmp_path, damaged_mnist):
    line = refused(run(tmp_path, "experiment=mnist", f"paths.data_dir={damaged_mnist}"), tmp_path,
                   "train-images-idx3-ubyte: truncated: 1,000,000 bytes, its header says 47,040,016")
    assert "not found" not in line


def test_fetch_tells_missing_from_damaged(tmp_path, damaged_mnist):
    def fetch(data):
        return subprocess.run([sys.executable, "-m", "experiments.fetch", "mnist", f"paths.data_dir={data}",
                               "task.download=false"], capture_output=True, text=True, timeout=120)
    empty = tmp_path / "empty"
    empty.mkdir()
    missing, damaged = fetch(empty), fetch(damaged_mnist)
    assert missing.returncode == 3 and "not found in" in missing.stderr and "missing: train-images" in missing.stderr
    assert damaged.returncode == 4 and "train-images-idx3-ubyte: truncated" in damaged.stderr
    assert list(empty.iterdir()) == []


def test_corrupt_record_is_moved_aside_and_its_trial_trained_again(tmp_path):
    args = ["experiment=fit2d", "model=gmnm"]
    assert run(tmp_path, *args).returncode == 0
    [path] = (tmp_path / "store" / "fit2d").glob("*.json")
    good = path.read_text()
    path.write_text(good[: len(good) // 2])  # a record cut short (a disk that filled up)
    r = run(tmp_path, *args)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"{path} is not a readable record" in r.stdout + r.stderr and "moved it to" in r.stdout + r.stderr
    [kept] = (tmp_path / "store" / "fit2d" / "corrupt").iterdir()
    assert kept.read_text() == good[: len(good) // 2]
    [record] = ResultStore(tmp_path / "store").records()
    assert record["status"] == "complete" and path.exists()
