"""Filaments and voids: local intrinsic dimension, NN distances, void fraction."""

import numpy as np
import pytest

from analysis import structure
from tools import synthetic


@pytest.fixture(scope="module")
def filaments():
    # a few hundred smooth 1-D curves in 256-d with small noise
    return synthetic.filament_cloud(200, 15, 256, noise=1e-3, random_state=0)


@pytest.mark.parametrize("method", ["twonn", "mle"])
def test_filaments_have_local_dimension_near_one(filaments, method):
    lid = structure.local_intrinsic_dimension(filaments, k=10, method=method)
    assert lid.shape == (len(filaments),)
    assert np.nanmedian(lid) == pytest.approx(1.0, abs=0.3)


@pytest.mark.parametrize("method", ["twonn", "mle"])
def test_embedded_10d_gaussian_has_local_dimension_near_ten(method):
    z = synthetic.embedded_gaussian(3000, 10, 256, random_state=1)
    assert np.nanmedian(structure.local_intrinsic_dimension(z, k=20, method=method)) == pytest.approx(10, rel=0.2)


def test_void_fraction_near_zero_for_gaussian_and_large_for_filaments(filaments):
    gauss = np.random.default_rng(2).normal(size=(3000, 256))
    assert structure.void_fraction(gauss, structure.make_probes("normal", 1000, gauss, random_state=3)) < 0.05
    for kind in structure.PROBE_KINDS:
        probes = structure.make_probes(kind, 500, filaments, random_state=4)
        assert structure.void_fraction(filaments, probes) > 0.9, kind


def test_nn_distances_exclude_self_but_see_duplicates():
    data = np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 4.0]])
    assert np.allclose(structure.nn_distances(data), [0.0, 0.0, 5.0])
    assert np.allclose(structure.nn_distances(data, np.array([[3.0, 0.0]])), [3.0])
    two = structure.nn_distances(data, k=2)
    assert two.shape == (3, 2) and np.allclose(two[2], [5.0, 5.0])


def test_duplicated_points_give_nan_dimension_not_a_crash():
    z = np.repeat(np.random.default_rng(7).normal(size=(5, 4)), 30, axis=0)
    lid = structure.local_intrinsic_dimension(z, k=10)
    assert np.isnan(lid).all()


def _brute_nn(data, queries, skip_self=False):
    d = np.linalg.norm(queries[:, None, :].astype(np.float64) - data[None, :, :].astype(np.float64), axis=2)
    if skip_self:
        d[np.arange(len(queries)), np.arange(len(queries))] = np.inf
    return np.sort(d, axis=1)


def test_data_nn_distances_measure_sampled_rows_against_every_other_point(monkeypatch):
    from analysis import neighbours

    z = np.random.default_rng(3).normal(size=(900, 12)) * np.geomspace(2, 0.1, 12) + 40.0  # far from the origin
    monkeypatch.setattr(neighbours, "BLOCK_ENTRIES", 2048)  # many small chunks
    rows, distances = structure.data_nn_distances(z, n_queries=150, random_state=2)
    assert len(rows) == 150 and np.all(np.diff(rows) > 0)
    brute = _brute_nn(z, z, skip_self=True)[:, 0]
    assert np.allclose(distances, brute[rows], rtol=1e-9)  # exact, though the points sit at |z| ~ 140
    all_rows, all_distances = structure.data_nn_distances(z)
    assert np.array_equal(all_rows, np.arange(900)) and np.allclose(all_distances, brute, rtol=1e-9)
    ref = structure.nn_reference(all_distances)
    assert ref["median"] == pytest.approx(np.median(brute)) and ref["p99"] == pytest.approx(np.quantile(brute, 0.99))


def test_distance_percentile_is_the_share_of_data_neighbour_distances_at_most_that_far():
    reference = np.array([1.0, 2.0, 2.0, 3.0, 4.0])
    got = structure.distance_percentile([0.5, 1.0, 2.0, 2.5, 4.0, 9.0], reference)
    assert got.tolist() == [0.0, 20.0, 60.0, 60.0, 100.0, 100.0]
    assert structure.distance_percentile(np.array([[1.0]]), reference).shape == (1, 1)
    with pytest.raises(ValueError, match="no reference"):
        structure.distance_percentile(1.0, [])


def test_lid_mle_is_levina_bickel_and_the_default_estimator():
    dist = np.array([[1.0, 2.0, 4.0, 8.0], [1.0, 1.0, 1.0, 2.0]])
    # (k - 2) / sum_{j<k} log(r_k / r_j), written out for each row.
    expected = [2 / (np.log(8) + np.log(4) + np.log(2)), 2 / (3 * np.log(2))]
    assert np.allclose(structure.lid_mle(dist), expected)
    assert np.isnan(structure.lid_mle(np.zeros((1, 5))))[0]
    z = synthetic.embedded_gaussian(1500, 6, 40, random_state=4)
    default = structure.local_intrinsic_dimension(z, k=15)
    assert np.allclose(default, structure.local_intrinsic_dimension(z, k=15, method="mle"), equal_nan=True)
    assert np.nanmedian(default) == pytest.approx(6, rel=0.2)


def test_voids_match_brute_force_against_every_data_point():
    gen = np.random.default_rng(5)
    data = gen.normal(size=(700, 10))
    probes = np.r_[gen.normal(size=(50, 10)), gen.normal(size=(50, 10)) * 3.0]
    found = structure.voids(data, probes, quantile=0.9)
    own = _brute_nn(data, data, skip_self=True)[:, 0]
    threshold = np.quantile(own, 0.9)
    probe_nn = _brute_nn(data, probes)[:, 0]
    assert found["threshold"] == pytest.approx(threshold)
    assert np.allclose(found["probe_nn"], probe_nn)
    assert found["fraction"] == pytest.approx(np.mean(probe_nn > threshold))
    assert found["fraction_lo"] < found["fraction"] < found["fraction_hi"]
    assert structure.void_fraction(data, probes, quantile=0.9) == found["fraction"]


def test_the_gaussian_null_has_the_data_mean_covariance_and_size():
    gen = np.random.default_rng(8)
    mixing = gen.normal(size=(6, 6))
    z = gen.normal(size=(20000, 6)) @ mixing + np.arange(6)
    null = structure.gaussian_null(z, random_state=1)
    assert null.shape == z.shape
    assert np.allclose(null.mean(axis=0), z.mean(axis=0), atol=0.1)
    cov, null_cov = np.cov(z.T), np.cov(null.T.astype(np.float64))
    assert np.abs(null_cov - cov).max() < 0.05 * np.abs(cov).max()  # off-diagonals too: not a per-axis Gaussian
    assert structure.gaussian_null(z, 10, random_state=1).shape == (10, 6)


def test_filaments_stand_out_from_their_null_and_a_gaussian_does_not(filaments):
    probes = {"full_gaussian": structure.make_probes("full_gaussian", 300, filaments, random_state=1)}
    data = structure.describe_cloud(filaments, probes, 400, random_state=0)
    null = structure.describe_cloud(structure.gaussian_null(filaments, random_state=2), probes, 400, random_state=0)
    assert data["lid_median"] == pytest.approx(1.0, abs=0.3) and null["lid_median"] > 10
    assert data["void_full_gaussian"] > 0.95 and null["void_full_gaussian"] < 0.05
    assert data["nn_median"] < 0.2 * null["nn_median"]
    gauss = np.random.default_rng(9).normal(size=(3000, 20))
    probes = {"full_gaussian": structure.make_probes("full_gaussian", 300, gauss, random_state=1)}
    same = structure.describe_cloud(gauss, probes, 400, random_state=0)
    twin = structure.describe_cloud(structure.gaussian_null(gauss, random_state=3), probes, 400, random_state=0)
    assert same["lid_median"] == pytest.approx(twin["lid_median"], rel=0.15)
    assert abs(same["void_full_gaussian"] - twin["void_full_gaussian"]) < 0.05
