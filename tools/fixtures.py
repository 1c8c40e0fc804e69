"""Small but real run directories for the load benchmark and the reliability tests.

``make_demo_runs(root)`` writes an AE-like run (z-points on filaments), a
VAE-like run (Gaussian z-points) and one broken run (truncated z-points) in a
few seconds: the decoders are tiny, untrained Keras models, which is all the
server needs to exercise its real decode path. Every file is written through
:mod:`rundir.atomic`, as the training worker writes them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import rundir
from rundir.atomic import atomic_path, atomic_save_npy, atomic_write_json, atomic_write_parquet, atomic_write_text

#: Names of the runs :func:`make_demo_runs` writes, and whether the dashboard can show each.
DEMO_RUNS = {"bench-ae": True, "bench-vae": True, "bench-broken": False}


def tiny_decoder(z_dim: int, image_size: int, channels: int = 3, seed: int = 0):
    """An untrained Keras decoder: ``z (B x z_dim)`` -> images ``B x S x S x C`` in [0, 1]."""
    from models.runtime import start_tensorflow

    start_tensorflow()
    import keras

    if image_size % 4:
        raise ValueError("image_size must be a multiple of 4")
    keras.utils.set_random_seed(seed)
    side = image_size // 4
    inputs = keras.Input((z_dim,))
    x = keras.layers.Dense(side * side * 8, activation="relu")(inputs)
    x = keras.layers.Reshape((side, side, 8))(x)
    x = keras.layers.Conv2DTranspose(channels, 3, strides=4, padding="same", activation="sigmoid")(x)
    return keras.Model(inputs, x, name="decoder")


def tiny_encoder(z_dim: int, image_size: int, model: str, channels: int = 3, seed: int = 0):
    """An untrained Keras encoder: images ``B x S x S x C`` -> ``z`` (AE) or ``[mu, logvar]`` (VAE)."""
    from models.runtime import start_tensorflow

    start_tensorflow()
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((image_size, image_size, channels))
    x = keras.layers.Conv2D(4, 3, strides=4, padding="same", activation="relu")(inputs)
    x = keras.layers.Flatten()(x)
    if model == "vae":
        outputs = [keras.layers.Dense(z_dim, name="mu")(x), keras.layers.Dense(z_dim, name="logvar")(x)]
    else:
        outputs = keras.layers.Dense(z_dim, name="z")(x)
    return keras.Model(inputs, outputs, name="encoder")


def write_run(
    root: str | os.PathLike, name: str, model: str, z: np.ndarray, image_size: int = 32, seed: int = 0
) -> Path:
    """Write a complete run directory ``root/name`` (config, status, decoder, z-points, metadata, history).

    Parameters
    ----------
    root : path-like
        The runs folder.
    name : str
        Run (folder) name.
    model : {"ae", "vae"}
    z : ndarray, shape (N, z_dim)
        The z-points to store (saved as float32).
    image_size : int
        Side of the decoded images (a multiple of 4).
    seed : int
        Seed of the decoder weights and of the metadata columns.
    """
    import pandas as pd

    run = Path(root) / name
    run.mkdir(parents=True, exist_ok=True)
    z = np.asarray(z, dtype=np.float32)
    n, z_dim = z.shape
    config = {
        "schema_version": rundir.SCHEMA_VERSION,
        "model": model,
        "z_dim": int(z_dim),
        "image_size": int(image_size),
        "channels": 3,
        "data": f"synthetic:{n}",
        "seed": int(seed),
    }
    atomic_write_json(run / rundir.CONFIG, config)
    atomic_save_npy(run / rundir.ZPOINTS, z)
    gen = np.random.default_rng(seed)
    metadata = pd.DataFrame(
        {
            "row": np.arange(n),
            "id": [f"img{r:06d}" for r in range(n)],
            "source": [f"synthetic/{r}" for r in range(n)],
            "split": "train",
            "smiling": gen.choice([-1, 1], n).astype(np.int8),
            "pose": gen.normal(size=n).astype(np.float32),
        }
    )
    atomic_write_parquet(run / rundir.METADATA, metadata)
    with atomic_path(run / rundir.DECODER, suffix=".keras") as tmp:
        tiny_decoder(int(z_dim), int(image_size), seed=seed).save(tmp)
    with atomic_path(run / rundir.ENCODER, suffix=".keras") as tmp:
        tiny_encoder(int(z_dim), int(image_size), model, seed=seed).save(tmp)
    atomic_write_text(run / rundir.HISTORY, "epoch,loss,val_loss\n1,0.70,0.72\n2,0.60,0.65\n")
    rundir.write_status(run, "complete", epoch=2, epochs=2)
    return run


def make_demo_runs(root: str | os.PathLike, n_points: int = 600, z_dim: int = 8, image_size: int = 32) -> Path:
    """Write the runs of :data:`DEMO_RUNS` under ``root`` and return ``root``.

    ``bench-ae`` holds points on filaments, ``bench-vae`` standard-normal
    points, ``bench-broken`` a truncated ``zpoints.npy`` (listed with its
    reason, never served).
    """
    from tools.synthetic import filament_cloud

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    per_curve = max(1, n_points // 6)
    filaments = np.asarray(filament_cloud(6, per_curve, z_dim, noise=0.02, random_state=0)) * 2.0
    write_run(root, "bench-ae", "ae", filaments, image_size, seed=1)
    gaussian = np.random.default_rng(2).normal(size=(n_points, z_dim))
    write_run(root, "bench-vae", "vae", gaussian, image_size, seed=2)
    broken = write_run(root, "bench-broken", "ae", np.zeros((50, z_dim)), image_size, seed=3)
    data = (broken / rundir.ZPOINTS).read_bytes()
    # Deliberately not atomic: this imitates the half-written file of a killed writer.
    (broken / rundir.ZPOINTS).write_bytes(data[: len(data) // 2])
    return root
