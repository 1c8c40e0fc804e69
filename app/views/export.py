"""Export the plane: every point of the current plane (row, id, x, y, colour, selected, filtered) as CSV or Parquet.

The same columns and formats as ``zspace export`` (:mod:`analysis.tables`): a
figure in a paper can be redrawn from the file. The file is built on the server
and sent through ``dcc.Download``; planes larger than :data:`MAX_EXPORT_POINTS`
are left to the command line.
"""

from __future__ import annotations

import base64

import numpy as np
from dash import Input, Output, State, ctx, dcc, html, no_update

from analysis import tables
from app import plane_space, subsets
from app.store import RunHandle
from app.validate import choice
from app.views import planes, selection
from app.views.parts import SIDES, NoRunSelected, guarded, ids, side_columns
from app.views.protocol import View
from rundir.errors import Refusal

TAB = "Planes"


class TooManyToExport(Refusal):
    """A plane with more points than one page export sends."""

    template = "more than {most:,} points to export ({count:,}): use `zspace export {run} --plane ... --out FILE`"


REFUSALS = (TooManyToExport, *subsets.REFUSALS, *plane_space.REFUSALS)

make = ids("export")
CSV = {s: make("csv", s) for s in SIDES}
PARQUET = {s: make("parquet", s) for s in SIDES}
DOWNLOAD = {s: make("download", s) for s in SIDES}
NOTE = {s: make("note", s) for s in SIDES}

#: Most points one page export sends (a file of a few tens of MB); beyond, `zspace export` writes it.
MAX_EXPORT_POINTS = 300_000


def layout() -> html.Div:
    """Per run: CSV and Parquet buttons and a line saying what was exported."""

    def side(s):
        return [
            html.Div(
                className="controls export-bar",
                children=[
                    html.Label("export this plane's points:"),
                    html.Button("CSV", id=CSV[s], n_clicks=0, className="button secondary"),
                    html.Button("Parquet", id=PARQUET[s], n_clicks=0, className="button secondary"),
                    html.Span(id=NOTE[s], className="note"),
                    dcc.Download(id=DOWNLOAD[s]),
                ],
            )
        ]

    return html.Div(side_columns(side), className="view export")


def plane_table(run: RunHandle, where: plane_space.Plane, colour, filter_state, chosen):
    """The export table of every point of a plane, with the colour column and the selected / filtered flags."""
    rows, xy = run.coords(where)
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) > MAX_EXPORT_POINTS:
        raise TooManyToExport(most=MAX_EXPORT_POINTS, count=len(rows), run=run.name)
    frame = run.metadata()
    image_ids = frame["id"].to_numpy()[rows] if "id" in frame.columns else rows
    values, label = planes.colour_values(run, colour)
    mask = subsets.filter_mask(run, filter_state)
    picked = np.zeros(run.n_points, dtype=bool)
    chosen = subsets.clean_selection(chosen)
    if chosen is not None:
        picked[selection.rows_here(run, chosen, filter_state)[0]] = True
    return tables.points_table(
        rows,
        image_ids,
        xy,
        colour=None if values is None else values[rows],
        colour_name=colour if values is not None else None,
        selected=picked[rows],
        filtered=np.ones(len(rows), bool) if mask is None else mask[rows],
    )


def export_file(run: RunHandle, where, colour, filter_state, chosen, fmt: str) -> tuple[dict, str]:
    """The ``dcc.Download`` value for the plane's table in ``fmt`` ("csv" / "parquet"), and a note."""
    fmt = choice(fmt, "format", tuple(tables.FORMATS.values()))
    table = plane_table(run, where, colour, filter_state, chosen)
    name = f"{run.name}-{where.key().replace(':', '-')}.{fmt}"
    payload = base64.b64encode(tables.table_bytes(table, fmt)).decode("ascii")
    download = {"content": payload, "filename": name, "base64": True, "type": tables.MEDIA_TYPES[fmt]}
    return download, f"{name}: {len(table):,} points"


def register(app, store, views) -> None:
    """Wire the export buttons of both sides."""
    for side in SIDES:

        @app.callback(
            Output(DOWNLOAD[side], "data"),
            Output(NOTE[side], "children"),
            inputs={
                "clicks": [Input(CSV[side], "n_clicks"), Input(PARQUET[side], "n_clicks")],
                "request": planes.PlaneRequest.dependencies(side),
                "chosen": State(selection.SELECTION, "data"),
            },
            prevent_initial_call=True,
        )
        @guarded(lambda exc: (no_update, str(exc)))
        def _export(clicks, request, chosen, side=side):
            request = planes.PlaneRequest.of(side, request)
            run = request.open(store)
            if run is None:
                raise NoRunSelected()
            fmt = "parquet" if ctx.triggered_id == PARQUET[side] else "csv"
            return export_file(run, request.plane(run), request.colour, request.filter_state, chosen, fmt)


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("export", TAB, layout, register, REFUSALS)
