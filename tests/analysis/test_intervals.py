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
