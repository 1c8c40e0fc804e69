"""The ``tf.data`` pipelines that feed training and encoding from a source's uint8 cache."""

from __future__ import annotations

import numpy as np

from models.data.source import ImageSource


def make_dataset(source: ImageSource, batch_size: int, shuffle: bool = True, seed: int = 0, repeat: bool = False):
    """Return a ``tf.data.Dataset`` of float32 batches in [0, 1], shape ``(B, S, S, 3)``.

    The pipeline shuffles row *indices* (not pixels), batches them, and gathers
    each batch from the decoded uint8 cache, which may be a memory map larger
    than RAM; gathering and prefetching run in parallel with the model.

    Parameters
    ----------
    source : ImageSource
        From :func:`models.data.open_source`.
    batch_size : int
        Images per batch; the last batch may be smaller.
    shuffle : bool
        Reshuffle every epoch (seeded by ``seed``); False keeps row order, as encoding needs.
    seed : int
        Shuffle seed.
    repeat : bool
        Repeat forever (for ``steps_per_epoch`` style training).
    """
    from models.runtime import start_tensorflow

    tf = start_tensorflow()
    _check_batch_size(batch_size)
    rows = tf.data.Dataset.range(len(source))
    if shuffle:
        rows = rows.shuffle(len(source), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        rows = rows.repeat()
    return _gather_batches(rows.batch(batch_size), source)


def make_training_dataset(
    source: ImageSource, batch_size: int, seed: int, first_epoch: int, epochs: int, rows: np.ndarray | None = None
):
    """Batches for epochs ``first_epoch + 1`` .. ``epochs``, each epoch in an order fixed by ``(seed, epoch)``.

    Every epoch is a permutation computed by a stateless shuffle
    (``tf.random.experimental.index_shuffle``) from the seed and the epoch
    number, then cut into batches (the last of each epoch may be smaller). So
    the order does not depend on how many devices split the batches (under
    ``tf.distribute`` a stateful ``Dataset.shuffle`` is rewritten and draws
    another order), and a resumed run sees the same batches as one that was never
    interrupted. Train on it with ``steps_per_epoch=ceil(len(rows) / batch_size)``.

    Parameters
    ----------
    source : ImageSource
        The training images.
    batch_size : int
        The global batch size.
    seed : int
        The run's seed.
    first_epoch : int
        Epochs already trained (0 for a fresh run).
    epochs : int
        The last epoch to serve.
    rows : ndarray of int, optional
        The source rows to train on (its train split, :func:`models.splits.training_rows`); default all.
    """
    from models.runtime import start_tensorflow

    tf = start_tensorflow()
    _check_batch_size(batch_size)
    chosen = None if rows is None else np.asarray(rows, dtype=np.int64)
    count = len(source) if chosen is None else len(chosen)

    def epoch_batches(epoch):
        key = tf.stack([tf.constant(seed, tf.int64), epoch])
        positions = tf.data.Dataset.range(count).map(
            lambda position: tf.random.experimental.index_shuffle(position, key, max_index=count - 1)
        )
        return positions.batch(batch_size)

    batches = tf.data.Dataset.range(first_epoch + 1, epochs + 1).flat_map(epoch_batches)
    return _gather_batches(batches, source, chosen)


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")


def _gather_batches(row_batches, source: ImageSource, chosen: np.ndarray | None = None):
    """Map batches of row indices (positions in ``chosen``, when given) to float32 image batches of the source."""
    import tensorflow as tf

    images = source.images()
    size = source.image_size

    def gather(rows: np.ndarray) -> np.ndarray:
        # Positions in ``chosen`` become source rows here. Reading rows in ascending order is sequential on
        # the memory map; the batch's order does not matter to the model, its membership does.
        rows = rows if chosen is None else chosen[rows]
        return np.asarray(images[np.sort(rows)])

    def to_float(rows):
        batch = tf.numpy_function(gather, [rows], tf.uint8, stateful=False)
        batch = tf.ensure_shape(batch, [None, size, size, 3])
        return tf.cast(batch, tf.float32) / 255.0

    return row_batches.map(to_float, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
