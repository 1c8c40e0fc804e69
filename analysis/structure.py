"""Filaments and voids: local intrinsic dimension, nearest-neighbour distances and the void fraction.

These quantify what the seed study could only show in projections: z-points
lying on thin, nearly one-dimensional filaments (local dimension near 1)
around large voids (random probes far from every data point).

Neighbour searches use scikit-learn's exact ``NearestNeighbors`` by default;
``backend="pynndescent"`` uses approximate NN-descent (see docs/BENCHMARKS.md
for when it pays off).
"""

from __future__ import annotations

import numpy as np

from analysis._checks import as_points, rng
from analysis.samplers import PROBE_KINDS, sample

KNN_BACKENDS = ("sklearn", "pynndescent")
#: Rows per chunk of the streamed nearest-distance scan (64k x 256 float32 = 64 MB).
NEAREST_CHUNK = 65536


def knn(data, queries=None, k: int = 1, backend: str = "sklearn", random_state=0) -> tuple[np.ndarray, np.ndarray]:
    """k nearest neighbours of ``queries`` among ``data`` (Euclidean).

    Parameters
    ----------
    data : array_like, shape (N, d)
    queries : array_like, shape (M, d), optional
        Default: ``data`` itself, and each point's own entry is excluded (so
        the first neighbour is the nearest *other* point; a duplicate is at 0).
    k : int
        Neighbours per query.
    backend : {"sklearn", "pynndescent"}
    random_state : int
        Seed of pynndescent.

    Returns
    -------
    distances : ndarray of float64, shape (M, k), ascending
    indices : ndarray of int64, shape (M, k)
    """
    if backend not in KNN_BACKENDS:
        raise ValueError(f"unknown kNN backend {backend!r}; choose one of {', '.join(KNN_BACKENDS)}")
    data = as_points(data, name="data", dtype=np.float32)
    self_query = queries is None
    q = data if self_query else as_points(queries, name="queries", dtype=np.float32)
    if q.shape[1] != data.shape[1]:
        raise ValueError(f"queries have {q.shape[1]} dimensions but data has {data.shape[1]}")
    k = int(k)
    available = len(data) - 1 if self_query else len(data)
    if not 1 <= k <= available:
        raise ValueError(f"k={k} neighbours requested but only {available} other point(s) exist")
    kk = k + 1 if self_query else k
    if backend == "pynndescent":
        try:
            import pynndescent
        except ImportError:
            raise ValueError('backend "pynndescent" needs the optional package: pip install -e ".[knn]"') from None

        index = pynndescent.NNDescent(data, n_neighbors=max(kk, 15), random_state=random_state)
        idx, dist = index.query(q, k=kk) if not self_query else index.neighbor_graph
        idx, dist = idx[:, :kk], dist[:, :kk]
    else:
        from sklearn.neighbors import NearestNeighbors

        dist, idx = NearestNeighbors(n_neighbors=kk).fit(data).kneighbors(q)
    dist, idx = np.asarray(dist, dtype=np.float64), np.asarray(idx, dtype=np.int64)
    if self_query:
        # Drop each point's own entry; with duplicates it need not be column 0.
        own = idx == np.arange(len(q))[:, None]
        drop = np.where(own.any(axis=1), own.argmax(axis=1), kk - 1)
        keep = np.ones_like(own)
        keep[np.arange(len(q)), drop] = False
        dist, idx = dist[keep].reshape(len(q), k), idx[keep].reshape(len(q), k)
    return dist, idx


def nn_distances(data, queries=None, k: int = 1, backend: str = "sklearn") -> np.ndarray:
    """Distances from each query to its nearest data points.

    Parameters
    ----------
    data : array_like, shape (N, d)
    queries : array_like, shape (M, d), optional
        Default: data → data (each point's nearest *other* point).
    k : int
    backend : {"sklearn", "pynndescent"}

    Returns
    -------
    ndarray of float64
        Shape (M,) for ``k == 1`` (the NN distance), else (M, k), ascending.
    """
    dist, _ = knn(data, queries, k=k, backend=backend)
    return dist[:, 0] if k == 1 else dist


def local_intrinsic_dimension(z, k: int = 20, method: str = "twonn", backend: str = "sklearn") -> np.ndarray:
    """Local intrinsic dimension at every point, from its ``k`` nearest neighbours.

    Parameters
    ----------
    z : array_like, shape (N, d)
        Points (subsample large sets first: the neighbour search is O(N^2 d)).
    k : int
        Neighbourhood size (clipped to N - 1).
    method : {"twonn", "mle"}
        ``twonn``: the TwoNN estimator of Facco, d'Errico, Rodriguez & Laio,
        "Estimating the intrinsic dimension of datasets by a minimal
        neighborhood information", Sci. Rep. 7, 12140 (2017), applied locally:
        the ratios mu = r2 / r1 of the point and its k neighbours are Pareto(d)
        distributed, so d = k / sum(log mu) (unbiased form).
        ``mle``: Levina & Bickel, "Maximum likelihood estimation of intrinsic
        dimension", NIPS 2004: d = (k - 2) / sum_{j<k} log(r_k / r_j) (unbiased form).
    backend : {"sklearn", "pynndescent"}

    Returns
    -------
    ndarray of float64, shape (N,)
        NaN where the neighbourhood is degenerate (all neighbours at distance 0,
        i.e. duplicated points).
    """
    if method not in ("twonn", "mle"):
        raise ValueError(f'unknown method {method!r}; choose "twonn" or "mle"')
    z = as_points(z, dtype=np.float32)
    need = 3 if method == "twonn" else 4
    if len(z) < need:
        raise ValueError(f"local intrinsic dimension ({method}) needs at least {need} points, got {len(z)}")
    k = min(int(k), len(z) - 1)
    if k < (2 if method == "twonn" else 3):
        raise ValueError(f"k must be at least {2 if method == 'twonn' else 3}, got {k}")
    dist, idx = knn(z, k=k, backend=backend)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "mle":
            logs = np.log(dist[:, -1:] / dist[:, :-1])
            logs[~np.isfinite(logs)] = np.nan
            valid = np.isfinite(logs).sum(axis=1)
            total = np.nansum(logs, axis=1)
            est = np.where((valid >= 2) & (total > 0), (valid - 1) / total, np.nan)
        else:
            log_mu = np.log(dist[:, 1] / dist[:, 0])
            log_mu[~np.isfinite(log_mu)] = np.nan
            hood = np.concatenate([log_mu[:, None], log_mu[idx]], axis=1)
            valid = np.isfinite(hood).sum(axis=1)
            total = np.nansum(hood, axis=1)
            est = np.where((valid >= 2) & (total > 0), (valid - 1) / total, np.nan)
    return est


def make_probes(kind: str, n: int, z, random_state=0) -> np.ndarray:
    """Random probe points for void measurements.

    Parameters
    ----------
    kind : {"normal", "axis_gaussian", "full_gaussian", "uniform_box"}
        See :func:`analysis.samplers.sample`.
    n : int
    z : array_like, shape (N, d)
        The data the fitted kinds are fitted to.
    random_state : int, Generator or None

    Returns
    -------
    ndarray of float32, shape (n, d)
    """
    if kind not in PROBE_KINDS:
        raise ValueError(f"unknown probe kind {kind!r}; choose one of {', '.join(PROBE_KINDS)}")
    return sample(kind, n, z, random_state=rng(random_state))


def void_threshold(data, quantile: float = 0.99, backend: str = "sklearn") -> float:
    """The data's own ``quantile`` nearest-neighbour distance (data → nearest other data point)."""
    if not 0 < float(quantile) <= 1:
        raise ValueError(f"quantile must be in (0, 1], got {quantile}")
    return float(np.quantile(nn_distances(data, backend=backend), float(quantile)))


def void_fraction(data, probes, quantile: float = 0.99, backend: str = "sklearn") -> float:
    """Share of probes farther from every data point than the data's own ``quantile`` NN distance.

    Near 0 when probes come from the same distribution as the data; near 1 when
    the data occupy thin filaments and the probes fill the space between.

    Parameters
    ----------
    data : array_like, shape (N, d)
        At least 2 points.
    probes : array_like, shape (M, d)
        E.g. from :func:`make_probes`.
    quantile : float
        Quantile of the data → data NN distances used as the threshold.
    backend : {"sklearn", "pynndescent"}

    Returns
    -------
    float in [0, 1]
    """
    threshold = void_threshold(data, quantile, backend=backend)
    probe_nn = nn_distances(data, probes, backend=backend)
    return float(np.mean(probe_nn > threshold))


def nearest_data_distance(data, queries, exclude: int | None = None, sq_norms=None) -> np.ndarray:
    """Exact distance from each query to its nearest data point, streamed over a (memory-mapped) ``data``.

    For a few queries against many points (a click, a sample grid) one chunked
    matrix product beats building a neighbour index: nothing is kept between calls
    and ``data`` is never copied whole.

    Parameters
    ----------
    data : array_like, shape (N, d)
    queries : array_like, shape (M, d) or (d,)
    exclude : int, optional
        A data row not to count (a clicked point's own row).
    sq_norms : ndarray, shape (N,), optional
        ``|data_i|^2`` if the caller keeps them (saves one pass).

    Returns
    -------
    ndarray of float64, shape (M,)
    """
    # No finiteness scan of ``data`` here: it would read a memory-mapped array whole on every click;
    # run directories are checked finite when they are listed.
    data = np.asarray(data)
    if data.ndim != 2 or len(data) < 1:
        raise ValueError(f"data must be a non-empty N x d array, got shape {data.shape}")
    q = as_points(np.atleast_2d(np.asarray(queries, dtype=np.float32)), name="queries", dtype=np.float32)
    if q.shape[1] != data.shape[1]:
        raise ValueError(f"queries have {q.shape[1]} dimensions but data has {data.shape[1]}")
    if exclude is not None and not 0 <= int(exclude) < len(data):
        raise ValueError(f"exclude={exclude} is not a row of the data (0..{len(data) - 1})")
    best = np.full(len(q), np.inf, dtype=np.float32)
    # |a-b|^2 = |b|^2 - 2ab + |a|^2: one contiguous (chunk x d) @ (d x M) product per chunk; |a|^2 is added last.
    for start in range(0, len(data), NEAREST_CHUNK):
        block = np.asarray(data[start : start + NEAREST_CHUNK], dtype=np.float32)
        norms = np.einsum("ij,ij->i", block, block) if sq_norms is None else sq_norms[start : start + len(block)]
        d2 = norms[:, None] - 2.0 * (block @ q.T)
        if exclude is not None and start <= int(exclude) < start + len(block):
            d2[int(exclude) - start] = np.inf
        best = np.minimum(best, d2.min(axis=0))
    return np.sqrt(np.maximum(best + np.einsum("ij,ij->i", q, q), 0.0)).astype(np.float64)
