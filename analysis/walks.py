"""Walks through z-space: paths between two z, their per-step measures, neighbours, attribute directions, traversals.

The seed's question is what lies *between* an AE's z-points. A path from one
data point to another shows it step by step: how far each step is from the
nearest data point (in full z-space, not on a projection), how crowded its
surroundings are (the k-NN radius) and its norm. Every search here is exact and
streamed over a (memory-mapped) array in chunks, so a request with 64 steps
against 200k x 256 z-points is one pass that never copies the array whole.

The interpolations themselves are :func:`analysis.samplers.lerp` and
:func:`analysis.samplers.slerp`.
"""

from __future__ import annotations

import numpy as np

from analysis._checks import CHUNK, as_points
from analysis.neighbours import nearest_rows
from analysis.samplers import lerp, slerp

#: How a path walks from A to B: a straight line, or the great circle (keeps the norm profile).
PATH_KINDS = ("linear", "spherical")
#: Neighbours behind the local-density measure of a step (its k-NN radius).
DENSITY_K = 10
#: Percentiles of the data that bound a traversal along an axis or a principal component.
TRAVERSAL_PERCENTILES = (1.0, 99.0)
#: Two directions closer than this (|cos| above 1 - PARALLEL) span no plane.
PARALLEL = 1e-6


def path(z0, z1, steps: int, kind: str = "linear") -> np.ndarray:
    """``steps`` points from ``z0`` to ``z1`` (both included) along a straight or a spherical path.

    Parameters
    ----------
    z0, z1 : array_like, shape (z_dim,)
    steps : int
        At least 2.
    kind : {"linear", "spherical"}

    Returns
    -------
    ndarray of float64, shape (steps, z_dim)
    """
    if kind not in PATH_KINDS:
        raise ValueError(f"unknown path kind {kind!r}; choose one of {', '.join(PATH_KINDS)}")
    return lerp(z0, z1, steps) if kind == "linear" else slerp(z0, z1, steps)


def path_profile(data, steps, *, exclude, k: int = DENSITY_K, sq_norms=None, rows=None) -> dict[str, np.ndarray]:
    """Per step of a path: distance to the nearest data point, k-NN radius and norm, in full z-space.

    The path's own end points (and any point it is compared with) are left out
    of the reference: counted as data, they would put the first and last step
    at distance 0 and make every path seem to rise out of the data and
    "cross a void" by construction. Measured against the *other* points, a
    step is comparable with the data's own nearest-neighbour distances
    (:func:`analysis.structure.data_nn_distances`, its median and 99th
    percentile in :func:`analysis.structure.nn_reference`).

    Parameters
    ----------
    data : array_like, shape (N, d)
        The run's z-points.
    steps : array_like, shape (M, d)
        The path (e.g. from :func:`path`); several paths may be stacked into one call (one pass over ``data``).
    exclude : int, sequence of int or None
        Data rows not counted: the path's end points and compared points (None: the ends are no data rows).
    k : int
        Neighbours of the local-density measure (clipped to the rows available).
    sq_norms : ndarray, shape (N,), optional
    rows : array_like of int, optional
        Measure against these data rows only (e.g. the rows a metadata filter keeps); default all.

    Returns
    -------
    dict
        ``nearest`` (M,): distance to the nearest data point; ``knn_radius`` (M,): distance to
        the k-th nearest (small = crowded, large = a void); ``norm`` (M,): |z|. All float64.
    """
    steps = as_points(steps, name="steps")
    candidates = np.arange(len(data)) if rows is None else np.unique(np.asarray(rows, dtype=np.int64))
    left_out = 0 if exclude is None else int(np.isin(candidates, np.atleast_1d(exclude)).sum())
    available = len(candidates) - left_out
    distances, _ = nearest_rows(data, steps, k=min(int(k), available), exclude=exclude, rows=rows, sq_norms=sq_norms)
    return {"nearest": distances[:, 0], "knn_radius": distances[:, -1], "norm": np.linalg.norm(steps, axis=1)}


def class_split(values) -> tuple[np.ndarray, dict]:
    """Split a metadata column into two classes: a binary column by its two values, any other at its median.

    Returns
    -------
    high : ndarray of bool, shape (N,)
        True for the upper class (the larger value, or above the median).
    about : dict
        ``binary`` (bool), ``threshold`` (float: the larger of two values, or the median),
        ``low_label`` / ``high_label`` (short text for each class).
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    finite = values[np.isfinite(values)]
    distinct = np.unique(finite)
    if len(distinct) < 2:
        raise ValueError("the column has fewer than two distinct values, so it splits into no two classes")
    if len(distinct) == 2:
        lo, hi = (float(v) for v in distinct)
        return values == hi, {"binary": True, "threshold": hi, "low_label": f"{lo:g}", "high_label": f"{hi:g}"}
    median = float(np.median(finite))
    high = values > median
    if not high.any():  # more than half the values tie at the top: split below them instead
        median = float(distinct[-2])
        high = values > median
    return high, {"binary": False, "threshold": median, "low_label": f"≤ {median:.3g}", "high_label": f"> {median:.3g}"}


def attribute_direction(z, values, rows=None) -> dict:
    """The direction between the two class means of a metadata column in z-space.

    Parameters
    ----------
    z : array_like, shape (N, d)
        Streamed in chunks (a memory-mapped array is not copied).
    values : array_like, shape (N,)
        The column (binary, or continuous and split at its median: :func:`class_split`);
        non-finite values belong to neither class.
    rows : array_like of int, optional
        Fit on these rows only (e.g. a training split), so other rows can check it.

    Returns
    -------
    dict
        ``unit`` (d,): unit vector from the low to the high class mean; ``distance``: the
        class-mean distance; ``mean_low`` / ``mean_high`` (d,); ``n_low`` / ``n_high``;
        and :func:`class_split`'s ``binary``, ``threshold``, ``low_label``, ``high_label``.
    """
    z = np.asarray(z)
    values = np.asarray(values, dtype=np.float64).ravel()
    if z.ndim != 2 or len(values) != len(z):
        raise ValueError(f"values must hold one number per z-point ({len(z)}), got {len(values)}")
    use = np.isfinite(values)
    if rows is not None:
        chosen = np.zeros(len(z), dtype=bool)
        chosen[np.asarray(rows, dtype=np.int64)] = True
        use &= chosen
    high, about = class_split(np.where(use, values, np.nan))
    low = use & ~high
    sums = np.zeros((2, z.shape[1]))
    for start in range(0, len(z), CHUNK):
        block = np.asarray(z[start : start + CHUNK], dtype=np.float64)
        sums[0] += block[low[start : start + CHUNK]].sum(axis=0)
        sums[1] += block[high[start : start + CHUNK]].sum(axis=0)
    counts = np.array([low.sum(), high.sum()])
    mean_low, mean_high = sums[0] / counts[0], sums[1] / counts[1]
    difference = mean_high - mean_low
    distance = float(np.linalg.norm(difference))
    if not distance > 0:
        raise ValueError("the two class means coincide, so they define no direction")
    return {
        "unit": difference / distance,
        "distance": distance,
        "mean_low": mean_low,
        "mean_high": mean_high,
        "n_low": int(counts[0]),
        "n_high": int(counts[1]),
        **about,
    }


def plane_basis(direction, components) -> np.ndarray:
    """An orthonormal pair: ``direction``, then the first of ``components`` made orthogonal to it.

    The plane "attribute direction x PC1": PC1 with its part along the direction
    removed (Gram-Schmidt), or the next component when PC1 is (nearly) the direction itself.

    Returns
    -------
    ndarray of float64, shape (2, d)
    """
    u = np.asarray(direction, dtype=np.float64).ravel()
    u = u / np.linalg.norm(u)
    for component in np.atleast_2d(np.asarray(components, dtype=np.float64)):
        rest = component - (component @ u) * u
        size = np.linalg.norm(rest)
        if size > PARALLEL * max(np.linalg.norm(component), 1.0):
            return np.stack([u, rest / size])
    raise ValueError("every component given lies along the direction; no plane is spanned")


def scores(z, basis, origin) -> np.ndarray:
    """Coordinates of every z-point along the rows of ``basis`` from ``origin``, streamed.

    Returns
    -------
    ndarray of float64, shape (N, len(basis))
    """
    basis = np.atleast_2d(np.asarray(basis, dtype=np.float64))
    origin = np.asarray(origin, dtype=np.float64).ravel()
    z = np.asarray(z)
    out = np.empty((len(z), len(basis)))
    for start in range(0, len(z), CHUNK):
        out[start : start + CHUNK] = (np.asarray(z[start : start + CHUNK], dtype=np.float64) - origin) @ basis.T
    return out


def percentile_range(values, percentiles=TRAVERSAL_PERCENTILES) -> tuple[float, float]:
    """The observed ``percentiles`` (default 1st and 99th) of one coordinate of the data."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("no values to take percentiles of")
    lo, hi = np.percentile(values, percentiles)
    return float(lo), float(hi)


def traversal(z0, unit, values, origin=None) -> np.ndarray:
    """``z0`` moved along ``unit`` so that its coordinate ``(z - origin) . unit`` takes each of ``values``.

    Every other coordinate (orthogonal to ``unit``) stays that of ``z0``. An original
    axis is ``unit = e_i`` with ``origin = 0`` (the axis's value is replaced); a principal
    component is its loading vector with ``origin`` the data mean (its score is replaced).

    Returns
    -------
    ndarray of float64, shape (len(values), d)
    """
    z0 = np.asarray(z0, dtype=np.float64).ravel()
    u = np.asarray(unit, dtype=np.float64).ravel()
    u = u / np.linalg.norm(u)
    origin = np.zeros_like(z0) if origin is None else np.asarray(origin, dtype=np.float64).ravel()
    values = np.asarray(values, dtype=np.float64).ravel()
    return z0 + (values - (z0 - origin) @ u)[:, None] * u


def attribute_walk(z0, direction: dict, span: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """``z0`` walked along an attribute direction, from ``-span`` to ``+span`` class-mean distances.

    Returns
    -------
    offsets : ndarray, shape (steps,)
        Each step's offset in units of the class-mean distance.
    z : ndarray of float64, shape (steps, d)
    """
    if int(steps) < 2 or not float(span) > 0:
        raise ValueError(f"a walk needs at least 2 steps and a positive span, got {steps} and {span}")
    offsets = np.linspace(-float(span), float(span), int(steps))
    z0 = np.asarray(z0, dtype=np.float64).ravel()
    unit = np.asarray(direction["unit"], dtype=np.float64).ravel()
    return offsets, z0 + (offsets * float(direction["distance"]))[:, None] * unit


def jaccard(first, second) -> float:
    """|A ∩ B| / |A ∪ B| of two sets of row ids (1.0 for two empty sets)."""
    a, b = {int(v) for v in first}, {int(v) for v in second}
    return 1.0 if not (a or b) else len(a & b) / len(a | b)
