"""The decode instruments as plain functions: paths, neighbours, the attribute plane and walks, traversals, strips."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from app import plane_space
from app.images import strip, to_data_uri
from app.views import attributes, decode, neighbours, paths, traversals
from app.views.parts import open_shown
from rundir.errors import ZspaceError


def images_of(component) -> list[str]:
    """The ``src`` of every ``img`` in a Dash component tree, in page order."""
    found, stack = [], [component]
    while stack:
        node = stack.pop(0)
        if isinstance(node, list | tuple):
            stack[:0] = list(node)
            continue
        if getattr(node, "src", None):
            found.append(node.src)
        children = getattr(node, "children", None)
        if children is not None:
            stack.insert(0, children)
    return found


def test_strip_tiles_images_in_order_with_gaps():
    images = np.stack([np.full((4, 4, 3), v, dtype=np.uint8) for v in (10, 20, 30, 40, 50)])
    one_row = strip(images, gap=1, background=0)
    assert one_row.shape == (6, 5 * 5 + 1, 3)
    assert one_row[1, 1, 0] == 10 and one_row[1, 1 + 4 * 5, 0] == 50 and one_row[0, 0, 0] == 0
    grid = strip(images, columns=2, gap=0)
    assert grid.shape == (12, 8, 3) and grid[8, 0, 0] == 50 and grid[8, 4, 0] == 255
    with pytest.raises(ValueError):
        strip(np.zeros((0, 4, 4, 3)))


def test_the_path_strips_start_at_a_and_end_at_b_and_the_two_kinds_differ(store):
    z = store.open("ae").z()
    a, b = 5, 450
    title, rows, figure = paths.walk_view(store.open("ae"), a, b, 6)
    assert "point 5 → point 450" in title and "6 steps" in title
    first, last = to_data_uri(store.open("ae").decode(z[a])[0]), to_data_uri(store.open("ae").decode(z[b])[0])
    linear, spherical = (images_of(row) for row in rows)
    assert len(linear) == len(spherical) == 6
    # Each row links its tiles as one strip PNG: six 32-pixel images with 2-pixel gaps.
    link = rows[0].children[0].children[-1]
    png = Image.open(io.BytesIO(base64.b64decode(link.href.split(",", 1)[1])))
    assert link.download.endswith(".png") and png.size == (6 * 34 + 2, 36)
    for tiles in (linear, spherical):
        assert tiles[0] == first and tiles[-1] == last
    assert linear[1:-1] != spherical[1:-1]
    assert len(figure.data) == 6  # three measures for each of the two paths
    nearest = next(t for t in figure.data if t.name == "linear path" and t.yaxis in ("y", None)).y
    # A and B are not their own reference: the ends sit as far from the data as their nearest other point.
    others = np.delete(np.asarray(z, dtype=np.float64), [a, b], axis=0)
    assert nearest[0] == pytest.approx(np.linalg.norm(others - z[a], axis=1).min(), rel=1e-4)
    assert nearest[-1] == pytest.approx(np.linalg.norm(others - z[b], axis=1).min(), rel=1e-4)


def test_bad_path_requests_get_one_line(store):
    with pytest.raises(ZspaceError, match="same point"):
        paths.walk_view(store.open("ae"), 3, 3, 5)
    with pytest.raises(ZspaceError, match="B must be a finite number between 0 and 599"):
        paths.walk_view(store.open("ae"), 3, 600, 5)
    with pytest.raises(ZspaceError, match="steps must be"):
        paths.walk_view(store.open("ae"), 3, 4, 65)
    assert paths.walk_view(store.open("ae"), None, 4, 5)[0] == paths.HINT


def test_set_as_a_and_b_take_the_clicked_point_of_either_side():
    assert paths.set_endpoint(paths.SET_A["b"], None, {"run": "vae", "row": 17})[0] == 17
    assert paths.set_endpoint(paths.SET_B["a"], {"run": "ae", "row": 4}, None)[1] == 4
    with pytest.raises(ZspaceError, match="click a point on a plane first"):
        paths.set_endpoint(paths.SET_A["a"], None, None)


@pytest.mark.parametrize("kind", ["pca", "axis", "attribute"])
def test_the_path_is_drawn_exactly_on_linear_planes(store, kind):
    where = plane_space.plane(store.open("ae"), kind, 0, 1)
    ids_, xy = store.open("ae").coords(where)
    traces = paths.overlay(store.open("ae"), where, "a", 10, 300, 5)
    drawn = {t.name: np.column_stack([t.x, t.y]) for t in traces}
    for kind_ in ("linear path", "spherical path"):
        assert np.allclose(drawn[kind_][0], xy[10], atol=1e-4) and np.allclose(drawn[kind_][-1], xy[300], atol=1e-4)
    assert not np.allclose(drawn["linear path"][2], drawn["spherical path"][2])
    assert paths.overlay(store.open("ae"), where, "a", 10, 10, 5) == []  # the paths view says why


def test_on_a_map_each_step_sits_at_its_nearest_mapped_point(store):
    from analysis import results

    results.tsne(
        store.open("ae").folder, folder=store.open("ae").request_folder, n_points=200, perplexity=10, n_iter=250
    )
    entry = plane_space.maps(store.open("ae"))[0]
    where = plane_space.plane(store.open("ae"), "map", map_key=entry["key"])
    ids_, xy = store.open("ae").coords(where)
    a, b = int(ids_[0]), int(ids_[-1])
    line = next(t for t in paths.overlay(store.open("ae"), where, "a", a, b, 7) if t.name == "linear path")
    placed = np.column_stack([line.x, line.y])
    assert np.allclose(placed[0], xy[0]) and np.allclose(placed[-1], xy[-1])
    # Every step is at some mapped point's position.
    assert all(np.isclose(xy, p).all(axis=1).any() for p in placed)


def test_neighbours_are_the_nearest_other_points_and_the_two_models_overlap(store):
    z = np.asarray(store.open("ae").z(), dtype=np.float64)
    titles, tiles, overlap, highlight = neighbours.neighbour_view(open_shown(store, "ae", "vae"), 42, 5)
    expected = np.argsort(np.linalg.norm(z - z[42], axis=1))[1:6]
    assert highlight["a"]["rows"] == expected.tolist()
    assert len(tiles["a"]) == len(tiles["b"]) == 6  # the selected point, then its 5 neighbours
    assert "point 42" in titles["b"] and "Jaccard" in overlap
    shared = len(set(highlight["a"]["rows"]) & set(highlight["b"]["rows"]))
    assert f"share {shared} of the 5" in overlap
    with pytest.raises(ZspaceError, match="k must be"):
        neighbours.neighbour_view(open_shown(store, "ae", None), 42, neighbours.MAX_NEIGHBOURS + 1)


def test_neighbours_show_the_original_images_by_default_and_reconstructions_on_the_toggle(store):
    from models.data.faces import render_faces

    ae = store.open("ae")
    z = np.asarray(ae.z(), dtype=np.float64)
    nearest = np.argsort(np.linalg.norm(z - z[599], axis=1))[1:4]  # the last row, k = 3
    shown = [599, *nearest.tolist()]
    titles, tiles, _, _ = neighbours.neighbour_view(open_shown(store, "ae", None), 599, 3)
    # The fixture's sources are synthetic faces of seed 0: rendered on their own, the reference.
    assert images_of(tiles["a"]) == [to_data_uri(face) for face in render_faces(0, np.array(shown), 32)]
    assert titles["a"].endswith("· original images")
    titles, tiles, _, _ = neighbours.neighbour_view(open_shown(store, "ae", None), 599, 3, None, "reconstructions")
    assert images_of(tiles["a"]) == [to_data_uri(image) for image in ae.decode(z[shown])]
    assert titles["a"].endswith("· reconstructions")
    with pytest.raises(ZspaceError, match="show must be one of"):
        neighbours.neighbour_view(open_shown(store, "ae", None), 599, 3, None, "thumbnails")


def test_a_neighbour_without_its_original_shows_its_reconstruction_and_says_so(store, monkeypatch):
    from app.store import RunHandle

    ae = store.open("ae")
    z = np.asarray(ae.z(), dtype=np.float64)
    first = int(np.argsort(np.linalg.norm(z - z[0], axis=1))[1])
    real = RunHandle.original
    monkeypatch.setattr(RunHandle, "original", lambda run, row: None if row == first else real(run, row))
    titles, tiles, _, _ = neighbours.neighbour_view(open_shown(store, "ae", None), 0, 2)
    images = images_of(tiles["a"])
    assert images[1] == to_data_uri(ae.decode(z[first])[0])
    assert images[0] == to_data_uri(real(ae, 0))
    captions = [figure.children[-1].children for figure in tiles["a"]]
    assert captions[1].endswith("· no original, reconstruction") and "no original" not in captions[2]
    assert titles["a"].endswith("· original images (1 not available)")
    # No original at all (z-points imported with a decoder but without their images): reconstructions, said once.
    monkeypatch.setattr(RunHandle, "original", lambda run, row: None)
    titles, tiles, _, _ = neighbours.neighbour_view(open_shown(store, "ae", None), 0, 2)
    assert images_of(tiles["a"]) == [to_data_uri(image) for image in ae.decode(z[[0, first]])][:1] + images[1:2] + [
        to_data_uri(ae.decode(z[int(np.argsort(np.linalg.norm(z - z[0], axis=1))[2])])[0])
    ]
    assert titles["a"].endswith("· reconstructions (the run's original images are not available)")


def test_neighbours_are_ringed_on_the_plane_and_a_stale_highlight_draws_nothing(store):
    _, _, _, highlight = neighbours.neighbour_view(open_shown(store, "ae", None), 42, 5)
    where = plane_space.plane(store.open("ae"), "axis", 0, 1)
    traces = neighbours.overlay(store.open("ae"), where, "a", highlight)
    ringed = next(t for t in traces if t.name == "neighbours")
    assert sorted(ringed.customdata.tolist()) == sorted(highlight["a"]["rows"])
    assert np.allclose(ringed.x, np.asarray(store.open("ae").z())[sorted(highlight["a"]["rows"]), 0])
    assert neighbours.overlay(store.open("vae"), where, "a", highlight) == []  # drawn for the run it was found in
    assert neighbours.overlay(store.open("ae"), where, "a", {"a": {"run": "ae", "row": 1, "rows": [10**9]}}) == []


def test_the_attribute_plane_maps_back_to_z_and_names_its_column(store):
    column = "smiling"
    index = plane_space.attribute_columns(store.open("ae")).index(column)
    where = plane_space.plane(store.open("ae"), "attribute", index, 0)
    assert where.linear and where.key() == "attribute:smiling"
    assert plane_space.axis_label(store.open("ae"), where, 0).startswith("smiling: -1 → 1")
    ids_, xy = store.open("ae").coords(where)
    assert np.allclose(
        plane_space.project(store.open("ae"), where, np.asarray(store.open("ae").z())[:20]), xy[:20], atol=1e-4
    )
    z = plane_space.to_z(store.open("ae"), where, 1.5, -0.5, base_row=7)
    assert np.allclose(plane_space.project(store.open("ae"), where, z)[0], [1.5, -0.5], atol=1e-4)
    # Off the plane, the point keeps the base row's coordinates.
    origin, basis = plane_space.attribute_basis(store.open("ae"), column)
    base = np.asarray(store.open("ae").z()[7], dtype=np.float64)
    rest = np.eye(len(base)) - basis.T @ basis
    assert np.allclose(rest @ (z - base), 0, atol=1e-4)
    # Clicking empty space on it decodes that spot.
    panel, _, _ = decode.decode_click(store.open("ae"), {"points": [{"x": 0.3, "y": 0.1}]}, where, "mean", None)
    assert "empty space at (0.300, 0.100)" in str(panel)
    with pytest.raises(ZspaceError, match="attribute number"):
        plane_space.plane(store.open("ae"), "attribute", 99, 0)


def test_the_attribute_walk_moves_the_point_along_the_direction(store):
    facts, rows = attributes.attribute_view(store.open("ae"), "pose", 7, 2.0, 5)
    assert "pose > " in facts and "point 7 walked from −2 to +2" in facts
    assert len(images_of(rows)) == 5
    assert attributes.plane_choice(store.open("ae"), "pose") == (
        "attribute",
        plane_space.attribute_columns(store.open("ae")).index("pose"),
    )
    facts, _ = attributes.attribute_view(store.open("ae"), "smiling", None, 1.0, 3)
    assert "the mean of the data" in facts
    with pytest.raises(ZspaceError, match="span must be"):
        attributes.attribute_view(store.open("ae"), "smiling", 7, 50, 5)
    with pytest.raises(ZspaceError, match="attribute must be one of"):
        attributes.attribute_view(store.open("ae"), "no-such-column", 7, 1, 5)


def test_a_traversal_spans_the_axis_observed_percentiles(store):
    z = np.asarray(store.open("vae").z())
    title, rows = traversals.traversal_view(store.open("vae"), 3, "axis", 2, 7)
    lo, hi = np.percentile(z[:, 2], [1, 99])
    assert f"from {lo:.3g} to {hi:.3g}" in title and "point 3 along axis 2" in title
    assert len(images_of(rows)) == 7
    title, _ = traversals.traversal_view(store.open("vae"), None, "pc", 0, 3)
    assert "the mean of the data along PC 1" in title
    with pytest.raises(ZspaceError, match="axis must be"):
        traversals.traversal_view(store.open("vae"), 3, "axis", 8, 7)
    with pytest.raises(ZspaceError, match="traversal must be one of"):
        traversals.traversal_view(store.open("vae"), 3, "diagonal", 0, 7)
