"""Per-axis histograms, axis summary and radius analysis."""

import numpy as np
import pytest
from scipy import stats

from analysis import density, radius


def test_histogram_matrix_equals_per_axis_numpy_histogram():
    z = np.random.default_rng(1).normal(size=(2000, 16)).astype(np.float32)
    z[:, 5] = 3 + 2 * z[:, 5]
    z[:10, 0] = np.round(z[:10, 0] * 4) / 4  # values exactly on bin edges
    edges, counts = density.axis_histograms(z, bin_width=0.25)
    assert counts.shape == (16, len(edges) - 1)
    assert np.allclose(np.diff(edges), 0.25)
    for a in range(16):
        expected, _ = np.histogram(z[:, a], bins=edges)
        assert np.array_equal(counts[a], expected), f"axis {a}"
    assert (counts.sum(axis=1) == 2000).all()


def test_histogram_with_explicit_range_drops_values_outside():
    z = np.linspace(-3, 3, 601)[:, None]
    edges, counts = density.axis_histograms(z, bin_width=0.5, lo=-1, hi=1)
    assert edges[0] == -1 and edges[-1] == 1
    assert counts.sum() == np.sum((z >= -1) & (z <= 1))


def test_axis_summary_flags_off_centre_and_wide_axes():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(5000, 32))
    z[:, 7] = 5.0 + 3.4 * z[:, 7]  # the seed's "axis 52": centre 5, FWHM ~8
    z[:, 20] -= 2.0
    table = density.axis_summary(z)
    assert list(table.columns) == ["axis", "mode", "mean", "fwhm", "std", "skew", "flagged", "reason"]
    assert set(table.loc[table.flagged, "axis"]) == {7, 20}
    row = table.loc[7]
    assert row["mean"] == pytest.approx(5.0, abs=0.2)
    assert row["fwhm"] == pytest.approx(8.0, abs=1.0)
    assert "centre 5.0" in row["reason"] and "width" in row["reason"]
    assert table.loc[0, "reason"] == ""


def test_radius_of_256d_normal_peaks_near_sqrt_255_and_matches_chi_reference():
    z = np.random.default_rng(3).normal(size=(20000, 256)).astype(np.float32)
    r = radius.radii(z)
    assert radius.radius_stats(r)["peak"] == pytest.approx(np.sqrt(255), rel=0.03)
    edges, counts = radius.radius_histogram(r, bin_width=0.5)
    reference = radius.chi_reference(edges, 256, len(r))
    assert reference.sum() == pytest.approx(len(r), rel=1e-3)
    assert np.abs(counts - reference).max() < 0.03 * len(r)
    centres = (edges[:-1] + edges[1:]) / 2
    assert np.allclose(radius.chi_pdf(centres, 256), stats.chi(256).pdf(centres), rtol=1e-8, atol=1e-12)
    assert centres[reference.argmax()] == pytest.approx(np.sqrt(255), abs=0.5)


def test_radius_histogram_fine_bins_count_every_point():
    r = np.array([0.0, 0.05, 1.0, 16.5])
    edges, counts = radius.radius_histogram(r, bin_width=0.05)
    assert counts.sum() == 4 and edges[0] == 0
