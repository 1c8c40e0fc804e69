"""The cached per-point colourings and the parameter sets of analysis.results, against brute force and word for word."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis import density_fit, results


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


def test_the_cached_histograms_and_radius_profile_are_numpys_and_scipys_counts(small_run):
    z = np.load(small_run / "zpoints.npy").astype(np.float64)
    for width, got in ((0.25, results.histograms(small_run)), (0.5, results.histograms(small_run, bin_width=0.5))):
        assert np.allclose(np.diff(got["edges"]), width)  # the documented default width is 0.25
        for axis in (0, 3, 7):
            assert got["counts"][axis].tolist() == np.histogram(z[:, axis], bins=got["edges"])[0].tolist()
    radii = np.linalg.norm(z, axis=1)
    for width, profile in ((0.5, results.radius_profile(small_run)), (0.05, results.radius_profile(small_run, 0.05))):
        edges = profile["edges"]
        assert np.allclose(np.diff(edges), width) and edges[0] == 0.0  # the documented default width is 0.5
        assert profile["counts"].tolist() == np.histogram(radii, bins=edges)[0].tolist()
        expected = 300 * np.diff(stats.chi(8).cdf(edges))
        np.testing.assert_allclose(profile["reference"], expected, rtol=1e-9, atol=1e-12)
        assert profile["z_dim"] == 8 and profile["median"] == pytest.approx(np.median(radii), rel=1e-9)
    with pytest.raises(ValueError, match="bin_width"):
        results.histograms(small_run, bin_width=0)


def test_the_axis_summary_comes_back_as_the_documented_table_with_its_reasons_as_text(small_run):
    table = results.axis_summary(small_run)
    assert list(table.columns) == list(results.SUMMARY_COLUMNS) and len(table) == 8
    assert table["flagged"].tolist() == [axis == 3 for axis in range(8)]  # the shifted, widened axis
    assert all(isinstance(reason, str) for reason in table["reason"]) and table.loc[3, "reason"].startswith("centre")
    z = np.load(small_run / "zpoints.npy").astype(np.float64)
    np.testing.assert_allclose(table["mean"], z.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(table["std"], z.std(axis=0), rtol=1e-4)


def test_the_nearest_neighbour_reference_is_a_brute_force_loop_over_the_drawn_rows(small_run):
    z = np.load(small_run / "zpoints.npy")
    nearest = _sorted_other_distances(z)[:, 0]
    every = results.nn_reference(small_run)  # 2,000 asked by default: all 300 rows
    assert sorted(every["rows"].tolist()) == list(range(300)) and every["n"] == 300
    np.testing.assert_allclose(every["distances"], np.sort(nearest), rtol=1e-5)
    assert every["median"] == pytest.approx(np.median(nearest), rel=1e-5)
    assert every["p99"] == pytest.approx(np.quantile(nearest, 0.99), rel=1e-5)
    some = results.nn_reference(small_run, n_queries=40, random_state=2)
    assert len(set(some["rows"].tolist())) == 40 and np.all(np.diff(some["distances"]) >= 0)
    np.testing.assert_allclose(some["distances"], np.sort(nearest[some["rows"]]), rtol=1e-5)
    other = results.nn_reference(small_run, n_queries=40.0, random_state=3)
    assert set(other["rows"].tolist()) != set(some["rows"].tolist())
    assert results.nn_reference.key(n_queries=40.0) == ("nn_reference", {"n_queries": 40, "random_state": 0})


def test_the_structure_measures_default_to_the_documented_sizes():
    params = results.structure_measures.key(n_points=10.0, quantile=1)[1]
    assert {key: params[key] for key in ("n_points", "k", "n_probes", "random_state", "max_points")} == {
        "n_points": 10,
        "k": 20,
        "n_probes": 2000,
        "random_state": 0,
        "max_points": 100_000,
    }
    assert type(params["n_points"]) is int and type(params["quantile"]) is float
    assert (
        results.structure_measures.key()[1]["n_points"] == 5000
        and results.structure_measures.key()[1]["quantile"] == 0.99
    )


def test_a_cached_sampler_fit_is_the_density_fitted_with_the_asked_parameters(small_run):
    z = np.load(small_run / "zpoints.npy")
    gmm = results.sampler_fit(small_run, k=2, max_points=120, random_state=4)
    direct = density_fit.fit_gmm(z, k=2, max_points=120, random_state=4)
    np.testing.assert_allclose(gmm["means"], direct["means"], rtol=1e-6)
    assert gmm["n_fit"] == 120 and gmm["kind"] == "gmm"
    kde = results.sampler_fit(small_run, kind="kde", max_points=100, random_state=4)
    assert kde["ids"].tolist() == density_fit.fit_kde(z, max_points=100, random_state=4)["ids"].tolist()
    assert results.sampler_fit.key() == (
        "sampler_fit",
        {"kind": "gmm", "k": 10, "max_points": 20000, "random_state": 0},
    )
    assert results.sampler_fit.key(kind="kde", k=3)[1]["k"] is None
    assert results.sampler_fit.key(k=1.0, max_points=50.0)[1] == {
        "kind": "gmm",
        "k": 1,
        "max_points": 50,
        "random_state": 0,
    }
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match=rf"^k must be a whole number >= 1, got {bad!r}$"):
            results.SamplerFitParams(k=bad)
    with pytest.raises(ValueError, match=r"^kind must be one of gmm, kde, got 'normal'$"):
        results.SamplerFitParams(kind="normal")


def test_map_labels_name_the_input_size_and_the_maps_own_parameter():
    assert results.map_label("tsne", {"perplexity": 30.0}, 20000) == "t-SNE raw z · 20,000 points · perplexity 30"
    label = results.map_label("umap", {"pca_components": 4, "n_neighbors": 15}, 1234.0)
    assert label == "UMAP after PCA-4 · 1,234 points · 15 neighbours"
    for call in (lambda: results.map_label("pca", {}, 5), lambda: results.load_map("run", "pca", {})):
        with pytest.raises(ValueError, match=r"^unknown map kind 'pca'; choose one of tsne, umap$"):
            call()
    with pytest.raises(ValueError, match=r"^t-SNE maps have no inverse; only umap maps do$"):
        results.map_point_to_z("run", "tsne", {}, [0.0, 0.0])


def test_a_map_of_every_point_is_listed_with_the_runs_size(small_run):
    from analysis import cache

    # a t-SNE of all points (n_points None) and one asked for more points than the run has, stored by hand
    for n_points in (None, 5000):
        params = results.tsne.key(n_points=n_points, perplexity=12)[1]
        cache.cached(
            small_run, results.tsne.name, params, lambda: {"ids": np.arange(300), "embedding": np.zeros((300, 2))}
        )
    listed = results.available_maps(small_run)
    assert [m["n_points"] for m in listed] == [300, 300]
    assert {m["label"] for m in listed} == {"t-SNE raw z · 300 points · perplexity 12"}
    assert sorted(str(m["params"]["n_points"]) for m in listed) == ["5000", "None"]
