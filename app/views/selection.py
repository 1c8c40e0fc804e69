"""Linked selection: a box or lasso on one run's plane lights up the same images on the other run's plane.

Plotly reports a selection as its outline (``relayoutData["selections"]``), so
the browser sends the shapes, never the ids of the points inside; the server
finds the rows inside (:func:`app.subsets.selection_rows`), maps them to the
compared run by image id (:func:`app.subsets.linked_rows`) and draws them on
both planes through the overlay protocol. Clearing (the button, or a double
click in select mode) clears both; "use selection as filter" turns it into the
metadata filter's ``within`` part.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go
from dash import Input, Output, State, ctx, dcc, html, no_update

from app import plane_space, subsets
from app.store import RunHandle
from app.url_state import Field, LinkCheck, SelectionCodec
from app.views import filters, maps, planes
from app.views.parts import RUN, SIDES, guarded, ids, open_side, side_columns
from app.views.protocol import Overlay, View
from rundir.errors import Refusal

TAB = "Planes"


class NothingSelected(Refusal):
    """ "Use selection as filter" with nothing selected."""

    template = "nothing is selected: box or lasso select on a plane first"


REFUSALS = (NothingSelected, *subsets.REFUSALS, *plane_space.REFUSALS)

make = ids("selection")
#: The selection: None, or ``{"run", "plane", "shapes"}`` (see :func:`app.subsets.clean_selection`).
SELECTION = make("state")
COUNT = {s: make("count", s) for s in SIDES}
CLEAR, USE, MESSAGE = make("clear"), make("use"), make("message")

#: Most highlighted points drawn on one plane (the count line always gives the full number).
MAX_HIGHLIGHT = 20_000
HIGHLIGHT = "#f59f00"
HINT = "box or lasso select on either plane (plot toolbar): the same images light up on the other run's plane"

#: What a shared link carries of this view (see :mod:`app.url_state`).
URL_STATE = {"selection": Field(SELECTION, "data", SelectionCodec())}


def layout() -> html.Div:
    """The hint and buttons, one count line per run, and the selection store."""
    controls = html.Div(
        className="controls selection-bar",
        children=[
            html.Span(HINT, className="note"),
            html.Button("clear selection", id=CLEAR, n_clicks=0, className="button secondary"),
            html.Button("use selection as filter", id=USE, n_clicks=0, className="button secondary"),
            html.Span(id=MESSAGE, className="note"),
        ],
    )
    counts = side_columns(lambda s: [html.Div(id=COUNT[s], className="count selection-count")])
    return html.Div([controls, counts, dcc.Store(id=SELECTION)], className="view selection")


def selection_from_plot(relayout, run, spec: dict):
    """The new selection for a plot's ``relayoutData``: a selection, None (cleared), or ``no_update``."""
    shapes = subsets.shapes_from_relayout(relayout)
    if shapes is None:
        return no_update  # a zoom or a resize, not a selection
    if not shapes or not run:
        return None
    return subsets.clean_selection({"run": run, "plane": spec, "shapes": shapes})


def rows_here(run: RunHandle, selection, filter_state) -> tuple[np.ndarray, int, str]:
    """(rows of ``run`` to highlight, rows selected on the run it was drawn on, a note on image ids)."""
    source = subsets.drawn_on(run, selection)
    source_rows = subsets.selection_rows(source, selection, filter_state)
    rows, note = subsets.linked_rows(source_rows, source, run)
    if source.name != run.name:
        mask = subsets.filter_mask(run, filter_state)  # only what this plane shows lights up
        rows = rows if mask is None else rows[mask[rows]]
    return rows, len(source_rows), note


def count_line(run: RunHandle, selection, filter_state) -> str:
    """The side's selection count: what is selected here, or how many of the other side's images are here."""
    selection = subsets.clean_selection(selection)
    if selection is None:
        return "no selection"
    rows, selected, note = rows_here(run, selection, filter_state)
    source = subsets.drawn_on(run, selection)
    where = subsets.selection_plane(source, selection)
    drawn = f"{plane_space.axis_label(source, where, 0)} / {plane_space.axis_label(source, where, 1)}"
    if selection["run"] == run.name:
        return f"{len(rows):,} points selected here (drawn on {drawn})"
    line = f"the same images: {len(rows):,} highlighted here of {selected:,} selected on {selection['run']}"
    return f"{line} · {note}" if note else line


def overlay_inputs(side) -> list:
    """The plane redraws when the selection changes; the filter says which highlighted points it shows."""
    return [Input(SELECTION, "data"), State(filters.FILTER, "data")]


def overlay(run: RunHandle, where, side, selection, filter_state) -> list:
    """Rings around the selected images on this plane (at most :data:`MAX_HIGHLIGHT`)."""
    selection = subsets.clean_selection(selection)
    if selection is None:
        return []
    rows, _, _ = rows_here(run, selection, filter_state)
    ids_, xy = run.coords(where)
    position = np.full(run.n_points, -1, dtype=np.int64)
    position[ids_] = np.arange(len(ids_))
    at = position[rows]
    at = at[at >= 0]  # a map holds a subset of the rows
    if len(at) > MAX_HIGHLIGHT:
        at = at[np.linspace(0, len(at) - 1, MAX_HIGHLIGHT).astype(int)]
    points = xy[at]
    return [
        go.Scattergl(
            x=np.ascontiguousarray(points[:, 0], dtype=np.float32),
            y=np.ascontiguousarray(points[:, 1], dtype=np.float32),
            mode="markers",
            marker={"size": 9, "color": "rgba(0,0,0,0)", "line": {"width": 1.6, "color": HIGHLIGHT}},
            hoverinfo="skip",
            name="selection",
        )
    ]


def overlay_layout(run: RunHandle, where, side, selection, filter_state) -> dict:
    """The selection's outline on the plane it was drawn on (the same run and plane), none elsewhere.

    The outline is a plain shape: the plot's own selection (which would swallow a click
    on a point inside it, and dims the rest) is cleared by a new ``selectionrevision``
    whenever the selection changes; the rings show what is selected on both planes.
    """
    selection = subsets.clean_selection(selection)
    outline = {"xref": "x", "yref": "y", "line": {"color": HIGHLIGHT, "width": 1.5, "dash": "dot"}, "layer": "above"}
    shapes = []
    if selection is not None and selection["run"] == run.name and subsets.selection_plane(run, selection) == where:
        for shape in selection["shapes"]:
            if shape["kind"] == "box":
                (x0, x1), (y0, y1) = shape["x"], shape["y"]
                shapes.append({**outline, "type": "rect", "x0": x0, "x1": x1, "y0": y0, "y1": y1})
            else:
                path = "M" + "L".join(f"{x},{y}" for x, y in zip(shape["x"], shape["y"], strict=True)) + "Z"
                shapes.append({**outline, "type": "path", "path": path})
    revision = subsets.digest(selection) if selection is not None else "none"
    return {"shapes": shapes, "selections": [], "selectionrevision": revision}


def check_url(check: LinkCheck) -> None:
    """A link's selection must be drawn on a usable run's plane (``View.check_url``)."""
    check.check("selection", lambda chosen: subsets.selection_plane(check.store.open(chosen["run"]), chosen) and None)


def use_as_filter(selection, current) -> dict:
    """The filter that keeps the selection's rows (the current filter's text, and within the selection)."""
    selection = subsets.clean_selection(selection)
    if selection is None:
        raise NothingSelected()
    current = subsets.clean_filter(current)
    return subsets.clean_filter({"expr": current["expr"] if current else "", "within": selection})


@guarded(str)
def count_of(store, selection, filter_state, run_a, run_b, side: str) -> str:
    """The selection count line of ``side`` ('' when it shows no run)."""
    run = open_side(store, run_a, run_b, side)
    return count_line(run, selection, filter_state) if run is not None else ""


def initial(store, run_a, run_b) -> dict:
    """The count lines for the runs the page opens with, nothing selected (``View.initial``)."""
    return {(COUNT[side], "children"): count_of(store, None, None, run_a, run_b, side) for side in SIDES}


def register(app, store, views) -> None:
    """Wire selecting on either plane, the count lines, clearing, and turning a selection into the filter."""

    @app.callback(
        Output(SELECTION, "data"),
        Output(MESSAGE, "children"),
        inputs={
            "relayouts": {side: Input(planes.GRAPH[side], "relayoutData") for side in SIDES},
            "clear": Input(CLEAR, "n_clicks"),
            # The plane of side a, and side b's map: the two sides differ only in their map.
            "request": planes.PlaneRequest.dependencies("a"),
            "map_b": State(maps.PICKED["b"], "value"),
        },
        prevent_initial_call=True,
    )
    @guarded(lambda exc: (no_update, str(exc)))
    def _select(relayouts, clear, request, map_b):
        trigger = ctx.triggered_id
        if trigger == CLEAR:
            return None, ""
        side = "a" if trigger == planes.GRAPH["a"] else "b"
        request = planes.PlaneRequest.of("a", request)
        if side == "b":
            request = dataclasses.replace(request, side="b", map_key=map_b)
        selection = selection_from_plot(relayouts[side], request.run_name, request.spec())
        return selection, no_update if selection is no_update else ""

    @app.callback(
        Output(filters.FILTER, "data", allow_duplicate=True),
        Output(SELECTION, "data", allow_duplicate=True),
        Output(MESSAGE, "children", allow_duplicate=True),
        Input(USE, "n_clicks"),
        State(SELECTION, "data"),
        State(filters.FILTER, "data"),
        prevent_initial_call=True,
    )
    @guarded(lambda exc: (no_update, no_update, str(exc)))
    def _use(_clicks, selection, current):
        return use_as_filter(selection, current), None, ""

    for side in SIDES:

        @app.callback(
            Output(COUNT[side], "children"),
            Input(SELECTION, "data"),
            Input(filters.FILTER, "data"),
            Input(RUN["a"], "value"),
            Input(RUN["b"], "value"),
            prevent_initial_call=True,  # the page opens with these values (initial)
        )
        def _count(selection, filter_state, run_a, run_b, side=side):
            return count_of(store, selection, filter_state, run_a, run_b, side)


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View(
    "selection",
    TAB,
    layout,
    register,
    REFUSALS,
    overlay=Overlay(overlay_inputs, overlay, overlay_layout),
    url_state=URL_STATE,
    check_url=check_url,
    writes=(filters.FILTER,),
    initial=initial,
)
