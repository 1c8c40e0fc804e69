"""The Sweep view: a β sweep's numbers against β, the curve the seed's AE and VAE are two points of.

For a sweep folder (``zspace sweep``, :mod:`rundir.sweep`): the meaningful
rate per sampler with its 95 % interval, void fraction per probe kind and
median local intrinsic dimension (each beside its Gaussian null),
reconstruction error, KL and active units, one point per run
(:func:`study.sweep.sweep_curve`). What is cached is drawn at once; the
missing numbers are computed by a background job with progress (about a
minute per run on two cores, most of it the sampler lab), which ``zspace
sweep`` also computes as each run's last step.
"""

from __future__ import annotations

from dash import Input, Output, State, dash_table, dcc, html, no_update

from app.job_results import TEXT, returns
from app.jobs import SlotsBusy
from app.url_state import Field, LinkCheck, Name
from app.validate import choice
from app.views.parts import JOB_SLOT_WAIT_S, RUN, TABS, guarded, ids, job_controls, labelled
from app.views.protocol import View
from figures.series import sweep_rates_figure, sweep_structure_figure
from figures.style import PAGE, message_figure

TAB = "Sweep"
REFUSALS = (SlotsBusy,)

make = ids("sweep")
PICKED, NOTE, RATES, STRUCTURE, TABLE = make("picked"), make("note"), make("rates"), make("structure"), make("table")
GO, CANCEL, PROGRESS, PROGRESS_TEXT, STATUS = (
    make("go"),
    make("cancel"),
    make("progress"),
    make("progress-text"),
    make("status"),
)
#: The link key of the picked sweep folder.
SWEEP_KEY = "sweep"
URL_STATE = {SWEEP_KEY: Field(PICKED, "value", Name("sweep"))}
NO_SWEEPS = "no sweep folders in the runs folder: `zspace sweep --data SOURCE --beta 0,0.1,1,4 --out data/runs/NAME`"


def layout() -> html.Div:
    """The sweep picker, the two figures against β, the numbers per run and the job that fills them."""
    return html.Div(
        className="view",
        children=[
            html.Div(
                className="controls",
                children=[
                    labelled("sweep", dcc.Dropdown(id=PICKED, options=[], clearable=False, style={"width": "16em"}))
                ],
            ),
            html.Div(id=NOTE, className="note"),
            dcc.Loading(dcc.Graph(id=RATES, config={"displaylogo": False})),
            dcc.Loading(dcc.Graph(id=STRUCTURE, config={"displaylogo": False})),
            dash_table.DataTable(id=TABLE, style_cell={"fontFamily": "inherit", "fontSize": 12, "padding": "4px 8px"}),
            html.Div(
                className="controls",
                children=[
                    html.Button("compute the missing numbers", id=GO, n_clicks=0, className="button"),
                    html.Button("cancel", id=CANCEL, n_clicks=0, disabled=True, className="button secondary"),
                    html.Progress(id=PROGRESS, value="0", max="100"),
                    html.Span(id=PROGRESS_TEXT, className="note"),
                    html.Span(id=STATUS, className="note"),
                ],
            ),
        ],
    )


def sweep_names(store) -> list[str]:
    """The usable sweep folders of the runs folder, by name."""
    from rundir.sweep import list_sweeps

    return [info.name for info in list_sweeps(store.runs_dir) if info.usable]


def picker(store, run_a, current) -> tuple[list[dict], str | None]:
    """The picker's options and value: the current sweep if still there, else the first run's, else the first."""
    names = sweep_names(store)
    own = run_a.split("/")[0] if isinstance(run_a, str) and "/" in run_a else None
    value = next((name for name in (current, own) if name in names), names[0] if names else None)
    return [{"label": name, "value": name} for name in names], value


def curve_of(store, name, compute: bool = False, progress=None) -> dict:
    """The sweep's curve (:func:`study.sweep.sweep_curve`), its runs' request folders read and written besides."""
    from study.sweep import sweep_curve

    name = choice(name, "sweep", sweep_names(store))
    return sweep_curve(
        store.runs_dir / name, compute=compute, folder_of=lambda run: store.open(run).request_folder, progress=progress
    )


def _cell(values: list, i: int, digits: int = 3) -> str:
    return "—" if values[i] is None else f"{values[i]:.{digits}g}"


def table_rows(curve: dict) -> list[dict]:
    """One row per run: β, the run, its model and the curve's numbers (or why the run cannot be shown)."""
    rows = []
    for i, beta in enumerate(curve["betas"]):
        rate = curve["rates"]["normal"]
        rows.append(
            {
                "β": f"{beta:g}",
                "run": curve["runs"][i] + ("" if curve["usable"][i] else f" ({curve['reasons'][i]})"),
                "model": curve["models"][i].upper(),
                "meaningful (N(0, I))": "—" if rate["rate"][i] is None else f"{rate['rate'][i]:.2f}",
                "void (N(0, I))": _cell(curve["void_fraction"]["normal"]["value"], i),
                "median local dim.": _cell(curve["lid_median"]["value"], i),
                "recon MSE": _cell(curve["recon_mse"], i),
                "KL": _cell(curve["kl"], i),
                "active units": _cell(curve["active_units"], i),
            }
        )
    return rows


def missing_note(curve: dict) -> str:
    """Which usable runs lack a number (an AE's KL is not missing), and what computes them."""
    lacking = []
    for i, run in enumerate(curve["runs"]):
        numbers = [curve["rates"]["normal"]["rate"][i], curve["lid_median"]["value"][i], curve["recon_mse"][i]]
        if curve["usable"][i] and any(value is None for value in numbers):
            lacking.append(run)
    if not lacking:
        return ""
    return f"not computed yet for {', '.join(lacking)}: press 'compute the missing numbers' (about a minute per run)"


def sweep_view(store, name) -> tuple:
    """(rates figure, structure figure, table rows, table columns, note) of the picked sweep, from the cache."""
    if name is None:
        return message_figure(NO_SWEEPS), message_figure(""), [], [], ""
    curve = curve_of(store, name)
    rows = table_rows(curve)
    columns = [{"name": key, "id": key} for key in (rows[0] if rows else {})]
    figures = sweep_rates_figure(curve, PAGE), sweep_structure_figure(curve, PAGE)
    return (*figures, rows, columns, missing_note(curve))


def compute_sweep(store, name, set_progress) -> str:
    """Compute every missing number of the sweep's runs in one job slot; ``set_progress((value, max, text))``."""

    def waiting():
        set_progress((0, 100, "waiting for another background job to finish…"))

    def progress(fraction, message):
        set_progress((int(100 * fraction), 100, message if message == "done" else f"measuring {message}…"))

    choice(name, "sweep", sweep_names(store))  # checked before any work
    with store.slots.slot(wait=JOB_SLOT_WAIT_S, on_wait=waiting):
        curve_of(store, name, compute=True, progress=progress)
    return f"the numbers of sweep {name} are ready"


def check_url(check: LinkCheck) -> None:
    """A link's sweep must be a sweep folder of the runs folder."""
    check.check(SWEEP_KEY, lambda name: choice(name, "sweep", sweep_names(check.store)) and None)


def register(app, store, views) -> None:
    """Wire the picker, the figures and table (read from the cache) and the job that fills them."""

    @app.callback(
        Output(PICKED, "options"),
        Output(PICKED, "value"),
        Input(TABS, "value"),
        Input(RUN["a"], "value"),
        State(PICKED, "value"),
        # A later tab's view computes when its tab is opened, never at page load.
        prevent_initial_call=True,
    )
    def _picker(tab, run_a, current):
        if tab != TAB:
            return no_update, no_update
        return picker(store, run_a, current)

    @app.callback(
        Output(RATES, "figure"),
        Output(STRUCTURE, "figure"),
        Output(TABLE, "data"),
        Output(TABLE, "columns"),
        Output(NOTE, "children"),
        Input(TABS, "value"),
        Input(PICKED, "value"),
        Input(STATUS, "children"),
        # A later tab's view computes when its tab is opened, never at page load.
        prevent_initial_call=True,
    )
    @guarded(lambda exc: (message_figure(str(exc)), message_figure(""), [], [], ""))
    def _draw(tab, name, _done):
        if tab != TAB:
            return no_update, no_update, no_update, no_update, no_update
        return sweep_view(store, name)

    @app.callback(
        Output(STATUS, "children"),
        Input(GO, "n_clicks"),
        State(PICKED, "value"),
        **job_controls(GO, CANCEL, PROGRESS, PROGRESS_TEXT),
        prevent_initial_call=True,
    )
    @returns(TEXT)
    @guarded(str)
    def _compute(set_progress, _clicks, name):
        return compute_sweep(store, name, set_progress)


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("sweep", TAB, layout, register, REFUSALS, url_state=URL_STATE, check_url=check_url)
