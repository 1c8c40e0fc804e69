"""Synthetic z-point clouds with known structure, for tests and benchmarks.

``filament_cloud`` imitates what the seed study found in an AE's latent space:
points on many thin, smooth, one-dimensional curves with large voids between
them, at the same overall radius as N(0, I) data.
"""

from __future__ import annotations

import numpy as np

from analysis._checks import rng


def filament_cloud(
    n_curves: int,
    points_per_curve: int,
    z_dim: int,
    noise: float = 1e-3,
    random_state=0,
    curve_scale: float = 0.3,
    n_modes: int = 3,
    return_labels: bool = False,
):
    """Points on smooth random 1-D curves embedded in ``z_dim`` dimensions, plus isotropic noise.

    Each curve is ``c(t) = centre + sum_m (a_m cos(pi m t) + b_m sin(pi m t))`` for
    ``t`` uniform in [0, 1), with ``centre ~ N(0, I)`` and ``a_m, b_m ~ N(0, (curve_scale / m)^2 I)``.

    Parameters
    ----------
    n_curves : int
        Number of curves (filaments).
    points_per_curve : int
        Points drawn on each curve.
    z_dim : int
        Dimension of the embedding space.
    noise : float
        Standard deviation of the Gaussian noise added to every coordinate.
    random_state : int, Generator or None
        Seed.
    curve_scale : float
        Per-coordinate amplitude of the first Fourier mode (sets curve length).
    n_modes : int
        Fourier modes per curve (more = more wiggly).
    return_labels : bool
        Also return the curve index of every point.

    Returns
    -------
    z : ndarray of float32, shape (n_curves * points_per_curve, z_dim)
    labels : ndarray of int64, shape (N,)
        Only when ``return_labels``.
    """
    if min(int(n_curves), int(points_per_curve), int(z_dim), int(n_modes)) < 1:
        raise ValueError("n_curves, points_per_curve, z_dim and n_modes must all be >= 1")
    if noise < 0 or curve_scale < 0:
        raise ValueError("noise and curve_scale must be >= 0")
    gen = rng(random_state)
    n_curves, points_per_curve, z_dim = int(n_curves), int(points_per_curve), int(z_dim)
    modes = np.arange(1, n_modes + 1)
    out = np.empty((n_curves * points_per_curve, z_dim), dtype=np.float32)
    for c in range(n_curves):
        centre = gen.normal(size=z_dim)
        amp = gen.normal(size=(2, n_modes, z_dim)) * (curve_scale / modes)[None, :, None]
        t = gen.uniform(0.0, 1.0, size=points_per_curve)
        phase = np.pi * t[:, None] * modes[None, :]
        points = centre + np.cos(phase) @ amp[0] + np.sin(phase) @ amp[1]
        points += gen.normal(scale=noise, size=points.shape) if noise > 0 else 0.0
        out[c * points_per_curve : (c + 1) * points_per_curve] = points
    if return_labels:
        return out, np.repeat(np.arange(n_curves, dtype=np.int64), points_per_curve)
    return out


def embedded_gaussian(n: int, intrinsic_dim: int, z_dim: int, random_state=0) -> np.ndarray:
    """``n`` points of a standard Gaussian in ``intrinsic_dim`` dimensions, randomly rotated into ``z_dim``.

    Returns
    -------
    ndarray of float32, shape (n, z_dim)
    """
    if not 1 <= int(intrinsic_dim) <= int(z_dim):
        raise ValueError("intrinsic_dim must be between 1 and z_dim")
    gen = rng(random_state)
    basis, _ = np.linalg.qr(gen.normal(size=(int(z_dim), int(intrinsic_dim))))
    return (gen.normal(size=(int(n), int(intrinsic_dim))) @ basis.T).astype(np.float32)


def decaying_ellipsoid(n: int, z_dim: int, power: float = 1.5, scale: float = 3.0, random_state=0) -> np.ndarray:
    """``n`` points of a Gaussian ellipsoid whose axis ``i`` has standard deviation ``scale / (1 + i / 2) ** power``.

    No filaments and no voids beyond its own shape: the known "no" of the structure claims. With
    ``power`` 1.5 its spectrum falls like the demo AE's (docs/MEASURES.md), so its local dimension is far
    below ``z_dim`` and a uniform probe in its box lands in a void, as the demo's do.

    Returns
    -------
    ndarray of float32, shape (n, z_dim)
    """
    gen = rng(random_state)
    stds = float(scale) / (1 + np.arange(int(z_dim)) / 2) ** float(power)
    return (gen.normal(size=(int(n), int(z_dim))) * stds).astype(np.float32)
