"""Neighbours: the k nearest data points of the selected point in full z-space, shown as images and ringed on the plane.

The tiles show the data's original images (what the points are); a toggle shows
the decoder's reconstructions instead (what the model makes of them). A point
whose original is not available (z-points imported alone, a file gone) shows its
reconstruction, and its caption says so.

With a compared run the same image's neighbours in the other model are shown
beside them, with the overlap of the two sets (Jaccard): how far the two models
agree about what lies close to this image. The two runs are matched by image id
(the row box holds a row of the first run shown), so their row orders may differ;
the overlap counts the same images, and a run without the image says so.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from dash import Input, Output, dcc, html

from app import plane_space, subsets
from app.store import RunHandle
from app.validate import choice, row_list, whole
from app.views import filters, instruments
from app.views.instruments import follow_clicked_rows, row_in, row_of, tiles
from app.views.parts import RUN, SIDES, error_box, guarded, ids, labelled, number, open_shown, side_columns
from app.views.paths import PATH_COLOUR
from app.views.protocol import Overlay, View
from rundir.errors import ZspaceError

TAB = "Planes"
REFUSALS = (subsets.FilterKeepsNoRows, *subsets.REFUSALS, *instruments.REFUSALS)

make = ids("neighbours")
ROW, K, OVERLAP, HIGHLIGHT = make("row"), make("k"), make("overlap"), make("highlight")
ROW_NOTE, SHOW = make("row-note"), make("show")
TITLE = {s: make("title", s) for s in SIDES}
TILES = {s: make("tiles", s) for s in SIDES}

#: Most neighbours a request may ask for (each is decoded; with the query that is at most 33 images per run).
MAX_NEIGHBOURS = 32
HINT = "click a point on a plane (or type its row) to see its nearest data points"
#: What the tiles show: the data's original images (the default) or the decoder's reconstructions.
SHOW_CHOICES = {"originals": "original images", "reconstructions": "reconstructions"}


def layout() -> html.Div:
    """The point and k, the overlap line, then per run the neighbours' images."""
    controls = html.Div(
        className="controls",
        children=[
            html.H4("nearest neighbours in full z-space"),
            labelled("of point (row)", number(ROW, None, 1, 0, width="7em")),
            html.Span(id=ROW_NOTE, className="error-note"),
            labelled("k", number(K, 8, 1, 1, MAX_NEIGHBOURS)),
            labelled(
                "show",
                dcc.RadioItems(
                    id=SHOW,
                    options=[{"label": label, "value": value} for value, label in SHOW_CHOICES.items()],
                    value="originals",
                    inline=True,
                ),
            ),
            html.Div(HINT, id=OVERLAP, className="note"),
        ],
    )

    def side(s):
        return [html.Div(id=TITLE[s], className="note"), dcc.Loading(html.Div(id=TILES[s], className="strip"))]

    return html.Div([controls, side_columns(side), dcc.Store(id=HIGHLIGHT)], className="view neighbours")


def neighbours_of(run: RunHandle, row: int, k: int, among=None) -> tuple[np.ndarray, np.ndarray]:
    """(distances, rows) of the ``k`` nearest *other* data points of data row ``row``, nearest first.

    ``among``: only these rows are candidates (the rows the metadata filter keeps); default all.
    """
    from analysis.walks import nearest_rows

    z = run.z()
    if among is not None:
        among = np.asarray(among)[np.asarray(among) != row]
        if len(among) == 0:
            raise subsets.FilterKeepsNoRows(rows="other rows", run=run.name, consequence="no neighbours to show")
    k = min(k, (len(z) if among is None else len(among) + 1) - 1)
    distances, rows = nearest_rows(z, z[row], k=k, exclude=row, rows=among, sq_norms=run.sq_norms())
    return distances[0], rows[0]


def tile_images(run: RunHandle, rows: list[int], captions: list[str], show) -> tuple[list | None, list[str], str]:
    """The images of ``rows`` as ``show`` asks (:data:`SHOW_CHOICES`), their captions, and what the tiles show.

    Originals that are not available are replaced by the row's reconstruction, and its caption says so;
    a run without a decoder shows captions alone where no original is there.
    """
    show = choice(show or "originals", "show", tuple(SHOW_CHOICES))
    if show == "reconstructions":
        decoded = run.decode_or_none(run.z()[np.asarray(rows)])
        return decoded, captions, "reconstructions" if decoded is not None else "no decoder: no images"
    originals = [run.original(r) for r in rows]
    missing = [i for i, image in enumerate(originals) if image is None]
    if not missing:
        return originals, captions, "original images"
    images, captions, decoded = _reconstructions_for(run, rows, originals, captions, missing)
    if len(missing) < len(rows):
        return images, captions, f"original images ({len(missing)} not available)"
    if not decoded:
        return None, captions, "no original images and no decoder: no images"
    return images, captions, "reconstructions (the run's original images are not available)"


def _reconstructions_for(run: RunHandle, rows, originals, captions, missing) -> tuple[list, list[str], bool]:
    # The tiles in ``missing`` get the row's reconstruction (or nothing without a decoder) and say so.
    decoded = run.decode_or_none(run.z()[np.asarray(rows)])
    images, captions = list(originals), list(captions)
    for i in missing:
        images[i] = None if decoded is None else decoded[i]
        captions[i] += " · no original" + ("" if decoded is None else ", reconstruction")
    return images, captions, decoded is not None


def neighbour_view(
    shown: list[tuple[str, RunHandle]], row, k, filter_state=None, show="originals"
) -> tuple[dict, dict, str, dict]:
    """Per side: (title, tiles); the overlap line; the highlight JSON for the planes.

    ``shown``: (side, run) of each side that shows a run (:func:`app.views.parts.open_shown`); ``row``
    is a row of the first, and each run shows the neighbours of the same image (matched by id; a run
    without it says so in its title). With a metadata filter, neighbours are searched among the rows it keeps.
    ``show``: the data's original images or the decoder's reconstructions (:data:`SHOW_CHOICES`).

    Returns
    -------
    titles, tiles : dict side -> value
    overlap : str
    highlight : dict side -> ``{"run", "row", "rows"}``
    """
    if row is None or row == "" or not shown:
        return {}, {}, HINT, {}
    k = whole(k, "k", 1, MAX_NEIGHBOURS)
    reference = shown[0][1]
    row = row_of(reference, row)
    titles, shown_tiles, highlight, found = {}, {}, {}, {}
    for side, run in shown:
        try:
            index = row_in(run, row, reference)
        except instruments.ImageNotInRun as missing:
            titles[side], shown_tiles[side] = str(missing), []
            continue
        among = subsets.filter_rows(run, filter_state)
        distances, rows = neighbours_of(run, index, k, among)
        captions = [f"point {index} (selected)"] + [f"{r} · d {d:.3f}" for r, d in zip(rows, distances, strict=True)]
        images, captions, shows = tile_images(run, [index, *rows.tolist()], captions, show)
        model = str(run.config.get("model", "")).upper()
        kept = "" if among is None else f" among the {len(among):,} rows the filter keeps"
        titles[side] = f"{run.name} ({model}): the {len(rows)} nearest data points of point {index}{kept} · {shows}"
        shown_tiles[side] = tiles(images, captions, css="tile neighbour")
        highlight[side] = {"run": run.name, "row": index, "rows": [int(r) for r in rows]}
        found[side] = (run, rows)
    return titles, shown_tiles, overlap_line(found, reference, row), highlight


def as_reference_rows(run: RunHandle, rows, reference: RunHandle) -> np.ndarray:
    """``run``'s rows as the reference run's rows of the same images; an image it lacks gets a negative number
    of its own (it counts as different from every other)."""
    mapped = subsets.matched_rows(rows, run, reference)
    missing = mapped < 0
    mapped[missing] = -1 - np.flatnonzero(missing)
    return mapped


def overlap_line(found: dict, reference: RunHandle, row: int) -> str:
    """How many of the nearest neighbours two runs share (the same images, Jaccard), or what one run found."""
    if not found:
        return ""
    if len(found) == 2:
        from analysis.walks import jaccard

        first, second = (as_reference_rows(run, rows, reference) for run, rows in found.values())
        shared = len(set(first.tolist()) & set(second.tolist()))
        return (
            f"the two models share {shared} of the {len(first)} nearest neighbours of point {row} "
            f"(Jaccard {jaccard(first, second):.2f})"
        )
    count = len(next(iter(found.values()))[1])
    return f"the {count} nearest data points of point {row}, by distance in full z-space"


def overlay_inputs(side: str) -> list:
    """The highlight JSON: new neighbours redraw the plane with them marked."""
    return [Input(HIGHLIGHT, "data")]


def overlay(run: RunHandle, where: plane_space.Plane, side: str, highlight) -> list:
    """The selected point and its neighbours ringed on the plane (on a map: those the map holds)."""
    entry = highlight.get(side) if isinstance(highlight, dict) else None
    if not isinstance(entry, dict) or entry.get("run") != run.name:
        return []
    try:
        rows = row_list(entry.get("rows"), "neighbours", run.n_points, MAX_NEIGHBOURS)
        centre = row_of(run, entry.get("row"))
        ids_, xy = run.coords(where)
    except ZspaceError:  # a stale or odd highlight draws nothing; the neighbours view says what is wrong
        return []
    on_plane = np.isin(ids_, rows)
    centre_at = np.flatnonzero(ids_ == centre)
    ring = {"size": 12, "color": "rgba(0,0,0,0)", "line": {"color": PATH_COLOUR, "width": 2}, "symbol": "circle"}
    traces = [
        go.Scattergl(
            x=xy[on_plane, 0],
            y=xy[on_plane, 1],
            customdata=ids_[on_plane].astype(np.int32),
            mode="markers",
            marker=ring,
            hovertemplate="neighbour · id %{customdata}<extra></extra>",
            name="neighbours",
        )
    ]
    if len(centre_at):
        traces.append(
            go.Scattergl(
                x=xy[centre_at, 0],
                y=xy[centre_at, 1],
                mode="markers",
                marker={"size": 14, "color": PATH_COLOUR, "symbol": "star"},
                hoverinfo="skip",
                name="selected point",
            )
        )
    return traces


def register(app, store, views) -> None:
    """Wire the row box to the last clicked point, and the neighbours of each run."""

    follow_clicked_rows(app, store, ROW, ROW_NOTE)

    def refused(exc):
        return (error_box(exc), "", "", "", "", {})

    @app.callback(
        Output(TILES["a"], "children"),
        Output(TILES["b"], "children"),
        Output(TITLE["a"], "children"),
        Output(TITLE["b"], "children"),
        Output(OVERLAP, "children"),
        Output(HIGHLIGHT, "data"),
        Input(RUN["a"], "value"),
        Input(RUN["b"], "value"),
        Input(ROW, "value"),
        Input(K, "value"),
        Input(filters.FILTER, "data"),
        Input(SHOW, "value"),
        # Nothing is selected when the page opens (and the plane need not wait for an empty highlight).
        prevent_initial_call=True,
    )
    @guarded(refused)
    def _neighbours(run_a, run_b, row, k, filter_state, show):
        shown = open_shown(store, run_a, run_b) if row not in (None, "") else []
        titles, shown_tiles, overlap, highlight = neighbour_view(shown, row, k, filter_state, show)
        return (
            shown_tiles.get("a", []),
            shown_tiles.get("b", []),
            titles.get("a", ""),
            titles.get("b", ""),
            overlap,
            highlight,
        )


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("neighbours", TAB, layout, register, REFUSALS, overlay=Overlay(overlay_inputs, overlay))
