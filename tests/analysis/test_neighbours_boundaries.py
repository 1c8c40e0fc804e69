"""Nearest-neighbour searches at their boundaries, against scipy's brute force: the first and last row, a row at a
chunk start and at a chunk end, a one-row run, the kept norms, and the messages a user reads."""

import re

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from analysis import neighbours


def whole(message: str) -> str:
    """A pattern for exactly ``message``: the whole line a user reads."""
    return "^" + re.escape(message) + "$"


def brute_nearest(data, queries, exclude=None):
    d = cdist(np.atleast_2d(queries).astype(np.float64), np.asarray(data, np.float64))
    if exclude is not None:
        d[:, exclude] = np.inf
    return d.min(axis=1)


@pytest.fixture
def chunked(monkeypatch):
    """30 float32 z-points streamed in chunks of 7 (the last one short)."""
    monkeypatch.setattr(neighbours, "NEAREST_CHUNK", 7)
    return np.random.default_rng(31).normal(size=(30, 4)).astype(np.float32)


def test_nearest_data_distance_is_the_brute_force_one_in_every_chunk(chunked):
    data = chunked
    gen = np.random.default_rng(32)
    # Near the first row, a chunk's first and last rows, the last row; and two points out in the space between.
    queries = np.vstack([data[[0, 7, 13, 29]] + 0.1, 3.0 * gen.normal(size=(2, 4))]).astype(np.float32)
    found = neighbours.nearest_data_distance(data, queries)
    assert found.dtype == np.float64 and found.shape == (6,)
    np.testing.assert_allclose(found, brute_nearest(data, queries), rtol=1e-5, atol=1e-5)
    assert found[:4].max() < 0.25  # below one unit: the clip at 0 is not a clip at 1
    kept = np.einsum("ij,ij->i", data, data)
    np.testing.assert_array_equal(neighbours.nearest_data_distance(data, queries, sq_norms=kept), found)
    one = neighbours.nearest_data_distance(data, queries[0].astype(np.float64))
    assert one.shape == (1,) and one[0] == pytest.approx(found[0], rel=1e-5)


def test_a_clicked_row_is_left_out_at_the_first_and_last_row_and_at_both_ends_of_a_chunk(chunked):
    data = chunked
    for row in (0, 6, 7, 14, 29):
        found = neighbours.nearest_data_distance(data, data[row], exclude=row)[0]
        assert found == pytest.approx(brute_nearest(data, data[row], exclude=row)[0], rel=1e-5), row
        assert found > 0.1, row
    # Counted, the clicked row is its own nearest point.
    assert neighbours.nearest_data_distance(data, data[7])[0] < 1e-3


def test_a_one_row_run_and_the_messages_for_bad_input():
    one = np.array([[3.0, 4.0]], np.float32)
    assert neighbours.nearest_data_distance(one, [0.0, 0.0])[0] == pytest.approx(5.0, rel=1e-6)
    data = np.zeros((5, 4), np.float32)
    with pytest.raises(ValueError, match=whole("data must be a non-empty N x d array, got shape (5,)")):
        neighbours.nearest_data_distance(np.zeros(5), [0.0])
    with pytest.raises(ValueError, match=whole("data must be a non-empty N x d array, got shape (0, 4)")):
        neighbours.nearest_data_distance(data[:0], np.zeros(4))
    with pytest.raises(ValueError, match=whole("queries have 3 dimensions but data has 4")):
        neighbours.nearest_data_distance(data, np.zeros(3))
    with pytest.raises(ValueError, match=whole("queries contains NaN or inf values")):
        neighbours.nearest_data_distance(data, [0.0, np.nan, 0.0, 0.0])
    for bad in (-1, 5):
        with pytest.raises(ValueError, match=whole(f"exclude={bad} is not a row of the data (0..4)")):
            neighbours.nearest_data_distance(data, np.zeros(4), exclude=bad)
