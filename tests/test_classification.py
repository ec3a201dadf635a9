"""Image classification (§5.1): losses, models against Table 2, data loading, the task, trials."""

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import run_report
from hydra.utils import instantiate

from baselines import CNN, SelfAttention, SpatialSelfAttention
from experiments.classification.losses import cross_entropy, onehot_bce
from experiments.classification.task import ClassificationTask
from experiments.harness.runner import run_trial
from experiments.harness.store import ResultStore
from experiments.images.data import DatasetDamaged, DatasetUnavailable, load
from experiments.images.files import expected
from gmnm import count_parameters

ROOT = Path(__file__).resolve().parents[1]
MODELS = ["cnn", "cnn_att", "cnn_gmnm", "cnn_gmnm_att"]


def reference_losses(logits, labels):
    """float64 loops: softmax, -log p_y, and the one-hot BCE with Keras's clipping."""
    ce = bce = 0.0
    for z, y in zip(logits.tolist(), labels.tolist()):
        m = max(z)
        e = [math.exp(v - m) for v in z]
        p = [v / sum(e) for v in e]
        ce += -math.log(p[y])
        for k, pk in enumerate(p):
            pk = min(max(pk, 1e-7), 1 - 1e-7)
            bce += -(math.log(pk) if k == y else math.log(1 - pk)) / len(z)
    return ce / len(labels), bce / len(labels)


def test_losses_against_float64_loops():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(7, 5, generator=g, dtype=torch.float64) * 3
    labels = torch.randint(0, 5, (7,), generator=g)
    ce, bce = reference_losses(logits, labels)
    assert float(cross_entropy(logits, labels)) == pytest.approx(ce, rel=1e-12)
    assert float(onehot_bce(logits, labels)) == pytest.approx(bce, rel=1e-12)


def test_onehot_bce_saturated_is_finite_like_keras():
    logits = torch.tensor([[60.0, 0.0, -60.0], [0.0, 60.0, 0.0]], dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([1, 1])  # first row: confidently wrong; second: confidently right
    loss = onehot_bce(logits, labels)
    loss.backward()
    assert float(loss.detach()) == pytest.approx(reference_losses(logits.detach(), labels)[1], rel=1e-9)
    assert torch.isfinite(logits.grad).all()


@pytest.mark.parametrize("channels,expected", [(32, 4_288), (320, 411_520)])
@pytest.mark.parametrize("heads", [1, 4, 8])
def test_attention_block_matches_tables_2_and_4(channels, expected, heads):
    # Tables 2 and 4 add 4,288 and 411,520 for attention: 4 (C^2 + C) + 2C, whatever the heads
    assert count_parameters(SelfAttention(channels, heads)) == expected


def test_spatial_attention_mixes_positions_and_keeps_shape():
    torch.manual_seed(0)
    block = SpatialSelfAttention(8, 2).eval()
    x = torch.randn(2, 8, 3, 4)
    y = block(x)
    assert y.shape == x.shape
    x2 = x.clone()
    x2[:, :, 0, 0] += 1.0  # change one position: others must change too (attention mixes them)
    assert not torch.allclose(block(x2)[:, :, 2, 3], y[:, :, 2, 3])
    with pytest.raises(ValueError, match="divisible by heads"):
        SelfAttention(10, 4)


def paper_counts():
    with open(ROOT / "results" / "paper" / "table2_classification_size.csv") as f:
        return {row["model"]: row for row in csv.DictReader(f)}


@pytest.mark.parametrize("experiment,column", [("mnist", "n_params_mnist"), ("cifar10", "n_params_cifar")])
@pytest.mark.parametrize("model", ["cnn", "cnn_att", "cnn_gmnm"])
def test_parameter_counts_within_2_percent_of_table_2(compose_cfg, experiment, column, model):
    net = instantiate(compose_cfg(f"experiment={experiment}", f"model={model}").model)
    paper = int(paper_counts()[model][column])
    assert abs(count_parameters(net) - paper) <= 0.02 * paper
    if experiment == "mnist" and model != "cnn_gmnm":  # the natural design gives these exactly
        assert count_parameters(net) == paper


def test_cnn_rejects_too_many_blocks():
    with pytest.raises(ValueError, match="below 1px"):
        CNN(1, 8, 10, channels=[4, 4, 4, 4])


def test_real_mnist_loads_as_uint8_tensors(mnist_root):
    data = load("mnist", mnist_root, download=False)
    assert data.train_x.shape == (60_000, 1, 28, 28) and data.train_x.dtype == torch.uint8
    assert data.test_x.shape == (10_000, 1, 28, 28) and data.classes == 10
    # label counts from ../shared/data/README.md
    assert data.train_y.bincount().tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert data.test_y.bincount().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_generated_cifar_read_by_torchvision(cifar_root, name):
    root, made = cifar_root
    data = load(name, root, download=False, verify=False)
    for split, x, y in (("train", data.train_x, data.train_y), ("test", data.test_x, data.test_y)):
        images, labels = made[name][split]
        assert x.shape == (len(images), 3, 32, 32) and x.dtype == torch.uint8
        assert torch.equal(x, torch.from_numpy(images).permute(0, 3, 1, 2))  # HWC on disk -> CHW
        assert y.tolist() == labels
    assert data.classes == (10 if name == "cifar10" else 100)
    with pytest.raises(
        DatasetDamaged,
        match=f"{name} in .*: .*/data_batch_1: its md5 is [0-9a-f]{{32}}, not c99c"
        if name == "cifar10"
        else f"{name} in .*: .*/train: its md5 is [0-9a-f]{{32}}, not 1601",
    ):
        load(name, root, download=False, verify=True)  # generated files: their md5s cannot match


def test_missing_data_set_is_explained(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetUnavailable) as e:
        load("cifar100", tmp_path / "empty", download=False)
    message = str(e.value)
    assert f"cifar100: not found in {tmp_path / 'empty'} (missing: train, test, meta)" in message
    assert "cifar-100-python/{train,test,meta}" in message and "GMNM_DATA" in message
    assert list((tmp_path / "empty").iterdir()) == []


def test_a_data_folder_that_does_not_exist_is_not_created(tmp_path):
    with pytest.raises(DatasetUnavailable, match="the data folder .*nowhere does not exist.*paths.data_dir"):
        load("mnist", tmp_path / "nowhere", download=True)
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_a_damaged_cifar_file_is_named(cifar_root, tmp_path, name):
    import shutil

    root, _ = cifar_root
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    victim = next(iter(expected(name, copy)))
    victim.write_bytes(victim.read_bytes()[:100])
    with pytest.raises(DatasetDamaged, match=f"{victim}: it cannot be unpickled"):
        load(name, copy, download=False, verify=False)


def test_missing_data_set_from_the_command_line(tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    cmd = [
        sys.executable,
        "-m",
        "experiments.run",
        "experiment=mnist",
        "model=cnn",
        "profile=smoke",
        f"paths.store_dir={tmp_path / 'store'}",
        f"paths.log_dir={tmp_path / 'logs'}",
        "task.download=false",
        "trainer.device=cpu",
    ]
    (tmp_path / "nodata").mkdir()
    env = {**os.environ, "GMNM_DATA": str(tmp_path / "nodata")}
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"mnist: not found in {tmp_path / 'nodata'} (missing: train-images-idx3-ubyte" in r.stderr
    assert "download is off (task.download=false)" in r.stderr and "GMNM_DATA" in r.stderr
    assert not (tmp_path / "store").exists() and os.listdir(cwd) == []


def test_task_splits_and_normalizes_on_the_device(mnist_root):
    task = ClassificationTask("mnist", mnist_root, download=False)
    task.setup(torch.device("cpu"), torch.float32)
    sizes = {k: len(v[0]) for k, v in task.splits.items()}
    assert sizes == {"train": 54_000, "val": 6_000, "test": 10_000}
    assert task.splits["train"][0].dtype == torch.uint8  # stored compact, normalized per batch
    x = task.inputs(task.splits["train"][0][:5000])
    assert abs(float(x.mean())) < 0.05 and abs(float(x.std()) - 1) < 0.05
    # the split is drawn from split_seed alone: train and val are disjoint and reproducible
    again = ClassificationTask("mnist", mnist_root, download=False)
    again.setup(torch.device("cpu"), torch.float32)
    assert torch.equal(again.splits["val"][0], task.splits["val"][0])
    train_rows = {bytes(r) for r in task.splits["train"][0][:2000].flatten(1).numpy()}
    assert not train_rows & {bytes(r) for r in task.splits["val"][0].flatten(1).numpy()}


@pytest.mark.parametrize("dataset, shape, classes", [("cifar100", (3, 32, 32), 100), ("mnist", (1, 28, 28), 10)])
def test_a_task_sets_up_on_random_images_of_its_shapes(tmp_path, dataset, shape, classes):
    # what a step's time needs: the data set's shapes, not its files (the folder is empty)
    task = ClassificationTask(dataset, tmp_path, download=False, val_fraction=0.25)
    task.setup_synthetic(torch.device("cpu"), torch.float32, n=40)
    assert {k: tuple(v[0].shape) for k, v in task.splits.items()} == {
        "train": (30, *shape),
        "val": (10, *shape),
        "test": (40, *shape),
    }
    assert task.splits["train"][0].dtype == torch.uint8 and int(task.splits["train"][1].max()) < classes
    x = task.inputs(task.splits["train"][0])  # normalized by the random images' own statistics, as by real ones
    assert abs(float(x.mean())) < 1e-5 and float(x.std()) == pytest.approx(1.0, abs=0.05)
    with pytest.raises(DatasetUnavailable):
        task.setup(torch.device("cpu"), torch.float32)  # the real path still wants the files


def test_evaluate_does_not_depend_on_the_eval_batch(mnist_root):
    torch.manual_seed(0)
    model = CNN(1, 28, 10).eval()
    metrics = []
    for eval_batch in (1000, 37):
        task = ClassificationTask(
            "mnist", mnist_root, download=False, n_train=300, n_test=200, eval_batch_size=eval_batch
        )
        task.setup(torch.device("cpu"), torch.float64)
        metrics.append(task.evaluate(model.double()))
    assert metrics[0].keys() == {f"{s}_{m}" for s in ("train", "val", "test") for m in ("ce", "bce", "acc")}
    for k in metrics[0]:
        assert metrics[0][k] == pytest.approx(metrics[1][k], rel=1e-10)


@pytest.mark.parametrize("model", MODELS)
def test_mnist_smoke_trial(compose_cfg, mnist_root, model):
    record = run_trial(
        compose_cfg("experiment=mnist", f"model={model}", "profile=smoke", f"paths.data_dir={mnist_root}")
    )
    assert record["status"] == "complete"
    first, last = record["history"][0], record["history"][-1]
    assert first["test_ce"] == pytest.approx(math.log(10), abs=0.5)  # untrained: about uniform
    assert last["step"] == 8  # 256 images, batch 32, one epoch
    assert (last["test_acc"] * 256) == pytest.approx(round(last["test_acc"] * 256))  # a count of right answers
    assert last["train_ce"] < first["train_ce"]


@pytest.mark.parametrize("experiment", ["cifar10", "cifar100"])
@pytest.mark.parametrize("model", MODELS)
def test_cifar_smoke_trial_on_generated_data(compose_cfg, cifar_root, experiment, model):
    root, _ = cifar_root
    record = run_trial(
        compose_cfg(
            f"experiment={experiment}", f"model={model}", "profile=smoke", f"paths.data_dir={root}", "task.verify=false"
        )
    )
    assert record["status"] == "complete" and record["history"][-1]["step"] == 2  # 60 images, batch 32
    assert record["history"][0]["test_ce"] == pytest.approx(math.log(10 if experiment == "cifar10" else 100), abs=1.0)


def test_at_best_val_picks_the_epoch_on_validation():
    from experiments.classification.report import at_best_val

    record = {
        "history": [
            {"val_bce": 0.5, "test_bce": 0.40},
            {"val_bce": 0.2, "test_bce": 0.30},
            {"val_bce": 0.3, "test_bce": 0.10},
        ]
    }
    assert at_best_val(record, "test_bce", "bce") == 0.30  # not the test minimum, 0.10


def test_tables_2_and_3_report(compose_cfg, mnist_root, tmp_path):
    from experiments.harness.tableio import read_rows

    for model in ("cnn", "cnn_gmnm"):
        for seed in (0, 1):
            run_trial(
                compose_cfg(
                    "experiment=mnist",
                    f"model={model}",
                    "profile=smoke",
                    f"seed={seed}",
                    f"paths.data_dir={mnist_root}",
                )
            )
    out = tmp_path / "out"
    assert run_report(tmp_path / "store", out) == 0
    t2 = read_rows(out / "tables" / "classification_table2_smoke.csv")
    assert [(r["dataset"], r["model"], r["n_params"], r["paper_n_params"]) for r in t2] == [
        ("mnist", "cnn", "28586", "28586"),
        ("mnist", "cnn_gmnm", "29946", "29930"),
    ]
    t3 = read_rows(out / "tables" / "classification_table3_smoke.csv")
    gmnm = t3[1]
    assert (gmnm["model"], gmnm["paper_min_test_bce"], gmnm["n_runs"]) == ("cnn_gmnm", "6.081e-03", "2")
    records = [r for r in ResultStore(tmp_path / "store").records() if r["model"] == "cnn_gmnm"]
    assert float(gmnm["min_test_bce_mean"]) == pytest.approx(
        np.mean([r["summary"]["min_test_bce"] for r in records]), rel=1e-5
    )  # the CSV keeps 6 digits
    assert (out / "figures" / "classification_smoke.png").read_bytes()[:4] == b"\x89PNG"
    from experiments.classification.report import figure

    every = list(ResultStore(tmp_path / "store").records())
    panels = [(ax.get_title(), ax.get_ylabel(), len(ax.lines)) for ax in figure(every).axes]
    assert [(t.split(":")[1].split("(")[0].strip(), y, n) for t, y, n in panels] == [
        ("train one-hot BCE", "train one-hot BCE (log scale)", 2),  # one mean line a model
        ("test one-hot BCE", "test one-hot BCE (log scale)", 2),
    ]


def test_channels_last_changes_no_result():
    torch.manual_seed(0)
    nhwc = CNN(3, 32, 10, attention=True, channels_last=True).double().eval()
    nchw = CNN(3, 32, 10, attention=True, channels_last=False).double().eval()
    nchw.load_state_dict(nhwc.state_dict())
    x = torch.randn(4, 3, 32, 32, dtype=torch.float64)
    assert torch.allclose(nhwc(x), nchw(x), rtol=1e-10, atol=1e-12)
