"""Paths through the voids: decode the straight and the spherical path from point A to point B, step by step.

Under each strip a profile shows, per step, the distance to the nearest data
point (full z-space), the k-NN radius and |z|, so a path that leaves the
filament and crosses a void is seen as a rise in the middle. The path is drawn
on the plane (exact on PCA, axis and attribute planes; each step at its nearest
mapped point on a t-SNE map). A compared run walks the same two images (the same
images, matched by id) side by side; A and B are rows of the first run shown.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from dash import Input, Output, State, ctx, dcc, html, no_update

from app import data_reference, plane_space, subsets
from app.store import RunHandle
from app.url_state import Field, Whole
from app.views import decode, filters, instruments
from app.views.instruments import MAX_STEPS, MIN_STEPS, reference_run, row_in, steps_of, strip_row
from app.views.parts import RUN, SIDES, error_box, guarded, ids, labelled, number, open_side, side_columns
from app.views.protocol import Overlay, View
from figures.style import message_figure
from figures.walks import profile_figure
from rundir.errors import Refusal, ZspaceError

TAB = "Planes"


class NoClickedPoint(Refusal):
    """ "Set as A / B" with no point clicked."""

    template = "click a point on a plane first, then press “set as {which}”"


class SamePoints(Refusal):
    """A path from a point to itself."""

    template = "A and B are the same point: pick two different points"


class NoSphericalPath(Refusal):
    """A spherical path between opposite directions (undefined)."""

    template = "the spherical path from A to B is undefined: they point in opposite directions"


REFUSALS = (
    NoClickedPoint,
    SamePoints,
    NoSphericalPath,
    subsets.FilterKeepsNoRows,
    *subsets.REFUSALS,
    *instruments.REFUSALS,
)

make = ids("paths")
FROM, TO, STEPS, NOTE = make("from"), make("to"), make("steps"), make("note")
SET_A = {s: make("set-a", s) for s in SIDES}
SET_B = {s: make("set-b", s) for s in SIDES}
TITLE = {s: make("title", s) for s in SIDES}
STRIPS = {s: make("strips", s) for s in SIDES}
PROFILE = {s: make("profile", s) for s in SIDES}

HINT = "pick A and B: click a point on a plane and press “set as A”, another and “set as B” — or type row ids"
#: What a shared link carries of this view (see :mod:`app.url_state`): the end points.
URL_STATE = {
    "path-from": Field(FROM, "value", Whole(0, 10**9, "path A")),
    "path-to": Field(TO, "value", Whole(0, 10**9, "path B")),
}
#: Colour of the drawn path and its end points on the plane (the points themselves are blue or orange).
PATH_COLOUR = "#111827"


def layout() -> html.Div:
    """ "Set as A / B" under each decode panel, the endpoints and steps, then per run the strips and the profile."""

    def buttons(s):
        return [
            html.Div(
                [
                    html.Button("set as A", id=SET_A[s], n_clicks=0, className="button secondary"),
                    html.Button("set as B", id=SET_B[s], n_clicks=0, className="button secondary"),
                ],
                className="set-endpoints",
            )
        ]

    controls = html.Div(
        className="controls",
        children=[
            html.H4("path from A to B"),
            labelled("A (row)", number(FROM, None, 1, 0, width="7em")),
            labelled("B (row)", number(TO, None, 1, 0, width="7em")),
            labelled("steps", number(STEPS, 8, 1, MIN_STEPS, MAX_STEPS)),
            html.Div(HINT, id=NOTE, className="note"),
        ],
    )

    def side(s):
        return [
            html.Div(id=TITLE[s], className="note"),
            dcc.Loading(html.Div(id=STRIPS[s], className="strips")),
            dcc.Graph(id=PROFILE[s], config={"displaylogo": False}, figure=message_figure("", height=120)),
        ]

    return html.Div([side_columns(buttons), controls, side_columns(side)], className="view paths")


def set_endpoint(trigger, selected_a, selected_b, reference: RunHandle | None = None) -> tuple:
    """Which box ("set as A" or "set as B") the clicked point goes to: (A value, B value, note).

    The boxes hold rows of ``reference`` (the first run shown): a point clicked on
    the compared run's plane is the reference run's row of the same image.
    """
    for side, selected in (("a", selected_a), ("b", selected_b)):
        for which, buttons in (("A", SET_A), ("B", SET_B)):
            if trigger != buttons[side]:
                continue
            row = selected.get("row") if isinstance(selected, dict) else None
            if not isinstance(row, int) or isinstance(row, bool) or row < 0:
                raise NoClickedPoint(which=which)
            row = instruments.reference_row(reference, selected)
            note = f"{which} = point {row}"
            return (row, no_update, note) if which == "A" else (no_update, row, note)
    return no_update, no_update, no_update


def endpoints(run: RunHandle, start, end, reference: RunHandle | None = None) -> tuple[int, int]:
    """Validated rows A and B of the run (two different points): the images at ``reference``'s rows
    ``start`` and ``end`` (default: the run's own rows)."""
    a, b = row_in(run, start, reference, "A"), row_in(run, end, reference, "B")
    if a == b:
        raise SamePoints()
    return a, b


def walk(run: RunHandle, a: int, b: int, steps: int) -> dict[str, np.ndarray]:
    """Both paths (kind -> steps x z_dim) from row ``a`` to row ``b``."""
    from analysis.walks import PATH_KINDS, path

    z = run.z()
    try:
        return {kind: path(z[a], z[b], steps, kind) for kind in PATH_KINDS}
    except ValueError:  # slerp between opposite directions
        raise NoSphericalPath() from None


def walk_view(
    run: RunHandle, start, end, steps, side: str = "a", filter_state=None, reference: RunHandle | None = None
) -> tuple[str, list, go.Figure]:
    """Title, the linear and the spherical strip, and the per-step profile of the path from A to B in one run.

    ``start`` and ``end`` are rows of ``reference`` (default: ``run``); ``run`` walks between the same
    images. With a metadata filter the profile measures each step against the rows it keeps. A run
    without a decoder shows the profile and the strips' captions, without images.
    """
    from analysis.walks import DENSITY_K, path_profile

    if start is None or end is None:
        return HINT, [], message_figure("", height=120)
    a, b = endpoints(run, start, end, reference)
    steps = steps_of(steps)
    paths = walk(run, a, b, steps)
    # One streamed pass over the z-points measures both paths.
    among = subsets.filter_rows(run, filter_state)
    if among is not None and len(among) == 0:
        raise subsets.FilterKeepsNoRows(rows="rows", run=run.name, consequence="nothing to measure the path against")
    stacked = np.vstack(list(paths.values()))
    measured = path_profile(run.z(), stacked, exclude=(a, b), k=DENSITY_K, sq_norms=run.sq_norms(), rows=among)
    profiles = {
        kind: {name: values[i * steps : (i + 1) * steps] for name, values in measured.items()}
        for i, kind in enumerate(paths)
    }
    fractions = np.linspace(0.0, 1.0, steps)
    # The data's own NN distances, the scale of each step's distance (of all rows: not shown under a filter).
    reference = data_reference.nn_reference(run) if among is None else None
    rows = []
    for kind, zs in paths.items():
        images = run.decode_or_none(zs)
        captions = _captions(run, fractions, profiles[kind]["nearest"], reference)
        rows.append(strip_row(f"{kind} path", images, captions, f"{run.name}-{kind}-{a}-{b}.png"))
    model = str(run.config.get("model", "")).upper()
    title = f"{run.name} ({model}): point {a} → point {b}, {steps} steps"
    if among is not None:
        title += f", measured against the {len(among):,} rows the filter keeps"
    if reference is not None:
        title += f"; dotted lines: the data's own NN distances (median {reference['median']:.3g}, 99th pct {reference['p99']:.3g})"
    return title, rows, profile_figure(fractions, profiles, side=side, k=DENSITY_K, reference=reference)


def _captions(run: RunHandle, fractions, nearest, reference) -> list[str]:
    # Each step's t and nearest-data distance (as a percentile of the data's own NN distances, when known).
    captions = [f"t {t:.2f} · NN {d:.2f}" for t, d in zip(fractions, nearest, strict=True)]
    if reference is None:
        return captions
    pcts = data_reference.percentiles(run, nearest)
    return [f"{c} ({data_reference.ordinal(p)} pct)" for c, p in zip(captions, pcts, strict=True)]


def _positions(ids_: np.ndarray, xy: np.ndarray, rows: np.ndarray) -> np.ndarray:
    # Where each of ``rows`` sits on a plane whose points are ``ids_`` (a map holds a subset, in its own order).
    order = np.argsort(ids_, kind="stable")
    return xy[order[np.searchsorted(ids_[order], rows)]]


def place(run: RunHandle, where: plane_space.Plane, zs: np.ndarray) -> np.ndarray:
    """Plane coordinates of arbitrary z: exact on linear planes, the nearest mapped point's on a map."""
    if where.linear:
        return plane_space.project(run, where, zs)
    from analysis.walks import nearest_rows

    ids_, xy = run.coords(where)
    _, nearest = nearest_rows(run.z(), zs, k=1, rows=ids_, sq_norms=run.sq_norms())
    return _positions(ids_, xy, nearest[:, 0])


def overlay_inputs(side: str) -> list:
    """The path's endpoints and steps (a change redraws the plane with the new path), and the runs shown."""
    return [
        Input(FROM, "value"),
        Input(TO, "value"),
        Input(STEPS, "value"),
        State(RUN["a"], "value"),
        State(RUN["b"], "value"),
    ]


def overlay(run: RunHandle, where: plane_space.Plane, side: str, start, end, steps, run_a=None, run_b=None) -> list:
    """The linear and the spherical path from A to B drawn over the plane's points (nothing while A or B is unset).

    A and B are rows of the first run shown (``run_a``, else ``run_b``; default ``run``), matched by image id.
    """
    if start is None or end is None:
        return []
    try:
        a, b = endpoints(run, start, end, reference_run(run.store, run_a, run_b))
        paths = walk(run, a, b, steps_of(steps))
        placed = {kind: place(run, where, zs) for kind, zs in paths.items()}
    except ZspaceError:  # the paths view says what is wrong; the plane stays usable
        return []
    traces = [
        go.Scattergl(
            x=xy[:, 0],
            y=xy[:, 1],
            mode="lines+markers",
            line={"color": PATH_COLOUR, "width": 2, "dash": "solid" if kind == "linear" else "dash"},
            marker={"size": 5, "color": PATH_COLOUR},
            hoverinfo="skip",
            name=f"{kind} path",
        )
        for kind, xy in placed.items()
    ]
    ends = placed["linear"][[0, -1]]
    traces.append(
        go.Scattergl(
            x=ends[:, 0],
            y=ends[:, 1],
            mode="markers+text",
            text=["A", "B"],
            textposition="top center",
            marker={"size": 12, "color": PATH_COLOUR, "symbol": "diamond"},
            hoverinfo="skip",
            name="path ends",
        )
    )
    return traces


def register(app, store, views) -> None:
    """Wire "set as A / B", and the strips and profile of each run."""

    @app.callback(
        Output(FROM, "value"),
        Output(TO, "value"),
        Output(NOTE, "children"),
        *[Input(buttons[s], "n_clicks") for buttons in (SET_A, SET_B) for s in SIDES],
        State(decode.SELECTED["a"], "data"),
        State(decode.SELECTED["b"], "data"),
        State(RUN["a"], "value"),
        State(RUN["b"], "value"),
        prevent_initial_call=True,
    )
    @guarded(lambda exc: (no_update, no_update, str(exc)))
    def _set(_a_a, _a_b, _b_a, _b_b, selected_a, selected_b, run_a, run_b):
        return set_endpoint(ctx.triggered_id, selected_a, selected_b, reference_run(store, run_a, run_b))

    for side in SIDES:

        @app.callback(
            Output(TITLE[side], "children"),
            Output(STRIPS[side], "children"),
            Output(PROFILE[side], "figure"),
            Input(RUN["a"], "value"),
            Input(RUN["b"], "value"),
            Input(FROM, "value"),
            Input(TO, "value"),
            Input(STEPS, "value"),
            Input(filters.FILTER, "data"),
            prevent_initial_call=True,  # A and B are unset when the page opens
        )
        @guarded(lambda exc: ("", error_box(exc), message_figure("", height=120)))
        def _walk(run_a, run_b, start, end, steps, filter_state, side=side):
            run = open_side(store, run_a, run_b, side)
            if run is None:
                return "", [], message_figure("", height=120)
            return walk_view(run, start, end, steps, side, filter_state, reference_run(store, run_a, run_b))


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("paths", TAB, layout, register, REFUSALS, overlay=Overlay(overlay_inputs, overlay), url_state=URL_STATE)
