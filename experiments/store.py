"""The result store: one JSON record per trial, keyed by a hash of its resolved config.

Layout: <root>/<experiment>/<key>.json, the key from `experiments.config.trial_key`. A record
is written once, when its trial ends, to a temporary file in the same folder and renamed into place, so a killed sweep never leaves a
half-written record: a trial is either complete (or diverged) in the store or absent, and
re-running the sweep runs exactly the absent ones.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

FINISHED = ("complete", "diverged")


class ResultStore:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, experiment: str, key: str) -> Path:
        return self.root / experiment / f"{key}.json"

    def get(self, experiment: str, key: str) -> dict | None:
        path = self.path(experiment, key)
        return _read(path) if path.exists() else None

    def is_finished(self, experiment: str, key: str) -> bool:
        record = self.get(experiment, key)
        return record is not None and record.get("status") in FINISHED

    def put(self, record: dict) -> Path:
        path = self.path(record["experiment"], record["key"])
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(record, f, indent=1, allow_nan=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)  # atomic on POSIX: readers see the old file or the new one
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def records(self, experiment: str | None = None) -> Iterator[dict]:
        """Every finished record, optionally of one experiment; temporary files are skipped."""
        pattern = f"{experiment}/[!.]*.json" if experiment else "*/[!.]*.json"
        for path in sorted(self.root.glob(pattern)):
            yield _read(path)


def _read(path: Path) -> dict:
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"result store: {path} is not valid JSON ({e}); delete it and re-run "
                         f"the sweep to regenerate that trial") from e
