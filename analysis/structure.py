"""Filaments and voids: local intrinsic dimension, nearest-neighbour distances and the void fraction.

These quantify what the seed study could only show in projections: z-points
lying on thin, nearly one-dimensional filaments (local dimension near 1)
around large voids (random probes far from every data point).

Every number is measured against *all* the points of a cloud (streamed and
exact, :func:`nearest_rows`), for a random sample of query points: a
neighbour distance depends on how many points there are (it shrinks like
N^(-1/d)), so a measure taken inside a small subsample describes a sparser
cloud than the run's. :func:`describe_cloud` gives one cloud's numbers;
:func:`gaussian_null` draws the cloud they are compared with — a Gaussian
with the data's mean and covariance and as many points — so each number
has "what a plain ellipsoid of the same shape would give" beside it.

The searches themselves are :mod:`analysis.neighbours`.
"""

from __future__ import annotations

import numpy as np

from analysis import intervals
from analysis._checks import as_points, draw_ids, rng
from analysis.neighbours import data_nn_distances, knn, nearest_rows, self_neighbours
from analysis.neighbours import nearest_data_distance as nearest_data_distance  # re-exported: the app's click search
from analysis.neighbours import nn_distances as nn_distances  # re-exported: one import for the structure measures
from analysis.samplers import PROBE_KINDS, sample

#: Local-dimension estimators; the first is the default (see :func:`local_intrinsic_dimension`).
LID_METHODS = ("mle", "twonn")
#: Neighbours behind a point's local dimension.
LID_K = 20
#: Quantile of the data's own nearest-neighbour distances beyond which a probe sits in a void.
VOID_QUANTILE = 0.99


def nn_reference(distances) -> dict:
    """The reference lines of a nearest-neighbour distance plot: ``median`` and ``p99`` of ``distances``.

    ``distances`` are the data's own nearest-neighbour distances (:func:`data_nn_distances`).
    """
    d = np.asarray(distances, dtype=np.float64).ravel()
    if d.size == 0:
        raise ValueError("no distances to take a reference of")
    return {"median": float(np.median(d)), "p99": float(np.quantile(d, 0.99)), "n": int(d.size)}


def distance_percentile(values, distances) -> np.ndarray:
    """Each of ``values`` as a percentile of the data's nearest-neighbour ``distances``.

    The share (in percent, 0-100) of data points whose nearest other point is
    at most that far: 50 is a typical neighbour distance, 99 the void threshold,
    100 farther than every data point is from its neighbour.

    Parameters
    ----------
    values : array_like
        Distances to the nearest data point (a click, a path step, a decoded tile).
    distances : array_like, shape (M,)
        The data's own nearest-neighbour distances (:func:`data_nn_distances`).

    Returns
    -------
    ndarray of float64, the shape of ``values``
    """
    reference = np.sort(np.asarray(distances, dtype=np.float64).ravel())
    if reference.size == 0:
        raise ValueError("no reference distances")
    v = np.asarray(values, dtype=np.float64)
    if not np.isfinite(v).all():
        raise ValueError("distances must be finite")
    return 100.0 * np.searchsorted(reference, v, side="right") / reference.size


def lid_mle(distances) -> np.ndarray:
    """Levina & Bickel's maximum-likelihood dimension of each row of ascending neighbour ``distances``.

    ``d = (k - 2) / sum_{j<k} log(r_k / r_j)`` (the unbiased form) from a
    point's ``k`` nearest-neighbour distances ``r_1 <= ... <= r_k``; NaN where
    fewer than two of the ratios are finite (duplicated points).

    Parameters
    ----------
    distances : array_like, shape (M, k), k >= 3

    Returns
    -------
    ndarray of float64, shape (M,)
    """
    dist = np.asarray(distances, dtype=np.float64)
    if dist.ndim != 2 or dist.shape[1] < 3:
        raise ValueError(f"distances must be M x k with k >= 3, got shape {dist.shape}")
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(dist[:, -1:] / dist[:, :-1])
        logs[~np.isfinite(logs)] = np.nan
        valid = np.isfinite(logs).sum(axis=1)
        total = np.nansum(logs, axis=1)
        return np.where((valid >= 2) & (total > 0), (valid - 1) / total, np.nan)


def local_intrinsic_dimension(z, k: int = LID_K, method: str = "mle", backend: str = "sklearn") -> np.ndarray:
    """Local intrinsic dimension at every point, from its ``k`` nearest neighbours.

    Parameters
    ----------
    z : array_like, shape (N, d)
        Points (subsample large sets first: the neighbour search is O(N^2 d)).
    k : int
        Neighbourhood size (clipped to N - 1).
    method : {"mle", "twonn"}
        ``mle`` (the default): Levina & Bickel, "Maximum likelihood estimation
        of intrinsic dimension", NIPS 2004, in its unbiased form
        (:func:`lid_mle`). Why it is the default: it needs only the point's own
        ``k`` neighbour distances, so it can be measured for a sample of points
        against *every* point of a run (:func:`describe_cloud`), at the run's
        own density; it uses all ``k`` distances, so it varies less from point
        to point; and it is the "LID" of the deep-learning literature (Amsaleg
        et al., KDD 2015; Ma et al., ICLR 2018).
        ``twonn``: the TwoNN estimator of Facco, d'Errico, Rodriguez & Laio,
        "Estimating the intrinsic dimension of datasets by a minimal
        neighborhood information", Sci. Rep. 7, 12140 (2017), applied locally:
        the ratios mu = r2 / r1 of the point and its k neighbours are Pareto(d)
        distributed, so d = k / sum(log mu) (unbiased form). It needs the
        neighbours' own neighbours, so only works within one in-memory set.
        Both find 1 on the filaments of :func:`tools.synthetic.filament_cloud`
        and 10 on a 10-dimensional Gaussian (tests/analysis/test_structure.py).
    backend : {"sklearn", "pynndescent"}

    Returns
    -------
    ndarray of float64, shape (N,)
        NaN where the neighbourhood is degenerate (all neighbours at distance 0,
        i.e. duplicated points).
    """
    if method not in LID_METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(LID_METHODS)}")
    z = as_points(z, dtype=np.float32)
    need = 3 if method == "twonn" else 4
    if len(z) < need:
        raise ValueError(f"local intrinsic dimension ({method}) needs at least {need} points, got {len(z)}")
    k = min(int(k), len(z) - 1)
    if k < (2 if method == "twonn" else 3):
        raise ValueError(f"k must be at least {2 if method == 'twonn' else 3}, got {k}")
    dist, idx = knn(z, k=k, backend=backend)
    if method == "mle":
        return lid_mle(dist)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_mu = np.log(dist[:, 1] / dist[:, 0])
        log_mu[~np.isfinite(log_mu)] = np.nan
        hood = np.concatenate([log_mu[:, None], log_mu[idx]], axis=1)
        valid = np.isfinite(hood).sum(axis=1)
        total = np.nansum(hood, axis=1)
        return np.where((valid >= 2) & (total > 0), (valid - 1) / total, np.nan)


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


def gaussian_null(z, n: int | None = None, random_state=0) -> np.ndarray:
    """The null model of every structure number: ``n`` points of a Gaussian with ``z``'s mean and covariance.

    A plain ellipsoid of the data's own shape and size, with as many points
    (``n`` defaults to ``len(z)``): what the numbers would be if the data had
    no structure beyond their covariance. A claim of filaments or voids holds
    only where the data differ from it.

    Returns
    -------
    ndarray of float32, shape (n, d)
    """
    z = as_points(z, dtype=None, min_points=2)
    return sample("full_gaussian", len(z) if n is None else int(n), z, random_state=rng(random_state))


def _quantile(distances, quantile: float) -> float:
    if not 0 < float(quantile) <= 1:
        raise ValueError(f"quantile must be in (0, 1], got {quantile}")
    return float(np.quantile(np.asarray(distances, dtype=np.float64), float(quantile)))


def voids(data, probes, quantile: float = VOID_QUANTILE, n_queries: int | None = None, random_state=0, data_nn=None):
    """Which probes sit in a void of ``data``: farther from every data point than the data's ``quantile`` NN distance.

    Parameters
    ----------
    data : array_like, shape (N, d)
        At least 2 points; every probe is measured against all of them.
    probes : array_like, shape (M, d)
        E.g. from :func:`make_probes`.
    quantile : float
        Quantile of the data's own nearest-neighbour distances used as the threshold.
    n_queries : int, optional
        Data rows whose nearest-neighbour distance sets the threshold (default all).
    random_state : int
        Seed of those rows.
    data_nn : array_like, optional
        The data's nearest-neighbour distances, when already measured (:func:`data_nn_distances`).

    Returns
    -------
    dict
        ``threshold``, ``probe_nn`` (M,): each probe's distance to the nearest data point,
        ``in_void`` (M,) bools, ``fraction`` (share in voids) with ``fraction_lo`` / ``fraction_hi``
        (Wilson 95 % interval).
    """
    if data_nn is None:
        data_nn = data_nn_distances(data, n_queries, random_state)[1]
    threshold = _quantile(data_nn, quantile)
    probe_nn = nearest_rows(data, as_points(probes, name="probes", dtype=np.float32), k=1)[0][:, 0]
    beyond = probe_nn > threshold
    fraction, lo, hi = intervals.share(beyond)
    return {
        "threshold": threshold,
        "probe_nn": probe_nn,
        "in_void": beyond,
        "fraction": fraction,
        "fraction_lo": lo,
        "fraction_hi": hi,
    }


def void_fraction(data, probes, quantile: float = VOID_QUANTILE, n_queries: int | None = None, random_state=0):
    """Share of probes in a void of ``data`` (see :func:`voids`).

    Near 0 when probes come from the same distribution as the data; near 1 when
    the data occupy thin filaments and the probes fill the space between.

    Returns
    -------
    float in [0, 1]
    """
    return voids(data, probes, quantile, n_queries, random_state)["fraction"]


def describe_cloud(
    data, probes: dict, n_queries: int, k: int = LID_K, quantile: float = VOID_QUANTILE, random_state=0
) -> dict:
    """A cloud's structure numbers, each point measured against all of ``data``.

    Parameters
    ----------
    data : array_like, shape (N, d)
    probes : dict
        Probe kind -> (M, d) probe points (the same probes for the data and its null).
    n_queries : int
        Data rows whose neighbours are measured (sampled with ``random_state``).
    k : int
        Neighbours of the local dimension (:func:`lid_mle`).
    quantile : float
        The void threshold's quantile of the data's nearest-neighbour distances.
    random_state : int

    Returns
    -------
    dict
        ``ids`` (rows measured), ``lid`` (their local dimension), ``lid_median`` with
        ``lid_median_lo`` / ``lid_median_hi`` (bootstrap 95 %), ``data_nn`` (their nearest-neighbour
        distances), ``nn_median``, ``threshold``, and per probe kind ``probe_nn_<kind>``,
        ``void_<kind>``, ``void_<kind>_lo``, ``void_<kind>_hi``.
    """
    data = np.asarray(data)
    k = min(int(k), len(data) - 1)
    ids = draw_ids(len(data), n_queries, random_state)
    dist, _ = self_neighbours(data, ids, k=k)
    lid = lid_mle(dist) if k >= 3 else np.full(len(ids), np.nan)
    finite = lid[np.isfinite(lid)]
    out = {"ids": ids, "lid": lid, "data_nn": dist[:, 0], "nn_median": float(np.median(dist[:, 0]))}
    out["lid_median"] = float(np.median(finite)) if finite.size else float("nan")
    lo, hi = (
        intervals.bootstrap_interval(finite, np.median, random_state=random_state) if finite.size else (np.nan,) * 2
    )
    out.update(lid_median_lo=lo, lid_median_hi=hi, threshold=_quantile(dist[:, 0], quantile))
    for kind, points in probes.items():
        found = voids(data, points, quantile, data_nn=dist[:, 0])
        out[f"probe_nn_{kind}"] = found["probe_nn"]
        for suffix in ("", "_lo", "_hi"):
            out[f"void_{kind}{suffix}"] = found[f"fraction{suffix}"]
    return out


def structure_with_null(
    z,
    n_points: int,
    n_probes: int,
    k: int = LID_K,
    quantile: float = VOID_QUANTILE,
    max_points: int | None = None,
    random_state: int = 0,
) -> dict:
    """A run's structure numbers beside those of its covariance-matched Gaussian null (:func:`gaussian_null`).

    The reference cloud is every z-point (a random ``max_points`` of them beyond
    that); the null has as many points, so neighbour distances compare at equal
    density. Both are probed with the *same* probes — per kind of
    :data:`analysis.samplers.PROBE_KINDS`, ``n_probes`` drawn from ``z`` —
    and measured at ``n_points`` of their own points.

    Returns
    -------
    dict
        :func:`describe_cloud`'s keys for the data (``ids`` are rows of ``z``), the same with a
        ``null_`` prefix for the null (its ``ids`` left out), and ``n_reference`` (points of each cloud).
    """
    z = as_points(z, dtype=None, min_points=2)
    seed = int(random_state)
    rows = draw_ids(len(z), max_points, [seed, 0x2EF])
    reference = np.asarray(z if len(rows) == len(z) else z[rows], dtype=np.float32)
    probes = {
        kind: make_probes(kind, n_probes, z, random_state=seed + 1 + offset) for offset, kind in enumerate(PROBE_KINDS)
    }
    out = describe_cloud(reference, probes, n_points, k, quantile, seed)
    out["ids"] = rows[out["ids"]]
    null = gaussian_null(reference, random_state=[seed, 0x9A55])
    for key, value in describe_cloud(null, probes, n_points, k, quantile, seed).items():
        if key != "ids":
            out[f"null_{key}"] = value
    out["n_reference"] = len(reference)
    return out
