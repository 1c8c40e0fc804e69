"""Input checks shared by the analysis functions.

Every public function runs its array arguments through :func:`as_points` so
that odd input (a 1-D vector, NaN, an empty array) fails with one clear
``ValueError`` instead of an obscure numpy error deep inside a computation.
"""

from __future__ import annotations

import numpy as np

#: Rows per chunk when streaming over a (memory-mapped) array: 16k x 256 float64 = 32 MB.
CHUNK = 16384


def as_points(z, name: str = "z", min_points: int = 1, dtype=np.float64) -> np.ndarray:
    """Return ``z`` as a finite 2-D array (N x z_dim) of ``dtype``.

    Parameters
    ----------
    z : array_like
        Points, one per row. A 1-D array is read as N points in one dimension.
    name : str
        Name used in error messages.
    min_points : int
        Fewest rows the caller can work with.
    dtype : numpy dtype or None
        Dtype of the returned array (no copy when it already matches); None
        keeps the input's dtype, so a memory-mapped array is not copied.

    Raises
    ------
    ValueError
        If ``z`` is not numeric, not 1-D/2-D, has too few rows, no columns, or
        holds NaN or inf.
    """
    try:
        arr = np.asarray(z) if dtype is None else np.asarray(z, dtype=dtype)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array of points (N x z_dim)") from None
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be a numeric array of points (N x z_dim), got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (N x z_dim), got shape {arr.shape}")
    if arr.shape[1] < 1:
        raise ValueError(f"{name} has no dimensions (shape {arr.shape})")
    if arr.shape[0] < min_points:
        raise ValueError(f"{name} needs at least {min_points} point(s), got {arr.shape[0]}")
    if not all(np.isfinite(arr[i : i + CHUNK]).all() for i in range(0, len(arr), CHUNK)):
        raise ValueError(f"{name} contains NaN or inf values")
    return arr


def positive(value, name: str) -> float:
    """Return ``value`` as a float after checking it is finite and > 0."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value}")
    return value


def rng(random_state) -> np.random.Generator:
    """Return a numpy Generator for an int seed, a Generator or None (never the global RNG)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(random_state)


def draw_ids(n_total: int, n: int | None, random_state) -> np.ndarray:
    """Return sorted row ids of ``n`` of ``n_total`` points drawn without replacement (all if ``n`` is None or larger)."""
    if n is None or n >= n_total:
        return np.arange(n_total, dtype=np.int64)
    if n < 1:
        raise ValueError(f"number of points must be at least 1, got {n}")
    return np.sort(rng(random_state).choice(n_total, size=int(n), replace=False)).astype(np.int64)
