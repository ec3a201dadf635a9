"""What a tuning trial scores: validation data only, as the experiment's `tune` node says.

Pure functions over the records a trial's jobs return (one per point of the experiment's own
sweep, e.g. fit2d's four levels). No test metric and no exact solution is read here.
"""

from __future__ import annotations

import math

from experiments.harness.errors import ConfigError

REDUCTIONS = ("final", "min")  # the metric at the end of training, or its minimum over evaluations


def record_value(record: dict, metric: str, reduce: str) -> float | None:
    """One record's validation value; None when the trial diverged or the value is not finite."""
    if reduce not in REDUCTIONS:
        raise ConfigError(f"tune.reduce must be one of {REDUCTIONS}, got {reduce!r}")
    if record.get("status") != "complete":
        return None
    key = f"{reduce}_{metric}"
    if key not in record["summary"]:
        raise ConfigError(
            f"tune.metric={metric!r}: the {record['experiment']} records have no {key!r}; "
            f"validation metrics they have: {sorted(k for k in record['summary'] if k.startswith(('final_val', 'min_val')))}"
        )
    value = record["summary"][key]
    return value if isinstance(value, (int, float)) and math.isfinite(value) and value >= 0 else None


def trial_value(records: list[dict], metric: str, reduce: str) -> float | None:
    """The geometric mean over a trial's points of each one's validation value (levels differ by
    orders of magnitude: a plain mean would tune for the hardest alone); None (a failed trial,
    never a best value) when any point diverged."""
    values = [record_value(r, metric, reduce) for r in records]
    if not values or any(v is None for v in values):
        return None
    return math.exp(sum(math.log(max(v, 1e-300)) for v in values) / len(values))
