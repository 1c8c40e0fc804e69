"""Click to decode: a clicked point shows its reconstruction; clicked empty space shows the z at that spot."""

from __future__ import annotations

import numpy as np
from dash import Input, Output, State, html

from app.callbacks.common import USER_ERRORS, error_box, finite, side_run
from app.images import to_data_uri
from rundir.errors import ZspaceError

SIDES = ("a", "b")


def clicked_target(click) -> tuple[str, tuple[float, float]]:
    """Classify ``clickData``: ("point", (x, y)) for a z-point, ("space", (x, y)) for empty space.

    Dash cannot pass a typed-array ``customdata`` back, so a point is recognised by
    its scalar ``pointNumber`` (the click layer, a heatmap, reports a [row, col]
    pair) and found again on the server by its exact coordinates.
    """
    if not isinstance(click, dict) or not isinstance(click.get("points"), list) or not click["points"]:
        raise ZspaceError("no click to decode")
    point = click["points"][0]
    if not isinstance(point, dict):
        raise ZspaceError("malformed click")
    xy = (finite(point.get("x"), "clicked x"), finite(point.get("y"), "clicked y"))
    number = point.get("pointNumber")
    is_point = isinstance(number, int | float) and not isinstance(number, bool)
    return ("point" if is_point else "space"), xy


def point_at(coords: np.ndarray, ids: np.ndarray, x: float, y: float) -> int:
    """Row id of the plane point at (x, y) (clicked points report their own float32 coordinates)."""
    d2 = (coords[:, 0] - np.float32(x)) ** 2 + (coords[:, 1] - np.float32(y)) ** 2
    best = int(np.argmin(d2))
    scale = max(float(np.abs(coords).max()), 1.0)
    if float(d2[best]) > (1e-5 * scale) ** 2:
        raise ZspaceError("no z-point at the clicked position; the plane changed since the click — click again")
    return int(ids[best])


def _original_image(store, run, row: int):
    # The data engineer's loader knows every source type; a run whose source is gone has no original.
    try:
        from models.data import load_original_image
    except ImportError:
        return None
    config = store.config(run)
    meta = store.metadata_row(run, row)
    try:
        return load_original_image(config.get("data"), meta.get("source"), int(config["image_size"]))
    except (ZspaceError, OSError, ValueError):
        return None


def _short(value) -> str:
    # Metadata floats (synthetic factors) print with 4 significant digits; everything else as is.
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _figure(src: str, caption: str) -> html.Figure:
    return html.Figure([html.Img(src=src, className="face"), html.Figcaption(caption)], className="tile")


def decode_click(store, run, click, kind, i, j, base_mode, selected) -> tuple[list, dict | None]:
    """Decode what a click on the plane hit.

    Parameters
    ----------
    store : app.store.RunStore
    run : str
        The run shown on the clicked side.
    click : dict
        Plotly ``clickData``.
    kind, i, j : plane kind and axes
    base_mode : {"mean", "selected"}
        What an empty-space click holds the other coordinates at.
    selected : dict or None
        ``{"run", "row"}`` of the last selected point (small JSON in the browser).

    Returns
    -------
    (panel children, new ``selected``, what to measure the nearest-data distance of)
    """
    i, j = store.check_axes(run, kind, i, j)
    z_all = store.z(run)
    what, where = clicked_target(click)
    if what == "point":
        ids, coords = store.coords(run, kind, i, j)
        row = point_at(coords, ids, *where)
        z = np.asarray(z_all[row], dtype=np.float32)
        decoded = store.decode(run, z)[0]
        tiles = [_figure(to_data_uri(decoded), "decoded (reconstruction)")]
        original = _original_image(store, run, row)
        if original is not None:
            tiles.insert(0, _figure(to_data_uri(original), "original"))
        meta = store.metadata_row(run, row)
        title = f"point {row}" + (f" · id {meta['id']}" if "id" in meta else "")
        facts = {"radius |z|": f"{float(np.linalg.norm(z)):.3f}"}
        facts.update({k: _short(v) for k, v in meta.items() if k not in ("row",)})
        new_selected = {"run": run, "row": row}
        target = {"run": run, "row": row}
    else:
        if kind == "tsne":
            raise ZspaceError("empty space on a t-SNE map has no z: click a point, or use a PCA or axis plane")
        x, y = where
        base_row = selected.get("row") if isinstance(selected, dict) and selected.get("run") == run else None
        use_point = base_mode == "selected" and isinstance(base_row, int) and 0 <= base_row < len(z_all)
        if kind == "pca":
            from analysis.pca import plane_to_z

            pca = store.pca(run)
            base = pca.transform(np.asarray(z_all[base_row : base_row + 1]))[0] if use_point else None
            z = plane_to_z(pca, i, j, x, y, base_scores=base)
        else:
            from analysis.planes import axis_plane_to_z

            base = np.asarray(z_all[base_row]) if use_point else store.pca(run).mean_
            z = axis_plane_to_z(i, j, x, y, base)
        z = np.asarray(z, dtype=np.float32)
        decoded = store.decode(run, z)[0]
        held = f"point {base_row}" if use_point else "the mean"
        tiles = [_figure(to_data_uri(decoded), "decoded at the click")]
        title = f"empty space at ({x:.3f}, {y:.3f})"
        facts = {"other coordinates held at": held, "radius |z|": f"{float(np.linalg.norm(z)):.3f}"}
        new_selected = selected
        target = {"run": run, "z": [round(float(v), 6) for v in z]}
    rows = [html.Tr([html.Th(k), html.Td(v)]) for k, v in facts.items()]
    # Images and facts side by side, so a long attribute list does not push the images off screen.
    panel = [
        html.H4(title),
        html.Div([html.Div(tiles, className="tiles"), html.Table(rows, className="facts")], className="decode-body"),
    ]
    return panel, new_selected, target


def nearest_text(store, target) -> str:
    """The nearest-data distance line for what was decoded (a scan of every z-point, so its own callback).

    Parameters
    ----------
    target : dict
        ``{"run", "row"}`` for a clicked point (its nearest *other* point) or
        ``{"run", "z"}`` for a clicked spot (its nearest data point).
    """
    if not isinstance(target, dict):
        return ""
    run = target.get("run")
    z_all = store.z(run)
    if "row" in target:
        row = int(finite(target["row"], "row", 0, len(z_all) - 1))
        return f"nearest other point: {float(store.nearest_distance(run, z_all[row], exclude=row)[0]):.3f}"
    z = np.asarray(target.get("z"), dtype=np.float64)
    if z.shape != (z_all.shape[1],) or not np.isfinite(z).all():
        raise ZspaceError(f"z must be {z_all.shape[1]} finite numbers")
    return f"nearest data point: {float(store.nearest_distance(run, z)[0]):.3f}"


def register(app, store) -> None:
    """Wire click-to-decode for both sides."""
    for side in SIDES:

        @app.callback(
            Output(f"decode-panel-{side}", "children"),
            Output(f"selected-{side}", "data"),
            Output(f"decoded-{side}", "data"),
            Input(f"plane-graph-{side}", "clickData"),
            State("run-a", "value"),
            State("run-b", "value"),
            State("plane-kind", "value"),
            State("plane-i", "value"),
            State("plane-j", "value"),
            State("base-mode", "value"),
            State(f"selected-{side}", "data"),
            prevent_initial_call=True,
        )
        def _decode(click, run_a, run_b, kind, i, j, base_mode, selected, side=side):
            run = side_run(run_a, run_b, side)
            try:
                return decode_click(store, run, click, kind, i, j, base_mode, selected)
            except USER_ERRORS as exc:
                return error_box(exc), selected, None

        @app.callback(
            Output(f"nearest-{side}", "children"), Input(f"decoded-{side}", "data"), prevent_initial_call=True
        )
        def _nearest(target):
            try:
                return nearest_text(store, target)
            except USER_ERRORS as exc:
                return str(exc)
