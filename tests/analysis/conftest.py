"""Fixtures for the analysis tests: fabricated run directories (no model needed)."""

import os

import numpy as np
import pandas as pd
import pytest

import rundir
from rundir.atomic import atomic_save_npy, atomic_write_json

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def write_run(path, z, model="ae", state="complete"):
    """Write a complete run directory around the z-points ``z`` (empty decoder: analyze does not need it)."""
    path.mkdir(parents=True, exist_ok=True)
    z = np.asarray(z, dtype=np.float32)
    config = {"schema_version": 1, "model": model, "z_dim": int(z.shape[1]), "image_size": 32, "channels": 3}
    atomic_write_json(path / rundir.CONFIG, config)
    rundir.write_status(path, state)
    atomic_save_npy(path / rundir.ZPOINTS, z)
    pd.DataFrame({"row": np.arange(len(z)), "id": [f"img{i}" for i in range(len(z))]}).to_parquet(
        path / rundir.METADATA
    )
    (path / rundir.DECODER).write_bytes(b"")
    return path


@pytest.fixture
def small_run(tmp_path):
    """A run with 300 z-points in 8 dimensions (axis 3 shifted, like the seed's off-centre axes)."""
    z = np.random.default_rng(0).normal(size=(300, 8))
    z[:, 3] = 5.0 + 4.0 * z[:, 3]
    return write_run(tmp_path / "small", z)


@pytest.fixture
def make_run():
    """The :func:`write_run` helper, for tests that need their own z-points."""
    return write_run


def mapped_points(path, n: int, d: int, seed: int) -> np.ndarray:
    """``n`` x ``d`` standard-normal float32 points saved to ``path`` and opened read-only, memory-mapped,
    as a run's z-points are."""
    z = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    z[:] = np.random.default_rng(seed).normal(size=(n, d))
    z.flush()
    return np.load(path, mmap_mode="r")


def peak_bytes(call):
    """``(call(), the most memory numpy and Python held at once during it)``, as tracemalloc traces it."""
    import tracemalloc

    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
