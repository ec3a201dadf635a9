"""Which device a trial runs on: never a silent fall back to the CPU, and a GPU's trials kept apart from a CPU's."""

import pytest
import torch
from conftest import fake, run_cli

from experiments.harness import env
from experiments.harness.errors import ConfigError


@pytest.fixture
def unusable_gpu(monkeypatch):
    """A machine whose NVIDIA driver is loaded but too old for this torch: CUDA is not available."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", "13.0")
    monkeypatch.setattr(env, "nvidia_driver", lambda: "470.82.01")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)


def test_a_gpu_torch_cannot_use_is_an_error_naming_the_driver_and_the_build(unusable_gpu):
    for name in ("auto", "cuda"):
        with pytest.raises(ConfigError) as e:
            env.pick_device(name)
        message = str(e.value)
        assert "470.82.01" in message and "CUDA 13.0" in message and "trainer.device=cpu" in message
        assert "\n" not in message


def test_a_gpu_hidden_on_purpose_or_none_at_all_leaves_auto_on_the_cpu(unusable_gpu, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert env.pick_device("auto") == torch.device("cpu")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    monkeypatch.setattr(env, "nvidia_driver", lambda: None)
    assert env.pick_device("auto") == torch.device("cpu")
    with pytest.raises(ConfigError, match="no NVIDIA driver is loaded"):
        env.pick_device("cuda")


def test_the_driver_version_is_read_from_the_kernel_modules_line(tmp_path, monkeypatch):
    version = tmp_path / "version"
    version.write_text("NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\n")
    real = env.Path
    monkeypatch.setattr(env, "Path", lambda p: version if p == "/proc/driver/nvidia/version" else real(p))
    assert env.nvidia_driver() == "535.104.05"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a machine without a usable GPU")
def test_asking_for_cuda_without_one_exits_2_with_one_line(tmp_path):
    r = run_cli(tmp_path, "experiment=fit2d", "profile=smoke", "trainer.device=cuda", env={"CUDA_VISIBLE_DEVICES": "0"})
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert "trainer.device='cuda'" in lines[0] and ("driver" in lines[0] or "CPU-only" in lines[0])
    assert not list((tmp_path / "store").rglob("*.json"))


def test_a_gpu_trial_has_a_key_of_its_own_and_a_cpu_trial_keeps_its_old_one():
    from experiments.harness.config import trial_key

    config = {"experiment_name": "fit2d", "model_name": "gmnm", "seed": 0, "trainer": {"lr": 0.01}}
    before = trial_key(config)  # a record from before devices counted
    assert trial_key({**config, "device_type": "cpu"}) == before
    assert trial_key({**config, "device_type": "cuda"}) != before


def test_a_report_keeps_gpu_and_cpu_seeds_apart():
    from experiments.analysis.selection import select

    def on(device, seed):
        r = fake("gmnm", 1, seed, 1.0, config_hash=f"h-{device}")
        r["config"]["device_type"] = device
        return r

    records = [on("cpu", 0), on("cpu", 1), on("cuda", 0)]
    kept, notes = select(records, lambda r: r["config_hash"])
    assert [r["config"]["device_type"] for r in kept] == ["cpu", "cpu"]  # the kind with the most records
    assert len(notes) == 1 and "1 record(s) of trials on another kind of device (cuda)" in notes[0]
    kept, _ = select(records, lambda r: r["config_hash"], device="cuda")
    assert [r["seed"] for r in kept] == [0] and kept[0]["config"]["device_type"] == "cuda"
    legacy = fake("gmnm", 1, 2, 1.0)  # no device_type: a CPU trial
    kept, notes = select([legacy, on("cpu", 0)], lambda r: r["config_hash"])
    assert len(kept) == 2 and not notes


def test_the_cpu_is_named_by_its_model():
    described = env.describe_device(torch.device("cpu"))
    assert described.startswith("cpu (") and "threads" in described
    assert env.cpu_model() in described


def test_jobs_spread_over_the_gpus_of_a_node(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    assert env.job_device(torch.device("cuda"), 6) == torch.device("cuda", 2)
    assert env.job_device(torch.device("cuda", 1), 6) == torch.device("cuda", 1)  # named: kept
    assert env.job_device(torch.device("cuda"), None) == torch.device("cuda")  # not a sweep's job
    assert env.job_device(torch.device("cpu"), 6) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("GMNM_JOBS_PER_GPU", "3")
    assert env.default_jobs() == 12
