"""Where and how a trial runs: seeding, device choice, provenance (git commit, versions)."""

from __future__ import annotations

import os
import platform
import random
import re
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
    """'auto' -> CUDA when torch can use it, the CPU where the machine has no NVIDIA GPU (or hides them:
    CUDA_VISIBLE_DEVICES empty or -1); anything else is taken as a torch device name. A GPU that is there
    but unusable (a driver too old for this torch's CUDA build) is an error, never a silent fall back to
    the CPU: a GPU allocation would train for hours on its host."""
    if name == "auto":
        if device_type("auto") == "cuda":
            return torch.device("cuda")
        if nvidia_driver() is not None and not gpus_hidden():
            raise ConfigError(
                f"trainer.device=auto: this machine has an NVIDIA GPU that torch cannot use: {cuda_unusable()}; "
                f"or train on its CPU with trainer.device=cpu"
            )
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise ConfigError(f"trainer.device={name!r} is not a device name; use auto, cpu or cuda") from e
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"trainer.device={name!r}: {cuda_unusable()}; or trainer.device=cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ConfigError(f"trainer.device={name!r}: this process sees {torch.cuda.device_count()} GPU(s)")
    return device


def device_type(name: str) -> str:
    """The kind of device trainer.device names ("cpu", "cuda"), without checking it can be used: what a trial's
    identity records (conf/config.yaml's device_type). "auto" is CUDA exactly when torch can use it."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(name).split(":")[0]


def nvidia_driver() -> str | None:
    """The loaded NVIDIA kernel driver's version (Linux: /proc/driver/nvidia/version), or None."""
    try:
        text = Path("/proc/driver/nvidia/version").read_text()
    except OSError:
        return None
    found = re.search(r"Kernel Module\s+(?:for \S+\s+)?(\d+(?:\.\d+)+)", text)
    return found.group(1) if found else text.splitlines()[0].strip()


def gpus_hidden() -> bool:
    """CUDA_VISIBLE_DEVICES set to nothing (or -1): the user asks for no GPU."""
    return os.environ.get("CUDA_VISIBLE_DEVICES", "unset").strip() in ("", "-1")


def cuda_unusable() -> str:
    """Why torch cannot use CUDA here, in words naming what is missing (the driver, the build)."""
    build = f"torch {torch.__version__}"
    if torch.version.cuda is None:
        return f"{build} is a CPU-only build; install a CUDA build (docs/running.md, A GPU)"
    driver = nvidia_driver()
    if driver is None:
        return f"no NVIDIA driver is loaded (/proc/driver/nvidia/version is absent); {build} is built for CUDA {torch.version.cuda}"
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    shown = f"; CUDA_VISIBLE_DEVICES={visible!r}" if visible is not None else ""
    return (
        f"NVIDIA driver {driver} cannot run {build}'s CUDA {torch.version.cuda} build (a driver older than the build "
        f"needs, or no GPU visible{shown}); install the torch for your driver (docs/running.md, A GPU)"
    )


def make_deterministic(device: torch.device) -> None:
    """On CUDA, what makes a trial repeat bit for bit on the same GPU model, driver, torch and code: no TF32,
    cuDNN's deterministic algorithms, deterministic cuBLAS workspaces, and PyTorch's deterministic kernels
    where it has them (a warning names an operation without one). On a CPU this changes nothing: its
    kernels are already deterministic for a fixed thread count."""
    if device.type != "cuda":
        return
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # read when cuBLAS starts: before any matmul
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def pick_dtype(name: str) -> torch.dtype:
    if name not in DTYPES:
        raise ConfigError(f"trainer.dtype must be one of {sorted(DTYPES)}, got {name!r}")
    return DTYPES[name]


JOBS_PER_GPU = 4  # default of GMNM_JOBS_PER_GPU: see default_jobs


def default_jobs() -> int:
    """How many trials `make reproduce` runs at once: one per usable CPU core on a CPU machine (small models
    are dominated by per-step overhead, so processes beat threads); on GPUs, GMNM_JOBS_PER_GPU (default 4)
    per visible GPU. This suite's models are small: one trial's step is mostly kernel-launch latency, which
    other processes' kernels fill (each job is a process of its own, so a CUDA error ends one trial only).
    The runner spreads jobs over the GPUs by job number (experiments/harness/runner.py)."""
    if not torch.cuda.is_available():
        return cpu_cores()
    per_gpu = int(os.environ.get("GMNM_JOBS_PER_GPU", JOBS_PER_GPU))
    return max(1, per_gpu) * torch.cuda.device_count()


def job_device(device: torch.device, job: int | None) -> torch.device:
    """A sweep's job on a node of several GPUs takes GPU job mod count (`cuda` without an index); a device
    named with its index, one GPU, or a CPU stays as it is."""
    if device.type != "cuda" or device.index is not None or job is None or torch.cuda.device_count() < 2:
        return device
    return torch.device("cuda", job % torch.cuda.device_count())


def cpu_cores() -> int:
    """CPU cores this process may use (respects affinity masks, unlike os.cpu_count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def describe_device(device: torch.device) -> str:
    """The device in words that say which machine a number needs: the GPU's or the CPU's model."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({cpu_model()}, {torch.get_num_threads()} threads)"


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo on Linux; else what the platform says)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


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
