"""Runs of the same images are matched by image id in every instrument; a run without a decoder says so once.

The runs are the session's tiny ``ae`` and ``vae`` fixture runs, copied, plus
``vae-shuffled`` (the VAE's rows in a random order: z-points and metadata
permuted together through the run contract, no training), ``vae-part`` (the VAE
without two of its images) and ``points`` (the AE's z-points and metadata
imported with ``zspace import --zpoints``: no decoder). Expected values come
from the unshuffled runs and from brute-force nearest neighbours in numpy.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from dash import no_update

import rundir
from app import subsets
from app.images import to_data_uri
from app.views import (
    attributes,
    decode,
    instruments,
    lattice,
    neighbours,
    paths,
    sampler_rates,
    sampling,
    traversals,
)
from app.views.parts import open_shown
from rundir.atomic import atomic_save_npy, atomic_write_parquet
from tests.app.test_instruments import images_of

#: Rows of the AE run the tests ask about: the first, an inner one and the last (the runs hold 600 points).
FIRST, INNER, LAST = 0, 42, 599
#: The AE rows whose images ``vae-part`` lacks.
DROPPED = (INNER, 450)


def reordered(source, folder, order):
    """A copy of run ``source`` at ``folder`` holding its rows ``order`` (z-points and metadata together)."""
    shutil.copytree(source, folder)
    atomic_save_npy(folder / rundir.ZPOINTS, np.load(source / rundir.ZPOINTS)[order])
    frame = rundir.load_metadata(source).iloc[order].reset_index(drop=True)
    frame["row"] = np.arange(len(frame))
    atomic_write_parquet(folder / rundir.METADATA, frame)
    (folder / "zpoints.digest.json").unlink(missing_ok=True)
    shutil.rmtree(folder / "analysis", ignore_errors=True)
    return folder


@pytest.fixture(scope="module")
def matched(runs_dir, tmp_path_factory):
    """(store, order): a served copy of ``ae`` and ``vae`` beside ``vae-shuffled`` (row r holds the VAE's row
    ``order[r]``), ``vae-part`` and the decoder-less ``points``."""
    from app.factory import create_app
    from zspace import cli

    root = tmp_path_factory.mktemp("matched-runs")
    for name in ("ae", "vae"):
        shutil.copytree(runs_dir / name, root / name)
    n = len(np.load(root / "vae" / rundir.ZPOINTS))
    order = np.random.default_rng(11).permutation(n)
    reordered(root / "vae", root / "vae-shuffled", order)
    kept = np.setdiff1d(np.arange(n), DROPPED)
    reordered(root / "vae", root / "vae-part", kept[::-1])  # also reversed: nothing sits at its old row
    atomic_write_parquet(root / "meta.parquet", rundir.load_metadata(root / "ae").drop(columns=["row"]))
    argv = ["import", "--zpoints", str(root / "ae" / rundir.ZPOINTS), "--metadata", str(root / "meta.parquet")]
    assert cli.main([*argv, "--out", str(root / "points")]) == 0
    app = create_app(root, cache_dir=tmp_path_factory.mktemp("matched-cache"), warm=False)
    return app.zspace_store, order


def brute_neighbours(z, row, k):
    """The k nearest other rows of ``row`` by Euclidean distance, by brute force."""
    distances = np.linalg.norm(np.asarray(z, np.float64) - np.asarray(z[row], np.float64), axis=1)
    distances[row] = np.inf
    return np.argsort(distances, kind="stable")[:k]


def test_a_shuffled_run_walks_between_the_same_images(matched):
    store, order = matched
    ae, vae, shuffled = (store.open(name) for name in ("ae", "vae", "vae-shuffled"))
    where_is = np.argsort(order)  # the VAE's row r sits at row where_is[r] of the shuffled run
    for start, end in ((FIRST, LAST), (LAST, INNER)):
        title, rows, profile = paths.walk_view(vae, start, end, 5, "b")
        moved_title, moved_rows, moved_profile = paths.walk_view(shuffled, start, end, 5, "b", reference=ae)
        assert [images_of(row) for row in moved_rows] == [images_of(row) for row in rows]
        assert f"point {where_is[start]} → point {where_is[end]}" in moved_title, "each run names its own rows"
        for drawn, expected in zip(moved_profile.data, profile.data, strict=True):
            np.testing.assert_allclose(drawn.y, expected.y, rtol=1e-5)
    # The ends are the shuffled run's own z of those images.
    z = np.asarray(shuffled.z())
    linear = paths.walk(shuffled, *paths.endpoints(shuffled, FIRST, LAST, ae), 5)["linear"]
    np.testing.assert_array_equal(linear[[0, -1]], z[[where_is[FIRST], where_is[LAST]]])


def test_a_shuffled_run_has_the_same_neighbours_and_jaccard(matched):
    store, order = matched
    ae_z, vae_z = np.asarray(store.open("ae").z()), np.asarray(store.open("vae").z())
    for row in (FIRST, INNER, LAST):
        plain = neighbours.neighbour_view(open_shown(store, "ae", "vae"), row, 6)
        moved = neighbours.neighbour_view(open_shown(store, "ae", "vae-shuffled"), row, 6)
        assert moved[2] == plain[2], "the same overlap line: shared count and Jaccard"
        assert images_of(moved[1]["b"]) == images_of(plain[1]["b"])
        # The shuffled run's neighbours are the VAE's brute-force neighbours of the same image, at their new rows.
        expected_b = brute_neighbours(vae_z, row, 6)
        assert sorted(order[moved[3]["b"]["rows"]]) == sorted(expected_b.tolist())
        assert order[moved[3]["b"]["row"]] == row
        expected_a = brute_neighbours(ae_z, row, 6)
        shared = len(set(expected_a.tolist()) & set(expected_b.tolist()))
        jaccard = shared / len(set(expected_a.tolist()) | set(expected_b.tolist()))
        assert f"share {shared} of the 6" in moved[2] and f"(Jaccard {jaccard:.2f})" in moved[2]
    # The same model against its shuffled self agrees completely.
    assert "share 6 of the 6" in neighbours.neighbour_view(open_shown(store, "vae", "vae-shuffled"), INNER, 6)[2]
    assert "(Jaccard 1.00)" in neighbours.neighbour_view(open_shown(store, "vae-shuffled", "vae"), LAST, 6)[2]


def test_a_run_lacking_the_image_says_so_on_its_side(matched):
    store, _ = matched
    ae, part = store.open("ae"), store.open("vae-part")
    titles, tiles, overlap, highlight = neighbours.neighbour_view(open_shown(store, "ae", "vae-part"), INNER, 4)
    assert (
        titles["b"]
        == f"vae-part does not hold image img{INNER:05d} (point {INNER} of ae): runs are compared by image id"
    )
    assert tiles["b"] == [] and "b" not in highlight and len(tiles["a"]) == 5
    assert overlap == f"the 4 nearest data points of point {INNER}, by distance in full z-space"
    with pytest.raises(instruments.ImageNotInRun, match="vae-part does not hold image img00450"):
        paths.walk_view(part, FIRST, 450, 4, "b", reference=ae)
    with pytest.raises(instruments.ImageNotInRun):
        traversals.traversal_view(part, INNER, "axis", 0, 3, reference=ae)
    # A neighbour the other run lacks counts as not shared (the union grows), never as a match.
    z = np.asarray(store.open("vae").z())
    # A point whose 3 nearest neighbours hold the dropped image 450, and whose 4 nearest hold no other dropped one.
    near_dropped = next(
        row
        for row in range(len(z))
        if row not in DROPPED
        and 450 in brute_neighbours(z, row, 3)
        and not set(DROPPED) - {450} & set(brute_neighbours(z, row, 4).tolist())
    )
    with_all = neighbours.neighbour_view(open_shown(store, "vae", "vae-shuffled"), near_dropped, 3)[2]
    with_part = neighbours.neighbour_view(open_shown(store, "vae", "vae-part"), near_dropped, 3)[2]
    assert "share 3 of the 3" in with_all and "share 2 of the 3" in with_part and "(Jaccard 0.50)" in with_part


def test_clicks_on_the_compared_plane_become_the_reference_runs_rows(matched):
    store, order = matched
    ae, shuffled = store.open("ae"), store.open("vae-shuffled")
    clicked = {"run": "vae-shuffled", "row": 7}
    assert instruments.reference_row(ae, clicked) == order[7]
    assert paths.set_endpoint(paths.SET_A["b"], None, clicked, ae)[0] == order[7]
    assert instruments.reference_row(shuffled, {"run": "ae", "row": int(order[7])}) == 7
    with pytest.raises(instruments.ImageNotInRun, match=f"img{INNER:05d}"):
        instruments.reference_row(store.open("vae-part"), {"run": "ae", "row": INNER})


def test_a_click_on_an_image_the_reference_run_lacks_says_so_beside_the_row_box(matched):
    store, order = matched
    part = store.open("vae-part")
    missing_there = {"run": "ae", "row": INNER}  # vae-part is the reference (first run shown) and lacks this image
    row, note = instruments.followed_row(store, missing_there, "vae-part", "ae")
    assert row is no_update
    assert note == f"vae-part does not hold image img{INNER:05d} (point {INNER} of ae): runs are compared by image id"
    held = {"run": "ae", "row": LAST}
    row, note = instruments.followed_row(store, held, "vae-part", "ae")
    assert note == "" and instruments.row_of(part, row) == row
    assert subsets.image_label(part, row) == subsets.image_label(store.open("ae"), LAST)
    # The same click with the AE first: its own row, no note.
    assert instruments.followed_row(store, missing_there, "ae", "vae-part") == (INNER, "")


def test_walks_and_traversals_start_from_the_same_image(matched):
    store, _ = matched
    ae, vae, shuffled = (store.open(name) for name in ("ae", "vae", "vae-shuffled"))
    for view in (
        lambda run, reference=None: traversals.traversal_view(run, LAST, "pc", 1, 4, reference),
        lambda run, reference=None: attributes.attribute_view(run, "smiling", LAST, 1.0, 3, reference),
    ):
        assert images_of(view(shuffled, ae)[1]) == images_of(view(vae)[1])
    start, label = instruments.base_point(shuffled, FIRST, ae)
    np.testing.assert_array_equal(start, np.asarray(vae.z()[FIRST], np.float64))


def test_a_run_without_a_decoder_says_so_once_and_shows_its_numbers(matched):
    store, _ = matched
    points, ae = store.open("points"), store.open("ae")
    assert not points.has_decoder and ae.has_decoder
    status, done = decode.decoder_status(store, "points", "ae")
    assert done and status.count("no decoder") == 1 and status.startswith("points has no decoder")
    assert decode.decoder_status(store, "ae", "vae")[0] == decode.READY_TEXT
    # Two clicks on the plane: each shows the point and its facts, no image and no error.
    where = decode.planes.PlaneRequest("a", "points").plane(points)
    for row in (FIRST, LAST):
        panel, selected, target = decode.decode_click(
            points, decode.clicked_point(points, where, row), where, None, None
        )
        text = str(panel)
        assert f"point {row} · id img{row:05d}" in text and selected == {"run": "points", "row": row}
        assert images_of(panel) == [] and "error" not in text and "decoder" not in text
    # Empty space decodes nothing either, and says nothing more.
    panel, _, target = decode.decode_click(points, {"points": [{"x": 50.0, "y": 50.0}]}, where, None, None)
    assert "empty space at (50.000, 50.000)" in str(panel) and images_of(panel) == [] and "z" in target
    # Paths: the profile (numbers) of the same images as the AE, no images.
    title, rows, profile = paths.walk_view(points, FIRST, LAST, 4, "b", reference=ae)
    _, _, ae_profile = paths.walk_view(ae, FIRST, LAST, 4)
    assert [images_of(row) for row in rows] == [[], []] and len(rows[0].children[1].children) == 4
    for drawn, expected in zip(profile.data, ae_profile.data, strict=True):
        np.testing.assert_allclose(drawn.y, expected.y, rtol=1e-5)
    # Neighbours: the same rows as the AE (the same z-points), captions only.
    _, tiles, overlap, highlight = neighbours.neighbour_view(open_shown(store, "ae", "points"), INNER, 5)
    assert highlight["b"]["rows"] == highlight["a"]["rows"] and images_of(tiles["b"]) == [] and len(tiles["b"]) == 6
    assert "share 5 of the 5" in overlap
    # Samples: their nearest-data distances, no images; the rate table says "no decoder" in its cells and once below.
    grid = sampling.sample_grid(points, "normal", 4, 0, 1.0)
    assert images_of(grid) == [] and str(grid).count("nearest data z: ") == 4
    rows, columns, note = sampler_rates.rate_table(open_shown(store, "points", "ae"))
    assert {row["points:rate"] for row in rows} == {"no decoder"} and note.count("no decoder") == 1
    assert "not computed yet for ae" in note and "points" not in note.split("·")[-1]
    # The lattice draws nothing for it, quietly (the status line said why); the AE's lattice is drawn.
    for run in (points, ae):
        request = decode.planes.PlaneRequest("a", run.name)
        square = {"key": f"{run.name}|{request.plane(run).key()}", "x": [-1.0, 1.0], "y": [-1.0, 1.0]}
        drawn = lattice.lattice_view(run, request, square, 3, None, None)
        if run is points:
            assert drawn[0] == "" and not drawn[1].layout.images
    note, figure = drawn
    assert note.startswith("ae: 3 × 3 decodes") and len(figure.layout.images) == 1


def test_the_decode_panel_shows_the_decoded_point_of_a_run_with_a_decoder(matched):
    # The counterpart of the above: the same click on the AE decodes, and the decoded tile is the decoder's.
    store, _ = matched
    ae = store.open("ae")
    where = decode.planes.PlaneRequest("a", "ae").plane(ae)
    panel, _, _ = decode.decode_click(ae, decode.clicked_point(ae, where, LAST), where, None, None)
    assert to_data_uri(ae.decode(ae.z()[LAST])[0]) in images_of(panel)
