"""The epoch slider on the Structure tab: the first run's structure numbers after each snapshot epoch.

Per snapshot of a run trained with ``--snapshot-every`` (:data:`analysis.snapshots.epoch_structure`):
median local intrinsic dimension and void fractions beside their Gaussian null,
active units, radius, PC1's share and the training losses, drawn against the
epoch with the slider's epoch marked, and that epoch's numbers in a table. The
numbers are read from the cache; the missing ones are computed by a background
job with progress (a few seconds per epoch on two cores at ``zspace analyze
--quick`` sizes), which ``zspace analyze`` also computes.
"""

from __future__ import annotations

from dash import Input, Output, State, dash_table, dcc, html, no_update

from app.job_results import TEXT, returns
from app.jobs import SlotsBusy
from app.store import RunHandle
from app.views.epochs import NO_SNAPSHOTS, run_epochs, slider_settings
from app.views.parts import JOB_SLOT_WAIT_S, RUN, TABS, guarded, ids, job_controls
from app.views.protocol import View
from figures.series import epoch_figure
from figures.style import PAGE, message_figure

TAB = "Structure"
REFUSALS = (SlotsBusy,)

make = ids("epoch_structure")
SLIDER, GRAPH, TABLE, NOTE = make("slider"), make("graph"), make("table"), make("note")
GO, CANCEL, PROGRESS, PROGRESS_TEXT, STATUS = (
    make("go"),
    make("cancel"),
    make("progress"),
    make("progress-text"),
    make("status"),
)
#: The table's numbers at the slider's epoch: (label, curve key, the Gaussian null's key or None).
TABLE_NUMBERS = (
    ("median local dim.", "lid_median", "null_lid_median"),
    ("void fraction (normal)", "void_normal", "null_void_normal"),
    ("void fraction (uniform box)", "void_uniform_box", "null_void_uniform_box"),
    ("active units", "active_units", None),
    ("mean radius |z|", "radius_mean", None),
    ("PC1 share of variance", "pc1_share", None),
    ("training loss", "loss", None),
)


def layout() -> html.Div:
    """The slider, the per-epoch figure, the chosen epoch's numbers and the job that measures missing epochs."""
    return html.Div(
        className="view",
        children=[
            html.H3("structure over training (the first run's snapshots)"),
            html.Div(
                [html.Label("epoch"), dcc.Slider(id=SLIDER, min=0, max=1, step=None, marks={}, value=None)],
                style={"width": "420px"},
            ),
            html.Div(id=NOTE, className="note"),
            dash_table.DataTable(id=TABLE, style_cell={"fontFamily": "inherit", "fontSize": 12, "padding": "4px 8px"}),
            dcc.Loading(dcc.Graph(id=GRAPH, config={"displaylogo": False})),
            html.Div(
                className="controls",
                children=[
                    html.Button("measure the missing epochs", id=GO, n_clicks=0, className="button"),
                    html.Button("cancel", id=CANCEL, n_clicks=0, disabled=True, className="button secondary"),
                    html.Progress(id=PROGRESS, value="0", max="100"),
                    html.Span(id=PROGRESS_TEXT, className="note"),
                    html.Span(id=STATUS, className="note"),
                ],
            ),
        ],
    )


def cached_curve(run: RunHandle) -> dict | None:
    """The run's per-epoch curve from the cache (None without snapshots; missing epochs are None)."""
    from analysis.snapshots import epoch_curve

    with run.cache_scope():
        return epoch_curve(run.folder, compute=False)


def _number(value) -> str:
    return "—" if value is None else f"{value:.3g}"


def epoch_rows(curve: dict, epoch: int) -> list[dict]:
    """The table at ``epoch``: one row per entry of :data:`TABLE_NUMBERS` the curve has (the null beside)."""
    index = curve["epochs"].index(epoch)
    rows = []
    for label, key, null in TABLE_NUMBERS:
        if key in curve:
            null_value = _number(curve[null][index]) if null else ""
            rows.append({"number": label, f"epoch {epoch}": _number(curve[key][index]), "Gaussian null": null_value})
    return rows


def epoch_view(run: RunHandle, epoch) -> tuple:
    """(figure, table rows, table columns, note) of the first run at the slider's ``epoch``."""
    curve = cached_curve(run)
    if curve is None:
        return message_figure(NO_SNAPSHOTS.format(run=run.name)), [], [], ""
    epoch = epoch if epoch in curve["epochs"] else curve["epochs"][-1]
    missing = sum(value is None for value in curve["lid_median"])
    note = f"{missing} of {len(curve['epochs'])} epochs not measured yet: press 'measure the missing epochs'"
    rows = epoch_rows(curve, epoch)
    columns = [{"name": key, "id": key} for key in (rows[0] if rows else {})]
    return epoch_figure(run.name, curve, PAGE, epoch), rows, columns, note if missing else ""


def measure_epochs(run: RunHandle, set_progress) -> str:
    """Measure every snapshot epoch of ``run`` not cached yet, in one job slot; ``set_progress((value, max, text))``."""
    from analysis.snapshots import epoch_structure

    epochs = run_epochs(run)
    if not epochs:
        return NO_SNAPSHOTS.format(run=run.name)

    def waiting():
        set_progress((0, len(epochs), "waiting for another background job to finish…"))

    with run.store.slots.slot(wait=JOB_SLOT_WAIT_S, on_wait=waiting), run.cache_scope():
        for done, epoch in enumerate(epochs):
            set_progress((done, len(epochs), f"measuring epoch {epoch}…"))
            epoch_structure(run.folder, epoch)
    set_progress((len(epochs), len(epochs), "done"))
    return f"the {len(epochs)} epochs of {run.name} are measured"


def register(app, store, views) -> None:
    """Wire the slider, the figure and table (read from the cache) and the job that fills them."""

    @app.callback(
        Output(SLIDER, "marks"),
        Output(SLIDER, "min"),
        Output(SLIDER, "max"),
        Output(SLIDER, "value"),
        Input(TABS, "value"),
        Input(RUN["a"], "value"),
        # A later tab's view computes when its tab is opened, never at page load.
        prevent_initial_call=True,
    )
    @guarded(lambda exc: ({}, 0, 1, None))
    def _slider(tab, run_a):
        if tab != TAB:
            return no_update, no_update, no_update, no_update
        return slider_settings([store.open(run_a) if run_a else None])[:4]

    @app.callback(
        Output(GRAPH, "figure"),
        Output(TABLE, "data"),
        Output(TABLE, "columns"),
        Output(NOTE, "children"),
        Input(TABS, "value"),
        Input(RUN["a"], "value"),
        Input(SLIDER, "value"),
        Input(STATUS, "children"),
        # A later tab's view computes when its tab is opened, never at page load.
        prevent_initial_call=True,
    )
    @guarded(lambda exc: (message_figure(str(exc)), [], [], ""))
    def _draw(tab, run_a, epoch, _done):
        if tab != TAB:
            return no_update, no_update, no_update, no_update
        if not run_a:
            return message_figure("no run selected"), [], [], ""
        return epoch_view(store.open(run_a), epoch)

    @app.callback(
        Output(STATUS, "children"),
        Input(GO, "n_clicks"),
        State(RUN["a"], "value"),
        **job_controls(GO, CANCEL, PROGRESS, PROGRESS_TEXT),
        prevent_initial_call=True,
    )
    @returns(TEXT)
    @guarded(str)
    def _measure(set_progress, _clicks, run_a):
        if not run_a:
            return "no run selected"
        return measure_epochs(store.open(run_a), set_progress)


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("epoch_structure", TAB, layout, register, REFUSALS)
