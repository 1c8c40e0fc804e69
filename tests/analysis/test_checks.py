"""The shared input checks of every analysis function, each at its boundary."""

import numpy as np
import pytest

from analysis import _checks


def test_points_keep_their_dtype_when_asked_and_a_vector_is_one_column():
    z = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert _checks.as_points(z, dtype=None) is z
    assert _checks.as_points(z).dtype == np.float64
    assert _checks.as_points(np.array([1, 2, 3])).shape == (3, 1)
    assert _checks.as_points(np.array([[True], [False]]), dtype=None).dtype == bool


def test_non_finite_values_are_found_in_the_last_chunk_too(monkeypatch):
    monkeypatch.setattr(_checks, "CHUNK", 4)
    z = np.zeros((10, 2))
    assert _checks.as_points(z).shape == (10, 2)
    for row in (0, 4, 9):
        for bad in (np.nan, np.inf, -np.inf):
            broken = z.copy()
            broken[row, 1] = bad
            with pytest.raises(ValueError, match="^points contains NaN or inf values$"):
                _checks.as_points(broken, name="points")


def test_the_fewest_points_is_allowed_and_one_less_is_refused():
    assert len(_checks.as_points(np.zeros((3, 2)), min_points=3)) == 3
    with pytest.raises(ValueError, match="^z needs at least 3 point\\(s\\), got 2$"):
        _checks.as_points(np.zeros((2, 2)), min_points=3)
    with pytest.raises(ValueError, match="^z needs at least 1 point\\(s\\), got 0$"):
        _checks.as_points(np.zeros((0, 2)))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((2, 2, 2)), r"^z must be 2-D \(N x z_dim\), got shape \(2, 2, 2\)$"),
        (np.zeros((3, 0)), r"^z has no dimensions \(shape \(3, 0\)\)$"),
        (np.array([["a", "b"]]), r"^z must be a numeric array of points \(N x z_dim\), got dtype <U1$"),
        ([[1, 2], [3]], r"^z must be a numeric array of points \(N x z_dim\)$"),
    ],
)
def test_odd_arrays_get_one_line_naming_the_problem(bad, message):
    with pytest.raises(ValueError, match=message):
        _checks.as_points(bad, dtype=None if isinstance(bad, np.ndarray) else np.float64)


def test_positive_takes_any_finite_number_above_zero():
    assert _checks.positive("2.5", "w") == 2.5 and _checks.positive(1e-300, "w") == 1e-300
    for bad in (0.0, -1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match=f"^w must be a positive number, got {bad}$"):
            _checks.positive(bad, "w")
    with pytest.raises(ValueError, match="^w must be a number, got 'x'$"):
        _checks.positive("x", "w")


def test_a_generator_is_used_as_given_and_a_seed_makes_a_fresh_one():
    gen = np.random.default_rng(1)
    assert _checks.rng(gen) is gen
    assert _checks.rng(7).integers(1000) == np.random.default_rng(7).integers(1000)


def test_draw_ids_takes_all_rows_up_to_the_total_and_a_sorted_seeded_subset_below():
    assert _checks.draw_ids(5, None, 0).tolist() == [0, 1, 2, 3, 4]
    assert _checks.draw_ids(5, 5, 0).tolist() == [0, 1, 2, 3, 4]
    assert _checks.draw_ids(5, 9, 0).dtype == np.int64
    some = _checks.draw_ids(100, 99, 3)
    assert len(some) == 99 and len(set(some.tolist())) == 99 and np.all(np.diff(some) > 0)
    expected = np.sort(np.random.default_rng(3).choice(100, size=99, replace=False))
    assert some.tolist() == expected.tolist() and some.dtype == np.int64
    assert _checks.draw_ids(100, 1, 3).tolist() == [int(np.random.default_rng(3).choice(100, 1, replace=False)[0])]
    with pytest.raises(ValueError, match="^number of points must be at least 1, got 0$"):
        _checks.draw_ids(5, 0, 0)
