"""Pure functions from result-store records to long-format rows, aggregates and curves.

Records are the dicts `experiments.run` writes. Every function here is pure: the family
reports (experiments/<family>/report.py) decide what to tabulate and plot, and the caller
writes files. Figures are returned, never shown or saved here.
"""

from __future__ import annotations

import csv
import math
import os
import statistics
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np


def config_value(record: dict, dotted: str):
    node = record["config"]
    for part in dotted.split("."):
        node = node[part]
    return node


def group_by(records: Iterable[dict], key: Callable[[dict], tuple]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        groups[key(r)].append(r)
    return dict(sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))))


def describe(values: list[float]) -> dict[str, float]:
    """mean, std (sample; 0 for one value), median, min, max, n over the finite values."""
    v = [x for x in values if x is not None and math.isfinite(x)]
    if not v:
        return {"mean": math.nan, "std": math.nan, "median": math.nan, "min": math.nan,
                "max": math.nan, "n": 0}
    return {"mean": statistics.fmean(v), "std": statistics.stdev(v) if len(v) > 1 else 0.0,
            "median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}


def curve_band(records: list[dict], metric: str) -> dict[str, np.ndarray]:
    """Metric history over seeds on the common steps: mean line and min-max band.

    Diverged trials stop early; steps are kept while every trial still has them.
    """
    histories = [{row["step"]: row[metric] for row in r["history"]} for r in records]
    steps = sorted(set.intersection(*(set(h) for h in histories)))
    values = np.array([[h[s] for s in steps] for h in histories], dtype=float)  # (seeds, steps)
    return {"step": np.array(steps), "mean": values.mean(0), "low": values.min(0),
            "high": values.max(0)}


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> Path:
    """Header + rows, written atomically (temporary file renamed into place)."""
    columns = columns or list(dict.fromkeys(k for row in rows for k in row))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    with os.fdopen(fd, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _fmt(row.get(k)) for k in columns})
    os.replace(tmp, path)
    return path


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def save_figure(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".png")
    os.close(fd)
    fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    os.replace(tmp, path)
    return path


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.6g}"
    return "" if v is None else v
