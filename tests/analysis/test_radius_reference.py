"""Radii, their histogram, the chi reference and the summary numbers, checked against scipy and brute force."""

import warnings

import numpy as np
import pytest
from scipy import stats

from analysis import radius


def test_radii_equal_the_norm_of_every_row_across_chunks(monkeypatch):
    monkeypatch.setattr(radius, "CHUNK", 4)
    z = np.random.default_rng(20).normal(size=(13, 5)).astype(np.float32)
    z[0] = [3, 4, 0, 0, 0]
    z[-1] = [0, 0, 0, 0, 12]
    expected = np.array([np.sqrt(sum(float(v) ** 2 for v in row)) for row in z])
    r = radius.radii(z)
    assert r.dtype == np.float64 and np.allclose(r, expected, rtol=1e-12)
    assert r[0] == 5.0 and r[-1] == 12.0


def test_the_histogram_counts_every_radius_in_the_bin_a_loop_puts_it_in():
    r = np.array([0.0, 0.25, 0.5, 0.5, 0.99, 1.0, 1.49, 2.0])  # values exactly on edges, and the largest on one
    edges, counts = radius.radius_histogram(r, bin_width=0.5)
    assert edges[0] == 0 and np.allclose(np.diff(edges), 0.5)
    brute = np.zeros(len(edges) - 1, dtype=np.int64)
    for value in r:
        brute[int(value // 0.5)] += 1  # bins are [k w, (k + 1) w)
    assert counts.dtype == np.int64 and counts.tolist() == brute.tolist()
    assert edges[-1] > r.max()  # the largest radius has a bin of its own to the right of its edge


def test_radius_histogram_reads_z_points_as_points_and_refuses_negative_radii():
    z = np.array([[3.0, 4.0], [0.0, 1.0]])
    edges, counts = radius.radius_histogram(z, bin_width=1.0)
    assert counts.tolist() == [0, 1, 0, 0, 0, 1]
    with pytest.raises(ValueError, match="radii must be non-negative"):
        radius.radius_histogram(np.array([1.0, -0.5]))


def test_the_bin_limit_holds_at_ten_million_bins():
    edges, counts = radius.radius_histogram(np.array([0.0, 9_999_999.5]), bin_width=1.0)
    assert len(counts) == 10_000_000 and counts[0] == 1 and counts[-1] == 1
    with pytest.raises(ValueError, match="gives 10000001 bins"):
        radius.radius_histogram(np.array([0.0, 10_000_000.0]), bin_width=1.0)


@pytest.mark.parametrize("z_dim", [1, 2, 3, 8, 256])
def test_chi_pdf_and_reference_equal_scipys_chi_distribution(z_dim):
    r = np.array([0.0, 0.1, 0.5, 1.0, 2.0, np.sqrt(max(z_dim - 1, 0)), 20.0])
    assert np.allclose(radius.chi_pdf(r, z_dim), stats.chi(z_dim).pdf(r), rtol=1e-10, atol=1e-300)
    edges = np.linspace(0, np.sqrt(z_dim) + 5, 41)
    expected = 1000 * np.diff(stats.chi(z_dim).cdf(edges))
    assert np.allclose(radius.chi_reference(edges, z_dim, 1000), expected, rtol=1e-9, atol=1e-12)


def test_chi_at_zero_radius_is_the_half_normal_peak_in_one_dimension_and_zero_above_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # log(0) and 0 x log(0) must not reach the server log
        assert radius.chi_pdf([0.0], 1)[0] == pytest.approx(np.sqrt(2 / np.pi), rel=1e-14)
        assert radius.chi_pdf([0.0, 1.0], 2)[0] == 0.0


@pytest.mark.parametrize(
    "edges",
    [[[0.0, 1.0], [1.0, 2.0]], [0.0], [0.0, 1.0, 1.0], [0.0, 2.0, 1.0], [-0.5, 1.0]],
    ids=["2-D", "one edge", "repeated", "decreasing", "negative"],
)
def test_chi_reference_refuses_edges_that_are_not_increasing_radii(edges):
    with pytest.raises(ValueError, match="^edges must be a 1-D increasing array of non-negative radii$"):
        radius.chi_reference(edges, 4, 10)


def test_a_dimension_below_one_is_refused():
    for call in (lambda: radius.chi_pdf([1.0], 0), lambda: radius.chi_reference([0.0, 1.0], 0, 5)):
        with pytest.raises(ValueError, match="z_dim must be at least 1, got 0"):
            call()


def test_radius_stats_equal_numpy_and_a_brute_force_smoothed_mode():
    rng = np.random.default_rng(21)
    r = np.concatenate([rng.normal(10, 1, 3000), rng.normal(16, 0.3, 1500)])
    got = radius.radius_stats(r)
    assert got["mean"] == pytest.approx(r.mean(), rel=1e-12) and got["std"] == pytest.approx(r.std(), rel=1e-12)
    assert got["median"] == pytest.approx(np.median(r), rel=1e-12)
    assert (got["min"], got["max"]) == (r.min(), r.max())
    assert got["p01"] == pytest.approx(np.quantile(r, 0.01), rel=1e-12)
    assert got["p99"] == pytest.approx(np.quantile(r, 0.99), rel=1e-12)
    # the peak: 50 bins over the spread, each averaged with its two neighbours on either side (zeros beyond)
    counts, edges = np.histogram(r, bins=50)
    padded = np.concatenate([[0, 0], counts, [0, 0]])
    smooth = [padded[k : k + 5].mean() for k in range(50)]
    best = int(np.argmax(smooth))
    assert got["peak"] == pytest.approx((edges[best] + edges[best + 1]) / 2, rel=1e-12)
    assert 15.5 < got["peak"] < 16.5  # the narrow hump is the mode, not the wide one


def test_the_peak_of_equal_radii_is_that_radius():
    assert radius.radius_stats(np.full(10, 2.5))["peak"] == 2.5
    assert radius.radius_stats(np.array([[3.0, 4.0]]))["peak"] == 5.0
