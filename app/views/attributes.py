"""Attribute directions: the line between the class means of a metadata column in z-space, and walks along it.

A binary column (CelebA's 40 attributes, the synthetic faces' binary factors)
splits the z-points by its two values, any other column at its median. The
direction from the low to the high class mean is a unit vector plus the
class-mean distance; the plane "attribute direction x PC1" (a Planes kind) shows
every point against it, and the strip here walks the selected point (or the
data mean) along it, in units of the class-mean distance.
"""

from __future__ import annotations

from dash import Input, Output, State, dcc, html, no_update

from app import plane_space
from app.store import RunHandle
from app.validate import choice, finite
from app.views import instruments, planes
from app.views.instruments import (
    MAX_STEPS,
    MIN_STEPS,
    base_point,
    follow_clicked_rows,
    reference_run,
    steps_of,
    strip_row,
)
from app.views.parts import RUN, SIDES, error_box, guarded, ids, labelled, number, open_side, side_columns, side_run
from app.views.protocol import View

TAB = "Planes"
REFUSALS = (*plane_space.REFUSALS, *instruments.REFUSALS)

make = ids("attributes")
COLUMN, SHOW, ROW, SPAN, STEPS = make("column"), make("show"), make("row"), make("span"), make("steps")
ROW_NOTE = make("row-note")
FACTS = {s: make("facts", s) for s in SIDES}
STRIP = {s: make("strip", s) for s in SIDES}

#: Farthest a walk may go from its start, in class-mean distances.
MAX_SPAN = 5.0


def layout() -> html.Div:
    """Column, "show on the plane", start point, span and steps; then per run the direction's facts and the walk."""
    controls = html.Div(
        className="controls",
        children=[
            html.H4("attribute direction"),
            labelled(
                "metadata column",
                dcc.Dropdown(id=COLUMN, options=[], placeholder="pick a column", style={"width": "20em"}),
            ),
            html.Button("show on the plane (direction × PC1)", id=SHOW, n_clicks=0, className="button secondary"),
            labelled("walk from point (row; empty = the mean)", number(ROW, None, 1, 0, width="7em")),
            html.Span(id=ROW_NOTE, className="error-note"),
            labelled("± class-mean distances", number(SPAN, 1.0, "any", 0, MAX_SPAN)),
            labelled("steps", number(STEPS, 9, 1, MIN_STEPS, MAX_STEPS)),
        ],
    )

    def side(s):
        return [html.Div(id=FACTS[s], className="note"), dcc.Loading(html.Div(id=STRIP[s], className="strips"))]

    return html.Div([controls, side_columns(side)], className="view attributes")


def column_options(run: RunHandle | None, current) -> tuple[list[dict], str | None]:
    """The run's metadata columns as options, and the picked one if the run still has it.

    Nothing is picked at first, so opening the page decodes no walk nobody asked for.
    """
    if run is None:
        return [], None
    columns = plane_space.attribute_columns(run)
    options = [{"label": f"{column} (plane x = {i})", "value": column} for i, column in enumerate(columns)]
    return options, current if current in columns else None


def plane_choice(run: RunHandle, column) -> tuple[str, int]:
    """The Planes kind and x number that show ``column``'s direction against PC1."""
    columns = plane_space.attribute_columns(run)
    return "attribute", columns.index(choice(column, "attribute", columns))


def attribute_view(run: RunHandle, column, row, span, steps, reference: RunHandle | None = None) -> tuple[str, list]:
    """The direction's facts and the strip of the start point walked along it, for one run.

    ``row`` is a row of ``reference`` (default: ``run``); ``run`` starts from the same image (matched by id).
    """
    from analysis.walks import attribute_walk

    if not column:
        return "pick a metadata column", []
    direction = plane_space.attribute_direction(run, column)
    span = finite(span, "span", 0.01, MAX_SPAN)
    steps = steps_of(steps)
    start, label = base_point(run, row, reference)
    offsets, zs = attribute_walk(start, direction, span, steps)
    images = run.decode_or_none(zs)
    facts = (
        f"{run.name}: {column} {direction['high_label']} (n={direction['n_high']:,}) vs "
        f"{direction['low_label']} (n={direction['n_low']:,}) — class means {direction['distance']:.3g} apart; "
        f"{label} walked from −{span:g} to +{span:g} class-mean distances"
    )
    captions = [f"{offset:+.2f} d" for offset in offsets]
    return facts, [strip_row(f"{column}: {label}", images, captions, f"{run.name}-{column}-walk.png")]


@guarded(lambda exc: ([], None))
def columns_of(store, run_a, current) -> tuple[list[dict], str | None]:
    """The column picker's options and value for the page's first run."""
    return column_options(open_side(store, run_a, None, "a"), current)


def initial(store, run_a, run_b) -> dict:
    """The column picker, nothing picked, and so no walk yet (``View.initial``)."""
    options, _ = columns_of(store, run_a, None)
    nothing = attribute_view(None, None, None, None, None)
    facts = {(FACTS[side], "children"): nothing[0] if side_run(run_a, run_b, side) else "" for side in SIDES}
    return {(COLUMN, "options"): options, (COLUMN, "value"): None, **facts}


def register(app, store, views) -> None:
    """Wire the column list, "show on the plane", the start point and each run's walk."""

    @app.callback(
        Output(COLUMN, "options"),
        Output(COLUMN, "value"),
        Input(RUN["a"], "value"),
        State(COLUMN, "value"),
        prevent_initial_call=True,  # the page opens with these values (initial)
    )
    def _columns(run_a, current):
        return columns_of(store, run_a, current)

    @app.callback(
        Output(planes.AXIS_I, "value", allow_duplicate=True),
        Output(planes.KIND, "value", allow_duplicate=True),
        Input(SHOW, "n_clicks"),
        State(RUN["a"], "value"),
        State(COLUMN, "value"),
        prevent_initial_call=True,
    )
    @guarded(lambda exc: (no_update, no_update))
    def _show(_clicks, run_a, column):
        kind, index = plane_choice(store.open(run_a), column)
        return index, kind

    follow_clicked_rows(app, store, ROW, ROW_NOTE)

    for side in SIDES:

        @app.callback(
            Output(FACTS[side], "children"),
            Output(STRIP[side], "children"),
            Input(RUN["a"], "value"),
            Input(RUN["b"], "value"),
            Input(COLUMN, "value"),
            Input(ROW, "value"),
            Input(SPAN, "value"),
            Input(STEPS, "value"),
            prevent_initial_call=True,  # the page opens with these values (initial)
        )
        @guarded(lambda exc: ("", error_box(exc)))
        def _walk(run_a, run_b, column, row, span, steps, side=side):
            run = open_side(store, run_a, run_b, side)
            if run is None:
                return "", []
            return attribute_view(run, column, row, span, steps, reference_run(store, run_a, run_b))


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("attributes", TAB, layout, register, REFUSALS, writes=(planes.KIND, planes.AXIS_I), initial=initial)
