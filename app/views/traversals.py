"""Traversals: the selected point (or the data mean) varied along one original axis or one principal component.

The range is that axis's (or component's) observed 1st..99th percentile over the
data, so an axis whose density sits off centre or is unusually wide (the ones
the Density view flags) can be read as images. Clicking an axis in the Density
view sets it here.
"""

from __future__ import annotations

import numpy as np
from dash import Input, Output, State, ctx, dcc, html, no_update

from app import plane_space
from app.memo import MemoKey
from app.store import RunHandle
from app.validate import choice, whole
from app.views import density, instruments
from app.views.instruments import (
    MAX_STEPS,
    MIN_STEPS,
    base_point,
    follow_clicked_rows,
    reference_run,
    steps_of,
    strip_row,
)
from app.views.parts import RUN, SIDES, error_box, guarded, ids, labelled, number, open_side, side_columns
from app.views.protocol import View

TAB = "Density"
REFUSALS = instruments.REFUSALS

make = ids("traversals")
ROW, MODE, INDEX, STEPS = make("row"), make("mode"), make("index"), make("steps")
ROW_NOTE = make("row-note")
TITLE = {s: make("title", s) for s in SIDES}
STRIP = {s: make("strip", s) for s in SIDES}

MODES = {"axis": "original axis", "pc": "principal component"}
HINT = "click an axis in the density plot or the table above (or set one here) to see its traversal"


def layout() -> html.Div:
    """Start point, axis or component and its number, steps; then per run the traversal strip."""
    controls = html.Div(
        className="controls",
        children=[
            html.H4("traversal over the 1st..99th percentile"),
            labelled("of point (row; empty = the mean)", number(ROW, None, 1, 0, width="7em")),
            html.Span(id=ROW_NOTE, className="error-note"),
            labelled(
                "along",
                dcc.RadioItems(
                    id=MODE, options=[{"label": v, "value": k} for k, v in MODES.items()], value="axis", inline=True
                ),
            ),
            labelled("number", number(INDEX, 0, 1, 0)),
            labelled("steps", number(STEPS, 9, 1, MIN_STEPS, MAX_STEPS)),
        ],
    )

    def side(s):
        hint = HINT if s == "a" else ""
        return [html.Div(hint, id=TITLE[s], className="note"), dcc.Loading(html.Div(id=STRIP[s], className="strips"))]

    return html.Div([controls, side_columns(side)], className="view traversals")


def line_of(run: RunHandle, mode, index) -> tuple[np.ndarray, np.ndarray, str, tuple[float, float]]:
    """(unit vector, origin, name, observed 1st..99th percentile) of an original axis or a principal component."""
    from analysis.walks import percentile_range, scores

    mode = choice(mode, "traversal", tuple(MODES))
    z = run.z()
    z_dim = z.shape[1]
    if mode == "axis":
        index = whole(index, "axis", 0, z_dim - 1)
        unit, origin = np.eye(z_dim)[index], np.zeros(z_dim)
        name = f"axis {index}"
        # One column of a memory-mapped array: N numbers, never the whole array.
        found = run.memo(MemoKey.percentiles(mode, index), lambda: np.array(percentile_range(z[:, index])))
    else:
        fit = plane_space.pca(run)
        index = whole(index, "component", 0, fit.n_components - 1)
        unit, origin = np.asarray(fit.components_[index], dtype=np.float64), np.asarray(fit.mean_, dtype=np.float64)
        name = f"PC {index + 1}"
        found = run.memo(
            MemoKey.percentiles(mode, index), lambda: np.array(percentile_range(scores(z, unit, origin)[:, 0]))
        )
    return unit, origin, name, (float(found[0]), float(found[1]))


def traversal_view(run: RunHandle, row, mode, index, steps, reference: RunHandle | None = None) -> tuple[str, list]:
    """The title and the strip of the start point traversed along an axis or a component, for one run.

    ``row`` is a row of ``reference`` (default: ``run``); ``run`` starts from the same image (matched by id).
    """
    from analysis.walks import traversal

    unit, origin, name, (lo, hi) = line_of(run, mode, index)
    steps = steps_of(steps)
    start, label = base_point(run, row, reference)
    values = np.linspace(lo, hi, steps)
    images = run.decode_or_none(traversal(start, unit, values, origin))
    title = f"{run.name}: {label} along {name}, from {lo:.3g} to {hi:.3g} (the data's 1st..99th percentile)"
    return title, [strip_row(f"{name} · {label}", images, [f"{v:.2f}" for v in values], f"{run.name}-{name}.png")]


def register(app, store, views) -> None:
    """Wire the start point, the Density view's axis clicks, and each run's traversal."""

    follow_clicked_rows(app, store, ROW, ROW_NOTE)

    @app.callback(
        Output(MODE, "value"),
        Output(INDEX, "value"),
        Input(density.GRAPH, "clickData"),
        Input(density.TABLE, "active_cell"),
        State(density.TABLE, "derived_viewport_data"),
        prevent_initial_call=True,
    )
    def _from_density(click, active_cell, rows):
        # The axis a click on a density curve or a table row picks is offered here as a traversal.
        axis = density.picked_axis(click, active_cell, rows, ctx.triggered_id)
        return (no_update, no_update) if axis is None else ("axis", axis)

    for side in SIDES:

        @app.callback(
            Output(TITLE[side], "children"),
            Output(STRIP[side], "children"),
            Input(RUN["a"], "value"),
            Input(RUN["b"], "value"),
            Input(ROW, "value"),
            Input(MODE, "value"),
            Input(INDEX, "value"),
            Input(STEPS, "value"),
            # Opening the page decodes nothing; a click on an axis, a point or a control does.
            prevent_initial_call=True,
        )
        @guarded(lambda exc: ("", error_box(exc)))
        def _traverse(run_a, run_b, row, mode, index, steps, side=side):
            run = open_side(store, run_a, run_b, side)
            if run is None:
                return "", []
            return traversal_view(run, row, mode, index, steps, reference_run(store, run_a, run_b))


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("traversals", TAB, layout, register, REFUSALS)
