"""A run's snapshots: the same rows encoded after every few training epochs (``zspace train --snapshot-every``).

``snapshots/rows.npy`` (int64, sorted, written once) names the rows of the
training source; ``snapshots/epoch_NNN.npy`` (float32, len(rows) x z_dim; a
VAE's mean) holds their z-points after epoch NNN. Every file is written
atomically, so a reader sees a whole snapshot or none; the training worker
writes a snapshot before the epoch's checkpoint, so a resumed run never lacks
the snapshot of an epoch it does not repeat.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from rundir.atomic import atomic_save_npy
from rundir.errors import RunNotReadyError
from rundir.files import npy_header, read_config
from rundir.layout import SNAPSHOT_ROWS, SNAPSHOTS

_SNAPSHOT_FILE = re.compile(r"epoch_(\d{3,6})\.npy")


def snapshot_name(epoch: int) -> str:
    """File name of the snapshot taken after ``epoch`` (1-based) finished."""
    return f"epoch_{int(epoch):03d}.npy"


def snapshot_epochs(run: str | os.PathLike) -> list[int]:
    """The epochs a run has snapshots of, ascending (empty without snapshots)."""
    folder = Path(run) / SNAPSHOTS
    if not folder.is_dir():
        return []
    found = (_SNAPSHOT_FILE.fullmatch(path.name) for path in folder.iterdir())
    return sorted(int(match.group(1)) for match in found if match)


def load_snapshot_rows(run: str | os.PathLike) -> np.ndarray:
    """The source rows every snapshot encodes (int64, sorted, unique).

    Raises
    ------
    RunNotReadyError
        When the file is missing, damaged or not a sorted list of distinct rows.
    """
    path = Path(run) / SNAPSHOTS / SNAPSHOT_ROWS
    shape, dtype = npy_header(path)
    if len(shape) != 1 or dtype.kind not in "iu" or shape[0] < 1:
        raise RunNotReadyError(f"snapshots/{SNAPSHOT_ROWS} must be a 1-D list of rows, found {shape} {dtype}")
    rows = np.load(path, allow_pickle=False).astype(np.int64)
    if rows[0] < 0 or np.any(np.diff(rows) <= 0):
        raise RunNotReadyError(f"snapshots/{SNAPSHOT_ROWS} must hold distinct rows in ascending order")
    return rows


def load_snapshot(run: str | os.PathLike, epoch: int, n_rows: int | None = None) -> np.ndarray:
    """The z-points of the snapshot rows after ``epoch`` (float32, n_rows x z_dim, memory-mapped).

    Parameters
    ----------
    run : path-like
    epoch : int
    n_rows : int, optional
        Expected number of rows (``len(load_snapshot_rows(run))``); read from the rows file when omitted.

    Raises
    ------
    RunNotReadyError
        When the snapshot is missing, damaged, of another shape or holds NaN / inf.
    """
    run = Path(run)
    name = snapshot_name(epoch)
    path = run / SNAPSHOTS / name
    shape, dtype = npy_header(path)
    rows = len(load_snapshot_rows(run)) if n_rows is None else int(n_rows)
    z_dim = int(read_config(run)["z_dim"])
    if shape != (rows, z_dim) or dtype != np.float32:
        raise RunNotReadyError(f"snapshots/{name} must be float32 {rows} x {z_dim}, found {dtype} {shape}")
    z = np.load(path, mmap_mode="r", allow_pickle=False)
    if not np.isfinite(z).all():
        raise RunNotReadyError(f"snapshots/{name} contains NaN or inf values; the model diverged at epoch {epoch}")
    return z


def write_snapshot_rows(run: str | os.PathLike, rows) -> None:
    """Record the snapshot rows (atomically)."""
    atomic_save_npy(Path(run) / SNAPSHOTS / SNAPSHOT_ROWS, np.asarray(rows, dtype=np.int64))


def write_snapshot(run: str | os.PathLike, epoch: int, z) -> None:
    """Write the snapshot of ``epoch`` (atomically, float32)."""
    atomic_save_npy(Path(run) / SNAPSHOTS / snapshot_name(epoch), np.asarray(z, dtype=np.float32))


def remove_snapshots_after(run: str | os.PathLike, epoch: int) -> list[int]:
    """Delete snapshots of epochs after ``epoch`` (a resumed run trains them again); return their epochs."""
    removed = [later for later in snapshot_epochs(run) if later > epoch]
    for later in removed:
        (Path(run) / SNAPSHOTS / snapshot_name(later)).unlink(missing_ok=True)
    return removed
