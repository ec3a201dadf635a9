"""Image generation (§5.2): the autoencoders against Table 4, the task, trials and the report."""

import csv
import math
from pathlib import Path

import pytest
import torch
from conftest import run_report
from hydra.utils import instantiate

from baselines import AutoEncoder
from experiments.generation.task import ReconstructionTask, decode_images
from experiments.harness.runner import run_trial
from gmnm import count_parameters

ROOT = Path(__file__).resolve().parents[1]
MODELS = ["ae", "ae_att", "ae_gmnm", "ae_att_gmnm"]


def paper_counts():
    with open(ROOT / "results" / "paper" / "table4_generation_size.csv") as f:
        return {row["model"]: int(row["n_params"]) for row in csv.DictReader(f)}


@pytest.mark.parametrize(
    "model,count", [("ae", 2814019), ("ae_att", 3225539), ("ae_gmnm", 2778627), ("ae_att_gmnm", 3190147)]
)
def test_parameter_counts_exactly_and_within_2_percent_of_table_4(compose_cfg, model, count):
    net = instantiate(compose_cfg("experiment=cifar10_ae", f"model={model}").model)
    paper = paper_counts()[model]
    assert count_parameters(net) == count and abs(count - paper) <= 0.02 * paper


def test_attention_adds_table_4s_count(compose_cfg):
    counts = {
        m: count_parameters(instantiate(compose_cfg("experiment=cifar10_ae", f"model={m}").model)) for m in MODELS
    }
    assert counts["ae_att"] - counts["ae"] == 411_520 == counts["ae_att_gmnm"] - counts["ae_gmnm"]


class Constant(torch.nn.Module):
    def __init__(self, value, channels):
        super().__init__()
        self.value, self.channels = value, channels

    def forward(self, z):
        return torch.full((len(z), self.channels), self.value, dtype=z.dtype)


def test_gate_multiplies_the_decoders_channels():
    torch.manual_seed(0)
    plain = AutoEncoder(latent=16, encoder=[[8, 2]], decoder=[[8, 2]]).double()
    x = torch.rand(2, 3, 32, 32, dtype=torch.float64)
    ones = AutoEncoder(latent=16, encoder=[[8, 2]], decoder=[[8, 2]], gate=Constant(1.0, 8)).double()
    ones.load_state_dict(plain.state_dict())
    assert torch.equal(ones(x), plain(x))  # a gate of ones changes nothing
    zeros = AutoEncoder(latent=16, encoder=[[8, 2]], decoder=[[8, 2]], gate=Constant(0.0, 8)).double()
    zeros.load_state_dict(plain.state_dict())
    expected = torch.sigmoid(plain.out.bias).view(1, 3, 1, 1).expand(2, 3, 32, 32)
    assert torch.allclose(zeros(x), expected)  # all channels zeroed: only the output bias is left


def test_autoencoder_rejects_strides_that_do_not_undo():
    with pytest.raises(ValueError, match="must undo them"):
        AutoEncoder(encoder=[[8, 2], [8, 2]], decoder=[[8, 2]])


def test_task_and_artifacts_on_generated_cifar(cifar_root):
    root, made = cifar_root
    task = ReconstructionTask("cifar10", root, download=False, verify=False, n_show=4)
    task.setup(torch.device("cpu"), torch.float64)
    identity = torch.nn.Identity()
    assert task.evaluate(identity) == {"train_mse": 0.0, "test_mse": 0.0}
    half = task.evaluate(lambda x: x * 0 + 0.5)
    x = torch.from_numpy(made["cifar10"]["train"][0]).double() / 255
    assert half["train_mse"] == pytest.approx(float((x - 0.5).square().mean()), rel=1e-12)
    art = task.artifacts(identity)["reconstructions"]
    original = decode_images(art["original"], art["shape"])
    assert original.shape == (4, 3, 32, 32)
    assert torch.equal(original, torch.from_numpy(made["cifar10"]["test"][0][:4]).permute(0, 3, 1, 2))
    assert torch.equal(decode_images(art["reconstructed"], art["shape"]), original)


@pytest.mark.parametrize("experiment", ["cifar10_ae", "cifar100_ae"])
@pytest.mark.parametrize("model", MODELS)
def test_smoke_trial_on_generated_cifar(compose_cfg, cifar_root, experiment, model):
    root, _ = cifar_root
    record = run_trial(
        compose_cfg(
            f"experiment={experiment}", f"model={model}", "profile=smoke", f"paths.data_dir={root}", "task.verify=false"
        )
    )
    assert record["status"] == "complete" and record["history"][-1]["step"] == 2  # 60 images, batch 32
    assert math.isfinite(record["summary"]["min_test_mse"])
    assert record["artifacts"]["reconstructions"]["shape"] == [8, 3, 32, 32]


def test_tables_4_5_and_figures(compose_cfg, cifar_root, tmp_path):
    from experiments.harness.tableio import read_rows

    root, _ = cifar_root
    for model in ("ae", "ae_gmnm"):
        for seed in (0, 1):
            run_trial(
                compose_cfg(
                    "experiment=cifar10_ae",
                    f"model={model}",
                    "profile=smoke",
                    f"seed={seed}",
                    f"paths.data_dir={root}",
                    "task.verify=false",
                )
            )
    out = tmp_path / "out"
    assert run_report(tmp_path / "store", out) == 0
    t4 = read_rows(out / "tables" / "generation_table4_smoke.csv")
    assert [(r["model"], r["n_params"], r["paper_n_params"]) for r in t4] == [
        ("ae", "2814019", "2813167"),
        ("ae_gmnm", "2778627", "2778723"),
    ]
    t5 = read_rows(out / "tables" / "generation_table5_smoke.csv")
    assert (t5[1]["dataset"], t5[1]["paper_min_test_mse"], t5[1]["n_runs"]) == ("cifar10", "0.0153", "2")
    for name in ("generation_fig5_smoke.png", "generation_reconstructions_smoke.png"):
        assert (out / "figures" / name).read_bytes()[:4] == b"\x89PNG"


def test_channels_last_changes_no_result():
    torch.manual_seed(0)
    kw = dict(latent=32, encoder=[[8, 2], [8, 1]], decoder=[[8, 1], [8, 2]], attention=True, heads=4)
    nhwc = AutoEncoder(**kw, channels_last=True).double()
    nchw = AutoEncoder(**kw, channels_last=False).double()
    nchw.load_state_dict(nhwc.state_dict())
    x = torch.rand(3, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(nhwc(x), nchw(x), rtol=1e-10, atol=1e-12)
