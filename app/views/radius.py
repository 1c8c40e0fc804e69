"""The Radius view: number density against the L2 radius, with the chi reference of N(0, I)."""

from __future__ import annotations

from dash import Input, Output, dcc, html, no_update

from app.store import RunHandle
from app.validate import choice
from app.views.parts import COMPARE, RUN, TABS, guarded, ids, labelled, open_compared
from app.views.protocol import View
from figures.distributions import radius_figure
from figures.style import message_figure

TAB = "Radius"
REFUSALS = ()

make = ids("radius")
BIN, GRAPH = make("bin"), make("graph")

#: Bin widths a page may ask for (the seed used 0.5 and 0.05).
BIN_WIDTHS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)


def layout() -> html.Div:
    """Bin width and the radius histogram."""
    picker = dcc.Dropdown(
        id=BIN,
        options=[{"label": f"{w:g}", "value": w} for w in BIN_WIDTHS],
        value=0.5,
        clearable=False,
        style={"width": "6em"},
    )
    return html.Div(
        className="view",
        children=[
            html.Div(className="controls", children=[labelled("bin width", picker)]),
            dcc.Loading(dcc.Graph(id=GRAPH, config={"displaylogo": False})),
        ],
    )


def radius_view(shown: list[tuple[int | str, RunHandle]], bin_width):
    """Radius histogram(s) of the shown runs ((index or side, run) pairs: the first and every compared run)."""
    from analysis import results

    bin_width = choice(bin_width, "bin width", BIN_WIDTHS)
    series = [
        {"name": run.name, "side": side, **run.result(results.radius_profile, bin_width=bin_width)}
        for side, run in shown
    ]
    return radius_figure(series)


def register(app, store, views) -> None:
    """Wire the radius histogram."""

    @app.callback(
        Output(GRAPH, "figure"),
        Input(TABS, "value"),
        Input(RUN["a"], "value"),
        Input(COMPARE, "value"),
        Input(BIN, "value"),
        # A later tab's view computes when its tab is opened, never at page load.
        prevent_initial_call=True,
    )
    @guarded(lambda exc: message_figure(str(exc)))
    def _radius(tab, run_a, compare, bin_width):
        if tab != TAB:
            return no_update
        return (
            radius_view(open_compared(store, run_a, compare), bin_width) if run_a else message_figure("no run selected")
        )


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("radius", TAB, layout, register, REFUSALS)
