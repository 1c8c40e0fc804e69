"""Each view's callback bodies and the run store as plain functions, with good and hostile input."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest

from app import plane_colours, plane_space, viewport
from app.cache import SafeSerializer
from app.store import MAX_SAMPLES
from app.views import decode, density, maps, model, planes, radius, sampling
from app.views.parts import open_shown
from rundir.errors import ZspaceError


def plane(store, run="ae", kind="pca", i=0, j=1, map_key=None):
    return plane_space.plane(store.open(run), kind, i, j, map_key)


def update(store, run, kind="pca", i=0, j=1, colour="none", relayout=None, square=(0, 0, 1), view=None, trigger=None):
    request = planes.PlaneRequest("a", run, None, kind, i, j, colour=colour, square=square, view=view)
    event = planes.classify(relayout, [f"{trigger}.value"] if trigger else [])
    return planes.update_plane(store.open(run), request, event)


def shown(store, run_a, run_b=None):
    return open_shown(store, run_a, run_b)


def test_runs_are_listed_with_the_broken_one_and_its_reason(store):
    runs = {r["name"]: r for r in store.runs()}
    assert runs["ae"]["usable"] and runs["vae"]["usable"]
    assert not runs["broken"]["usable"] and "truncated" in runs["broken"]["reason"]
    with pytest.raises(ZspaceError, match="truncated"):
        store.open("broken")


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc", "..", "%2e%2e", "ae/../vae", None, 3])
def test_run_names_from_the_browser_cannot_escape_the_runs_folder(store, name):
    with pytest.raises(ZspaceError):
        store.open(name)


def test_plane_over_budget_says_so_and_a_square_shows_every_point_inside(store):
    fig, text, view = update(store, "ae")
    assert "more than the 400-point budget" in text and "600 total" in text
    assert any(t.type == "heatmap" and t.opacity != 0 for t in fig.data)
    _, xy = store.open("ae").coords(plane(store))
    cx, cy = (float(v) for v in xy[7])
    fig, text, view = update(store, "ae", square=(cx, cy, 0.5), view=view, trigger=planes.SQUARE_GO)
    inside = int(np.sum((np.abs(xy[:, 0] - cx) <= 0.25) & (np.abs(xy[:, 1] - cy) <= 0.25)))
    assert text == f"showing {inside} of 600 points ({inside} in view)"
    assert view["x"] == pytest.approx([cx - 0.25, cx + 0.25])
    scatter = next(t for t in fig.data if t.type == "scattergl")
    assert len(scatter.x) == inside


def test_a_zoom_is_requeried_and_a_colour_change_keeps_the_view(store):
    relayout = {"xaxis.range[0]": -1, "xaxis.range[1]": 1, "yaxis.range[0]": -1, "yaxis.range[1]": 1}
    _, text, view = update(store, "vae", "axis", relayout=relayout, trigger=planes.GRAPH["a"])
    assert view["x"] == [-1, 1] and "in view" in text
    fig, _, again = update(store, "vae", "axis", colour="radius", relayout=relayout, view=view, trigger=planes.COLOUR)
    assert again["x"] == [-1, 1]
    scatter = next(t for t in fig.data if t.type == "scattergl")
    assert scatter.marker.colorbar.title.text == "radius |z|"
    radii = np.linalg.norm(np.asarray(store.open("vae").z(), dtype=np.float64), axis=1)
    np.testing.assert_allclose(np.sort(scatter.marker.color), np.sort(radii[np.asarray(scatter.customdata)]), rtol=1e-5)


@pytest.mark.parametrize(
    ("kind", "i", "j", "colour", "message"),
    [
        ("../etc", 0, 1, "none", "plane kind must be one of pca, axis, map"),
        ("pca", -1, 1, "none", "x axis must be a finite number between 0 and 7"),
        ("axis", 0, 10**9, "none", "y axis must be a finite number between 0 and 7"),
        ("pca", "x", 1, "none", "x axis must be a number"),
        ("pca", 0, 1, "nope", "colour must be one of none, radius"),
        ("map", 0, 1, "none", "no t-SNE or UMAP map is computed for ae"),
    ],
)
def test_hostile_plane_inputs_are_refused_with_one_line(store, kind, i, j, colour, message):
    with pytest.raises(ZspaceError) as refused:
        update(store, "ae", kind, i, j, colour)
    assert str(refused.value).startswith(message)


def test_relayout_range_ignores_junk():
    assert viewport.relayout_range({"autosize": True}) is None
    assert viewport.relayout_range({"xaxis.range": ["nan", 1], "yaxis.range": [0, 1]}) is None
    assert viewport.relayout_range({"xaxis.range": [1e308, 1], "yaxis.range": [0, 1]}) is None
    assert viewport.relayout_range("x") is None
    assert viewport.relayout_range({"xaxis.range": [2, 1], "yaxis.range": [0, 1]}) == ([1, 2], [0, 1])


def test_one_classifier_tells_a_zoom_a_reset_the_square_a_link_zoom_and_noise_apart():
    zoom = {"xaxis.range[0]": -1, "xaxis.range[1]": 1, "yaxis.range[0]": 0, "yaxis.range[1]": 2}
    graph, restore = f"{planes.GRAPH['a']}.relayoutData", f"{planes.RESTORE['a']}.data"
    assert planes.classify(zoom, [graph]) == viewport.Event(viewport.Change.ZOOM, ([-1, 1], [0, 2]))
    assert planes.classify({"xaxis.autorange": True}, [graph]).change is viewport.Change.RESET
    assert planes.classify({"autosize": True}, [graph]).change is viewport.Change.NOISE
    # A selection outline arrives with the selection store: the store's change decides (a redraw).
    outline = {"selections": [{"type": "rect"}]}
    assert planes.classify(outline, [graph, "selection-state.data"]).change is viewport.Change.REDRAW
    # A link sets the plane and its zoom at once: the link's zoom wins, even over a zoom of the plot.
    assert planes.classify(zoom, [f"{planes.KIND}.value", restore, graph]).change is viewport.Change.RESTORE
    assert planes.classify(None, [f"{planes.SQUARE_GO}.n_clicks"]).change is viewport.Change.SQUARE
    assert planes.classify(None, [f"{planes.RESET}.n_clicks"]).change is viewport.Change.RESET
    assert planes.classify(None, []).change is viewport.Change.REDRAW


def test_colour_options_list_numeric_metadata_columns_and_colour_by_local_dimension(store):
    values = [o["value"] for o in planes.colour_options(store.open("ae"))]
    assert values[:4] == ["none", "radius", "density", "lid"]
    assert "smiling" in values and "pose" in values and "source" not in values
    colours, label = planes.colour_values(store.open("ae"), "lid")
    assert colours.shape == (600,) and np.isfinite(colours).all() and "intrinsic" in label
    # Noisy 1-D filaments read lower-dimensional than a full 8-D Gaussian cloud.
    gaussian, _ = planes.colour_values(store.open("vae"), "lid")
    assert float(np.median(colours)) < float(np.median(gaussian)) - 1


def test_colouring_by_local_density_is_refused_above_the_documented_limit(store, monkeypatch):
    monkeypatch.setattr(plane_colours, "MAX_INLINE_KNN", 500)
    with pytest.raises(ZspaceError, match="only for runs of up to 500 points"):
        planes.colour_values(store.open("vae"), "density")


def test_clicking_a_point_decodes_it_with_its_facts(store):
    ae = store.open("ae")
    _, xy = ae.coords(plane(store))
    click = {"points": [{"curveNumber": 1, "pointNumber": 0, "x": float(xy[42, 0]), "y": float(xy[42, 1])}]}
    panel, selected, target = decode.decode_click(ae, click, plane(store), "mean", None)
    assert selected == target == {"run": "ae", "row": 42}
    assert panel[0].children == "point 42 · id img00042"
    tiles, table = panel[1].children
    original, decoded = tiles.children
    assert [original.children[1].children, decoded.children[1].children] == ["original", "decoded (reconstruction)"]
    assert decoded.children[0].src.startswith("data:image/png;base64,")
    facts = {row.children[0].children: row.children[1].children for row in table.children}
    assert facts["smiling"] in ("-1", "1")
    z = np.asarray(ae.z())
    expected = np.sort(np.linalg.norm(z - z[42], axis=1))[1]
    # As a percentile of every point's own nearest-other-point distance (brute force; the run has < 2,000 points).
    own = np.sort(np.linalg.norm(z[:, None] - z[None], axis=2), axis=1)[:, 1]
    # Point 42's own entry ties with it, so float32 rounding may count it or not: either side of the tie.
    ties = {int(np.floor(100 * np.mean(own < expected - 1e-5))), int(np.floor(100 * np.mean(own <= expected + 1e-5)))}
    text = decode.nearest_text(store, target)
    assert text.startswith(f"nearest other point: {expected:.3f} — ")
    assert int(re.search(r"— (\d+)(st|nd|rd|th) percentile", text).group(1)) in ties
    assert f"(median {np.median(own):.3g}, 99th {np.quantile(own, 0.99):.3g})" in text


def test_clicking_empty_space_decodes_the_inverse_projection(store):
    ae = store.open("ae")
    click = {"points": [{"curveNumber": 0, "pointNumber": [3, 4], "x": 0.1, "y": -0.2}]}
    panel, _, target = decode.decode_click(ae, click, plane(store), "mean", None)
    assert panel[0].children == "empty space at (0.100, -0.200)"
    z = np.asarray(target["z"])
    np.testing.assert_allclose(plane_space.project(ae, plane(store), z)[0], [0.1, -0.2], atol=1e-5)
    assert decode.nearest_text(store, target).startswith("nearest data point: ")
    with pytest.raises(ZspaceError):
        decode.nearest_text(store, {"run": "ae", "z": [float("nan")] * 8})
    facts = {row.children[0].children: row.children[1].children for row in panel[1].children[1].children}
    assert facts["other coordinates held at"] == "the mean"
    axes = plane(store, kind="axis", i=2, j=3)
    panel, _, target = decode.decode_click(ae, click, axes, "selected", {"run": "ae", "row": 5})
    facts = {row.children[0].children: row.children[1].children for row in panel[1].children[1].children}
    assert facts["other coordinates held at"] == "point 5 (the last selected)"
    expected = np.asarray(ae.z()[5], dtype=np.float64)
    expected[[2, 3]] = [0.1, -0.2]
    np.testing.assert_allclose(target["z"], expected, atol=1e-5)
    with pytest.raises(ZspaceError, match="no click"):
        decode.decode_click(ae, {"points": "x"}, plane(store), "mean", None)
    with pytest.raises(ZspaceError, match="clicked x must be a finite number"):
        decode.decode_click(ae, {"points": [{"x": 1e308, "y": 0}]}, plane(store), "mean", None)


def test_density_view_lists_axes_and_a_click_picks_one(store):
    fig, rows = density.density_view(shown(store, "ae", "vae"), 0.25)
    assert len(fig.data) == 16 and {r["run"] for r in rows} == {"ae", "vae"}
    assert density.picked_axis({"points": [{"customdata": 5}]}, None, None, density.GRAPH) == 5
    assert density.picked_axis(None, {"row": 1}, rows, density.TABLE) == rows[1]["axis"]
    assert density.picked_axis(None, {"row": 999}, rows, density.TABLE) is None
    assert density.picked_axis(None, {"row": 0}, [7], density.TABLE) is None
    assert density.picked_axis({"points": ["x"]}, None, None, density.GRAPH) is None
    with pytest.raises(ZspaceError, match="bin width must be one of"):
        density.density_view(shown(store, "ae"), 0.01)


def test_radius_view_overlays_both_runs_with_the_chi_reference(store):
    fig = radius.radius_view(shown(store, "ae", "vae"), 0.5)
    # Both fixture runs have one z_dim and 600 points: one reference curve over both runs' radius ranges
    # (each histogram spans its own data), the chi distribution's counts per bin.
    from scipy import stats

    names = [t.name for t in fig.data]
    assert names == ["ae |z|", "vae |z|", "chi reference (N(0, I)) of ae, vae"]
    ranges = [(float(t.x[0]), float(t.x[-1])) for t in fig.data[:2]]
    curve = fig.data[2]
    assert float(curve.x[0]) == min(r[0] for r in ranges) and float(curve.x[-1]) == max(r[1] for r in ranges)
    z_dim = int(store.open("ae").config["z_dim"])
    centres = np.asarray(curve.x, dtype=np.float64)
    expected = 600 * (stats.chi.cdf(centres + 0.25, z_dim) - stats.chi.cdf(centres - 0.25, z_dim))
    np.testing.assert_allclose(curve.y, expected, rtol=1e-4, atol=1e-6)
    assert float(np.sum(fig.data[0].y)) == 600


def test_request_driven_analyses_land_in_the_server_cache_not_in_the_run(store):
    vae = store.open("vae")
    run_folder = vae.folder / "analysis"
    before = sorted(p.name for p in run_folder.glob("*")) if run_folder.exists() else []
    radius.radius_view(shown(store, "vae"), 2.0)
    after = sorted(p.name for p in run_folder.glob("*")) if run_folder.exists() else []
    assert after == before
    assert list(vae.request_folder.glob("radius-*.npz"))
    assert vae.cache_folders == (run_folder, vae.request_folder)  # the run's own cache first


def test_sampling_decodes_k_images_with_their_nearest_data_distance_and_is_bounded(store):
    vae = store.open("vae")
    bar, *tiles = sampling.sample_grid(vae, "full_gaussian", 5, 7, 0.5)
    # Under each image, in words: how far its z is from the nearest data z (checked against a brute-force scan).
    z, _ = sampling.sample_z(vae, "full_gaussian", 5, 7, 0.5)
    nearest = np.sqrt(((z[:, None, :].astype(np.float64) - vae.z()[None].astype(np.float64)) ** 2).sum(-1)).min(axis=1)
    # The distance is the caption's last line (after the verdict once the lab has scored the run).
    captions = [str(c[-1] if isinstance(c, list) else c) for c in (t.children[1].children for t in tiles)]
    assert len(tiles) == 5 and all(c.startswith("nearest data z: ") for c in captions)
    assert [float(c.split(": ")[1].split(" ")[0]) for c in captions] == pytest.approx(nearest, abs=0.006)
    assert "distance in z from the sample to the nearest of the run's data z-points" in str(bar.children[1].children)
    assert bar.children[0].children == "download grid (PNG)"
    _, *again = sampling.sample_grid(vae, "full_gaussian", 5, 7, 0.5)
    assert [g.children[0].src for g in tiles] == [g.children[0].src for g in again]  # same seed, same images
    with pytest.raises(ZspaceError, match="K must be a finite number between 1 and 64"):
        sampling.sample_grid(vae, "normal", MAX_SAMPLES + 1, 0, 0.5)
    with pytest.raises(ZspaceError, match="sampler must be one of"):
        sampling.sample_grid(vae, "__import__('os')", 4, 0, 0.5)


def test_a_samples_distance_says_where_it_falls_among_the_datas_own():
    reference = {"distances": np.array([1.0, 2.0, 3.0, 4.0]), "median": 2.5, "p99": 3.97}
    assert sampling.distance_text(2.5, None) == "nearest data z: 2.50"
    # 2 of the 4 data points have their nearest neighbour at most 2.5 away; 4.0 is the farthest (p100, not beyond it).
    assert sampling.distance_text(2.5, reference) == "nearest data z: 2.50 (p50 of the data's)"
    assert sampling.distance_text(0.5, reference) == "nearest data z: 0.50 (p0 of the data's)"
    assert sampling.distance_text(4.0, reference) == "nearest data z: 4.00 (p100 of the data's)"
    assert sampling.distance_text(4.01, reference) == "nearest data z: 4.01 (beyond every data point's)"
    assert sampling.distance_text(3.99, reference) == "nearest data z: 3.99 (p75 of the data's)"
    assert "median 2.50, 99th percentile 3.97" in sampling.reference_note(reference)


def test_model_panel_shows_parameters_history_and_config(store):
    panel = model.model_panel(store.open("vae"))
    assert panel[0].children.startswith("vae (VAE, z_dim 8, 32 px)")
    figure = next(p.figure for p in panel if getattr(p, "figure", None) is not None)
    curves = {trace.name: list(np.round(trace.y, 3)) for trace in figure.data}
    assert curves == {"loss": [0.7, 0.6], "val_loss": [0.72, 0.65]}


def test_the_cache_never_unpickles():
    serializer = SafeSerializer()
    value = {"a": np.arange(3, dtype=np.float32), "n": 2}
    back = serializer.loads(serializer.dumps(value))
    assert back["n"] == 2 and back["a"].dtype == np.float32
    # A pickled or damaged entry is a cache miss (recomputed), never unpickled.
    assert serializer.loads(b"Z" + pickle.dumps(np.arange(3))) is None
    assert serializer.loads(pickle.dumps(np.arange(3))) is None
    assert serializer.loads(b"Zgarbage") is None


def test_the_map_job_makes_a_umap_map_with_the_chosen_neighbours_and_it_opens_on_the_plane(store):
    from analysis.umap_maps import run_umap

    reports = []
    ae = store.open("ae")
    message = maps.compute_map(ae, 1000, 30, 2, reports.append, "umap", 5)  # perplexity is not used by UMAP
    assert message.startswith("UMAP of 600 points of ae ready (") and "pick it in the map list" in message
    assert reports[0][0] == 0 and reports[-1][0] == 100 and any("epoch" in text for _, _, text in reports)
    options, _ = maps.map_options(ae, None)
    entry = next(o for o in options if o["label"].startswith("UMAP"))
    assert entry["label"] == "UMAP after PCA-2 · 600 points · 5 neighbours"
    # The map on the plane is umap-learn's fit with those settings, called here on its own.
    reference = run_umap(ae.z(), n_points=1000, n_neighbors=5, pca_components=2)
    ids_, xy = ae.coords(plane_space.plane(ae, "map", map_key=entry["value"]))
    assert np.array_equal(ids_, reference.ids) and np.allclose(xy, reference.embedding, atol=1e-5)
    assert plane_space.plane(ae, "map", map_key=entry["value"]).clickable  # a UMAP map inverts a click
    with pytest.raises(ZspaceError, match="neighbours must be one of"):
        maps.compute_map(ae, 1000, 30, 0, reports.append, "umap", 7)
    with pytest.raises(ZspaceError, match="method must be one of"):
        maps.compute_map(ae, 1000, 30, 0, reports.append, "pca", 5)


def test_a_new_tsne_map_reports_progress_and_then_shows_in_the_picker_and_on_the_plane(store):
    reports = []
    vae = store.open("vae")
    message = maps.compute_map(vae, 1000, 10, 4, reports.append)  # the run holds 600: all are mapped
    assert "ready" in message and reports and reports[-1][0] == 100
    options, value = maps.map_options(vae, None)
    entry = next(o for o in options if "after PCA-4" in o["label"])
    assert entry["label"].startswith("t-SNE after PCA-4 · 600 points")
    request = planes.PlaneRequest("a", "vae", None, "map", 0, 1, entry["value"], "radius")
    fig, text, _ = planes.update_plane(vae, request, planes.classify(None, []))
    assert text.endswith("600 total · the map holds 600 of them")  # over the 400-point budget: a raster
    assert "perplexity 10" in maps.map_info(vae, entry["value"])
    # Requests are bounded: a size that is not on the list is refused.
    with pytest.raises(ZspaceError, match="points must be one of"):
        maps.compute_map(vae, 10**7, 10, 0, reports.append)
    with pytest.raises(ZspaceError, match="map must be one of"):
        plane_space.plane(vae, "map", map_key="tsne-forged")
