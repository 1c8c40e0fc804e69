"""The Planes view: every z-point on a PCA pair, an axis pair or a 2-D map, re-queried on every zoom.

:class:`PlaneRequest` is the page's plane as every view that reads it gets it
(built once per callback from :meth:`PlaneRequest.dependencies`), and
:func:`classify` is the one place that says what a change of the plot was
(a zoom, a reset, the square, a link's zoom, or noise); :mod:`app.viewport`
turns that into the ranges a drawing shows.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from dash import Input, Output, State, ctx, dcc, html, no_update

from app import plane_space, subsets, viewport
from app.plane_colours import BASE_COLOURS, ColouringTooLarge, colour_options, colour_values
from app.store import RunHandle
from app.url_state import Choice, Field, LinkCheck, Name, Whole, Zoom
from app.viewport import Change, Event
from app.views import filters, maps
from app.views.parts import RUN, SIDES, guarded, ids, labelled, number, open_side, side_columns, side_run
from app.views.protocol import View
from app.warm_up import warm_clicks
from figures.planes import PlanePoints, padded_range, plane_figure, raster_cells
from figures.style import message_figure
from rundir.errors import ZspaceError

TAB = "Planes"


REFUSALS = (ColouringTooLarge, viewport.UnusableLinkZoom, *plane_space.REFUSALS, *subsets.REFUSALS)

make = ids("planes")
KIND, AXIS_I, AXIS_J, COLOUR, BASE_MODE = make("kind"), make("i"), make("j"), make("colour"), make("base-mode")
UNITS = make("units")
SQUARE_X, SQUARE_Y, SQUARE_SIDE, SQUARE_GO, RESET = (
    make("square-x"),
    make("square-y"),
    make("square-side"),
    make("square-go"),
    make("reset"),
)
COUNT = {s: make("count", s) for s in SIDES}
GRAPH = {s: make("graph", s) for s in SIDES}
#: Small JSON per side: the plane's key, the visible x / y ranges and the figure's ui revision.
VIEWPORT = {s: make("view", s) for s in SIDES}
#: The plane's width in the browser (px), measured before it is drawn, so a density raster has a cell per pixel.
WIDTH = {s: make("width", s) for s in SIDES}

#: Most a square or zoom may reach from the origin (beyond any encoder's output, below float overflow).
MAX_COORDINATE = subsets.MAX_COORDINATE
#: A plane's own resize report, its starting relayoutData: the resize after its first drawing then sends nothing.
AUTOSIZED, CONFIG = {"autosize": True}, {"displaylogo": False}
#: Per side: a zoom to show once, ``{"x": [x0, x1], "y": [y0, y1]}`` (a shared link's, see app.views.share).
RESTORE = {s: make("restore", s) for s in SIDES}
#: What a shared link carries of this view (see :mod:`app.url_state`); a zoom comes back through RESTORE.
PLANE_KEY, X_KEY, Y_KEY, UNITS_KEY = "plane", "x", "y", "units"
URL_STATE = {
    PLANE_KEY: Field(KIND, "value", Choice(plane_space.PLANE_KINDS, "plane")),
    X_KEY: Field(AXIS_I, "value", Whole(0, 1_000_000, "x axis")),
    Y_KEY: Field(AXIS_J, "value", Whole(0, 1_000_000, "y axis")),
    "colour": Field(COLOUR, "value", Name("colour")),
    UNITS_KEY: Field(UNITS, "value", Choice(tuple(plane_space.UNITS_LABELS), "plane units")),
    **{f"zoom-{s}": Field(VIEWPORT[s], "data", Zoom(MAX_COORDINATE), targets=((RESTORE[s], "data"),)) for s in SIDES},
}


def layout() -> html.Div:
    """Plane controls, then one count line and one plane per run."""
    controls = html.Div(
        className="controls",
        children=[
            labelled(
                "plane",
                dcc.RadioItems(
                    id=KIND,
                    options=[{"label": plane_space.PLANE_LABELS[k], "value": k} for k in plane_space.PLANE_KINDS],
                    value="pca",
                    inline=True,
                ),
            ),
            html.Div([html.Label("x"), number(AXIS_I, 0, 1, 0), html.Label("y"), number(AXIS_J, 1, 1, 0)]),
            labelled(
                "units",
                dcc.RadioItems(
                    id=UNITS,
                    options=[{"label": label, "value": value} for value, label in plane_space.UNITS_LABELS.items()],
                    value="z",
                    inline=True,
                ),
            ),
            labelled(
                "colour",
                dcc.Dropdown(
                    id=COLOUR,
                    # The base colourings are there from the start, so "none" is valid before the metadata arrives.
                    options=[{"label": label, "value": value} for value, label in BASE_COLOURS.items()],
                    value="none",
                    clearable=False,
                    style={"width": "14em"},
                ),
            ),
            labelled(
                "empty-space clicks hold other coordinates at",
                dcc.RadioItems(
                    id=BASE_MODE,
                    options=[
                        {"label": "the nearest data point on the plane", "value": "nearest"},
                        {"label": "the mean", "value": "mean"},
                        {"label": "last selected point", "value": "selected"},
                    ],
                    value="nearest",
                    inline=True,
                ),
            ),
            html.Div(
                [
                    html.Label("square: centre"),
                    number(SQUARE_X, 0.0, "any"),
                    number(SQUARE_Y, 0.0, "any"),
                    html.Label("side"),
                    number(SQUARE_SIDE, 0.5, "any", 0),
                    html.Button("go", id=SQUARE_GO, n_clicks=0, className="button"),
                    html.Button("whole plane", id=RESET, n_clicks=0, className="button secondary"),
                ]
            ),
        ],
    )

    def side(s):
        return [
            html.Div(id=COUNT[s], className="count"),
            dcc.Loading(dcc.Graph(id=GRAPH[s], config=CONFIG, relayoutData=AUTOSIZED, className="plane-graph")),
            dcc.Store(id=VIEWPORT[s]),
            dcc.Store(id=RESTORE[s]),
            dcc.Store(id=WIDTH[s]),
        ]

    return html.Div([controls, side_columns(side)], className="view")


@dataclass(frozen=True)
class PlaneRequest:
    """Which plane of which run one side of the page shows, and how: what every view reading the plane gets.

    A callback asks for it with :meth:`dependencies` in its dict-form signature
    (``request=PlaneRequest.dependencies(side)``) and gets it back with
    :meth:`of`, so no view restates the plane's controls. The last fields are
    the Planes view's own viewport state (other views leave them unset).
    """

    side: str
    run_a: str | None = None
    run_b: str | None = None
    kind: str = "pca"
    i: int = 0
    j: int = 1
    map_key: str | None = None
    colour: str = "none"
    units: str = "z"
    filter_state: dict | None = None
    square: tuple = (None, None, None)
    view: dict | None = None
    width: float | None = None
    restore: dict | None = None
    overlays: tuple = ()

    @staticmethod
    def dependencies(side: str, dependency=State) -> dict:
        """The page's plane for ``side`` as a dict-form callback argument (``dependency``: State or Input)."""
        return {
            "run_a": dependency(RUN["a"], "value"),
            "run_b": dependency(RUN["b"], "value"),
            "kind": dependency(KIND, "value"),
            "i": dependency(AXIS_I, "value"),
            "j": dependency(AXIS_J, "value"),
            "map_key": dependency(maps.PICKED[side], "value"),
            "colour": dependency(COLOUR, "value"),
            "units": dependency(UNITS, "value"),
            "filter_state": dependency(filters.FILTER, "data"),
        }

    @staticmethod
    def viewport_dependencies(side: str) -> dict:
        """The Planes view's own viewport state of ``side`` (the square control, the view JSON, width, a link's zoom)."""
        return {
            "square": [State(SQUARE_X, "value"), State(SQUARE_Y, "value"), State(SQUARE_SIDE, "value")],
            "view": State(VIEWPORT[side], "data"),
            "width": Input(WIDTH[side], "data"),
            "restore": Input(RESTORE[side], "data"),
        }

    @classmethod
    def of(cls, side: str, values: dict, overlays: tuple = ()) -> PlaneRequest:
        """The request from the values Dash passes for :meth:`dependencies` (and :meth:`viewport_dependencies`)."""
        square = values.get("square")
        return cls(
            side, **{**values, "square": tuple(square) if isinstance(square, list) else (None,) * 3}, overlays=overlays
        )

    @classmethod
    def from_link(cls, check: LinkCheck, side: str) -> PlaneRequest:
        """The plane of ``side`` once a link being opened is applied (its values, else the page's)."""
        run_a, run_b = check.runs
        kind, i, j, units = (check.value(key) for key in (PLANE_KEY, X_KEY, Y_KEY, UNITS_KEY))
        return cls(side, run_a, run_b, kind, i, j, check.value(maps.MAP_KEY[side]), units=units or "z")

    @property
    def run_name(self) -> str | None:
        """The name of the run this side shows (None: nothing, see :func:`app.views.parts.side_run`)."""
        return side_run(self.run_a, self.run_b, self.side)

    def open(self, store) -> RunHandle | None:
        """The run this side shows, opened (None when the side shows nothing)."""
        return open_side(store, self.run_a, self.run_b, self.side)

    def plane(self, run: RunHandle) -> plane_space.Plane:
        """The requested plane, validated against ``run``."""
        return plane_space.plane(run, self.kind, self.i, self.j, self.map_key, self.units)

    def spec(self) -> dict:
        """The plane's controls as a selection stores them (``{"kind", "i", "j", "map", "units"}``)."""
        return {"kind": self.kind, "i": self.i, "j": self.j, "map": self.map_key, "units": self.units}


def classify(relayout, trigger) -> Event:
    """What a plane callback was called for: the one place a zoom, a reset, the square, a link's zoom or noise is told.

    ``trigger`` is what Dash reports as changed (``ctx.triggered_prop_ids``: "id.prop" strings). Several
    props can change in one call (a link sets the plane and its zoom; a selection drawn on the plot changes
    its relayout data and the selection store at once): a link's zoom wins, then a zoom or an autoscale of
    the plot, then any other change; a relayout event that is neither (a resize, a selection outline, the
    first autosize) is :attr:`Change.NOISE` only alone.
    """
    changed = [str(prop).rsplit(".", 1)[0] for prop in (trigger or ())]
    if any(component in RESTORE.values() for component in changed):
        return Event(Change.RESTORE)
    others = [component for component in changed if component not in GRAPH.values()]
    if len(others) < len(changed):
        event = viewport.relayout_event(relayout)
        if event.change is not Change.NOISE or not others:
            return event
    first = others[0] if others else None
    return Event({SQUARE_GO: Change.SQUARE, RESET: Change.RESET}.get(first, Change.REDRAW))


def update_plane(run: RunHandle, request: PlaneRequest, event: Event):
    """Build the plane figure, the count line and the view JSON for one run, one request and one event.

    Only the rows the request's filter keeps are drawn; the whole plane's frame comes
    from every point, so a filter does not move the view.
    """
    where = request.plane(run)
    ids_, xy = run.coords(where)
    warm_clicks(run)  # the run is shown: what a click on it reads loads in the background
    key = f"{run.name}|{where.key()}"
    whole = (padded_range(xy[:, 0]), padded_range(xy[:, 1]))
    mask = subsets.filter_mask(run, request.filter_state)
    if mask is not None:
        keep = mask[ids_]
        ids_, xy = ids_[keep], xy[keep]
    shown = viewport.frame(event, whole, key, request.view, request.square, request.restore)
    figure, result = _figure(run, request, where, ids_, xy, shown)
    mapped = len(ids_) if where.kind == "map" else None
    kept = None if mask is None else int(mask.sum())
    budget = run.store.plane_budget
    text = viewport.count_text(len(result.ids), result.count, run.n_points, result.over_budget, budget, mapped, kept)
    view = {"key": key, "x": shown.x_range, "y": shown.y_range, "rev": shown.revision, "restored": shown.restored}
    return figure, text, view


def _figure(run: RunHandle, request: PlaneRequest, where, ids_, xy, shown: viewport.Frame):
    from analysis.planes import viewport_query

    cells = raster_cells(request.width)
    result = viewport_query(
        xy, shown.x_range, shown.y_range, budget=run.store.plane_budget, **({"raster_size": cells} if cells else {})
    )
    values, label = colour_values(run, request.colour)
    shown_ids = ids_[result.ids]
    points = PlanePoints(
        result.xy,
        shown_ids,
        shown.x_range,
        shown.y_range,
        colour=None if values is None else values[shown_ids],
        colour_label=label,
        raster=result.raster,
        x_label=plane_space.axis_label(run, where, 0),
        y_label=plane_space.axis_label(run, where, 1),
        side=request.side,
    )
    figure = plane_figure(points, clickable_space=where.clickable, uirevision=shown.revision)
    for overlay, values in request.overlays:
        for trace in overlay.traces(run, where, request.side, *values):
            figure.add_trace(trace)
        if overlay.layout is not None:
            figure.update_layout(overlay.layout(run, where, request.side, *values))
    return figure, result


def register(app, store, views) -> None:
    """Wire the Planes view (and the overlays the other ``views`` draw on it)."""
    drawers = [view.overlay for view in views if view.overlay is not None]
    for side in SIDES:
        inputs = {
            "request": {**PlaneRequest.dependencies(side, Input), **PlaneRequest.viewport_dependencies(side)},
            "relayout": Input(GRAPH[side], "relayoutData"),
            "clicks": [Input(SQUARE_GO, "n_clicks"), Input(RESET, "n_clicks")],
        }
        if drawers:
            inputs["overlays"] = [list(overlay.inputs(side)) for overlay in drawers]

        @app.callback(
            Output(GRAPH[side], "figure"),
            Output(COUNT[side], "children"),
            Output(VIEWPORT[side], "data"),
            inputs=inputs,
        )
        @guarded(lambda exc: (message_figure(str(exc)), str(exc), None))
        def _plane(request, relayout, clicks, overlays=(), side=side):
            event = classify(relayout, list(ctx.triggered_prop_ids))
            drawn = tuple((overlay, tuple(values)) for overlay, values in zip(drawers, overlays, strict=True))
            wanted = PlaneRequest.of(side, request, drawn)
            if event.change is Change.NOISE and isinstance(wanted.view, dict):
                return no_update, no_update, no_update  # e.g. a resize, or a selection drawn
            # Else the plot's first autosize event: it supersedes the first drawing still in flight, so draw.
            run = wanted.open(store)
            if run is None:
                return message_figure("no run selected" if side == "a" else ""), "", None
            return update_plane(run, wanted, event)

    for side in SIDES:
        # Measured in the browser before the plane is drawn (the plane waits for its width): the column's
        # width, halved when a second run is compared beside it.
        app.clientside_callback(
            "function(runA, runB) {"
            f"  const graph = document.getElementById('{GRAPH[side]}');"
            "  const row = graph && graph.closest('.sides');"
            "  if (!row) { return window.dash_clientside.no_update; }"
            "  const width = row.getBoundingClientRect().width / (runB && runB !== runA ? 2 : 1);"
            "  return Math.round(width);"
            "}",
            Output(WIDTH[side], "data"),
            Input(RUN["a"], "value"),
            Input(RUN["b"], "value"),
        )

    @app.callback(Output(COLOUR, "options"), Input(RUN["a"], "value"), prevent_initial_call=True)
    def _colours(run_a):
        return initial(store, run_a, None)[(COLOUR, "options")]


def initial(store, run_a, run_b) -> dict:
    """The colour options of the page's first run (``View.initial``); an unusable run gets the base ones."""
    run = None
    with contextlib.suppress(ZspaceError):  # its planes say why it is unusable
        run = open_side(store, run_a, None, "a")
    return {(COLOUR, "options"): colour_options(run)}


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("planes", TAB, layout, register, REFUSALS, url_state=URL_STATE, initial=initial)
