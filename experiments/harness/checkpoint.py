"""Training that survives a kill: a trial's (or a vectorised group's) state, saved every so often.

At evaluation points, at most every `trainer.checkpoint_every_s` seconds, the trainer saves the model's
tensors (a group's stacked ones), the optimizer's state, the history so far, the global random states and
the step; written atomically beside the records as `<experiment>/.<key>.ckpt` and removed once the record is
written. A re-run of the trial finds it and continues from there: the batch stream is replayed to the step
(drawing a batch trains nothing), so its metrics are bit-identical to an uninterrupted run's on the same
machine, torch and thread count (on CUDA: the same GPU model, with trainer.deterministic). A checkpoint made by
other code, another torch, device (a CPU or GPU model) or thread count (stale), or one that cannot be read
(corrupt), is not trusted: a warning, and the trial starts at step 0.
"""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path

import torch

from experiments.harness.atomic import write_atomic
from experiments.harness.errors import first_line

log = logging.getLogger(__name__)


def checkpoint_path(record_path: Path, keys: list[str] | None = None) -> Path:
    """<experiment>/<key>.json -> <experiment>/.<key>.ckpt; a group of seeds: its keys joined."""
    name = "+".join(keys) if keys else record_path.stem
    return record_path.with_name(f".{name}.ckpt")


def random_state(device: torch.device) -> dict:
    """The global generators a resumed run must continue: the CPU's, and the trial's own GPU's (only its:
    a checkpoint names its GPU model in its metadata, and another node may have another number of GPUs)."""
    out = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        out["cuda"] = torch.cuda.get_rng_state(device)
    return out


def set_random_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


class Checkpoint:
    """One trial's (or group's) checkpoint file. meta: what must match for it to be trusted."""

    def __init__(self, path: Path, every_s: float | None, meta: dict):
        self.path, self.every_s, self.meta = Path(path), every_s, meta
        self._last = self._since = time.monotonic()
        # seconds trained by the processes before this one, as their last save recorded them: a
        # resumed trial's record adds them to its own time, so its cost is not understated
        self.trained_before_s = 0.0

    def load(self) -> dict | None:
        """The saved state, or None: absent, unreadable or stale (each of the last two with a warning)."""
        self._since = time.monotonic()  # training starts (or resumes) now
        if not self.path.exists():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=False)
            made_by = state["meta"]
        except Exception as e:  # a torn or foreign file: whatever torch raises, it is not to be trusted
            log.warning("ignoring the unreadable checkpoint %s (%s): training from step 0", self.path, first_line(e))
            return None
        if made_by != self.meta:
            differs = ", ".join(
                f"{k} {made_by.get(k)!r} here {v!r}" for k, v in self.meta.items() if made_by.get(k) != v
            )
            log.warning("ignoring the stale checkpoint %s (%s): training from step 0", self.path, differs)
            return None
        self.trained_before_s = float(state["trained_s"])
        log.info("resuming from %s at step %d", self.path, state["step"])
        return state

    def due(self) -> bool:
        return self.every_s is not None and time.monotonic() - self._last >= self.every_s

    def save(self, state: dict) -> None:
        """Write the state whole or not at all; a full disk is a StoreError naming the store."""
        from experiments.harness.store import StoreError

        buffer = io.BytesIO()
        trained_s = self.trained_before_s + time.monotonic() - self._since
        torch.save({**state, "trained_s": trained_s, "meta": self.meta}, buffer)
        try:
            write_atomic(self.path, buffer.getvalue(), fsync=True)
        except OSError as e:
            raise StoreError(
                f"cannot write a checkpoint into the result store {self.path.parent.parent}: {e.strerror or e} "
                f"({self.path.name}); free space there or point paths.store_dir elsewhere, then run again"
            ) from None
        self._last = time.monotonic()

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
