"""What a claim reads from a record: a key of its summary, or a statistic of its history derived here.

A curve's metric can be read three ways (`ESTIMATORS`): its last evaluation (`final_x`), its minimum
(`min_x`) and the mean of its last tenth of evaluations (`last10_x`). A claim states one, the one its
sentence implies (docs/choices.md); the ledger shows the verdict under the other two beside it.
"""

from __future__ import annotations

import math

ESTIMATORS = {"final": "final", "min": "minimum", "last10": "mean of the last 10 %"}


def reread(metric: str, how: str) -> str:
    """The same curve read another way: reread("final_test_mse", "min") == "min_test_mse"."""
    for prefix in ESTIMATORS:
        if metric.startswith(f"{prefix}_"):
            return f"{how}_{metric[len(prefix) + 1 :]}"
    raise ValueError(f"{metric!r} is not a curve's final, min or last10 value")


def curve(record: dict, key: str) -> list[tuple[int, float]]:
    """(step, value) of a history metric at every evaluation where it is finite."""
    return [(row["step"], row[key]) for row in record.get("history", [])
            if isinstance(row.get(key), (int, float)) and math.isfinite(row[key])]  # fmt: skip


def last10(record: dict, key: str) -> float:
    """The mean of the last tenth of a curve's evaluations (at least one)."""
    values = [v for _, v in curve(record, key)]
    if not values:
        return math.nan
    tail = values[-max(1, math.ceil(len(values) / 10)) :]
    return sum(tail) / len(tail)


def monotonicity(record: dict, key: str = "train_mse") -> float:
    """(1 + net log decrease / total log variation) / 2 of a loss curve: 1 for a curve that only descends,
    1/2 for one that ends where it began however it moved, 0 for one that only rises. Scale-free, so a model
    with a lower loss is not more monotone for it; in (0, 1], so ratios of it are read on the log scale."""
    logs = [math.log(v) for _, v in curve(record, key) if v > 0]
    if len(logs) < 2:
        return math.nan
    variation = sum(abs(b - a) for a, b in zip(logs, logs[1:]))
    return 0.5 if variation == 0 else (1 + (logs[0] - logs[-1]) / variation) / 2


def plateau_gain(record: dict, key: str = "train_mse") -> float:
    """How far a loss still falls after the first tenth of training: its value at the first evaluation at or
    past a tenth of the steps over its minimum from there on (1: a plateau from then on). A later rise, such as
    overfitting, is not a plateau and does not lower it."""
    points = curve(record, key)
    if len(points) < 2:
        return math.nan
    tenth = points[-1][0] / 10
    later = [v for step, v in points if step >= tenth]
    return later[0] / min(later)


def at_fraction(record: dict, key: str, fraction: float) -> float:
    """A curve's value at the first evaluation at or past `fraction` of the steps."""
    points = curve(record, key)
    if not points:
        return math.nan
    return next(v for step, v in points if step >= fraction * points[-1][0])


def _ratio(a, b) -> float:
    ok = all(isinstance(v, (int, float)) and math.isfinite(v) for v in (a, b)) and b > 0
    return a / b if ok else math.nan


def run_median_ms_per_step(record: dict) -> float:
    """A run's median ms per step over its evaluation blocks. Timing claims read it: a run on a shared CPU has slow
    blocks that move a mean and not a median. NaN for a run trained compiled (trainer.compile: the paper's steps
    are eager ones) and for a record without it (a test's)."""
    summary = record["summary"]
    return math.nan if summary.get("compiled") else summary.get("median_ms_per_step", math.nan)


DERIVED = {
    "train_monotonicity": monotonicity,
    "train_plateau_gain": plateau_gain,
    "test_final_over_min": lambda r: _ratio(r["summary"].get("final_test_mse"), r["summary"].get("min_test_mse")),
    "test_mse_at_half": lambda r: at_fraction(r, "test_mse", 0.5),
    "bce_test_over_train": lambda r: _ratio(r["summary"].get("min_test_bce"), r["summary"].get("min_train_bce")),
    "test_error_rate": lambda r: 1 - r["summary"].get("final_test_acc", math.nan),
    "run_median_ms_per_step": run_median_ms_per_step,
}


def value(record: dict, metric: str) -> float:
    """A record's metric: a summary key, a statistic of DERIVED, or a curve's `last10_` mean; NaN where absent."""
    if metric in DERIVED:
        v = DERIVED[metric](record)
    elif metric.startswith("last10_"):
        v = last10(record, metric.removeprefix("last10_"))
    else:
        v = record["summary"].get(metric)
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else math.nan
