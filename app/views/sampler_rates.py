"""The sampler lab's table: how often each sampler's decodes are meaningful, one column group per run, with intervals.

Each row is one sampler (and ``data``: held-out data points, the rate a perfect
sampler reaches); one group of columns per run shown (the first and every
compared run); each cell the share of :data:`study.scoring.N_RATE` decoded
samples that score as meaningful, with a 95 % percentile-bootstrap interval
(:data:`analysis.meaningful.N_BOOTSTRAP` resamples). The rows are computed by a
background job (a minute or so per run on two cores: the density fits, the
reference images, 256 decodes and re-encodes per sampler), cached in the
server's cache folder, and read back in milliseconds.
"""

from __future__ import annotations

from dash import Input, Output, State, dash_table, html

from app.job_results import TEXT, returns
from app.jobs import SlotsBusy
from app.store import RunHandle
from app.views.parts import (
    COMPARE,
    JOB_SLOT_WAIT_S,
    RUN,
    TABS,
    guarded,
    ids,
    job_controls,
    no_decoder_line,
    open_compared,
)
from app.views.protocol import View
from rundir.errors import Refusal

TAB = "Sampling"


class RatesCancelled(Refusal):
    """The rates job, cancelled (its words are the sampler lab's)."""


REFUSALS = (RatesCancelled, SlotsBusy)

make = ids("sampler_rates")
TABLE, NOTE, GO, CANCEL, PROGRESS, PROGRESS_TEXT, STATUS = (
    make("table"),
    make("note"),
    make("go"),
    make("cancel"),
    make("progress"),
    make("progress-text"),
    make("status"),
)


def layout() -> html.Div:
    """The rate table, a note on what it measures, and the button that computes missing rows."""
    from analysis.meaningful import N_BOOTSTRAP
    from study.scoring import GOOD_SHARE, N_JUDGE, N_RATE

    return html.Div(
        className="view sampler-rates",
        children=[
            html.H3("meaningful decodes per sampler"),
            html.P(
                f"Per sampler, {N_RATE} decoded samples. meaningful: the share whose realism and distance from "
                "face space are both within the range of 98 % of the same model's decoded held-out data points; "
                f"judge: the share the independent judge calls a face (of the first {N_JUDGE}); precision and "
                "recall (Kynkäänniemi et al. 2019), diversity (1 = as varied as the data) and the two-sample AUC "
                "(0.5 = indistinguishable from the data) against as many decoded held-out data points. good: "
                f"precision and recall each at least {GOOD_SHARE:.0%} of the data row's. [95 % intervals: Wilson "
                f"for shares, percentile bootstrap ({N_BOOTSTRAP:,} resamples) otherwise.] 'data' decodes held-out "
                "data points. Definitions and validation: docs/MEASURES.md.",
                className="note",
            ),
            dash_table.DataTable(
                id=TABLE,
                style_cell={"fontFamily": "inherit", "fontSize": 12, "padding": "4px 8px"},
                style_table={"overflowX": "auto"},
            ),
            html.Div(id=NOTE, className="note"),
            html.Div(
                className="controls",
                children=[
                    html.Button("compute the rates", id=GO, n_clicks=0, className="button"),
                    html.Button("cancel", id=CANCEL, n_clicks=0, disabled=True, className="button secondary"),
                    html.Progress(id=PROGRESS, value="0", max="100"),
                    html.Span(id=PROGRESS_TEXT, className="note"),
                    html.Span(id=STATUS, className="note"),
                ],
            ),
        ],
    )


def _cell(row: dict | None, name: str = "rate", decodes: bool = True) -> str:
    if not decodes:
        return "no decoder"
    if row is None:
        return "—"
    return f"{row[name]:.2f} [{row[f'{name}_lo']:.2f}, {row[f'{name}_hi']:.2f}]"


def cached_rows(run: RunHandle) -> dict[str, dict | None]:
    """sampler -> its cached rate row (None where not computed yet); never computes."""
    from study.scoring import GMM_K, N_RATE, ROWS, rate_row

    return {sampler: run.cached_result(rate_row, sampler=sampler, n=N_RATE, seed=0, gmm_k=GMM_K) for sampler in ROWS}


#: The measures of a rate row the table shows per run, each with its interval: (row key, column heading).
SHOWN = (
    ("rate", "meaningful"),
    ("judge_rate", "judge: face"),
    ("precision", "precision"),
    ("recall", "recall"),
    ("diversity", "diversity"),
    ("auc", "two-sample AUC"),
    ("consistent", "re-encode consistent"),
)


def good_text(row: dict | None, data_row: dict | None) -> str:
    """Whether a sampler is good (its quality and coverage against the data row's), in words; "—" until both exist."""
    from study.scoring import decide

    if row is None or data_row is None:
        return "—"
    found = decide(row, data_row)
    if found["good"]:
        return "yes"
    missing = [name for name in ("quality", "coverage") if not found[name]]
    return f"no ({' and '.join(missing)})"


def rate_table(shown: list[tuple[int | str, RunHandle]]) -> tuple[list[dict], list[dict], str]:
    """Rows and columns of the table for the shown runs ((index or side, run) pairs), and a note on what is missing."""
    from study.scoring import ROW_LABELS, ROWS

    runs = [run for _, run in shown]
    found = {run.name: cached_rows(run) if run.has_decoder else {} for run in runs}
    columns = [{"name": "sampler", "id": "sampler"}]
    for run in runs:
        model = str(run.config["model"]).upper()
        columns.append({"name": f"{run.name} ({model}) meaningful", "id": f"{run.name}:rate"})
        columns += [{"name": f"{run.name} {heading}", "id": f"{run.name}:{key}"} for key, heading in SHOWN[1:]]
        columns.append({"name": f"{run.name} good", "id": f"{run.name}:good"})
    rows = [
        {
            "sampler": ROW_LABELS[sampler],
            **{k: v for run in runs for k, v in run_cells(run, found[run.name], sampler).items()},
        }
        for sampler in ROWS
    ]
    return rows, columns, table_note(runs, found)


def run_cells(run: RunHandle, cells: dict, sampler: str) -> dict:
    """One run's cells of one sampler's row ("no decoder" in each for a run without one)."""
    from study.scoring import DATA_ROW

    row = {f"{run.name}:{key}": _cell(cells.get(sampler), key, run.has_decoder) for key, _ in SHOWN}
    good = good_text(cells.get(sampler), cells.get(DATA_ROW)) if run.has_decoder else "no decoder"
    return {**row, f"{run.name}:good": good}


def table_note(runs: list[RunHandle], found: dict) -> str:
    """The line under the table: the runs without a decoder (once), and those whose rates are not computed yet."""
    missing = [run for run, table in found.items() if any(v is None for v in table.values())]
    notes = [no_decoder_line(runs)]
    if missing:
        notes.append(f"not computed yet for {', '.join(missing)}: press 'compute the rates' (about a minute per run)")
    return " · ".join(note for note in notes if note)


def compute_rates(runs: list[RunHandle], set_progress) -> str:
    """Compute every missing rate row of ``runs`` in one job slot; ``set_progress((value, max, text))``."""
    from study import scoring

    def waiting():
        set_progress((0, 100, "waiting for another background job to finish…"))

    with runs[0].store.slots.slot(wait=JOB_SLOT_WAIT_S, on_wait=waiting):
        for index, run in enumerate(runs):

            def progress(fraction, message, index=index):
                set_progress((int(100 * (index + fraction) / len(runs)), 100, message))
                return True

            with run.cache_scope():
                try:
                    scoring.sampler_rates(run.folder, progress=progress)
                except scoring.RatesCancelled as exc:
                    raise RatesCancelled(why=exc) from None
    return f"rates of {', '.join(run.name for run in runs)} ready"


def register(app, store, views) -> None:
    """Wire the table (reads the cache) and the job that fills it."""

    @app.callback(
        Output(TABLE, "data"),
        Output(TABLE, "columns"),
        Output(NOTE, "children"),
        Input(TABS, "value"),
        Input(RUN["a"], "value"),
        Input(COMPARE, "value"),
        Input(STATUS, "children"),
        # A later tab's view computes when its tab is opened, never at page load.
        prevent_initial_call=True,
    )
    @guarded(lambda exc: ([], [], str(exc)))
    def _table(tab, run_a, compare, _done):
        if tab != TAB or not run_a:
            return [], [], ""
        return rate_table(open_compared(store, run_a, compare))

    @app.callback(
        Output(STATUS, "children"),
        Input(GO, "n_clicks"),
        State(RUN["a"], "value"),
        State(COMPARE, "value"),
        **job_controls(GO, CANCEL, PROGRESS, PROGRESS_TEXT),
        prevent_initial_call=True,
    )
    @returns(TEXT)
    @guarded(str)
    def _compute(set_progress, _clicks, run_a, compare):
        shown = [run for _, run in open_compared(store, run_a, compare)]  # validated before any work
        runs = [run for run in shown if run.has_decoder]  # the table's note says which have no decoder
        if not runs:
            return "no run selected" if not shown else "nothing to compute: no shown run has a decoder"
        return compute_rates(runs, set_progress)


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("sampler_rates", TAB, layout, register, REFUSALS)
