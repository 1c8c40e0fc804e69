"""Tiny run directories for the dashboard tests: an AE-like run, a VAE-like run and a broken one.

The decoders are real (tiny) Keras models built here, so these tests do not
depend on the training code; z-points are synthetic filaments / Gaussians.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rundir import write_status
from tools.fixtures import tiny_encoder

Z_DIM = 8
IMAGE_SIZE = 32
N_POINTS = 600


def _decoder(seed: int):
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((Z_DIM,))
    x = keras.layers.Dense(8 * 8 * 8, activation="relu")(inputs)
    x = keras.layers.Reshape((8, 8, 8))(x)
    x = keras.layers.Conv2DTranspose(3, 3, strides=4, padding="same", activation="sigmoid")(x)
    return keras.Model(inputs, x, name="decoder")


def make_run(root: Path, name: str, model: str, z: np.ndarray, seed: int) -> Path:
    """Write a complete run directory with a tiny decoder, z-points and metadata."""
    run = root / name
    run.mkdir(parents=True)
    config = {
        "schema_version": 1,
        "model": model,
        "z_dim": Z_DIM,
        "image_size": IMAGE_SIZE,
        "channels": 3,
        "data": f"synthetic:{len(z)}",
        "seed": 0,
    }
    (run / "config.json").write_text(json.dumps(config))
    np.save(run / "zpoints.npy", z.astype(np.float32))
    rng = np.random.default_rng(seed)
    pd.DataFrame(
        {
            "row": np.arange(len(z)),
            "id": [f"img{r:05d}" for r in range(len(z))],
            "source": [f"synthetic:0:{r}" for r in range(len(z))],
            "split": "train",
            "smiling": rng.choice([-1, 1], len(z)),
            "pose": rng.normal(size=len(z)).astype(np.float32),
        }
    ).to_parquet(run / "metadata.parquet")
    _decoder(seed).save(run / "decoder.keras")
    # The sampler lab re-encodes decoded samples: an (untrained) encoder of the right shape.
    tiny_encoder(Z_DIM, IMAGE_SIZE, model, seed=seed).save(run / "encoder.keras")
    pd.DataFrame({"epoch": [1, 2], "loss": [0.7, 0.6], "val_loss": [0.72, 0.65]}).to_csv(
        run / "history.csv", index=False
    )
    write_status(run, "complete")
    return run


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    """A runs folder: ``ae`` (filaments), ``vae`` (Gaussian) and ``broken`` (truncated z-points)."""
    from tools.synthetic import filament_cloud

    root = tmp_path_factory.mktemp("runs")
    filaments = filament_cloud(6, N_POINTS // 6, Z_DIM, noise=0.02, random_state=0)
    make_run(root, "ae", "ae", np.asarray(filaments) * 2.0, seed=1)
    make_run(root, "vae", "vae", np.random.default_rng(2).normal(size=(N_POINTS, Z_DIM)), seed=2)
    broken = make_run(root, "broken", "ae", np.zeros((50, Z_DIM)), seed=3)
    data = (broken / "zpoints.npy").read_bytes()
    (broken / "zpoints.npy").write_bytes(data[: len(data) // 2])
    return root


@pytest.fixture(scope="session")
def dash_app(runs_dir, tmp_path_factory):
    """The dashboard for ``runs_dir`` with a small plane budget, so the raster path is reachable."""
    from app.factory import create_app

    return create_app(runs_dir, cache_dir=tmp_path_factory.mktemp("flask-cache"), plane_budget=400)


@pytest.fixture(scope="session")
def store(dash_app):
    """The RunStore the callbacks of ``dash_app`` use."""
    return dash_app.zspace_store


#: The series fixture's snapshot epochs and rows (a few, so its analyses stay quick).
SNAPSHOT_EPOCHS, SNAPSHOT_ROWS = (1, 2, 3), 200


@pytest.fixture(scope="session")
def series_dir(tmp_path_factory) -> Path:
    """A runs folder holding a sweep folder ``betas`` of three runs (β 0, 1, 4) without training anything.

    ``betas/beta-1`` has snapshots of :data:`SNAPSHOT_ROWS` rows after the epochs :data:`SNAPSHOT_EPOCHS`:
    its final z-points shrunk towards their mean the earlier the epoch, so the plane of each epoch differs.
    """
    from rundir import snapshots, sweep

    root = tmp_path_factory.mktemp("series-runs")
    folder = root / "betas"
    folder.mkdir()
    betas = [0.0, 1.0, 4.0]
    manifest = sweep.new_manifest({"data": f"synthetic:{N_POINTS}"}, betas)
    for member in manifest["members"]:
        member["state"] = "complete"
    sweep.write_sweep(folder, manifest)
    rng = np.random.default_rng(11)
    for k, beta in enumerate(betas):
        scale = 1.0 / (1.0 + beta)  # a larger β pulls the posteriors' means in
        make_run(folder, sweep.member_name(beta), sweep.model_of(beta), rng.normal(size=(N_POINTS, Z_DIM)) * scale, k)
    run = folder / "beta-1"
    final = np.load(run / "zpoints.npy")
    rows = np.sort(rng.choice(N_POINTS, size=SNAPSHOT_ROWS, replace=False))
    snapshots.write_snapshot_rows(run, rows)
    for epoch in SNAPSHOT_EPOCHS:
        shrink = epoch / SNAPSHOT_EPOCHS[-1]
        snapshots.write_snapshot(run, epoch, final[rows] * shrink + 0.01 * rng.normal(size=(SNAPSHOT_ROWS, Z_DIM)))
    return root
