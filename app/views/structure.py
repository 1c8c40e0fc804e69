"""The Structure view: filaments and voids as numbers, each beside its null, for the first and every compared run.

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
            html.P(
                "Each number beside the same number for the run's null model: a Gaussian with the run's own "
                "mean and covariance and as many points (a plain ellipsoid). Filaments and voids are claimed "
                "only where the data differ from it. [95 % intervals]",
                className="note",
            ),
            # One row per measure and two columns per run keep the table as narrow as the page (a row per run
            # with a column per measure ran past its box).
            dash_table.DataTable(
                id=TABLE,
                style_table={"overflowX": "auto", "maxWidth": "100%"},
                style_cell={"fontFamily": "inherit", "fontSize": 12, "padding": "4px 8px", "whiteSpace": "normal"},
                style_cell_conditional=[{"if": {"column_id": "measure"}, "textAlign": "left"}],
            ),
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


def _interval(value, lo, hi, digits: int) -> str:
    return f"{float(value):.{digits}f} [{float(lo):.{digits}f}, {float(hi):.{digits}f}]"


def measure_rows(found: dict, prefix: str = "") -> dict[str, str]:
    """Measure label -> text of one cloud's structure numbers (``prefix`` "null_" for its null model)."""
    from analysis.samplers import LABELS, PROBE_KINDS
    from analysis.structure import LID_K

    out = {
        "points measured": f"{len(found['ids'])} of {int(found['n_reference'])}",
        f"median local dimension (MLE, {LID_K} neighbours)": _interval(
            found[f"{prefix}lid_median"], found[f"{prefix}lid_median_lo"], found[f"{prefix}lid_median_hi"], 2
        ),
        "median distance to the nearest other point": f"{float(found[f'{prefix}nn_median']):.2f}",
        "void threshold (99th percentile of those)": f"{float(found[f'{prefix}threshold']):.2f}",
    }
    for kind in PROBE_KINDS:
        if f"{prefix}void_{kind}" in found:
            out[f"void fraction of {LABELS[kind]} probes"] = _interval(
                found[f"{prefix}void_{kind}"], found[f"{prefix}void_{kind}_lo"], found[f"{prefix}void_{kind}_hi"], 3
            )
    return out


def structure_view(shown: list[tuple[int | str, RunHandle]], beside: str | None = None):
    """(table rows, table columns, LID figure, distance figure per side) for the shown runs.

    ``shown``: (index or side, run) pairs, the first run first. The table has one row per measure and,
    per run, a column for the run and one for its covariance-matched Gaussian null; every run has a
    local-dimension histogram, the first and the run named ``beside`` (the planes' second side) a
    distance plot each.
    """
    from analysis.samplers import PROBE_KINDS

    table: dict[str, dict] = {}
    columns = [{"name": "measure", "id": "measure"}]
    lid_series, nn_figures = [], dict.fromkeys(SIDES, message_figure(""))
    for position, (side, run) in enumerate(shown):
        found = measures(run)
        columns += table_columns(run, found, table)
        lid_series.append({"name": run.name, "side": side, "lid": found["lid"]})
        plot_side = "a" if position == 0 else "b" if run.name == beside or side == "b" else None
        if plot_side is not None:
            probes = {kind: found[f"probe_nn_{kind}"] for kind in PROBE_KINDS if f"probe_nn_{kind}" in found}
            nn_figures[plot_side] = nn_distance_figure(
                run.name, plot_side, found["data_nn"], probes, float(found["threshold"])
            )
    return list(table.values()), columns, lid_figure(lid_series), nn_figures["a"], nn_figures["b"]


def table_columns(run: RunHandle, found: dict, table: dict[str, dict]) -> list[dict]:
    """Fill the run's two columns (the run, its null) into ``table`` (measure -> row); return their headers."""
    from study.scoring import ROW_LABELS

    data, null = f"{run.name}:data", f"{run.name}:null"
    nulls = measure_rows(found, "null_")
    for measure, text in measure_rows(found).items():
        row = table.setdefault(measure, {"measure": measure})
        row[data] = text
        row[null] = nulls[measure] if measure != "points measured" else text
    rates = sampler_rates.cached_rows(run)
    for sampler in RATE_SAMPLERS:
        cell = rates.get(sampler)
        measure = f"meaningful rate, {ROW_LABELS[sampler]}"
        row = table.setdefault(measure, {"measure": measure})
        row[data] = "—" if cell is None else _interval(cell["rate"], cell["rate_lo"], cell["rate_hi"], 2)
        row[null] = "—"
    model = str(run.config["model"]).upper()
    return [{"name": f"{run.name} ({model})", "id": data}, {"name": f"{run.name}: its Gaussian null", "id": null}]


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
        # A later tab's view computes when its tab is opened, never at page load.
        prevent_initial_call=True,
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
