"""A run's decoder and encoder as numpy functions, in bounded batches.

Both are loaded through :mod:`models.codecs` (the loader every decoding path
shares: Keras with ``safe_mode=True``, SavedModel or ONNX, checked against the
run's config) once per process; a process keeps at most
:data:`CODECS_KEPT` runs' models, reloading a run whose weights changed.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

import rundir

#: Images per decoder or encoder call: bounds the memory of one call (128 x 96 x 96 x 3 float32 = 14 MB).
BATCH = 128
#: Runs whose models stay loaded per process (least recently used dropped first).
CODECS_KEPT = 4


class Codec:
    """Decode z to images and encode images to z with one run's models.

    Attributes
    ----------
    run : Path
    variational : bool
        True for a VAE (its encoder's mean is the z-point, as ``zspace encode`` stores it).
    z_dim, image_size : int
    """

    def __init__(self, run: Path, encoder, decoder, config: dict):
        self.run = run
        self.variational = config["model"] == "vae"
        self.z_dim = int(config["z_dim"])
        self.image_size = int(config["image_size"])
        # models.codecs functions: z -> images in [0, 1]; uint8 images -> (z, logvar), z a VAE's mean,
        # fed exactly as ``zspace encode`` feeds the encoder.
        self._decode = decoder
        self._encode = encoder

    def decode(self, z) -> np.ndarray:
        """Images of ``z`` (n x z_dim) as float32 (n, S, S, 3) in [0, 1]."""
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.z_dim)
        out = np.empty((len(z), self.image_size, self.image_size, 3), dtype=np.float32)
        for start in range(0, len(z), BATCH):
            out[start : start + BATCH] = self._decode(z[start : start + BATCH])
        return out

    def encode(self, images) -> np.ndarray:
        """z-points (n x z_dim float32) of uint8 images, as ``zspace encode`` computes them (mean for a VAE)."""
        images = np.asarray(images, dtype=np.uint8)
        out = np.empty((len(images), self.z_dim), dtype=np.float32)
        for start in range(0, len(images), BATCH):
            out[start : start + BATCH] = self._encode(images[start : start + BATCH])[0]
        return out


def to_uint8(images) -> np.ndarray:
    """float images in [0, 1] -> uint8, as a training image is stored (the encoder only ever saw those)."""
    return np.clip(np.rint(np.asarray(images, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


_LOADED: OrderedDict[tuple, Codec] = OrderedDict()
_LOCK = threading.Lock()


def load_codec(run: str | os.PathLike) -> Codec:
    """The run's :class:`Codec`, loaded once per process and again when its weight files change."""
    from models.codecs import load_decoder_function, load_encoder_function

    run = Path(run)
    config = rundir.read_config(run)
    names = [rundir.model_file(config, part) for part in ("encoder", "decoder")]
    stamps = tuple(_stamp(run / name) if name else 0 for name in names)
    key = (str(run.resolve()), stamps)
    with _LOCK:
        if key in _LOADED:
            _LOADED.move_to_end(key)
            return _LOADED[key]
        codec = Codec(run, load_encoder_function(run), load_decoder_function(run), config)
        _LOADED[key] = codec
        while len(_LOADED) > CODECS_KEPT:
            _LOADED.popitem(last=False)
        return codec


def _stamp(path: Path) -> int:
    """When a model file (or a SavedModel folder's graph) last changed; 0 when missing."""
    path = path / "saved_model.pb" if path.suffix == ".savedmodel" else path
    return path.stat().st_mtime_ns if path.exists() else 0
