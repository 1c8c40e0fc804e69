"""From a UMAP map back to its input: umap-learn's inverse, from a cached map's arrays.

A click on an empty part of a UMAP plane becomes a z without a pickled model
and without refitting: :func:`inverse_transform` runs umap-learn's own
``UMAP.inverse_transform`` steps and kernels on what
:class:`analysis.umap_maps.UmapResult` stores. It is trustworthy inside the
data's convex hull (:func:`inside_hull`) and an extrapolation outside.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict

import numpy as np

from analysis._checks import as_points
from analysis.umap_maps import FIXED, TRANSFORM_SEED, UmapResult, _umap


def triangulate(embedding):
    """The Delaunay triangulation of a map, as umap-learn's ``inverse_transform`` builds it.

    Building it is the slow part of an inverse on a large map (measured: 0.3 s
    of CPU for 20k points, 2 s for 165k); a caller that inverts many clicks may
    keep it and pass it to :func:`inverse_transform` and :func:`inside_hull`.
    """
    from scipy.spatial import Delaunay

    embedding = as_points(embedding, name="embedding", min_points=3)
    if embedding.shape[1] != 2:
        raise ValueError(f"embedding must be N x 2, got shape {embedding.shape}")
    return Delaunay(embedding, incremental=True, qhull_options="QJ")


def inside_hull(embedding, points, triangulation=None) -> np.ndarray:
    """True for each 2-D point inside the convex hull of the map ``embedding``.

    Outside the hull an inverse extrapolates from the nearest edge of the data
    and is not trustworthy.

    Parameters
    ----------
    embedding : array_like, shape (n, 2)
    points : array_like, shape (m, 2)
    triangulation : scipy.spatial.Delaunay, optional
        :func:`triangulate` of ``embedding``, when the caller keeps one.

    Returns
    -------
    ndarray of bool, shape (m,)
    """
    tri = triangulation if triangulation is not None else triangulate(embedding)
    points = _points_2d(points)
    return tri.find_simplex(points) >= 0


def _points_2d(points) -> np.ndarray:
    points = as_points(np.atleast_2d(np.asarray(points, dtype=np.float64)), name="points")
    if points.shape[1] != 2:
        raise ValueError(f"points must be 2-D map coordinates (m x 2), got shape {points.shape}")
    return points


class InverseMap:
    """What inverting clicks on one map needs, built once: the triangulation, its graph and the mapped rows.

    Building these is most of a click's work on a large map (the triangulation alone:
    0.3 s of CPU for 20k points, 2 s for 165k); a server keeps one per map
    (:func:`inverse_map`) so each click pays only for its own points.

    Parameters
    ----------
    fit : UmapResult
    data : array_like, shape (n, d)
        The rows the map was fitted on (:func:`map_input` of its ``ids``).
    triangulation : scipy.spatial.Delaunay, optional
        :func:`triangulate` of the map, when the caller has one.
    """

    def __init__(self, fit: UmapResult, data, triangulation=None):
        from scipy.sparse import csr_matrix

        self.fit = fit
        self.embedding = np.asarray(fit.embedding, dtype=np.float32)
        self.data = np.ascontiguousarray(as_points(data, name="data"), dtype=np.float32)
        if len(self.data) != len(self.embedding):
            raise ValueError(f"data has {len(self.data)} rows but the map has {len(self.embedding)} points")
        self.triangulation = triangulation if triangulation is not None else triangulate(self.embedding)
        n = len(self.embedding)
        indptr, indices = self.triangulation.vertex_neighbor_vertices
        self.adjacency = csr_matrix((np.ones(len(indices), dtype=np.int8), indices, indptr), shape=(n, n))
        self.adjacency.sort_indices()  # neighbours in ascending order, as umap-learn's CSR matrix has them

    def to_z(self, points) -> np.ndarray:
        """:func:`inverse_transform` of ``points`` with the kept structures."""
        return inverse_transform(self.fit, self.data, points, inverse=self)

    def inside(self, points) -> np.ndarray:
        """:func:`inside_hull` of ``points`` with the kept triangulation."""
        return inside_hull(self.embedding, points, triangulation=self.triangulation)


#: Inverse structures kept per process (one per map; a 165k-point map's take about 40 MB).
INVERSE_MAPS_KEPT = 4
_inverse_maps: OrderedDict = OrderedDict()
_inverse_lock = threading.Lock()


def inverse_map(key, build) -> InverseMap:
    """The :class:`InverseMap` kept under ``key`` (which must change with the map and its data), else ``build()``."""
    with _inverse_lock:
        if key in _inverse_maps:
            _inverse_maps.move_to_end(key)
            return _inverse_maps[key]
    built = build()
    with _inverse_lock:
        _inverse_maps[key] = built
        while len(_inverse_maps) > INVERSE_MAPS_KEPT:
            _inverse_maps.popitem(last=False)
    return built


def inverse_transform(
    fit: UmapResult, data, points, triangulation=None, inverse: InverseMap | None = None
) -> np.ndarray:
    """Map 2-D points of a UMAP map back to its input space: umap-learn's ``inverse_transform``, from stored arrays.

    The steps and the numerical kernels are umap-learn's (``UMAP.inverse_transform``
    of umap-learn 0.5): find the Delaunay triangle of the map that holds the
    point; walk the triangulation breadth-first from its first corner until
    ``min(input dimensions, n)`` mapped points are reached; weight the closest
    of them by the fit's membership curve 1 / (1 + a d^(2b)); start at the
    weighted mean of their input rows and refine it with umap-learn's
    ``optimize_layout_inverse`` (the fit's sigmas and rhos, seeded with
    umap-learn's default ``transform_seed``). Two departures, neither changing
    a result inside the hull: the triangulation's adjacency is read from
    scipy's ``vertex_neighbor_vertices`` instead of a Python loop over all
    triangles (seconds per click at 20k points), and a point outside the hull
    starts from the nearest mapped point instead of umap-learn's arbitrary last
    triangle.

    Parameters
    ----------
    fit : UmapResult
        The map (its ``params``, ``embedding``, ``a``, ``b``, ``sigmas``, ``rhos``).
    data : array_like, shape (n, d)
        The rows the map was fitted on (:func:`map_input` of its ``ids``).
    points : array_like, shape (m, 2)
        Map coordinates to invert.
    triangulation : scipy.spatial.Delaunay, optional
        :func:`triangulate` of ``fit.embedding``, when the caller keeps one.
    inverse : InverseMap, optional
        Every structure of the map built once (then ``data`` and ``triangulation`` are its own).

    Returns
    -------
    ndarray of float32, shape (m, d)
        Trustworthy only where :func:`inside_hull` is True.
    """
    from scipy.sparse import coo_matrix
    from sklearn.preprocessing import normalize

    _umap()
    from umap.distances import euclidean as map_distance
    from umap.distances import named_distances_with_gradients
    from umap.umap_ import breadth_first_search, init_transform, make_epochs_per_sample

    if inverse is None:
        inverse = InverseMap(fit, data, triangulation)
    embedding, data, tri, adjacency = inverse.embedding, inverse.data, inverse.triangulation, inverse.adjacency
    points = _points_2d(points).astype(np.float32)
    n, m = len(embedding), len(points)
    simplex = tri.find_simplex(points)
    starts = [
        tri.simplices[s][0] if s >= 0 else int(np.argmin(((embedding - points[i]) ** 2).sum(axis=1)))
        for i, s in enumerate(simplex)
    ]

    k = min(data.shape[1], n)
    rows, cols, dists = [], [], []
    for i, start in enumerate(starts):
        around = breadth_first_search(adjacency, start, min_vertices=k)
        # umap-learn's own map distance, rounding included: the epoch schedule hangs on these weights.
        d = np.array([map_distance(points[i], embedding[v]) for v in around])
        closest = np.argsort(d)[:k]
        rows.append(np.full(k, i))
        cols.append(around[closest])
        dists.append(d[closest])
    rows, cols, dists = np.concatenate(rows), np.concatenate(cols), np.concatenate(dists)
    weights = 1 / (1 + fit.a * dists ** (2 * fit.b))
    graph = coo_matrix((weights, (rows, cols)), shape=(m, n))
    csr = normalize(graph.tocsr(), norm="l1")
    start_points = init_transform(csr.indices.reshape(m, k), csr.data.reshape(m, k), data)

    n_epochs = fit.params.get("n_epochs")
    n_epochs = (100 if m <= 10000 else 30) if n_epochs is None else int(n_epochs // 3.0)
    rng_state = np.random.RandomState(TRANSFORM_SEED).randint(np.iinfo(np.int32).min, np.iinfo(np.int32).max, 3)
    # umap-learn's optimize_layout_inverse, with its epoch kernel compiled once per process
    # instead of on every call (about 2 s of one core per click otherwise).
    epochs_per_sample = make_epochs_per_sample(graph.data, n_epochs)
    epochs_per_negative_sample = epochs_per_sample / FIXED["negative_sample_rate"]
    next_negative, next_sample = epochs_per_negative_sample.copy(), epochs_per_sample.copy()
    head, tail, weight = graph.row, graph.col, graph.data
    sigmas, rhos = np.asarray(fit.sigmas, dtype=np.float32), np.asarray(fit.rhos, dtype=np.float32)
    metric = named_distances_with_gradients[fit.params.get("metric", "euclidean")]
    epoch, rng_state = _inverse_epoch(), rng_state.astype(np.int64)
    initial_alpha = alpha = FIXED["learning_rate"] / 4.0
    for n_done in range(n_epochs):
        epoch(
            epochs_per_sample,
            next_sample,
            head,
            tail,
            start_points,  # moved: the points being inverted
            data,  # fixed: the mapped rows
            metric,
            (),
            weight,
            sigmas,
            data.shape[1],
            alpha,
            False,  # move_other
            n_done,
            next_negative,
            epochs_per_negative_sample,
            rng_state,
            n,
            rhos,
            FIXED["repulsion_strength"],
        )
        alpha = initial_alpha * (1.0 - n_done / n_epochs)
    return start_points


@functools.cache
def _inverse_epoch():
    """umap-learn's inverse-layout epoch kernel, compiled on first use and kept for the process."""
    import numba

    _umap()
    from umap.layouts import _optimize_layout_inverse_single_epoch

    return numba.njit(_optimize_layout_inverse_single_epoch, fastmath=True)


def warm_up(random_state: int = 0) -> float:
    """Compile umap-learn's numba kernels with a tiny fit and inverse; return the seconds it took.

    A first click on a UMAP map's empty space otherwise stalls while numba compiles
    the inverse (and the fit's kernels it shares). Numba types by dtype and
    layout, not size, so 300 points compile what any map's inverse needs; a map of
    4,096 points or more also compiles umap-learn's approximate neighbour search
    on first use, in the background job that computes it.
    """
    import numba

    started = time.perf_counter()
    umap = _umap()
    x = np.random.default_rng(random_state).normal(size=(300, 8)).astype(np.float32)
    threads = numba.get_num_threads()
    try:
        model = umap.UMAP(n_epochs=20, random_state=random_state, n_jobs=1, **FIXED)
        embedding = model.fit_transform(x)
    finally:
        numba.set_num_threads(threads)
    fit = UmapResult(
        ids=np.arange(len(x)),
        embedding=np.asarray(embedding, dtype=np.float32),
        params={"n_epochs": 20, "metric": "euclidean"},
        a=float(model._a),
        b=float(model._b),
        sigmas=np.asarray(model._sigmas, dtype=np.float32),
        rhos=np.asarray(model._rhos, dtype=np.float32),
    )
    inverse_transform(fit, x, fit.embedding[:2].mean(axis=0, keepdims=True))
    return time.perf_counter() - started
