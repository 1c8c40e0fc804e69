"""Callbacks and the run store as plain functions, with good and hostile input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from app.cache import SafeSerializer
from app.callbacks.decode import decode_click, nearest_text
from app.callbacks.planes import colour_options, relayout_range, update_plane
from app.callbacks.views import density_view, model_panel, picked_axis, radius_view, sample_grid
from app.store import MAX_SAMPLES
from rundir.errors import ZspaceError


def test_runs_are_listed_with_the_broken_one_and_its_reason(store):
    runs = {r["name"]: r for r in store.runs()}
    assert runs["ae"]["usable"] and runs["vae"]["usable"]
    assert not runs["broken"]["usable"] and "truncated" in runs["broken"]["reason"]
    with pytest.raises(ZspaceError, match="truncated"):
        store.path("broken")


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc", "..", "%2e%2e", "ae/../vae", None, 3])
def test_run_names_from_the_browser_cannot_escape_the_runs_folder(store, name):
    with pytest.raises(ZspaceError):
        store.path(name)


def test_plane_over_budget_says_so_and_a_square_shows_every_point_inside(store):
    fig, text, view = update_plane(store, "ae", "pca", 0, 1, "none", None, 0, 0, 0.5, None, None)
    assert "more than the 400-point budget" in text and "600 total" in text
    assert any(t.type == "heatmap" and t.opacity != 0 for t in fig.data)
    ids, xy = store.coords("ae", "pca", 0, 1)
    cx, cy = (float(v) for v in xy[7])
    fig, text, view = update_plane(store, "ae", "pca", 0, 1, "none", None, cx, cy, 0.5, view, "square-go")
    inside = int(np.sum((np.abs(xy[:, 0] - cx) <= 0.25) & (np.abs(xy[:, 1] - cy) <= 0.25)))
    assert text == f"showing {inside} of 600 points ({inside} in view)"
    assert view["x"] == pytest.approx([cx - 0.25, cx + 0.25])
    scatter = next(t for t in fig.data if t.type == "scattergl")
    assert len(scatter.x) == inside


def test_a_zoom_is_requeried_and_a_colour_change_keeps_the_view(store):
    relayout = {"xaxis.range[0]": -1, "xaxis.range[1]": 1, "yaxis.range[0]": -1, "yaxis.range[1]": 1}
    _, text, view = update_plane(store, "vae", "axis", 0, 1, "none", relayout, 0, 0, 1, None, "plane-graph-a")
    assert view["x"] == [-1, 1] and "in view" in text
    fig, _, again = update_plane(store, "vae", "axis", 0, 1, "radius", relayout, 0, 0, 1, view, "colour-by")
    assert again["x"] == [-1, 1]
    scatter = next(t for t in fig.data if t.type == "scattergl")
    assert scatter.marker.colorbar.title.text == "radius |z|"


@pytest.mark.parametrize(
    ("kind", "i", "j", "colour"),
    [
        ("../etc", 0, 1, "none"),
        ("pca", -1, 1, "none"),
        ("axis", 0, 10**9, "none"),
        ("pca", "x", 1, "none"),
        ("pca", 0, 1, "nope"),
    ],
)
def test_hostile_plane_inputs_give_a_message_not_a_crash(store, kind, i, j, colour):
    fig, text, view = update_plane(store, "ae", kind, i, j, colour, None, 0, 0, 1, None, None)
    assert text and view is None and fig.layout.annotations


def test_relayout_range_ignores_junk():
    assert relayout_range({"autosize": True}) is None
    assert relayout_range({"xaxis.range": ["nan", 1], "yaxis.range": [0, 1]}) is None
    assert relayout_range("x") is None
    assert relayout_range({"xaxis.range": [2, 1], "yaxis.range": [0, 1]}) == ([1, 2], [0, 1])


def test_colour_options_list_numeric_metadata_columns(store):
    values = [o["value"] for o in colour_options(store, "ae")]
    assert values[:4] == ["none", "radius", "density", "lid"]
    assert "smiling" in values and "pose" in values and "source" not in values
    colours, label = store.colour("ae", "lid")
    assert colours.shape == (600,) and np.isfinite(colours).all() and "intrinsic" in label


def test_clicking_a_point_decodes_it_with_its_facts(store):
    ids, xy = store.coords("ae", "pca", 0, 1)
    click = {"points": [{"curveNumber": 1, "pointNumber": 0, "x": float(xy[42, 0]), "y": float(xy[42, 1])}]}
    panel, selected, target = decode_click(store, "ae", click, "pca", 0, 1, "mean", None)
    assert selected == target == {"run": "ae", "row": 42}
    assert panel[0].children == "point 42 · id img00042"
    tiles, table = panel[1].children
    original, decoded = tiles.children
    assert [original.children[1].children, decoded.children[1].children] == ["original", "decoded (reconstruction)"]
    assert decoded.children[0].src.startswith("data:image/png;base64,")
    facts = {row.children[0].children: row.children[1].children for row in table.children}
    assert facts["smiling"] in ("-1", "1")
    z = np.asarray(store.z("ae"))
    expected = np.sort(np.linalg.norm(z - z[42], axis=1))[1]
    assert nearest_text(store, target) == f"nearest other point: {expected:.3f}"


def test_clicking_empty_space_decodes_the_inverse_projection(store):
    click = {"points": [{"curveNumber": 0, "pointNumber": [3, 4], "x": 0.1, "y": -0.2}]}
    panel, _, target = decode_click(store, "ae", click, "pca", 0, 1, "mean", None)
    assert panel[0].children == "empty space at (0.100, -0.200)"
    assert nearest_text(store, target).startswith("nearest data point: ")
    with pytest.raises(ZspaceError):
        nearest_text(store, {"run": "ae", "z": [float("nan")] * 8})
    facts = {row.children[0].children: row.children[1].children for row in panel[1].children[1].children}
    assert facts["other coordinates held at"] == "the mean"
    panel, _, _ = decode_click(store, "ae", click, "axis", 2, 3, "selected", {"run": "ae", "row": 5})
    facts = {row.children[0].children: row.children[1].children for row in panel[1].children[1].children}
    assert facts["other coordinates held at"] == "point 5"
    with pytest.raises(ZspaceError, match="t-SNE"):
        decode_click(store, "ae", click, "tsne", 0, 1, "mean", None)
    with pytest.raises(ZspaceError):
        decode_click(store, "ae", {"points": "x"}, "pca", 0, 1, "mean", None)


def test_density_view_lists_axes_and_a_click_picks_one(store):
    fig, rows = density_view(store, "ae", "vae", 0.25)
    assert len(fig.data) == 16 and {r["run"] for r in rows} == {"ae", "vae"}
    assert picked_axis({"points": [{"customdata": 5}]}, None, None, "density-graph") == 5
    assert picked_axis(None, {"row": 1}, rows, "axis-table") == rows[1]["axis"]
    assert picked_axis(None, {"row": 999}, rows, "axis-table") is None
    assert picked_axis(None, {"row": 0}, [7], "axis-table") is None
    assert picked_axis({"points": ["x"]}, None, None, "density-graph") is None


def test_radius_view_overlays_both_runs_with_the_chi_reference(store):
    fig = radius_view(store, "ae", "vae", 0.5)
    assert [t.name for t in fig.data][1] == "ae chi reference (N(0, I))" and len(fig.data) == 4


def test_sampling_decodes_k_images_with_their_nearest_data_distance_and_is_bounded(store):
    grid = sample_grid(store, "vae", "full_gaussian", 5, 7, 0.5)
    assert len(grid) == 5 and grid[0].children[1].children.startswith("NN dist ")
    again = sample_grid(store, "vae", "full_gaussian", 5, 7, 0.5)
    assert [g.children[0].src for g in grid] == [g.children[0].src for g in again]  # same seed, same images
    with pytest.raises(ZspaceError):
        sample_grid(store, "vae", "normal", MAX_SAMPLES + 1, 0, 0.5)
    with pytest.raises(ValueError):
        sample_grid(store, "vae", "__import__('os')", 4, 0, 0.5)


def test_model_panel_shows_parameters_history_and_config(store):
    panel = model_panel(store, "vae")
    assert panel[0].children.startswith("vae (VAE, z_dim 8, 32 px)")
    assert any(getattr(p, "figure", None) is not None for p in panel)


def test_the_cache_never_unpickles():
    serializer = SafeSerializer()
    value = {"a": np.arange(3, dtype=np.float32), "n": 2}
    back = serializer.loads(serializer.dumps(value))
    assert back["n"] == 2 and back["a"].dtype == np.float32
    # A pickled or damaged entry is a cache miss (recomputed), never unpickled.
    assert serializer.loads(b"Z" + pickle.dumps(np.arange(3))) is None
    assert serializer.loads(pickle.dumps(np.arange(3))) is None
    assert serializer.loads(b"Zgarbage") is None


def test_a_new_tsne_map_reports_progress_and_then_shows_on_the_tsne_plane(store):
    from app.callbacks.planes import tsne_info
    from app.callbacks.tsne import compute_tsne

    reports = []
    message = compute_tsne(store, "vae", 200, 10, 4, reports.append)
    assert message.startswith("t-SNE of 200 points ready") and reports and reports[-1][0] == 100
    fig, text, _ = update_plane(store, "vae", "tsne", 0, 1, "radius", None, 0, 0, 1, None, None)
    assert text == "showing 200 of 600 points (200 in view) · t-SNE maps 200 of them"
    assert "after PCA-4" in tsne_info(store, "vae", "tsne")
    # Requests are bounded: no 10-million-point map from a browser.
    with pytest.raises(ZspaceError, match="between 100 and"):
        compute_tsne(store, "vae", 10**7, 10, 0, reports.append)
