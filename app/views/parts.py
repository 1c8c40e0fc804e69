"""What every view shares: the run pickers' ids, component ids per view, the two side columns, the error guard.

A view is one module under ``app/views/`` with ``TAB`` (the tab it lives in),
``layout()``, its callbacks as plain functions and ``register(app, store)``.
Component ids are built with :func:`ids`, so each is namespaced by its view and
defined once; another view that needs one imports the constant.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from dash import Input, Output, dcc, html

from app import store as run_store
from app import validate
from app.store import RunHandle, RunStore
from rundir.errors import Refusal, ZspaceError

log = logging.getLogger(__name__)

#: The first run ("a") and the run beside it on the planes ("b"); every per-run component exists once per side.
SIDES = ("a", "b")
#: The run pickers in the page header: the first run, and the run beside it on the planes (one of the compared).
RUN = {side: f"run-{side}" for side in SIDES}
#: The compare picker (several runs): the rates, structure, density, radius and spectrum views show them all.
COMPARE = "run-compare"
#: The line under the compare picker that says why a pick was refused.
COMPARE_NOTE = "run-compare-note"
#: Most runs the compare picker takes (besides the first run): each adds a column, a curve and its analyses.
MAX_COMPARED = 7
#: The page's tabs and its outer element (whose class says whether a second run is compared).
TABS = "tabs"
PAGE = "page"
#: The ``TAB`` of a view that belongs to no tab: the page shows it above the tabs, whichever tab is open.
ABOVE_TABS = None


class NoRunSelected(Refusal):
    """A callback that needs a run on a side that shows none."""

    template = "no run selected"


class TooManyCompared(Refusal):
    """More compared runs than the page shows at once."""

    template = f"compare at most {MAX_COMPARED} runs at once: remove one from 'compare with' to add another"


class NotRunNames(Refusal):
    """A compare picker value that is not a list of run names."""

    template = "the compared runs must be a list of run names"


#: Refusals any view may raise (the browser-value checks, the run store's, no run selected); a view's
#: ``View.refusals`` lists only its own.
COMMON_REFUSALS = (*validate.REFUSALS, *run_store.REFUSALS, NoRunSelected, TooManyCompared, NotRunNames)


def ids(view: str) -> Callable[..., str]:
    """An id maker for ``view``: ``ids("planes")("graph", "a") == "planes-graph-a"``."""

    def make(*parts: str) -> str:
        return "-".join((view, *parts))

    return make


def side_run(run_a, run_b, side: str):
    """The run shown on ``side`` ("a" or "b"); None when nothing is compared or it is the same run."""
    if side == "a":
        return run_a or None
    return run_b if run_b and run_b != run_a else None


def shown_runs(run_a, run_b) -> list[tuple[str, str]]:
    """(side, run) for each side that shows a run."""
    return [(side, run) for side in SIDES if (run := side_run(run_a, run_b, side))]


def open_side(store: RunStore, run_a, run_b, side: str) -> RunHandle | None:
    """The run shown on ``side``, opened (see :func:`side_run`); None when that side shows nothing."""
    name = side_run(run_a, run_b, side)
    return store.open(name) if name else None


def open_shown(store: RunStore, run_a, run_b) -> list[tuple[str, RunHandle]]:
    """(side, run) for each side that shows a run, opened."""
    return [(side, store.open(name)) for side, name in shown_runs(run_a, run_b)]


def compared_names(run_a, compare) -> list[str]:
    """The first run, then each compared run once (the first run itself left out); [] without a first run.

    Raises
    ------
    NotRunNames
        When ``compare`` is not a list of names (what a browser can send).
    TooManyCompared
        When it holds more than :data:`MAX_COMPARED` runs besides the first.
    """
    if compare is None:
        compare = []
    if not isinstance(compare, list | tuple) or not all(isinstance(name, str) for name in compare):
        raise NotRunNames()
    others = [name for name in dict.fromkeys(compare) if name and name != run_a]
    if len(others) > MAX_COMPARED:
        raise TooManyCompared()
    return [run_a, *others] if run_a else []


def open_compared(store: RunStore, run_a, compare) -> list[tuple[int, RunHandle]]:
    """(index, run) for the first run (index 0) and every compared run, opened; the index picks its colour."""
    return [(index, store.open(name)) for index, name in enumerate(compared_names(run_a, compare))]


def no_decoder_line(runs: list[RunHandle]) -> str:
    """The one line a tab shows about the runs without a decoder among ``runs`` (empty when all have one).

    A run of z-points imported alone shows every number; what needs a decoder
    (images of clicks, paths, neighbours, walks and samples, the lattice, the lab's rates)
    is left out, and this line says why, once, instead of an error per click.
    """
    names = [run.name for run in runs if not run.has_decoder]
    if not names:
        return ""
    which = " and ".join(names)
    return (
        f"{which} {'has' if len(names) == 1 else 'have'} no decoder (z-points imported alone): "
        "no images are decoded for it (no lattice); clicks, paths, neighbours and samples show their numbers only"
    )


def side_columns(make: Callable[[str], list]) -> html.Div:
    """Two columns, one per run; CSS hides the second (``side-b``) when nothing is compared."""
    return html.Div(className="sides", children=[html.Div(make(side), className=f"side side-{side}") for side in SIDES])


def number(id_: str, value, step=None, min_=None, max_=None, width: str = "5em") -> dcc.Input:
    """A numeric input that reports on Enter / blur (not every keystroke)."""
    return dcc.Input(
        id=id_, type="number", value=value, step=step, min=min_, max=max_, debounce=True, style={"width": width}
    )


def labelled(label: str, *children) -> html.Div:
    """A control with its label in front."""
    return html.Div([html.Label(label), *children])


def error_box(exc: Exception) -> html.Div:
    """A one-line message for an input the user can fix, shown where the result would be."""
    return html.Div(str(exc), className="error")


def guarded(on_refusal: Callable[[ZspaceError], object]):
    """Decorate a callback body so bad input (a :class:`ZspaceError`) becomes ``on_refusal(exc)``.

    Only the project's own validation errors are turned into messages; anything
    else is a bug and propagates (Dash answers 500 with a generic page and it is logged).
    """

    def decorate(body):
        @functools.wraps(body)
        def wrapper(*args, **kwargs):
            try:
                return body(*args, **kwargs)
            except ZspaceError as exc:
                # Logged so an operator (and the callback fuzzer, by its class) sees every refusal and its message.
                log.info("refused %s: %s", body.__qualname__, exc, extra={"refusal": type(exc)})
                return on_refusal(exc)

        return wrapper

    return decorate


#: Seconds a background job waits for a free job slot (another background job may be running).
JOB_SLOT_WAIT_S = 3600.0


def job_controls(go: str, cancel: str, progress: str, progress_text: str) -> dict:
    """Keyword arguments of a background callback started by button ``go``.

    ``go`` is disabled and ``cancel`` enabled while the job runs; the job's
    ``set_progress((done, total, text))`` fills the bar ``progress`` and the line
    ``progress_text``; a click on ``cancel`` stops it.
    """
    return {
        "background": True,
        "running": [(Output(go, "disabled"), True, False), (Output(cancel, "disabled"), False, True)],
        "progress": [Output(progress, "value"), Output(progress, "max"), Output(progress_text, "children")],
        "cancel": [Input(cancel, "n_clicks")],
    }
