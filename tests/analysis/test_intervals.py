"""Intervals: Wilson's for shares against scipy and by simulated coverage, the bootstrap's width against theory."""

import numpy as np
import pytest
from scipy import stats

from analysis import intervals


@pytest.mark.parametrize(("k", "n"), [(0, 256), (1, 256), (128, 256), (255, 256), (256, 256), (3, 7)])
def test_wilson_interval_matches_scipy(k, n):
    expected = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert intervals.wilson_interval(k, n) == pytest.approx((expected.low, expected.high), abs=1e-12)


def test_a_share_of_none_or_all_still_has_an_interval():
    value, lo, hi = intervals.share(np.zeros(256, dtype=bool))
    assert value == 0.0 and lo == 0.0 and 0.01 < hi < 0.02  # about 3.8 / 256, not the bootstrap's [0, 0]
    value, lo, hi = intervals.share(np.ones(256, dtype=bool))
    assert value == 1.0 and hi == 1.0 and 0.98 < lo < 0.99
    with pytest.raises(ValueError, match="at least one"):
        intervals.share([])
    with pytest.raises(ValueError, match="successes"):
        intervals.wilson_interval(5, 4)


def test_wilson_interval_covers_the_true_share_95_percent_of_the_time():
    gen = np.random.default_rng(0)
    p, n, trials = 0.3, 120, 3000
    counts = gen.binomial(n, p, size=trials)
    covered = [lo <= p <= hi for lo, hi in (intervals.wilson_interval(c, n) for c in counts)]
    # 3000 trials: the coverage's own standard error is 0.004.
    assert np.mean(covered) == pytest.approx(0.95, abs=0.015)


def test_bootstrap_interval_of_a_mean_has_the_width_of_the_normal_theory():
    gen = np.random.default_rng(1)
    values = gen.normal(size=400) * 2.0
    lo, hi = intervals.bootstrap_interval(values, random_state=0)
    expected = 2 * 1.96 * values.std() / np.sqrt(len(values))
    assert hi - lo == pytest.approx(expected, rel=0.12)
    assert lo < values.mean() < hi
    assert intervals.bootstrap_interval(values, random_state=3) == intervals.bootstrap_interval(values, random_state=3)


def test_a_share_of_none_is_exactly_zero_at_its_lower_end_for_every_size():
    # The formula gives 0 only up to rounding (about one size in six leaves a few 1e-17 above it).
    assert all(intervals.wilson_interval(0, n)[0] == 0.0 for n in range(1, 400))
    assert all(intervals.wilson_interval(n, n)[1] == 1.0 for n in range(1, 400))


def test_one_outcome_is_a_share_too_and_the_confidence_must_lie_strictly_between_0_and_1():
    for k in (0, 1):
        expected = stats.binomtest(k, 1).proportion_ci(confidence_level=0.95, method="wilson")
        assert intervals.wilson_interval(k, 1) == pytest.approx((expected.low, expected.high), abs=1e-12)
    with pytest.raises(ValueError, match=r"^a share needs 0 <= successes <= n and n >= 1, got 0 of 0$"):
        intervals.wilson_interval(0, 0)
    for confidence in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match=rf"^confidence must be between 0 and 1, got {confidence}$"):
            intervals.wilson_interval(3, 10, confidence)


def test_a_share_counts_true_outcomes_with_the_confidence_asked_for():
    value, lo, hi = intervals.share([2, 0, 1, 0], confidence=0.5)  # non-zero counts as True
    assert value == 0.5 and (lo, hi) == intervals.wilson_interval(2, 4, 0.5)
    assert hi - lo < np.subtract(*intervals.wilson_interval(2, 4)[::-1])  # a 50 % interval is narrower
    with pytest.raises(ValueError, match="^a share needs at least one outcome$"):
        intervals.share([])


def test_the_bootstrap_is_a_95_percent_interval_drawing_every_row_with_its_default_seed():
    gen = np.random.default_rng(2)
    values = gen.normal(size=400)
    lo, hi = intervals.bootstrap_interval(values, n_boot=6000)
    # 2.5 % in each tail: 1.96 standard errors each side (a 1/3 split of 5 % would give 2.13).
    assert hi - lo == pytest.approx(2 * 1.96 * values.std() / np.sqrt(400), rel=0.04)
    assert intervals.bootstrap_interval(values, n_boot=200) == intervals.bootstrap_interval(
        values, n_boot=200, random_state=0
    )
    assert intervals.bootstrap_interval(values, n_boot=200) != intervals.bootstrap_interval(
        values, n_boot=200, random_state=1
    )
    outlier_first = np.r_[1000.0, np.zeros(19)]  # about two resamples in three hold row 0
    assert intervals.bootstrap_interval(outlier_first, n_boot=200)[1] >= 50.0
    assert intervals.bootstrap_interval([5.0]) == (5.0, 5.0)  # one value: nothing to vary, still an interval
    with pytest.raises(ValueError, match="^cannot bootstrap an empty sample$"):
        intervals.bootstrap_interval([])
