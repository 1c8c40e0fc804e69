"""Ex-post densities of the data z: a Gaussian mixture and a kernel density, fitted once, sampled often.

Why: an AE's decoder is only trained on the data z. Ghosh et al., "From
Variational to Deterministic Autoencoders" (ICLR 2020, the RAE paper) turn an
AE into a generator by fitting a density to its z *after* training and
sampling from that — a 10-component full-covariance GMM in their experiments.
The seed study predicts why this helps: the z-points occupy thin filaments, and
a density that follows them puts samples on them, where N(0, I) does not.

A fit is a plain dict of arrays (cacheable without pickling, see
:mod:`analysis.results` ``sampler_fit``); sampling from it is a pure function.

Bounded fit time
----------------
Both fits use at most ``max_points`` z-points, drawn at random (the fit
records how many: ``n_fit`` of ``n_total``). A full-covariance EM iteration
costs O(max_points * k * z_dim^2), so the fit time is bounded by
``max_points``, ``k``, z_dim and ``GMM_MAX_ITER``, never by the run's size.
Measured on 200k x 256: docs/BENCHMARKS.md (``zspace bench samplers``). How many
iterations a fit takes depends on the data: 4 on the bench's filament cloud, all
100 on the demo AE's smooth ellipsoid of z-points (docs/BENCHMARKS.md says why a
report spent most of its time there).
"""

from __future__ import annotations

import time

import numpy as np

from analysis._checks import CHUNK, as_points, draw_ids, rng

#: GMM components by default (the RAE paper's choice).
DEFAULT_COMPONENTS = 10
#: Points a fit uses at most (subsampled at random above this): bounds the fit time (see the module notes).
DEFAULT_MAX_POINTS = 20000
#: EM iterations at most; scikit-learn stops earlier when the likelihood gain falls below its tol (1e-3).
GMM_MAX_ITER = 100
#: Covariance regularisation of each component, relative to the mean per-axis variance of the data:
#: keeps a component non-singular when it owns fewer points than z_dim (small runs, dead axes)
#: while staying far below the data's own scale. Never below scikit-learn's absolute default (1e-6),
#: which is what remains when every point is the same.
RELATIVE_REG_COVAR = 1e-3
#: Share of the KDE's points held out to choose its bandwidth (at most KDE_MAX_VALIDATION points):
#: 1000 held-out log-likelihoods pin the maximum down well and keep the search to a few seconds.
KDE_VALIDATION_SHARE = 0.1
KDE_MAX_VALIDATION = 1000
#: Bandwidth search, in units of the data's RMS per-axis standard deviation (the kernel is N(0, h^2 I)):
#: a coarse log grid over [1e-3, 3], then a fine one between the coarse maximum's neighbours.
KDE_BANDWIDTH_RANGE = (1e-3, 3.0)
KDE_GRID_POINTS = 24


#: Fewest points a fit works with (a held-out point and two kernel centres; a spread for the mixture).
MIN_POINTS = 3


def _subsample(z, max_points: int, gen, what: str) -> tuple[np.ndarray, np.ndarray]:
    max_points = int(max_points)
    if max_points < MIN_POINTS:
        raise ValueError(f"max_points must be at least {MIN_POINTS}, got {max_points}")
    if len(z) < MIN_POINTS:
        raise ValueError(f"a {what} needs at least {MIN_POINTS} points, got {len(z)}")
    ids = draw_ids(len(z), max_points, gen)
    return ids, np.asarray(z[ids], dtype=np.float64)


def fit_gmm(z, k: int = DEFAULT_COMPONENTS, max_points: int = DEFAULT_MAX_POINTS, random_state=0) -> dict:
    """Fit a k-component full-covariance Gaussian mixture to (a subsample of) ``z``.

    Parameters
    ----------
    z : array_like, shape (N, z_dim)
    k : int
        Number of components (at most the number of points used).
    max_points : int
        Fit on at most this many points, drawn at random.
    random_state : int, Generator or None
        Seeds the subsample and scikit-learn's k-means initialisation.

    Returns
    -------
    dict
        ``kind`` ("gmm"), ``weights`` (k,), ``means`` (k, z_dim), ``chol`` (k, z_dim, z_dim: lower
        Cholesky factors of the component covariances, float32), ``n_fit``, ``n_total``, ``n_iter``,
        ``converged``, ``loglik`` (mean log-likelihood per fitted point) and ``seconds``.
    """
    from sklearn.mixture import GaussianMixture

    z = as_points(z, dtype=None)
    k = int(k)
    gen = rng(random_state)
    ids, data = _subsample(z, max_points, gen, "Gaussian mixture")
    if not 1 <= k <= len(data):
        raise ValueError(f"k={k} components need between 1 and {len(data)} (the points used) components")
    started = time.perf_counter()
    reg = max(RELATIVE_REG_COVAR * float(data.var(axis=0).mean()), 1e-6)
    model = GaussianMixture(
        n_components=k,
        covariance_type="full",
        reg_covar=reg,
        max_iter=GMM_MAX_ITER,
        random_state=int(gen.integers(2**31 - 1)),
    )
    model.fit(data)
    return {
        "kind": "gmm",
        "weights": model.weights_,
        "means": model.means_.astype(np.float32),
        "chol": np.linalg.cholesky(model.covariances_).astype(np.float32),
        "n_fit": len(ids),
        "n_total": len(z),
        "n_iter": int(model.n_iter_),
        "converged": bool(model.converged_),
        "loglik": float(model.lower_bound_),
        "seconds": time.perf_counter() - started,
    }


def _squared_distances(queries: np.ndarray, points: np.ndarray) -> np.ndarray:
    out = np.empty((len(queries), len(points)))
    sq = np.einsum("ij,ij->i", points, points)
    for start in range(0, len(queries), CHUNK // 16):
        q = queries[start : start + CHUNK // 16]
        out[start : start + len(q)] = np.einsum("ij,ij->i", q, q)[:, None] - 2.0 * q @ points.T + sq[None, :]
    return np.maximum(out, 0.0)


def kde_loglik(d2: np.ndarray, bandwidths, d: int) -> np.ndarray:
    """Mean held-out log-likelihood (constants dropped) of an isotropic Gaussian KDE per bandwidth.

    Parameters
    ----------
    d2 : ndarray, shape (M, n)
        Squared distances of M held-out points to the n kernel centres.
    bandwidths : array_like, shape (B,)
    d : int
        Dimension.

    Returns
    -------
    ndarray, shape (B,)
        ``mean_i log( (1/n) sum_j N(x_i; c_j, h^2 I) )`` up to a constant common to all h.
    """
    # log-sum-exp with each row's nearest centre factored out, so small h does not underflow to log(0).
    nearest = d2.min(axis=1)
    excess = (d2 - nearest[:, None]).astype(np.float32)
    out = []
    for width in np.asarray(bandwidths, dtype=np.float64):
        scale = np.float32(-1.0 / (2 * width * width))
        sums = np.exp(excess * scale).sum(axis=1, dtype=np.float64)
        out.append(float(np.mean(-nearest / (2 * width * width) + np.log(sums))) - d * np.log(width))
    return np.asarray(out) - np.log(d2.shape[1])


def best_bandwidth(d2: np.ndarray, d: int, unit: float = 1.0) -> tuple[float, np.ndarray, np.ndarray]:
    """The bandwidth with the highest held-out likelihood: coarse log grid, then a fine grid around its maximum.

    ``unit`` scales :data:`KDE_BANDWIDTH_RANGE` (the data's RMS per-axis standard deviation).

    Returns
    -------
    bandwidth : float
    bandwidths, loglik : ndarray
        Every bandwidth tried (sorted) and its held-out log-likelihood.
    """
    lo, hi = (bound * unit for bound in KDE_BANDWIDTH_RANGE)
    coarse = np.geomspace(lo, hi, KDE_GRID_POINTS)
    coarse_ll = kde_loglik(d2, coarse, d)
    best = int(np.argmax(coarse_ll))
    fine = np.geomspace(coarse[max(best - 1, 0)], coarse[min(best + 1, len(coarse) - 1)], KDE_GRID_POINTS)
    widths = np.concatenate([coarse, fine])
    loglik = np.concatenate([coarse_ll, kde_loglik(d2, fine, d)])
    order = np.argsort(widths)
    return float(widths[int(np.argmax(loglik))]), widths[order], loglik[order]


def fit_kde(z, max_points: int = DEFAULT_MAX_POINTS, random_state=0) -> dict:
    """Fit an isotropic Gaussian kernel density to (a subsample of) ``z``; its bandwidth by held-out likelihood.

    The kernel is N(0, h^2 I) around each centre; ``h`` maximises the
    log-likelihood of held-out z-points (a share :data:`KDE_VALIDATION_SHARE`
    of the subsample; :func:`best_bandwidth`). What this means in high
    dimensions: the held-out likelihood is dominated by each point's nearest
    centre, so h ~ (typical nearest-neighbour distance) / sqrt(z_dim), and a
    sample is a data point moved by about one neighbour distance in a random
    direction — in high dimensions almost surely *across* a filament, not along
    it. Scott's rule (recorded as ``scott``, in the same units: n^(-1/(z_dim+4))
    times the RMS axis std) is not used: in 256 dimensions its factor is ~0.96
    for any n, a kernel as wide as the whole cloud, whose samples would sit in
    the voids. A kernel shaped like the data covariance (scipy's convention) was
    tried and dropped for the same reason: whitening inflates the thin
    directions of a filament to unit width, which again picks a cloud-wide h.

    Parameters
    ----------
    z : array_like, shape (N, z_dim)
    max_points : int
        Kernel centres plus held-out points, drawn at random.
    random_state : int, Generator or None

    Returns
    -------
    dict
        ``kind`` ("kde"), ``ids`` (rows of ``z`` used as kernel centres), ``bandwidth`` (chosen h, in z
        units), ``scott`` (Scott's h), ``bandwidths`` and ``loglik`` (the held-out curve), ``n_fit``
        (centres), ``n_total`` and ``seconds``.
    """
    z = as_points(z, dtype=None)
    gen = rng(random_state)
    ids, data = _subsample(z, max_points, gen, "kernel density")
    started = time.perf_counter()
    n_val = int(min(KDE_MAX_VALIDATION, max(1, round(KDE_VALIDATION_SHARE * len(data)))))
    held_out = np.zeros(len(data), dtype=bool)
    held_out[gen.choice(len(data), size=n_val, replace=False)] = True
    unit = max(float(np.sqrt(data.var(axis=0).mean())), 1e-12)
    d2 = _squared_distances(data[held_out], data[~held_out])
    bandwidth, bandwidths, loglik = best_bandwidth(d2, data.shape[1], unit)
    centres = ids[~held_out]
    return {
        "kind": "kde",
        "ids": centres,
        "bandwidth": bandwidth,
        "scott": float(len(centres) ** (-1.0 / (data.shape[1] + 4))) * unit,
        "bandwidths": bandwidths,
        "loglik": loglik,
        "n_fit": len(centres),
        "n_total": len(z),
        "seconds": time.perf_counter() - started,
    }


def sample_gmm(fit: dict, n: int, random_state=0) -> np.ndarray:
    """Draw ``n`` points from a :func:`fit_gmm` result; float64 (n, z_dim)."""
    gen = rng(random_state)
    weights = np.asarray(fit["weights"], dtype=np.float64)
    means, chol = np.asarray(fit["means"], dtype=np.float64), np.asarray(fit["chol"], dtype=np.float64)
    component = gen.choice(len(weights), size=int(n), p=weights / weights.sum())
    noise = gen.standard_normal((int(n), means.shape[1]))
    out = np.empty_like(noise)
    # One matrix product per component (not an (n, d, d) gather, which would need n * d^2 memory).
    for c in np.unique(component):
        rows = component == c
        out[rows] = means[c] + noise[rows] @ chol[c].T
    return out


def sample_kde(fit: dict, n: int, z, random_state=0) -> np.ndarray:
    """Draw ``n`` points from a :func:`fit_kde` result: a kernel centre of ``z`` plus N(0, h^2 I) noise.

    ``z`` must be the array the fit was made from (its ``ids`` index it).
    """
    z = as_points(z, dtype=None)
    ids = np.asarray(fit["ids"], dtype=np.int64)
    if len(ids) == 0 or ids.max() >= len(z):
        raise ValueError("this kernel density was fitted to other z-points (refit it for these)")
    gen = rng(random_state)
    rows = np.sort(gen.choice(ids, size=int(n)))
    noise = gen.standard_normal((int(n), z.shape[1]))
    return np.asarray(z[rows], dtype=np.float64) + float(fit["bandwidth"]) * noise
