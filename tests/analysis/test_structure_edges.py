"""Structure numbers at their edges: both dimension estimators against a brute-force loop on a cloud with
duplicated points and an evenly spaced row, the smallest k each takes, and the reference lines, percentiles,
seeds and sizes of a run's structure beside its null, with the errors a user reads.

Small clouds (tens to hundreds of points in a few dimensions) keep these tests well under a second.
"""

import warnings

import numpy as np
import pytest

from analysis import structure


def _sorted_distances(z):
    """Every point's distances to every other point, ascending, and the neighbours' rows (brute force)."""
    d = np.linalg.norm(z[:, None, :].astype(np.float64) - z[None, :, :].astype(np.float64), axis=2)
    np.fill_diagonal(d, np.inf)
    order = np.argsort(d, axis=1, kind="stable")
    return np.take_along_axis(d, order, axis=1)[:, :-1], order[:, :-1]


def _twonn_loop(z, k):
    """Facco et al.'s TwoNN applied locally, one point at a time: (m - 1) / sum of the m finite log(r2 / r1)."""
    dist, order = _sorted_distances(z)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_mu = np.log(dist[:, 1] / dist[:, 0])
    out = np.full(len(z), np.nan)
    for i in range(len(z)):
        hood = [log_mu[i], *log_mu[order[i, :k]]]
        finite = [v for v in hood if np.isfinite(v)]
        if len(finite) >= 2 and sum(finite) > 0:
            out[i] = (len(finite) - 1) / sum(finite)
    return out


def _mle_loop(z, k):
    """Levina & Bickel's unbiased MLE, one point at a time: (m - 1) / sum of the m finite log(r_k / r_j), j < k."""
    dist, _ = _sorted_distances(z)
    out = np.full(len(z), np.nan)
    for i in range(len(z)):
        r = dist[i, :k]
        with np.errstate(divide="ignore"):
            logs = [np.log(r[-1] / rj) for rj in r[:-1]]
        finite = [v for v in logs if np.isfinite(v)]
        if len(finite) >= 2 and sum(finite) > 0:
            out[i] = (len(finite) - 1) / sum(finite)
    return out


@pytest.fixture(scope="module")
def awkward():
    """60 points of a 4-d Gaussian, one row twice, one three times, and 8 evenly spaced points on a far line.

    The twice-seen rows have a zero first distance (no finite ratio of their own), a neighbourhood holding
    both has one finite ratio left; the thrice-seen rows divide 0 by 0; in the middle of the even row both
    nearest distances are equal (log 1 = 0: a neighbourhood with nothing to measure a dimension by).
    """
    gen = np.random.default_rng(61)
    cloud = gen.normal(size=(60, 4))
    line = np.zeros((8, 4))
    line[:, 0] = 100.0 + np.arange(8)
    return np.vstack([cloud, cloud[[7]], cloud[[20]], cloud[[20]], line])


@pytest.mark.parametrize("k", [2, 5])
def test_twonn_equals_a_loop_over_points_with_duplicates_and_an_even_row_silently(awkward, k):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a duplicated point is a NaN, not a console full of warnings
        got = structure.local_intrinsic_dimension(awkward, k=k, method="twonn")
    expected = _twonn_loop(awkward, k)
    np.testing.assert_allclose(got, expected, rtol=1e-5, equal_nan=True)
    if k == 2:  # the neighbourhood of 3: the repeated rows and the middle of the even row have no dimension
        assert np.isnan(got[[7, 60, 20, 61, 62, 65, 66, 67, 68]]).all()
        assert np.isfinite(got[52])  # one of its neighbours is a repeated row: two finite ratios are enough
    assert np.isfinite(got[:7]).all()


def test_the_default_estimator_is_levina_bickel_against_a_loop_over_points(awkward):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        default = structure.local_intrinsic_dimension(awkward, k=6)
    np.testing.assert_allclose(default, _mle_loop(awkward, 6), rtol=1e-5, equal_nan=True)
    twonn = structure.local_intrinsic_dimension(awkward, k=6, method="twonn")
    assert not np.allclose(default, twonn, equal_nan=True)


def test_each_estimator_refuses_a_k_below_its_minimum_and_says_which(awkward):
    with pytest.raises(ValueError, match=r"^k must be at least 3, got 2$"):
        structure.local_intrinsic_dimension(awkward, k=2)
    with pytest.raises(ValueError, match=r"^k must be at least 3, got 2$"):
        structure.local_intrinsic_dimension(awkward, k=2, method="mle")
    with pytest.raises(ValueError, match=r"^k must be at least 2, got 1$"):
        structure.local_intrinsic_dimension(awkward, k=1, method="twonn")
    with pytest.raises(ValueError, match=r"^unknown method 'pca'; choose one of mle, twonn$"):
        structure.local_intrinsic_dimension(awkward, method="pca")
    with pytest.raises(ValueError, match="unknown kNN backend 'annoy'"):
        structure.local_intrinsic_dimension(awkward, k=5, backend="annoy")


def test_the_nn_reference_lines_are_numpys_median_and_99th_percentile_in_float64():
    d = np.random.default_rng(62).gamma(2.0, size=50).astype(np.float32)
    ref = structure.nn_reference(d)
    wide = d.astype(np.float64)
    assert ref == {"median": np.median(wide), "p99": np.quantile(wide, 0.99), "n": 50}
    assert structure.nn_reference([0.25]) == {"median": 0.25, "p99": 0.25, "n": 1}  # one distance is a reference
    with pytest.raises(ValueError, match=r"^no distances to take a reference of$"):
        structure.nn_reference([])


def test_a_percentile_of_no_or_broken_distances_is_refused_with_the_reason():
    with pytest.raises(ValueError, match=r"^no reference distances$"):
        structure.distance_percentile([1.0], np.empty(0))
    for broken in (np.nan, [1.0, np.inf], None):  # None: a click with no distance measured
        with pytest.raises(ValueError, match=r"^distances must be finite$"):
            structure.distance_percentile(broken, [1.0, 2.0])


@pytest.fixture(scope="module")
def run_z():
    return np.random.default_rng(63).normal(size=(240, 5)).astype(np.float32)


def test_a_capped_reference_measures_rows_of_z_and_says_how_many_it_used(run_z):
    out = structure.structure_with_null(run_z, 30, 20, k=5, max_points=90, random_state=4)
    assert out["n_reference"] == 90 and len(out["ids"]) == 30
    assert out["ids"].max() >= 90  # rows of the whole run, not of the 90 kept
    # each measured row's neighbour distance is its distance to another row of z
    to_all = np.linalg.norm(run_z[out["ids"], None, :].astype(np.float64) - run_z[None], axis=2)
    assert all(np.isclose(to_all[i], out["data_nn"][i], rtol=1e-5).any() for i in range(30))
    brute_nearest = np.sort(to_all, axis=1)[:, 1]
    assert (out["data_nn"] >= brute_nearest * (1 - 1e-6)).all()  # measured among the kept 90: never nearer
    assert (out["data_nn"] > brute_nearest * (1 + 1e-6)).any()
    full = structure.structure_with_null(run_z, 30, 20, k=5, random_state=4)
    assert full["n_reference"] == 240


def test_the_seed_decides_rows_and_probes_and_defaults_to_zero(run_z):
    first = structure.structure_with_null(run_z, 30, 20, k=5, max_points=120)
    again = structure.structure_with_null(run_z, 30, 20, k=5, max_points=120, random_state=0)
    for key, value in first.items():
        np.testing.assert_array_equal(value, again[key], err_msg=key)
    other = structure.structure_with_null(run_z, 30, 20, k=5, random_state=1)
    seed0 = structure.structure_with_null(run_z, 30, 20, k=5, random_state=0)
    assert not np.array_equal(other["ids"], seed0["ids"])
    for kind in structure.PROBE_KINDS:
        assert not np.allclose(other[f"probe_nn_{kind}"], seed0[f"probe_nn_{kind}"]), kind


def test_two_points_are_the_smallest_run_with_structure_numbers(run_z):
    out = structure.structure_with_null(run_z[:2], 2, 5, random_state=0)
    assert out["n_reference"] == 2 and out["ids"].tolist() == [0, 1]
    gap = float(np.linalg.norm(run_z[0].astype(np.float64) - run_z[1]))
    np.testing.assert_allclose(out["data_nn"], [gap, gap], rtol=1e-6)
    assert np.isnan(out["lid"]).all()  # no dimension from one neighbour
    with pytest.raises(ValueError, match=r"^z needs at least 2 point\(s\), got 1$"):
        structure.structure_with_null(run_z[:1], 1, 5)


def test_void_fraction_passes_its_sample_and_seed_on_and_defaults_to_seed_zero():
    gen = np.random.default_rng(64)
    data = gen.normal(size=(200, 3))
    probes = gen.normal(size=(400, 3)) * 1.3
    fractions = {seed: structure.voids(data, probes, 0.5, 20, seed)["fraction"] for seed in (0, 1, 2)}
    assert len(set(fractions.values())) == 3  # 20 sampled rows: the seed moves the threshold
    assert structure.void_fraction(data, probes, 0.5, 20) == fractions[0]
    assert structure.void_fraction(data, probes, 0.5, 20, random_state=2) == fractions[2]
    every_row = structure.voids(data, probes, 0.5)["fraction"]
    assert structure.void_fraction(data, probes, 0.5) == every_row != fractions[0]
