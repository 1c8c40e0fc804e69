"""The per-process decoder service: z-vectors in, uint8 images out.

Each run's decoder is loaded once per process through :mod:`models.codecs`
(the one loader of every decoding path: a trained run's ``.keras`` file with
``safe_mode=True``, or an imported run's Keras, SavedModel or ONNX file) as a
numpy function; a Keras decoder runs as a ``tf.function`` with a fixed input
signature, ~1.5 ms per z where ``model.predict`` costs ~41 ms. At most
:data:`DECODERS_KEPT` decoders stay loaded (least recently used dropped), so a
server that shows many runs does not grow without bound. :meth:`DecoderService.warm`
loads TensorFlow and the listed runs' decoders in a background thread when the
server starts, so the first click does not wait for them. The service holds
nothing user-specific. TensorFlow is started by that loader, lazily, never by ``app/`` itself.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

import rundir
from rundir.errors import ZspaceError

log = logging.getLogger(__name__)

#: Decoders (with their traced functions) kept loaded per process.
DECODERS_KEPT = 4


class DecoderService:
    """Decode z-vectors with each run's decoder, loaded and traced once per process."""

    def __init__(self, kept: int = DECODERS_KEPT):
        self.kept = int(kept)
        self._functions: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._lock = threading.Lock()
        self._warming = threading.Event()

    @property
    def loaded(self) -> int:
        """How many decoders are loaded in this process."""
        return len(self._functions)

    @property
    def warming(self) -> bool:
        """True while :meth:`warm` is still loading TensorFlow and decoders."""
        return self._warming.is_set()

    def _function(self, run_path: Path, fingerprint: str):
        key = (str(run_path), fingerprint)
        with self._lock:
            if key in self._functions:
                self._functions.move_to_end(key)
                return self._functions[key]
            from models.codecs import load_decoder_function

            function = load_decoder_function(Path(run_path))
            function(np.zeros((1, function.z_dim), dtype=np.float32))  # trace now, not on the first click
            self._functions[key] = function
            while len(self._functions) > self.kept:
                self._functions.popitem(last=False)
            return function

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
        images = self._function(run_path, fingerprint)(z)  # float32 in [0, 1]
        return np.rint(images * 255.0).astype(np.uint8)

    def warm(self, runs: list[tuple[Path, str]]) -> threading.Thread:
        """Load TensorFlow and the decoders of ``runs`` ((path, fingerprint) pairs) in a background thread.

        Runs without a decoder (z-points imported alone) are passed over; runs beyond
        :data:`DECODERS_KEPT` are not loaded (they would evict each other).
        """

        def work():
            try:
                with_decoder = [(path, key) for path, key in runs if _has_decoder(Path(path))]
                for run_path, fingerprint in with_decoder[: self.kept]:
                    try:
                        self._function(run_path, fingerprint)
                    except Exception:  # a broken decoder is reported on its first click, not here
                        log.warning("could not pre-load the decoder of %s", Path(run_path).name, exc_info=True)
            finally:
                self._warming.clear()

        self._warming.set()
        thread = threading.Thread(target=work, name="zspace-decoder-warm-up", daemon=True)
        thread.start()
        return thread


def _has_decoder(run_path: Path) -> bool:
    try:
        return rundir.has_decoder(rundir.read_config(run_path))
    except ZspaceError:
        return True  # the load reports what is wrong
