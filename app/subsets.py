"""Row subsets every view shares: the metadata filter and the box / lasso selection, computed on the server.

The browser holds only small JSON (see :func:`clean_filter` and
:func:`clean_selection`): a filter is its text (and optionally a selection it
keeps), a selection is the shapes drawn on one run's plane. The row masks are
recomputed here and memoised through the run's handle, never sent to the browser.

Views that act on rows (sampling, paths, neighbours, export) call
:func:`filter_rows` (or :func:`filter_mask`) with the run and the filter view's store value;
linked views map a selection's rows to the compared run with :func:`linked_rows`, and the
instruments a row with :func:`matched_rows`: runs of the same images are matched by the
metadata's ``id``, whatever their row order, and may share only part of their images.
"""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pandas as pd  # imported with the app, before requests: a first import racing in two threads breaks plotly

from analysis import regions, table_filter
from app import plane_space
from app.memo import MemoKey
from app.store import RunHandle
from app.validate import choice, finite, whole
from rundir.errors import Refusal

#: Most a plane coordinate (a zoom, a square, a selection's corner) may reach from the origin.
MAX_COORDINATE = 1e6
#: Most shapes one selection holds (shift-drag adds shapes) and most vertices kept of a lasso.
MAX_SHAPES = 8
MAX_VERTICES = 400
#: Longest lasso path text accepted from the browser (a drag of thousands of mouse moves is thinned first).
MAX_PATH_CHARS = 400_000


class MalformedSelection(Refusal):
    """A selection from the browser that is not one this page could have drawn."""

    template = "selection is malformed: {why}"


class ShortLasso(Refusal):
    """A lasso of fewer than three points."""

    template = "a lasso needs at least 3 points"


class MalformedFilter(Refusal):
    """A filter from the browser that is not an expression and an optional selection."""

    template = "filter is malformed: {why}"


class FilterKeepsNoRows(Refusal):
    """A filter that leaves an instrument nothing to work on."""

    template = "the filter keeps no {rows} of {run}: {consequence}"


#: Refusals of this module (the views that show them list these in their ``View.refusals``).
REFUSALS = (MalformedSelection, ShortLasso, MalformedFilter, table_filter.FilterError)

_PATH_POINT = re.compile(r"[ML]\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)")


def digest(value) -> str:
    """A short stable hash of a JSON value (cache keys, plot revisions)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


# -- selection ---------------------------------------------------------------------------------
def _coordinates(values, name: str, least: int, most: int) -> list[float]:
    if not isinstance(values, list) or not least <= len(values) <= most:
        raise MalformedSelection(why=f"{name} must hold {least} to {most} numbers")
    return [finite(v, f"selection {name}", -MAX_COORDINATE, MAX_COORDINATE) for v in values]


def _thinned(x: list[float], y: list[float]) -> tuple[list[float], list[float]]:
    # A long freehand lasso keeps evenly spaced vertices: the shape barely changes, the work stays bounded.
    if len(x) <= MAX_VERTICES:
        return x, y
    keep = np.linspace(0, len(x) - 1, MAX_VERTICES).round().astype(int)
    return [x[k] for k in keep], [y[k] for k in keep]


def clean_plane_spec(spec) -> dict:
    """A plane as the selection stores it (``{"kind", "i", "j", "map", "units"}``: the plane controls' values), checked."""
    if not isinstance(spec, dict):
        raise MalformedSelection(why="it names no plane")
    kind = choice(spec.get("kind"), "selection plane", plane_space.PLANE_KINDS)
    map_key = spec.get("map")
    if map_key is not None and (not isinstance(map_key, str) or len(map_key) > 100):
        raise MalformedSelection(why="map must be a short name")
    i = 0 if spec.get("i") is None else whole(spec.get("i"), "selection plane x", 0, 1_000_000)
    j = 1 if spec.get("j") is None else whole(spec.get("j"), "selection plane y", 0, 1_000_000)
    units = choice(spec.get("units") or "z", "selection plane units", tuple(plane_space.UNITS_LABELS))
    return {"kind": kind, "i": i, "j": j, "map": map_key, "units": units}


def clean_selection(value) -> dict | None:
    """A selection from the browser, validated: None, or ``{"run", "plane", "shapes"}``.

    ``shapes`` is a list of ``{"kind": "box" | "lasso", "x": [...], "y": [...]}``
    in the plane's coordinates (a box: two x and two y; a lasso: its vertices).
    """
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("run"), str) or len(value["run"]) > 200:
        raise MalformedSelection(why="it names no run")
    shapes = value.get("shapes")
    if not isinstance(shapes, list) or not 1 <= len(shapes) <= MAX_SHAPES:
        raise MalformedSelection(why=f"it must hold 1 to {MAX_SHAPES} shapes")
    cleaned = []
    for shape in shapes:
        if not isinstance(shape, dict):
            raise MalformedSelection(why="a shape is not a box or a lasso")
        kind = choice(shape.get("kind"), "selection shape", regions.KINDS)
        least, most = (2, 2) if kind == "box" else (3, MAX_VERTICES)
        x, y = _coordinates(shape.get("x"), "x", least, most), _coordinates(shape.get("y"), "y", least, most)
        if len(x) != len(y):
            raise MalformedSelection(why="x and y differ in length")
        cleaned.append({"kind": kind, "x": x, "y": y})
    return {"run": value["run"], "plane": clean_plane_spec(value.get("plane")), "shapes": cleaned}


def shapes_from_relayout(relayout) -> list[dict] | None:
    """The shapes of a box / lasso selection reported in a plot's ``relayoutData`` (``selections``).

    Returns None when the event is not about selections (a zoom, a resize), and
    an empty list when the selection was cleared (a double click in select mode).
    Plotly reports a selection as its outline, so the browser never sends the ids
    of the points inside, however many there are.
    """
    if not isinstance(relayout, dict) or "selections" not in relayout:
        return None
    drawn = relayout["selections"]
    if not isinstance(drawn, list) or len(drawn) > MAX_SHAPES:
        raise MalformedSelection(why=f"it must hold at most {MAX_SHAPES} shapes")
    return [_drawn_shape(item) for item in drawn]


def _drawn_shape(item) -> dict:
    # One outline plotly reports: a box ("rect") or a lasso ("path", an SVG path of M / L points).
    if isinstance(item, dict) and item.get("type") == "rect":
        x = _coordinates([item.get("x0"), item.get("x1")], "x", 2, 2)
        y = _coordinates([item.get("y0"), item.get("y1")], "y", 2, 2)
        return {"kind": "box", "x": sorted(x), "y": sorted(y)}
    if not isinstance(item, dict) or item.get("type") != "path" or not isinstance(item.get("path"), str):
        raise MalformedSelection(why="a shape is not a box or a lasso")
    if len(item["path"]) > MAX_PATH_CHARS:
        raise MalformedSelection(why=f"a lasso path longer than {MAX_PATH_CHARS:,} characters")
    pairs = _PATH_POINT.findall(item["path"])
    if len(pairs) < 3:
        raise ShortLasso()
    x, y = _thinned([p[0] for p in pairs], [p[1] for p in pairs])
    return {"kind": "lasso", "x": _coordinates(x, "x", 3, MAX_VERTICES), "y": _coordinates(y, "y", 3, MAX_VERTICES)}


def drawn_on(run: RunHandle, selection: dict) -> RunHandle:
    """The run a (cleaned) selection was drawn on, opened from ``run`` or any other run of the same folder."""
    return run.sibling(selection["run"])


def selection_plane(run: RunHandle, selection: dict) -> plane_space.Plane:
    """The validated plane a selection was drawn on (``run``: any run of the folder)."""
    spec = selection["plane"]
    return plane_space.plane(drawn_on(run, selection), spec["kind"], spec["i"], spec["j"], spec["map"], spec["units"])


def selection_rows(run: RunHandle, selection, filter_state=None) -> np.ndarray:
    """Row ids (of the run the selection was drawn on) of the points inside it that pass the filter.

    ``run`` is any run of the folder: the selection names its own.
    """
    selection = clean_selection(selection)
    if selection is None:
        return np.empty(0, dtype=np.int64)
    source = drawn_on(run, selection)
    where = selection_plane(source, selection)

    def compute():
        ids, xy = source.coords(where)
        return np.sort(np.asarray(ids, dtype=np.int64)[regions.in_shapes(xy, selection["shapes"])])

    rows = source.memo(MemoKey.selection(digest(selection)), compute)
    mask = filter_mask(source, filter_state)
    return rows if mask is None else rows[mask[rows]]


# -- the same images in another run ------------------------------------------------------------
def _row_links(source: RunHandle, target: RunHandle) -> np.ndarray:
    """For each row of ``source``, the row of ``target`` holding the same image id (-1 where none)."""

    def compute():
        before, after = source.metadata(), target.metadata()
        if "id" not in before.columns or "id" not in after.columns:
            # No ids to match: the same row is the same image (both runs encode one source in order).
            links = np.arange(len(before), dtype=np.int64)
            links[links >= len(after)] = -1
            return links
        index = pd.Index(after["id"].astype(str))
        if not index.is_unique:
            index = index.drop_duplicates(keep="first")
            positions = pd.Index(after["id"].astype(str)).get_indexer(index)
            found = index.get_indexer(before["id"].astype(str))
            return np.where(found >= 0, positions[found], -1).astype(np.int64)
        return index.get_indexer(before["id"].astype(str)).astype(np.int64)

    return target.memo(MemoKey.links(source), compute)


def matched_rows(rows, source: RunHandle, target: RunHandle) -> np.ndarray:
    """For each of ``rows`` of ``source``, the row of ``target`` holding the same image (matched by id; -1: none).

    The one matching rule of the page: the selection, the filter and the instruments
    (paths, neighbours, attribute walks, traversals) all compare runs through it.
    """
    rows = np.asarray(rows, dtype=np.int64)
    if source.name == target.name:
        return rows
    return _row_links(source, target)[rows]


def image_label(run: RunHandle, row: int) -> str:
    """How the page names the image at ``row``: its metadata ``id`` (the row number when there is none)."""
    frame = run.metadata()
    return str(frame["id"].iloc[int(row)]) if "id" in frame.columns else str(int(row))


def linked_rows(rows, source: RunHandle, target: RunHandle) -> tuple[np.ndarray, str]:
    """The rows of ``target`` that hold the same images as ``rows`` of ``source``, and a note when some differ.

    The note is empty when every image is found at the same row (both runs encode
    the same images in the same order, the usual case).
    """
    rows = np.asarray(rows, dtype=np.int64)
    if source.name == target.name:
        return rows, ""
    mapped = matched_rows(rows, source, target)
    found = mapped[mapped >= 0]
    if len(found) == len(rows) and np.array_equal(found, rows):
        return rows, ""
    if len(found) == len(rows):
        return np.sort(found), f"the images sit at other rows in {target.name}: matched by image id"
    return np.sort(found), (
        f"the runs hold different images: {len(found):,} of the {len(rows):,} selected images are in {target.name}"
    )


# -- filter ------------------------------------------------------------------------------------
def clean_filter(state) -> dict | None:
    """A filter from the browser, validated: None (no filter) or ``{"expr": text, "within": selection or None}``."""
    if state is None:
        return None
    if not isinstance(state, dict) or set(state) - {"expr", "within"}:
        raise MalformedFilter(why="it must be an expression and an optional selection")
    expr = state.get("expr") or ""
    if not isinstance(expr, str):
        raise MalformedFilter(why="its expression must be text")
    table_filter.check_text(expr)
    within = clean_selection(state.get("within"))
    if not expr.strip() and within is None:
        return None
    return {"expr": expr.strip(), "within": within}


def filter_mask(run: RunHandle, filter_state) -> np.ndarray | None:
    """Boolean mask (one per row of ``run``) of the rows the filter keeps; None when there is no filter.

    Raises
    ------
    ZspaceError
        A filter that does not parse against ``run``'s metadata (its one-line message).
    """
    state = clean_filter(filter_state)
    if state is None:
        return None

    def compute():
        mask = np.ones(run.n_points, dtype=bool)
        if state["expr"]:
            mask &= table_filter.row_mask(run.metadata(), state["expr"])
        if state["within"] is not None:
            source = drawn_on(run, state["within"])
            rows, _ = linked_rows(selection_rows(source, state["within"]), source, run)
            kept = np.zeros(len(mask), dtype=bool)
            kept[rows] = True
            mask &= kept
        return mask

    return run.memo(MemoKey.filter(digest(state)), compute)


def filter_rows(run: RunHandle, filter_state) -> np.ndarray | None:
    """Row ids of ``run`` that the filter keeps (sorted), or None when there is no filter.

    The one call for a view that acts on rows: pass the filter view's store value
    (``State(app.views.filters.FILTER, "data")``) and use only the rows returned.
    """
    mask = filter_mask(run, filter_state)
    return None if mask is None else np.flatnonzero(mask)


def describe_filter(filter_state) -> str:
    """The filter in words, e.g. ``smiling == 1 and inside the selection drawn on ae``."""
    state = clean_filter(filter_state)
    if state is None:
        return "no filter"
    parts = [state["expr"]] if state["expr"] else []
    if state["within"] is not None:
        parts.append(f"inside the selection drawn on {state['within']['run']}")
    return " and ".join(parts)
