"""The decoded lattice's arithmetic, the plane units and the radius band, each against a brute-force reference."""

import numpy as np
import pytest

from analysis import lattice
from analysis.pca import fit_pca
from analysis.planes import UNITS, PlaneFrame, unit_scale
from analysis.radius import RADIUS_BAND, radius_band


@pytest.fixture(scope="module")
def cloud():
    rng = np.random.default_rng(7)
    return rng.normal(size=(700, 6)) @ rng.normal(size=(6, 6)) + 2.0


@pytest.mark.parametrize("k", [lattice.MIN_SIZE, 3, lattice.MAX_SIZE])
def test_positions_are_the_cell_centres_top_row_first(k):
    centres = lattice.positions((-1.0, 3.0), (10.0, 12.0), k)
    assert centres.shape == (k * k, 2)
    for r in range(k):
        for c in range(k):
            x = -1.0 + (c + 0.5) * 4.0 / k
            y = 12.0 - (r + 0.5) * 2.0 / k  # row 0 is the top of the viewport
            np.testing.assert_allclose(centres[r * k + c], [x, y], rtol=0, atol=1e-12)


@pytest.mark.parametrize("k", [lattice.MIN_SIZE - 1, lattice.MAX_SIZE + 1])
def test_a_lattice_past_its_limits_is_refused(k):
    with pytest.raises(ValueError, match=f"2 to 12 tiles per side, not {k}"):
        lattice.positions((0, 1), (0, 1), k)


@pytest.mark.parametrize("ranges", [((1, 1), (0, 1)), ((0, 1), (2, 1)), ((0, np.inf), (0, 1))])
def test_an_empty_or_endless_viewport_is_refused(ranges):
    with pytest.raises(ValueError, match="finite and increasing"):
        lattice.positions(*ranges, 4)


@pytest.mark.parametrize("block", [1, 7, lattice.BLOCK])
def test_nearest_on_plane_matches_brute_force_across_blocks(monkeypatch, block):
    monkeypatch.setattr(lattice, "BLOCK", block)
    rng = np.random.default_rng(1)
    xy = rng.normal(size=(300, 2))
    targets = np.vstack([rng.normal(size=(40, 2)) * 2, xy[[0, 299]]])  # the first and the last row themselves
    found = lattice.nearest_on_plane(xy, targets)
    brute = np.argmin(((xy[None] - targets[:, None]) ** 2).sum(axis=2), axis=1)
    assert found.tolist() == brute.tolist()
    assert found[-2:].tolist() == [0, 299]


def test_nearest_on_plane_keeps_the_first_of_two_equally_near_points(monkeypatch):
    monkeypatch.setattr(lattice, "BLOCK", 2)  # the tie spans two blocks
    xy = np.array([[5.0, 5.0], [-1.0, 0.0], [9.0, 9.0], [1.0, 0.0]])
    assert lattice.nearest_on_plane(xy, [[0.0, 0.0]]).tolist() == [1]


def test_moving_onto_a_pca_plane_sets_two_scores_and_keeps_the_rest(cloud):
    fit = fit_pca(cloud)
    frame = PlaneFrame(fit.mean_, fit.components_[[2, 0]], np.zeros(2), np.ones(2))
    base = cloud[[5, 9, 11]]
    targets = np.array([[0.5, -1.0], [2.0, 2.0], [-3.0, 0.25]])
    moved = lattice.moved_onto_plane(base, frame.shown(base), targets, frame.directions)
    before, after = fit.transform(base), fit.transform(moved)
    np.testing.assert_allclose(after[:, [2, 0]], targets, atol=1e-9)
    np.testing.assert_allclose(np.delete(after, [0, 2], axis=1), np.delete(before, [0, 2], axis=1), atol=1e-9)


def test_one_base_row_is_shared_by_every_target(cloud):
    basis = np.eye(6)[[1, 4]]
    moved = lattice.moved_onto_plane(cloud[3], cloud[3, [1, 4]], [[0.0, 0.0], [7.0, -7.0]], basis)
    expected = np.tile(cloud[3], (2, 1))
    expected[:, [1, 4]] = [[0.0, 0.0], [7.0, -7.0]]
    np.testing.assert_allclose(moved, expected, atol=1e-12)


def test_standardised_pca_coordinates_are_scikit_learns_whitened_scores(cloud):
    from sklearn.decomposition import PCA

    fit = fit_pca(cloud)
    raw = fit.transform(cloud)[:, [0, 3]]
    offset, scale = unit_scale(raw, "sd")
    frame = PlaneFrame(fit.mean_, fit.components_[[0, 3]], offset, scale)
    whitened = PCA(whiten=True).fit(cloud).transform(cloud)[:, [0, 3]]
    ours = frame.shown(cloud).astype(np.float64)
    # Components are defined up to their sign.
    np.testing.assert_allclose(np.abs(ours), np.abs(whitened), atol=1e-4)
    np.testing.assert_allclose(ours.std(axis=0, ddof=1), [1.0, 1.0], atol=1e-5)


def test_nn_units_divide_by_the_median_nn_distance_and_z_units_change_nothing():
    raw = np.array([[2.0, -4.0], [0.0, 1.0]])
    offset, scale = unit_scale(raw, "nn", nn_median=0.5)
    np.testing.assert_array_equal(offset, [0, 0])
    np.testing.assert_array_equal(scale, [0.5, 0.5])
    assert [a.tolist() for a in unit_scale(raw, "z")] == [[0, 0], [1, 1]]
    assert UNITS == ("z", "sd", "nn")
    with pytest.raises(ValueError, match="median nearest-neighbour distance must be a positive number"):
        unit_scale(raw, "nn", nn_median=0.0)
    with pytest.raises(ValueError, match="has no standard deviation"):
        unit_scale(np.array([[1.0, 2.0], [1.0, 3.0]]), "sd")
    with pytest.raises(ValueError, match="unknown plane units"):
        unit_scale(raw, "px")


def test_a_frame_in_units_moves_z_by_the_scale_per_unit(cloud):
    fit = fit_pca(cloud)
    frame = PlaneFrame(fit.mean_, fit.components_[[0, 1]], np.array([0.0, 0.0]), np.array([2.0, 0.5]))
    moved = lattice.moved_onto_plane(fit.mean_, frame.shown(fit.mean_)[0], [[1.0, 1.0]], frame.directions)[0]
    np.testing.assert_allclose(moved - fit.mean_, 2.0 * fit.components_[0] + 0.5 * fit.components_[1], atol=1e-9)


def test_the_radius_band_is_the_5th_to_95th_percentile():
    radii = np.random.default_rng(3).chisquare(5, size=1001)
    assert RADIUS_BAND == (5.0, 95.0)
    assert radius_band(radii) == pytest.approx(tuple(np.percentile(radii, [5, 95])), abs=1e-12)
    assert radius_band(np.arange(101.0)) == (5.0, 95.0)
