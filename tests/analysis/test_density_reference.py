"""Per-axis histograms, moments and the outlier flags, checked against numpy / scipy and brute force.

Arrays stream in chunks of ``CHUNK`` rows; the tests shrink the chunk to a few
rows so that the first row, the last row and the rows at chunk starts are all
exercised on small data.
"""

import re
import warnings

import numpy as np
import pytest
from scipy import stats

from analysis import density


@pytest.fixture
def tiny_chunks(monkeypatch):
    monkeypatch.setattr(density, "CHUNK", 7)
    return 7


def test_histograms_equal_numpy_on_every_chunk_boundary(tiny_chunks):
    rng = np.random.default_rng(10)
    z = rng.normal(size=(50, 3)).astype(np.float32)
    z[0, 0], z[-1, 0], z[7, 1], z[14, 2] = -9.0, 9.0, 6.0, -6.0  # first row, last row, rows at chunk starts
    z[21:28, 1] = 0.5  # a whole chunk exactly on an edge
    edges, counts = density.axis_histograms(z, bin_width=0.5)
    assert edges[0] == -9.0 and edges[-1] == 9.0 and np.allclose(np.diff(edges), 0.5)
    for a in range(3):
        assert np.array_equal(counts[a], np.histogram(z[:, a], bins=edges)[0]), a


def test_a_range_given_on_one_side_counts_only_values_inside_it(tiny_chunks):
    z = np.arange(-20, 21, dtype=np.float64)[:, None] / 4  # -5 .. 5 in steps of 0.25
    for lo, hi in ((-1.0, None), (None, 1.0), (-1.0, 1.0)):
        edges, counts = density.axis_histograms(z, bin_width=0.25, lo=lo, hi=hi)
        assert edges[0] == (-5.0 if lo is None else lo) and edges[-1] == (5.0 if hi is None else hi)
        assert np.array_equal(counts[0], np.histogram(z[:, 0], bins=edges)[0])
        assert counts.sum() == np.sum((z >= edges[0]) & (z <= edges[-1]))


def test_the_grid_is_aligned_to_the_bin_width_and_covers_the_range():
    edges = density.common_edges(np.array([[0.3], [1.1]]))
    assert np.allclose(edges, [0.25, 0.5, 0.75, 1.0, 1.25])  # the documented default width, 0.25
    assert np.allclose(density.common_edges(None, 0.5, lo=-0.7, hi=0.5), [-1.0, -0.5, 0.0, 0.5])
    assert np.allclose(density.common_edges(None, 1.0, lo=2.0, hi=2.0), [2.0, 3.0])  # at least one bin
    # a bound that rounding would leave just outside the grid gets one more bin
    hi = np.nextafter(0.9, 1.0)  # 9 bins of 0.1 end at 0.9, just below it
    edges = density.common_edges(None, 0.1, lo=0.0, hi=hi)
    assert len(edges) == 11 and edges[-2] < hi <= edges[-1]


def test_the_bin_count_limit_holds_exactly_at_a_million():
    edges = density.common_edges(None, 1.0, lo=0.0, hi=1_000_000.0)
    assert len(edges) == 1_000_001
    with pytest.raises(ValueError, match="gives 1000001 bins over"):
        density.common_edges(None, 1.0, lo=0.0, hi=1_000_000.5)


@pytest.mark.parametrize(("lo", "hi"), [(1.0, 0.0), (np.nan, 1.0), (0.0, np.inf)])
def test_a_reversed_or_infinite_range_is_refused(lo, hi):
    with pytest.raises(ValueError, match="finite with lo <= hi"):
        density.common_edges(None, 0.25, lo=lo, hi=hi)


def test_column_moments_equal_numpy_and_scipy_across_chunks(tiny_chunks):
    rng = np.random.default_rng(11)
    z = np.column_stack([rng.lognormal(size=45), 3 - 2 * rng.lognormal(size=45), np.full(45, 7.0)])
    mean, std, skew = density.column_moments(z.astype(np.float32))
    ref = z.astype(np.float32).astype(np.float64)
    assert np.allclose(mean, ref.mean(axis=0), rtol=1e-12)
    assert np.allclose(std, ref.std(axis=0), rtol=1e-12)  # population std (ddof 0)
    assert np.allclose(skew[:2], stats.skew(ref[:, :2], bias=True), rtol=1e-9)
    assert skew[0] > 0.5 and skew[1] < -0.5
    assert std[2] == 0 and skew[2] == 0  # a constant axis


def test_mode_and_full_width_at_half_maximum_of_known_histograms():
    # axis 0: counts 2, 4, 2 in bins [0, 1), [1, 2), [2, 3): every bin reaches half the peak -> FWHM 3
    # axis 1: two humps 4 and 4 with an empty bin between them -> the full extent, 3 bins; mode: the first
    # axis 2: a peak of 6 with shoulders of 1 (below half) -> 1 bin
    a0 = [0.5] * 2 + [1.5] * 4 + [2.5] * 2
    a1 = [0.5] * 4 + [2.5] * 4
    a2 = [0.5] * 1 + [1.5] * 6 + [2.5] * 1
    table = density.axis_summary(np.array([a0, a1, a2], dtype=np.float64).T, bin_width=1.0)
    assert table["fwhm"].tolist() == [3.0, 3.0, 1.0]
    assert table["mode"].tolist() == [1.5, 0.5, 1.5]


def standardised(rng, n, d):
    """Points whose every axis has mean exactly 0 and std 1 (each row has its mirror image)."""
    half = rng.normal(size=(n // 2, d))
    z = np.concatenate([half, -half])
    return z / z.std(axis=0)


def test_an_axis_is_flagged_just_past_three_and_a_half_robust_deviations_and_not_before():
    # 40 axes whose means spread evenly, and two candidates beyond all of them: the median and the MAD of
    # the 42 means depend only on the ranks of the two, so they can be placed at 3.45 and 3.55 exactly.
    offsets = np.linspace(-0.3, 0.3, 40)
    placeholder = np.concatenate([offsets, [10.0, 11.0]])
    centre = np.median(placeholder)
    scale = stats.median_abs_deviation(placeholder, scale="normal")  # 1.4826 x MAD, scipy's constant
    means = np.concatenate([offsets, [centre + 3.45 * scale, centre + 3.55 * scale]])
    assert stats.median_abs_deviation(means, scale="normal") == pytest.approx(scale)
    table = density.axis_summary(standardised(np.random.default_rng(12), 4000, 42) + means)
    assert table["flagged"].tolist() == [False] * 41 + [True]
    assert density.FLAG_THRESHOLD == 3.5  # the axis_summary docstring's threshold
    assert table.loc[41, "reason"].startswith(f"centre {means[41]:.2f} (bulk {centre:.2f} ± {scale:.2f})")


def test_the_flag_reason_names_the_centre_the_width_and_the_bulk():
    z = standardised(np.random.default_rng(13), 3000, 20)
    z[:, 4] += 2.0
    z[:, 9] *= 3.0
    table = density.axis_summary(z)
    assert table["flagged"].tolist() == [a in (4, 9) for a in range(20)]
    # MAD 0 across the axes: the scales are the floors, 0.1 and 0.05 x the typical width (1)
    assert table.loc[4, "reason"] == "centre 2.00 (bulk 0.00 ± 0.10)"
    assert table.loc[9, "reason"] == "width 3.00 (bulk 1.00 ± 0.05)"
    assert table.loc[0, "reason"] == ""
    z[:, 4] *= 3.0
    assert density.axis_summary(z).loc[4, "reason"] == ("centre 6.00 (bulk 0.00 ± 0.10); width 3.00 (bulk 1.00 ± 0.05)")


def test_identical_axes_flag_nothing_and_tiny_differences_stay_below_the_floor():
    rng = np.random.default_rng(14)
    z = rng.normal(size=(2000, 1)) * np.ones((1, 16))
    z[:, 3] += 0.05  # 0.05 < 3.5 x the centre floor (0.1 x typical width 1): noise, not an outlier
    z[:, 5] *= 1.1  # 0.1 < 3.5 x the width floor (0.05 x 1)
    assert not density.axis_summary(z)["flagged"].any()
    z[:, 3] += 0.35  # now 0.4 > 0.35: flagged
    assert density.axis_summary(z)["flagged"].tolist() == [a == 3 for a in range(16)]


def test_values_exactly_on_edges_that_division_rounds_down_land_where_numpy_puts_them():
    # 4.3 / 0.1 is 42.99999999999999: truncation alone would put the edge value 4.3 one bin too low
    edges = density.common_edges(None, 0.1, lo=0.0, hi=5.9)
    z = edges[:-1][:, None].copy()
    got_edges, counts = density.axis_histograms(z, bin_width=0.1)
    assert np.array_equal(got_edges, edges)
    assert np.array_equal(counts[0], np.histogram(z[:, 0], bins=edges)[0]) and counts[0].tolist() == [1] * 59


def test_a_narrow_axis_keeps_its_skewness():
    rng = np.random.default_rng(15)
    z = 1e-3 * rng.lognormal(size=(500, 1))  # variance ~1e-6: far from the constant-axis cut (1e-24)
    assert density.column_moments(z)[2][0] == pytest.approx(stats.skew(z[:, 0]), rel=1e-9)


def test_when_every_axis_is_constant_the_typical_width_is_one():
    z = np.ones((50, 6))
    z[:, 2] = 1.5  # 0.5 from the bulk: 5 floor units of 0.1 (0.1 x the fallback width 1)
    z[:, 4] = 1.25  # 0.25: 2.5 units, below 3.5
    table = density.axis_summary(z)
    assert table["flagged"].tolist() == [False, False, True, False, False, False]
    assert table.loc[2, "reason"] == "centre 1.50 (bulk 1.00 ± 0.10)"
    assert (table["std"] == 0).all() and (table["skew"] == 0).all()


def test_an_axis_exactly_three_and_a_half_robust_deviations_out_is_not_flagged_and_one_ulp_more_is():
    # two rows per column, each column constant: its mean is exact. Median 0, MAD 1, so the scale is 1.4826.
    edge = 3.5 * 1.4826
    for value, flagged in ((edge, False), (np.nextafter(edge, np.inf), True)):
        means = np.array([-1.0, -1.0, -1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, value])
        table = density.axis_summary(np.tile(means, (2, 1)))
        assert table["flagged"].tolist() == [False] * 9 + [flagged]


def test_the_floors_scale_with_the_typical_width_and_the_default_bin_is_a_quarter():
    z = 3.0 * standardised(np.random.default_rng(16), 3000, 20)
    z[:, 4] += 6.0
    table = density.axis_summary(z)
    assert re.fullmatch(r"centre 6\.00 \(bulk -?0\.00 ± 0\.30\)", table.loc[4, "reason"])  # 0.1 x the typical width 3
    assert table["flagged"].tolist() == [a == 4 for a in range(20)]
    default, quarter = density.axis_summary(z), density.axis_summary(z, bin_width=0.25)
    assert default["mode"].tolist() == quarter["mode"].tolist() and default["fwhm"].tolist() == quarter["fwhm"].tolist()
    assert default.loc[0, "mode"] % 0.25 == pytest.approx(0.125)  # the centre of a bin of width 0.25


def test_constant_axes_get_zero_skewness_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, std, skew = density.column_moments(np.full((5, 3), 2.5))
    assert std.tolist() == [0.0, 0.0, 0.0] and skew.tolist() == [0.0, 0.0, 0.0]
