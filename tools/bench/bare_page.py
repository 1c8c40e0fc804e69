"""The baseline of ``zspace bench page``: a bare Dash page drawing the dashboard's two opening plane figures.

Mounted at :data:`PATH` on the dashboard's own Flask server (so the same
process, compression and run store answer both): its layout is two graphs and
its two callbacks return the very figures the dashboard's planes draw for the
runs a page opens with (:func:`app.views.planes.update_plane`), at a fixed width.
``tools.bench.page_server:server`` is the dashboard with it, for gunicorn.
"""

from __future__ import annotations

import dash
from dash import Input, Output, dcc, html

from app.page import opening_runs
from app.viewport import Change, Event
from app.views.parts import SIDES
from app.views.planes import PlaneRequest, update_plane

#: Where the bare page is served.
PATH = "/bare/"
#: Its graphs' ids, per side.
GRAPH = {side: f"bare-{side}" for side in SIDES}
#: The plot width (px) its figures are built for (a density raster has a cell per pixel).
WIDTH = 640


def attach(server, store) -> dash.Dash:
    """Serve the bare page at :data:`PATH` of ``server`` (the dashboard's Flask server, its run ``store``)."""
    bare = dash.Dash(__name__, server=server, url_base_pathname=PATH, title="bare", update_title=None)
    bare.layout = html.Div([dcc.Graph(id=GRAPH[side]) for side in SIDES])
    for side in SIDES:

        @bare.callback(Output(GRAPH[side], "figure"), Input(GRAPH[side], "id"))
        def _draw(_id, side=side):
            run_a, run_b = opening_runs(store.runs())
            request = PlaneRequest(side, run_a, run_b, width=WIDTH)
            figure, _, _ = update_plane(request.open(store), request, Event(Change.REDRAW))
            return figure

    return bare
