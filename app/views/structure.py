"""The Structure view: filaments and voids as numbers, one row per run (the first and every compared run).

Local intrinsic dimension (near 1 on the seed's thin filaments), each run's
nearest-neighbour distances of data points against those of random probes
(the probes of a filament-and-void space land far from every data point),
the void fraction per probe kind, and the meaningful-decode rates of the
sampler lab, in one table and one set of plots.
"""

from __future__ import annotations

from dash import Input, Output, dash_table, dcc, html, no_update

from app.store import RunHandle
from app.views import sampler_rates
from app.views.parts import COMPARE, RUN, SIDES, TABS, guarded, ids, open_compared, side_columns, side_run
from app.views.protocol import View
from figures.structure import lid_figure, nn_distance_figure
from figures.style import message_figure

TAB = "Structure"
REFUSALS = ()

make = ids("structure")
TABLE, LID = make("table"), make("lid")
NN = {s: make("nn", s) for s in SIDES}
#: The measures computed when `zspace analyze` has not: a subsample small enough for a request.
QUICK = {"n_points": 1500, "n_probes": 1000}
#: Rate columns of the table (samplers of the rate table).
RATE_SAMPLERS = ("normal", "gmm", "data")


def layout() -> html.Div:
    """The summary table, the local-dimension histogram and the distance plots of the first run and the one beside it."""
    return html.Div(
        className="view",
        children=[
            dash_table.DataTable(id=TABLE, style_cell={"fontFamily": "inherit", "fontSize": 12, "padding": "4px 8px"}),
            dcc.Loading(dcc.Graph(id=LID, config={"displaylogo": False})),
            side_columns(lambda s: [dcc.Loading(dcc.Graph(id=NN[s], config={"displaylogo": False}))]),
        ],
    )


def measures(run: RunHandle) -> dict:
    """The run's filament and void measures: the largest set `zspace analyze` cached, else a quick one."""
    from analysis import results

    cached = run.available(results.structure_measures)
    params = max(cached, key=lambda p: p["n_points"]) if cached else QUICK
    return run.result(results.structure_measures, **params)


def table_row(run: RunHandle, found: dict) -> dict:
    """The run's line of the table: its measures and its cached meaningful-decode rates."""
    from analysis.samplers import PROBE_KINDS

    rates = sampler_rates.cached_rows(run)
    row = {
        "run": run.name,
        "model": str(run.config["model"]).upper(),
        "points used": len(found["ids"]),
        "median local dim.": round(float(found["lid_median"]), 2),
    }
    for kind in PROBE_KINDS:
        if f"void_{kind}" in found:
            row[f"void fraction ({kind})"] = round(float(found[f"void_{kind}"]), 3)
    for sampler in RATE_SAMPLERS:
        cell = rates.get(sampler)
        row[f"meaningful ({sampler})"] = "—" if cell is None else f"{cell['rate']:.2f}"
    return row


def structure_view(shown: list[tuple[int | str, RunHandle]], beside: str | None = None):
    """(table rows, table columns, LID figure, distance figure per side) for the shown runs.

    ``shown``: (index or side, run) pairs, the first run first; every run has a row and a local-dimension
    histogram, the first and the run named ``beside`` (the planes' second side) a distance plot each.
    """
    from analysis.samplers import PROBE_KINDS

    rows, lid_series, nn_figures = [], [], dict.fromkeys(SIDES, message_figure(""))
    for position, (side, run) in enumerate(shown):
        found = measures(run)
        rows.append(table_row(run, found))
        lid_series.append({"name": run.name, "side": side, "lid": found["lid"]})
        plot_side = "a" if position == 0 else "b" if run.name == beside or side == "b" else None
        if plot_side is not None:
            probes = {kind: found[f"probe_nn_{kind}"] for kind in PROBE_KINDS if f"probe_nn_{kind}" in found}
            nn_figures[plot_side] = nn_distance_figure(
                run.name, plot_side, found["data_nn"], probes, float(found["threshold"])
            )
    columns = [{"name": key, "id": key} for key in (rows[0] if rows else {})]
    return rows, columns, lid_figure(lid_series), nn_figures["a"], nn_figures["b"]


def register(app, store, views) -> None:
    """Wire the panel (drawn when its tab is in front)."""

    @app.callback(
        Output(TABLE, "data"),
        Output(TABLE, "columns"),
        Output(LID, "figure"),
        Output(NN["a"], "figure"),
        Output(NN["b"], "figure"),
        Input(TABS, "value"),
        Input(RUN["a"], "value"),
        Input(COMPARE, "value"),
        Input(RUN["b"], "value"),
    )
    @guarded(lambda exc: ([], [], message_figure(str(exc)), message_figure(""), message_figure("")))
    def _structure(tab, run_a, compare, run_b):
        if tab != TAB:
            return no_update, no_update, no_update, no_update, no_update
        if not run_a:
            return [], [], message_figure("no run selected"), message_figure(""), message_figure("")
        return structure_view(open_compared(store, run_a, compare), side_run(run_a, run_b, "b"))


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("structure", TAB, layout, register, REFUSALS)
