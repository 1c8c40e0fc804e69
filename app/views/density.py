"""The Density view: the number density along every axis, overlaid, with the axes that stand out flagged."""

from __future__ import annotations

import numpy as np
from dash import Input, Output, State, ctx, dash_table, dcc, html, no_update

from app.store import RunHandle
from app.validate import choice
from app.views import planes
from app.views.parts import COMPARE, RUN, TABS, guarded, ids, labelled, open_compared
from app.views.protocol import View
from figures.distributions import density_figure
from figures.style import message_figure

TAB = "Density"
REFUSALS = ()

make = ids("density")
BIN, GRAPH, TABLE, PICKED = make("bin"), make("graph"), make("table"), make("picked")

#: Bin widths a page may ask for (each is a cache entry; the seed used 0.25).
BIN_WIDTHS = (0.05, 0.1, 0.25, 0.5, 1.0)


def layout() -> html.Div:
    """Bin width, the overlaid density curves and the sortable per-axis table."""
    return html.Div(
        className="view",
        children=[
            html.Div(
                className="controls",
                children=[
                    labelled(
                        "bin width",
                        dcc.Dropdown(
                            id=BIN,
                            options=[{"label": f"{w:g}", "value": w} for w in BIN_WIDTHS],
                            value=0.25,
                            clearable=False,
                            style={"width": "6em"},
                        ),
                    ),
                    html.Div(id=PICKED, className="note"),
                ],
            ),
            dcc.Loading(dcc.Graph(id=GRAPH, config={"displaylogo": False})),
            html.P(
                "click a curve or a row to show that axis on the Planes tab and its traversal below", className="note"
            ),
            dash_table.DataTable(
                id=TABLE,
                sort_action="native",
                page_size=12,
                style_table={"overflowX": "auto"},
                style_cell={"fontFamily": "inherit", "fontSize": 12, "padding": "4px 8px"},
                style_data_conditional=[
                    {"if": {"filter_query": "{flagged} = yes"}, "fontWeight": "bold", "color": "#b42318"}
                ],
            ),
        ],
    )


def density_view(shown: list[tuple[int | str, RunHandle]], bin_width):
    """Density figure and axis-table rows for the shown runs (``shown``: (index or side, run) pairs)."""
    from analysis import results

    bin_width = choice(bin_width, "bin width", BIN_WIDTHS)
    series, rows = [], []
    for side, run in shown:
        hist = run.result(results.histograms, bin_width=bin_width)
        table = run.result(results.axis_summary, bin_width=bin_width)
        records = table.to_dict(orient="records")
        flagged = np.array([bool(r["flagged"]) for r in records])
        series.append(
            {"name": run.name, "side": side, "edges": hist["edges"], "counts": hist["counts"], "flagged": flagged}
        )
        for r in records:
            row = {k: (round(float(v), 4) if isinstance(v, float | np.floating) else v) for k, v in r.items()}
            row = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
            row["flagged"] = "yes" if r["flagged"] else ""
            rows.append({"run": run.name, **row})
    rows.sort(key=lambda r: (r["flagged"] != "yes", r["run"], r["axis"]))
    return density_figure(series), rows


def picked_axis(click, active_cell, rows, trigger) -> int | None:
    """The axis a click on a density curve or a table row selects (None when nothing usable was hit)."""
    if trigger == GRAPH:
        return _clicked_curve(click)
    if trigger == TABLE:
        return _clicked_row(active_cell, rows)
    return None


def _axis_number(value, most: int | None = None) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or (most is not None and value >= most):
        return None
    return int(value)


def _clicked_curve(click) -> int | None:
    # Each curve's customdata is its axis (see figures.distributions.density_figure).
    if not isinstance(click, dict) or not isinstance(click.get("points"), list) or not click["points"]:
        return None
    point = click["points"][0]
    return _axis_number(point.get("customdata") if isinstance(point, dict) else None, most=100000)


def _clicked_row(active_cell, rows) -> int | None:
    if not isinstance(active_cell, dict) or not isinstance(rows, list):
        return None
    row = active_cell.get("row")
    if not isinstance(row, int) or not 0 <= row < len(rows) or not isinstance(rows[row], dict):
        return None
    return _axis_number(rows[row].get("axis"))


def register(app, store, views) -> None:
    """Wire the density curves, the axis table and the axis picking."""

    @app.callback(
        Output(GRAPH, "figure"),
        Output(TABLE, "data"),
        Output(TABLE, "columns"),
        Input(TABS, "value"),
        Input(RUN["a"], "value"),
        Input(COMPARE, "value"),
        Input(BIN, "value"),
        # A later tab's view computes when its tab is opened, never at page load.
        prevent_initial_call=True,
    )
    @guarded(lambda exc: (message_figure(str(exc)), [], []))
    def _density(tab, run_a, compare, bin_width):
        if tab != TAB:
            return no_update, no_update, no_update
        if not run_a:
            return message_figure("no run selected"), [], []
        figure, rows = density_view(open_compared(store, run_a, compare), bin_width)
        columns = [{"name": c, "id": c} for c in (rows[0].keys() if rows else [])]
        return figure, rows, columns

    @app.callback(
        Output(planes.KIND, "value"),
        Output(planes.AXIS_I, "value"),
        Output(PICKED, "children"),
        Input(GRAPH, "clickData"),
        Input(TABLE, "active_cell"),
        State(TABLE, "derived_viewport_data"),
        prevent_initial_call=True,
    )
    def _pick_axis(click, active_cell, rows):
        axis = picked_axis(click, active_cell, rows, ctx.triggered_id)
        if axis is None:
            return no_update, no_update, no_update
        return "axis", axis, f"axis {axis} is now the x axis of the Planes tab (axis pair)"


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("density", TAB, layout, register, REFUSALS, writes=(planes.KIND, planes.AXIS_I))
