"""Shareable views: the page's URL carries what a person would send, and a link opens the same view.

Every view owns its link keys (``View.url_state``: key -> :class:`app.url_state.Field`,
and ``View.check_url`` for what needs the server to check); this view iterates
the views the page shell hands to ``register`` (its own keys: the runs and the
tab), and

* writes the URL's fragment (``#run=ae&compare=vae,ae2&beside=vae&plane=pca&x=0&y=1&zoom-a=...``)
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

from dash import Input, Output, State, dcc, html, no_update

from app import url_state
from app.url_state import BESIDE_KEY, COMPARE_KEY, RUN_KEY, Field, LinkCheck, Name, RunName, RunNames
from app.views.parts import ABOVE_TABS, COMPARE, MAX_COMPARED, RUN, TABS, guarded, ids
from app.views.protocol import View
from rundir.errors import Refusal

TAB = ABOVE_TABS  # shown whichever tab is open


class NoSuchTab(Refusal):
    """A link's tab that the page does not have."""

    template = "no such tab"


REFUSALS = (NoSuchTab,)

make = ids("share")
#: Reads the address (a link being opened, back / forward); :data:`ADDRESS` writes it.
LOCATION, ADDRESS = make("location"), make("address")
LINK, COPY, MESSAGE = make("link"), make("copy"), make("message")
#: The fragment the page is in step with (None until a link has been read).
WRITTEN = make("written")

#: The page shell's keys, which this view puts into links: the runs (the first, the compared ones, the one beside
#: the first on the planes) and the tab.
URL_STATE = {
    RUN_KEY: Field(RUN["a"], "value", RunName("run")),
    COMPARE_KEY: Field(COMPARE, "value", RunNames(MAX_COMPARED + 1, "compare")),
    BESIDE_KEY: Field(RUN["b"], "value", RunName("beside")),
    "tab": Field(TABS, "value", Name("tab", 60)),
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
    found, stack = {*RUN.values(), COMPARE, TABS}, [view.layout() for view in views]
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
    """Every view's link keys (``View.url_state``) whose components are on the page, in registry order.

    A key claimed twice is a programming error; a field of a view that is not
    registered (its components are not on the page) is left out.
    """
    fields: dict[str, Field] = {}
    present = page_ids(views)
    for view in views:
        for key, field in view.url_state.items():
            if key in fields:
                raise ValueError(f"URL key {key!r} is declared twice ({view.name})")
            if field.component in present and all(target in present for target, _ in field.outputs()):
                fields[key] = field
    return fields


def link_targets(views) -> set[str]:
    """The component ids a link writes into: every target of every view's link keys (what this view writes)."""
    return {target for view in views for field in view.url_state.values() for target, _ in field.outputs()}


def link_text(href, fragment: str) -> str:
    """The full link: the page address without its old fragment, then ``fragment``."""
    base = href.split("#", 1)[0] if isinstance(href, str) and len(href) < 4000 else ""
    return base + fragment


def check_url(check: LinkCheck) -> None:
    """A link's runs must be usable and its tab one of the page's (``View.check_url`` of the page's keys).

    A link made before several runs could be compared (``compare=NAME``, no ``beside``) shows that run beside
    the first; one without ``compare`` compares nothing.
    """
    for key in (RUN_KEY, BESIDE_KEY):
        check.check(key, lambda name: check.store.open(name) and None)
    check.check(COMPARE_KEY, lambda names: [check.store.open(name) for name in names] and None)
    check.check("tab", lambda tab: _known_tab(tab, check.tabs))
    _settle_beside(check.values)


def _settle_beside(values: dict) -> None:
    """The run beside the first is one of the link's compared runs (their first when the link names none)."""
    if RUN_KEY in values and COMPARE_KEY not in values:
        values[COMPARE_KEY] = []  # the link was made without a compared run
    compared = [name for name in values.get(COMPARE_KEY) or [] if name != values.get(RUN_KEY)]
    if COMPARE_KEY in values and values.get(BESIDE_KEY) not in compared:
        values[BESIDE_KEY] = compared[0] if compared else None


def _known_tab(tab, tabs: list[str]) -> None:
    if tab not in tabs:
        raise NoSuchTab()


def restore(store, views, fields: dict[str, Field], fragment, written, current: dict):
    """What opening ``fragment`` sets: one value (or ``no_update``) per target of each field, a message, WRITTEN.

    Each view checks its own keys (``View.check_url``, in registry order, so the runs
    are checked first); ``current`` holds the page's values (key -> value) for what a
    link leaves out. Nothing changes when the page wrote that fragment itself (``written``).
    """
    targets = [target for field in fields.values() for target in field.outputs()]
    if isinstance(fragment, str) and fragment == written:
        return [no_update] * len(targets), no_update, no_update
    decoded, problems = url_state.decode(fields, fragment)
    tabs = list(dict.fromkeys(view.tab for view in views))
    check = LinkCheck(store, dict(decoded), current, tabs, problems)
    for view in views:
        if view.check_url is not None:
            view.check_url(check)
    out = []
    for key, field in fields.items():
        count = len(field.outputs())
        out += list(field.codec.spread(check.values[key], count)) if key in check.values else [no_update] * count
    message = url_state.problem_message(check.problems, applied=bool(check.values))
    return out, message, fragment if isinstance(fragment, str) else ""


def register(app, store, views) -> None:
    """Wire reading a link into the page and writing the page into the address (every view's link keys)."""
    fields = fields_of(views)
    targets = [Output(c, p, allow_duplicate=True) for field in fields.values() for c, p in field.outputs()]

    @app.callback(
        *targets,
        Output(MESSAGE, "children"),
        Output(WRITTEN, "data"),
        inputs={
            "fragment": Input(LOCATION, "hash"),
            "written": State(WRITTEN, "data"),
            "current": {key: State(field.component, field.prop) for key, field in fields.items()},
        },
        prevent_initial_call=True,
    )
    @guarded(lambda exc: (*[no_update] * len(targets), f"the link could not be read: {exc}", ""))
    def _open(fragment, written, current):
        out, message, synced = restore(store, views, fields, fragment, written, current)
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


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("share", TAB, layout, register, REFUSALS, url_state=URL_STATE, check_url=check_url)
