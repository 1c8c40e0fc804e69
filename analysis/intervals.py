"""Intervals of the numbers the product reports: shares (Wilson) and other statistics (percentile bootstrap).

A share of n yes/no outcomes gets the Wilson score interval (Wilson, "Probable
inference, the law of succession, and statistical inference", JASA 22, 1927):
it stays inside [0, 1], and at 0 of n or n of n it is still an interval
(0 of 256 gives [0, 0.015]), where a percentile bootstrap collapses to a point
("1.00 [1.00, 1.00]") that claims a certainty 256 samples cannot give.
Any other statistic (a diversity ratio, a median, an AUC) gets a percentile
bootstrap over resamples of its units.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from analysis._checks import rng

#: Coverage of every interval the product reports.
CONFIDENCE = 0.95
#: Bootstrap resamples of an interval.
N_BOOTSTRAP = 1000


def _confidence(confidence: float) -> float:
    confidence = float(confidence)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return confidence


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a share ``successes / n``.

    Parameters
    ----------
    successes : int
        Outcomes counted (0 <= successes <= n).
    n : int
        Outcomes in all, at least 1.
    confidence : float in (0, 1)

    Returns
    -------
    (lo, hi) : floats in [0, 1]
    """
    n, successes = int(n), int(successes)
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"a share needs 0 <= successes <= n and n >= 1, got {successes} of {n}")
    z = float(stats.norm.ppf(0.5 + _confidence(confidence) / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # The exact ends at 0 and n (the formula gives them up to rounding).
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return float(lo), float(hi)


def share(outcomes, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """The share of True in ``outcomes`` and its Wilson interval: ``(share, lo, hi)``."""
    values = np.asarray(outcomes, dtype=bool).ravel()
    if values.size == 0:
        raise ValueError("a share needs at least one outcome")
    lo, hi = wilson_interval(int(values.sum()), values.size, confidence)
    return float(values.mean()), lo, hi


def bootstrap_interval(
    values, statistic=np.mean, n_boot: int = N_BOOTSTRAP, confidence: float = CONFIDENCE, random_state=0
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over resamples of ``values`` (with replacement).

    Parameters
    ----------
    values : array_like, shape (n,) or (n, ...)
        Resampled along the first axis.
    statistic : callable(array) -> float
    n_boot : int
    confidence : float in (0, 1)
    random_state : int, Generator or None

    Returns
    -------
    (lo, hi) : floats
    """
    arr = np.asarray(values)
    if len(arr) == 0:
        raise ValueError("cannot bootstrap an empty sample")
    tail = (1 - _confidence(confidence)) / 2
    gen = rng(random_state)
    stats_ = np.array([statistic(arr[gen.integers(0, len(arr), len(arr))]) for _ in range(int(n_boot))])
    return float(np.quantile(stats_, tail)), float(np.quantile(stats_, 1 - tail))
