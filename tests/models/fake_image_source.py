"""A tiny in-memory image source with the ``models.data`` API, so model tests do not depend on data generation.

``install()`` puts a stand-in ``models.data`` module into ``sys.modules``: ``open_source("fake:N")``
returns N random-blob images with a ``smile`` factor; ``make_dataset`` batches them as float32 in [0, 1];
``make_training_dataset`` is the real one.
Subprocess tests call ``install()`` before ``zspace.cli.main``.
"""

from __future__ import annotations

import sys
import types

import numpy as np
import pandas as pd

from models.data.pipeline import make_training_dataset
from rundir.errors import ZspaceError


class FakeSource:
    """N smooth random images (S x S x 3 uint8) with metadata rows like the real sources."""

    def __init__(self, n: int, image_size: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        yy, xx = np.mgrid[0:image_size, 0:image_size] / image_size
        centres = rng.random((n, 2))
        radius = 0.15 + 0.2 * rng.random(n)
        inside = (yy[None] - centres[:, 0, None, None]) ** 2 + (xx[None] - centres[:, 1, None, None]) ** 2
        blob = inside < radius[:, None, None] ** 2
        colour = rng.integers(40, 255, (n, 3))
        self._images = np.where(blob[..., None], colour[:, None, None, :], 20).astype(np.uint8)
        self.image_size = image_size
        self.spec = f"fake:{n}"
        self.skipped = 0
        self.metadata = pd.DataFrame(
            {"row": np.arange(n), "id": [f"fake-{i:05d}" for i in range(n)], "source": "fake", "split": "train",
             "smile": radius}
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self._images)

    def images(self) -> np.ndarray:
        return self._images

    def load_image(self, row: int) -> np.ndarray:
        return self._images[row]

    def batches(self, batch_size: int):
        for start in range(0, len(self), batch_size):
            yield self._images[start : start + batch_size]

    def skip_summary(self):
        return None


def open_source(spec: str, image_size: int = 64, seed: int = 0) -> FakeSource:
    kind, _, count = spec.partition(":")
    if kind != "fake":
        raise ZspaceError(f"unknown data source {spec!r}")
    return FakeSource(int(count or 100), image_size, seed)


def make_dataset(source, batch_size: int, shuffle: bool = True, seed: int = 0):
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(source.images())
    if shuffle:
        dataset = dataset.shuffle(len(source), seed=seed)
    return dataset.batch(batch_size).map(lambda x: tf.cast(x, tf.float32) / 255.0).prefetch(2)


def fake_module() -> types.ModuleType:
    """A module object with this fake's ``open_source`` and ``make_dataset``."""
    module = types.ModuleType("models.data")
    module.open_source, module.make_dataset = open_source, make_dataset
    # The real training pipeline: it only needs ``images()``, ``image_size`` and ``len`` from the source.
    module.make_training_dataset = make_training_dataset
    return module


def install() -> None:
    """Make ``models.data`` this module's fake for the rest of the process."""
    sys.modules["models.data"] = fake_module()
