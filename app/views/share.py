"""Shareable views: the page's URL carries what a person would send, and a link opens the same view.

Every view may declare ``URL_STATE = {key: app.url_state.Field(...)}``; this view
gathers them from the registry (``app.zspace_views``, handed over by the page
shell) together with its own (runs, tab, map, clicked point), and

* writes the URL's fragment (``#run=ae&compare=vae&plane=pca&x=0&y=1&zoom-a=...``)
  whenever one of them changes, through :data:`ADDRESS`;
* applies a link's fragment when the page opens (and on back / forward),
  read through :data:`LOCATION`: each value is checked by its codec and against
  the runs folder, written to its component (a zoom goes through the plane's
  own checked restore path, a clicked point becomes a click on the plane), and
  whatever is unusable is dropped with one message line, the rest applied.

Two location components keep reading and writing apart, so the callbacks form
no loop. The fragment is never part of the page request (see :mod:`app.url_state`).
"""

from __future__ import annotations

import numpy as np
from dash import Input, Output, State, dcc, html, no_update

from app import plane_space, subsets, url_state
from app.store import RunHandle
from app.url_state import Field, Name, Row, RunName, Whole
from app.views import decode, filters, maps, paths, planes
from app.views.parts import ABOVE_TABS, RUN, SIDES, TABS, guarded, ids, side_run
from rundir.errors import ZspaceError

TAB = ABOVE_TABS  # shown whichever tab is open
MESSAGES = (*url_state.MESSAGES, r"the link could not be (read|written).*")

make = ids("share")
#: Reads the address (a link being opened, back / forward); :data:`ADDRESS` writes it.
LOCATION, ADDRESS = make("location"), make("address")
LINK, COPY, MESSAGE = make("link"), make("copy"), make("message")
#: The fragment the page is in step with (None until a link has been read).
WRITTEN = make("written")

#: What a link carries beyond the views' own ``URL_STATE``: the runs, the tab, each side's map and clicked
#: point, and the path's end points (these belong to views that declare no ``URL_STATE`` of their own yet).
URL_STATE = {
    "run": Field(RUN["a"], "value", RunName("run")),
    "compare": Field(RUN["b"], "value", RunName("compare")),
    "tab": Field(TABS, "value", Name("tab", 60)),
    **{f"map-{s}": Field(maps.PICKED[s], "value", Name("map")) for s in SIDES},
    **{
        f"point-{s}": Field(decode.SELECTED[s], "data", Row(), targets=((planes.GRAPH[s], "clickData"),)) for s in SIDES
    },
    "path-from": Field(paths.FROM, "value", Whole(0, 10**9, "path A")),
    "path-to": Field(paths.TO, "value", Whole(0, 10**9, "path B")),
}


def layout() -> html.Div:
    """The two location components, the link with a copy button, and the message line."""
    return html.Div(
        className="share-bar note",
        children=[
            dcc.Location(id=LOCATION, refresh=False),
            dcc.Location(id=ADDRESS, refresh=False),
            html.Span("link to this view: "),
            html.Code(id=LINK, className="share-link"),
            dcc.Clipboard(target_id=LINK, id=COPY, title="copy the link", className="share-copy"),
            html.Span(id=MESSAGE, className="error-note"),
            dcc.Store(id=WRITTEN),
        ],
    )


def page_ids(views) -> set[str]:
    """Every component id the views' layouts hold, and the page shell's run pickers and tabs."""
    found, stack = {*RUN.values(), TABS}, [view.layout() for view in views]
    while stack:
        node = stack.pop()
        if isinstance(node, list | tuple):
            stack.extend(node)
        elif hasattr(node, "to_plotly_json"):
            if isinstance(getattr(node, "id", None), str):
                found.add(node.id)
            stack.append(getattr(node, "children", None))
    return found


def fields_of(views) -> dict[str, Field]:
    """Every view's ``URL_STATE`` whose components are on the page, in registry order.

    A key claimed twice is a programming error; a field of a view that is not
    registered (its components are not on the page) is left out.
    """
    fields: dict[str, Field] = {}
    present = page_ids(views)
    for view in views:
        for key, field in getattr(view, "URL_STATE", {}).items():
            if key in fields:
                raise ValueError(f"URL key {key!r} is declared twice ({view.__name__})")
            if field.component in present and all(target in present for target, _ in field.outputs()):
                fields[key] = field
    return fields


def link_text(href, fragment: str) -> str:
    """The full link: the page address without its old fragment, then ``fragment``."""
    base = href.split("#", 1)[0] if isinstance(href, str) and len(href) < 4000 else ""
    return base + fragment


def clicked_point(run: RunHandle, kind, i, j, map_key, row: int) -> dict:
    """The ``clickData`` a click on data row ``row`` of this plane sends (so the decode view shows it)."""
    where = plane_space.plane(run, kind, i, j, map_key)
    rows, xy = run.coords(where)
    at = np.flatnonzero(np.asarray(rows) == row)
    if len(at) == 0:
        raise ZspaceError(f"has a point ({row}) that is not on this plane")
    x, y = (float(v) for v in xy[at[0]])
    return {"points": [{"x": x, "y": y, "pointNumber": int(at[0]), "curveNumber": 1}]}


def checked_values(store, decoded: dict, current: dict, tabs: list[str]) -> tuple[dict, list[str]]:
    """A link's decoded values after the checks that need the server (runs, tab, filter, selection, points).

    ``current`` holds the page's values for what a link may leave out (runs, plane).
    Returns the usable values and what was dropped.
    """
    values, problems = dict(decoded), []

    def drop(key, why):
        values.pop(key, None)
        problems.append(f"has an unusable {key} ({why})")

    for key in ("run", "compare"):
        if values.get(key) is not None:
            try:
                store.open(values[key])
            except ZspaceError as exc:
                drop(key, exc)
    if "tab" in values and values["tab"] not in tabs:
        drop("tab", "no such tab")
    if "run" in values and "compare" not in values:
        values["compare"] = None  # the link was made without a compared run
    run_a = values.get("run", current["run"])
    run_b = values["compare"] if "compare" in values else current["compare"]
    shown = [run for side in SIDES if (run := side_run(run_a, run_b, side))]
    if values.get("filter") is not None:
        try:
            if values["filter"]["expr"]:
                filters.checked([store.open(run) for run in shown], values["filter"]["expr"])
            if values["filter"]["within"] is not None:
                subsets.selection_plane(store.open(values["filter"]["within"]["run"]), values["filter"]["within"])
        except ZspaceError as exc:
            drop("filter", exc)
    if values.get("selection") is not None:
        try:
            subsets.selection_plane(store.open(values["selection"]["run"]), values["selection"])
        except ZspaceError as exc:
            drop("selection", exc)
    plane = [values.get(k, current[k]) for k in ("plane", "x", "y")]
    for side in SIDES:
        key = f"point-{side}"
        if key in values:
            run = side_run(run_a, run_b, side)
            try:
                if not run:
                    raise ZspaceError("no run on that side")
                map_key = values.get(f"map-{side}", current[f"map-{side}"])
                values[key] = clicked_point(store.open(run), *plane, map_key, values[key]["row"])
            except ZspaceError as exc:
                drop(key, exc)
    return values, problems


def restore(store, fields: dict[str, Field], fragment, written, current: dict, tabs: list[str]):
    """What opening ``fragment`` sets: one value (or ``no_update``) per target of each field, a message, WRITTEN.

    Nothing changes when the page wrote that fragment itself (``written``).
    """
    targets = [target for field in fields.values() for target in field.outputs()]
    if isinstance(fragment, str) and fragment == written:
        return [no_update] * len(targets), no_update, no_update
    decoded, problems = url_state.decode(fields, fragment)
    values, more = checked_values(store, decoded, current, tabs)
    problems += more
    out = []
    for key, field in fields.items():
        count = len(field.outputs())
        out += list(field.codec.spread(values[key], count)) if key in values else [no_update] * count
    message = url_state.problem_message(problems, applied=bool(values))
    return out, message, fragment if isinstance(fragment, str) else ""


def register(app, store) -> None:
    """Wire reading a link into the page and writing the page into the address."""
    views = getattr(app, "zspace_views", ())
    fields = fields_of(views)
    tabs = list(dict.fromkeys(view.TAB for view in views))
    targets = [Output(c, p, allow_duplicate=True) for field in fields.values() for c, p in field.outputs()]
    current_keys = ["run", "compare", "plane", "x", "y", "map-a", "map-b"]

    @app.callback(
        *targets,
        Output(MESSAGE, "children"),
        Output(WRITTEN, "data"),
        Input(LOCATION, "hash"),
        State(WRITTEN, "data"),
        State(RUN["a"], "value"),
        State(RUN["b"], "value"),
        State(planes.KIND, "value"),
        State(planes.AXIS_I, "value"),
        State(planes.AXIS_J, "value"),
        State(maps.PICKED["a"], "value"),
        State(maps.PICKED["b"], "value"),
        prevent_initial_call=True,
    )
    @guarded(lambda exc: (*[no_update] * len(targets), f"the link could not be read: {exc}", ""))
    def _open(fragment, written, *now):
        out, message, synced = restore(
            store, fields, fragment, written, dict(zip(current_keys, now, strict=True)), tabs
        )
        return (*out, message, synced)

    @app.callback(
        Output(ADDRESS, "hash"),
        Output(WRITTEN, "data", allow_duplicate=True),
        Output(LINK, "children"),
        *[Input(field.component, field.prop) for field in fields.values()],
        Input(WRITTEN, "data"),
        State(LOCATION, "href"),
        prevent_initial_call=True,
    )
    @guarded(lambda exc: (no_update, no_update, f"the link could not be written: {exc}"))
    def _write(*args):
        *values, written, href = args
        if written is None:  # the page has not read its own link yet
            return no_update, no_update, no_update
        fragment = url_state.encode(fields, dict(zip(fields, values, strict=True)))
        if fragment == written:
            return no_update, no_update, link_text(href, fragment)
        return fragment, fragment, link_text(href, fragment)
