"""Density, radius, PCA spectrum, sampling and model views."""

from __future__ import annotations

import json

import numpy as np
from dash import Input, Output, State, ctx, dash_table, dcc, html, no_update

import rundir
from app.callbacks.common import USER_ERRORS, error_box, finite, side_run, whole
from app.figures.distributions import density_figure, history_figure, radius_figure, spectrum_figure
from app.figures.style import message_figure
from app.images import to_data_uri
from app.store import MAX_SAMPLES

SIDES = ("a", "b")
SAMPLER_KINDS = ("normal", "axis_gaussian", "full_gaussian", "uniform_box", "data_noise")


def _runs(run_a, run_b) -> list[tuple[str, str]]:
    return [(side, run) for side in SIDES if (run := side_run(run_a, run_b, side))]


def density_view(store, run_a, run_b, bin_width):
    """Density figure and axis-table rows for the shown run(s)."""
    # Rounded: every bin width is a cache entry in the run folder, so free-form floats must not multiply them.
    bin_width = round(finite(bin_width, "bin width", 0.01, 10.0), 2)
    series, rows = [], []
    for side, run in _runs(run_a, run_b):
        hist = store.histograms(run, bin_width)
        records = store.axis_summary(run, bin_width)
        flagged = np.array([bool(r["flagged"]) for r in records])
        series.append({"name": run, "side": side, "edges": hist["edges"], "counts": hist["counts"], "flagged": flagged})
        for r in records:
            row = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
            row["flagged"] = "yes" if r["flagged"] else ""
            rows.append({"run": run, **row})
    rows.sort(key=lambda r: (r["flagged"] != "yes", r["run"], r["axis"]))
    return density_figure(series), rows


def picked_axis(click, active_cell, rows, trigger) -> int | None:
    """The axis a click on a density curve or a table row selects (None when nothing usable was hit)."""
    if (
        trigger == "density-graph"
        and isinstance(click, dict)
        and isinstance(click.get("points"), list)
        and click["points"]
    ):
        point = click["points"][0]
        value = point.get("customdata") if isinstance(point, dict) else None
        return int(value) if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 100000 else None
    if trigger == "axis-table" and isinstance(active_cell, dict) and isinstance(rows, list):
        row = active_cell.get("row")
        if isinstance(row, int) and 0 <= row < len(rows) and isinstance(rows[row], dict):
            axis = rows[row].get("axis")
            return axis if isinstance(axis, int) and not isinstance(axis, bool) and axis >= 0 else None
    return None


def radius_view(store, run_a, run_b, bin_width):
    """Radius histogram(s) with the chi reference."""
    bin_width = round(finite(bin_width, "bin width", 0.01, 100.0), 2)
    series = [{"name": run, "side": side, **store.radius_profile(run, bin_width)} for side, run in _runs(run_a, run_b)]
    return radius_figure(series)


def pca_view(store, run_a, run_b, k):
    """PCA spectrum of the shown run(s), first ``k`` components."""
    k = whole(k, "components shown", 1, 4096)
    series = [
        {"name": run, "side": side, "ratio": store.pca(run).explained_variance_ratio_[:k]}
        for side, run in _runs(run_a, run_b)
    ]
    return spectrum_figure(series)


def sample_grid(store, run, sampler, k, seed, scale) -> list:
    """K images decoded from random z of ``sampler``, each captioned with its nearest-data distance."""
    from analysis.samplers import sample

    if sampler not in SAMPLER_KINDS:
        raise ValueError(f"unknown sampler {sampler!r}")
    k = whole(k, "K", 1, MAX_SAMPLES)
    seed = whole(seed, "seed", 0, 2**31 - 1)
    scale = finite(scale, "noise scale", 0.0, 100.0)
    z = sample(sampler, k, store.z(run), random_state=seed, scale=scale)
    images = store.decode(run, z)
    dist = store.nearest_distance(run, z)
    return [
        html.Figure(
            [html.Img(src=to_data_uri(img), className="face"), html.Figcaption(f"NN dist {d:.2f}")],
            className="tile sample",
        )
        for img, d in zip(images, dist, strict=True)
    ]


def model_panel(store, run) -> list:
    """Parameter table, training curves and config of a run."""
    config = store.config(run)
    parts = [html.H3(f"{run} ({str(config['model']).upper()}, z_dim {config['z_dim']}, {config['image_size']} px)")]
    try:
        from models.summary import parameter_table

        table = parameter_table(config)
        parts.append(
            html.P(
                f"parameters: encoder {table['encoder']:,} · decoder {table['decoder']:,} · total {table['total']:,}"
            )
        )
        layers = [{k: str(v) if isinstance(v, list | tuple) else v for k, v in row.items()} for row in table["layers"]]
        parts.append(
            dash_table.DataTable(data=layers, page_size=15, style_cell={"fontSize": 12, "fontFamily": "inherit"})
        )
    except ImportError:
        parts.append(html.P("models.summary is not installed; no parameter table", className="note"))
    history = store.path(run) / rundir.HISTORY
    if history.exists():
        import pandas as pd

        frame = pd.read_csv(history)
        columns = {c: frame[c].to_numpy(dtype=np.float32) for c in frame.columns if frame[c].dtype.kind in "iuf"}
        parts.append(dcc.Graph(figure=history_figure(run, columns), config={"displaylogo": False}))
    else:
        parts.append(html.P("no history.csv in this run", className="note"))
    parts.append(html.Details([html.Summary("config.json"), html.Pre(json.dumps(config, indent=2))]))
    return parts


def register(app, store) -> None:
    """Wire the density, radius, PCA, sampling and model views."""

    @app.callback(
        Output("density-graph", "figure"),
        Output("axis-table", "data"),
        Output("axis-table", "columns"),
        Input("run-a", "value"),
        Input("run-b", "value"),
        Input("density-bin", "value"),
    )
    def _density(run_a, run_b, bin_width):
        if not run_a:
            return message_figure("no run selected"), [], []
        try:
            fig, rows = density_view(store, run_a, run_b, bin_width)
        except USER_ERRORS as exc:
            return message_figure(str(exc)), [], []
        columns = [{"name": c, "id": c} for c in (rows[0].keys() if rows else [])]
        return fig, rows, columns

    @app.callback(
        Output("plane-kind", "value"),
        Output("plane-i", "value"),
        Output("axis-picked", "children"),
        Input("density-graph", "clickData"),
        Input("axis-table", "active_cell"),
        State("axis-table", "derived_viewport_data"),
        prevent_initial_call=True,
    )
    def _pick_axis(click, active_cell, rows):
        axis = picked_axis(click, active_cell, rows, ctx.triggered_id)
        if axis is None:
            return no_update, no_update, no_update
        return "axis", axis, f"axis {axis} is now the x axis of the Planes tab (axis pair)"

    @app.callback(
        Output("radius-graph", "figure"), Input("run-a", "value"), Input("run-b", "value"), Input("radius-bin", "value")
    )
    def _radius(run_a, run_b, bin_width):
        try:
            return radius_view(store, run_a, run_b, bin_width) if run_a else message_figure("no run selected")
        except USER_ERRORS as exc:
            return message_figure(str(exc))

    @app.callback(
        Output("pca-graph", "figure"), Input("run-a", "value"), Input("run-b", "value"), Input("pca-k", "value")
    )
    def _pca(run_a, run_b, k):
        try:
            return pca_view(store, run_a, run_b, k) if run_a else message_figure("no run selected")
        except USER_ERRORS as exc:
            return message_figure(str(exc))

    @app.callback(
        Output("sample-seed", "value"),
        Input("reroll", "n_clicks"),
        State("sample-seed", "value"),
        prevent_initial_call=True,
    )
    def _reroll(_clicks, seed):
        try:
            return (whole(seed, "seed", 0, 2**31 - 1) + 1) % (2**31)
        except USER_ERRORS:
            return 0

    for side in SIDES:

        @app.callback(
            Output(f"sample-grid-{side}", "children"),
            Output(f"sample-title-{side}", "children"),
            Input("tabs", "value"),
            Input("run-a", "value"),
            Input("run-b", "value"),
            Input("sampler", "value"),
            Input("sample-k", "value"),
            Input("sample-seed", "value"),
            Input("sample-scale", "value"),
        )
        def _samples(tab, run_a, run_b, sampler, k, seed, scale, side=side):
            run = side_run(run_a, run_b, side)
            if tab != "sampling" or not run:
                return no_update if run else [], "" if not run else no_update
            try:
                return sample_grid(store, run, sampler, k, seed, scale), f"{run} ({store.config(run)['model'].upper()})"
            except USER_ERRORS as exc:
                return error_box(exc), run

        @app.callback(
            Output(f"model-panel-{side}", "children"),
            Input("tabs", "value"),
            Input("run-a", "value"),
            Input("run-b", "value"),
        )
        def _model(tab, run_a, run_b, side=side):
            run = side_run(run_a, run_b, side)
            if tab != "model" or not run:
                return [] if not run else no_update
            try:
                return model_panel(store, run)
            except USER_ERRORS as exc:
                return error_box(exc)
