"""Radii and their reference at the edges: memory-mapped runs, float32 inputs, a single bin, small spreads, the
documented default width and the one-line errors a user reads; each against scipy, numpy or a loop."""

import numpy as np
import pytest
from scipy import stats

from analysis import radius
from tests.analysis.conftest import mapped_points, peak_bytes


def test_radii_of_a_memory_mapped_run_are_computed_chunk_by_chunk_not_from_a_whole_copy(tmp_path, monkeypatch):
    monkeypatch.setattr(radius, "CHUNK", 1000)
    # 2.6 MB of float32 on disk, 5.1 MB as a float64 copy; a float64 chunk is 128 kB
    mapped = mapped_points(tmp_path / "z.npy", 40_000, 16, seed=4)
    r, peak = peak_bytes(lambda: radius.radii(mapped))
    assert peak < 1_500_000, f"peak {peak} bytes: the run was copied into memory"
    rows = [0, 999, 1000, -1]
    np.testing.assert_allclose(r[rows], np.linalg.norm(np.asarray(mapped[rows], np.float64), axis=1))


def test_one_dimensional_radii_with_nan_or_below_zero_are_refused_in_words_that_say_so():
    with pytest.raises(ValueError, match=r"^radii contains NaN or inf values$"):
        radius.radius_histogram(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match=r"^radii must be non-negative \(pass z-points as an N x z_dim array\)$"):
        radius.radius_stats(np.array([1.0, -0.5]))


@pytest.mark.parametrize("width", [0, -1.0, float("inf")])
def test_a_bin_width_that_is_not_positive_is_refused_by_name(width):
    with pytest.raises(ValueError, match=rf"^bin_width must be a positive number, got {width}"):
        radius.radius_histogram(np.ones(3), bin_width=width)


def test_the_default_bin_width_is_the_seeds_half_unit():
    edges, counts = radius.radius_histogram(np.array([0.1, 0.6, 1.2]))
    assert edges.tolist() == [0.0, 0.5, 1.0, 1.5] and counts.tolist() == [1, 1, 1]


@pytest.mark.parametrize("values", [[0.0, 0.0, 0.0], [0.1, 0.3, 0.49]])
def test_radii_all_inside_the_first_bin_give_exactly_one_bin(values):
    edges, counts = radius.radius_histogram(np.array(values), bin_width=0.5)
    assert edges.tolist() == [0.0, 0.5] and counts.tolist() == [3]


def test_the_chi_density_of_float32_radii_is_scipys_in_float64():
    r = np.linspace(10.0, 22.0, 25).astype(np.float32)
    got = radius.chi_pdf(r, 256)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, stats.chi(256).pdf(r.astype(np.float64)), rtol=1e-10)


def test_the_chi_reference_of_float32_edges_is_scipys_in_float64():
    edges = (np.arange(0, 41) * 0.55).astype(np.float32)  # their squares need more than float32's 24 bits
    n = 10_000_000
    got = radius.chi_reference(edges, 256, n)
    assert got.dtype == np.float64
    expected = n * np.diff(stats.chi(256).cdf(edges.astype(np.float64)))
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-6)


def test_the_peak_of_radii_spread_over_less_than_one_unit_is_their_smoothed_mode():
    rng = np.random.default_rng(8)
    r = np.concatenate([[10.05], 10.0 + rng.uniform(0.0, 0.8, 400), rng.normal(10.6, 0.02, 600).clip(10.0, 10.8)])
    peak = radius.radius_stats(r)["peak"]
    # brute force: 50 equal bins over [min, max], a 5-bin moving average (zero beyond the ends), the middle of the best
    edges = np.linspace(r.min(), r.max(), 51)
    counts = [
        int(np.sum((r >= lo) & ((r < hi) if i < 49 else (r <= hi))))
        for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True))
    ]
    smooth = [sum(counts[j] for j in range(i - 2, i + 3) if 0 <= j < 50) for i in range(50)]
    best = int(np.argmax(smooth))
    assert peak == pytest.approx((edges[best] + edges[best + 1]) / 2, abs=1e-12)
    assert abs(peak - 10.6) < 0.05 and peak != r[0]
