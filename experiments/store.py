"""The result store: one JSON record per trial, keyed by a hash of its resolved config.

Layout: <root>/<experiment>/<key>.json. A record is written once, when its trial ends, to a
temporary file in the same folder and renamed into place, so a killed sweep never leaves a
half-written record: a trial is either complete (or diverged) in the store or absent, and
re-running the sweep runs exactly the absent ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Config keys that do not change a trial's result (where it runs, where files are read or go,
# checksum checks, display):
# a sweep re-run on another device or with another store path skips completed trials.
NON_IDENTIFYING = ("paths", "trainer.device", "trainer.progress", "task.root", "task.download", "task.verify")
FINISHED = ("complete", "diverged")


def trial_key(config: dict) -> str:
    """16 hex digits of the SHA-256 of the identifying part of a resolved config."""
    ident = json.loads(json.dumps(config))  # deep copy of plain data
    for dotted in NON_IDENTIFYING:
        *parents, leaf = dotted.split(".")
        node = ident
        for p in parents:
            node = node.get(p, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(leaf, None)
    blob = json.dumps(ident, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


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
