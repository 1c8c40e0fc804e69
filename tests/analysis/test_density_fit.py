"""Ex-post density samplers: the GMM and the KDE fitted to z, cached once per run, sampled as a pure function."""

import numpy as np
import pytest

from analysis import density_fit, results, samplers
from analysis.structure import nn_distances
from tools import synthetic


@pytest.fixture(scope="module")
def blobs():
    # three tight, far-apart clusters: what a 3-component GMM must recover
    centres = np.array([[0.0] * 5, [10.0] + [0.0] * 4, [0.0, 10.0, 0.0, 0.0, 0.0]])
    rng = np.random.default_rng(0)
    return (centres[rng.integers(0, 3, 1500)] + 0.3 * rng.normal(size=(1500, 5))).astype(np.float32), centres


def test_gmm_finds_the_clusters_and_samples_inside_them(blobs):
    z, centres = blobs
    fit = samplers.fit("gmm", z, k=3, max_points=600, random_state=0)
    assert fit["n_fit"] == 600 and fit["n_total"] == 1500  # the subsample is recorded
    found = np.sort(np.round(fit["means"][:, :2]).astype(int), axis=0)
    assert np.array_equal(found, np.sort(centres[:, :2].astype(int), axis=0))
    points = samplers.sample("gmm", 600, z, random_state=1, fit=fit)
    assert points.shape == (600, 5) and points.dtype == np.float32
    assert np.median(nn_distances(centres, points)) < 1.0


def test_gmm_beats_a_single_gaussian_on_clusters(blobs):
    z, _ = blobs
    gmm = samplers.sample("gmm", 500, z, random_state=2, fit=samplers.fit("gmm", z, k=3))
    gauss = samplers.sample("full_gaussian", 500, z, random_state=2)
    assert np.median(nn_distances(z, gmm)) < 0.3 * np.median(nn_distances(z, gauss))


def test_kde_samples_stay_near_filaments_where_scott_would_not():
    z = synthetic.filament_cloud(30, 100, 64, noise=0.01, random_state=3)
    fit = samplers.fit("kde", z, max_points=2000, random_state=0)
    assert fit["bandwidth"] < 0.2 * fit["scott"]  # held-out likelihood picks a neighbour-scale kernel
    kde = samplers.sample("kde", 400, z, random_state=4, fit=fit)
    axis = samplers.sample("axis_gaussian", 400, z, random_state=4)
    data_nn = np.median(nn_distances(z))
    assert np.median(nn_distances(z, kde)) < 5 * data_nn < np.median(nn_distances(z, axis))


def test_kde_bandwidth_maximises_held_out_likelihood():
    d2 = np.random.default_rng(5).uniform(1.0, 4.0, size=(50, 200))
    best, widths, loglik = density_fit.best_bandwidth(d2, d=8)
    assert best == widths[np.argmax(loglik)]
    assert loglik.max() >= density_fit.kde_loglik(d2, [best * 0.5, best * 2], 8).max()


def test_fitted_samplers_need_their_fit_and_are_seeded(blobs):
    z, _ = blobs
    with pytest.raises(ValueError, match="needs its fit"):
        samplers.sample("gmm", 5, z)
    kde = samplers.fit("kde", z, max_points=300)
    with pytest.raises(ValueError, match="needs its fit"):
        samplers.sample("gmm", 5, z, fit=kde)
    a = samplers.sample("kde", 10, z, random_state=3, fit=kde)
    assert np.array_equal(a, samplers.sample("kde", 10, z, random_state=3, fit=kde))
    assert not np.array_equal(a, samplers.sample("kde", 10, z, random_state=4, fit=kde))
    with pytest.raises(ValueError, match="no fit"):
        samplers.fit("normal", z)
    with pytest.raises(ValueError, match="between 1 and"):
        samplers.fit("gmm", z, k=50, max_points=20)


def test_sampler_kinds_are_listed_once():
    assert samplers.KINDS[-2:] == samplers.FITTED_KINDS == ("gmm", "kde")
    assert samplers.PROBE_KINDS == ("normal", "axis_gaussian", "full_gaussian", "uniform_box")
    from analysis import structure

    assert structure.PROBE_KINDS == samplers.PROBE_KINDS


def test_sampler_fit_is_cached_per_run_and_parameters(small_run):
    first = results.sampler_fit(small_run, kind="gmm", k=2, max_points=200)
    assert results.sampler_fit.is_cached(small_run, kind="gmm", k=2, max_points=200)
    assert not results.sampler_fit.is_cached(small_run, kind="gmm", k=3, max_points=200)
    again = results.sampler_fit(small_run, kind="gmm", k=2, max_points=200)
    assert again["seconds"] == first["seconds"] and again["kind"] == "gmm"  # read back, not refitted
    # k means nothing to a KDE: any k is the same entry
    results.sampler_fit(small_run, kind="kde", max_points=200)
    assert results.sampler_fit.is_cached(small_run, kind="kde", k=7, max_points=200)
    with pytest.raises(ValueError, match="kind must be"):
        results.sampler_fit(small_run, kind="normal")
