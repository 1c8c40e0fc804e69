"""Random z-points and paths: where a user can sample the decoder, and how to walk between two z.

The seed study's point: a z drawn from N(0, I) or from a Gaussian fitted to
the data rarely lands on a filament, so rarely decodes to a face; a data point
plus a little noise usually does. Every sampler here takes the data ``z`` so
the fitted ones can fit it, and a ``random_state``. The ex-post densities
(``gmm``, ``kde``) are fitted once per run (:func:`fit`, cached as
``analysis.results.sampler_fit``) and sampled from that fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis import density_fit
from analysis._checks import CHUNK, as_points, positive, rng


@dataclass(frozen=True)
class Sampler:
    """One sampler: its kind, how people see it named, whether it needs a density fitted once per run
    (:func:`fit`), and whether the void measures probe the space with it (no fit, not started at a data point)."""

    kind: str
    label: str
    needs_fit: bool = False
    is_probe: bool = False


#: Every sampler, in the order views and tables list them: the one list, everything else derives from it.
#: Adding a sampler is one record here and its branch in :func:`sample` (a probe changes the structure
#: measures' cache key, :class:`analysis.results.StructureParams`).
SAMPLERS = (
    Sampler("normal", "standard normal N(0, I)", is_probe=True),
    Sampler("axis_gaussian", "fitted Gaussian (per axis)", is_probe=True),
    Sampler("full_gaussian", "fitted Gaussian (full covariance)", is_probe=True),
    Sampler("uniform_box", "uniform in the data's box", is_probe=True),
    Sampler("data_noise", "data point + noise"),
    Sampler("gmm", "GMM fitted to the data (ex post)", needs_fit=True),
    Sampler("kde", "KDE fitted to the data (ex post)", needs_fit=True),
)
#: Every sampler kind, in order.
KINDS = tuple(sampler.kind for sampler in SAMPLERS)
#: How each kind is named to people.
LABELS = {sampler.kind: sampler.label for sampler in SAMPLERS}
#: Samplers that need a density fitted once per run (:func:`fit`).
FITTED_KINDS = tuple(sampler.kind for sampler in SAMPLERS if sampler.needs_fit)
#: Noise of ``data_noise`` by default, as a share of the data's RMS per-axis standard deviation: its norm is
#: a tenth of the cloud's RMS radius (demo AE: 0.8, where the median nearest-neighbour distance is 3.2), so a
#: sample stays nearer its anchor than the anchor's nearest neighbour. Relative, because a latent scale is
#: arbitrary: the old absolute 0.5 was as wide as the demo AE's whole cloud per axis.
DATA_NOISE_SHARE = 0.1
#: Samplers that probe the space between the data without a fit (the void measures use them).
PROBE_KINDS = tuple(sampler.kind for sampler in SAMPLERS if sampler.is_probe)


def fit(
    kind: str,
    z,
    k: int = density_fit.DEFAULT_COMPONENTS,
    max_points: int = density_fit.DEFAULT_MAX_POINTS,
    random_state=0,
) -> dict:
    """Fit the density of a fitted sampler to ``z`` (see :mod:`analysis.density_fit`).

    Parameters
    ----------
    kind : {"gmm", "kde"}
    z : array_like, shape (N, z_dim)
    k : int
        GMM components (ignored by ``kde``).
    max_points : int
        Fit on at most this many random z-points.
    random_state : int, Generator or None

    Returns
    -------
    dict
        The fit, to pass to :func:`sample` as ``fit``.
    """
    if kind == "gmm":
        return density_fit.fit_gmm(z, k=k, max_points=max_points, random_state=random_state)
    if kind == "kde":
        return density_fit.fit_kde(z, max_points=max_points, random_state=random_state)
    raise ValueError(f"sampler {kind!r} has no fit; fitted samplers: {', '.join(FITTED_KINDS)}")


def _full_gaussian_factor(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # mean and a matrix L with L L^T = covariance, via eigh so a singular
    # covariance (constant axes, N <= z_dim) still works.
    mean = z.mean(axis=0)
    cov = np.zeros((z.shape[1], z.shape[1]))
    for start in range(0, len(z), CHUNK):
        block = np.asarray(z[start : start + CHUNK], dtype=np.float64) - mean
        cov += block.T @ block
    cov /= max(len(z) - 1, 1)
    values, vectors = np.linalg.eigh(cov)
    return mean, vectors * np.sqrt(np.clip(values, 0, None))


#: Samplers that draw from statistics of the data (:func:`statistics`), which a caller may compute once and keep.
STATISTIC_KINDS = ("axis_gaussian", "full_gaussian", "uniform_box", "data_noise")


def statistics(kind: str, z) -> dict[str, np.ndarray]:
    """What ``kind`` needs of the data ``z`` to draw from it: a few arrays, for :func:`sample` as ``stats``.

    ``axis_gaussian``: each axis's ``mean`` and ``std``; ``full_gaussian``: ``mean`` and ``factor``
    (L with L L^T = the covariance); ``uniform_box``: the box's ``lo`` and ``hi``; ``data_noise``: the
    ``unit`` of its noise (:func:`data_scale`). Computing them is
    the whole cost of a draw on a large run (the covariance of 50k x 256 points: about a second),
    so a server keeps them per run and filter.
    """
    if kind not in STATISTIC_KINDS:
        raise ValueError(f"sampler {kind!r} draws from no statistics; those that do: {', '.join(STATISTIC_KINDS)}")
    z = as_points(z, dtype=None)
    if kind == "axis_gaussian":
        data = np.asarray(z, dtype=np.float64)
        return {"mean": data.mean(axis=0), "std": data.std(axis=0)}
    if kind == "full_gaussian":
        mean, factor = _full_gaussian_factor(z)
        return {"mean": mean, "factor": factor}
    if kind == "data_noise":
        return {"unit": np.asarray(data_scale(z))}
    return {"lo": np.asarray(z.min(axis=0), dtype=np.float64), "hi": np.asarray(z.max(axis=0), dtype=np.float64)}


def data_scale(z) -> float:
    """The data's RMS per-axis standard deviation, ``sqrt(mean_i var(z_i))`` (streamed; the unit of ``data_noise``)."""
    z = as_points(z, dtype=None)
    total, sq = np.zeros(z.shape[1]), np.zeros(z.shape[1])
    for start in range(0, len(z), CHUNK):
        block = np.asarray(z[start : start + CHUNK], dtype=np.float64)
        total += block.sum(axis=0)
        sq += np.einsum("ij,ij->j", block, block)
    mean = total / len(z)
    return float(np.sqrt(max(float(np.mean(sq / len(z) - mean * mean)), 0.0)))


def sample(
    kind: str,
    n: int,
    z,
    random_state=0,
    scale: float = DATA_NOISE_SHARE,
    fit: dict | None = None,
    stats: dict | None = None,
) -> np.ndarray:
    """Draw ``n`` random z-points of one kind.

    Parameters
    ----------
    kind : {"normal", "axis_gaussian", "full_gaussian", "uniform_box", "data_noise", "gmm", "kde"}
        ``normal``: N(0, I); ``axis_gaussian``: independent Gaussians with each
        axis's mean and std; ``full_gaussian``: a Gaussian with the data's mean
        and full covariance; ``uniform_box``: uniform in the data's bounding
        box; ``data_noise``: a random data point plus N(0, sigma^2 I) noise, sigma = ``scale`` x
        :func:`data_scale`;
        ``gmm``: the fitted Gaussian mixture; ``kde``: a kernel centre plus
        kernel noise (see :func:`analysis.density_fit.fit_kde`).
    n : int
        Number of points.
    z : array_like, shape (N, z_dim)
        The data (for ``normal`` only its z_dim is used).
    random_state : int, Generator or None
    scale : float
        Noise standard deviation of ``data_noise`` as a share of the data's RMS per-axis standard
        deviation (:data:`DATA_NOISE_SHARE` by default); 0 returns the data points themselves.
    fit : dict, optional
        The density of a fitted kind, from :func:`fit` (required for ``gmm`` and ``kde``).
    stats : dict, optional
        :func:`statistics` of ``z`` for this kind, when the caller keeps them (the draw is the same).

    Returns
    -------
    ndarray of float32, shape (n, z_dim)
    """
    if kind not in KINDS:
        raise ValueError(f"unknown sampler {kind!r}; choose one of {', '.join(KINDS)}")
    n = int(n)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    z = as_points(z, dtype=None)
    gen = rng(random_state)
    d = z.shape[1]
    if kind in FITTED_KINDS:
        return _from_fit(kind, n, z, gen, fit)
    if kind == "normal":
        out = gen.standard_normal((n, d))
    elif kind != "data_noise":
        out = _from_statistics(kind, (n, d), gen, stats if stats is not None else statistics(kind, z))
    else:
        share = positive(scale, "scale") if scale != 0 else 0.0
        unit = float(stats["unit"]) if stats is not None else data_scale(z) if share else 0.0
        sigma = share * unit
        rows = np.sort(gen.integers(0, len(z), size=n))
        out = np.asarray(z[rows], dtype=np.float64) + sigma * gen.standard_normal((n, d))
    return out.astype(np.float32)


def _from_fit(kind: str, n: int, z, gen, fit: dict | None) -> np.ndarray:
    # A fitted kind (gmm, kde), drawn from its fit.
    if fit is None or fit.get("kind") != kind:
        raise ValueError(f"sampler {kind!r} needs its fit: analysis.results.sampler_fit(run, kind={kind!r})")
    if kind == "gmm":
        if np.asarray(fit["means"]).shape[1] != z.shape[1]:
            raise ValueError("this mixture was fitted to z-points of another dimension (refit it)")
        return density_fit.sample_gmm(fit, n, gen).astype(np.float32)
    return density_fit.sample_kde(fit, n, z, gen).astype(np.float32)


def _from_statistics(kind: str, shape: tuple[int, int], gen, s: dict) -> np.ndarray:
    # A kind drawn from the data's statistics (see statistics()).
    if kind == "axis_gaussian":
        return s["mean"] + gen.standard_normal(shape) * s["std"]
    if kind == "full_gaussian":
        return s["mean"] + gen.standard_normal(shape) @ s["factor"].T
    return s["lo"] + gen.uniform(size=shape) * (s["hi"] - s["lo"])


def _endpoints(z0, z1) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(z0, dtype=np.float64).ravel()
    b = np.asarray(z1, dtype=np.float64).ravel()
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"z0 and z1 must be vectors of the same length, got {a.size} and {b.size}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("z0 and z1 must be finite")
    return a, b


def _fractions(steps: int) -> np.ndarray:
    if int(steps) < 2:
        raise ValueError(f"steps must be >= 2 (both end points are included), got {steps}")
    return np.linspace(0.0, 1.0, int(steps))


def lerp(z0, z1, steps: int) -> np.ndarray:
    """Straight line from ``z0`` to ``z1`` in ``steps`` points, both ends included.

    Returns
    -------
    ndarray of float64, shape (steps, z_dim)
    """
    a, b = _endpoints(z0, z1)
    t = _fractions(steps)[:, None]
    return (1 - t) * a + t * b


def slerp(z0, z1, steps: int) -> np.ndarray:
    """Spherical interpolation from ``z0`` to ``z1`` in ``steps`` points, both ends included.

    Follows the great circle between the two directions (Shoemake 1985), so the
    path keeps away from the nearly empty centre of a high-dimensional latent
    space, where a straight line passes (White 2016, "Sampling Generative Networks").
    Falls back to :func:`lerp` when the directions are (nearly) parallel or a point is 0.

    Returns
    -------
    ndarray of float64, shape (steps, z_dim)

    Raises
    ------
    ValueError
        If ``z0`` and ``z1`` point in opposite directions (the great circle is not unique).
    """
    a, b = _endpoints(z0, z1)
    t = _fractions(steps)[:, None]
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return lerp(a, b, steps)
    cos = float(np.clip(a @ b / (na * nb), -1.0, 1.0))
    omega = np.arccos(cos)
    if omega < 1e-6:
        return lerp(a, b, steps)
    if np.pi - omega < 1e-6:
        raise ValueError("z0 and z1 point in opposite directions; spherical interpolation is undefined (use lerp)")
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
