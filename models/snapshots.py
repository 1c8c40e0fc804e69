"""Snapshots while training: the same rows of the training source encoded after every few epochs.

``zspace train --snapshot-every E [--snapshot-n N]`` draws N rows once (seeded
by the run's seed, sorted; recorded in ``snapshots/rows.npy``) and after every
E-th epoch, and after the last, encodes them with the model as it stands into
``snapshots/epoch_NNN.npy`` (a VAE's mean, as ``zspace encode`` stores z). The
file layout and its readers are :mod:`rundir.snapshots`.

A snapshot is written before the epoch's checkpoint (:class:`SnapshotRecorder`
runs before the run recorder), so a run killed in between repeats that epoch
on ``--resume`` and rewrites the snapshot; snapshots of epochs after the
resumed checkpoint are removed when training resumes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from models.runtime import start_tensorflow

start_tensorflow()

import keras  # noqa: E402 - after TensorFlow started with its C++ start-up logs filtered

import rundir  # noqa: E402
from rundir.errors import ZspaceError  # noqa: E402
from rundir.snapshots import (  # noqa: E402
    load_snapshot_rows,
    remove_snapshots_after,
    write_snapshot,
    write_snapshot_rows,
)

#: Images per encoder call while taking a snapshot.
BATCH = 256
#: Second part of the seed of the snapshot rows (the first is the run's seed).
ROWS_STREAM = 0x5A9


def snapshot_rows(n_images: int, n: int, seed: int) -> np.ndarray:
    """The ``n`` rows (of ``n_images``) a run's snapshots encode: seeded by the run's seed, sorted, distinct."""
    if n >= n_images:
        return np.arange(n_images, dtype=np.int64)
    picked = np.random.default_rng([int(seed), ROWS_STREAM]).choice(n_images, size=int(n), replace=False)
    return np.sort(picked).astype(np.int64)


def snapshot_due(epoch: int, every: int, epochs: int) -> bool:
    """Whether a snapshot follows ``epoch`` (1-based): every ``every``-th epoch, and the last one."""
    return epoch % int(every) == 0 or epoch == int(epochs)


def prepare_rows(run: str | os.PathLike, config: dict[str, Any], n_images: int, initial_epoch: int) -> np.ndarray:
    """The snapshot rows of a run about to train from ``initial_epoch``.

    A fresh run records them; a resumed run reads them back (the same rows every
    time) and drops snapshots of epochs it is about to train again.

    Raises
    ------
    ZspaceError
        When a resumed run's recorded rows do not fit ``snapshot_n`` or the data.
    """
    run = Path(run)
    n = int(config["snapshot_n"])
    recorded = run / rundir.SNAPSHOTS / rundir.SNAPSHOT_ROWS
    if initial_epoch > 0 and recorded.exists():
        rows = load_snapshot_rows(run)
        if len(rows) != n or rows[-1] >= n_images:
            raise ZspaceError(
                f"the run's snapshots encode {len(rows):,} rows but --snapshot-n is {n:,} for {n_images:,} images; "
                "keep its --snapshot-n, or start over with --force"
            )
    else:
        rows = snapshot_rows(n_images, n, int(config["seed"]))
        remove_snapshots_after(run, 0)
        write_snapshot_rows(run, rows)
    remove_snapshots_after(run, initial_epoch)
    return rows


def encode_rows(model, source, rows: np.ndarray) -> np.ndarray:
    """z-points (float32, len(rows) x z_dim) of the source's ``rows`` under the model as it stands (VAE: the mean)."""
    images = source.images()
    out = np.empty((len(rows), int(model.architecture["z_dim"])), dtype=np.float32)
    for start in range(0, len(rows), BATCH):
        batch = np.asarray(images[rows[start : start + BATCH]], dtype=np.float32) / 255.0
        z, _ = model.encode(batch, training=False)
        out[start : start + len(batch)] = keras.ops.convert_to_numpy(z)
    return out


class SnapshotRecorder(keras.callbacks.Callback):
    """Writes ``snapshots/epoch_NNN.npy`` after each due epoch; list it before the callback that checkpoints."""

    def __init__(self, run: Path, source, rows: np.ndarray, every: int, epochs: int):
        super().__init__()
        self.run, self.source, self.rows = Path(run), source, rows
        self.every, self.epochs = int(every), int(epochs)

    def on_epoch_end(self, epoch, logs=None):
        finished = epoch + 1
        if snapshot_due(finished, self.every, self.epochs):
            write_snapshot(self.run, finished, encode_rows(self.model, self.source, self.rows))
