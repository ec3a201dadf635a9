"""Helpers shared by the family reports: records to rows, aggregates, curves and plots.

Records are the dicts `experiments.run` writes. The row, aggregate and curve functions are
pure; `write_csv`, `write_text` and `save_figure` are the only writers (all atomic). The family reports
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


def models_in_order(records: list[dict]) -> list[str]:
    """The records' models in their experiment's lineup order (conf/lineup.yaml, kept in each
    record); models outside the lineup go last, by name."""
    lineup = max((r.get("lineup", []) for r in records), key=len, default=[])
    present = {r["model"] for r in records}
    return [m for m in lineup if m in present] + sorted(present - set(lineup))


def by_model(records: list[dict]) -> list[tuple[str, list[dict]]]:
    """(model, its records) in lineup order."""
    groups = group_by(records, lambda r: (r["model"],))
    return [(m, groups[(m,)]) for m in models_in_order(records)]


def style(records: list[dict]) -> tuple[dict[str, str], dict[str, str]]:
    """{model: colour} and {model: display name}, as the records carry them."""
    return ({r["model"]: r.get("color") for r in records}, {r["model"]: r.get("label", r["model"]) for r in records})


def describe(values: list[float]) -> dict[str, float]:
    """mean, std (sample; 0 for one value), median, min, max, n over the finite values."""
    v = [x for x in values if x is not None and math.isfinite(x)]
    if not v:
        return {"mean": math.nan, "std": math.nan, "median": math.nan, "min": math.nan,
                "max": math.nan, "n": 0}
    return {"mean": statistics.fmean(v), "std": statistics.stdev(v) if len(v) > 1 else 0.0,
            "median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}


def glance_row(experiment: str, profile: str, case: str, metric: str, rows: list[dict], *,
               paper_best: str = "", value: str = "mean", n: str = "n_seeds") -> dict:
    """One results-at-a-glance row: each model's value (lower is better) in lineup order, ours
    best, and the paper's best model (a model name) beside it. rows: one per model, holding
    `model`, `label`, `value` and `n` keys. Ours best is among the paper's kind of training: the
    least-squares rows (`*_lsq`, beyond the paper) are listed but do not decide whether we agree;
    the tuned protocol's rows (`*_tuned`) are ranked among themselves (ours_best_tuned)."""
    def best_of(keep: Callable[[str], bool]) -> dict | None:
        finite = [r for r in rows if isinstance(r[value], (int, float)) and math.isfinite(r[value]) and keep(r["model"])]
        return min(finite, key=lambda r: r[value]) if finite else None
    best = best_of(lambda m: not m.endswith(("_lsq", "_tuned")))
    tuned = best_of(lambda m: m.endswith("_tuned"))  # the tuned protocol's rows ranked among themselves
    labels = {r["model"]: r["label"] for r in rows}
    return {"experiment": experiment, "profile": profile, "case": case, "metric": metric,
            "n_seeds": min(int(r[n]) for r in rows),
            "ours": "; ".join(f"{r['label']} {r[value]:.2g}" for r in rows),
            "ours_best": best["label"] if best else "",
            "ours_best_tuned": tuned["label"] if tuned else "",
            "paper_best": labels.get(paper_best, paper_best),
            "agrees": "" if not (paper_best and best) else ("yes" if best["model"] == paper_best else "no")}


def paper_best(paper: list[dict], column: str, **match) -> str:
    """The model of the paper's rows (those matching `match`) with the lowest `column`; '' if none."""
    rows = [p for p in paper if all(p[k] == v for k, v in match.items())]
    return min(rows, key=lambda p: float(p[column]))["model"] if rows else ""


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


def write_text(path: Path, text: str) -> Path:
    """text into path, written atomically (a killed writer leaves the old file or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def plot_band(ax, x, band: dict[str, np.ndarray], color, label: str) -> None:
    """The mean line of a `curve_band` with its min-max band shaded in the same colour."""
    ax.plot(x, band["mean"], color=color, lw=1.4, label=label)
    ax.fill_between(x, band["low"], band["high"], color=color, alpha=0.2, lw=0)


def plot_epoch_curves(ax, groups: Iterable[tuple[str, list[dict]]], metric: str, title: str,
                      label: Callable[[str, list[dict]], str] | None = None) -> None:
    """One mean line and min-max band per (model, records) group, over epochs (the epoch
    protocols evaluate once per epoch), on a log scale, in each record's colour. Diverged runs
    are left out while any run of the group completed."""
    label = label or (lambda model, recs: f"{recs[0].get('label', model)} ({len(recs)} runs)")
    for model, recs in groups:
        done = [r for r in recs if r["status"] == "complete"] or recs
        band = curve_band(done, metric)
        epochs = band["step"] / band["step"][1] if len(band["step"]) > 1 else band["step"]
        plot_band(ax, epochs, band, recs[0].get("color"), label(model, done))
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
