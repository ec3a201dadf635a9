"""The result store: one JSON record per trial, keyed by a hash of its resolved config.

Layout: <root>/<experiment>/<key>.json, the key from `experiments.harness.config.trial_key`. A record
is written once, when its trial ends, to a temporary file in the same folder and renamed into
place, so a killed sweep never leaves a half-written record: a trial is either complete (or
diverged) in the store or absent, and re-running the sweep runs exactly the absent ones.

Beside the records:
- `<experiment>/.<key>.lock`: the claim of the process training that trial (experiments/harness/locks.py),
  so two sweeps over one store never train a trial twice;
- `<experiment>/corrupt/`: records that could not be read, moved aside (kept for a look) by the
  runner, which then trains their trials again. Readers that only read (the report) skip them and
  say how many they skipped.
- `steps/`: no experiment's, the step benchmark's measurements (benchmarks/claim_steps.py), one file
  per experiment and device, which the ledger's timing claims read: not trial records.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from experiments.harness.atomic import write_atomic
from experiments.harness.errors import UserError

FINISHED = ("complete", "diverged")
REQUIRED = ("key", "experiment", "status")  # what every reader relies on
CORRUPT = "corrupt"  # the folder, beside an experiment's records, of records moved aside
STEPS = "steps"  # the folder, beside the experiments', of the step benchmark's measurements
BENCH_METRIC = "bench_ms_per_step"  # the step benchmark's metric, which the timing claims read

log = logging.getLogger(__name__)


class StoreError(UserError, RuntimeError):
    """The store cannot be used as configured; the message says what to change."""


class CorruptRecord(ValueError):
    """A record file that is not a record: its path and why."""

    def __init__(self, path: Path, why: str):
        super().__init__(f"{path}: {why}")
        self.path, self.why = path, why


class ResultStore:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.skipped: list[CorruptRecord] = []  # unreadable records passed over by records()

    def path(self, experiment: str, key: str) -> Path:
        return self.root / experiment / f"{key}.json"

    def check_writable(self, experiment: str) -> None:
        """Raise StoreError now, before any training, if records of `experiment` cannot be written."""
        folder = self.root / experiment
        # creates nothing: the nearest folder that exists must take a new entry (a file probes it)
        existing = next(p for p in (folder, *folder.parents) if p.exists())
        why = None
        if not existing.is_dir():
            why = f"{existing} is a file, not a folder"
        else:
            try:
                fd, probe = tempfile.mkstemp(dir=existing, prefix=".probe-", suffix=".tmp")
                os.close(fd)
                os.unlink(probe)
            except OSError as e:
                why = f"{existing}: {e.strerror or e}"
        if why:
            raise StoreError(
                f"the result store cannot be written at {folder} ({why}); point "
                f"paths.store_dir at a folder you can write (or fix its permissions)"
            )

    def get(self, experiment: str, key: str) -> dict | None:
        """The record of a trial, or None. A record that cannot be read is moved aside into
        <experiment>/corrupt/ with one warning naming both paths, and counts as absent (its trial
        is then trained again)."""
        path = self.path(experiment, key)
        if not path.exists():
            return None
        try:
            return read(path)
        except CorruptRecord as e:
            self.move_aside(e)
            return None

    def finished(self, experiment: str, key: str) -> dict | None:
        """The trial's record if it finished (complete or diverged), else None: one read."""
        record = self.get(experiment, key)
        return record if record is not None and record.get("status") in FINISHED else None

    def move_aside(self, error: CorruptRecord) -> Path:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        target = error.path.parent / CORRUPT / f"{error.path.stem}.{stamp}.json"
        target.parent.mkdir(exist_ok=True)
        try:
            os.replace(error.path, target)
        except FileNotFoundError:  # another process moved it first
            return target
        log.warning(
            "result store: %s is not a readable record (%s); moved it to %s, and its trial is trained again",
            error.path,
            error.why,
            target,
        )
        return target

    def put(self, record: dict) -> Path:
        """Write a record whole or not at all: an OSError (a full disk) is a StoreError naming the store."""
        path = self.path(record["experiment"], record["key"])
        try:
            return write_atomic(path, json.dumps(record, indent=1, allow_nan=True), fsync=True)
        except OSError as e:
            raise StoreError(
                f"cannot write a record into the result store {self.root}: {e.strerror or e} ({path.name}); "
                f"free space there or point paths.store_dir elsewhere, then run again: finished trials are kept"
            ) from None

    def records(self, experiment: str | None = None) -> Iterator[dict]:
        """Every readable record, optionally of one experiment. Temporary files, locks and records
        moved aside are not records; a record that cannot be read is skipped and kept in
        `self.skipped` (the caller says how many), never raised."""
        pattern = f"{experiment}/[!.]*.json" if experiment else "*/[!.]*.json"
        for path in sorted(self.root.glob(pattern)):
            if path.parent.name == STEPS and path.parent.parent == self.root:
                continue
            try:
                yield read(path)
            except CorruptRecord as e:
                self.skipped.append(e)
            except FileNotFoundError:  # moved aside or replaced while listing
                continue


def remove_if_empty(folder: Path) -> None:
    """Remove folder if it holds nothing (made by a run that failed before its first record)."""
    with contextlib.suppress(OSError):  # not empty, or gone
        folder.rmdir()


def read(path: Path) -> dict:
    """The record in path; CorruptRecord saying why when it is not one."""
    try:
        with open(path) as f:
            record = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CorruptRecord(path, f"not valid JSON ({e})") from None
    if not isinstance(record, dict):
        raise CorruptRecord(path, f"a JSON {type(record).__name__}, not a record")
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise CorruptRecord(path, f"no {', '.join(missing)}: not a record of this store")
    if record["key"] != path.stem:
        raise CorruptRecord(path, f"holds the record of trial {record['key']}, not {path.stem}")
    return record
