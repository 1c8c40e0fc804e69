"""The ex-post densities where the data give them nothing to measure: every z-point the same."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import density_fit


def test_a_kde_of_identical_points_has_a_vanishing_width_and_samples_the_point_itself():
    z = np.full((20, 2), 3.0)
    fit = density_fit.fit_kde(z)
    # no spread: the unit falls to its floor of 1e-12 and the narrowest kernel of the grid (1e-3 units) wins
    assert fit["bandwidth"] == pytest.approx(1e-15, rel=1e-9)
    assert fit["scott"] == pytest.approx(18 ** (-1 / 6) * 1e-12, rel=1e-9)
    assert np.abs(density_fit.sample_kde(fit, 50, z) - 3.0).max() < 1e-12
