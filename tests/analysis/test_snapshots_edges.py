"""The snapshot analyses at their edges: parameter limits word for word, every stored array, and history.csv as written."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

import rundir
from analysis import snapshots, structure
from rundir.snapshots import load_snapshot, write_snapshot, write_snapshot_rows

ROWS, Z_DIM = 40, 3


@pytest.fixture
def tiny_snapshots(tmp_path, make_run):
    """A 40-point, 3-D run with snapshots after epochs 1 and 3 (the points spreading out along axis 0)."""
    base = np.random.default_rng(7).normal(size=(ROWS, Z_DIM))
    run = make_run(tmp_path / "tiny", base)
    write_snapshot_rows(run, np.arange(ROWS))
    for epoch, stretch in ((1, 1.0), (3, 4.0)):
        write_snapshot(run, epoch, base * np.array([stretch, 1.0, 0.2]) + 1.0)
    return run


def test_snapshot_measure_parameters_are_positive_whole_numbers_and_the_seed_may_be_zero():
    default = snapshots.EpochStructureParams(epoch=1)
    assert (default.n_points, default.k, default.n_probes, default.quantile, default.random_state) == (
        1500,
        20,
        1000,
        0.99,
        0,
    )
    smallest = snapshots.EpochStructureParams(epoch=1.0, n_points=1, k=1, n_probes=1, quantile=1, random_state=0)
    assert type(smallest.epoch) is int and type(smallest.quantile) is float
    for name in ("epoch", "n_points", "k", "n_probes"):
        for bad in (0, -1, 1.5, True):
            with pytest.raises(ValueError, match=rf"^{name} must be a positive whole number, got {bad!r}$"):
                snapshots.EpochStructureParams(**{"epoch": 1, name: bad})
    for bad in (-1, 0.5, False):
        with pytest.raises(ValueError, match=rf"^random_state must be a positive whole number, got {bad!r}$"):
            snapshots.EpochStructureParams(epoch=1, random_state=bad)


def test_the_common_basis_keeps_at_least_two_components():
    assert snapshots.SnapshotPcaParams().components == 10
    assert snapshots.SnapshotPcaParams(components=2.0).components == 2
    assert type(snapshots.SnapshotPcaParams(components=np.int64(3)).components) is int
    for bad in (1, 0, 2.5, True):
        with pytest.raises(ValueError, match=rf"^components must be a whole number >= 2, got {bad!r}$"):
            snapshots.SnapshotPcaParams(components=bad)


def test_an_epoch_without_a_snapshot_is_named_with_its_run(tiny_snapshots):
    with pytest.raises(ValueError, match=r"^run tiny has no snapshot of epoch 2$"):
        snapshots.epoch_structure(tiny_snapshots, 2, n_points=10, k=3, n_probes=10)


def test_an_epochs_measures_take_its_own_neighbours_quantile_and_seed(tiny_snapshots):
    z = np.asarray(load_snapshot(tiny_snapshots, 3))
    found = snapshots.epoch_structure(tiny_snapshots, 3, n_points=15, k=4, n_probes=12, quantile=0.8, random_state=3)
    view = structure.structure_with_null(z, 15, 12, 4, 0.8, None, 3)
    for key in ("lid_median", "null_lid_median", "threshold", "void_normal", "null_void_full_gaussian", "nn_median"):
        assert found[key] == pytest.approx(view[key], rel=1e-9), key
    radii = np.linalg.norm(z.astype(np.float64), axis=1)
    assert found["radius_median"] == pytest.approx(np.median(radii), rel=1e-6)
    assert found["radius_mean"] == pytest.approx(np.mean(radii), rel=1e-6)
    assert (found["epoch"], found["n_rows"]) == (3, ROWS)


def test_the_common_basis_holds_the_last_snapshots_mean_components_and_variance_shares(tiny_snapshots):
    fitted = snapshots.snapshot_pca(tiny_snapshots)  # 10 asked, 3 dimensions: all 3 kept
    last = np.asarray(load_snapshot(tiny_snapshots, 3), dtype=np.float64)
    reference = PCA().fit(last)
    assert fitted["epochs"].dtype == np.int64 and fitted["epochs"].tolist() == [1, 3]
    assert fitted["coords"].dtype == np.float32 and fitted["coords"].shape == (2, ROWS, 3)
    np.testing.assert_allclose(fitted["mean"], last.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(fitted["explained_variance_ratio"], reference.explained_variance_ratio_, rtol=1e-6)
    signs = np.sign(np.sum(fitted["components"] * reference.components_, axis=1))
    np.testing.assert_allclose(fitted["components"] * signs[:, None], reference.components_, atol=1e-6)
    two = snapshots.snapshot_pca(tiny_snapshots, components=2)
    assert two["coords"].shape == (2, ROWS, 2) and two["components"].shape == (2, 3)
    assert two["explained_variance_ratio"].shape == (2,)


def _curve_history(run, text: str) -> dict:
    (run / rundir.HISTORY).write_text(text, encoding="utf-8")
    return snapshots.epoch_curve(run, compute=False, n_points=10, k=3, n_probes=10)


def test_the_curve_takes_a_resumed_epochs_last_loss_and_leaves_gaps_as_none(tiny_snapshots):
    # epoch 3 logged twice (a resumed run trains it again: the last line counts), a loss that is not a number,
    # and no line at all for epoch 1 in the second file
    curve = _curve_history(tiny_snapshots, "epoch,loss,kl_loss\n1,9.0,x\n3,7.0,0.5\n3,6.5,nan\n")
    assert curve["epochs"] == [1, 3] and curve["rows"] == ROWS
    assert curve["loss"] == [9.0, 6.5] and curve["kl_loss"] == [None, None]
    assert "reconstruction_loss" not in curve
    assert _curve_history(tiny_snapshots, "epoch,loss\n3,2.0\n")["loss"] == [None, 2.0]
    assert curve["params"] == {"n_points": 10, "k": 3, "n_probes": 10, "quantile": 0.99, "random_state": 0}


@pytest.mark.parametrize("text", ["loss\n1.0\n", "", "epoch,loss\n1,2\n3\n3,4,5,6,7\n"])
def test_a_history_without_epochs_or_unreadable_adds_no_loss_columns(tiny_snapshots, text):
    curve = _curve_history(tiny_snapshots, text)
    assert curve["epochs"] == [1, 3] and not set(snapshots.HISTORY_COLUMNS) & set(curve)


def test_a_missing_history_adds_no_loss_columns_and_a_computed_epoch_fills_its_numbers(tiny_snapshots):
    snapshots.epoch_structure(tiny_snapshots, 3, n_points=10, k=3, n_probes=10)
    curve = snapshots.epoch_curve(tiny_snapshots, compute=False, n_points=10, k=3, n_probes=10)
    assert not set(snapshots.HISTORY_COLUMNS) & set(curve)
    assert curve["radius_mean"][0] is None and isinstance(curve["radius_mean"][1], float)
    z = np.asarray(load_snapshot(tiny_snapshots, 3), dtype=np.float64)
    assert curve["radius_mean"][1] == pytest.approx(np.linalg.norm(z, axis=1).mean(), rel=1e-6)


def test_a_run_with_one_snapshot_has_a_curve_of_one_epoch_computed_with_the_asked_sizes(tmp_path, make_run):
    base = np.random.default_rng(8).normal(size=(ROWS, Z_DIM))
    run = make_run(tmp_path / "one", base)
    write_snapshot_rows(run, np.arange(ROWS))
    write_snapshot(run, 2, base * 2.0)
    curve = snapshots.epoch_curve(run, n_points=10, k=3, n_probes=10)
    assert curve["epochs"] == [2] and curve["params"]["n_points"] == 10
    assert snapshots.epoch_structure.is_cached(run, 2, n_points=10, k=3, n_probes=10)
    assert not snapshots.epoch_structure.is_cached(run, 2)  # the default sizes were not computed instead
    radii = np.linalg.norm(base * 2.0, axis=1)
    assert curve["radius_median"] == [pytest.approx(np.median(radii), rel=1e-6)]
