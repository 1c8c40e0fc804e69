"""The page shell: title bar with the run pickers, the run list, and one tab per group of views."""

from __future__ import annotations

import html as markup
import logging

from dash import Input, Output, ctx, dcc, html, no_update

from app.views import ABOVE_TABS, VIEWS, progress, tabs
from app.views.parts import COMPARE, COMPARE_NOTE, MAX_COMPARED, PAGE, RUN, TABS, TooManyCompared, side_run
from app.views.protocol import View

EMPTY_STATE = "no runs found: run `zspace train …` or `make demo`"
RUN_LIST = "run-list"
#: Where Dash mounts the page, as its first HTML holds it until the scripts have run ("Loading..."), with room
#: for the note of what is being computed; Dash replaces all of it with the page.
APP_ENTRY = '<div id="react-entry-point"><div class="_dash-loading">Loading...</div>{note}</div>'

log = logging.getLogger(__name__)


def run_list(runs: list[dict]) -> html.Ul:
    """Every run of the folder with its state; unusable ones say why."""
    items = []
    for run in runs:
        cls = "run-item ok" if run["usable"] else "run-item broken"
        items.append(html.Li(run["label"], className=cls, title=run["label"]))
    return html.Ul(items, id=RUN_LIST, className="run-list")


def opening_runs(runs: list[dict]) -> tuple[str | None, str | None]:
    """The runs a page opens with: the first usable run, compared with the first usable one of the other model kind."""
    usable = [r for r in runs if r["usable"]]
    if not usable:
        return None, None
    # Compare mode defaults to the first run of the other model kind (typically AE vs VAE).
    return usable[0]["name"], next((r["name"] for r in usable if r["model"] != usable[0]["model"]), None)


def header(runs: list[dict]) -> html.Div:
    """Title bar with the run picker, the compare picker (several runs) and the run beside the first on the planes."""
    options = [{"label": r["label"], "value": r["name"], "disabled": not r["usable"]} for r in runs]
    first, other = opening_runs(runs)
    return html.Div(
        className="header",
        children=[
            html.Div([html.H1("zspace"), html.Span("latent space of autoencoders", className="subtitle")]),
            html.Div(
                className="pickers",
                children=[
                    html.Label("run", htmlFor=RUN["a"]),
                    dcc.Dropdown(id=RUN["a"], options=options, value=first, clearable=False, className="picker"),
                    html.Label("compare with", htmlFor=COMPARE),
                    dcc.Dropdown(
                        id=COMPARE,
                        options=options,
                        value=[other] if other else [],
                        multi=True,
                        placeholder="(none)",
                        className="picker compare-picker",
                    ),
                    html.Label("beside it on the planes", htmlFor=RUN["b"]),
                    dcc.Dropdown(id=RUN["b"], options=options, value=other, placeholder="(none)", className="picker"),
                    html.Span(id=COMPARE_NOTE, className="error-note"),
                ],
            ),
        ],
    )


def settle_compared(run_a, compare, beside, trigger) -> tuple[list[str], str | None, str]:
    """The compare picker's runs, the run beside the first on the planes, and a note, after one of them changed.

    The run beside is always one of the compared runs: picking it adds it to them, removing it from them
    moves the planes to the first one left. Past :data:`MAX_COMPARED` the newest picks are refused (one line).
    """
    compare = _names(compare)
    if trigger == RUN["b"] and beside not in (None, "", run_a, *compare):
        compare.append(beside)
    others = [name for name in compare if name != run_a]
    note = ""
    if len(others) > MAX_COMPARED:
        compare = [name for name in compare if name == run_a or name in others[:MAX_COMPARED]]
        others, note = others[:MAX_COMPARED], str(TooManyCompared())
    if beside not in others:
        beside = others[0] if others else None
    return compare, beside, note


def _names(values) -> list[str]:
    """The run names of a picker's value, each once, in order (anything else left out)."""
    # Strings picked out first: a hostile value may hold lists, which cannot be dictionary keys.
    return list(dict.fromkeys(name for name in (values if isinstance(values, list) else []) if isinstance(name, str)))


def section(view: View) -> html.Section:
    """A view's layout in a section of its own (``view-<name>``), so a page can be read view by view."""
    return html.Section(view.layout(), id=f"view-{view.name}", className="view-section")


def initial_values(store, runs: list[dict], views: tuple[View, ...]) -> dict:
    """``{(component id, property): value}`` of every view's :attr:`View.initial` for the runs the page opens with."""
    run_a, run_b = opening_runs(runs)
    values = {(PAGE, "className"): "page compare" if side_run(run_a, run_b, "b") else "page single"}
    for view in views:
        if view.initial is not None:
            values.update(view.initial(store, run_a, run_b))
    return values


def with_values(layout, values: dict):
    """``layout`` with the given properties set on the components of those ids (the page's initial values)."""
    for component in [layout, *layout._traverse()]:
        for prop in [prop for (id_, prop) in values if id_ == getattr(component, "id", None)]:
            setattr(component, prop, values[(component.id, prop)])
    return layout


def build_layout(runs: list[dict], views: tuple[View, ...] = VIEWS, store=None) -> html.Div:
    """The whole page for the given run listing (called on every page load, so new runs appear).

    With the run ``store``, the views' :attr:`View.initial` values are in the page, so opening it
    makes no request for what is known already.
    """
    page = _page(runs, views)
    return page if store is None else with_values(page, initial_values(store, runs, views))


def _page(runs: list[dict], views: tuple[View, ...]) -> html.Div:
    usable = any(r["usable"] for r in runs)
    empty = html.Div(EMPTY_STATE, id="empty-state", className="empty-state") if not usable else None
    tab_children = [
        dcc.Tab(
            label=tab,
            value=tab,
            className="tab",
            children=[section(view) for view in views if tab == view.tab],
        )
        for tab in tabs(views)
    ]
    return html.Div(
        id=PAGE,
        className="page single",
        children=[
            header(runs),
            html.Details([html.Summary(f"{len(runs)} run(s) in the folder"), run_list(runs)], className="runs-box"),
            empty,
            *[section(view) for view in views if view.tab is ABOVE_TABS],
            dcc.Tabs(id=TABS, value=tabs(views)[0], className="tabs", children=tab_children),
        ],
    )


def loading_note(store) -> str:
    """The progress note of the runs a page opens with ("computing … in the background"), or "" when none."""
    _needed, note, _style = progress.plan(store, *opening_runs(store.runs()))
    return note


def say_what_loads(app, store) -> None:
    """Put the progress note into the page's first HTML, beside Dash's "Loading...".

    A never-analysed large run's note is otherwise seen only once Dash's scripts have loaded and
    rendered the layout (seconds on 2 cores); here it is in the first paint. The page replaces it.
    """
    plain = app.interpolate_index

    def interpolate_index(**parts):
        try:
            note = loading_note(store)
        except Exception:  # the page still opens; its own note says what is computed
            log.warning("could not say what the page computes in its first HTML", exc_info=True)
            note = ""
        shown = f'<p class="loading-note note">{markup.escape(note)}</p>' if note else ""
        return plain(**{**parts, "app_entry": APP_ENTRY.format(note=shown)})

    app.interpolate_index = interpolate_index


def register(app, store, views: tuple[View, ...] = VIEWS) -> None:
    """Wire the page shell, then every view (each is handed the whole registry)."""
    say_what_loads(app, store)

    # CSS hides every second-run column unless a different run is compared (side_run's rule, in the browser).
    app.clientside_callback(
        "function(runA, runB) { return runB && runB !== runA ? 'page compare' : 'page single'; }",
        Output(PAGE, "className"),
        Input(RUN["a"], "value"),
        Input(RUN["b"], "value"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(COMPARE, "value"),
        Output(RUN["b"], "value"),
        Output(COMPARE_NOTE, "children"),
        Input(COMPARE, "value"),
        Input(RUN["b"], "value"),
        Input(RUN["a"], "value"),
        prevent_initial_call=True,
    )
    def _settle(compare, beside, run_a):
        # The first run changing matters too: the planes never show one run beside itself.
        # One callback for both pickers: Dash allows a loop only within one callback.
        settled, shown, note = settle_compared(run_a, compare, beside, ctx.triggered_id)
        # Unchanged values are not written back, so the views that read them do not redraw twice.
        return settled if settled != compare else no_update, shown if shown != beside else no_update, note

    for view in views:
        view.register(app, store, views)
