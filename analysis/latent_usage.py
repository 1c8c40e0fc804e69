"""How much of the latent space a model uses: active units and the KL term of its posteriors.

Both are numbers along a β sweep and over training: a VAE with a heavy KL
weight switches units off (posterior collapse), which lowers the active units
and the KL together.
"""

from __future__ import annotations

import numpy as np

from analysis._checks import CHUNK, as_points

#: Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders" (ICLR 2016): a unit is active
#: when the variance of its posterior mean across the data exceeds 0.01.
ACTIVE_THRESHOLD = 0.01


def axis_variances(z) -> np.ndarray:
    """Per-axis variance of ``z`` (float64, shape (d,)), streamed in chunks over a memory-mapped array."""
    z = as_points(z, dtype=None, min_points=2)
    total = np.zeros(z.shape[1])
    for start in range(0, len(z), CHUNK):
        total += np.asarray(z[start : start + CHUNK], dtype=np.float64).sum(axis=0)
    mean = total / len(z)
    squares = np.zeros(z.shape[1])
    for start in range(0, len(z), CHUNK):
        squares += ((np.asarray(z[start : start + CHUNK], dtype=np.float64) - mean) ** 2).sum(axis=0)
    return squares / len(z)


def active_units(mu, threshold: float = ACTIVE_THRESHOLD) -> int:
    """Number of latent axes whose posterior mean varies across the data by more than ``threshold``.

    Parameters
    ----------
    mu : array_like, shape (N, d)
        The z-points (a VAE's posterior means, an AE's codes), N >= 2.
    threshold : float
        Variance above which an axis counts as active (:data:`ACTIVE_THRESHOLD`).
    """
    return int(np.sum(axis_variances(mu) > float(threshold)))


def mean_kl(mu, logvar) -> tuple[float, np.ndarray]:
    """Mean KL(N(mu, exp(logvar)) || N(0, I)) over the points, in nats: the total and per axis.

    Parameters
    ----------
    mu, logvar : array_like, shape (N, d)
        A VAE's posterior means and log-variances (``zpoints.npy`` and ``zlogvar.npy``).

    Returns
    -------
    total : float
        The mean over points of the KL summed over axes (the VAE loss's KL term).
    per_axis : ndarray of float64, shape (d,)
        Its share per axis (they sum to ``total``).
    """
    mu = as_points(mu, name="mu", dtype=None)
    logvar = as_points(logvar, name="logvar", dtype=None)
    if mu.shape != logvar.shape:
        raise ValueError(f"mu has shape {mu.shape} but logvar has {logvar.shape}")
    per_axis = np.zeros(mu.shape[1])
    for start in range(0, len(mu), CHUNK):
        m = np.asarray(mu[start : start + CHUNK], dtype=np.float64)
        lv = np.asarray(logvar[start : start + CHUNK], dtype=np.float64)
        per_axis += (0.5 * (m**2 + np.exp(lv) - 1.0 - lv)).sum(axis=0)
    per_axis /= len(mu)
    return float(per_axis.sum()), per_axis
