"""The View protocol: what one view module declares about itself, as one record at its end (``VIEW = View(...)``).

The page shell, the plane's overlays, shareable links, the screenshot tool and
the tests read views only through these records, handed to every view's
``register(app, store, views)`` (never found on the Dash app or by ``hasattr``).
A view that does not draw on the plane, put anything into links or write
another view's components leaves those fields at their defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import dash

from app.store import RunStore
from app.url_state import Field, LinkCheck
from rundir.errors import ZspaceError


@dataclass(frozen=True)
class Overlay:
    """What a view draws on the plane of each side.

    Attributes
    ----------
    inputs : callable(side) -> list
        The Dash ``Input`` / ``State`` objects whose values the drawing needs (a change of an
        ``Input`` redraws the plane).
    traces : callable(run, plane, side, *values) -> list
        Plotly traces drawn over the points (a path, highlighted neighbours, a selection).
    layout : callable(run, plane, side, *values) -> dict, optional
        Layout updates of the figure (the selection's outline).
    """

    inputs: Callable[[str], list]
    traces: Callable[..., list]
    layout: Callable[..., dict] | None = None


@dataclass(frozen=True)
class View:
    """One view of the dashboard.

    Attributes
    ----------
    name : str
        Its module's name: the prefix of its component ids, its page section ``view-<name>``
        and its screenshot ``<name>.png``.
    tab : str or None
        The tab it lives in (views sharing a tab stack in registry order); ``None``
        (:data:`app.views.parts.ABOVE_TABS`) shows it above the tabs.
    layout : callable() -> Dash component
    register : callable(app, store, views) -> None
        Wires its callbacks; ``views`` is the whole registry, for views that gather the others' parts.
    refusals : tuple of type
        The :class:`rundir.errors.Refusal` classes its callbacks may raise beyond
        :data:`app.views.parts.COMMON_REFUSALS` (each defines its words once; the callback
        fuzzer accepts exactly these).
    overlay : Overlay, optional
        What it draws on the plane.
    url_state : mapping of str to app.url_state.Field
        The link keys it owns: what a shared link carries of it.
    check_url : callable(app.url_state.LinkCheck) -> None, optional
        Checks (or turns into what its components take) its keys' values of a link being
        opened, against the server's runs; drops what is unusable.
    writes : tuple of str
        Component ids of other views its callbacks write (declared; the ownership test fails
        on any other write into a component a view does not own).
    initial : callable(store, run_a, run_b) -> dict, optional
        What its components show for the runs the page opens with, known when the page is
        built: ``{(component id, property): value}``. The page puts these into its layout, and
        the callbacks computing them have ``prevent_initial_call``, so opening the page asks
        the server for none of them. Only cheap values (no decoding, no analysis).
    """

    name: str
    tab: str | None
    layout: Callable[[], Any]
    register: Callable[[dash.Dash, RunStore, tuple[View, ...]], None]
    refusals: tuple[type[ZspaceError], ...] = ()
    overlay: Overlay | None = None
    url_state: Mapping[str, Field] = field(default_factory=lambda: MappingProxyType({}))
    check_url: Callable[[LinkCheck], None] | None = None
    writes: tuple[str, ...] = ()
    initial: Callable[[RunStore, str | None, str | None], dict] | None = None
