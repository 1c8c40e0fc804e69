"""What the decode instruments (paths, neighbours, attributes, traversals) share; not a view itself.

Each instrument acts on data rows, and row ids are the same in every run of one
data source (both models encode the same images), so "the same two images in
the other model" is the same row ids in the compared run. A row box of an
instrument follows the point last clicked on either side's plane
(``decode.SELECTED``) and can also be typed.
"""

from __future__ import annotations

import numpy as np
from dash import Input, Output, ctx, html, no_update

from app.images import strip, to_data_uri
from app.store import MAX_SAMPLES, RunHandle
from app.validate import whole
from app.views import decode

#: Fewest and most steps of a strip (both ends included); the most is what one decode call may hold.
MIN_STEPS, MAX_STEPS = 2, MAX_SAMPLES


def steps_of(value) -> int:
    """The number of steps a browser asked for, validated (2..64)."""
    return whole(value, "steps", MIN_STEPS, MAX_STEPS)


def row_of(run: RunHandle, value, name: str = "row") -> int:
    """A row id from the browser, validated against the run's points."""
    return whole(value, name, 0, run.n_points - 1)


def clicked_row(selected):
    """The row of a ``decode.SELECTED`` value (``{"run", "row"}``), or ``no_update`` when it holds none."""
    row = selected.get("row") if isinstance(selected, dict) else None
    if isinstance(row, int) and not isinstance(row, bool) and row >= 0:
        return row
    return no_update


def follow_clicked_rows(app, row_box: str) -> None:
    """Wire ``row_box`` (a row input) to follow the point last clicked on either side's plane."""

    @app.callback(
        Output(row_box, "value"),
        Input(decode.SELECTED["a"], "data"),
        Input(decode.SELECTED["b"], "data"),
        prevent_initial_call=True,
    )
    def _follow(selected_a, selected_b):
        return clicked_row(selected_a if ctx.triggered_id == decode.SELECTED["a"] else selected_b)


def base_point(run: RunHandle, row) -> tuple[np.ndarray, str]:
    """The z a traversal or walk starts from: data row ``row``, or the data mean when no row is given."""
    if row is None or row == "":
        from app import plane_space

        return np.asarray(plane_space.pca(run).mean_, dtype=np.float64), "the mean of the data"
    index = row_of(run, row)
    return np.asarray(run.z()[index], dtype=np.float64), f"point {index}"


def tiles(images, captions, css: str = "tile step") -> list:
    """One captioned ``img.face`` per image, in order."""
    return [
        html.Figure([html.Img(src=to_data_uri(image), className="face"), html.Figcaption(caption)], className=css)
        for image, caption in zip(images, captions, strict=True)
    ]


def strip_row(label: str, images, captions, filename: str) -> html.Div:
    """A labelled row of tiles with a link that downloads them as one strip PNG (:func:`app.images.strip`)."""
    link = html.A("download strip (PNG)", href=to_data_uri(strip(images)), download=filename, className="note")
    return html.Div(
        [
            html.Div([html.Strong(label), " ", link], className="strip-label"),
            html.Div(tiles(images, captions), className="strip"),
        ],
        className="strip-row",
    )
