"""Run directories for the run-contract tests: a minimal complete run, and ways to damage one.

No TensorFlow: the decoder is a stand-in ``.keras`` archive holding only the
JSON a real decoder carries, which is all that listing a run reads.
"""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd

import rundir
from rundir.atomic import atomic_save_npy, atomic_write_json


def make_run(path, n=20, z_dim=4, state="complete", **config_overrides):
    """Write a minimal complete run directory (no real decoder weights)."""
    path.mkdir(parents=True, exist_ok=True)
    config = {"schema_version": 1, "model": "ae", "z_dim": z_dim, "image_size": 32, "channels": 3}
    config.update(config_overrides)
    atomic_write_json(path / rundir.CONFIG, config)
    rundir.write_status(path, state)
    z = np.random.default_rng(0).normal(size=(n, z_dim)).astype(np.float32)
    atomic_save_npy(path / rundir.ZPOINTS, z)
    pd.DataFrame({"row": np.arange(n), "id": [f"img{i}" for i in range(n)]}).to_parquet(path / rundir.METADATA)
    write_decoder_archive(path / rundir.DECODER, z_dim=z_dim, image_size=32)
    return path


def write_decoder_archive(path, z_dim, image_size):
    """A stand-in ``.keras`` archive: the JSON a real decoder holds, without weights."""
    layers = [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, z_dim]}},
        {"class_name": "Dense", "config": {"units": 1024}},
        {"class_name": "Reshape", "config": {"target_shape": [image_size // 16, image_size // 16, 256]}},
        *[{"class_name": "Conv2DTranspose", "config": {"strides": [2, 2], "padding": "same"}}] * 4,
    ]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps({"config": {"layers": layers}}))


def edit_config(run, **changes) -> None:
    """Rewrite ``config.json`` with ``changes``; a value of ``...`` removes the key."""
    config = json.loads((run / rundir.CONFIG).read_text())
    config.update(changes)
    (run / rundir.CONFIG).write_text(json.dumps({k: v for k, v in config.items() if v is not ...}))


def write_npy_header(path, shape, descr="<f4") -> None:
    """Replace a ``.npy`` file by a bare header claiming ``shape`` (and 64 bytes of data)."""
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, {"descr": descr, "fortran_order": False, "shape": shape})
        handle.write(b"\0" * 64)
