"""Click to decode: a clicked point shows its original and its reconstruction; clicked empty space the z at that spot."""

from __future__ import annotations

import numpy as np
from dash import Input, Output, State, dcc, html, no_update

from app import plane_space
from app.images import to_data_uri
from app.store import RunHandle, RunStore
from app.url_state import Field, LinkCheck, Row
from app.validate import finite, whole
from app.views import planes
from app.views.parts import SIDES, NoRunSelected, error_box, guarded, ids, side_columns
from app.views.protocol import View
from rundir.errors import Refusal, ZspaceError

TAB = "Planes"


class NoClick(Refusal):
    """A decode request without a click."""

    template = "no click to decode"


class MalformedClick(Refusal):
    """A click whose point is not what a plot sends."""

    template = "malformed click"


class NoPointThere(Refusal):
    """A click on a point that is no longer where it was (the plane changed since)."""

    template = "no z-point at the clicked position; the plane changed since the click — click again"


class MalformedZ(Refusal):
    """A decoded spot that is not a z of the run."""

    template = "z must be {z_dim} finite numbers"


class PointNotOnPlane(Refusal):
    """A link's clicked point that the plane it will be shown on does not hold (a map holds a subset)."""

    template = "has a point ({row}) that is not on this plane"


class NoRunOnSide(Refusal):
    """A link's clicked point on a side that shows no run."""

    template = "no run on that side"


#: What this view refuses (beyond :data:`app.views.parts.COMMON_REFUSALS`).
REFUSALS = (NoClick, MalformedClick, NoPointThere, MalformedZ, PointNotOnPlane, NoRunOnSide, *plane_space.REFUSALS)

make = ids("decode")
PANEL = {s: make("panel", s) for s in SIDES}
NEAREST = {s: make("nearest", s) for s in SIDES}
#: ``{"run", "row"}`` of the last clicked data point (the base of "hold other coordinates at the selected point").
SELECTED = {s: make("selected", s) for s in SIDES}
#: What was decoded last: ``{"run", "row"}`` or ``{"run", "z"}``; its nearest-data distance is a second callback.
DECODED = {s: make("decoded", s) for s in SIDES}
DECODER_STATUS, DECODER_POLL = make("decoder-status"), make("decoder-poll")

#: The link keys of each side's clicked point, and what a shared link carries of this view: a link's point
#: becomes a click on that side's plane (see :func:`check_url`).
POINT_KEY = {s: f"point-{s}" for s in SIDES}
URL_STATE = {POINT_KEY[s]: Field(SELECTED[s], "data", Row(), targets=((planes.GRAPH[s], "clickData"),)) for s in SIDES}

READY_TEXT = "click a point or empty space on a plane to decode it"
LOADING_TEXT = "loading the decoder (TensorFlow starts once per server) — a click now waits for it"


def layout() -> html.Div:
    """The decoder's state, then one decode panel per run."""

    def side(s):
        return [
            dcc.Loading(html.Div(id=PANEL[s], className="decode-panel", children=READY_TEXT)),
            dcc.Loading(html.Div(id=NEAREST[s], className="note nearest"), type="dot"),
            dcc.Store(id=SELECTED[s]),
            dcc.Store(id=DECODED[s]),
        ]

    return html.Div(
        [
            html.Div(id=DECODER_STATUS, className="note decoder-status"),
            dcc.Interval(id=DECODER_POLL, interval=1000, n_intervals=0),
            side_columns(side),
        ],
        className="view decode",
    )


def clicked_target(click) -> tuple[str, tuple[float, float]]:
    """Classify ``clickData``: ("point", (x, y)) for a z-point, ("space", (x, y)) for empty space.

    Dash cannot pass a typed-array ``customdata`` back, so a point is recognised by
    its scalar ``pointNumber`` (the click layer, a heatmap, reports a [row, col]
    pair) and found again on the server by its exact coordinates.
    """
    if not isinstance(click, dict) or not isinstance(click.get("points"), list) or not click["points"]:
        raise NoClick()
    point = click["points"][0]
    if not isinstance(point, dict):
        raise MalformedClick()
    bound = planes.MAX_COORDINATE
    xy = (finite(point.get("x"), "clicked x", -bound, bound), finite(point.get("y"), "clicked y", -bound, bound))
    number = point.get("pointNumber")
    is_point = isinstance(number, int | float) and not isinstance(number, bool)
    return ("point" if is_point else "space"), xy


def point_at(coords: np.ndarray, ids_: np.ndarray, x: float, y: float) -> int:
    """Row id of the plane point at (x, y) (clicked points report their own float32 coordinates)."""
    d2 = (coords[:, 0] - np.float32(x)) ** 2 + (coords[:, 1] - np.float32(y)) ** 2
    best = int(np.argmin(d2))
    scale = max(float(np.abs(coords).max()), 1.0)
    if float(d2[best]) > (1e-5 * scale) ** 2:
        raise NoPointThere()
    return int(ids_[best])


def original_image(run: RunHandle, row: int):
    """The original image of a data row, or None when its source is gone (the run still decodes)."""
    from models.data import load_original_image

    config = run.config
    meta = run.metadata_row(row)
    try:
        return load_original_image(config.get("data"), meta.get("source"), int(config["image_size"]))
    except (ZspaceError, OSError, ValueError):
        return None


def _short(value) -> str:
    # Metadata floats (synthetic factors) print with 4 significant digits; everything else as is.
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _tile(src: str, caption: str) -> html.Figure:
    return html.Figure([html.Img(src=src, className="face"), html.Figcaption(caption)], className="tile")


def decode_click(
    run: RunHandle, click, where: plane_space.Plane, base_mode, selected
) -> tuple[list, dict | None, dict]:
    """Decode what a click on the plane hit.

    Returns
    -------
    (panel children, new ``selected``, what to measure the nearest-data distance of)
    """
    what, (x, y) = clicked_target(click)
    if what == "point":
        title, tiles, facts, target = _decoded_point(run, where, x, y)
        new_selected = target
    else:
        title, tiles, facts, target = _decoded_space(run, where, (x, y), base_mode, selected)
        new_selected = selected
    rows = [html.Tr([html.Th(k), html.Td(v)]) for k, v in facts.items()]
    # Images and facts side by side, so a long attribute list does not push the images off screen.
    panel = [
        html.H4(title),
        html.Div([html.Div(tiles, className="tiles"), html.Table(rows, className="facts")], className="decode-body"),
    ]
    return panel, new_selected, target


def _decoded_point(run: RunHandle, where: plane_space.Plane, x: float, y: float):
    # A data point: its original (when its source is still there), its reconstruction and its metadata.
    ids_, coords = run.coords(where)
    row = point_at(coords, ids_, x, y)
    z = np.asarray(run.z()[row], dtype=np.float32)
    tiles = [_tile(to_data_uri(run.decode(z)[0]), "decoded (reconstruction)")]
    original = original_image(run, row)
    if original is not None:
        tiles.insert(0, _tile(to_data_uri(original), "original"))
    meta = run.metadata_row(row)
    title = f"point {row}" + (f" · id {meta['id']}" if "id" in meta else "")
    facts = {"radius |z|": f"{float(np.linalg.norm(z)):.3f}"}
    facts.update({k: _short(v) for k, v in meta.items() if k != "row"})
    return title, tiles, facts, {"run": run.name, "row": row}


def _decoded_space(run: RunHandle, where: plane_space.Plane, xy: tuple[float, float], base_mode, selected):
    # Empty space: the z at that spot (other coordinates at the mean or at the last selected point), decoded.
    x, y = xy
    base_row = selected.get("row") if isinstance(selected, dict) and selected.get("run") == run.name else None
    use_point = base_mode == "selected" and isinstance(base_row, int) and 0 <= base_row < run.n_points
    if where.kind == "map":
        z, inside = plane_space.map_to_z(run, where, x, y)
        hull = "yes" if inside else "no: outside the data's hull the z is an extrapolation, not trustworthy"
        facts = {"inside the map's data hull": hull}
    else:
        z = plane_space.to_z(run, where, x, y, base_row if use_point else None)
        facts = {"other coordinates held at": f"point {base_row}" if use_point else "the mean"}
    facts["radius |z|"] = f"{float(np.linalg.norm(z)):.3f}"
    tiles = [_tile(to_data_uri(run.decode(z)[0]), "decoded at the click")]
    target = {"run": run.name, "z": [round(float(v), 6) for v in z]}
    return f"empty space at ({x:.3f}, {y:.3f})", tiles, facts, target


def nearest_text(store: RunStore, target) -> str:
    """The nearest-data distance line for what was decoded (a scan of every z-point, so its own callback).

    Parameters
    ----------
    target : dict
        ``{"run", "row"}`` for a clicked point (its nearest *other* point) or
        ``{"run", "z"}`` for a clicked spot (its nearest data point).
    """
    if not isinstance(target, dict):
        return ""
    run = store.open(target.get("run"))
    z_all = run.z()
    if "row" in target:
        row = whole(target["row"], "row", 0, len(z_all) - 1)
        return f"nearest other point: {float(run.nearest_distance(z_all[row], exclude=row)[0]):.3f}"
    z = target.get("z")
    if not isinstance(z, list) or len(z) != z_all.shape[1]:
        raise MalformedZ(z_dim=z_all.shape[1])
    z = np.array([finite(v, "z", -planes.MAX_COORDINATE, planes.MAX_COORDINATE) for v in z])
    return f"nearest data point: {float(run.nearest_distance(z)[0]):.3f}"


def clicked_point(run: RunHandle, where: plane_space.Plane, row: int) -> dict:
    """The ``clickData`` a click on data row ``row`` of this plane sends (so this view decodes it)."""
    rows, xy = run.coords(where)
    at = np.flatnonzero(np.asarray(rows) == row)
    if len(at) == 0:
        raise PointNotOnPlane(row=row)
    x, y = (float(v) for v in xy[at[0]])
    return {"points": [{"x": x, "y": y, "pointNumber": int(at[0]), "curveNumber": 1}]}


def check_url(check: LinkCheck) -> None:
    """A link's clicked point becomes a click on the plane it will be shown on (``View.check_url``)."""
    for side in SIDES:

        def click(point, side=side):
            request = planes.PlaneRequest.from_link(check, side)
            run = request.open(check.store)
            if run is None:
                raise NoRunOnSide()
            return clicked_point(run, request.plane(run), point["row"])

        check.check(POINT_KEY[side], click)


def decoder_status(store: RunStore) -> tuple[str, bool]:
    """What the decoder is doing, and whether polling can stop."""
    return (LOADING_TEXT, False) if store.decoder.warming else (READY_TEXT, True)


def register(app, store, views) -> None:
    """Wire click-to-decode for both sides, and the decoder's loading line."""

    @app.callback(
        Output(DECODER_STATUS, "children"), Output(DECODER_POLL, "disabled"), Input(DECODER_POLL, "n_intervals")
    )
    def _status(_n):
        return decoder_status(store)

    for side in SIDES:

        @app.callback(
            Output(PANEL[side], "children"),
            Output(SELECTED[side], "data"),
            Output(DECODED[side], "data"),
            inputs={
                "click": Input(planes.GRAPH[side], "clickData"),
                "request": planes.PlaneRequest.dependencies(side),
                "base_mode": State(planes.BASE_MODE, "value"),
                "selected": State(SELECTED[side], "data"),
            },
            prevent_initial_call=True,
        )
        @guarded(lambda exc: (error_box(exc), no_update, None))
        def _decode(click, request, base_mode, selected, side=side):
            request = planes.PlaneRequest.of(side, request)
            run = request.open(store)
            if run is None:
                raise NoRunSelected()
            return decode_click(run, click, request.plane(run), base_mode, selected)

        @app.callback(Output(NEAREST[side], "children"), Input(DECODED[side], "data"), prevent_initial_call=True)
        @guarded(str)
        def _nearest(target):
            return nearest_text(store, target)


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("decode", TAB, layout, register, REFUSALS, url_state=URL_STATE, check_url=check_url)
