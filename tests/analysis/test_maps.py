"""The family of 2-D maps a run offers: listing with labels, loading, and decoding a click on a UMAP map."""

import numpy as np
import pytest

from analysis import results
from tests.analysis.conftest import write_run
from tools import synthetic

TSNE = {"n_points": 250, "perplexity": 10, "n_iter": 300}
UMAP = {"n_points": 250, "n_epochs": 60}


@pytest.fixture(scope="module")
def mapped_run(tmp_path_factory):
    z = synthetic.filament_cloud(10, 30, 8, noise=0.01, random_state=0)
    run = write_run(tmp_path_factory.mktemp("maps") / "fil", z)
    results.tsne(run, **TSNE)
    results.umap(run, **UMAP)
    results.umap(run, **UMAP, pca_components=3)
    return run


def test_available_maps_lists_both_kinds_with_labels_raw_z_first(mapped_run):
    listed = results.available_maps(mapped_run)
    assert [m["label"] for m in listed] == [
        "t-SNE raw z · 250 points · perplexity 10",
        "UMAP raw z · 250 points · 15 neighbours",
        "UMAP after PCA-3 · 250 points · 15 neighbours",
    ]
    assert [m["invertible"] for m in listed] == [False, True, True]
    umap_raw = listed[1]
    assert umap_raw["kind"] == "umap" and umap_raw["n_points"] == 250
    assert umap_raw["params"] == {
        "n_points": 250,
        "pca_components": None,
        "n_neighbors": 15,
        "min_dist": 0.1,
        "spread": 1.0,
        "metric": "euclidean",
        "n_epochs": 60,
        "random_state": 0,
    }


def test_load_map_returns_the_cached_points_and_never_computes(mapped_run):
    for entry in results.available_maps(mapped_run):
        fit = results.load_map(mapped_run, entry["kind"], entry["params"])
        assert fit.embedding.shape == (250, 2) and fit.embedding.dtype == np.float32
        assert len(np.unique(fit.ids)) == 250 and fit.ids.max() < 300
    assert results.load_map(mapped_run, "umap", {**UMAP, "n_neighbors": 7}) is None
    with pytest.raises(ValueError, match="unknown map kind 'pca'"):
        results.load_map(mapped_run, "pca", {})


def test_a_map_computed_into_another_folder_is_listed_there_only(mapped_run, tmp_path):
    results.umap(mapped_run, n_points=200, n_epochs=30, folder=tmp_path)
    there = results.available_maps(mapped_run, folder=tmp_path)
    assert [m["label"] for m in there] == ["UMAP raw z · 200 points · 15 neighbours"]
    assert all(m["n_points"] == 250 for m in results.available_maps(mapped_run))


def test_a_click_on_a_umap_map_decodes_a_z_near_the_data_and_says_if_it_is_trustworthy(mapped_run):
    z = np.load(mapped_run / "zpoints.npy")
    typical = np.median(np.linalg.norm(z - z.mean(axis=0), axis=1))
    rows = np.arange(0, 250, 10)
    for pca_components in (None, 3):
        params = {**results.umap.key(**UMAP, pca_components=pca_components)[1]}
        fit = results.load_map(mapped_run, "umap", params)
        far = fit.embedding.max(axis=0) + 5
        decoded, inside = results.map_point_to_z(mapped_run, "umap", params, [*fit.embedding[rows], far])
        assert decoded.shape == (len(rows) + 1, 8) and decoded.dtype == np.float32
        np.testing.assert_array_equal(inside, [True] * len(rows) + [False])
        # The best a map of PCA-k scores can decode is the point's projection on those k components.
        targets = z[fit.ids[rows]]
        if pca_components is not None:
            fit_pca = results.pca(mapped_run)
            targets = fit_pca.inverse_transform(fit_pca.transform(targets)[:, :pca_components])
        # Judged over 25 points, not one: a single point's error depends on the platform's floating point
        # (0.21 x typical on one CPU, < 0.2 on another), while a wrong inverse (the mean, a random data point)
        # lands about 1.0-1.4 x typical away from every point.
        errors = np.linalg.norm(decoded[: len(rows)] - targets, axis=1) / typical
        assert np.median(errors) < 0.2 and errors.max() < 0.6


def test_a_maps_inverse_structures_are_built_once_per_map_and_rebuilt_for_new_z_points(mapped_run, monkeypatch):
    from analysis import umap_inverse

    built = []
    real = umap_inverse.triangulate
    monkeypatch.setattr(umap_inverse, "triangulate", lambda embedding: built.append(len(embedding)) or real(embedding))
    monkeypatch.setattr(umap_inverse, "_inverse_maps", type(umap_inverse._inverse_maps)())
    params = {**results.umap.key(**UMAP, pca_components=None)[1]}
    fit = results.load_map(mapped_run, "umap", params)
    clicks = [fit.embedding[k] + 0.01 for k in (3, 40, 77)]
    answers = [results.map_point_to_z(mapped_run, "umap", params, click) for click in clicks]
    assert built == [250], "the triangulation was rebuilt for a click on the same map"
    # Kept structures give what building them afresh gives (umap-learn's inverse, seeded: bit for bit).
    data = np.asarray(np.load(mapped_run / "zpoints.npy")[fit.ids], dtype=np.float32)
    for click, (z, inside) in zip(clicks, answers, strict=True):
        np.testing.assert_array_equal(z, umap_inverse.inverse_transform(fit, data, click))
        assert inside.tolist() == [True]
    # Other parameters are another map: its own structures.
    other = {**results.umap.key(**UMAP, pca_components=3)[1]}
    results.map_point_to_z(mapped_run, "umap", other, results.load_map(mapped_run, "umap", other).embedding[0])
    assert len(built) == 2 + 3  # + the three direct calls above, which keep nothing


def test_t_sne_maps_have_no_inverse(mapped_run):
    params = results.available_maps(mapped_run)[0]["params"]
    with pytest.raises(ValueError, match="t-SNE maps have no inverse"):
        results.map_point_to_z(mapped_run, "tsne", params, [0.0, 0.0])
    with pytest.raises(ValueError, match="compute it first"):
        results.map_point_to_z(mapped_run, "umap", {**UMAP, "n_neighbors": 7}, [0.0, 0.0])


def test_zspace_export_writes_a_umap_map_and_names_the_maps_it_has(mapped_run, tmp_path):
    import pandas as pd

    from rundir.errors import ZspaceError
    from zspace.export import export

    # umap:1 is the second UMAP map in the page's order: after PCA-3.
    written = export(mapped_run, "umap:1", tmp_path / "umap.csv", colour="none")
    table = pd.read_csv(tmp_path / "umap.csv")
    stored = results.load_map(mapped_run, "umap", {**results.available_maps(mapped_run)[2]["params"]})
    assert written == 250 and table["row"].tolist() == stored.ids.tolist()
    assert np.allclose(table[["x", "y"]], stored.embedding, atol=1e-5)
    with pytest.raises(ZspaceError, match="no such UMAP map of fil; maps: 0 = UMAP raw z · 250 points"):
        export(mapped_run, "umap:2", tmp_path / "none.csv")
