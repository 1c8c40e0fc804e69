"""A plane's viewport: what a plot's relayout report means, and which x / y ranges a drawing shows.

Pure (no Dash, no component ids): :func:`app.views.planes.classify` turns what
changed in the browser into an :class:`Event`, and :func:`frame` decides the
ranges, the figure's ui revision and which link zoom was shown, for every
event in one place.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.subsets import MAX_COORDINATE
from app.validate import finite
from rundir.errors import Refusal, ZspaceError


class Change(enum.Enum):
    """What a plane callback was called for."""

    REDRAW = "redraw"  # the plane, its colour, the filter, an overlay or the runs changed
    ZOOM = "zoom"  # a zoom or pan in the plot (its ranges in Event.zoom)
    RESET = "reset"  # "whole plane", or a double click (autoscale) in the plot
    SQUARE = "square"  # the square control's "go"
    RESTORE = "restore"  # a shared link's zoom arrived
    NOISE = "noise"  # a relayout that changes nothing shown: a resize, a selection outline, the first autosize


@dataclass(frozen=True)
class Event:
    """A classified change: its kind and, for a zoom, the (x, y) ranges the plot reported."""

    change: Change
    zoom: tuple[list[float], list[float]] | None = None


@dataclass(frozen=True)
class Frame:
    """What a drawing shows: x / y ranges, the plot's ui revision, and the link zoom shown so far (or None)."""

    x_range: list[float]
    y_range: list[float]
    revision: str
    restored: dict | None


class UnusableLinkZoom(Refusal):
    """A link's zoom that is not an x range and a y range of some width."""

    template = "link zoom must be {what}"


def relayout_range(relayout) -> tuple[list[float], list[float]] | None:
    """The (x, y) ranges a zoom or pan reported in ``relayoutData``; None if it reported none."""
    if not isinstance(relayout, dict):
        return None
    if "xaxis.range[0]" in relayout and "yaxis.range[0]" in relayout:
        x = [relayout.get("xaxis.range[0]"), relayout.get("xaxis.range[1]")]
        y = [relayout.get("yaxis.range[0]"), relayout.get("yaxis.range[1]")]
    elif isinstance(relayout.get("xaxis.range"), list) and isinstance(relayout.get("yaxis.range"), list):
        x, y = relayout["xaxis.range"], relayout["yaxis.range"]
    else:
        return None
    if len(x) != 2 or len(y) != 2:
        return None
    try:
        return _checked(x, "zoom range"), _checked(y, "zoom range")
    except ZspaceError:  # an unusable zoom report is ignored like an autosize event
        return None


def relayout_event(relayout) -> Event:
    """The event a plot's own ``relayoutData`` stands for: a zoom, an autoscale (reset), or noise."""
    zoom = relayout_range(relayout)
    if zoom is not None:
        return Event(Change.ZOOM, zoom)
    if isinstance(relayout, dict) and any("autorange" in str(key) for key in relayout):
        return Event(Change.RESET)
    return Event(Change.NOISE)


def restored_range(restore) -> tuple[list[float], list[float]]:
    """The (x, y) ranges of a zoom to restore (``{"x": [x0, x1], "y": [y0, y1]}``), checked like the square's."""
    if not isinstance(restore, dict) or not all(isinstance(restore.get(k), list) for k in "xy"):
        raise UnusableLinkZoom(what="an x range and a y range")
    x, y = restore["x"][:3], restore["y"][:3]
    if len(x) != 2 or len(y) != 2:
        raise UnusableLinkZoom(what="an x range and a y range")
    x, y = _checked(x, "link zoom"), _checked(y, "link zoom")
    if x[0] == x[1] or y[0] == y[1]:
        raise UnusableLinkZoom(what="a range of some width")
    return x, y


def square_range(square) -> tuple[list[float], list[float]]:
    """The (x, y) ranges of the square control's (centre x, centre y, side)."""
    half = finite(square[2], "square side", 1e-6, MAX_COORDINATE) / 2
    cx = finite(square[0], "square centre x", -MAX_COORDINATE, MAX_COORDINATE)
    cy = finite(square[1], "square centre y", -MAX_COORDINATE, MAX_COORDINATE)
    return [cx - half, cx + half], [cy - half, cy + half]


def _checked(values, name: str) -> list[float]:
    return sorted(finite(v, name, -MAX_COORDINATE, MAX_COORDINATE) for v in values)


def _kept(view) -> tuple[list[float], list[float]] | None:
    # The user's view of the same plane, kept across a colour change (or a new map listing).
    if isinstance(view.get("x"), list) and isinstance(view.get("y"), list):
        bound = (-MAX_COORDINATE, MAX_COORDINATE)
        return [finite(v, "view", *bound) for v in view["x"][:2]], [finite(v, "view", *bound) for v in view["y"][:2]]
    return None


def frame(event: Event, whole: tuple, key: str, view, square=None, restore=None) -> Frame:
    """The ranges a drawing of plane ``key`` shows for ``event``.

    Parameters
    ----------
    whole : (x range, y range)
        The whole plane's frame (used when nothing else applies).
    view : dict or None
        The side's previous view JSON (plane key, ranges, revision, the link zoom shown).
    square : (x, y, side), optional
        The square control's values, used for :attr:`Change.SQUARE`.
    restore : dict, optional
        A link's zoom: shown when it arrives, or by the next drawing if that one was superseded.
    """
    view = view if isinstance(view, dict) else {}
    same_plane = view.get("key") == key
    restored = view.get("restored")
    ranges = whole
    if event.change is Change.SQUARE:
        ranges = square_range(square)
    elif restore is not None and (event.change is Change.RESTORE or restore != restored):
        ranges, restored = restored_range(restore), restore
    elif event.change is Change.ZOOM:
        ranges = event.zoom
    elif event.change is not Change.RESET and same_plane:
        ranges = _kept(view) or whole
    x_range, y_range = ranges
    # A zoom answer keeps the revision (the browser already shows that range); anything else moves the view.
    if event.change is Change.ZOOM and same_plane:
        revision = str(view.get("rev"))
    else:
        revision = f"{key}|{x_range[0]:.6g}|{x_range[1]:.6g}|{y_range[0]:.6g}|{y_range[1]:.6g}"
    return Frame(list(map(float, x_range)), list(map(float, y_range)), revision, restored)


def count_text(
    shown: int, inside: int, total: int, over_budget: bool, budget: int, mapped: int | None, kept: int | None = None
) -> str:
    """The always-visible shown / total line; it says so whenever fewer points are drawn than exist.

    ``kept`` is how many rows the metadata filter keeps (None: no filter); only those are drawn.
    """
    if over_budget:
        text = (
            f"{inside:,} points in view, more than the {budget:,}-point budget: showing their density — "
            f"zoom in to see single points · {total:,} total"
        )
    else:
        text = f"showing {shown:,} of {total:,} points ({inside:,} in view)"
    if kept is not None:
        text += f" · the filter keeps {kept:,} of {total:,}"
    if mapped is not None:
        text += f" · the map holds {mapped:,} of them"
    return text
