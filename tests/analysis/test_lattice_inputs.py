"""The decoded lattice's refusals (the one line a user reads, naming the bad argument) and its documented types."""

import numpy as np
import pytest

from analysis import lattice


def test_a_viewport_with_an_empty_y_range_is_refused_with_the_whole_message():
    with pytest.raises(ValueError, match="^a viewport's ranges must be finite and increasing$"):
        lattice.positions((0.0, 1.0), (2.0, 2.0), 3)


@pytest.mark.parametrize(
    ("plane", "targets"),
    [(np.zeros((4, 3)), np.zeros((2, 2))), (np.zeros((4, 2)), np.zeros((2, 3)))],
    ids=["plane with three columns", "positions with three columns"],
)
def test_nearest_on_plane_needs_two_columns_on_both_sides(plane, targets):
    with pytest.raises(ValueError, match=r"^plane coordinates and positions have two columns \(x, y\)$"):
        lattice.nearest_on_plane(plane, targets)


def test_nearest_on_plane_names_the_argument_holding_nan():
    with pytest.raises(ValueError, match="^plane coordinates contains NaN or inf values$"):
        lattice.nearest_on_plane([[0.0, np.nan]], [[0.0, 0.0]])
    with pytest.raises(ValueError, match="^positions contains NaN or inf values$"):
        lattice.nearest_on_plane([[0.0, 0.0]], [[np.inf, 0.0]])
    with pytest.raises(ValueError, match="^positions contains NaN or inf values$"):
        lattice.moved_onto_plane(np.zeros(3), np.zeros(2), [[np.nan, 0.0]], np.eye(3)[:2])


def test_nearest_on_plane_returns_int64_row_indices():
    found = lattice.nearest_on_plane([[0.0, 0.0], [3.0, 3.0]], [[2.9, 3.1], [0.1, 0.0]])
    assert found.dtype == np.int64 and found.tolist() == [1, 0]
