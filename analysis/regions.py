"""Which 2-D points lie inside a drawn region: a box or a lasso polygon (what a plot's selection tools draw).

Pure numpy. A selection on a plane is kept as its shapes, not as the ids of the
points inside, so it stays small whatever it covers; the ids are recomputed here.
"""

from __future__ import annotations

import numpy as np

#: Shape kinds: an axis-aligned box (x = [x0, x1], y = [y0, y1]) or a polygon (x, y = its vertices).
KINDS = ("box", "lasso")


def in_box(xy: np.ndarray, x, y) -> np.ndarray:
    """Boolean mask of the points of ``xy`` (N x 2) inside the box ``x = [x0, x1]``, ``y = [y0, y1]`` (edges included)."""
    xy = np.asarray(xy)
    (x0, x1), (y0, y1) = sorted(map(float, x)), sorted(map(float, y))
    return (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)


def in_polygon(xy: np.ndarray, x, y) -> np.ndarray:
    """Boolean mask of the points of ``xy`` (N x 2) inside the polygon with vertices ``(x[k], y[k])``.

    Even-odd rule (a ray cast to the right crosses the boundary an odd number of
    times), as plotly's lasso selects; the polygon closes itself. Only points in
    the polygon's bounding box are tested, edge by edge, so the work is
    (points in the box) x (vertices).
    """
    xy = np.asarray(xy)
    vx, vy = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if vx.shape != vy.shape or vx.ndim != 1 or len(vx) < 3:
        raise ValueError("a polygon needs at least 3 vertices, as equally long x and y lists")
    inside = np.zeros(len(xy), dtype=bool)
    candidates = np.flatnonzero(in_box(xy, (vx.min(), vx.max()), (vy.min(), vy.max())))
    if candidates.size == 0:
        return inside
    px, py = xy[candidates, 0].astype(np.float64), xy[candidates, 1].astype(np.float64)
    odd = np.zeros(len(candidates), dtype=bool)
    for k in range(len(vx)):
        x0, y0, x1, y1 = vx[k - 1], vy[k - 1], vx[k], vy[k]
        if y0 == y1:
            continue  # a horizontal edge is never crossed by a horizontal ray
        crosses = (y0 > py) != (y1 > py)
        at_x = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
        odd ^= crosses & (px < at_x)
    inside[candidates] = odd
    return inside


def in_shapes(xy: np.ndarray, shapes) -> np.ndarray:
    """Boolean mask of the points inside any of ``shapes`` (dicts ``{"kind", "x", "y"}``, see :data:`KINDS`)."""
    inside = np.zeros(len(xy), dtype=bool)
    for shape in shapes:
        test = in_box if shape["kind"] == "box" else in_polygon
        inside |= test(xy, shape["x"], shape["y"])
    return inside
