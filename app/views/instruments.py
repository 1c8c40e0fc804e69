"""What the decode instruments (paths, neighbours, attributes, traversals) share; not a view itself.

Each instrument acts on data rows. A row box holds a row of the *reference run*
(the first run shown, :func:`reference_run`); a compared run shows the same image,
found by its metadata ``id`` (:func:`app.subsets.matched_rows`), so two runs of
the same images in different row orders, or sharing only part of them, compare
correctly, and a side whose run lacks the image says so (:class:`ImageNotInRun`).
A row box follows the point last clicked on either side's plane
(``decode.SELECTED``), mapped to the reference run, and can also be typed.

A run without a decoder (z-points imported alone) shows every number an
instrument measures, without images: :func:`tiles` and :func:`strip_row` take
``None`` for the images, and the decode view says once that the run has no decoder.
"""

from __future__ import annotations

import numpy as np
from dash import Input, Output, State, ctx, html, no_update

from app import subsets
from app.images import strip, to_data_uri
from app.store import MAX_SAMPLES, RunHandle, RunStore
from app.validate import whole
from app.views import decode
from app.views.parts import RUN, shown_runs
from rundir.errors import ZspaceError

#: Fewest and most steps of a strip (both ends included); the most is what one decode call may hold.
MIN_STEPS, MAX_STEPS = 2, MAX_SAMPLES


def steps_of(value) -> int:
    """The number of steps a browser asked for, validated (2..64)."""
    return whole(value, "steps", MIN_STEPS, MAX_STEPS)


def row_of(run: RunHandle, value, name: str = "row") -> int:
    """A row id from the browser, validated against the run's points."""
    return whole(value, name, 0, run.n_points - 1)


#: A compared run lacks the image a row box names: one refusal, shared with the decode view's mirrored click.
ImageNotInRun = decode.ImageNotInRun
#: Refusals of the row boxes (the instruments list these in their ``View.refusals``).
REFUSALS = (ImageNotInRun,)


def reference_run(store: RunStore, run_a, run_b) -> RunHandle | None:
    """The run whose rows the row boxes hold: the first run shown (None when none is)."""
    shown = shown_runs(run_a, run_b)
    return store.open(shown[0][1]) if shown else None


def row_in(run: RunHandle, value, reference: RunHandle | None = None, name: str = "row") -> int:
    """The row of ``run`` that holds the image at row ``value`` of ``reference`` (default: ``run`` itself).

    Raises
    ------
    ImageNotInRun
        ``run`` does not hold that image.
    """
    if reference is None or reference.name == run.name:
        return row_of(run, value, name)
    row = row_of(reference, value, name)
    found = int(subsets.matched_rows([row], reference, run)[0])
    if found < 0:
        raise ImageNotInRun(run=run.name, image=subsets.image_label(reference, row), row=row, source=reference.name)
    return found


def clicked_row(selected):
    """The row of a ``decode.SELECTED`` value (``{"run", "row"}``), or ``no_update`` when it holds none."""
    row = selected.get("row") if isinstance(selected, dict) else None
    if isinstance(row, int) and not isinstance(row, bool) and row >= 0:
        return row
    return no_update


def reference_row(reference: RunHandle | None, selected) -> int:
    """The reference run's row of a clicked point (``{"run", "row"}`` of either side), matched by image id.

    Raises
    ------
    ImageNotInRun
        The reference run does not hold the clicked image.
    """
    row = clicked_row(selected)
    if row is no_update or reference is None or selected.get("run") in (None, reference.name):
        return row
    clicked_on = reference.sibling(selected["run"])
    return row_in(reference, row_of(clicked_on, row), clicked_on)


def follow_clicked_rows(app, store: RunStore, row_box: str, note: str) -> None:
    """Wire ``row_box`` (a row input) to follow the point last clicked on either side's plane.

    A point clicked on the compared run's plane becomes the reference run's row of
    the same image; when the reference run does not hold it, the box stays and
    ``note`` says so in one line (cleared by the next click that sets the box).
    """

    @app.callback(
        Output(row_box, "value"),
        Output(note, "children"),
        Input(decode.SELECTED["a"], "data"),
        Input(decode.SELECTED["b"], "data"),
        State(RUN["a"], "value"),
        State(RUN["b"], "value"),
        prevent_initial_call=True,
    )
    def _follow(selected_a, selected_b, run_a, run_b):
        selected = selected_a if ctx.triggered_id == decode.SELECTED["a"] else selected_b
        return followed_row(store, selected, run_a, run_b)


def followed_row(store: RunStore, selected, run_a, run_b) -> tuple:
    """The row box's value and note after a click (``decode.SELECTED`` of either side).

    The reference run's row of the clicked image and no note; or the box unchanged and
    one line when the reference run does not hold that image.
    """
    try:
        return reference_row(reference_run(store, run_a, run_b), selected), ""
    except ImageNotInRun as missing:
        return no_update, str(missing)
    except ZspaceError:  # a run gone since the click: nothing to follow
        return no_update, no_update


def base_point(run: RunHandle, row, reference: RunHandle | None = None) -> tuple[np.ndarray, str]:
    """The z a traversal or walk starts from: the image at ``reference``'s row ``row`` (see :func:`row_in`),
    or the data mean when no row is given."""
    if row is None or row == "":
        from app import plane_space

        return np.asarray(plane_space.pca(run).mean_, dtype=np.float64), "the mean of the data"
    index = row_in(run, row, reference)
    return np.asarray(run.z()[index], dtype=np.float64), f"point {index}"


def tiles(images, captions, css: str = "tile step") -> list:
    """One captioned ``img.face`` per image, in order; the caption alone where the image is None, and for
    every caption when ``images`` is None (no decoder)."""
    if images is None:
        images = [None] * len(captions)

    def tile(image, caption):
        if image is None:
            return html.Figure([html.Figcaption(caption)], className=f"{css} no-image")
        return html.Figure(
            [html.Img(src=to_data_uri(image), className="face"), html.Figcaption(caption)], className=css
        )

    return [tile(image, caption) for image, caption in zip(images, captions, strict=True)]


def strip_row(label: str, images, captions, filename: str) -> html.Div:
    """A labelled row of tiles with a link that downloads them as one strip PNG (:func:`app.images.strip`).

    ``images`` None (a run without a decoder): the captions alone, no link.
    """
    heading = [html.Strong(label)]
    if images is not None:
        heading += [
            " ",
            html.A("download strip (PNG)", href=to_data_uri(strip(images)), download=filename, className="note"),
        ]
    return html.Div(
        [html.Div(heading, className="strip-label"), html.Div(tiles(images, captions), className="strip")],
        className="strip-row",
    )
