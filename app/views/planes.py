"""The Planes view: every z-point on a PCA pair, an axis pair or a 2-D map, re-queried on every zoom."""

from __future__ import annotations

import contextlib

import numpy as np
from dash import Input, Output, State, ctx, dcc, html, no_update

from app import plane_space, subsets
from app.figures.planes import padded_range, plane_figure, raster_cells
from app.figures.style import message_figure
from app.store import MemoKey, RunHandle
from app.url_state import Choice, Field, Name, Whole, Zoom
from app.validate import choice, finite
from app.views import filters, maps
from app.views.parts import RUN, SIDES, guarded, ids, labelled, number, open_side, side_columns
from rundir.errors import ZspaceError

TAB = "Planes"
MESSAGES = (
    r"colouring by \S+ is computed only for runs of up to .+",
    r"no t-SNE or UMAP map is computed for .+",
    r"empty space on a t-SNE or UMAP map has no z.+",
    r"link zoom must be .+",
    *subsets.MESSAGES,
)

make = ids("planes")
KIND, AXIS_I, AXIS_J, COLOUR, BASE_MODE = make("kind"), make("i"), make("j"), make("colour"), make("base-mode")
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
VIEW = {s: make("view", s) for s in SIDES}
#: The plane's width in the browser (px), measured before it is drawn, so a density raster has a cell per pixel.
WIDTH = {s: make("width", s) for s in SIDES}

BASE_COLOURS = {"none": "nothing", "radius": "radius", "density": "local density", "lid": "local intrinsic dimension"}
#: Above this many points, colouring by local density / intrinsic dimension needs `zspace analyze`.
MAX_INLINE_KNN = 20000
#: Neighbours of the local density / intrinsic dimension colourings.
KNN_K = 20
#: Most a square or zoom may reach from the origin (beyond any encoder's output, below float overflow).
MAX_COORDINATE = subsets.MAX_COORDINATE
#: Per side: a zoom to show once, ``{"x": [x0, x1], "y": [y0, y1]}`` (a shared link's, see app.views.share).
RESTORE = {s: make("restore", s) for s in SIDES}
#: What a shared link carries of this view (see :mod:`app.url_state`); a zoom comes back through RESTORE.
URL_STATE = {
    "plane": Field(KIND, "value", Choice(plane_space.PLANE_KINDS, "plane")),
    "x": Field(AXIS_I, "value", Whole(0, 1_000_000, "x axis")),
    "y": Field(AXIS_J, "value", Whole(0, 1_000_000, "y axis")),
    "colour": Field(COLOUR, "value", Name("colour")),
    **{f"zoom-{s}": Field(VIEW[s], "data", Zoom(MAX_COORDINATE), targets=((RESTORE[s], "data"),)) for s in SIDES},
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
                        {"label": "the mean", "value": "mean"},
                        {"label": "last selected point", "value": "selected"},
                    ],
                    value="mean",
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
            dcc.Loading(dcc.Graph(id=GRAPH[s], config={"displaylogo": False}, className="plane-graph")),
            dcc.Store(id=VIEW[s]),
            dcc.Store(id=RESTORE[s]),
            dcc.Store(id=WIDTH[s]),
        ]

    return html.Div([controls, side_columns(side)], className="view")


def relayout_range(relayout) -> tuple[list[float], list[float]] | None:
    """The (x, y) ranges a zoom or pan reported in ``relayoutData``; None if it reported none."""
    if not isinstance(relayout, dict):
        return None
    if "xaxis.range[0]" in relayout and "yaxis.range[0]" in relayout:
        x = [relayout.get("xaxis.range[0]"), relayout.get("xaxis.range[1]")]
        y = [relayout.get("yaxis.range[0]"), relayout.get("yaxis.range[1]")]
    elif isinstance(relayout.get("xaxis.range"), list) and isinstance(relayout.get("yaxis.range"), list):
        x, y = relayout["xaxis.range"], relayout["yaxis.range"]
    else:
        return None
    if len(x) != 2 or len(y) != 2:
        return None
    try:
        bound = (-MAX_COORDINATE, MAX_COORDINATE)
        return sorted(finite(v, "zoom range", *bound) for v in x), sorted(finite(v, "zoom range", *bound) for v in y)
    except ZspaceError:  # an unusable zoom report is ignored like an autosize event
        return None


def count_text(
    shown: int, inside: int, total: int, over_budget: bool, budget: int, mapped: int | None, kept: int | None = None
) -> str:
    """The always-visible shown / total line; it says so whenever fewer points are drawn than exist.

    ``kept`` is how many rows the metadata filter keeps (None: no filter); only those are drawn.
    """
    if over_budget:
        text = (
            f"{inside:,} points in view, more than the {budget:,}-point budget: showing their density — "
            f"zoom in to see single points · {total:,} total"
        )
    else:
        text = f"showing {shown:,} of {total:,} points ({inside:,} in view)"
    if kept is not None:
        text += f" · the filter keeps {kept:,} of {total:,}"
    if mapped is not None:
        text += f" · the map holds {mapped:,} of them"
    return text


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
            raise ZspaceError(
                f"colouring by {BASE_COLOURS[by]} is computed only for runs of up to {MAX_INLINE_KNN:,} points "
                f"({run.name} has {run.n_points:,}); colour by radius or a metadata column instead"
            )
        values = run.result(declaration, k=KNN_K)["values"]
        return np.asarray(values, dtype=np.float32), "local intrinsic dim." if by == "lid" else "log density (-log d_k)"
    choice(by, "colour", [*BASE_COLOURS, *run.metadata_columns()])
    return run.column(by), str(by)


def overlay_views(app) -> list:
    """Views of the page that draw on the plane: each has ``overlay_inputs(side)`` and ``overlay(...)``.

    ``overlay_inputs(side)`` lists the Dash ``Input`` / ``State`` objects whose values
    the overlay needs (a change of an ``Input`` redraws the plane);
    ``overlay(run, where, side, *values)`` returns plotly traces drawn over the
    points (a path, highlighted neighbours, a selection); a view may also define
    ``overlay_layout(run, where, side, *values) -> dict`` of layout updates
    (the selection's outline). The page shell hands the
    registry over as ``app.zspace_views`` (a view never imports the registry itself).
    """
    return [view for view in getattr(app, "zspace_views", ()) if hasattr(view, "overlay")]


def main_trigger(changed: list[str], relayout, side: str) -> str | None:
    """The component whose change decides how a side's plane is redrawn (``changed``: Dash's "id.prop" list).

    Several props can change in one call (a link sets the plane and its zoom; a selection
    drawn on the plot changes its relayout data and the selection store at once): a
    link's zoom wins, then a zoom or an autoscale of the plot, then any other change; a
    relayout event that is neither (a resize, a selection outline) counts only alone.
    """
    ids_changed = [prop.rsplit(".", 1)[0] for prop in changed]
    if RESTORE[side] in ids_changed:
        return RESTORE[side]  # a link's zoom arrives with the plane it belongs to
    graph = GRAPH[side]
    if graph in ids_changed:
        zoomed = relayout_range(relayout) is not None
        reset = isinstance(relayout, dict) and any("autorange" in str(k) for k in relayout)
        others = [i for i in ids_changed if i != graph]
        if zoomed or reset or not others:
            return graph
        return others[0]
    return ids_changed[0] if ids_changed else None


def restored_range(restore) -> tuple[list[float], list[float]]:
    """The (x, y) ranges of a zoom to restore (``{"x": [x0, x1], "y": [y0, y1]}``), checked like the square's."""
    if not isinstance(restore, dict) or not all(isinstance(restore.get(k), list) for k in "xy"):
        raise ZspaceError("link zoom must be an x range and a y range")
    x, y = restore["x"][:3], restore["y"][:3]
    if len(x) != 2 or len(y) != 2:
        raise ZspaceError("link zoom must be an x range and a y range")
    bound = (-MAX_COORDINATE, MAX_COORDINATE)
    x, y = sorted(finite(v, "link zoom", *bound) for v in x), sorted(finite(v, "link zoom", *bound) for v in y)
    if x[0] == x[1] or y[0] == y[1]:
        raise ZspaceError("link zoom must be a range of some width")
    return x, y


def update_plane(
    run: RunHandle,
    kind,
    i,
    j,
    map_key,
    colour,
    relayout,
    square,
    view,
    trigger,
    side="a",
    overlays=(),
    width=None,
    filter_state=None,
    restore=None,
):
    """Build the plane figure, the count line and the view JSON for one run and viewport.

    Parameters
    ----------
    square : (x, y, side) of the "square" control, used when ``trigger`` is its button.
    view : dict or None
        The side's previous view JSON (plane key and ranges), kept across colour changes.
    overlays : sequence of (view module, values)
        What other views draw on this plane (see :func:`overlay_views`).
    width : number, optional
        The figure's width in the browser (px); sizes the density raster (see :func:`raster_cells`).
    filter_state : dict, optional
        The metadata filter (:mod:`app.subsets`); only the rows it keeps are drawn.
    restore : dict, optional
        A link's zoom (see :data:`RESTORE`), shown when it arrives or by the next drawing if that one was lost.
    """
    where = plane_space.plane(run, kind, i, j, map_key)
    ids_, xy = run.coords(where)
    total = run.n_points
    key = f"{run.name}|{where.key()}"
    # The whole plane's frame comes from every point, so a filter does not move the view.
    x_range, y_range = padded_range(xy[:, 0]), padded_range(xy[:, 1])
    mask = subsets.filter_mask(run, filter_state)
    if mask is not None:
        keep = mask[ids_]
        ids_, xy = ids_[keep], xy[keep]
    zoom = relayout_range(relayout) if trigger == GRAPH[side] else None
    same_plane = isinstance(view, dict) and view.get("key") == key
    # A link's zoom is shown once: when it arrives, or by the first drawing after it if that one was superseded.
    restored = view.get("restored") if isinstance(view, dict) else None
    if trigger == SQUARE_GO:
        half = finite(square[2], "square side", 1e-6, MAX_COORDINATE) / 2
        cx = finite(square[0], "square centre x", -MAX_COORDINATE, MAX_COORDINATE)
        cy = finite(square[1], "square centre y", -MAX_COORDINATE, MAX_COORDINATE)
        x_range, y_range = (cx - half, cx + half), (cy - half, cy + half)
    elif restore is not None and (trigger == RESTORE[side] or restore != restored):
        x_range, y_range = restored_range(restore)
        restored = restore
    elif zoom is not None:
        x_range, y_range = zoom
    elif trigger != RESET and same_plane and isinstance(view.get("x"), list) and isinstance(view.get("y"), list):
        # A colour change (or a new map listing) keeps the user's view of the same plane.
        x_range = [finite(v, "view", -MAX_COORDINATE, MAX_COORDINATE) for v in view["x"][:2]]
        y_range = [finite(v, "view", -MAX_COORDINATE, MAX_COORDINATE) for v in view["y"][:2]]
    # A zoom answer keeps the revision (the browser already shows that range); anything else moves the view.
    if zoom is not None and same_plane:
        revision = str(view.get("rev"))
    else:
        revision = f"{key}|{x_range[0]:.6g}|{x_range[1]:.6g}|{y_range[0]:.6g}|{y_range[1]:.6g}"
    from analysis.planes import viewport_query

    cells = raster_cells(width)
    result = viewport_query(
        xy, x_range, y_range, budget=run.store.plane_budget, **({"raster_size": cells} if cells else {})
    )
    values, label = colour_values(run, colour)
    shown_ids = ids_[result.ids]
    figure = plane_figure(
        result.xy,
        shown_ids,
        x_range,
        y_range,
        colour=None if values is None else values[shown_ids],
        colour_label=label,
        raster=result.raster,
        x_label=plane_space.axis_label(run, where, 0),
        y_label=plane_space.axis_label(run, where, 1),
        side=side,
        clickable_space=where.clickable,
        uirevision=revision,
    )
    for overlay_view, values in overlays:
        for trace in overlay_view.overlay(run, where, side, *values):
            figure.add_trace(trace)
        if hasattr(overlay_view, "overlay_layout"):
            figure.update_layout(overlay_view.overlay_layout(run, where, side, *values))
    mapped = len(ids_) if where.kind == "map" else None
    kept = None if mask is None else int(mask.sum())
    text = count_text(len(result.ids), result.count, total, result.over_budget, run.store.plane_budget, mapped, kept)
    view = {"key": key, "x": list(map(float, x_range)), "y": list(map(float, y_range)), "rev": revision}
    return figure, text, {**view, "restored": restored}


def colour_options(run: RunHandle | None) -> list[dict]:
    """Colour choices for a run: the base ones and every numeric metadata column (the base ones only without a run)."""
    options = [{"label": label, "value": value} for value, label in BASE_COLOURS.items()]
    if run is not None:
        options += [{"label": f"metadata: {c}", "value": c} for c in run.metadata_columns()]
    return options


def register(app, store) -> None:
    """Wire the Planes view (and the overlays other views draw on it)."""
    drawers = overlay_views(app)
    for side in SIDES:
        extra = [list(view.overlay_inputs(side)) for view in drawers]

        @app.callback(
            Output(GRAPH[side], "figure"),
            Output(COUNT[side], "children"),
            Output(VIEW[side], "data"),
            Input(RUN["a"], "value"),
            Input(RUN["b"], "value"),
            Input(KIND, "value"),
            Input(AXIS_I, "value"),
            Input(AXIS_J, "value"),
            Input(maps.PICKED[side], "value"),
            Input(COLOUR, "value"),
            Input(GRAPH[side], "relayoutData"),
            Input(SQUARE_GO, "n_clicks"),
            Input(RESET, "n_clicks"),
            State(SQUARE_X, "value"),
            State(SQUARE_Y, "value"),
            State(SQUARE_SIDE, "value"),
            State(VIEW[side], "data"),
            Input(WIDTH[side], "data"),
            Input(filters.FILTER, "data"),
            Input(RESTORE[side], "data"),
            *[dependency for group in extra for dependency in group],
        )
        @guarded(lambda exc: (message_figure(str(exc)), str(exc), None))
        def _plane(
            run_a,
            run_b,
            kind,
            i,
            j,
            map_key,
            colour,
            relayout,
            _go,
            _reset,
            sx,
            sy,
            length,
            view,
            width,
            filter_state,
            restore,
            *more,
            side=side,
            extra=extra,
        ):
            trigger = main_trigger(list(ctx.triggered_prop_ids), relayout, side)
            if trigger == GRAPH[side] and relayout_range(relayout) is None:
                if isinstance(relayout, dict) and any("autorange" in str(k) for k in relayout):
                    trigger = RESET  # a double-click ("autoscale") shows the whole plane again
                elif isinstance(view, dict):
                    return no_update, no_update, no_update  # e.g. a resize, or a selection drawn
                # Else the plot's first autosize event: it supersedes the first drawing still in flight, so draw.
            run = open_side(store, run_a, run_b, side)
            if run is None:
                return message_figure("no run selected" if side == "a" else ""), "", None
            overlays, start = [], 0
            for drawer, group in zip(drawers, extra, strict=True):  # not `view`: that is the side's view JSON
                overlays.append((drawer, more[start : start + len(group)]))
                start += len(group)
            square = (sx, sy, length)
            return update_plane(
                run,
                kind,
                i,
                j,
                map_key,
                colour,
                relayout,
                square,
                view,
                trigger,
                side,
                overlays,
                width,
                filter_state,
                restore,
            )

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

    @app.callback(Output(COLOUR, "options"), Input(RUN["a"], "value"))
    def _colours(run_a):
        run = None
        with contextlib.suppress(ZspaceError):  # an unusable run still gets the base colours; its planes say why
            run = open_side(store, run_a, None, "a")
        return colour_options(run)
