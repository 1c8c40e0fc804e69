"""Click to decode: a clicked point shows its original and its reconstruction; clicked empty space the z at that spot."""

from __future__ import annotations

import numpy as np
from dash import Input, Output, State, ctx, dcc, html, no_update

from app import data_reference, plane_space
from app.images import to_data_uri
from app.store import RunHandle, RunStore
from app.url_state import Field, LinkCheck, Row
from app.validate import choice, finite, whole
from app.views import planes
from app.views.parts import (
    RUN,
    SIDES,
    NoRunSelected,
    error_box,
    guarded,
    ids,
    no_decoder_line,
    open_shown,
    side_columns,
)
from app.views.protocol import View
from rundir.errors import Refusal

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


class ImageNotInRun(Refusal):
    """A run lacking the image clicked in the other run or named by an instrument's row box (matched by id)."""

    template = "{run} does not hold image {image} (point {row} of {source}): runs are compared by image id"


class NoRunOnSide(Refusal):
    """A link's clicked point on a side that shows no run."""

    template = "no run on that side"


#: What this view refuses (beyond :data:`app.views.parts.COMMON_REFUSALS`).
REFUSALS = (
    NoClick,
    MalformedClick,
    NoPointThere,
    MalformedZ,
    PointNotOnPlane,
    NoRunOnSide,
    ImageNotInRun,
    *plane_space.REFUSALS,
)

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
    return _panel(title, tiles, facts), new_selected, target


def _panel(title: str, tiles: list, facts: dict) -> list:
    rows = [html.Tr([html.Th(k), html.Td(v)]) for k, v in facts.items()]
    # Images and facts side by side, so a long attribute list does not push the images off screen.
    return [
        html.H4(title),
        html.Div([html.Div(tiles, className="tiles"), html.Table(rows, className="facts")], className="decode-body"),
    ]


def _decoded_point(run: RunHandle, where: plane_space.Plane, x: float, y: float):
    # A data point: its original (when its source is still there), its reconstruction and its metadata.
    ids_, coords = run.coords(where)
    return _decoded_row(run, point_at(coords, ids_, x, y))


def _decoded_row(run: RunHandle, row: int, note: str = ""):
    z = np.asarray(run.z()[row], dtype=np.float32)
    decoded = run.decode_or_none(z)
    tiles = [] if decoded is None else [_tile(to_data_uri(decoded[0]), "decoded (reconstruction)")]
    original = run.original(row)
    if original is not None:
        tiles.insert(0, _tile(to_data_uri(original), "original"))
    meta = run.metadata_row(row)
    title = f"point {row}" + (f" · id {meta['id']}" if "id" in meta else "") + note
    facts = {"radius |z|": data_reference.radius_text(run, z)}
    facts.update({k: _short(v) for k, v in meta.items() if k != "row"})
    return title, tiles, facts, {"run": run.name, "row": row}


def base_of(run: RunHandle, base_mode, selected) -> tuple[str | int, str]:
    """Where an empty spot's other coordinates come from (``plane_space.z_at``'s ``base``) and how to say it."""
    base_mode = choice(base_mode or "nearest", "other coordinates", plane_space.BASES)
    row = selected.get("row") if isinstance(selected, dict) and selected.get("run") == run.name else None
    if base_mode == "selected" and isinstance(row, int) and not isinstance(row, bool) and 0 <= row < run.n_points:
        return row, f"point {row} (the last selected)"
    if base_mode == "mean":
        return "mean", "the mean"
    return "nearest", "the nearest data point on the plane" + (
        " (no point selected)" if base_mode == "selected" else ""
    )


def _decoded_space(run: RunHandle, where: plane_space.Plane, xy: tuple[float, float], base_mode, selected):
    # Empty space: the z at that spot (other coordinates from the nearest data point, the mean or the last
    # selected point), decoded.
    x, y = xy
    if where.kind == "map":
        z, inside = plane_space.map_to_z(run, where, x, y)
        hull = "yes" if inside else "no: outside the data's hull the z is an extrapolation, not trustworthy"
        facts = {"inside the map's data hull": hull}
    else:
        base, said = base_of(run, base_mode, selected)
        zs, rows = plane_space.z_at(run, where, [[x, y]], base)
        z = zs[0]
        facts = {
            "other coordinates held at": said if base != "nearest" else f"point {int(rows[0])} (nearest on the plane)"
        }
    facts["radius |z|"] = data_reference.radius_text(run, z)
    decoded = run.decode_or_none(z)
    tiles = [] if decoded is None else [_tile(to_data_uri(decoded[0]), "decoded at the click")]
    target = {"run": run.name, "z": [round(float(v), 6) for v in z]}
    return f"empty space at ({x:.3f}, {y:.3f})", tiles, facts, target


def mirrored_click(run: RunHandle, other: RunHandle, click, other_plane: plane_space.Plane):
    """The compared run's decode of a point clicked on the other side: the same image, matched by image id.

    Returns the panel, the new ``selected`` and the nearest-distance target, like :func:`decode_click`;
    None when the click was on empty space (the other side's spot has no image to match).
    """
    from app.subsets import image_label, matched_rows

    what, (x, y) = clicked_target(click)
    if what != "point":
        return None
    ids_, coords = other.coords(other_plane)
    clicked = point_at(coords, ids_, x, y)
    row = int(matched_rows([clicked], other, run)[0])
    if row < 0:
        raise ImageNotInRun(run=run.name, image=image_label(other, clicked), row=clicked, source=other.name)
    title, tiles, facts, target = _decoded_row(run, row, f" — the image clicked in {other.name}")
    return _panel(title, tiles, facts), target, target


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
        distance = float(run.nearest_distance(z_all[row], exclude=row)[0])
        return f"nearest other point: {data_reference.distance_text(run, distance)}"
    z = target.get("z")
    if not isinstance(z, list) or len(z) != z_all.shape[1]:
        raise MalformedZ(z_dim=z_all.shape[1])
    z = np.array([finite(v, "z", -planes.MAX_COORDINATE, planes.MAX_COORDINATE) for v in z])
    return f"nearest data point: {data_reference.distance_text(run, float(run.nearest_distance(z)[0]))}"


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


def _mirror(store: RunStore, run: RunHandle | None, other_request, other_click):
    # A click on the other side's plane: the same image decoded here (its empty space, or no run here: nothing).
    other = other_request.open(store)
    if run is None or other is None or other.name == run.name:
        return no_update, no_update, no_update
    mirrored = mirrored_click(run, other, other_click, other_request.plane(other))
    return (no_update, no_update, no_update) if mirrored is None else mirrored


def decoder_status(store: RunStore, run_a=None, run_b=None) -> tuple[str, bool]:
    """What the decoder is doing, whether polling can stop; a shown run without a decoder is named here, once."""
    if store.decoder.warming:
        return LOADING_TEXT, False
    missing = no_decoder_line([run for _, run in open_shown(store, run_a, run_b)])
    return missing or READY_TEXT, True


def initial(store, run_a, run_b) -> dict:
    """The decoder's line as the page opens; polling only while it is still loading (``View.initial``)."""
    text, done = decoder_status(store, run_a, run_b)
    return {(DECODER_STATUS, "children"): text, (DECODER_POLL, "disabled"): done}


def register(app, store, views) -> None:
    """Wire click-to-decode for both sides, and the decoder's loading line."""

    @app.callback(
        Output(DECODER_STATUS, "children"),
        Output(DECODER_POLL, "disabled"),
        Input(DECODER_POLL, "n_intervals"),
        Input(RUN["a"], "value"),
        Input(RUN["b"], "value"),
        prevent_initial_call=True,  # the page opens with these values (initial)
    )
    @guarded(lambda exc: (str(exc), True))
    def _status(_n, run_a, run_b):
        return decoder_status(store, run_a, run_b)

    for side in SIDES:
        other_side = "b" if side == "a" else "a"

        @app.callback(
            Output(PANEL[side], "children"),
            Output(SELECTED[side], "data"),
            Output(DECODED[side], "data"),
            inputs={
                "click": Input(planes.GRAPH[side], "clickData"),
                "other_click": Input(planes.GRAPH[other_side], "clickData"),
                "request": planes.PlaneRequest.dependencies(side),
                "other_request": planes.PlaneRequest.dependencies(other_side),
                "base_mode": State(planes.BASE_MODE, "value"),
                "selected": State(SELECTED[side], "data"),
            },
            prevent_initial_call=True,
        )
        @guarded(lambda exc: (error_box(exc), no_update, None))
        def _decode(click, other_click, request, other_request, base_mode, selected, side=side, other_side=other_side):
            request = planes.PlaneRequest.of(side, request)
            run = request.open(store)
            if planes.GRAPH[side] not in ctx.triggered_prop_ids.values():  # a click on the other plane
                return _mirror(store, run, planes.PlaneRequest.of(other_side, other_request), other_click)
            if run is None:
                raise NoRunSelected()
            return decode_click(run, click, request.plane(run), base_mode, selected)

        @app.callback(Output(NEAREST[side], "children"), Input(DECODED[side], "data"), prevent_initial_call=True)
        @guarded(str)
        def _nearest(target):
            return nearest_text(store, target)


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("decode", TAB, layout, register, REFUSALS, url_state=URL_STATE, check_url=check_url, initial=initial)
