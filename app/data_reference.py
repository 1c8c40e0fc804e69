"""The data's own scale, as the views quote it beside a number: nearest-neighbour distances and radii.

A distance to the nearest data point means little alone (it shrinks with the
number of points and grows with z_dim); beside the data's own
nearest-neighbour distances (:data:`analysis.results.nn_reference`) it says
whether a decoded z sits among the data (below the median) or in a void
(beyond the 99th percentile). A decoded z's |z| is quoted beside the data's
typical radii (:func:`analysis.radius.radius_band`) the same way. Not a view:
the decode panel, the decoded lattice and the path profiles share it.
"""

from __future__ import annotations

import numpy as np

from app.memo import MemoKey
from app.store import AnalysisPending, RunHandle


def nn_reference(run: RunHandle) -> dict | None:
    """The data's nearest-neighbour reference (``distances`` sorted, ``median``, ``p99``, ``n``).

    None while a large run's reference is not computed yet (``zspace analyze``
    computes it; a request computes it only for runs small enough).
    """
    from analysis import results

    try:
        return run.result(results.nn_reference)
    except AnalysisPending:
        return None


def percentiles(run: RunHandle, distances) -> np.ndarray | None:
    """Each distance as a percentile (0-100) of the data's own nearest-neighbour distances (None: no reference)."""
    from analysis.structure import distance_percentile

    reference = nn_reference(run)
    return None if reference is None else distance_percentile(distances, reference["distances"])


def ordinal(percentile: float) -> str:
    """A percentile as a person reads it: "62nd", "99th", "100th" (rounded down, so 99.6 is not yet "100th")."""
    whole = int(np.floor(percentile))
    suffix = "th" if 10 <= whole % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(whole % 10, "th")
    return f"{whole}{suffix}"


def distance_text(run: RunHandle, distance: float) -> str:
    """``"3.214 — 62nd percentile of the data's nearest-neighbour distances (median 3.02, 99th 4.71)"``."""
    text = f"{distance:.3f}"
    reference = nn_reference(run)
    if reference is None:
        return text + " (the data's nearest-neighbour reference is not computed yet: run `zspace analyze`)"
    pct = float(percentiles(run, [distance])[0])
    return (
        f"{text} — {ordinal(pct)} percentile of the data's nearest-neighbour distances "
        f"(median {reference['median']:.3g}, 99th {reference['p99']:.3g})"
    )


def radius_text(run: RunHandle, z) -> str:
    """``"|z| 7.914 — data 5th–95th pct 6.12–9.81"``: a decoded z's radius beside the data's typical radii."""
    from analysis.radius import RADIUS_BAND, radii, radius_band

    values = run.memo(MemoKey.RADII, lambda: radii(run.z()).astype(np.float32))
    low, high = radius_band(values)
    first, last = (ordinal(p) for p in RADIUS_BAND)
    return f"{float(np.linalg.norm(z)):.3f} — data {first}–{last} pct {low:.3g}–{high:.3g}"
