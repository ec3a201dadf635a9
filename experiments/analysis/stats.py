"""Seeds in, intervals and verdicts out: the aggregation behind the claims ledger and the ablation.

Pure functions, no I/O, in the manner of rliable: a point estimate over runs with a percentile
bootstrap interval (scipy.stats.bootstrap, 10,000 resamples, a fixed random state so a report is
reproducible). Percentile rather than BCa: BCa's acceleration is undefined for the constant
samples a deterministic model gives (the least-squares head on a grid).

Effects are ratios (our metric over a competitor's): every metric here is a loss or a time, and
losses of different models differ by orders of magnitude, so a ratio is judged on the log scale:
the effect is the geometric mean of the per-seed ratios where seeds pair (same seed index: same
data, same split), else the ratio of geometric means, each with its bootstrap interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
RESAMPLES = 10_000
MIN_SEEDS = 3  # fewer runs give no interval worth a verdict (two seeds: the bootstrap sees 3 distinct means)

REPRODUCED, CONTRADICTED, INCONCLUSIVE, NOT_MEASURED = "reproduced", "contradicted", "inconclusive", "not measured here"


@dataclass(frozen=True)
class Interval:
    """A point estimate with its 95 % interval over n runs (NaN bounds where n < 2)."""

    estimate: float
    low: float
    high: float
    n: int
    paired: bool = True


def _finite(values) -> np.ndarray:
    v = np.asarray([x for x in values if x is not None], dtype=float)
    return v[np.isfinite(v)]


def _bootstrap(samples: tuple[np.ndarray, ...], statistic, *, paired: bool, seed: int) -> tuple[float, float]:
    if all(np.ptp(s) == 0 for s in samples):  # constant samples: every resample gives the estimate
        value = float(statistic(*samples, axis=-1))
        return value, value
    res = stats.bootstrap(
        samples,
        statistic,
        paired=paired,
        vectorized=True,
        n_resamples=RESAMPLES,
        confidence_level=CONFIDENCE,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def mean_interval(values, *, seed: int = 0) -> Interval:
    """Mean of the finite values and its percentile-bootstrap 95 % interval."""
    v = _finite(values)
    if len(v) == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    if len(v) == 1:
        return Interval(float(v[0]), math.nan, math.nan, 1)
    low, high = _bootstrap((v,), np.mean, paired=True, seed=seed)
    return Interval(float(v.mean()), low, high, len(v))


def ratio_effect(ours: dict, theirs: dict, *, seed: int = 0) -> Interval:
    """Our metric over theirs, per seed: {seed: value} each; positive values (losses, times).

    Seeds both have: the geometric mean of the paired ratios, its interval from resampling the seeds
    (paired=True). No common seed: the ratio of the geometric means, the two samples resampled apart."""
    ours = {s: float(v) for s, v in ours.items() if _positive(v)}
    theirs = {s: float(v) for s, v in theirs.items() if _positive(v)}
    common = sorted(set(ours) & set(theirs))
    if common:
        logs = np.log([ours[s] / theirs[s] for s in common])
        if len(logs) == 1:
            return Interval(float(np.exp(logs[0])), math.nan, math.nan, 1)
        low, high = _bootstrap((logs,), np.mean, paired=True, seed=seed)
        return Interval(float(np.exp(logs.mean())), math.exp(low), math.exp(high), len(logs))
    a, b = np.log(list(ours.values())), np.log(list(theirs.values()))
    n = min(len(a), len(b))
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, paired=False)
    if n == 1:
        return Interval(float(np.exp(a.mean() - b.mean())), math.nan, math.nan, 1, paired=False)
    low, high = _bootstrap((a, b), lambda x, y, axis=-1: x.mean(axis) - y.mean(axis), paired=False, seed=seed)
    return Interval(float(np.exp(a.mean() - b.mean())), math.exp(low), math.exp(high), n, paired=False)


def geometric_mean(values) -> float:
    v = [x for x in values if _positive(x)]
    return math.exp(sum(map(math.log, v)) / len(v)) if v else math.nan


def verdict(
    effect: Interval | None, *, threshold: float = 1.0, direction: str = "below", min_seeds: int = MIN_SEEDS
) -> tuple[str, str]:
    """(verdict, reason) for a claim that the effect lies `direction` ("below" or "above") `threshold`.

    reproduced: the whole interval is on the claimed side; contradicted: the whole interval is on
    the other side; inconclusive: it spans the threshold, or fewer than `min_seeds` runs; not
    measured here: no effect at all."""
    if direction not in ("below", "above"):
        raise ValueError(f"direction must be 'below' or 'above', got {direction!r}")
    if effect is None or effect.n == 0 or not math.isfinite(effect.estimate):
        return NOT_MEASURED, "no runs in the store to measure it"
    if effect.n < min_seeds:
        return INCONCLUSIVE, f"{effect.n} seed(s): at least {min_seeds} are needed for an interval"
    span = f"95 % CI [{effect.low:.3g}, {effect.high:.3g}]"
    below, above = effect.high < threshold, effect.low > threshold
    if (below and direction == "below") or (above and direction == "above"):
        return REPRODUCED, f"{span} lies {direction} {threshold:g}"
    if below or above:
        return CONTRADICTED, f"{span} lies {'above' if above else 'below'} {threshold:g}"
    return INCONCLUSIVE, f"{span} spans {threshold:g}"


def value_verdict(ours: Interval, paper: float) -> tuple[str, str]:
    """Whether a published value lies in our interval of the mean (a claim of a value, not a ranking)."""
    if ours.n == 0 or not math.isfinite(ours.estimate):
        return NOT_MEASURED, "no runs in the store to measure it"
    if ours.n < MIN_SEEDS:
        return INCONCLUSIVE, f"{ours.n} seed(s): at least {MIN_SEEDS} are needed for an interval"
    span = f"our 95 % CI [{ours.low:.3g}, {ours.high:.3g}]"
    if ours.low <= paper <= ours.high:
        return REPRODUCED, f"{span} holds the paper's {paper:.3g}"
    return CONTRADICTED, f"{span} excludes the paper's {paper:.3g} (ours {'higher' if ours.low > paper else 'lower'})"


def _positive(v) -> bool:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v) and v > 0
