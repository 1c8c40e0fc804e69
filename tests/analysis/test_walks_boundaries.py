"""Walks at their boundaries: k clipped to the rows left, a median on a data value or on a tie at the top, a run
longer than one streaming chunk, float32 inputs (as a run stores them), and the messages a user reads."""

import re

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from analysis import walks
from analysis._checks import CHUNK


def whole(message: str) -> str:
    """A pattern for exactly ``message``: the whole line a user reads."""
    return "^" + re.escape(message) + "$"


def kth_nearest(data, steps, k, left_out=()):
    """Brute force: the distance from each step to its k-th nearest data row not in ``left_out``."""
    d = cdist(np.asarray(steps, np.float64), np.asarray(data, np.float64))
    d[:, list(left_out)] = np.inf
    return np.sort(d, axis=1)[:, k - 1]


def test_a_path_profile_clips_k_to_the_rows_left_and_defaults_to_the_tenth_neighbour():
    gen = np.random.default_rng(21)
    data = gen.normal(size=(14, 3))
    steps = walks.path(data[0], data[1], 4)
    # Default k: the 10th nearest of the 12 rows that are not the ends.
    profile = walks.path_profile(data, steps, exclude=(0, 1))
    assert walks.DENSITY_K == 10
    np.testing.assert_allclose(profile["nearest"], kth_nearest(data, steps, 1, (0, 1)), rtol=1e-9)
    np.testing.assert_allclose(profile["knn_radius"], kth_nearest(data, steps, 10, (0, 1)), rtol=1e-9)
    np.testing.assert_allclose(profile["norm"], np.linalg.norm(steps, axis=1), rtol=1e-12)
    # k larger than the rows left: the farthest of them, with and without rows left out, with a subset of rows.
    wide = walks.path_profile(data, steps, exclude=(0, 1), k=50)
    np.testing.assert_allclose(wide["knn_radius"], kth_nearest(data, steps, 12, (0, 1)), rtol=1e-9)
    counted = walks.path_profile(data, steps, exclude=None, k=50)
    np.testing.assert_allclose(counted["knn_radius"], kth_nearest(data, steps, 14), rtol=1e-9)
    subset = [0, 1, 4, 5, 6, 9]
    within = walks.path_profile(data, steps, exclude=(0, 1), k=50, rows=subset)
    others = [row for row in range(14) if row not in (4, 5, 6, 9)]
    np.testing.assert_allclose(within["knn_radius"], kth_nearest(data, steps, 4, others), rtol=1e-9)
    np.testing.assert_allclose(within["nearest"], kth_nearest(data, steps, 1, others), rtol=1e-9)
    with pytest.raises(ValueError, match="steps contains NaN or inf values"):
        walks.path_profile(data, np.full((2, 3), np.nan), exclude=None)
    with pytest.raises(ValueError, match="choose one of linear, spherical"):
        walks.path(data[0], data[1], 4, "curved")


def test_class_split_at_a_median_that_is_a_data_value_and_below_a_tie_at_the_top():
    high, about = walks.class_split([3.0, 1.0, 5.0, 2.0, 4.0])
    assert high.tolist() == [False, False, True, False, True]
    assert about == {"binary": False, "threshold": 3.0, "low_label": "≤ 3", "high_label": "> 3"}
    # More than half the values tie at the top: the split goes below them.
    high, about = walks.class_split([5.0, 1.0, 5.0, 2.0, 5.0])
    assert high.tolist() == [True, False, True, False, True]
    assert about["threshold"] == 2.0 and about["low_label"] == "≤ 2"
    # A binary column, and one with missing entries (None, NaN) that belong to neither class.
    high, about = walks.class_split(np.array([0, 1, None, 1, np.nan, 0], dtype=object))
    assert high.tolist() == [False, True, False, True, False, False]
    assert about == {"binary": True, "threshold": 1.0, "low_label": "0", "high_label": "1"}
    with pytest.raises(
        ValueError, match=whole("the column has fewer than two distinct values, so it splits into no two classes")
    ):
        walks.class_split([2.0, np.nan, 2.0])


@pytest.fixture(scope="module")
def long_run():
    """More rows than one streaming chunk, two classes 0.5 apart on axis 1 (the last chunk short)."""
    gen = np.random.default_rng(22)
    label = gen.integers(0, 2, size=CHUNK + 300)
    z = gen.normal(size=(CHUNK + 300, 3)) + np.outer(label, [0.0, 0.5, 0.0])
    return z.astype(np.float32), label


def test_an_attribute_direction_uses_every_chunk_and_only_the_rows_it_is_given(long_run):
    z, label = long_run
    z64 = z.astype(np.float64)
    found = walks.attribute_direction(z, label)
    low, high = z64[label == 0].mean(axis=0), z64[label == 1].mean(axis=0)
    np.testing.assert_allclose(found["mean_low"], low, rtol=1e-10)
    np.testing.assert_allclose(found["mean_high"], high, rtol=1e-10)
    assert found["distance"] == pytest.approx(np.linalg.norm(high - low), rel=1e-10) and found["distance"] < 1
    np.testing.assert_allclose(found["unit"], (high - low) / np.linalg.norm(high - low), rtol=1e-10)
    assert (found["n_low"], found["n_high"]) == (int((label == 0).sum()), int((label == 1).sum()))
    # Fitted on some rows only (a training split), the first row among them.
    rows = np.arange(0, len(z), 3)
    part = walks.attribute_direction(z, label, rows=rows)
    np.testing.assert_allclose(part["mean_low"], z64[rows][label[rows] == 0].mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(part["mean_high"], z64[rows][label[rows] == 1].mean(axis=0), rtol=1e-10)
    assert part["n_low"] + part["n_high"] == len(rows)


def test_an_attribute_direction_refuses_a_column_of_another_length_and_coinciding_means():
    z = np.array([[0.0, 1.0], [2.0, 1.0], [0.0, 3.0], [2.0, 3.0]])
    with pytest.raises(ValueError, match=r"one number per z-point \(4\), got 3"):
        walks.attribute_direction(z, [0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match=whole("the two class means coincide, so they define no direction")):
        walks.attribute_direction(z, [0.0, 1.0, 1.0, 0.0])
    # Missing values (None in an object column) belong to neither class.
    found = walks.attribute_direction(z, np.array([0.0, None, 1.0, np.nan], dtype=object))
    assert (found["n_low"], found["n_high"]) == (1, 1)
    np.testing.assert_allclose(found["unit"], [0.0, 1.0], atol=1e-12)


def test_an_attribute_walk_spans_both_sides_in_class_mean_distances():
    direction = {"unit": np.array([0.0, 0.6, 0.8]), "distance": 2.5}
    z0 = np.array([1.0, 2.0, 3.0])
    offsets, z = walks.attribute_walk(z0, direction, 0.5, 2)
    assert offsets.tolist() == [-0.5, 0.5]
    np.testing.assert_allclose(z, [z0 - 1.25 * direction["unit"], z0 + 1.25 * direction["unit"]], rtol=1e-12)
    offsets, z = walks.attribute_walk(z0, direction, 1.5, 4)
    np.testing.assert_allclose(offsets, [-1.5, -0.5, 0.5, 1.5], rtol=1e-12)
    np.testing.assert_allclose((z - z0) @ direction["unit"], offsets * 2.5, rtol=1e-12)
    for steps, span in ((1, 1.5), (4, 0.0), (4, -1.0)):
        with pytest.raises(ValueError, match=f"at least 2 steps and a positive span, got {steps} and {span}"):
            walks.attribute_walk(z0, direction, span, steps)


def test_scores_of_a_run_longer_than_one_chunk_and_a_traversal_along_a_direction_not_of_unit_length(long_run):
    z, _ = long_run
    basis = np.array([[0.6, 0.8, 0.0], [0.0, 0.0, 1.0]])
    origin = np.array([0.5, -1.0, 2.0])
    found = walks.scores(z, basis, origin)
    np.testing.assert_allclose(found, (z.astype(np.float64) - origin) @ basis.T, rtol=1e-12, atol=1e-12)
    one = walks.scores(z[:5], basis[0], np.zeros(3))
    assert one.shape == (5, 1)
    # A direction of any length is normalised first.
    z0 = np.array([1.0, 2.0, 3.0])
    moved = walks.traversal(z0, [0.0, 3.0, 0.0], [-1.0, 4.0])
    np.testing.assert_allclose(moved, [[1.0, -1.0, 3.0], [1.0, 4.0, 3.0]], rtol=1e-12)
    # A float32 loading (as a run stores its components) moves the score to each value to float64 precision.
    loading = np.array([0.3, -0.7, 0.2], np.float32)
    unit = loading.astype(np.float64) / np.linalg.norm(loading.astype(np.float64))
    values = np.array([-3.7, 0.1, 5.3])
    along = walks.traversal(z0, loading, values, origin)
    np.testing.assert_allclose((along - origin) @ unit, values, rtol=1e-13)
    assert walks.percentile_range([7.5]) == (7.5, 7.5)
    with pytest.raises(ValueError, match=whole("no values to take percentiles of")):
        walks.percentile_range([])


def test_the_plane_basis_of_float32_loadings_is_orthonormal_in_float64_and_parallel_means_relative_to_length():
    gen = np.random.default_rng(23)
    direction = gen.normal(size=16).astype(np.float32)
    components = gen.normal(size=(2, 16)).astype(np.float32)
    basis = walks.plane_basis(direction, components)
    assert basis.dtype == np.float64
    np.testing.assert_allclose(basis @ basis.T, np.eye(2), atol=1e-14)
    u = np.array([1.0, 0.0, 0.0])
    v = np.array([0.0, 1.0, 0.0])
    w = np.array([0.0, 0.0, 1.0])
    # Of a long component, a sideways part of 5e-6 is below the relative limit (1e-6 of its length 10): skipped.
    assert np.allclose(walks.plane_basis(u, [10.0 * u + 5e-6 * v, w])[1], w)
    # Exactly at the limit (1e-6 sideways of a component shorter than 1) still counts as parallel.
    assert np.allclose(walks.plane_basis(u, [0.5 * u + 1e-6 * v, w])[1], w)
    # Of a short one, the limit is 1e-6 absolute: 1.5e-6 sideways still spans the plane.
    assert np.allclose(walks.plane_basis(u, [u + 1.5e-6 * v, w])[1], v)
    with pytest.raises(ValueError, match=whole("every component given lies along the direction; no plane is spanned")):
        walks.plane_basis(u, [2.0 * u])


def test_jaccard_of_one_empty_and_of_disjoint_sets_is_zero():
    assert walks.jaccard([], [1, 2]) == 0.0
    assert walks.jaccard(np.array([3, 4]), []) == 0.0
    assert walks.jaccard([1, 2], [3]) == 0.0
    assert walks.jaccard(np.array([5, 6]), [6, 5]) == 1.0


def test_rows_given_to_an_attribute_direction_still_leave_out_their_missing_values():
    z = np.array([[0.0, 0.0], [0.0, 2.0], [5.0, 5.0], [0.0, 0.0], [9.0, 9.0]])
    values = np.array([0.0, 1.0, np.nan, 0.0, 1.0])
    found = walks.attribute_direction(z, values, rows=[0, 1, 2, 3])
    assert (found["n_low"], found["n_high"]) == (2, 1)
    np.testing.assert_allclose(found["mean_low"], [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(found["mean_high"], [0.0, 2.0], atol=1e-12)


def test_scores_reach_the_rows_past_two_chunks_and_a_traversal_from_the_origin_is_float64():
    z = np.random.default_rng(24).normal(size=(2 * CHUNK + 5, 2)).astype(np.float32)
    found = walks.scores(z, [1.0, 0.0], [0.0, 0.0])
    np.testing.assert_array_equal(found[:, 0], z[:, 0].astype(np.float64))
    moved = walks.traversal([1.0, 2.0], [0.0, 1.0], [5.0])
    assert moved.dtype == np.float64 and moved.tolist() == [[1.0, 5.0]]
