"""The decoded lattice: a k x k mosaic of decodes over the plane's current viewport, AE beside VAE.

Zoom into a square of a PCA, axis or attribute plane and press "decode
lattice": each tile is the decode of the z at an evenly spaced position of
the viewport (its other coordinates from the nearest data point on the plane,
the mean or the selected point, as for a click on empty space), labelled with
how far that z lies from the data — the percentile of its nearest-data
distance among the data's own nearest-neighbour distances (red from the 99th
on: a void). So a zoomed square shows at a glance whether its empty parts
decode to faces. Once drawn, the lattice follows every zoom; each viewport's
tiles are memoised, and one lattice is one batched decoder call of at most
12 x 12 = 144 z per run.
"""

from __future__ import annotations

import numpy as np
from dash import Input, Output, State, dcc, html, no_update

from app import data_reference, plane_space
from app.images import strip, to_data_uri
from app.memo import MemoKey
from app.store import RunHandle
from app.validate import finite, whole
from app.views import decode, planes
from app.views.parts import SIDES, error_box, guarded, ids, labelled, number, side_columns
from app.views.protocol import View
from figures.lattice import VOID_PERCENTILE, lattice_figure
from figures.style import message_figure
from rundir.errors import Refusal

TAB = "Planes"


class LatticeTooLarge(Refusal):
    """A lattice of more tiles per side than one request decodes."""

    template = "a lattice has at most {most} tiles per side ({most} x {most} = {tiles} decodes per run); ask for fewer"


class LatticeNeedsLinearPlane(Refusal):
    """A lattice asked over a 2-D map (its spots have no single z)."""

    template = "the lattice is drawn over a PCA, axis or attribute plane; a t-SNE / UMAP map has no z at every spot"


REFUSALS = (LatticeTooLarge, LatticeNeedsLinearPlane, *plane_space.REFUSALS)

make = ids("lattice")
SIZE, DRAW = make("size"), make("draw")
NOTE = {s: make("note", s) for s in SIDES}
GRAPH = {s: make("graph", s) for s in SIDES}
#: The plane's viewport, handed on in the browser only once a lattice was asked for: until then a zoom
#: (and opening the page) sends the server nothing for it.
FOLLOW = {s: make("follow", s) for s in SIDES}
FOLLOW_JS = "function(view, clicks) { return clicks ? view : window.dash_clientside.no_update; }"

#: Tiles per side when the page opens.
DEFAULT_SIZE = 6
HINT = "zoom into a square of a plane, then press “decode lattice”: each tile decodes the z at its spot"


def layout() -> html.Div:
    """The lattice's size and button, then one mosaic per run."""
    from analysis.lattice import MAX_SIZE, MIN_SIZE

    controls = html.Div(
        className="controls",
        children=[
            html.H4("decoded lattice over the view"),
            labelled(f"tiles per side ({MIN_SIZE}–{MAX_SIZE})", number(SIZE, DEFAULT_SIZE, 1, MIN_SIZE)),
            html.Button("decode lattice", id=DRAW, n_clicks=0, className="button"),
            html.Div(HINT, className="note"),
        ],
    )

    def side(s):
        return [
            html.Div(id=NOTE[s], className="note"),
            dcc.Store(id=FOLLOW[s]),
            dcc.Loading(dcc.Graph(id=GRAPH[s], config={"displaylogo": False}, figure=message_figure("", height=120))),
        ]

    return html.Div([controls, side_columns(side)], className="view lattice")


def size_of(value) -> int:
    """Tiles per side from the browser: a whole number from 2 up to 12 (past it, a one-line refusal)."""
    from analysis.lattice import MAX_SIZE, MIN_SIZE

    k = whole(value, "tiles per side", MIN_SIZE, 10**6)
    if k > MAX_SIZE:
        raise LatticeTooLarge(most=MAX_SIZE, tiles=MAX_SIZE * MAX_SIZE)
    return k


def viewport_of(run: RunHandle, where: plane_space.Plane, view) -> tuple[tuple, tuple] | None:
    """The x and y ranges the plane of ``where`` shows now (None while the drawn plane is another one)."""
    if not isinstance(view, dict) or view.get("key") != f"{run.name}|{where.key()}":
        return None
    bound = planes.MAX_COORDINATE
    ranges = []
    for axis in ("x", "y"):
        pair = view.get(axis)
        if not isinstance(pair, list) or len(pair) != 2:
            return None
        low, high = sorted(finite(v, f"viewport {axis}", -bound, bound) for v in pair)
        if not low < high:
            return None
        ranges.append((low, high))
    return ranges[0], ranges[1]


def decoded_lattice(run: RunHandle, where: plane_space.Plane, x_range, y_range, k: int, base) -> dict:
    """The k x k tiles over a viewport, memoised per viewport: ``centres``, ``mosaic``, ``distances``, ``rows``.

    ``mosaic`` is the decoded tiles as one PNG data URI (top row first, one pixel between tiles);
    ``distances`` each tile's z's distance to the nearest data point (in full z-space);
    ``rows`` the data rows their other coordinates come from (-1 for the mean).
    """
    from analysis import lattice

    def compute():
        centres = lattice.positions(x_range, y_range, k)
        z, rows = plane_space.z_at(run, where, centres, base)
        return {
            "centres": centres,
            "mosaic": to_data_uri(strip(run.decode(z, most=lattice.MAX_SIZE**2), columns=k, gap=1)),
            "distances": run.nearest_distance(z),
            "rows": np.full(len(z), -1, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64),
        }

    return run.memo(MemoKey.lattice(where.key(), x_range, y_range, k, base), compute)


def lattice_view(run: RunHandle, request: planes.PlaneRequest, view, size, base_mode, selected):
    """The note and the mosaic figure of one run's lattice over its current viewport (None: not drawn yet).

    A run without a decoder draws none (the decode view's status line says so once for the page).
    """
    k = size_of(size)
    if not run.has_decoder:
        return "", message_figure("", height=120)
    where = request.plane(run)
    if not where.linear:
        raise LatticeNeedsLinearPlane()
    ranges = viewport_of(run, where, view)
    if ranges is None:
        return None
    base, said = decode.base_of(run, base_mode, selected)
    found = decoded_lattice(run, where, *ranges, k, base)
    percentiles = data_reference.percentiles(run, found["distances"])
    labels = tuple(plane_space.axis_label(run, where, axis) for axis in (0, 1))
    figure = lattice_figure(found["mosaic"], *ranges, found["centres"], percentiles, request.side, labels)
    (x0, x1), (y0, y1) = ranges
    note = (
        f"{run.name}: {k} × {k} decodes over x {x0:.3g} … {x1:.3g}, y {y0:.3g} … {y1:.3g}; "
        f"other coordinates from {said}. "
    )
    if percentiles is None:
        note += "No nearest-data percentiles: the data's nearest-neighbour reference is not computed (zspace analyze)."
    else:
        voids = int((percentiles >= VOID_PERCENTILE).sum())
        note += (
            "Each tile's label: its z's distance to the nearest data point as a percentile of the data's own "
            f"nearest-neighbour distances; {voids} of {k * k} tiles at the {VOID_PERCENTILE:.0f}th or beyond (a void)."
        )
    return note, figure


def register(app, store, views) -> None:
    """Wire each run's lattice to the button and, once drawn, to every change of its plane's viewport."""
    for side in SIDES:

        @app.callback(
            Output(NOTE[side], "children"),
            Output(GRAPH[side], "figure"),
            inputs={
                "clicks": Input(DRAW, "n_clicks"),
                "followed": Input(FOLLOW[side], "data"),
                "view": State(planes.VIEWPORT[side], "data"),
                "size": State(SIZE, "value"),
                "base_mode": State(planes.BASE_MODE, "value"),
                "selected": State(decode.SELECTED[side], "data"),
                "request": planes.PlaneRequest.dependencies(side),
            },
            prevent_initial_call=True,
        )
        @guarded(lambda exc: (error_box(exc), message_figure("", height=120)))
        def _lattice(clicks, followed, view, size, base_mode, selected, request, side=side):
            if not clicks:
                return no_update, no_update
            request = planes.PlaneRequest.of(side, request)
            run = request.open(store)
            if run is None:
                return "", message_figure("", height=120)
            drawn = lattice_view(run, request, view, size, base_mode, selected)
            return (no_update, no_update) if drawn is None else drawn

        app.clientside_callback(
            FOLLOW_JS, Output(FOLLOW[side], "data"), Input(planes.VIEWPORT[side], "data"), State(DRAW, "n_clicks")
        )


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("lattice", TAB, layout, register, REFUSALS)
