"""The cached per-point colourings and the parameter sets of analysis.results, against brute force and word for word."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import results


def _sorted_other_distances(z) -> np.ndarray:
    # Every point's distances to every other point, ascending (float64, brute force).
    z = np.asarray(z, dtype=np.float64)
    d = np.sqrt(((z[:, None, :] - z[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    return np.sort(d, axis=1)[:, :-1]


def test_local_density_is_minus_the_log_distance_to_the_kth_other_point(small_run):
    z = np.load(small_run / "zpoints.npy")
    brute = _sorted_other_distances(z)
    for k in (None, 2, 7):
        got = results.local_density(small_run) if k is None else results.local_density(small_run, k=k)
        expected = -np.log(brute[:, (20 if k is None else k) - 1])  # the default neighbourhood is 20
        assert got["values"].dtype == np.float32 and got["values"].shape == (300,)
        np.testing.assert_allclose(got["values"], expected, rtol=1e-5, atol=1e-5)


def test_a_point_with_k_duplicates_has_the_capped_density_not_infinity(tmp_path, make_run):
    z = np.random.default_rng(1).normal(size=(12, 3))
    z[1:4] = z[0]  # point 0 has three other points at distance 0
    run = make_run(tmp_path / "dup", z)
    values = results.local_density(run, k=3)["values"]
    # the first four points each have three duplicates: their distance is floored at 1e-12
    np.testing.assert_allclose(values[:4], -np.log(1e-12), rtol=1e-6)
    np.testing.assert_allclose(values[4:], -np.log(_sorted_other_distances(z)[4:, 2]), rtol=1e-5)


def test_local_dimension_is_levina_bickel_over_the_k_nearest_other_points(small_run):
    z = np.load(small_run / "zpoints.npy")
    brute = _sorted_other_distances(z)
    for k in (None, 5):
        kk = 20 if k is None else k
        r = brute[:, :kk]
        expected = (kk - 2) / np.log(r[:, -1:] / r[:, :-1]).sum(axis=1)
        got = results.local_dimension(small_run) if k is None else results.local_dimension(small_run, k=k)
        assert got["values"].dtype == np.float32
        np.testing.assert_allclose(got["values"], expected, rtol=1e-4)


def test_the_neighbourhood_is_a_whole_number_of_at_least_two():
    assert results.local_density.key() == ("local_density", {"k": 20})
    assert results.local_dimension.key(k=2.0) == ("local_dimension.mle", {"k": 2})
    assert type(results.NeighbourParams(k=np.int64(3)).k) is int
    for bad in (1, 0, -2, 2.5, True):
        with pytest.raises(ValueError, match=rf"^k must be a whole number >= 2, got {bad!r}$"):
            results.NeighbourParams(k=bad)
