"""The epoch sliders (Planes, Structure) and the Sweep view as plain functions, on the ``series_dir`` fixture."""

from __future__ import annotations

import numpy as np
import pytest

from app.views import epoch_structure, epochs, sweep
from rundir.errors import ZspaceError
from tests.app.conftest import SNAPSHOT_EPOCHS, SNAPSHOT_ROWS


@pytest.fixture(scope="module")
def series_store(series_dir, tmp_path_factory):
    from app.factory import create_app

    return create_app(series_dir, cache_dir=tmp_path_factory.mktemp("series-views"), warm=False).zspace_store


def test_the_epoch_slider_lists_the_snapshot_epochs_of_the_runs_shown(series_store):
    with_snapshots, without = series_store.open("betas/beta-1"), series_store.open("betas/beta-0")
    marks, low, high, value, note = epochs.slider_settings([without, with_snapshots])
    assert marks == {"1": "1", "2": "2", "3": "3"} and (low, high, value) == (1, 3, 3)
    assert note == "3 snapshot epoch(s): move the slider"
    marks, _, _, value, note = epochs.slider_settings([without, None])
    assert marks == {} and value is None
    assert note == "betas/beta-0 has no snapshots: train it with `zspace train --snapshot-every E`."


def test_each_epoch_is_drawn_in_the_last_snapshots_pca_basis_on_fixed_axes(series_store):
    from sklearn.decomposition import PCA

    from rundir.snapshots import load_snapshot

    run = series_store.open("betas/beta-1")
    last = PCA().fit(np.asarray(load_snapshot(run.folder, SNAPSHOT_EPOCHS[-1]), dtype=np.float64))
    figures = {epoch: epochs.epoch_plane(run, "b", epoch, 1, 3) for epoch in SNAPSHOT_EPOCHS}
    for epoch, fig in figures.items():
        (trace,) = fig.data
        expected = last.transform(np.asarray(load_snapshot(run.folder, epoch), dtype=np.float64))[:, [0, 2]]
        signs = np.sign(np.sum(expected * np.column_stack([trace.x, trace.y]), axis=0))  # a PC's sign is free
        np.testing.assert_allclose(np.column_stack([trace.x, trace.y]) * signs, expected, atol=1e-4)
        assert len(trace.x) == SNAPSHOT_ROWS and fig.layout.title.text.endswith(f"after epoch {epoch}")
    ranges = {(tuple(f.layout.xaxis.range), tuple(f.layout.yaxis.range)) for f in figures.values()}
    assert len(ranges) == 1  # the points move, the axes stay
    # The fixture shrinks earlier epochs towards the mean: epoch 1's cloud is a third as wide as epoch 3's.
    spread = {epoch: np.std(figures[epoch].data[0].x) for epoch in SNAPSHOT_EPOCHS}
    assert spread[1] == pytest.approx(spread[3] / 3, rel=0.05)
    # Between or before snapshots: the latest snapshot at or before it (the first one before any).
    assert epochs.epoch_plane(run, "b", 0, 1, 2).layout.title.text.endswith("after epoch 1")
    assert epochs.epoch_plane(run, "b", 10**6, 1, 2).layout.title.text.endswith("after epoch 3")
    with pytest.raises(ZspaceError, match="PC y"):
        epochs.epoch_plane(run, "b", 2, 1, epochs_pcs(run) + 1)
    no_snapshots = epochs.epoch_plane(series_store.open("betas/beta-0"), "a", 2, 1, 2)
    assert "has no snapshots" in no_snapshots.layout.annotations[0].text


def epochs_pcs(run) -> int:
    return epochs.snapshot_basis(run)["coords"].shape[2]


def test_snapshots_larger_than_a_request_computes_are_refused_until_analysed(series_dir, tmp_path_factory):
    from app.factory import create_app

    small = create_app(series_dir, cache_dir=tmp_path_factory.mktemp("small"), warm=False, inline_points=SNAPSHOT_ROWS)
    assert epochs.snapshot_basis(small.zspace_store.open("betas/beta-1"))["coords"].shape[:2] == (3, SNAPSHOT_ROWS)
    smaller = create_app(series_dir, cache_dir=tmp_path_factory.mktemp("smaller"), warm=False, inline_points=199)
    with pytest.raises(epochs.SnapshotsTooLarge, match="hold 200 rows, more than a page computes"):
        epochs.snapshot_basis(smaller.zspace_store.open("betas/beta-1"))


def test_the_structure_tabs_epoch_slider_shows_each_epochs_measured_numbers(series_store):
    from analysis.snapshots import epoch_structure as measures

    run = series_store.open("betas/beta-1")
    figure, rows, columns, note = epoch_structure.epoch_view(run, 2)
    assert note.startswith("3 of 3 epochs not measured yet") and rows[0]["epoch 2"] == "—"
    reports = []
    assert epoch_structure.measure_epochs(run, reports.append) == "the 3 epochs of betas/beta-1 are measured"
    assert [r[:2] for r in reports] == [(0, 3), (1, 3), (2, 3), (3, 3)] and reports[-1][2] == "done"
    # Measured for a request: in the server's cache, not in the run.
    assert not (run.folder / "analysis").exists() and list(run.request_folder.glob("snapshot_structure-*.npz"))
    for epoch in SNAPSHOT_EPOCHS:
        figure, rows, columns, note = epoch_structure.epoch_view(run, epoch)
        with run.cache_scope():
            measured = measures.read(run.folder, epoch)
        table = {row["number"]: row for row in rows}
        assert note == "" and [c["id"] for c in columns] == ["number", f"epoch {epoch}", "Gaussian null"]
        assert table["median local dim."][f"epoch {epoch}"] == f"{measured['lid_median']:.3g}"
        assert table["active units"][f"epoch {epoch}"] == f"{measured['active_units']:.3g}"
        assert table["median local dim."]["Gaussian null"] == f"{measured['null_lid_median']:.3g}"
        marker = [shape for shape in figure.layout.shapes if shape.x0 == epoch == shape.x1]
        assert marker, "the slider's epoch is marked in the figure"
    assert epoch_structure.epoch_view(series_store.open("betas/beta-0"), 1)[1:] == ([], [], "")


def test_the_sweep_view_draws_the_cached_numbers_against_beta_and_names_what_is_missing(series_store):
    from analysis import results
    from study.sweep import STRUCTURE

    assert sweep.picker(series_store, "betas/beta-0", None) == ([{"label": "betas", "value": "betas"}], "betas")
    rates, structure, rows, columns, note = sweep.sweep_view(series_store, "betas")
    assert [r["β"] for r in rows] == ["0", "1", "4"] and [r["model"] for r in rows] == ["AE", "VAE", "VAE"]
    assert note.startswith("not computed yet for betas/beta-0, betas/beta-1, betas/beta-4")
    assert rates.layout.title.text == "betas: meaningful rate per sampler against β"
    # The structure numbers of each run, cached for a request, land on the curve in β order.
    lids = [series_store.open(name).result(results.structure_measures, **STRUCTURE)["lid_median"] for name in
            ("betas/beta-0", "betas/beta-1", "betas/beta-4")]  # fmt: skip
    rates, structure, rows, columns, note = sweep.sweep_view(series_store, "betas")
    assert [r["median local dim."] for r in rows] == [f"{lid:.3g}" for lid in lids]
    lid_trace = next(t for t in structure.data if t.name == "lid_median")
    np.testing.assert_allclose(lid_trace.y, lids, rtol=1e-6)
    assert list(lid_trace.x) == ["0", "1", "4"]
    with pytest.raises(ZspaceError, match="sweep must be one of betas"):
        sweep.sweep_view(series_store, "../betas")
    assert "no sweep folders" in sweep.sweep_view(series_store, None)[0].layout.annotations[0].text


def test_the_sweep_job_computes_every_run_with_progress(series_store, monkeypatch):
    import study.sweep

    measured = []

    def stand_in(run, compute=False):  # the real numbers take a minute per run; their code is study's
        measured.append((run.parent.name + "/" + run.name, compute))
        return {"rates": {}, "structure": None, "fit": None}

    monkeypatch.setattr(study.sweep, "member_numbers", stand_in)
    reports = []
    assert sweep.compute_sweep(series_store, "betas", reports.append) == "the numbers of sweep betas are ready"
    assert measured == [("betas/beta-0", True), ("betas/beta-1", True), ("betas/beta-4", True)]
    assert [r[0] for r in reports] == [0, 33, 66, 100] and reports[1][2] == "measuring betas/beta-1…"
    with pytest.raises(ZspaceError, match="sweep must be one of"):
        sweep.compute_sweep(series_store, "nope", reports.append)


def test_a_link_keeps_the_sweep_and_drops_an_unknown_one(series_store):
    from app.url_state import LinkCheck

    for name, kept in (("betas", True), ("nope", False)):
        check = LinkCheck(series_store, {"sweep": name}, {}, [])
        sweep.check_url(check)
        assert ("sweep" in check.values) is kept and bool(check.problems) is not kept
