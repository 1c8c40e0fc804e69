"""The epoch slider on the Planes tab: a run's snapshot z-points after each epoch, in one PCA basis.

A run trained with ``zspace train --snapshot-every E`` holds the z-points of the
same rows after every E epochs (:mod:`rundir.snapshots`). This view draws them
for the first run and the run beside it, on two components of the PCA fitted on
the *last* snapshot (:data:`analysis.snapshots.snapshot_pca`), with the same
ranges for every epoch: moving the slider moves the points, never the axes.
"""

from __future__ import annotations

import numpy as np
from dash import Input, Output, dcc, html

from app.store import RunHandle
from app.validate import whole
from app.views.parts import RUN, SIDES, guarded, ids, labelled, number, open_side, side_columns
from app.views.protocol import View
from figures.series import epoch_plane_figure
from figures.style import message_figure
from rundir.errors import Refusal

TAB = "Planes"


class SnapshotsTooLarge(Refusal):
    """Snapshots too large for a request to fit their PCA basis, and not analysed yet."""

    template = (
        "the snapshots of {run} hold {rows:,} rows, more than a page computes ({most:,}); "
        "`zspace analyze` on the run computes their PCA basis"
    )


REFUSALS = (SnapshotsTooLarge,)

make = ids("epochs")
SLIDER, PC_X, PC_Y, NOTE = make("slider"), make("x"), make("y"), make("note")
#: The principal components the planes open on (x, y).
PC_START = (1, 2)
GRAPH = {s: make("graph", s) for s in SIDES}
#: What a side without snapshots says, and how to get them.
NO_SNAPSHOTS = "{run} has no snapshots: train it with `zspace train --snapshot-every E`"


def layout() -> html.Div:
    """The epoch slider, the two principal components shown and one plane per run."""
    return html.Div(
        className="view",
        children=[
            html.H3("the latent space over training"),
            html.Div(
                className="controls",
                children=[
                    html.Div(
                        [html.Label("epoch"), dcc.Slider(id=SLIDER, min=0, max=1, step=None, marks={}, value=None)],
                        style={"width": "420px"},
                    ),
                    labelled("PC x", number(PC_X, PC_START[0], 1, 1)),
                    labelled("PC y", number(PC_Y, PC_START[1], 1, 1)),
                ],
            ),
            html.Div(id=NOTE, className="note"),
            side_columns(lambda s: [dcc.Loading(dcc.Graph(id=GRAPH[s], config={"displaylogo": False}))]),
        ],
    )


def run_epochs(run: RunHandle | None) -> list[int]:
    """The epochs a run has snapshots of (none for no run)."""
    from rundir.snapshots import snapshot_epochs

    return snapshot_epochs(run.folder) if run is not None else []


def slider_settings(runs: list[RunHandle | None]) -> tuple[dict, int, int, int | None, str]:
    """(marks, min, max, value, note) of an epoch slider over every snapshot epoch of ``runs`` (last one picked)."""
    epochs = sorted({epoch for run in runs for epoch in run_epochs(run)})
    if not epochs:
        names = [run.name for run in runs if run is not None]
        note = " ".join(NO_SNAPSHOTS.format(run=name) + "." for name in names) if names else "no run selected"
        return {}, 0, 1, None, note
    marks = {str(epoch): str(epoch) for epoch in epochs}
    return marks, epochs[0], epochs[-1], epochs[-1], f"{len(epochs)} snapshot epoch(s): move the slider"


def snapshot_basis(run: RunHandle) -> dict:
    """The run's snapshots in the PCA basis of its last snapshot (cached; computed here for small snapshots)."""
    from analysis.snapshots import snapshot_pca
    from rundir.snapshots import load_snapshot_rows

    if not run.is_cached(snapshot_pca):
        rows = len(load_snapshot_rows(run.folder))
        if rows > run.store.inline_points:
            raise SnapshotsTooLarge(run=run.name, rows=rows, most=run.store.inline_points)
    # background=True: the bound above (the snapshot rows, not the run's points) decides what a request computes.
    return run.result(snapshot_pca, background=True)


def epoch_plane(run: RunHandle, side: str, epoch, pc_x, pc_y):
    """The figure of ``run``'s snapshot after ``epoch`` (its latest snapshot at or before it) on PCs ``pc_x``, ``pc_y``."""
    epochs = run_epochs(run)
    if not epochs:
        return message_figure(NO_SNAPSHOTS.format(run=run.name))
    basis = snapshot_basis(run)
    coords = basis["coords"]
    most = coords.shape[2]
    i, j = (whole(value, name, 1, most) - 1 for value, name in ((pc_x, "PC x"), (pc_y, "PC y")))
    chosen = whole(epoch, "epoch", 0, 10**6) if epoch is not None else epochs[-1]
    index = max(int(np.searchsorted(basis["epochs"], chosen, side="right")) - 1, 0)
    ranges = tuple(_padded(coords[:, :, axis]) for axis in (i, j))
    shown = int(basis["epochs"][index])
    return epoch_plane_figure(run.name, side, coords[index, :, i], coords[index, :, j], shown, (i + 1, j + 1), ranges)


def _padded(values: np.ndarray) -> tuple[float, float]:
    low, high = float(np.min(values)), float(np.max(values))
    pad = 0.05 * (high - low) or 1.0
    return low - pad, high + pad


@guarded(lambda exc: ({}, 0, 1, None, str(exc)))
def slider_of(store, run_a, run_b) -> tuple:
    """The slider's (marks, min, max, value) and note for the runs shown."""
    return slider_settings([open_side(store, run_a, run_b, side) for side in SIDES])


@guarded(lambda exc: message_figure(str(exc)))
def plane_of(store, run_a, run_b, side: str, epoch, pc_x, pc_y):
    """The figure of ``side`` at ``epoch`` (a message without a run)."""
    run = open_side(store, run_a, run_b, side)
    if run is None:
        return message_figure("no run selected" if side == "a" else "")
    return epoch_plane(run, side, epoch, pc_x, pc_y)


def initial(store, run_a, run_b) -> dict:
    """The slider and both planes for the runs the page opens with (``View.initial``; snapshots are small)."""
    marks, low, high, value, note = slider_of(store, run_a, run_b)
    values = {(SLIDER, "marks"): marks, (SLIDER, "min"): low, (SLIDER, "max"): high, (SLIDER, "value"): value}
    figures = {(GRAPH[s], "figure"): plane_of(store, run_a, run_b, s, value, PC_START[0], PC_START[1]) for s in SIDES}
    return {**values, (NOTE, "children"): note, **figures}


def register(app, store, views) -> None:
    """Wire the slider (its epochs follow the runs shown) and the two planes."""

    @app.callback(
        Output(SLIDER, "marks"),
        Output(SLIDER, "min"),
        Output(SLIDER, "max"),
        Output(SLIDER, "value"),
        Output(NOTE, "children"),
        Input(RUN["a"], "value"),
        Input(RUN["b"], "value"),
        prevent_initial_call=True,  # the page opens with these values (initial)
    )
    def _slider(run_a, run_b):
        return slider_of(store, run_a, run_b)

    for side in SIDES:

        @app.callback(
            Output(GRAPH[side], "figure"),
            Input(RUN["a"], "value"),
            Input(RUN["b"], "value"),
            Input(SLIDER, "value"),
            Input(PC_X, "value"),
            Input(PC_Y, "value"),
            prevent_initial_call=True,  # the page opens with these figures (initial)
        )
        def _plane(run_a, run_b, epoch, pc_x, pc_y, side=side):
            return plane_of(store, run_a, run_b, side, epoch, pc_x, pc_y)


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("epochs", TAB, layout, register, REFUSALS, initial=initial)
