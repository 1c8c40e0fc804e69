"""The PCA spectrum view: explained variance ratio per component and its cumulative sum."""

from __future__ import annotations

from dash import Input, Output, dcc, html, no_update

from app import plane_space
from app.store import RunHandle
from app.validate import whole
from app.views.parts import COMPARE, RUN, TABS, guarded, ids, labelled, number, open_compared
from app.views.protocol import View
from figures.distributions import spectrum_figure
from figures.style import message_figure

TAB = "PCA spectrum"
REFUSALS = ()

make = ids("spectrum")
COMPONENTS, GRAPH = make("k"), make("graph")


def layout() -> html.Div:
    """How many components to show, and the spectrum."""
    return html.Div(
        className="view",
        children=[
            html.Div(className="controls", children=[labelled("components shown", number(COMPONENTS, 50, 1, 1))]),
            dcc.Loading(dcc.Graph(id=GRAPH, config={"displaylogo": False})),
        ],
    )


def spectrum_view(shown: list[tuple[int | str, RunHandle]], k):
    """PCA spectrum of the shown runs ((index or side, run) pairs: the first and every compared run), first ``k``."""
    k = whole(k, "components shown", 1, 65536)
    series = [
        {"name": run.name, "side": side, "ratio": plane_space.pca(run).explained_variance_ratio_[:k]}
        for side, run in shown
    ]
    return spectrum_figure(series)


def register(app, store, views) -> None:
    """Wire the spectrum."""

    @app.callback(
        Output(GRAPH, "figure"),
        Input(TABS, "value"),
        Input(RUN["a"], "value"),
        Input(COMPARE, "value"),
        Input(COMPONENTS, "value"),
        # A later tab's view computes when its tab is opened, never at page load.
        prevent_initial_call=True,
    )
    @guarded(lambda exc: message_figure(str(exc)))
    def _spectrum(tab, run_a, compare, k):
        if tab != TAB:
            return no_update
        return spectrum_view(open_compared(store, run_a, compare), k) if run_a else message_figure("no run selected")


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("spectrum", TAB, layout, register, REFUSALS)
