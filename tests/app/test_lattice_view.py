"""Issue 17's view parts as plain functions: the decoded lattice, empty-space clicks, the NN reference, plane units.

Every number is checked against a brute-force reference built here from the run's own z-points
(the ``ae`` / ``vae`` runs of tests/app/conftest.py: 600 points, so the data's nearest-neighbour
reference holds every point's distance).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from app import plane_space
from app.images import strip, to_data_uri
from app.store import TooManyImages
from app.views import decode, lattice, paths, planes
from rundir.errors import ZspaceError


def own_nn(z) -> np.ndarray:
    """Every point's distance to its nearest other point (brute force)."""
    d = np.linalg.norm(z[:, None] - z[None], axis=2)
    np.fill_diagonal(d, np.inf)
    return d.min(axis=1)


def percentile_of(values, reference) -> np.ndarray:
    return np.array([100.0 * np.mean(reference <= v) for v in values])


def component(tree, id_):
    """The component with id ``id_`` in a layout tree."""
    if getattr(tree, "id", None) == id_:
        return tree
    children = getattr(tree, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found = component(child, id_)
            if found is not None:
                return found
    return None


def request(run="ae", kind="pca", i=0, j=1, units="z"):
    return planes.PlaneRequest("a", run, None, kind, i, j, units=units)


def view_of(run, where, x, y):
    return {"key": f"{run.name}|{where.key()}", "x": list(x), "y": list(y)}


def test_each_tile_decodes_the_z_at_its_spot_with_the_nearest_data_points_other_coordinates(store):
    run = store.open("ae")
    where = request().plane(run)
    x, y = (-0.3, 0.5), (-0.2, 0.4)
    note, figure = lattice.lattice_view(run, request(), view_of(run, where, x, y), 3, "nearest", None)
    found = lattice.decoded_lattice(run, where, x, y, 3, "nearest")
    z_all = np.asarray(run.z(), dtype=np.float64)
    _, xy = run.coords(where)
    fit = plane_space.pca(run)
    expected_z = []
    for r in range(3):
        for c in range(3):
            spot = np.array([x[0] + (c + 0.5) * 0.8 / 3, y[1] - (r + 0.5) * 0.6 / 3])
            row = int(np.argmin(((xy - spot) ** 2).sum(axis=1)))
            assert found["rows"][r * 3 + c] == row
            move = (spot - xy[row]) @ fit.components_[[0, 1]]
            expected_z.append(z_all[row] + move)
    expected_z = np.array(expected_z)
    tiles = run.decode(expected_z.astype(np.float32))
    assert found["mosaic"] == to_data_uri(strip(tiles, columns=3, gap=1))
    assert figure.layout.images[0].source == found["mosaic"]
    nearest = np.array([np.linalg.norm(z_all - z, axis=1).min() for z in expected_z])
    np.testing.assert_allclose(found["distances"], nearest, rtol=1e-4)
    labels = list(figure.data[0].text)
    assert labels == [f"{p:.0f}" for p in percentile_of(nearest, own_nn(z_all))]
    image = figure.layout.images[0]
    assert (image.x, image.y, image.sizex, image.sizey) == pytest.approx((-0.3, 0.4, 0.8, 0.6))
    assert "ae: 3 × 3 decodes over x -0.3 … 0.5, y -0.2 … 0.4" in note
    voids = int((percentile_of(nearest, own_nn(z_all)) >= 99).sum())
    assert f"{voids} of 9 tiles at the 99th or beyond" in note


def test_twelve_tiles_per_side_is_one_batched_call_of_144_and_thirteen_is_refused(store, monkeypatch):
    run = store.open("vae")
    where = request("vae").plane(run)
    calls = []
    original = store.decoder.decode
    monkeypatch.setattr(store.decoder, "decode", lambda *a: calls.append(len(a[2])) or original(*a))
    view = view_of(run, where, (-1.0, 1.0), (-1.0, 1.0))
    lattice.lattice_view(run, request("vae"), view, 12, "mean", None)
    assert calls == [144]
    with pytest.raises(lattice.LatticeTooLarge) as refused:
        lattice.lattice_view(run, request("vae"), view, 13, "mean", None)
    assert (
        str(refused.value) == "a lattice has at most 12 tiles per side (12 x 12 = 144 decodes per run); ask for fewer"
    )
    with pytest.raises(ZspaceError, match="tiles per side"):
        lattice.lattice_view(run, request("vae"), view, 1, "mean", None)
    with pytest.raises(TooManyImages):
        run.decode(np.zeros((145, run.z_dim)), most=144)


def test_the_same_viewport_is_decoded_once_and_a_stale_or_map_plane_draws_nothing(store, monkeypatch):
    run = store.open("vae")
    where = request("vae").plane(run)
    calls = []
    original = store.decoder.decode
    monkeypatch.setattr(store.decoder, "decode", lambda *a: calls.append(len(a[2])) or original(*a))
    view = view_of(run, where, (0.0, 0.7), (0.0, 0.7))
    for _ in range(2):
        lattice.lattice_view(run, request("vae"), view, 4, "nearest", None)
    lattice.lattice_view(run, request("vae"), view_of(run, where, (0.0, 0.8), (0.0, 0.7)), 4, "nearest", None)
    assert calls == [16, 16]
    stale = {**view, "key": "vae|pca:0:2"}
    assert lattice.lattice_view(run, request("vae"), stale, 4, "nearest", None) is None
    on_a_map = SimpleNamespace(side="a", plane=lambda _run: plane_space.Plane("map", map_key="umap-0"))
    with pytest.raises(lattice.LatticeNeedsLinearPlane):
        lattice.lattice_view(run, on_a_map, view, 4, "mean", None)


def test_empty_space_decodes_with_the_nearest_points_other_coordinates_and_quotes_the_data_radii(store):
    run = store.open("ae")
    where = plane_space.plane(run, "axis", 2, 5)
    click = {"points": [{"curveNumber": 0, "pointNumber": [3, 4], "x": 0.25, "y": -0.4}]}
    panel, _, target = decode.decode_click(run, click, where, "nearest", None)
    z_all = np.asarray(run.z(), dtype=np.float64)
    row = int(np.argmin((z_all[:, 2] - 0.25) ** 2 + (z_all[:, 5] + 0.4) ** 2))
    expected = z_all[row].copy()
    expected[[2, 5]] = [0.25, -0.4]
    np.testing.assert_allclose(target["z"], expected, atol=1e-5)
    facts = {r.children[0].children: r.children[1].children for r in panel[1].children[1].children}
    assert facts["other coordinates held at"] == f"point {row} (nearest on the plane)"
    low, high = np.percentile(np.linalg.norm(z_all, axis=1), [5, 95])
    radius = np.linalg.norm(expected)
    assert facts["radius |z|"] == f"{radius:.3f} — data 5th–95th pct {low:.3g}–{high:.3g}"
    # The page's default is the nearest point; "selected" without a selected point says it fell back to it.
    assert component(planes.layout(), planes.BASE_MODE).value == "nearest"
    assert decode.base_of(run, "selected", None) == (
        "nearest",
        "the nearest data point on the plane (no point selected)",
    )
    text = decode.nearest_text(store, target)
    distance = np.linalg.norm(z_all - np.asarray(target["z"]), axis=1).min()
    pct = int(np.floor(percentile_of([distance], own_nn(z_all))[0]))
    assert text.startswith(f"nearest data point: {distance:.3f} — {pct}")


def test_a_point_clicked_in_one_run_is_decoded_in_the_other_by_its_image_id(store):
    ae, vae = store.open("ae"), store.open("vae")
    where = plane_space.plane(ae, "pca", 0, 1)
    _, xy = ae.coords(where)
    click = {"points": [{"curveNumber": 1, "pointNumber": 7, "x": float(xy[77, 0]), "y": float(xy[77, 1])}]}
    panel, selected, target = decode.mirrored_click(vae, ae, click, where)
    assert panel[0].children == "point 77 · id img00077 — the image clicked in ae"
    assert selected == target == {"run": "vae", "row": 77}
    decoded = panel[1].children[0].children[-1].children[0].src
    assert decoded == to_data_uri(vae.decode(np.asarray(vae.z()[77]))[0])
    space = {"points": [{"curveNumber": 0, "pointNumber": [1, 1], "x": 0.0, "y": 0.0}]}
    assert decode.mirrored_click(vae, ae, space, where) is None


def test_standardised_and_nn_units_place_the_points_and_map_back_exactly(store):
    from sklearn.decomposition import PCA

    run = store.open("vae")
    z_all = np.asarray(run.z(), dtype=np.float64)
    sd = plane_space.plane(run, "pca", 0, 1, units="sd")
    _, xy = run.coords(sd)
    whitened = PCA(whiten=True).fit(z_all).transform(z_all)[:, :2]
    np.testing.assert_allclose(np.abs(xy), np.abs(whitened), atol=1e-4)
    assert "in SDs of the data (whitened)" in plane_space.axis_label(run, sd, 0)
    nn = plane_space.plane(run, "axis", 1, 3, units="nn")
    _, xy = run.coords(nn)
    median = float(np.median(own_nn(z_all)))
    np.testing.assert_allclose(xy, z_all[:, [1, 3]] / median, rtol=1e-5)
    assert f"1 = {median:.3g} in z" in plane_space.axis_label(run, nn, 1)
    z, _ = plane_space.z_at(run, nn, [[0.5, -2.0]], "mean")
    np.testing.assert_allclose(plane_space.project(run, nn, z)[0], [0.5, -2.0], atol=1e-5)
    assert nn.key() == "axis:1:3:nn" and plane_space.plane(run, "axis", 1, 3).key() == "axis:1:3"
    with pytest.raises(ZspaceError, match="plane units"):
        plane_space.plane(run, "pca", 0, 1, units="px")
    assert planes.URL_STATE[planes.UNITS_KEY].component == planes.UNITS


def test_the_path_profile_draws_the_data_nn_reference_and_captions_give_percentiles(store):
    run = store.open("ae")
    title, rows, figure = paths.walk_view(run, 3, 300, 4)
    reference = own_nn(np.asarray(run.z(), dtype=np.float64))
    lines = sorted(shape.y0 for shape in figure.layout.shapes)
    assert lines == pytest.approx(sorted([np.median(reference), np.quantile(reference, 0.99)]), rel=1e-6)
    assert "dotted lines: the data's own NN distances" in title
    assert " pct)" in str(rows[0])
    _, _, filtered = paths.walk_view(run, 3, 300, 4, filter_state={"expr": "smiling == 1", "within": None})
    assert len(filtered.layout.shapes) == 0


def test_without_the_nn_reference_a_large_run_says_what_to_run_instead_of_a_percentile(store, monkeypatch):
    from app import data_reference

    run = store.open("vae")
    monkeypatch.setattr(data_reference, "nn_reference", lambda _run: None)
    with pytest.raises(plane_space.UnitsUnavailable) as refused:
        plane_space.frame(run, plane_space.plane(run, "pca", 2, 3, units="nn"))
    assert str(refused.value) == (
        "the plane cannot be shown in the units “data's median nearest-neighbour distance”: "
        "run `zspace analyze vae` first (a large run)"
    )
    assert data_reference.distance_text(run, 1.25) == (
        "1.250 (the data's nearest-neighbour reference is not computed yet: run `zspace analyze`)"
    )
    assert data_reference.percentiles(run, [1.0]) is None
