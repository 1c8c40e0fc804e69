"""The projected index's nearest-data distance is the exact one: checked against scipy's brute force (issue 21)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from analysis.projected_nearest import COMPONENTS, FIRST_ROWS, nearest_distance, projected_index

D = 48  # more dimensions than the index keeps, so its bounds are bounds, not distances


def pca_index(z: np.ndarray) -> dict:
    mean = z.mean(axis=0)
    _, _, vt = np.linalg.svd(z - mean, full_matrices=False)
    return projected_index(z, mean, vt)


@pytest.fixture(scope="module")
def cloud() -> np.ndarray:
    # Most spread in a few directions (as trained z-points), the rest small but not nothing.
    gen = np.random.default_rng(0)
    scales = np.r_[np.linspace(3.0, 1.0, 8), np.full(D - 8, 0.15)]
    return (gen.normal(size=(4000, D)) * scales + 5.0).astype(np.float32)


def brute(z, q, exclude=None):
    d = cdist(np.atleast_2d(q).astype(np.float64), z.astype(np.float64))[0]
    if exclude is not None:
        d[exclude] = np.inf
    return d.min()


def test_a_clicked_point_gets_its_nearest_other_point_exactly_first_and_last_rows_too(cloud):
    index = pca_index(cloud)
    assert index["coords"].shape == (len(cloud), COMPONENTS)
    for row in (0, 1, 1234, len(cloud) - 1):
        distance, measured = nearest_distance(index, cloud, cloud[row], exclude=row)
        assert distance == pytest.approx(brute(cloud, cloud[row], row), rel=1e-9)
        assert distance > 0 and measured < len(cloud) // 4  # a fraction of a scan


def test_empty_space_and_far_away_queries_get_the_exact_nearest_distance(cloud):
    index = pca_index(cloud)
    gen = np.random.default_rng(1)
    queries = [cloud.mean(axis=0), cloud[7] + 0.05, gen.normal(size=D) * 4 + 5, np.full(D, 100.0)]
    for q in queries:
        distance, _ = nearest_distance(index, cloud, q)
        assert distance == pytest.approx(brute(cloud, q), rel=1e-9)


def test_an_isotropic_cloud_where_the_bounds_are_weak_still_answers_exactly():
    z = np.random.default_rng(2).normal(size=(1500, D)).astype(np.float32)
    index = pca_index(z)
    for row in (0, 749, 1499):
        distance, measured = nearest_distance(index, z, z[row], exclude=row)
        assert distance == pytest.approx(brute(z, z[row], row), rel=1e-9)
        assert FIRST_ROWS <= measured <= len(z)


def test_a_duplicate_of_the_clicked_point_is_at_distance_zero_and_its_own_row_is_not_counted(cloud):
    z = np.vstack([cloud[:500], cloud[42:43]])  # row 500 repeats row 42
    index = pca_index(z)
    assert nearest_distance(index, z, z[42], exclude=42)[0] == 0.0
    assert nearest_distance(index, z, z[42], exclude=500)[0] == 0.0
    alone = nearest_distance(pca_index(cloud[:500]), cloud[:500], cloud[42], exclude=42)[0]
    assert alone == pytest.approx(brute(cloud[:500], cloud[42], 42), rel=1e-9) and alone > 0


def test_fewer_rows_than_the_first_batch_and_a_single_row():
    z = np.random.default_rng(3).normal(size=(5, D)).astype(np.float32)
    index = pca_index(z)
    assert nearest_distance(index, z, z[0], exclude=0) == (pytest.approx(brute(z, z[0], 0), rel=1e-9), 4)
    one = z[:1]
    assert nearest_distance(pca_index(one), one, np.zeros(D))[0] == pytest.approx(np.linalg.norm(one[0]), rel=1e-6)
    with pytest.raises(ValueError, match="no data row"):
        nearest_distance(pca_index(one), one, one[0], exclude=0)
    with pytest.raises(ValueError, match="not a row"):
        nearest_distance(index, z, z[0], exclude=5)


def test_a_query_far_out_in_the_unkept_directions_is_ruled_out_by_its_residual_length(cloud):
    index = pca_index(cloud)
    _, _, vt = np.linalg.svd(cloud - cloud.mean(axis=0), full_matrices=False)
    q = cloud.mean(axis=0) + 20.0 * vt[-1]  # the least-spread direction: outside what the index keeps
    distance, measured = nearest_distance(index, cloud, q)
    assert distance == pytest.approx(brute(cloud, q), rel=1e-9)
    assert measured < len(cloud) // 4  # without the residual term every row's bound would be below the answer
