"""The metadata filter: a condition on the table's columns that restricts every plane, sampling and instrument.

Typed (``smiling == 1 and pose > 0.5``) or built from column / operator / value
pickers; parsed against the run's columns by :mod:`analysis.table_filter`, never
evaluated as code. The browser holds only the filter's text (and, after "use
selection as filter", the selection it keeps) in :data:`FILTER`; the rows are
computed on the server (:func:`app.subsets.filter_rows`). Each side always says
how many of its rows match.
"""

from __future__ import annotations

from dash import Input, Output, State, ctx, dcc, html, no_update

from analysis import table_filter
from app import subsets
from app.store import RunHandle
from app.url_state import Field, FilterCodec, LinkCheck
from app.validate import choice
from app.views.parts import (
    RUN,
    SIDES,
    NoRunSelected,
    guarded,
    ids,
    labelled,
    open_shown,
    open_side,
    shown_runs,
    side_columns,
)
from app.views.protocol import View

TAB = "Planes"
REFUSALS = subsets.REFUSALS

make = ids("filters")
TEXT, APPLY, CLEAR, MESSAGE = make("text"), make("apply"), make("clear"), make("message")
COLUMN, OPERATOR, VALUE, JOIN, ADD = make("column"), make("operator"), make("value"), make("join"), make("add")
COUNT = {s: make("count", s) for s in SIDES}
#: The filter in force: None, or ``{"expr": text, "within": selection or None}`` (see :func:`app.subsets.clean_filter`).
FILTER = make("state")

OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in")
PLACEHOLDER = "e.g. smiling == 1 and pose > 0.5   ·   split in ['valid', 'test']   ·   not (pose < 0)"

#: What a shared link carries of this view (see :mod:`app.url_state`).
URL_STATE = {"filter": Field(FILTER, "data", FilterCodec(), targets=((FILTER, "data"), (TEXT, "value")))}


def layout() -> html.Div:
    """The filter box with its buttons, the condition builder, the message line and one count per run."""
    typed = html.Div(
        className="controls filter-bar",
        children=[
            labelled(
                "filter rows",
                dcc.Input(
                    id=TEXT,
                    type="text",
                    value="",
                    debounce=True,
                    placeholder=PLACEHOLDER,
                    maxLength=table_filter.MAX_LENGTH,
                    className="filter-text",
                    style={"width": "38em"},
                ),
            ),
            html.Button("apply", id=APPLY, n_clicks=0, className="button"),
            html.Button("clear filter", id=CLEAR, n_clicks=0, className="button secondary"),
        ],
    )
    built = html.Div(
        className="controls filter-builder",
        children=[
            html.Label("or add a condition:"),
            dcc.Dropdown(id=COLUMN, options=[], placeholder="column", style={"width": "14em"}),
            dcc.Dropdown(id=OPERATOR, options=list(OPERATORS), value="==", clearable=False, style={"width": "6em"}),
            dcc.Input(id=VALUE, type="text", value="", placeholder="value (in: a, b, c)", style={"width": "12em"}),
            dcc.RadioItems(id=JOIN, options=["and", "or"], value="and", inline=True),
            html.Button("add", id=ADD, n_clicks=0, className="button secondary"),
        ],
    )
    counts = side_columns(lambda s: [html.Div(id=COUNT[s], className="count filter-count")])
    return html.Div(
        [typed, built, html.Div(id=MESSAGE, className="note filter-message"), counts, dcc.Store(id=FILTER)],
        className="view filters",
    )


#: Bookkeeping columns, listed after the attributes in the builder.
BOOKKEEPING = ("row", "id", "source", "split")


def column_options(run: RunHandle | None) -> list[dict]:
    """The run's metadata columns as builder options with their kind: attributes first, then ``row``, ``id``, ..."""
    if run is None:
        return []
    kinds = table_filter.column_kinds(run.metadata())
    order = sorted(kinds, key=lambda name: name in BOOKKEEPING)  # stable: the table's order otherwise
    return [{"label": f"{name} ({kinds[name]})", "value": name} for name in order]


def checked(runs: list[RunHandle], text: str) -> str:
    """``text`` parsed against each run's columns; its canonical form (the first problem raises)."""
    canonical = ""
    for run in runs:
        canonical = table_filter.canonical(text, table_filter.column_kinds(run.metadata()))
    return canonical


def edit_filter(runs: list[RunHandle], trigger, text, builder, current) -> tuple[str, dict | None, str]:
    """Apply what the user did to the filter: type / apply, add a built condition, or clear.

    Parameters
    ----------
    runs : list of RunHandle
        The runs shown (the filter must parse against each).
    trigger : str
        The component that changed (:data:`TEXT`, :data:`APPLY`, :data:`ADD` or :data:`CLEAR`).
    builder : (column, operator, value, join)
    current : dict or None
        The filter in force (its ``within`` selection is kept).

    Returns
    -------
    (text for the box, the new filter, a message line)
    """
    if trigger == CLEAR:
        return "", None, ""
    text = table_filter.check_text("" if text is None else text)
    current = subsets.clean_filter(current)
    within = current["within"] if current else None
    if trigger == ADD:
        column, op, value, join = builder
        if not runs:
            raise NoRunSelected()
        kinds = table_filter.column_kinds(runs[0].metadata())
        condition = table_filter.condition_text(str(column or ""), op, "" if value is None else value, kinds)
        join = choice(join, "join", ("and", "or"))
        text = f"({text.strip()}) {join} {condition}" if text.strip() else condition
    if not text.strip():
        state = subsets.clean_filter({"expr": "", "within": within})
        return text, state, ""
    canonical = checked(runs, text)
    return text, subsets.clean_filter({"expr": canonical, "within": within}), ""


def check_url(check: LinkCheck) -> None:
    """A link's filter must parse against the runs it will be shown on, and its selection be drawable (``View.check_url``)."""

    def usable(state):
        if state["expr"]:
            checked([check.store.open(name) for _, name in shown_runs(*check.runs)], state["expr"])
        if state["within"] is not None:
            subsets.selection_plane(check.store.open(state["within"]["run"]), state["within"])

    check.check("filter", usable)


def count_line(run: RunHandle, filter_state) -> str:
    """How many of the run's rows the filter keeps (always shown)."""
    total = run.n_points
    rows = subsets.filter_rows(run, filter_state)
    if rows is None:
        return f"no filter: all {total:,} rows of {run.name}"
    return f"{len(rows):,} of {total:,} rows match in {run.name} · {subsets.describe_filter(filter_state)}"


@guarded(lambda exc: [])
def columns_of(store, run_a) -> list[dict]:
    """The builder's column options for the page's first run ([] when it cannot be opened)."""
    return column_options(open_side(store, run_a, None, "a"))


@guarded(str)
def count_of(store, filter_state, run_a, run_b, side: str) -> str:
    """The count line of ``side`` ('' when it shows no run; the refusal's words when the filter cannot apply)."""
    run = open_side(store, run_a, run_b, side)
    return count_line(run, filter_state) if run is not None else ""


def initial(store, run_a, run_b) -> dict:
    """The column options and count lines for the runs the page opens with (``View.initial``)."""
    counts = {(COUNT[side], "children"): count_of(store, None, run_a, run_b, side) for side in SIDES}
    return {(COLUMN, "options"): columns_of(store, run_a), **counts}


def register(app, store, views) -> None:
    """Wire the filter box, the builder and the count lines."""

    @app.callback(Output(COLUMN, "options"), Input(RUN["a"], "value"), prevent_initial_call=True)
    def _columns(run_a):
        return columns_of(store, run_a)

    @app.callback(
        Output(TEXT, "value"),
        Output(FILTER, "data"),
        Output(MESSAGE, "children"),
        inputs={
            "text": Input(TEXT, "value"),
            "clicks": [Input(APPLY, "n_clicks"), Input(ADD, "n_clicks"), Input(CLEAR, "n_clicks")],
            "builder": [State(COLUMN, "value"), State(OPERATOR, "value"), State(VALUE, "value"), State(JOIN, "value")],
            "current": State(FILTER, "data"),
            "runs": [State(RUN["a"], "value"), State(RUN["b"], "value")],
        },
        prevent_initial_call=True,
    )
    @guarded(lambda exc: (no_update, no_update, f"not applied: {exc}"))
    def _edit(text, clicks, builder, current, runs):
        shown = [run for _, run in open_shown(store, *runs)]
        return edit_filter(shown, ctx.triggered_id, text, tuple(builder), current)

    for side in SIDES:

        @app.callback(
            Output(COUNT[side], "children"),
            Input(FILTER, "data"),
            Input(RUN["a"], "value"),
            Input(RUN["b"], "value"),
            prevent_initial_call=True,  # the page opens with these values (initial)
        )
        def _count(filter_state, run_a, run_b, side=side):
            return count_of(store, filter_state, run_a, run_b, side)


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("filters", TAB, layout, register, REFUSALS, url_state=URL_STATE, check_url=check_url, initial=initial)
