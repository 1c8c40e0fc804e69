"""Exact nearest-data distances of a few queries without scanning all of z: a projected copy bounds the search.

Split a difference x - q into its part on the first :data:`COMPONENTS`
principal directions and the rest: the squared distance is the sum of the two
parts' squares, and the rest is at least the difference of the two points'
residual lengths (triangle inequality). So the projected distance squared plus
that difference squared is a lower bound of the true squared distance. The index
keeps every z-point's 32 projected coordinates and its residual length (an
N x 33 float32 copy, an eighth of 256-d z-points); the residual term keeps the
bound tight for a query far from the data. A query is projected; the rows nearest in projection are
measured exactly in z; then every row whose lower bound is still below the
best exact distance is measured too, and no other row can be nearer. The
answer is the exact one (what a full scan gives), the work a fraction of a
scan when the leading directions carry most of the spread, and never more
than one scan of the projected copy plus the rows it cannot rule out.
"""

from __future__ import annotations

import numpy as np

from analysis._checks import as_points

#: Principal directions the index keeps.
COMPONENTS = 32
#: Rows measured exactly first (the nearest in projection); their best distance prunes the rest.
FIRST_ROWS = 64
#: Rows measured exactly per batch when many cannot be ruled out (bounds the temporary arrays).
BATCH_ROWS = 65536
#: Relative slack on the float32 lower bounds, so rounding never rules out a row that could be nearest.
SLACK = 1e-4


def projected_index(data, mean, directions, chunk: int = 100_000) -> dict:
    """The index of ``data``: its centred coordinates on ``directions`` and their squared norms.

    Parameters
    ----------
    data : array_like, shape (N, d)
        The z-points (read chunk by chunk; a memory-mapped array is never copied whole).
    mean : array_like, shape (d,)
    directions : array_like, shape (k, d)
        Orthonormal rows (e.g. the leading principal components); the first :data:`COMPONENTS` are kept.

    Returns
    -------
    dict
        ``mean`` (d,), ``directions`` (m, d), ``coords`` (N, m), ``sq_norms`` (N,) of the coordinates and
        ``residuals`` (N,): each point's distance from the mean outside those directions, all float32.
    """
    directions = np.asarray(directions, dtype=np.float32)[:COMPONENTS]
    mean = np.asarray(mean, dtype=np.float32)
    coords = np.empty((len(data), len(directions)), dtype=np.float32)
    residuals = np.empty(len(data), dtype=np.float32)
    for start in range(0, len(data), chunk):
        block = np.asarray(data[start : start + chunk], dtype=np.float64) - mean
        projected = block @ directions.T.astype(np.float64)
        coords[start : start + len(block)] = projected
        rest = np.einsum("ij,ij->i", block, block) - np.einsum("ij,ij->i", projected, projected)
        residuals[start : start + len(block)] = np.sqrt(np.maximum(rest, 0.0))
    sq_norms = np.einsum("ij,ij->i", coords, coords)
    return {"mean": mean, "directions": directions, "coords": coords, "sq_norms": sq_norms, "residuals": residuals}


def nearest_distance(index: dict, data, query, exclude: int | None = None) -> tuple[float, int]:
    """Exact distance from ``query`` to its nearest row of ``data`` (not counting ``exclude``), and how many rows were measured.

    Parameters
    ----------
    index : dict
        :func:`projected_index` of ``data``.
    data : array_like, shape (N, d)
    query : array_like, shape (d,)
    exclude : int, optional
        A row not to count (a clicked point's own row).

    Returns
    -------
    (distance, measured)
        The distance (float) and the number of rows measured in z (at most N).
    """
    q = as_points(np.atleast_2d(np.asarray(query, dtype=np.float64)), name="query")[0]
    coords, sq_norms = index["coords"], index["sq_norms"]
    if q.shape[0] != data.shape[1] or len(coords) != len(data):
        raise ValueError(f"query of {q.shape[0]} dimensions or index of {len(coords)} rows does not fit the data")
    centred = q - index["mean"]
    projected = (centred @ index["directions"].T.astype(np.float64)).astype(np.float32)
    q_sq = float(projected @ projected)
    q_rest = np.sqrt(max(float(centred @ centred) - q_sq, 0.0))
    bounds = sq_norms - 2.0 * (coords @ projected) + q_sq + (index["residuals"] - np.float32(q_rest)) ** 2
    if exclude is not None:
        if not 0 <= int(exclude) < len(data):
            raise ValueError(f"exclude={exclude} is not a row of the data (0..{len(data) - 1})")
        bounds[int(exclude)] = np.inf
    available = len(data) - (exclude is not None)
    if available < 1:
        raise ValueError("no data row to measure against")
    first = np.argpartition(bounds, min(FIRST_ROWS, available) - 1)[: min(FIRST_ROWS, available)]
    first = first[np.isfinite(bounds[first])]
    best = _exact_sq(data, q, first).min()
    bounds[first] = np.inf  # measured already
    # Float32 rounding of the bounds is at most a tiny fraction of the squared norms involved.
    slack = SLACK * (float(sq_norms.max()) + q_sq + float(index["residuals"].max()) ** 2 + q_rest**2) + SLACK * best
    rest = np.flatnonzero(bounds <= best + slack)
    for start in range(0, len(rest), BATCH_ROWS):
        best = min(best, _exact_sq(data, q, rest[start : start + BATCH_ROWS]).min())
    return float(np.sqrt(best)), len(first) + len(rest)


def _exact_sq(data, q: np.ndarray, rows: np.ndarray) -> np.ndarray:
    diff = np.asarray(data[np.sort(rows)], dtype=np.float64) - q
    return np.einsum("ij,ij->i", diff, diff)
