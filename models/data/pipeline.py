"""The ``tf.data`` pipeline that feeds training and encoding from a source's uint8 cache."""

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
    import tensorflow as tf

    images = source.images()
    count, size = len(source), source.image_size
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")

    def gather(rows: np.ndarray) -> np.ndarray:
        # Reading rows in ascending order is sequential on the memory map; the
        # batch's order does not matter to the model, its membership does.
        return np.asarray(images[np.sort(rows)])

    def to_float(rows):
        batch = tf.numpy_function(gather, [rows], tf.uint8, stateful=False)
        batch = tf.ensure_shape(batch, [None, size, size, 3])
        return tf.cast(batch, tf.float32) / 255.0

    dataset = tf.data.Dataset.range(count)
    if shuffle:
        dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size).map(to_float, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)
