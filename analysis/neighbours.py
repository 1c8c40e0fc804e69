"""Nearest-neighbour searches: within one in-memory set (:func:`knn`) or streamed over a run's z-points.

:func:`knn` uses scikit-learn's exact ``NearestNeighbors`` by default;
``backend="pynndescent"`` uses approximate NN-descent (see docs/BENCHMARKS.md
for when it pays off). :func:`nearest_rows` and :func:`nearest_data_distance`
stream over a (memory-mapped) array in chunks, exactly, so a few queries
against 200k x 256 z-points never copy the array whole.
"""

from __future__ import annotations

import numpy as np

from analysis._checks import as_points, draw_ids

KNN_BACKENDS = ("sklearn", "pynndescent")
#: Rows per chunk of the streamed nearest-distance scan (64k x 256 float32 = 64 MB).
NEAREST_CHUNK = 65536
#: Query x data distances held at once by :func:`nearest_rows` (16M float32 = 64 MB): many queries
#: stream the data in smaller chunks.
BLOCK_ENTRIES = 2**24
#: Queries whose found neighbours are re-measured exactly (in float64) at once.
EXACT_BLOCK = 512
#: Candidates beyond k per query that :func:`nearest_rows` re-measures in float64.
EXTRA_CANDIDATES = 8


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


def nearest_rows(data, queries, k: int = 1, exclude=None, rows=None, sq_norms=None):
    """The ``k`` nearest data points of each query, exact, streamed over ``data`` in chunks.

    Candidates are found with one float32 matrix product per chunk, around
    the queries' mean (float32 ``|a|^2 - 2ab + |b|^2`` far from the origin
    loses the small distances of a dense cloud); the :data:`EXTRA_CANDIDATES`
    best beyond ``k`` are then measured again in float64 and the ``k``
    nearest kept, so near-ties that float32 ranks wrongly come out right.

    Parameters
    ----------
    data : array_like, shape (N, d)
        The z-points (a memory-mapped array is read chunk by chunk, never copied whole).
    queries : array_like, shape (M, d) or (d,)
    k : int
        Neighbours per query (at most the number of candidate rows).
    exclude : int or sequence of int, optional
        Data rows not to count (a selected point's own row; a path's end points).
    rows : array_like of int, optional
        Search only these rows (e.g. the points a 2-D map holds); default every row.
    sq_norms : ndarray, shape (N,), optional
        ``|data_i|^2`` if the caller keeps them (saves computing them per chunk).

    Returns
    -------
    distances : ndarray of float64, shape (M, k), ascending
    indices : ndarray of int64, shape (M, k)
        Row ids into ``data``.
    """
    data, q64 = _checked_points(data, queries)
    candidates = _candidate_rows(rows, len(data))
    excluded = _excluded_rows(exclude, len(data))
    total = len(data) if candidates is None else len(candidates)
    n_excluded = 0
    if excluded is not None:
        n_excluded = len(excluded) if candidates is None else int(np.isin(excluded, candidates).sum())
    available = total - n_excluded
    k = int(k)
    if not 1 <= k <= available:
        raise ValueError(f"k={k} neighbours requested but only {available} data point(s) exist")
    chunk = int(max(256, min(NEAREST_CHUNK, BLOCK_ENTRIES // len(q64))))
    search = _Search(data, q64, candidates, excluded, sq_norms, want=min(k + EXTRA_CANDIDATES, available))
    for start in range(0, total, chunk):
        search.take(start, chunk, total)
    distances = _exact_distances(data, q64, search.best_ids)
    order = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(distances, order, axis=1), np.take_along_axis(search.best_ids, order, axis=1)


def _checked_points(data, queries) -> tuple[np.ndarray, np.ndarray]:
    data = np.asarray(data)
    if data.ndim != 2 or len(data) < 1:
        raise ValueError(f"data must be a non-empty N x d array, got shape {data.shape}")
    q64 = as_points(np.atleast_2d(np.asarray(queries, dtype=np.float64)), name="queries")
    if q64.shape[1] != data.shape[1]:
        raise ValueError(f"queries have {q64.shape[1]} dimensions but data has {data.shape[1]}")
    return data, q64


def _candidate_rows(rows, n: int) -> np.ndarray | None:
    candidates = None if rows is None else np.unique(np.asarray(rows, dtype=np.int64))
    if candidates is not None and (len(candidates) == 0 or candidates[0] < 0 or candidates[-1] >= n):
        raise ValueError(f"rows must be row ids of the data (0..{n - 1})")
    return candidates


def _excluded_rows(exclude, n: int) -> np.ndarray | None:
    if exclude is None:
        return None
    excluded = np.unique(np.atleast_1d(np.asarray(exclude, dtype=np.int64)))
    if len(excluded) and (excluded[0] < 0 or excluded[-1] >= n):
        bad = excluded[0] if excluded[0] < 0 else excluded[-1]
        raise ValueError(f"exclude={bad} is not a row of the data (0..{n - 1})")
    return excluded


class _Search:
    """The float32 candidate search of :func:`nearest_rows`: the best ``want`` rows per query so far."""

    def __init__(self, data, q64: np.ndarray, candidates, excluded, sq_norms, want: int):
        self.data, self.candidates, self.excluded, self.sq_norms, self.want = data, candidates, excluded, sq_norms, want
        q = q64.astype(np.float32)
        # Distances are translation-invariant: measured around the queries' mean, the float32 terms stay small
        # (not with the caller's |data_i|^2, which are about the origin).
        self.centre = np.zeros(q.shape[1], np.float32) if sq_norms is not None else q64.mean(axis=0).astype(np.float32)
        self.q = q - self.centre
        self.q_norms = np.einsum("ij,ij->i", self.q, self.q)
        # Per query (row) the best so far; rows are contiguous, so each partition below reads memory in order.
        self.best_d2 = np.full((len(q), want), np.inf, dtype=np.float32)
        self.best_ids = np.zeros((len(q), want), dtype=np.int64)

    def take(self, start: int, chunk: int, total: int) -> None:
        """Measure the chunk of candidate rows from ``start`` and keep the best ``want`` per query."""
        if self.candidates is None:
            ids = np.arange(start, min(start + chunk, total), dtype=np.int64)
            block = np.asarray(self.data[start : start + len(ids)], dtype=np.float32)
        else:
            ids = self.candidates[start : start + chunk]
            block = np.asarray(self.data[ids], dtype=np.float32)
        if self.sq_norms is None:
            block = block - self.centre
        norms = np.einsum("ij,ij->i", block, block) if self.sq_norms is None else np.asarray(self.sq_norms)[ids]
        # |a-b|^2 = |a|^2 - 2ab + |b|^2: one (M x d) @ (d x chunk) product per chunk.
        d2 = self.q @ block.T
        d2 *= -2.0
        d2 += norms[None, :]
        d2 += self.q_norms[:, None]
        if self.excluded is not None:
            d2[:, np.isin(ids, self.excluded)] = np.inf
        self._merge(d2, ids)

    def _merge(self, d2: np.ndarray, ids: np.ndarray) -> None:
        # Keep the best of (this chunk's best) and (the running best), per query.
        want = self.want
        if want < len(ids):
            part = np.argpartition(d2, want - 1, axis=1)[:, :want]
        else:
            part = np.broadcast_to(np.arange(len(ids)), (len(self.q), len(ids)))
        merged_d2 = np.concatenate([self.best_d2, np.take_along_axis(d2, part, axis=1)], axis=1)
        merged_ids = np.concatenate([self.best_ids, ids[part]], axis=1)
        keep = np.argpartition(merged_d2, want - 1, axis=1)[:, :want]
        self.best_d2 = np.take_along_axis(merged_d2, keep, axis=1)
        self.best_ids = np.take_along_axis(merged_ids, keep, axis=1)


def _exact_distances(data, queries: np.ndarray, found: np.ndarray) -> np.ndarray:
    # |q - data[found]| in float64, a block of queries at a time (each block reads its rows once, in order).
    out = np.empty(found.shape)
    for start in range(0, len(found), EXACT_BLOCK):
        part = found[start : start + EXACT_BLOCK]
        unique, inverse = np.unique(part, return_inverse=True)
        points = np.asarray(data[unique], dtype=np.float64)[inverse.reshape(part.shape)]
        diff = points - queries[start : start + EXACT_BLOCK, None, :]
        out[start : start + EXACT_BLOCK] = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    return out


def self_neighbours(data, rows, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest *other* points of data rows ``rows``, among all of ``data`` (streamed, exact).

    Parameters
    ----------
    data : array_like, shape (N, d)
    rows : array_like of int, shape (M,)
    k : int
        At most N - 1.

    Returns
    -------
    distances : ndarray of float64, shape (M, k), ascending (a duplicate of a row is at 0)
    indices : ndarray of int64, shape (M, k)
    """
    rows = np.asarray(rows, dtype=np.int64).ravel()
    data = np.asarray(data)
    k = int(k)
    if not 1 <= k <= len(data) - 1:
        raise ValueError(f"k={k} neighbours requested but only {len(data) - 1} other point(s) exist")
    if len(rows) == 0 or rows.min() < 0 or rows.max() >= len(data):
        raise ValueError(f"rows must be row ids of the data (0..{len(data) - 1})")
    dist, idx = nearest_rows(data, np.asarray(data[rows]), k=k + 1)
    # Drop each row's own entry; with duplicates it need not be column 0 (then drop the last).
    own = idx == rows[:, None]
    drop = np.where(own.any(axis=1), own.argmax(axis=1), k)
    keep = np.ones_like(own)
    keep[np.arange(len(rows)), drop] = False
    return dist[keep].reshape(len(rows), k), idx[keep].reshape(len(rows), k)


def data_nn_distances(data, n_queries: int | None = None, random_state=0) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-neighbour distance of ``n_queries`` random data rows to the nearest *other* row of all ``data``.

    The data's own reference scale: a probe or a path step is "in a void"
    when it is farther from every data point than nearly all data points are
    from their nearest neighbour.

    Returns
    -------
    rows : ndarray of int64, shape (M,)
        The rows measured (sorted; all rows when ``n_queries`` is None or larger than N).
    distances : ndarray of float64, shape (M,)
    """
    data = np.asarray(data)
    if data.ndim != 2:
        raise ValueError(f"data must be an N x d array, got shape {data.shape}")
    rows = draw_ids(len(data), n_queries, random_state)
    return rows, self_neighbours(data, rows, k=1)[0][:, 0]


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
