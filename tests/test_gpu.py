"""The CUDA path, on a machine with a GPU (`make test-gpu`); skipped where there is none, as on a CPU-only CI.

A smoke trial of every experiment (alone and with its seeds stacked), a kill and resume, the timing claims'
step benchmark, and the equality of GMNM's fused and readable paths and of our KAN and pykan's, on CUDA.
"""

import json
import subprocess
import sys

import pytest
import torch
import yaml
from conftest import command, kill_after, run_cli

from experiments.harness.env import ROOT
from experiments.harness.store import ResultStore

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (make test-gpu on one)")
CUDA = "trainer.device=cuda"
EXPERIMENTS = list(yaml.safe_load((ROOT / "conf" / "lineup.yaml").read_text()))


@pytest.mark.parametrize("stacked", [False, True], ids=["alone", "stacked"])
@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_a_smoke_trial_of_every_experiment_runs_on_cuda(tmp_path, experiment, stacked):
    seeds = ["seed_group=[0,1]", "trainer.vectorize=true"] if stacked else []
    r = run_cli(tmp_path, f"experiment={experiment}", "profile=smoke", CUDA, *seeds, timeout=600)
    if r.returncode != 0 and experiment.startswith("cifar") and "download" in r.stderr.lower():
        pytest.skip(f"{experiment}: its data set is not on this machine")
    assert r.returncode == 0, r.stderr[-2000:]
    records = list(ResultStore(tmp_path / "store").records())
    assert records and all(rec["config"]["device_type"] == "cuda" for rec in records)
    assert all(rec["summary"]["device"].startswith("cuda (") for rec in records)  # the GPU's model named


def test_a_killed_cuda_sweep_resumes_to_the_same_records(tmp_path):
    overrides = ["experiment=fit2d", "model=gmnm", "profile=smoke", CUDA, "task.level=0,1,2"]
    store = ResultStore(tmp_path / "store")
    kill_after(command(tmp_path, *overrides, multirun=True), tmp_path, store, 1)
    again = subprocess.run(command(tmp_path, *overrides, multirun=True), cwd=tmp_path, capture_output=True, text=True)
    assert again.returncode == 0 and len(list(store.records())) == 3, again.stderr[-2000:]
    alone = run_cli(tmp_path / "alone", "experiment=fit2d", "model=gmnm", "profile=smoke", CUDA, "task.level=2")
    assert alone.returncode == 0
    [mine] = [r for r in store.records() if r["config"]["task"]["level"] == 2]
    [theirs] = ResultStore(tmp_path / "alone" / "store").records()
    assert mine["history"] == theirs["history"]  # deterministic settings: bit for bit on one GPU


def test_the_claims_step_benchmark_runs_on_cuda(tmp_path):
    r = subprocess.run([sys.executable, "-m", "benchmarks.claim_steps", "--device", "cuda", "--rounds", "2",
                        "--store", str(tmp_path)], capture_output=True, text=True, timeout=600)  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    files = list(tmp_path.rglob("*.json"))
    assert files and all("cuda" in json.loads(f.read_text()).get("device", "") for f in files)


@pytest.mark.parametrize("projection", ["diag", "full", "ridge"])
def test_gmnms_fused_path_equals_the_readable_one_on_cuda(projection):
    from gmnm import GMNM

    torch.manual_seed(0)
    fast = GMNM(3, 2, 50, projection=projection, fused=True).double().cuda()
    slow = GMNM(3, 2, 50, projection=projection, fused=False).double().cuda()
    slow.load_state_dict(fast.state_dict())
    x = torch.randn(300, 3, dtype=torch.float64, device="cuda", requires_grad=True)
    for method in ("forward", "laplacian"):
        outs = [getattr(layer, method)(x) for layer in (fast, slow)]
        torch.testing.assert_close(outs[0], outs[1], rtol=1e-10, atol=1e-12)
        grads = [torch.autograd.grad(o.square().sum(), [x, *layer.parameters()], allow_unused=True)
                 for o, layer in zip(outs, (fast, slow))]  # fmt: skip
        for a, b in zip(*grads):
            if a is not None or b is not None:
                torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)


def test_our_kan_equals_pykans_on_cuda():
    from baselines.kan import KAN

    kw = dict(in_features=2, hidden=[5, 5], out_features=1, grid=20, k=3, seed=3, dtype=torch.float64)
    theirs, ours = KAN(**kw, impl="pykan").cuda(), KAN(**kw, impl="fast").cuda()
    x = (torch.rand(400, 2, dtype=torch.float64, device="cuda") * 4 - 2).requires_grad_(True)
    y_theirs, y_ours = theirs(x), ours(x)
    torch.testing.assert_close(y_ours, y_theirs, rtol=1e-10, atol=1e-10)
    g_theirs = torch.autograd.grad(y_theirs.sum(), x)[0]
    g_ours = torch.autograd.grad(y_ours.sum(), x)[0]
    torch.testing.assert_close(g_ours, g_theirs, rtol=1e-10, atol=1e-10)
