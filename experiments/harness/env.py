"""Where and how a trial runs: seeding, device choice, provenance (git commit, versions)."""

from __future__ import annotations

import os
import platform
import random
import subprocess
from pathlib import Path

import numpy as np
import torch

from experiments.harness.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("GMNM_ROOT", str(ROOT))  # conf/paths resolves every path from here
# the allowed values of trainer.dtype, trainer.device and trainer.vectorize (the config check reads them here)
DTYPES = {"float32": torch.float32, "float64": torch.float64}
DEVICES = r"auto|cpu|cuda(:\d+)?|mps"
VECTORIZE = (True, False, "auto")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def pick_device(name: str) -> torch.device:
    """'auto' -> CUDA when present, else CPU; anything else is taken as a torch device name."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise ConfigError(f"trainer.device={name!r} is not a device name; use auto, cpu or cuda") from e
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"trainer.device={name!r} but CUDA is not available here; use trainer.device=auto or trainer.device=cpu"
        )
    return device


def pick_dtype(name: str) -> torch.dtype:
    if name not in DTYPES:
        raise ConfigError(f"trainer.dtype must be one of {sorted(DTYPES)}, got {name!r}")
    return DTYPES[name]


def default_jobs() -> int:
    """How many trials `make reproduce` runs at once: one per usable CPU core on a CPU machine
    (small models are dominated by per-step overhead, so processes beat threads), one on a GPU
    (processes sharing one GPU time-slice it)."""
    return 1 if torch.cuda.is_available() else cpu_cores()


def cpu_cores() -> int:
    """CPU cores this process may use (respects affinity masks, unlike os.cpu_count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def git_commit() -> str:
    """HEAD's short hash, with '+dirty' when tracked code differs from it; outside a git checkout
    (a copied tree on a cluster node) the value of GMNM_GIT_COMMIT, else 'unknown'."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        # what the report (results/, docs/results.md, the README's generated blocks) and make tune
        # (conf/protocols/) rewrite says nothing about the code
        dirty = git(
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ".",
            ":(exclude)results",
            ":(exclude)docs/results.md",
            ":(exclude)README.md",
            ":(exclude)conf/protocols",
        )
    except (OSError, subprocess.SubprocessError):
        return os.environ.get("GMNM_GIT_COMMIT", "unknown")
    return commit + ("+dirty" if dirty else "")


def vectorize(choice: str | bool, device: torch.device) -> bool:
    """trainer.vectorize: true, false, or auto: on CUDA, where one small model leaves the device idle.
    On a CPU a stack of seeds is faster only for the smallest models (benchmarks/seeds.py): their
    steps are dominated by per-operation overhead, while larger ones lose the caches' locality."""
    if not any(choice == v and type(choice) is type(v) for v in VECTORIZE):
        raise ConfigError(f"trainer.vectorize must be true, false or auto, got {choice!r}")
    return device.type == "cuda" if choice == "auto" else choice
