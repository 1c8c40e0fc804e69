"""A run's snapshot files (``snapshots/rows.npy``, ``snapshots/epoch_NNN.npy``): names, listing, what is refused."""

from __future__ import annotations

import numpy as np
import pytest

import rundir
from rundir import snapshots
from rundir.errors import RunNotReadyError
from tests.core.runs import make_run


@pytest.fixture
def run(tmp_path):
    return make_run(tmp_path / "r", n=8, z_dim=4)


def test_snapshot_files_are_named_by_epoch_with_at_least_three_digits_and_listed_in_epoch_order(run):
    assert snapshots.snapshot_epochs(run) == []  # no snapshots folder at all
    for epoch in (10, 2, 1000, 100):
        snapshots.write_snapshot(run, epoch, np.zeros((3, 4)))
    folder = run / rundir.SNAPSHOTS
    assert sorted(p.name for p in folder.iterdir()) == [
        "epoch_002.npy",
        "epoch_010.npy",
        "epoch_100.npy",
        "epoch_1000.npy",
    ]
    for stray in ("epoch_7.npy", "epoch_1234567.npy", "epoch_003.npy.part", "notes_004.npy", rundir.SNAPSHOT_ROWS):
        (folder / stray).write_bytes(b"")
    assert snapshots.snapshot_epochs(run) == [2, 10, 100, 1000]  # numbers, not names: 1000 after 100


def test_snapshot_rows_are_stored_as_int64_and_read_back_only_when_sorted_distinct_and_not_negative(run):
    snapshots.write_snapshot_rows(run, np.array([0, 5, 9], dtype=np.int32))
    stored = np.load(run / rundir.SNAPSHOTS / rundir.SNAPSHOT_ROWS)
    assert stored.dtype == np.int64 and stored.tolist() == [0, 5, 9]
    rows = snapshots.load_snapshot_rows(run)
    assert rows.dtype == np.int64 and rows.tolist() == [0, 5, 9]
    snapshots.write_snapshot_rows(run, [7])  # one row is enough
    assert snapshots.load_snapshot_rows(run).tolist() == [7]


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        (np.array([3, 3, 5]), "must hold distinct rows in ascending order"),
        (np.array([5, 3]), "must hold distinct rows in ascending order"),
        (np.array([-1, 2]), "must hold distinct rows in ascending order"),
        (np.zeros((2, 2), dtype=np.int64), r"must be a 1-D list of rows, found \(2, 2\) int64"),
        (np.array([0.0, 1.0]), r"must be a 1-D list of rows, found \(2,\) float64"),
        (np.zeros(0, dtype=np.int64), r"must be a 1-D list of rows, found \(0,\) int64"),
    ],
)
def test_snapshot_rows_that_name_no_rows_in_order_are_refused_with_the_file_named(run, rows, reason):
    (run / rundir.SNAPSHOTS).mkdir()
    np.save(run / rundir.SNAPSHOTS / rundir.SNAPSHOT_ROWS, rows)
    with pytest.raises(RunNotReadyError, match=f"^snapshots/rows.npy {reason}"):
        snapshots.load_snapshot_rows(run)


def test_a_snapshot_reads_back_as_float32_of_its_rows_by_z_dim_from_either_row_count(run):
    z = np.random.default_rng(1).normal(size=(3, 4))
    snapshots.write_snapshot_rows(run, [1, 4, 6])
    snapshots.write_snapshot(run, 5, z)
    assert np.load(run / rundir.SNAPSHOTS / "epoch_005.npy").dtype == np.float32
    for n_rows in (None, 3):
        read = snapshots.load_snapshot(run, 5, n_rows=n_rows)
        assert isinstance(read, np.memmap)  # as documented: a long run's snapshots are not all held in memory
        assert read.dtype == np.float32 and read.shape == (3, 4)
        np.testing.assert_array_equal(read, z.astype(np.float32))
    with pytest.raises(
        RunNotReadyError, match=r"^snapshots/epoch_005.npy must be float32 2 x 4, found float32 \(3, 4\)"
    ):
        snapshots.load_snapshot(run, 5, n_rows=2)


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        (np.zeros((3, 4), dtype=np.float64), r"must be float32 3 x 4, found float64 \(3, 4\)"),
        (np.zeros((3, 5), dtype=np.float32), r"must be float32 3 x 4, found float32 \(3, 5\)"),
        (np.zeros((4, 4), dtype=np.float32), r"must be float32 3 x 4, found float32 \(4, 4\)"),
        (np.array([[0, 0, 0, 0], [0, np.inf, 0, 0], [0, 0, 0, 0]], np.float32), "contains NaN or inf values"),
        (np.array([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, np.nan]], np.float32), "contains NaN or inf values"),
    ],
)
def test_a_snapshot_of_another_shape_type_or_with_nan_is_refused_naming_its_epoch(run, written, reason):
    snapshots.write_snapshot_rows(run, [0, 1, 2])
    np.save(run / rundir.SNAPSHOTS / "epoch_012.npy", written)
    with pytest.raises(RunNotReadyError, match=f"^snapshots/epoch_012.npy {reason}"):
        snapshots.load_snapshot(run, 12)
    if "NaN" in reason:
        with pytest.raises(RunNotReadyError, match="the model diverged at epoch 12$"):
            snapshots.load_snapshot(run, 12)


def test_a_resume_removes_exactly_the_snapshots_after_its_epoch(run):
    for epoch in (1, 2, 3, 5):
        snapshots.write_snapshot(run, epoch, np.zeros((2, 4)))
    assert snapshots.remove_snapshots_after(run, 2) == [3, 5]
    assert snapshots.snapshot_epochs(run) == [1, 2]
    assert snapshots.remove_snapshots_after(run, 2) == []
