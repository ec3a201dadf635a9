"""Seeds in, intervals, tests and verdicts out: the aggregation behind the claims ledger and the ablation.

Pure functions, no I/O, in the manner of rliable. Every metric compared here is a loss, a time or a
count: positive, and differing between models by orders of magnitude, so effects are ratios judged on
the log scale. An effect is a contrast of mean log values (one model's over another's: the ratio of
geometric means), with Welch's t interval and one-sided p-values against the claim's threshold.

Unpaired unless two numbers come from the same run: seed s of GMNM and seed s of KAN share the data
(`data_seed`) but no randomness of their own, so matching them by seed index would make an interval's
width depend on an arbitrary matching. A model set against itself (KAN's final test loss over its
minimum during the same run) is paired: one-sample t on the per-run log ratios.

Samples with no spread (the least-squares head on a grid gives the same number on every seed) are
exact: their value is reported with n, and a comparison of two exact samples is decided by the
values themselves, not by an interval of zero width.

Decisions use one-sided tests at ALPHA = 0.025 each way, which is the two-sided 95 % interval
excluding the threshold; across the competitors of a rank claim and across the rows of one claim,
Holm's adjustment keeps the rate of any decided verdict under the null at most 5 %
(tests/test_stats.py simulates it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
ALPHA = (1 - CONFIDENCE) / 2  # each one-sided test: a decision either way is the 95 % interval excluding the threshold
RESAMPLES = 2_000  # the probability of improvement's bootstrap
MIN_SEEDS = 3  # fewer runs give no interval worth a verdict

REPRODUCED, CONTRADICTED, INCONCLUSIVE, NOT_MEASURED = "reproduced", "contradicted", "inconclusive", "not measured here"
INDICATIVE = "indicative"  # decided by the numbers, but under a profile other than the paper's protocol
OURS_LOWER, OURS_HIGHER = "ours lower", "ours higher"  # a value claim: ours outside the margin of the paper's
SUPPORTED, REFUTED = (
    "supported",
    "refuted",
)  # a hypothesis of ours (a B-claim) where a paper's claim reads the two above
MATCHED = "matched by construction"  # a count our build was sized to meet: shown, never evidence
DECIDED = (REPRODUCED, CONTRADICTED, OURS_LOWER, OURS_HIGHER, SUPPORTED, REFUTED)  # the verdicts that decide a row


@dataclass(frozen=True)
class Interval:
    """A point estimate with its 95 % interval over n runs (NaN bounds where there is none)."""

    estimate: float
    low: float
    high: float
    n: int
    exact: bool = False  # every run gave the same number: no interval, the value itself


@dataclass(frozen=True)
class Comparison:
    """Our metric over theirs on the log scale: the effect (a ratio), one-sided p-values against a
    threshold, the probability of improvement, and the test that gave them."""

    effect: Interval
    p_below: float  # evidence that the effect lies below the threshold (H0: at or above it)
    p_above: float  # evidence that it lies above
    improvement: Interval  # P(ours < theirs): a run of ours has the lower value
    test: str


NONE = Interval(math.nan, math.nan, math.nan, 0)


def finite(values) -> np.ndarray:
    """The finite numbers among values (None, NaN, inf and non-numbers dropped)."""
    v = np.asarray([x for x in values if isinstance(x, (int, float)) and not isinstance(x, bool)], dtype=float)
    return v[np.isfinite(v)]


def positive(values) -> np.ndarray:
    """The finite, positive values (what a log scale can hold)."""
    v = finite(values)
    return v[v > 0]


def mean_interval(values) -> Interval:
    """The arithmetic mean of the finite values with its t interval; exact when they do not vary."""
    v = finite(values)
    if len(v) == 0:
        return NONE
    if len(v) == 1:  # one run says nothing of the spread
        return Interval(float(v[0]), math.nan, math.nan, 1)
    if np.ptp(v) == 0:
        return Interval(float(v[0]), float(v[0]), float(v[0]), len(v), exact=True)
    half = stats.t.ppf(1 - ALPHA, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v))
    return Interval(float(v.mean()), float(v.mean() - half), float(v.mean() + half), len(v))


def geometric_interval(values) -> Interval:
    """The geometric mean of the positive values with the t interval of their mean log; exact when they
    do not vary. For log-normal losses this covers their median at the nominal rate."""
    v = positive(values)
    if len(v) == 0:
        return NONE
    logs = mean_interval(np.log(v))
    return Interval(math.exp(logs.estimate), math.exp(logs.low), math.exp(logs.high), logs.n, logs.exact)


def geometric_mean(values) -> float:
    v = positive(values)
    return float(np.exp(np.log(v).mean())) if len(v) else math.nan


def contrast(groups: list[np.ndarray], weights: list[float]) -> tuple[float, float, float]:
    """sum_i w_i mean(g_i) of independent samples, its standard error and Welch-Satterthwaite degrees of
    freedom. Two groups with weights (1, -1) are Welch's two-sample t (tests: equal to scipy's)."""
    est = sum(w * g.mean() for g, w in zip(groups, weights))
    parts = [w * w * g.var(ddof=1) / len(g) if len(g) > 1 else 0.0 for g, w in zip(groups, weights)]
    var = sum(parts)
    if var == 0:
        return float(est), 0.0, math.inf
    df = var**2 / sum(p * p / (len(g) - 1) for p, g in zip(parts, groups) if len(g) > 1 and p > 0)
    return float(est), math.sqrt(var), float(df)


def improvement(ours: np.ndarray, theirs: np.ndarray, *, seed: int = 0) -> Interval:
    """P(X < Y), X a run of ours and Y one of theirs (ties count a half; Mann-Whitney's U over n m), with
    a percentile-bootstrap 95 % interval (the samples resampled apart). Exact when neither varies."""
    x, y = finite(ours), finite(theirs)
    if len(x) == 0 or len(y) == 0:
        return NONE

    def p_less(a, b, axis=-1):
        a, b = np.expand_dims(a, -1), np.expand_dims(b, -2)  # (..., n, 1), (..., 1, m)
        return ((a < b) + 0.5 * (a == b)).mean(axis=(-2, -1))

    value = float(p_less(x, y))
    if len(y) == 1 and len(x) >= 2 and np.ptp(x) > 0:  # against one number (a published value): resample ours
        res = stats.bootstrap((x,), lambda a, axis=-1: p_less(a, y), vectorized=True, n_resamples=RESAMPLES,
                              confidence_level=CONFIDENCE, method="percentile", random_state=np.random.default_rng(seed))  # fmt: skip
        return Interval(value, float(res.confidence_interval.low), float(res.confidence_interval.high), len(x))
    if len(x) >= 1 and len(y) >= 1 and np.ptp(x) == 0 and np.ptp(y) == 0:  # constant samples: exact
        return Interval(value, value, value, min(len(x), len(y)), exact=True)
    if min(len(x), len(y)) < 2:
        return Interval(value, math.nan, math.nan, min(len(x), len(y)))
    if np.ptp(x) == 0 and np.ptp(y) == 0:
        return Interval(value, value, value, min(len(x), len(y)), exact=True)
    res = stats.bootstrap(
        (x, y),
        p_less,
        paired=False,
        vectorized=True,
        n_resamples=RESAMPLES,
        confidence_level=CONFIDENCE,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return Interval(value, float(res.confidence_interval.low), float(res.confidence_interval.high), min(len(x), len(y)))


def compare(ours, theirs, *, threshold: float = 1.0, poi: bool = True) -> Comparison:
    """Ours over theirs, unpaired: the ratio of geometric means with Welch's t interval on the logs, and
    one-sided p-values that it lies below / above `threshold`; poi=False skips the probability of
    improvement (its bootstrap is most of the cost; simulations leave it out)."""
    a, b = positive(ours), positive(theirs)
    if len(a) == 0 or len(b) == 0:
        return Comparison(NONE, math.nan, math.nan, NONE, "no runs")
    est, se, df = contrast([np.log(a), np.log(b)], [1.0, -1.0])
    return _decide(
        est, se, df, min(len(a), len(b)), threshold, improvement(a, b) if poi else NONE, "Welch t on log values"
    )


def compare_paired(ours, theirs, *, threshold: float = 1.0) -> Comparison:
    """Ours over theirs where the two come from the same runs ({run: value} each, matched by run):
    one-sample t on the per-run log ratios."""
    runs = sorted(set(ours) & set(theirs))
    pairs = [(ours[r], theirs[r]) for r in runs]
    logs = np.asarray([math.log(x / y) for x, y in pairs if x > 0 and y > 0 and math.isfinite(x / y)])
    if len(logs) == 0:
        return Comparison(NONE, math.nan, math.nan, NONE, "no runs")
    se = logs.std(ddof=1) / math.sqrt(len(logs)) if len(logs) > 1 else 0.0
    share = float(np.mean([x < y for x, y in pairs]))  # per run: is ours the lower of its pair
    return _decide(
        float(logs.mean()),
        se,
        len(logs) - 1.0 if len(logs) > 1 else math.inf,
        len(logs),
        threshold,
        Interval(share, math.nan, math.nan, len(logs)),
        "paired t on per-run log ratios",
    )


def compare_pooled(pairs: list[tuple[np.ndarray, np.ndarray]], *, threshold: float = 1.0) -> Comparison:
    """The mean over pairs of (ours_i over theirs_i), unpaired within each pair: the contrast
    (1/k) sum_i (mean log a_i - mean log b_i) with its Welch-Satterthwaite interval."""
    pairs = [(positive(a), positive(b)) for a, b in pairs]
    pairs = [(a, b) for a, b in pairs if len(a) and len(b)]
    if not pairs:
        return Comparison(NONE, math.nan, math.nan, NONE, "no runs")
    if len(pairs) == 1:
        return compare(*pairs[0], threshold=threshold)
    k = len(pairs)
    groups = [np.log(g) for a, b in pairs for g in (a, b)]
    weights = [w for _ in pairs for w in (1 / k, -1 / k)]
    est, se, df = contrast(groups, weights)
    n = min(min(len(a), len(b)) for a, b in pairs)
    poi = improvement(np.concatenate([a for a, _ in pairs]), np.concatenate([b for _, b in pairs]))
    return _decide(est, se, df, n, threshold, poi, f"Welch t on log values, the mean of {k} pairs")


def _decide(est: float, se: float, df: float, n: int, threshold: float, poi: Interval, test: str) -> Comparison:
    shift = est - math.log(threshold)
    if n < 2:  # one run of a side says nothing of its spread: no test
        return Comparison(Interval(math.exp(est), math.nan, math.nan, n), math.nan, math.nan, poi, test)
    if se == 0:  # several runs and no spread on either side: the values decide
        effect = Interval(math.exp(est), math.exp(est), math.exp(est), n, exact=True)
        return Comparison(effect, float(shift >= 0), float(shift <= 0), poi, "exact (no spread)")
    half = stats.t.ppf(1 - ALPHA, df) * se
    effect = Interval(math.exp(est), math.exp(est - half), math.exp(est + half), n)
    tstat = shift / se
    return Comparison(effect, float(stats.t.cdf(tstat, df)), float(stats.t.sf(tstat, df)), poi, test)


def holm(pvalues) -> list[float]:
    """Holm's step-down adjustment of a family of p-values (NaN entries left NaN). Written here rather than
    called from statsmodels, whose multipletests runs a full gc.collect() on every call (10-90 ms): the
    tests check this against it."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(len(p), math.nan)
    ok = np.flatnonzero(np.isfinite(p))
    order = ok[np.argsort(p[ok], kind="stable")]
    m = len(order)
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))  # (m - i) p_(i), monotone
    out[order] = adjusted
    return out.tolist()


def rank(ours, others: dict[str, list], *, threshold: float = 1.0, direction: str = "below", poi: bool = True) -> dict:
    """A claim that ours lies `direction` threshold x every competitor, as an intersection-union test:
    the evidence for it is the weakest of the one-sided tests against each competitor (its largest p);
    the evidence against it is the strongest competitor's after Holm's adjustment across them.

    Returns the comparisons by competitor, `p_claim`, `p_against` and the deciding competitor (the one
    with the weakest evidence for the claim)."""
    if direction not in ("below", "above"):
        raise ValueError(f"direction must be 'below' or 'above', got {direction!r}")
    comparisons = {name: compare(ours, values, threshold=threshold, poi=poi) for name, values in others.items()}
    if not comparisons:
        return {"comparisons": {}, "p_claim": math.nan, "p_against": math.nan, "deciding": None}
    claim = {k: (c.p_below if direction == "below" else c.p_above) for k, c in comparisons.items()}
    against = {k: (c.p_above if direction == "below" else c.p_below) for k, c in comparisons.items()}
    deciding = max(claim, key=lambda k: claim[k] if math.isfinite(claim[k]) else math.inf)
    adjusted = holm(list(against.values()))
    return {
        "comparisons": comparisons,
        "p_claim": max(claim.values()),
        "p_against": min(adjusted) if any(map(math.isfinite, adjusted)) else math.nan,
        "deciding": deciding,
    }


def decide(p_claim: float, p_against: float, n: int, *, min_seeds: int = MIN_SEEDS) -> str:
    """reproduced / contradicted / inconclusive from the (adjusted) one-sided p-values."""
    if n == 0:
        return NOT_MEASURED
    if n < min_seeds or not (math.isfinite(p_claim) or math.isfinite(p_against)):
        return INCONCLUSIVE
    if p_claim < ALPHA:
        return REPRODUCED
    if p_against < ALPHA:
        return CONTRADICTED
    return INCONCLUSIVE


def equivalence(values, paper: float, margin: float) -> tuple[float, float]:
    """(p for agreement, p for lying outside) of our values against a published one within a factor `margin`,
    on the log scale: two one-sided t-tests (TOST) for agreement, and the one-sided test of the nearer edge
    for lying below or above the band. Exact values give 0 or 1."""
    logs = np.log(positive(values))
    low, high = math.log(paper / margin), math.log(paper * margin)
    if len(logs) == 0:
        return math.nan, math.nan
    m = float(logs.mean())
    if np.ptp(logs) == 0:  # one run, or runs that agree exactly: no spread, the band decides
        return (0.0, 1.0) if low <= m <= high else (1.0, 0.0)
    se, df = float(logs.std(ddof=1) / math.sqrt(len(logs))), len(logs) - 1
    above_low, below_high = stats.t.sf((m - low) / se, df), stats.t.sf((high - m) / se, df)  # H0: at or past an edge
    outside_low, outside_high = stats.t.sf((low - m) / se, df), stats.t.sf((m - high) / se, df)  # H0: inside
    return float(max(above_low, below_high)), float(min(outside_low, outside_high))


def value_verdict(ours: Interval, paper: float, margin: float) -> tuple[str, str]:
    """A published value against ours as equivalence: it agrees when our whole 95 % interval (or our exact
    value) lies within a factor `margin` of the paper's; ours lower / higher when it lies wholly outside
    that band on one side; else inconclusive. Being better is never 'contradicted'."""
    if ours.n == 0 or not math.isfinite(ours.estimate):
        return NOT_MEASURED, "no runs in the store to measure it"
    if ours.n < MIN_SEEDS and not ours.exact:
        return INCONCLUSIVE, f"{ours.n} seed(s): at least {MIN_SEEDS} are needed for an interval"
    low, high = paper / margin, paper * margin
    span = (
        f"ours {ours.estimate:.3g} [{ours.low:.3g}, {ours.high:.3g}]"
        if not ours.exact
        else f"ours {ours.estimate:.3g} (exact)"
    )
    band = f"the paper's {paper:.3g} within a factor {margin:g}: [{low:.3g}, {high:.3g}]"
    if low <= ours.low and ours.high <= high:
        return REPRODUCED, f"{span} lies within {band}"
    if ours.high < low:
        return OURS_LOWER, f"{span} lies below {band}"
    if ours.low > high:
        return OURS_HIGHER, f"{span} lies above {band}"
    return INCONCLUSIVE, f"{span} overlaps the edge of {band}"
