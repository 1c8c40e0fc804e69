"""A plane's units and frame arithmetic against numpy on off-centre coordinates, and the errors a user reads.

PCA scores are centred, so an offset (or its sign) cannot show on them: these
tests use raw coordinates whose two axes sit at different, non-zero means and
spreads below one unit.
"""

import numpy as np
import pytest

from analysis.planes import PlaneFrame, plane_coords, unit_scale


@pytest.fixture(scope="module")
def raw():
    rng = np.random.default_rng(44)
    return np.column_stack([3.0 + 0.4 * rng.normal(size=50), -7.0 + 0.2 * rng.normal(size=50)])


def test_sd_units_centre_each_axis_on_its_own_mean_and_scale_by_its_own_spread(raw):
    offset, scale = unit_scale(raw, "sd")
    np.testing.assert_allclose(offset, raw.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(scale, raw.std(axis=0, ddof=1), rtol=1e-12)  # both spreads below 1 are taken
    frame = PlaneFrame(np.zeros(2), np.eye(2), offset, scale)
    shown = frame.shown_of_raw(raw)
    np.testing.assert_allclose(shown.mean(axis=0), [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(shown.std(axis=0, ddof=1), [1.0, 1.0], rtol=1e-12)
    np.testing.assert_allclose(shown, (raw - raw.mean(axis=0)) / raw.std(axis=0, ddof=1), rtol=1e-12)


def test_sd_units_need_two_finite_points_and_say_so(raw):
    with pytest.raises(ValueError, match=r"plane coordinates needs at least 2 point\(s\), got 1"):
        unit_scale(raw[:1], "sd")
    broken = raw.copy()
    broken[4, 1] = np.nan
    with pytest.raises(ValueError, match="plane coordinates contains NaN or inf values"):
        unit_scale(broken, "sd")
    flat = raw.copy()
    flat[:, 0] = 2.5
    with pytest.raises(ValueError, match="^a plane axis along which every point sits at one value has no standard dev"):
        unit_scale(flat, "sd")


def test_an_unknown_unit_lists_the_units_to_choose_from(raw):
    with pytest.raises(ValueError, match=r"^unknown plane units 'px'; choose one of z, sd, nn$"):
        unit_scale(raw, "px")


def test_a_frame_gives_float64_coordinates_whatever_the_precision_of_its_parts():
    rng = np.random.default_rng(45)
    origin, offset, scale = (np.float32(v) for v in (1000.1, 0.3, 0.7))
    basis = np.linalg.qr(rng.normal(size=(3, 3)))[0][:, :2].T.astype(np.float32)
    frame = PlaneFrame(np.full(3, origin), basis, np.full(2, offset), np.full(2, scale))
    z = (1000.0 + rng.normal(size=(20, 3))).astype(np.float32)
    raw64 = (z.astype(np.float64) - np.float64(origin)) @ basis.astype(np.float64).T
    expected = (raw64 - np.float64(offset)) / np.float64(scale)
    shown = frame.shown(z)
    assert shown.dtype == np.float64
    np.testing.assert_allclose(shown, expected, rtol=1e-12, atol=1e-12)
    raw = raw64.astype(np.float32)  # float32 raw coordinates, as the app keeps them
    from_raw = frame.shown_of_raw(raw)
    assert from_raw.dtype == np.float64
    np.testing.assert_allclose(from_raw, (raw.astype(np.float64) - np.float64(offset)) / np.float64(scale), rtol=1e-12)


def test_a_pca_plane_without_a_fit_says_how_to_get_one(raw):
    with pytest.raises(ValueError, match=r"^kind=\"pca\" needs a fitted PCA \(pca=fit_pca\(z\)\)$"):
        plane_coords(raw, "pca", 0, 1)
