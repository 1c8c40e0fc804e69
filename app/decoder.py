"""The per-process decoder service: z-vectors in, uint8 images out.

Each run's decoder is loaded once per process (``safe_mode=True``) and wrapped
in a ``tf.function`` with a fixed input signature; calling that costs ~1.5 ms
per z where ``model.predict`` costs ~41 ms (its per-call setup dominates). The
service is shared by all users of a process and holds nothing user-specific.
TensorFlow is imported here, lazily, and nowhere else in ``app/``.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np


def load_decoder(run_path: Path):
    """Load a run's decoder with ``safe_mode=True``, checked against its config (``models.io``)."""
    from models.io import load_decoder as load_checked_decoder

    return load_checked_decoder(run_path)


class DecoderService:
    """Decode z-vectors with each run's decoder, loaded and traced once per process."""

    def __init__(self):
        self._functions: dict[tuple[str, str], object] = {}
        self._lock = threading.Lock()

    def _function(self, run_path: Path, fingerprint: str, z_dim: int):
        key = (str(run_path), fingerprint)
        with self._lock:
            if key not in self._functions:
                import tensorflow as tf

                model = load_decoder(Path(run_path))
                spec = tf.TensorSpec([None, int(z_dim)], tf.float32)
                self._functions[key] = tf.function(lambda z: model(z, training=False), input_signature=[spec])
            return self._functions[key]

    def decode(self, run_path: Path, fingerprint: str, z: np.ndarray) -> np.ndarray:
        """Decode ``z`` (B x z_dim, or one z_dim vector) to uint8 images (B x S x S x C).

        Parameters
        ----------
        run_path : Path
            The run directory (already resolved and validated).
        fingerprint : str
            Changes when the run's files change, so a retrained decoder is reloaded.
        z : ndarray
        """
        z = np.atleast_2d(np.asarray(z, dtype=np.float32))
        images = self._function(run_path, fingerprint, z.shape[1])(z).numpy()
        return np.clip(np.rint(images * 255.0), 0, 255).astype(np.uint8)

    def predict_baseline(self, model, z: np.ndarray) -> np.ndarray:
        """Decode with ``model.predict`` (the slow path the service avoids), for ``zspace bench app`` only."""
        return model.predict(np.atleast_2d(np.asarray(z, dtype=np.float32)), verbose=0)
