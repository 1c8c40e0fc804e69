"""PCA against scikit-learn and numpy, and planes / viewports against brute force and np.histogram2d.

Shapes are chosen so that a swapped index shows: more rows than columns and the
reverse, planes with i > j, rasters with more cells along x than along y.
"""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from analysis import pca as pca_mod
from analysis import planes


@pytest.fixture(scope="module")
def cloud():
    rng = np.random.default_rng(30)
    scales = np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.2])
    return (rng.normal(size=(400, 6)) * scales) @ np.linalg.qr(rng.normal(size=(6, 6)))[0] + 2.0


def test_the_fit_equals_scikit_learn_variance_for_variance_across_chunks(cloud, monkeypatch):
    monkeypatch.setattr(pca_mod, "CHUNK", 64)  # 400 rows: six full chunks and a partial one
    ours = pca_mod.fit_pca(cloud)
    ref = PCA().fit(cloud)
    assert ours.solver == "covariance_eigh"
    assert np.allclose(ours.mean_, cloud.mean(axis=0), rtol=1e-12)
    assert np.allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-10)  # ddof 1
    assert np.allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-10)
    assert np.allclose(ours.cumulative, np.cumsum(ref.explained_variance_ratio_), rtol=1e-10)
    assert np.allclose(ours.components_, ref.components_, atol=1e-8)  # the same sign convention too
    scores = ours.transform(cloud)
    assert np.allclose(scores, ref.transform(cloud), atol=1e-8)
    assert np.allclose(ours.transform(cloud, n_components=2), scores[:, :2])


@pytest.mark.parametrize("solver", ["full", "randomized"])
def test_the_other_solvers_agree_with_the_covariance_solver(cloud, solver):
    exact = pca_mod.fit_pca(cloud, n_components=3)
    other = pca_mod.fit_pca(cloud, solver=solver, n_components=3)
    assert other.solver == solver and other.n_components == 3
    assert np.allclose(other.explained_variance_, exact.explained_variance_, rtol=1e-6)
    assert np.allclose(other.explained_variance_ratio_, exact.explained_variance_ratio_, rtol=1e-6)
    assert np.allclose(other.components_, exact.components_, atol=1e-5)


def test_auto_takes_the_covariance_solver_down_to_square_data_and_the_full_svd_below():
    rng = np.random.default_rng(31)
    square, wide = rng.normal(size=(6, 6)), rng.normal(size=(4, 6))
    assert pca_mod.fit_pca(square).solver == "covariance_eigh"
    fit = pca_mod.fit_pca(wide)
    ref = PCA().fit(wide)
    assert fit.solver == "full" and fit.n_components == 4  # at most N components
    assert np.allclose(fit.explained_variance_, ref.explained_variance_, rtol=1e-9)
    assert np.allclose(fit.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-9)
    assert np.allclose(fit.inverse_transform(fit.transform(wide)), wide, atol=1e-10)


def test_one_point_has_no_variance_and_no_division_by_zero():
    fit = pca_mod.fit_pca(np.array([[1.0, 2.0, 3.0]]))
    assert np.allclose(fit.mean_, [1, 2, 3]) and np.all(fit.explained_variance_ == 0)
    assert np.all(fit.explained_variance_ratio_ == 0)


def test_every_component_points_its_largest_loading_up():
    fit = pca_mod.fit_pca(np.random.default_rng(32).normal(size=(300, 5)) * [1, 2, 3, 4, 5])
    biggest = fit.components_[np.arange(5), np.abs(fit.components_).argmax(axis=1)]
    assert np.all(biggest > 0)
    flipped = pca_mod._sign_flip(np.array([[0.0, -0.9, 0.1], [0.0, 0.0, 0.0], [0.5, -0.2, 0.1]]))
    assert flipped.tolist() == [[0.0, 0.9, -0.1], [0.0, 0.0, 0.0], [0.5, -0.2, 0.1]]


@pytest.mark.parametrize("n_components", [0, 7])
def test_a_component_count_outside_one_to_z_dim_is_refused(cloud, n_components):
    with pytest.raises(ValueError, match=f"between 1 and z_dim=6, got {n_components}"):
        pca_mod.fit_pca(cloud, n_components=n_components)


def test_the_component_count_at_its_bounds_is_taken(cloud):
    assert pca_mod.fit_pca(cloud, n_components=1).components_.shape == (1, 6)
    assert pca_mod.fit_pca(cloud, n_components=6).components_.shape == (6, 6)
    with pytest.raises(ValueError, match="unknown PCA solver 'svd'"):
        pca_mod.fit_pca(cloud, solver="svd")


def test_scores_of_fewer_components_map_back_with_the_rest_at_the_mean(cloud):
    fit = pca_mod.fit_pca(cloud)
    scores = np.array([[1.0, -2.0]])
    expected = fit.mean_ + 1.0 * fit.components_[0] - 2.0 * fit.components_[1]
    assert np.allclose(fit.inverse_transform(scores)[0], expected, atol=1e-12)
    with pytest.raises(ValueError, match="scores have 7 components but the PCA has 6"):
        fit.inverse_transform(np.zeros((1, 7)))
    with pytest.raises(ValueError, match="^scores contains NaN or inf values$"):
        fit.inverse_transform(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="z has 5 dimensions but the PCA was fitted on 6"):
        fit.transform(np.zeros((2, 5)))


def test_a_fit_survives_the_cache_round_trip(cloud):
    fit = pca_mod.fit_pca(cloud, solver="full", n_components=4)
    back = pca_mod.PCAResult.from_arrays(fit.to_arrays())
    assert back.solver == "full" and back.n_components == 4
    for name in ("mean_", "components_", "explained_variance_", "explained_variance_ratio_", "cumulative"):
        assert np.array_equal(getattr(back, name), getattr(fit, name)), name


def test_a_click_maps_back_with_the_other_scores_kept(cloud):
    fit = pca_mod.fit_pca(cloud)
    base = np.arange(6, dtype=float)
    z = pca_mod.plane_to_z(fit, 4, 1, 7.0, -3.0, base_scores=base)
    assert np.allclose(fit.transform(z[None])[0], [0, -3, 2, 3, 7, 5], atol=1e-9)
    for i, j, message in ((6, 0, "component i=6"), (0, 6, "component j=6"), (-1, 0, "component i=-1")):
        with pytest.raises(ValueError, match=f"^{message} is out of range 0..5$"):
            pca_mod.plane_to_z(fit, i, j, 0.0, 0.0)
    with pytest.raises(ValueError, match="base_scores must have 6 values, got 5"):
        pca_mod.plane_to_z(fit, 0, 1, 0.0, 0.0, base_scores=np.zeros(5))


def test_pc_plane_coordinates_are_the_scores_of_the_chosen_pair_in_order(cloud):
    fit = pca_mod.fit_pca(cloud)
    xy = planes.plane_coords(cloud, "pca", 3, 0, pca=fit)
    assert xy.dtype == np.float32
    assert np.allclose(xy, fit.transform(cloud)[:, [3, 0]], atol=1e-4)
    for kind, i, j, name in (
        ("pca", 0, 6, "component j=6"),
        ("pca", 6, 0, "component i=6"),
        ("axis", 0, 6, "axis j=6"),
        ("axis", -1, 0, "axis i=-1"),
    ):
        with pytest.raises(ValueError, match=f"^{name} is out of range 0..5$"):
            planes.plane_coords(cloud, kind, i, j, pca=fit)
    with pytest.raises(ValueError, match="unknown plane kind 'tsne'"):
        planes.plane_coords(cloud, "tsne", 0, 1)


def test_an_axis_click_copies_the_base_and_refuses_an_empty_or_broken_one():
    base = np.array([1.0, 2.0, 3.0])
    z = planes.axis_plane_to_z(2, 0, 9.0, 8.0, base)
    assert z.tolist() == [8.0, 2.0, 9.0] and base.tolist() == [1.0, 2.0, 3.0]
    # a base of whole numbers still takes a fractional click
    assert planes.axis_plane_to_z(1, 0, 0.25, -1.5, [1, 2, 3]).tolist() == [-1.5, 0.25, 3.0]
    for bad in ([], [1.0, np.nan]):
        with pytest.raises(ValueError, match="^base_z must be a finite, non-empty vector$"):
            planes.axis_plane_to_z(0, 0, 0.0, 0.0, bad)
    for i, j, name in ((-1, 0, "axis i=-1"), (0, 3, "axis j=3")):
        with pytest.raises(ValueError, match=f"^{name} is out of range 0..2$"):
            planes.axis_plane_to_z(i, j, 0.0, 0.0, base)


def test_a_viewport_includes_its_edges_and_the_budget_is_inclusive():
    coords = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0000001, 0.5], [0.5, -1e-7]])
    result = planes.viewport_query(coords, (0, 1), (0, 1), budget=4)
    assert result.count == 4 and not result.over_budget and result.ids.tolist() == [0, 1, 2, 3]
    assert result.ids.dtype == np.int64 and result.xy.dtype == np.float32
    assert np.array_equal(result.xy, coords[:4].astype(np.float32))
    over = planes.viewport_query(coords, (0, 1), (0, 1), budget=3)
    assert over.over_budget and over.count == 4 and over.ids.size == 0 and over.xy.shape == (0, 2)
    assert over.ids.dtype == np.int64 and over.xy.dtype == np.float32
    assert planes.viewport_query(coords, (5, 6), (5, 6), budget=0).count == 0


def test_the_default_budget_is_fifty_thousand_points():
    coords = np.zeros((50_001, 2))
    assert not planes.viewport_query(coords[:-1], (-1, 1), (-1, 1)).over_budget
    assert planes.viewport_query(coords, (-1, 1), (-1, 1)).over_budget


def test_a_raster_equals_histogram2d_on_a_non_square_grid():
    # neither range starts at 0 nor spans 1: a formula that adds an offset instead of subtracting it shows
    rng = np.random.default_rng(33)
    coords = np.column_stack([rng.uniform(-1, 3, 5000), rng.uniform(0.5, 2.5, 5000)])
    coords[:3] = [[3.0, 2.5], [-1.0, 0.5], [3.0, 0.5]]  # on the rectangle's corners
    result = planes.viewport_query(coords, (-1, 3), (0.5, 2.5), budget=10, raster_size=(40, 7))
    raster = result.raster
    assert raster["counts"].shape == (40, 7) and raster["counts"].dtype == np.int64
    assert np.allclose(raster["x_edges"], np.linspace(-1, 3, 41))
    assert np.allclose(raster["y_edges"], np.linspace(0.5, 2.5, 8))
    expected, _, _ = np.histogram2d(coords[:, 0], coords[:, 1], bins=[raster["x_edges"], raster["y_edges"]])
    assert np.array_equal(raster["counts"], expected.astype(np.int64))


def test_a_zero_width_or_zero_height_viewport_rasters_into_one_column_or_row():
    coords = np.column_stack([np.full(20, 2.0), np.linspace(0.5, 1.5, 20)])
    raster = planes.viewport_query(coords, (2, 2), (0.5, 1.5), budget=1, raster_size=(3, 4)).raster
    assert raster["counts"][0].tolist() == np.histogram(coords[:, 1], bins=raster["y_edges"])[0].tolist()
    assert raster["counts"][1:].sum() == 0
    assert raster["x_edges"][0] == 2.0 and raster["x_edges"][-1] == pytest.approx(2.0 + 1e-9, abs=1e-15)
    flat = planes.viewport_query(coords[:, ::-1], (0.5, 1.5), (2, 2), budget=1, raster_size=(4, 3)).raster
    assert flat["counts"][:, 0].tolist() == raster["counts"][0].tolist() and flat["counts"][:, 1:].sum() == 0
    assert flat["y_edges"][-1] == pytest.approx(2.0 + 1e-9, abs=1e-15)


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ((4097, 10), "at most 4096"),
        (4097, "at most 4096"),
        ((1, 2, 3), "one number or a pair"),
        (0, "^raster_size must be a positive number, got 0.0$"),
    ],
)
def test_raster_sizes_beyond_the_screen_or_malformed_are_refused(size, message):
    coords = np.zeros((10, 2))
    with pytest.raises(ValueError, match=message):
        planes.viewport_query(coords, (-1, 1), (-1, 1), budget=1, raster_size=size)


def test_the_largest_raster_and_the_default_are_taken():
    coords = np.zeros((10, 2))
    widest = planes.viewport_query(coords, (-1, 1), (-1, 1), budget=1, raster_size=(4096, 1))
    assert widest.raster["counts"].shape == (4096, 1)
    assert planes.viewport_query(coords, (-1, 1), (-1, 1), budget=1).raster["counts"].shape == (256, 256)


@pytest.mark.parametrize(
    ("x_range", "y_range", "budget", "message"),
    [
        ((1, 0), (0, 1), 5, r"^x_range must be finite with low <= high, got \(1.0, 0.0\)$"),
        ((0, 1), (1, 0), 5, r"^y_range must be finite with low <= high, got \(1.0, 0.0\)$"),
        ((0, np.inf), (0, 1), 5, r"^x_range must be finite"),
        ("ab", (0, 1), 5, r"^x_range must be a pair \(low, high\) of numbers$"),
        ((0, 1), "ab", 5, r"^y_range must be a pair"),
        ((0, 1), (0, 1), -1, "^budget must be >= 0, got -1$"),
    ],
)
def test_bad_viewports_are_refused_with_the_reason(x_range, y_range, budget, message):
    with pytest.raises(ValueError, match=message):
        planes.viewport_query(np.zeros((3, 2)), x_range, y_range, budget=budget)
    with pytest.raises(ValueError, match="N x 2"):
        planes.viewport_query(np.zeros((3, 3)), (0, 1), (0, 1))
