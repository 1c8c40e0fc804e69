"""Radius (L2 norm) of z-points, its histogram and the reference curve of a standard normal.

For z ~ N(0, I) in d dimensions the radius follows a chi distribution with d
degrees of freedom: it peaks at sqrt(d - 1) and has mean close to sqrt(d).
The seed found its AE's z-points peaking near R = 16.5 for d = 256.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from analysis._checks import CHUNK, as_points, positive


def radii(z) -> np.ndarray:
    """Return the L2 norm of every z-point.

    Parameters
    ----------
    z : array_like, shape (N, z_dim)

    Returns
    -------
    ndarray of float64, shape (N,)
    """
    z = as_points(z, dtype=None)
    out = np.empty(len(z))
    for start in range(0, len(z), CHUNK):
        out[start : start + CHUNK] = np.linalg.norm(np.asarray(z[start : start + CHUNK], dtype=np.float64), axis=1)
    return out


def _as_radii(z_or_radii) -> np.ndarray:
    arr = np.asarray(z_or_radii)
    if arr.ndim == 1:
        r = as_points(arr, name="radii")[:, 0]
        if (r < 0).any():
            raise ValueError("radii must be non-negative (pass z-points as an N x z_dim array)")
        return r
    return radii(arr)


def radius_histogram(z_or_radii, bin_width: float = 0.5):
    """Histogram of radii with bins of ``bin_width`` starting at 0.

    Parameters
    ----------
    z_or_radii : array_like
        Either z-points (N x z_dim) or radii already computed (1-D).
    bin_width : float
        Bin width (the seed used 0.5 and 0.05).

    Returns
    -------
    edges : ndarray, shape (bins + 1,)
    counts : ndarray of int64, shape (bins,)
    """
    r = _as_radii(z_or_radii)
    bin_width = positive(bin_width, "bin_width")
    bins = max(1, int(np.ceil(r.max() / bin_width)))
    if bins * bin_width <= r.max():
        bins += 1
    if bins > 10_000_000:
        raise ValueError(f"bin_width {bin_width} gives {bins} bins; choose a larger bin width")
    edges = bin_width * np.arange(bins + 1, dtype=np.float64)
    counts, _ = np.histogram(r, bins=edges)
    return edges, counts.astype(np.int64)


def chi_pdf(r, z_dim: int) -> np.ndarray:
    """Density of the radius of a standard normal vector in ``z_dim`` dimensions (chi distribution)."""
    if int(z_dim) < 1:
        raise ValueError(f"z_dim must be at least 1, got {z_dim}")
    k = int(z_dim)
    r = np.asarray(r, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):  # r = 0: log 0, and 0 x log 0 when k = 1
        log_pdf = (k - 1) * np.log(r) - r**2 / 2 - (k / 2 - 1) * np.log(2) - special.gammaln(k / 2)
    return np.where(r > 0, np.exp(log_pdf), 1.0 / np.sqrt(np.pi / 2) if k == 1 else 0.0)


def chi_reference(edges, z_dim: int, n: int) -> np.ndarray:
    """Expected counts per bin for ``n`` points drawn from N(0, I) in ``z_dim`` dimensions.

    Parameters
    ----------
    edges : array_like, shape (bins + 1,)
        Bin edges of the radius histogram (non-negative, increasing).
    z_dim : int
        Dimension of the latent space.
    n : int
        Number of points the histogram counts.

    Returns
    -------
    ndarray, shape (bins,)
        ``n`` times the chi(z_dim) probability of each bin (exact, from the
        regularised incomplete gamma function, not a midpoint estimate).
    """
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 2 or (np.diff(edges) <= 0).any() or edges[0] < 0:
        raise ValueError("edges must be a 1-D increasing array of non-negative radii")
    if int(z_dim) < 1:
        raise ValueError(f"z_dim must be at least 1, got {z_dim}")
    cdf = special.gammainc(int(z_dim) / 2, edges**2 / 2)
    return float(n) * np.diff(cdf)


def radius_stats(radii_values) -> dict:
    """Summary numbers of a set of radii.

    Parameters
    ----------
    radii_values : array_like, shape (N,)
        Radii, e.g. from :func:`radii`.

    Returns
    -------
    dict
        ``peak`` (mode of a histogram with bins of 1/50 of the spread, smoothed
        over 5 bins), ``mean``, ``median``, ``std``, ``min``, ``max``, ``p01``,
        ``p99``; all floats.
    """
    r = _as_radii(radii_values)
    spread = float(r.max() - r.min())
    peak = float(r[0])
    if spread > 0:
        counts, edges = np.histogram(r, bins=50)
        # A 5-bin moving sum: the moving average's mode, with ties between windows exact (whole numbers).
        smooth = np.convolve(counts, np.ones(5, dtype=np.int64), mode="same")
        best = int(smooth.argmax())
        peak = float((edges[best] + edges[best + 1]) / 2)
    return {
        "peak": peak,
        "mean": float(r.mean()),
        "median": float(np.median(r)),
        "std": float(r.std()),
        "min": float(r.min()),
        "max": float(r.max()),
        "p01": float(np.percentile(r, 1)),
        "p99": float(np.percentile(r, 99)),
    }


#: The data's typical radii, as a decode panel shows them beside a decoded z's |z|: 5th to 95th percentile.
RADIUS_BAND = (5.0, 95.0)


def radius_band(radii_values, percentiles=RADIUS_BAND) -> tuple[float, float]:
    """The (low, high) percentiles of a set of radii (default :data:`RADIUS_BAND`, linear interpolation)."""
    r = _as_radii(radii_values)
    low, high = (float(v) for v in np.percentile(r, percentiles))
    return low, high
