"""A decoded lattice over a plane's viewport: evenly spaced plane positions and the full z behind each.

A linear plane (a PCA pair, an axis pair, an attribute direction) fixes only
two of a z's coordinates; the others must come from somewhere. Held at the
data's mean they give a z far inside the data's shell (|z| a fraction of the
data's radii), so the decode is "the average face" wherever one looks. Taken
from the *nearest data point on the plane* they keep the data's own
off-plane coordinates, so a spot between two filaments decodes what lies
between them. :func:`nearest_on_plane` finds those points and
:func:`moved_onto_plane` moves each to its position; :func:`positions` lays
the k x k positions over a viewport. How far each decoded z lies from the
data is :func:`analysis.structure.nearest_data_distance`, as a percentile of
the data's own nearest-neighbour distances
(:func:`analysis.structure.distance_percentile`).
"""

from __future__ import annotations

import numpy as np

from analysis._checks import as_points

#: Most tiles per side of a lattice: 12 x 12 = 144 decodes per run and request.
MAX_SIZE = 12
#: Fewest tiles per side (one tile is no lattice).
MIN_SIZE = 2
#: Plane rows compared with the positions per block of the nearest-point search (bounds its memory).
BLOCK = 16384


def positions(x_range, y_range, k: int) -> np.ndarray:
    """The centres of a k x k grid of equal cells over a viewport, top row first, left to right.

    The order is the order a mosaic is read in (row 0 is the top of the
    viewport, the largest y), so tile ``r * k + c`` sits at row ``r``, column ``c``.

    Parameters
    ----------
    x_range, y_range : pair of float
        The viewport's (low, high) along x and y (low < high).
    k : int
        Cells per side, :data:`MIN_SIZE` to :data:`MAX_SIZE`.

    Returns
    -------
    ndarray of float64, shape (k * k, 2)
    """
    k = int(k)
    if not MIN_SIZE <= k <= MAX_SIZE:
        raise ValueError(f"a lattice has {MIN_SIZE} to {MAX_SIZE} tiles per side, not {k}")
    (x0, x1), (y0, y1) = (tuple(float(v) for v in r) for r in (x_range, y_range))
    if not (np.isfinite([x0, x1, y0, y1]).all() and x0 < x1 and y0 < y1):
        raise ValueError("a viewport's ranges must be finite and increasing")
    centres = (np.arange(k) + 0.5) / k
    xs = x0 + centres * (x1 - x0)
    ys = y1 - centres * (y1 - y0)  # top row first
    grid_y, grid_x = np.meshgrid(ys, xs, indexing="ij")
    return np.stack([grid_x.ravel(), grid_y.ravel()], axis=1)


def nearest_on_plane(plane_xy, targets) -> np.ndarray:
    """For each target position, the index of the nearest point on the plane (2-D Euclidean; first on ties).

    Parameters
    ----------
    plane_xy : array_like, shape (N, 2)
        Every data point's plane coordinates.
    targets : array_like, shape (M, 2)

    Returns
    -------
    ndarray of int64, shape (M,)
        Indices into ``plane_xy``.
    """
    xy = as_points(plane_xy, name="plane coordinates")
    t = as_points(targets, name="positions")
    if xy.shape[1] != 2 or t.shape[1] != 2:
        raise ValueError("plane coordinates and positions have two columns (x, y)")
    best = np.full(len(t), np.inf)
    found = np.zeros(len(t), dtype=np.int64)
    for start in range(0, len(xy), BLOCK):
        block = xy[start : start + BLOCK]
        d2 = (block[:, :1] - t[:, 0]) ** 2 + (block[:, 1:] - t[:, 1]) ** 2  # (block, M)
        at = d2.argmin(axis=0)
        smallest = d2[at, np.arange(len(t))]
        nearer = smallest < best  # strictly: an earlier block keeps a tie
        best[nearer] = smallest[nearer]
        found[nearer] = start + at[nearer]
    return found


def moved_onto_plane(base_z, base_xy, targets, directions) -> np.ndarray:
    """Each base z moved along the plane until its plane coordinates are the target's, nothing else changed.

    Parameters
    ----------
    base_z : array_like, shape (M, d) or (d,)
        The z each position starts from (a nearest data point, the mean, a selected point);
        one row is shared by every target.
    base_xy : array_like, shape (M, 2) or (2,)
        The plane coordinates of ``base_z``.
    targets : array_like, shape (M, 2)
    directions : array_like, shape (2, d)
        The change of z per unit of plane x (row 0) and plane y (row 1): the plane's
        orthonormal basis times its units' scale.

    Returns
    -------
    ndarray of float64, shape (M, d)
    """
    t = as_points(targets, name="positions")
    base = np.broadcast_to(np.atleast_2d(np.asarray(base_z, dtype=np.float64)), (len(t), np.shape(directions)[1]))
    start = np.broadcast_to(np.atleast_2d(np.asarray(base_xy, dtype=np.float64)), t.shape)
    return base + (t - start) @ np.asarray(directions, dtype=np.float64)
