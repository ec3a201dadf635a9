import os
import sys
from pathlib import Path

import pytest
import torch

import experiments  # noqa: F401  (registers the resolvers conf/ uses)

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("GMNM_ROOT", str(ROOT))

# `make test` runs one pytest-xdist worker per core. Each worker, and every process a test starts, then
# takes one thread: workers of several threads each oversubscribe the cores, slowing the subprocess tests.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"
    torch.set_num_threads(1)


def command(tmp_path, *overrides: str, multirun: bool = False) -> list[str]:
    """`python -m experiments.run` as a user types it, its store and logs under tmp_path, on the CPU."""
    return [
        sys.executable,
        "-m",
        "experiments.run",
        *(["--multirun"] if multirun else []),
        f"paths.store_dir={tmp_path / 'store'}",
        f"paths.log_dir={tmp_path / 'logs'}",
        "trainer.device=cpu",
        *overrides,
    ]


def run_cli(tmp_path, *overrides: str, multirun: bool = False, env: dict | None = None, timeout: float = 300):
    """command() run to its end from an empty folder, tmp_path/cwd (which a test can check stays empty)."""
    import subprocess

    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    return subprocess.run(
        command(tmp_path, *overrides, multirun=multirun),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def run_report(store, out, *args: str) -> int:
    """`python -m experiments.report --profile smoke` over `store` into `out`, in this process; its exit code."""
    from experiments.analysis.regenerate import main

    return main(["--store", str(store), "--out", str(out), "--profile", "smoke", *args])


def compose(*overrides: str, hydra: bool = False):
    """The runner's config for these overrides, as `python -m experiments.run` composes it."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=list(overrides), return_hydra_config=hydra)


@pytest.fixture
def compose_cfg(tmp_path):
    """Compose the runner's config like `python -m experiments.run`, writing into tmp_path."""

    def _compose(*overrides: str):
        return compose(
            f"paths.store_dir={tmp_path / 'store'}",
            f"paths.log_dir={tmp_path / 'logs'}",
            "trainer.device=cpu",
            *overrides,
        )

    return _compose


@pytest.fixture
def float64():
    """float64 as torch's default dtype for one test (hand-written references are float64)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


SHARED_MNIST = ROOT.parent / "shared" / "data" / "MNIST" / "raw"


@pytest.fixture(scope="session")
def mnist_root(tmp_path_factory):
    """A data root holding the real MNIST: ../shared/data's .gz files uncompressed as torchvision
    reads them, else $GMNM_DATA if it already holds MNIST."""
    import gzip
    import shutil

    files = sorted(SHARED_MNIST.glob("*-ubyte.gz"))
    if len(files) != 4:
        own = Path(os.environ.get("GMNM_DATA", "/nonexistent")).expanduser()
        if len(list((own / "MNIST" / "raw").glob("*-ubyte"))) == 4:
            return own
        pytest.skip(f"real MNIST not found in {SHARED_MNIST} nor in $GMNM_DATA/MNIST/raw")
    root = tmp_path_factory.mktemp("data")
    (root / "MNIST" / "raw").mkdir(parents=True)
    for f in files:
        with gzip.open(f, "rb") as src, open(root / "MNIST" / "raw" / f.name[:-3], "wb") as dst:
            shutil.copyfileobj(src, dst)
    return root


def write_cifar(root, name: str, n_train: int = 60, n_test: int = 30, seed: int = 0):
    """A small data set in CIFAR's real on-disk format (python pickle batches), for
    torchvision's own loader. Returns {split: (images (N, 32, 32, 3) uint8, labels)}."""
    import pickle

    import numpy as np

    rng = np.random.default_rng(seed)
    classes = 10 if name == "cifar10" else 100
    label_key = "labels" if name == "cifar10" else "fine_labels"
    folder = root / ("cifar-10-batches-py" if name == "cifar10" else "cifar-100-python")
    folder.mkdir(parents=True)
    made = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, classes, n).tolist()
        made[split] = (images, labels)
        rows = images.transpose(0, 3, 1, 2).reshape(n, 3072)  # CIFAR rows: 1024 R, 1024 G, 1024 B
        if name == "cifar10":
            files = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
        else:
            files = [split]
        for i, (file, part) in enumerate(zip(files, np.array_split(np.arange(n), len(files)))):
            entry = {
                "batch_label": f"{split} {i}",
                "data": rows[part],
                label_key: [labels[j] for j in part],
                "filenames": [f"img_{j}.png" for j in part],
            }
            if name == "cifar100":
                entry["coarse_labels"] = [lab // 5 for lab in entry[label_key]]
            with open(folder / file, "wb") as f:
                pickle.dump(entry, f)
    meta = (
        {"label_names": [f"class{k}" for k in range(10)]}
        if name == "cifar10"
        else {
            "fine_label_names": [f"fine{k}" for k in range(100)],
            "coarse_label_names": [f"coarse{k}" for k in range(20)],
        }
    )
    with open(folder / ("batches.meta" if name == "cifar10" else "meta"), "wb") as f:
        pickle.dump(meta, f)
    return made


@pytest.fixture(scope="session")
def cifar_root(tmp_path_factory):
    """A data root with generated CIFAR-10 and CIFAR-100 in the real format; returns (root, made)."""
    root = tmp_path_factory.mktemp("cifar")
    made = {name: write_cifar(root, name, seed=i) for i, name in enumerate(("cifar10", "cifar100"))}
    return root, made


def kill_after(cmd: list[str], cwd, store, n: int, timeout: float = 240) -> dict:
    """Start cmd, SIGKILL it as soon as `store` holds n records; those records, by key."""
    import signal
    import subprocess
    import time

    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while len(list(store.records())) < n:
        assert proc.poll() is None, "the sweep ended before it could be killed"
        assert time.monotonic() < deadline, "too few trials finished in time"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return {r["key"]: r for r in store.records()}


LINEUP = ["gmnm", "kan", "mlp_relu", "mlp_tanh"]


def fake(  # a fit2d record as the runner writes it, what the reports read
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
