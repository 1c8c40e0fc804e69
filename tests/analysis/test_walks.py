"""Walks through z-space: paths and their per-step measures, exact streamed neighbours, attribute directions, traversals."""

import numpy as np
import pytest

from analysis import neighbours, structure, walks
from tools import synthetic


@pytest.fixture(scope="module")
def filaments():
    z, labels = synthetic.filament_cloud(12, 150, 32, noise=0.01, random_state=0, return_labels=True)
    return z, labels


def test_a_path_starts_at_a_and_ends_at_b_for_both_kinds():
    a, b = np.arange(8.0), np.linspace(3.0, -1.0, 8)
    for kind in walks.PATH_KINDS:
        steps = walks.path(a, b, 7, kind)
        assert steps.shape == (7, 8)
        assert np.allclose(steps[0], a) and np.allclose(steps[-1], b)
    with pytest.raises(ValueError, match="unknown path kind"):
        walks.path(a, b, 5, "zigzag")


def test_the_spherical_path_keeps_the_norm_where_the_straight_one_dips():
    gen = np.random.default_rng(1)
    a, b = gen.normal(size=64), gen.normal(size=64)
    b *= np.linalg.norm(a) / np.linalg.norm(b)  # two points at the same radius, as data of N(0, I) nearly are
    norm = np.linalg.norm(a)
    spherical = np.linalg.norm(walks.path(a, b, 21, "spherical"), axis=1)
    straight = np.linalg.norm(walks.path(a, b, 21, "linear"), axis=1)
    assert np.allclose(spherical, norm)
    angle = np.arccos(a @ b / norm**2)
    assert straight[10] == pytest.approx(norm * np.cos(angle / 2))  # the chord's midpoint lies inside the sphere
    # With different radii the spherical path's norm moves monotonically from |a| to |b| (no dip through the centre).
    far = walks.path(a, 2 * b, 21, "spherical")
    norms = np.linalg.norm(far, axis=1)
    assert np.all(np.diff(norms) > 0) and norms[0] == pytest.approx(norm) and norms[-1] == pytest.approx(2 * norm)


def test_nearest_data_distance_along_a_path_between_two_filaments_rises_in_the_middle(filaments):
    z, labels = filaments
    # Two points on different filaments, far apart.
    first = int(np.flatnonzero(labels == 0)[0])
    others = np.flatnonzero(labels != 0)
    second = int(others[np.argmax(np.linalg.norm(z[others] - z[first], axis=1))])
    for kind in walks.PATH_KINDS:
        profile = walks.path_profile(z, walks.path(z[first], z[second], 15, kind), exclude=(first, second), k=10)
        nearest = profile["nearest"]
        # The end points are not their own reference: each end is as far from the data as its nearest other point.
        own = structure.nn_distances(z)
        assert nearest[0] == pytest.approx(own[first], rel=1e-6) and nearest[-1] == pytest.approx(own[second], rel=1e-6)
        typical = np.quantile(own, 0.99)
        assert nearest[7] > 3 * typical, f"{kind}: the middle of the path lies in a void"
        assert nearest[7] > nearest[1] and nearest[7] > nearest[-2]
        assert np.all(profile["knn_radius"] >= nearest)
        assert np.allclose(profile["norm"], np.linalg.norm(walks.path(z[first], z[second], 15, kind), axis=1))


def test_a_straight_path_inside_a_dense_cloud_stays_below_the_data_99th_percentile_reference():
    # A dense 3-d cloud in 16 dimensions: the straight line between two of its points runs through data all the way.
    z = synthetic.embedded_gaussian(4000, 3, 16, random_state=5)
    gen = np.random.default_rng(6)
    reference = structure.nn_reference(structure.data_nn_distances(z)[1])
    for a, b in gen.choice(len(z), size=(5, 2), replace=False):
        # Points of the core (not its rim): their own nearest neighbour is a typical one.
        a, b = (int(np.argsort(np.linalg.norm(z, axis=1))[i]) for i in (a % 2000, b % 2000))
        profile = walks.path_profile(z, walks.path(z[a], z[b], 25, "linear"), exclude=(a, b))
        assert profile["nearest"].max() <= reference["p99"], (a, b, profile["nearest"].max(), reference)
        # Counted as data, the ends would sit at 0 — the bug this exclusion removes.
        counted = walks.path_profile(z, walks.path(z[a], z[b], 25, "linear"), exclude=None)
        assert counted["nearest"][0] == 0.0 and profile["nearest"][0] > 0.0


def test_streamed_neighbours_are_exact_across_chunks_with_exclude_and_a_subset(filaments, monkeypatch):
    z, _ = filaments
    queries = z[[3, 400, 1700]] + 0.05
    expected_d, expected_i = structure.knn(z, queries, k=7)
    monkeypatch.setattr(neighbours, "NEAREST_CHUNK", 97)  # many chunks, the last one short
    distances, rows = walks.nearest_rows(z, queries, k=7)
    assert np.array_equal(rows, expected_i)
    assert np.allclose(distances, expected_d, atol=1e-4)
    # A data point's own row can be left out: its nearest is then another point.
    d_self, r_self = walks.nearest_rows(z, z[400], k=3, exclude=400)
    assert 400 not in r_self[0] and np.allclose(d_self[0], structure.knn(z, z[400:401], k=4)[0][0, 1:], atol=1e-4)
    # Several rows left out at once (a path's two end points), against brute force.
    gone = [400, int(r_self[0, 0]), 3]
    d_gone, r_gone = walks.nearest_rows(z, queries, k=4, exclude=gone)
    brute = np.linalg.norm(z[None, :, :].astype(np.float64) - queries[:, None, :], axis=2)
    brute[:, gone] = np.inf
    assert np.array_equal(r_gone, np.argsort(brute, axis=1)[:, :4])
    assert np.allclose(d_gone, np.sort(brute, axis=1)[:, :4], rtol=1e-9)
    with pytest.raises(ValueError, match="exclude=-1 is not a row"):
        walks.nearest_rows(z, queries, k=1, exclude=[-1, 2])
    # Only a subset of rows (the points a map holds).
    subset = np.arange(0, len(z), 5)
    _, in_subset = walks.nearest_rows(z, queries, k=2, rows=subset)
    assert np.isin(in_subset, subset).all()
    assert np.array_equal(in_subset, subset[structure.knn(z[subset], queries, k=2)[1]])
    with pytest.raises(ValueError, match="neighbours requested"):
        walks.nearest_rows(z[:5], queries, k=6)


def test_an_attribute_direction_points_from_the_low_to_the_high_class_mean():
    gen = np.random.default_rng(3)
    label = gen.integers(0, 2, size=2000)
    shift = np.zeros(16)
    shift[4] = 3.0
    z = gen.normal(size=(2000, 16)) + label[:, None] * shift
    found = walks.attribute_direction(z, np.where(label == 1, 1, -1))
    assert found["binary"] and found["n_low"] + found["n_high"] == 2000
    assert found["unit"][4] > 0.98 and found["distance"] == pytest.approx(3.0, abs=0.2)
    # A continuous column is split at its median.
    continuous = label + gen.normal(scale=0.1, size=2000)
    split = walks.attribute_direction(z, continuous)
    assert not split["binary"] and abs(split["n_low"] - split["n_high"]) <= 1
    assert split["unit"] @ found["unit"] > 0.98
    with pytest.raises(ValueError, match="two distinct values"):
        walks.attribute_direction(z, np.ones(2000))


def test_a_traversal_replaces_one_coordinate_and_keeps_the_rest():
    z0 = np.arange(6.0)
    values = np.linspace(-2, 2, 5)
    along_axis = walks.traversal(z0, np.eye(6)[2], values)
    assert np.allclose(along_axis[:, 2], values)
    assert np.allclose(np.delete(along_axis, 2, axis=1), np.delete(z0, 2))
    unit, origin = np.ones(6) / np.sqrt(6), np.full(6, 0.5)
    along_line = walks.traversal(z0, unit, values, origin)
    assert np.allclose((along_line - origin) @ unit, values)
    assert walks.percentile_range(np.arange(101.0)) == pytest.approx((1.0, 99.0))


def test_the_attribute_plane_basis_is_orthonormal_and_skips_a_parallel_component():
    u = np.array([1.0, 1.0, 0.0, 0.0])
    basis = walks.plane_basis(u, np.array([[2.0, 2.0, 0.0, 0.0], [1.0, 0.0, 1.0, 0.0]]))
    assert np.allclose(basis @ basis.T, np.eye(2))
    assert np.allclose(basis[0], u / np.sqrt(2))
    assert basis[1] @ np.array([1.0, 0.0, 1.0, 0.0]) > 0


def test_jaccard_of_two_neighbour_sets():
    assert walks.jaccard([1, 2, 3], [2, 3, 4]) == pytest.approx(0.5)
    assert walks.jaccard([], []) == 1.0
