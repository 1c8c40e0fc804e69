"""PCA round trip, plane clicks back to z, and viewport queries."""

import time

import numpy as np
import pytest

from analysis import pca as pca_mod
from analysis import planes


@pytest.fixture(scope="module")
def cloud():
    rng = np.random.default_rng(4)
    return (rng.normal(size=(1500, 12)) @ rng.normal(size=(12, 12)) + 3).astype(np.float32)


@pytest.mark.parametrize("solver", ["auto", "full", "randomized"])
def test_pca_inverse_transform_reproduces_z(cloud, solver):
    fit = pca_mod.fit_pca(cloud, solver=solver)
    assert fit.cumulative[-1] == pytest.approx(1.0)
    assert np.all(np.diff(fit.explained_variance_) <= 1e-9)
    assert np.allclose(fit.inverse_transform(fit.transform(cloud)), cloud, atol=1e-4)


def test_pca_solvers_agree_with_scikit_learn(cloud):
    from sklearn.decomposition import PCA

    ours = pca_mod.fit_pca(cloud)
    ref = PCA().fit(cloud.astype(np.float64))
    assert np.allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_, atol=1e-8)
    assert np.allclose(np.abs(ours.components_ @ ref.components_.T), np.eye(12), atol=1e-5)


def test_click_on_pc_plane_maps_back_to_expected_z(cloud):
    fit = pca_mod.fit_pca(cloud)
    z = pca_mod.plane_to_z(fit, 0, 2, 1.5, -0.5)
    scores = fit.transform(z[None, :])[0]
    assert scores[0] == pytest.approx(1.5) and scores[2] == pytest.approx(-0.5)
    assert np.allclose(np.delete(scores, [0, 2]), 0, atol=1e-9)
    base = fit.transform(cloud[:1])[0]
    z2 = pca_mod.plane_to_z(fit, 1, 0, 0.25, 0.75, base_scores=base)
    expected = base.copy()
    expected[[1, 0]] = [0.25, 0.75]
    assert np.allclose(z2, fit.inverse_transform(expected[None])[0])
    # the plane coordinates of that z are the clicked point
    assert np.allclose(planes.plane_coords(z2[None], "pca", 1, 0, pca=fit)[0], [0.25, 0.75], atol=1e-5)


def test_click_on_axis_plane_keeps_other_axes(cloud):
    base = cloud.mean(axis=0)
    z = planes.axis_plane_to_z(3, 7, -1.0, 2.0, base)
    assert z[3] == -1.0 and z[7] == 2.0
    assert np.allclose(np.delete(z, [3, 7]), np.delete(base, [3, 7]))
    with pytest.raises(ValueError, match="out of range"):
        planes.axis_plane_to_z(3, 12, 0, 0, base)


def test_viewport_query_equals_brute_force_filter():
    coords = np.random.default_rng(5).normal(size=(200_000, 2)).astype(np.float32)
    x_range, y_range = (0.1, 0.6), (-0.3, 0.2)
    started = time.perf_counter()
    result = planes.viewport_query(coords, x_range, y_range, budget=50_000)
    elapsed = time.perf_counter() - started
    x, y = coords[:, 0], coords[:, 1]
    brute = np.flatnonzero((x >= 0.1) & (x <= 0.6) & (y >= -0.3) & (y <= 0.2))
    assert result.count == len(brute) and not result.over_budget
    assert np.array_equal(result.ids, brute)
    assert np.array_equal(result.xy, coords[brute])
    assert elapsed < 0.5  # generous: measured ~2 ms; the target is 50 ms


def test_viewport_over_budget_returns_true_count_and_raster():
    coords = np.random.default_rng(6).normal(size=(20_000, 2))
    result = planes.viewport_query(coords, (-1, 1), (-1, 1), budget=100)
    inside = np.sum((np.abs(coords) <= 1).all(axis=1))
    assert result.over_budget and result.count == inside and len(result.ids) == 0
    assert result.raster["counts"].sum() == inside
    assert result.raster["counts"].shape == (planes.RASTER_SIZE, planes.RASTER_SIZE)


def test_plane_coords_axis_kind(cloud):
    xy = planes.plane_coords(cloud, "axis", 2, 5)
    assert xy.dtype == np.float32 and np.array_equal(xy, cloud[:, [2, 5]])
    with pytest.raises(ValueError, match="needs a fitted PCA"):
        planes.plane_coords(cloud, "pca", 0, 1)
