"""What a plane's points are coloured by: the base colourings (radius, local density, local dimension) or a metadata column."""

from __future__ import annotations

import numpy as np

from app.memo import MemoKey
from app.store import RunHandle
from app.validate import choice
from rundir.errors import Refusal


class ColouringTooLarge(Refusal):
    """A k-NN colouring of a run too large to compute it inside a request."""

    template = (
        "colouring by {colouring} is computed only for runs of up to {most:,} points ({run} has {count:,}); "
        "colour by radius or a metadata column instead"
    )


BASE_COLOURS = {"none": "nothing", "radius": "radius", "density": "local density", "lid": "local intrinsic dimension"}
#: Above this many points, colouring by local density / intrinsic dimension needs `zspace analyze`.
MAX_INLINE_KNN = 20000
#: Neighbours of the local density / intrinsic dimension colourings.
KNN_K = 20


def colour_values(run: RunHandle, by) -> tuple[np.ndarray | None, str]:
    """Per-point colour values for ``by`` (a base colouring or a metadata column) and its label."""
    from analysis import results

    if by in (None, "none"):
        return None, ""
    if by == "radius":
        from analysis.radius import radii

        return run.memo(MemoKey.RADII, lambda: radii(run.z()).astype(np.float32)), "radius |z|"
    if by in ("density", "lid"):
        declaration = results.local_dimension if by == "lid" else results.local_density
        if run.n_points > MAX_INLINE_KNN and not run.is_cached(declaration, k=KNN_K):
            raise ColouringTooLarge(colouring=BASE_COLOURS[by], most=MAX_INLINE_KNN, run=run.name, count=run.n_points)
        values = run.result(declaration, k=KNN_K)["values"]
        return np.asarray(values, dtype=np.float32), "local intrinsic dim." if by == "lid" else "log density (-log d_k)"
    choice(by, "colour", [*BASE_COLOURS, *run.metadata_columns()])
    return run.column(by), str(by)


def colour_options(run: RunHandle | None) -> list[dict]:
    """Colour choices for a run: the base ones and every numeric metadata column (the base ones only without a run)."""
    options = [{"label": label, "value": value} for value, label in BASE_COLOURS.items()]
    if run is not None:
        options += [{"label": f"metadata: {c}", "value": c} for c in run.metadata_columns()]
    return options
