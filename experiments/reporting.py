"""Helpers shared by the family reports: records to rows, aggregates, curves and plots.

Records are the dicts `experiments.run` writes. The row, aggregate and curve functions are
pure; `write_csv` and `save_figure` are the only writers (both atomic). The family reports
(experiments/<family>/report.py) decide what to tabulate and plot; nothing here is called
from the runner.
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


def plot_band(ax, x, band: dict[str, np.ndarray], color, label: str) -> None:
    """The mean line of a `curve_band` with its min-max band shaded in the same colour."""
    ax.plot(x, band["mean"], color=color, lw=1.4, label=label)
    ax.fill_between(x, band["low"], band["high"], color=color, alpha=0.2, lw=0)


def plot_epoch_curves(ax, groups: Iterable[tuple[str, list[dict]]], metric: str, colors: dict, title: str,
                      label: Callable[[str, list[dict]], str] = lambda model, recs: f"{model} ({len(recs)} runs)"
                      ) -> None:
    """One mean line and min-max band per (model, records) group, over epochs (the epoch
    protocols evaluate once per epoch), on a log scale. Diverged runs are left out while any
    run of the group completed."""
    for model, recs in groups:
        done = [r for r in recs if r["status"] == "complete"] or recs
        band = curve_band(done, metric)
        epochs = band["step"] / band["step"][1] if len(band["step"]) > 1 else band["step"]
        plot_band(ax, epochs, band, colors.get(model), label(model, done))
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("epoch")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def save_figure(fig, path: Path) -> Path:
    """Write fig as PNG atomically, then close it (reports make many figures in one process)."""
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".png")
    os.close(fd)
    fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    os.replace(tmp, path)
    plt.close(fig)
    return path


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.6g}"
    return "" if v is None else v
