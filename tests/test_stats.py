"""Intervals, tests and verdicts (experiments/analysis/stats.py): answers worked out by hand or by scipy,
and seeded simulations of how often the intervals cover and how often a verdict is decided by chance."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from experiments.analysis import stats

REPS = 2_000  # per simulated case: the binomial sd of a coverage of 0.95 is 0.005


def test_welch_on_log_values_is_scipys_welch():
    rng = np.random.default_rng(1)
    a, b = rng.lognormal(0.0, 0.3, 6), rng.lognormal(0.5, 0.8, 9)
    c = stats.compare(a, b, threshold=1.0, poi=False)
    ref = sps.ttest_ind(np.log(a), np.log(b), equal_var=False, alternative="less")
    ci = sps.ttest_ind(np.log(a), np.log(b), equal_var=False).confidence_interval(0.95)
    assert c.p_below == pytest.approx(ref.pvalue, rel=1e-10) and c.p_above == pytest.approx(1 - ref.pvalue, rel=1e-10)
    assert (math.log(c.effect.low), math.log(c.effect.high)) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert c.effect.estimate == pytest.approx(stats.geometric_mean(a) / stats.geometric_mean(b))


def test_a_threshold_shifts_the_test():
    a, b = [1.0, 1.1, 0.9, 1.05], [10.0, 11.0, 9.0, 10.5]
    assert stats.compare(a, b, threshold=1.0, poi=False).p_below < 0.001  # 10x lower: below 1 ...
    tenth = stats.compare(a, b, threshold=0.1, poi=False)  # ... but not below a tenth
    assert 0.2 < tenth.p_below < 0.8 and 0.2 < tenth.p_above < 0.8


@pytest.mark.parametrize("n", [5, 10, 20])
def test_intervals_cover_at_least_94_percent(n):
    rng = np.random.default_rng(n)
    normal = sum(ci.low <= 3.0 <= ci.high for ci in (stats.mean_interval(rng.normal(3.0, 2.0, n)) for _ in range(REPS)))
    geo = sum(
        ci.low <= 1.0 <= ci.high for ci in (stats.geometric_interval(rng.lognormal(0, 1, n)) for _ in range(REPS))
    )
    ratio = 0  # two log-normal losses of unequal spread: the ratio of their medians, exp(-1)
    for _ in range(REPS):
        e = stats.compare(rng.lognormal(-1, 0.3, n), rng.lognormal(0, 1.2, n), poi=False).effect
        ratio += e.low <= math.exp(-1) <= e.high
    assert min(normal, geo, ratio) / REPS >= 0.94, (normal, geo, ratio)


def test_a_claim_with_no_true_difference_is_decided_at_most_5_percent_of_the_time():
    # a rank claim of 4 rows (levels), each against 3 competitors drawn from GMNM's own distribution
    rng = np.random.default_rng(0)
    decided = 0
    for _ in range(500):
        rows = [
            stats.rank(rng.lognormal(0, 1, 5), {k: rng.lognormal(0, 1, 5) for k in "abc"}, poi=False) for _ in range(4)
        ]
        claim, against = stats.holm([r["p_claim"] for r in rows]), stats.holm([r["p_against"] for r in rows])
        decided += any(stats.decide(p, q, 5) != stats.INCONCLUSIVE for p, q in zip(claim, against))
    assert decided / 500 <= 0.05


def test_a_clear_win_is_reproduced_and_a_clear_loss_contradicted():
    rng = np.random.default_rng(3)
    ours = rng.lognormal(-3, 0.2, 5)
    win = stats.rank(ours, {"kan": rng.lognormal(0, 0.2, 5), "mlp": rng.lognormal(1, 0.2, 5)}, poi=False)
    assert stats.decide(win["p_claim"], win["p_against"], 5) == stats.REPRODUCED
    # one competitor of three beats ours: the intersection-union test cannot pass, Holm finds the loss
    loss = stats.rank(ours, {"kan": rng.lognormal(-6, 0.2, 5), "mlp": rng.lognormal(1, 0.2, 5)}, poi=False)
    assert stats.decide(loss["p_claim"], loss["p_against"], 5) == stats.CONTRADICTED and loss["deciding"] == "kan"


def test_too_few_seeds_and_no_runs():
    assert (
        stats.decide(1e-9, 1.0, 2) == stats.INCONCLUSIVE and stats.decide(math.nan, math.nan, 0) == stats.NOT_MEASURED
    )
    one = stats.mean_interval([2.5])
    assert (one.estimate, one.n) == (2.5, 1) and math.isnan(one.low)
    assert stats.mean_interval([None, math.nan, math.inf]).n == 0
    assert stats.compare([], [1.0]).test == "no runs"


def test_samples_without_spread_are_exact_values():
    ci = stats.geometric_interval([4.0] * 6)
    assert ci.exact and (ci.estimate, ci.n) == (pytest.approx(4.0), 6)
    c = stats.compare([2e-16] * 5, [4e-7] * 5)  # the least-squares head on a grid, against another exact row
    assert c.effect.exact and c.test == "exact (no spread)" and (c.p_below, c.p_above) == (0.0, 1.0)
    assert c.improvement.exact and c.improvement.estimate == 1.0


def test_probability_of_improvement_counts_pairs_and_ties_half():
    assert stats.improvement([1.0, 2.0], [1.5, 3.0]).estimate == 0.75  # 1<1.5, 1<3, 2>1.5, 2<3
    assert stats.improvement([1.0, 2.0], [1.0, 2.0]).estimate == 0.5
    poi = stats.improvement([1.0, 2.0, 3.0], [2.0, 4.0, 6.0])
    assert poi.low <= poi.estimate <= poi.high and poi == stats.improvement([1.0, 2.0, 3.0], [2.0, 4.0, 6.0])


def test_holm_by_hand_and_as_statsmodels_has_it():
    from statsmodels.stats.multitest import multipletests

    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(stats.holm([0.01, math.nan])[1]) and stats.holm([0.01, math.nan])[0] == pytest.approx(0.01)
    p = np.random.default_rng(2).uniform(0, 0.2, 12)
    assert stats.holm(p) == pytest.approx(multipletests(p, method="holm")[1].tolist())


def test_a_paired_ratio_uses_the_same_runs():
    final = {0: 20.0, 1: 30.0, 2: 25.0, 3: 40.0}
    best = {0: 1.0, 1: 1.4, 2: 1.3, 3: 2.1}  # each run's final about 20x its own minimum
    c = stats.compare_paired(final, best, threshold=10.0)
    assert c.test.startswith("paired") and c.p_above < 0.025 and 18 < c.effect.estimate < 22


def test_pooled_pairs_average_their_log_ratios():
    one = stats.compare_pooled([([1.0, 1.2, 0.9], [2.0, 2.4, 1.8])])
    assert one.effect.estimate == pytest.approx(0.5) and one.test.startswith("Welch")
    two = stats.compare_pooled([([1.0, 1.2, 0.9], [2.0, 2.4, 1.8]), ([1.0, 1.1, 0.9], [8.0, 8.8, 7.2])])
    assert two.effect.estimate == pytest.approx(math.sqrt(0.5 * 0.125)) and "2 pairs" in two.test


@pytest.mark.parametrize(
    "values,verdict",
    [
        ([5.0e-9, 5.2e-9, 4.9e-9], stats.REPRODUCED),  # within a factor 2 of 5.1e-9
        ([3.0e-7, 3.5e-7, 3.2e-7], stats.OURS_HIGHER),
        ([1.0e-9, 1.1e-9, 0.9e-9], stats.OURS_LOWER),  # better than the paper: never "contradicted"
        ([1.0e-9, 1.0e-8, 5.0e-9], stats.INCONCLUSIVE),  # the interval overlaps the band's edge
        ([5.0e-9], stats.INCONCLUSIVE),
    ],
)
def test_a_value_is_judged_by_equivalence(values, verdict):
    assert stats.value_verdict(stats.geometric_interval(values), 5.1e-9, margin=2.0)[0] == verdict


def test_equivalence_p_values_agree_with_the_interval_rule():
    paper = 1e-6
    inside = paper * np.exp(np.random.default_rng(0).normal(0, 0.05, 8))  # within a factor 2, tightly
    below = inside / 40
    for values, verdict in ((inside, stats.REPRODUCED), (below, stats.OURS_LOWER)):
        p_agree, p_outside = stats.equivalence(values, paper, 2.0)
        got, _ = stats.value_verdict(stats.geometric_interval(values), paper, 2.0)
        assert got == verdict
        assert (p_agree < stats.ALPHA) == (verdict == stats.REPRODUCED)
        assert (p_outside < stats.ALPHA) == (verdict == stats.OURS_LOWER)
    assert stats.equivalence([3e-6, 3e-6, 3e-6], paper, 2.0) == (1.0, 0.0)  # exact, outside the band
    # against one published number, the probability of improvement resamples ours alone
    poi = stats.improvement(inside, [paper])
    assert poi.low <= poi.estimate <= poi.high and poi.high - poi.low > 0 and poi.estimate == np.mean(inside < paper)
