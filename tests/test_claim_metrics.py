"""What claims read from a record's history: hand-computed values of each derived statistic."""

import math

import pytest

from experiments.analysis.ledger.metrics import ESTIMATORS, at_fraction, monotonicity, plateau_gain, reread, value


def record(train, test=None, step=100, **summary):
    """A record whose history evaluates train (and test) MSE every `step` steps."""
    test = test or train
    history = [{"step": i * step, "train_mse": a, "test_mse": b} for i, (a, b) in enumerate(zip(train, test))]
    return {"history": history, "summary": summary}


def test_monotonicity_is_net_log_decrease_over_total_log_variation():
    assert monotonicity(record([8.0, 4.0, 2.0, 1.0])) == 1.0  # only descends
    assert monotonicity(record([1.0, 2.0, 4.0])) == 0.0  # only rises
    assert monotonicity(record([1.0, 4.0, 1.0])) == 0.5  # ends where it began
    # 8 -> 2 -> 4 -> 1: net log 8, variation log 4 + log 2 + log 4 = log 32
    assert monotonicity(record([8.0, 2.0, 4.0, 1.0])) == pytest.approx((1 + math.log(8) / math.log(32)) / 2)
    # scale-free: a model with a lower loss is not more monotone for it
    assert monotonicity(record([80.0, 20.0, 40.0, 10.0])) == pytest.approx(monotonicity(record([8.0, 2.0, 4.0, 1.0])))
    assert math.isnan(monotonicity(record([1.0])))


def test_the_plateau_gain_is_what_is_left_to_gain_after_a_tenth_and_ignores_a_later_rise():
    # 11 evaluations over 1,000 steps: the first tenth ends at step 100 (value 5)
    falls = [10.0, 5.0, 4.0, 3.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert plateau_gain(record(falls)) == 5.0
    flat = [10.0, 5.0] + [5.0] * 9
    assert plateau_gain(record(flat)) == 1.0
    overfits = [10.0, 5.0, 4.0, 9.0, 20.0, 40.0, 80.0, 80.0, 80.0, 80.0, 80.0]  # its minimum after the tenth is 4
    assert plateau_gain(record(overfits)) == 1.25


def test_a_curve_read_three_ways():
    r = record([9.0] * 20 + [4.0, 2.0], step=10, final_train_mse=2.0, min_train_mse=2.0)
    assert reread("final_train_mse", "last10") == "last10_train_mse" and reread("min_l2", "final") == "final_l2"
    assert value(r, "final_train_mse") == 2.0
    assert value(r, "last10_train_mse") == pytest.approx((9.0 + 4.0 + 2.0) / 3)  # the last 3 of 22 evaluations
    assert set(ESTIMATORS) == {"final", "min", "last10"}
    with pytest.raises(ValueError, match="not a curve"):
        reread("n_params", "min")


def test_derived_ratios_and_rates():
    r = record([4.0, 2.0, 1.0, 0.5, 0.25], step=50, final_test_mse=4.0, min_test_mse=1.0, min_test_bce=0.3,
               min_train_bce=0.1, final_test_acc=0.98)  # fmt: skip
    assert value(r, "test_final_over_min") == 4.0
    assert at_fraction(r, "test_mse", 0.5) == 1.0 and value(r, "test_mse_at_half") == 1.0  # step 100 of 200
    assert value(r, "bce_test_over_train") == pytest.approx(3.0)
    assert value(r, "test_error_rate") == pytest.approx(0.02)
    assert math.isnan(value(r, "no_such_metric"))
