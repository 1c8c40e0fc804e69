"""Planes view: the scatter of one plane, re-queried on every zoom, and its controls."""

from __future__ import annotations

import contextlib

from dash import Input, Output, State, ctx, no_update

from app.callbacks.common import USER_ERRORS, finite, side_run
from app.figures.planes import padded_range, plane_figure
from app.figures.style import message_figure
from app.store import BASE_COLOUR_LABELS, BASE_COLOURS

SIDES = ("a", "b")


def _axis_label(kind: str, index: int, ratio=None) -> str:
    if kind == "pca":
        extra = f" ({100 * float(ratio[index]):.1f}% var.)" if ratio is not None and index < len(ratio) else ""
        return f"PC {index + 1}{extra}"
    return f"z[{index}]" if kind == "axis" else ("t-SNE 1" if index == 0 else "t-SNE 2")


def relayout_range(relayout) -> tuple[list[float], list[float]] | None:
    """The (x, y) ranges a zoom or pan reported in ``relayoutData``; None if it reported none."""
    if not isinstance(relayout, dict):
        return None
    try:
        if "xaxis.range[0]" in relayout and "yaxis.range[0]" in relayout:
            x = [relayout["xaxis.range[0]"], relayout["xaxis.range[1]"]]
            y = [relayout["yaxis.range[0]"], relayout["yaxis.range[1]"]]
        elif "xaxis.range" in relayout and "yaxis.range" in relayout:
            x, y = list(relayout["xaxis.range"]), list(relayout["yaxis.range"])
        else:
            return None
        x = sorted(finite(v, "zoom range") for v in x)
        y = sorted(finite(v, "zoom range") for v in y)
    except USER_ERRORS:
        return None
    return x, y


def count_text(shown: int, inside: int, total: int, over_budget: bool, budget: int, tsne_params=None) -> str:
    """The always-visible shown / total line; it says so whenever fewer points are drawn than exist."""
    if over_budget:
        text = (
            f"{inside:,} points in view, more than the {budget:,}-point budget: showing their density — "
            f"zoom in to see single points · {total:,} total"
        )
    else:
        text = f"showing {shown:,} of {total:,} points ({inside:,} in view)"
    if tsne_params is not None:
        text += f" · t-SNE maps {tsne_params.get('n_points', shown):,} of them"
    return text


def update_plane(store, run, kind, i, j, colour, relayout, sx, sy, side_len, view, trigger, side="a"):
    """Build the plane figure and count line for one run and viewport.

    Returns
    -------
    (figure, count text, view) where ``view`` is the small JSON kept in the browser:
    the plane key and the visible x / y ranges.
    """
    if not run:
        return message_figure("no run selected" if side == "a" else ""), "", None
    try:
        i, j = store.check_axes(run, kind, i, j)
        ids, xy = store.coords(run, kind, i, j)
        total = int(store.z(run).shape[0])
        key = f"{run}|{kind}|{i}|{j}"
        x_range, y_range = padded_range(xy[:, 0]), padded_range(xy[:, 1])
        zoom = relayout_range(relayout) if trigger and str(trigger).startswith("plane-graph") else None
        if trigger == "square-go":
            half = finite(side_len, "square side", 1e-6, 1e6) / 2
            cx, cy = finite(sx, "square centre x", -1e6, 1e6), finite(sy, "square centre y", -1e6, 1e6)
            x_range, y_range = (cx - half, cx + half), (cy - half, cy + half)
        elif zoom is not None:
            x_range, y_range = zoom
        elif trigger in ("colour-by", "tsne-status") and isinstance(view, dict) and view.get("key") == key:
            x_range, y_range = [finite(v, "view") for v in view["x"]], [finite(v, "view") for v in view["y"]]
        # A zoom answer keeps the revision (the browser already shows that range); anything else moves the view.
        same_plane = isinstance(view, dict) and view.get("key") == key
        if zoom is not None and same_plane:
            revision = str(view.get("rev"))
        else:
            revision = f"{key}|{x_range[0]:.6g}|{x_range[1]:.6g}|{y_range[0]:.6g}|{y_range[1]:.6g}"
        from analysis.planes import viewport_query

        result = viewport_query(xy, x_range, y_range, budget=store.plane_budget)
        values, label = store.colour(run, colour)
        shown_ids = ids[result.ids]
        shown_colour = None if values is None else values[shown_ids]
        ratio = store.pca(run).explained_variance_ratio_ if kind == "pca" else None
        fig = plane_figure(
            result.xy,
            shown_ids,
            x_range,
            y_range,
            colour=shown_colour,
            colour_label=label,
            raster=result.raster,
            x_label=_axis_label(kind, i if kind != "tsne" else 0, ratio),
            y_label=_axis_label(kind, j if kind != "tsne" else 1, ratio),
            side=side,
            clickable_space=kind != "tsne",
            uirevision=revision,
        )
        tsne_params = store.tsne(run)["params"] if kind == "tsne" else None
        text = count_text(len(result.ids), result.count, total, result.over_budget, store.plane_budget, tsne_params)
        return fig, text, {"key": key, "x": list(map(float, x_range)), "y": list(map(float, y_range)), "rev": revision}
    except USER_ERRORS as exc:
        return message_figure(str(exc)), str(exc), None


def colour_options(store, run) -> list[dict]:
    """Colour choices for a run: the base ones and every numeric metadata column."""
    options = [{"label": BASE_COLOUR_LABELS[c], "value": c} for c in BASE_COLOURS]
    if run:
        # A run that cannot be read still gets the base colours; its planes say what is wrong.
        with contextlib.suppress(*USER_ERRORS):
            options += [{"label": f"metadata: {c}", "value": c} for c in store.metadata_columns(run)]
    return options


def tsne_info(store, run, kind) -> str:
    """What the shown t-SNE map is (its parameters), when the t-SNE plane is chosen."""
    if kind != "tsne" or not run:
        return ""
    try:
        found = store.tsne(run)
    except USER_ERRORS as exc:
        return str(exc)
    if found is None:
        return f"no t-SNE map is cached for {run}: run `zspace analyze {run}` to compute one"
    params = found["params"]
    reduced = f"after PCA-{params['pca_components']}" if params.get("pca_components") else "on raw z"
    shown = ", ".join(f"{k} {v}" for k, v in params.items() if k not in ("pca_components",))
    return f"t-SNE {reduced}: {shown}"


def register(app, store) -> None:
    """Wire the Planes view."""
    for side in SIDES:

        @app.callback(
            Output(f"plane-graph-{side}", "figure"),
            Output(f"plane-count-{side}", "children"),
            Output(f"view-{side}", "data"),
            Input("run-a", "value"),
            Input("run-b", "value"),
            Input("plane-kind", "value"),
            Input("plane-i", "value"),
            Input("plane-j", "value"),
            Input("colour-by", "value"),
            Input(f"plane-graph-{side}", "relayoutData"),
            Input("square-go", "n_clicks"),
            Input("reset-view", "n_clicks"),
            Input("tsne-status", "children"),
            State("square-x", "value"),
            State("square-y", "value"),
            State("square-side", "value"),
            State(f"view-{side}", "data"),
        )
        def _plane(
            run_a, run_b, kind, i, j, colour, relayout, _go, _reset, _tsne_done, sx, sy, side_len, view, side=side
        ):
            trigger = ctx.triggered_id
            if (
                str(trigger).startswith("plane-graph")
                and relayout_range(relayout) is None
                and not (isinstance(relayout, dict) and any("autorange" in k for k in relayout))
            ):
                return no_update, no_update, no_update  # e.g. the initial autosize event
            run = side_run(run_a, run_b, side)
            return update_plane(store, run, kind, i, j, colour, relayout, sx, sy, side_len, view, trigger, side)

    @app.callback(Output("page", "className"), Input("run-a", "value"), Input("run-b", "value"))
    def _compare(run_a, run_b):
        # CSS hides every second-run column unless a different run is compared.
        return "page compare" if side_run(run_a, run_b, "b") else "page single"

    @app.callback(Output("colour-by", "options"), Input("run-a", "value"))
    def _colours(run_a):
        return colour_options(store, run_a)

    @app.callback(
        Output("tsne-info", "children"),
        Input("run-a", "value"),
        Input("plane-kind", "value"),
        Input("tsne-status", "children"),
    )
    def _tsne(run_a, kind, _done):
        return tsne_info(store, run_a, kind)
