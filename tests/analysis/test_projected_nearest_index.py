"""The projected index itself: the documented float32 copy, the same whatever the chunk it is built in, and its
residual lengths against numpy (what makes the lower bounds bounds)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from analysis.projected_nearest import COMPONENTS, FIRST_ROWS, nearest_distance, projected_index


@pytest.fixture(scope="module")
def spread():
    gen = np.random.default_rng(41)
    z = (gen.normal(size=(300, 40)) * np.r_[np.full(4, 3.0), np.full(36, 0.05)] + 2.0).astype(np.float32)
    mean = z.astype(np.float64).mean(axis=0)
    _, _, vt = np.linalg.svd(z - mean, full_matrices=False)
    return z, mean, vt


def test_the_index_is_a_float32_copy_of_the_kept_coordinates_and_residual_lengths(spread):
    z, mean, vt = spread
    index = projected_index(z, mean, vt)
    for key in ("mean", "directions", "coords", "sq_norms", "residuals"):
        assert index[key].dtype == np.float32, key
    assert index["directions"].shape == (COMPONENTS, 40) and index["coords"].shape == (300, COMPONENTS)
    centred = z.astype(np.float64) - mean
    coords = centred @ vt[:COMPONENTS].T
    np.testing.assert_allclose(index["coords"], coords, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(index["sq_norms"], np.einsum("ij,ij->i", coords, coords), rtol=1e-5)
    # The rest of each point's distance from the mean lies outside the kept directions: small here (0.05 per axis).
    rest = np.linalg.norm(centred - coords @ vt[:COMPONENTS], axis=1)
    assert rest.max() < 1.0
    np.testing.assert_allclose(index["residuals"], rest, rtol=1e-3, atol=1e-4)


def test_the_index_is_the_same_whatever_chunk_it_is_read_in(spread):
    z, mean, vt = spread
    whole = projected_index(z, mean, vt)
    for chunk in (7, 299, 300):
        part = projected_index(z, mean, vt, chunk=chunk)
        for key in ("coords", "sq_norms", "residuals"):
            np.testing.assert_array_equal(part[key], whole[key], err_msg=f"{key} in chunks of {chunk}")


def whole(message: str) -> str:
    """A pattern for exactly ``message``: the whole line a user reads."""
    return "^" + re.escape(message) + "$"


def test_the_messages_for_a_query_or_an_index_that_does_not_fit(spread):
    z, mean, vt = spread
    index = projected_index(z, mean, vt)
    with pytest.raises(ValueError, match=whole("query contains NaN or inf values")):
        nearest_distance(index, z, np.r_[np.nan, np.zeros(39)])
    with pytest.raises(ValueError, match=whole("query of 39 dimensions or index of 300 rows does not fit the data")):
        nearest_distance(index, z, np.zeros(39))
    other = projected_index(z[:10], mean, vt)
    with pytest.raises(ValueError, match=whole("query of 40 dimensions or index of 10 rows does not fit the data")):
        nearest_distance(other, z, np.zeros(40))
    for bad in (-1, 300):
        with pytest.raises(ValueError, match=whole(f"exclude={bad} is not a row of the data (0..299)")):
            nearest_distance(index, z, z[0], exclude=bad)
    one = projected_index(z[:1], mean, vt)
    with pytest.raises(ValueError, match=whole("no data row to measure against")):
        nearest_distance(one, z[:1], z[0], exclude=0)


def identity_index(data):
    """The index on the first COMPONENTS axes about the origin: coordinates and residuals read off by eye."""
    return projected_index(data, np.zeros(data.shape[1]), np.eye(data.shape[1]))


@pytest.mark.parametrize("far", [1.0, np.sqrt(200.0)])
def test_the_nearest_point_is_found_behind_more_decoys_than_the_first_batch(far):
    # 70 decoys (more than the first batch of 64) sit near the query in the kept axes but `far` out in the rest;
    # the nearest point is 1 away in the kept axes. Its lower bound must stay 1 and the decoys' at least far^2.
    d = 40
    gen = np.random.default_rng(43)
    query = np.zeros(d)
    query[0] = 10.0
    decoys = np.tile(query, (70, 1))
    decoys[:, 1:COMPONENTS] += 0.5 * _unit_rows(gen.normal(size=(70, COMPONENTS - 1)))
    decoys[:, COMPONENTS + 4] = far
    nearest = query.copy()
    nearest[1] = 1.0
    data = np.vstack([decoys, nearest]).astype(np.float32)
    distance, _ = nearest_distance(identity_index(data), data, query)
    assert distance == pytest.approx(1.0, rel=1e-9)


def test_a_point_just_nearer_than_the_first_batch_best_is_still_measured():
    # The first batch (as many decoys as it holds, each with a lower bound of 0) finds 0.5 squared; one point at
    # 0.49995 squared, the only row left, has a tight bound just below it: it must be measured, not ruled out.
    d = 40
    gen = np.random.default_rng(44)
    query = np.zeros(d)
    query[COMPONENTS + 4] = 0.5
    decoys = np.zeros((FIRST_ROWS, d))
    decoys[:, COMPONENTS + 5 :] = 0.5 * _unit_rows(gen.normal(size=(FIRST_ROWS, d - COMPONENTS - 5)))
    nearest = query.copy()
    nearest[0] = np.sqrt(0.49995)
    data = np.vstack([decoys, nearest]).astype(np.float32)
    distance, _ = nearest_distance(identity_index(data), data, query)
    expected = np.linalg.norm(data.astype(np.float64) - query, axis=1).min()
    assert expected < np.sqrt(0.5) - 1e-5
    assert distance == pytest.approx(expected, rel=1e-9)


def _unit_rows(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)
