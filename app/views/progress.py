"""Base analyses of a large run, computed in the background with progress, never inside a request.

A run with more points than the store's ``inline_points`` (50,000 by default)
that has not been through ``zspace analyze`` needs its PCA, the default PCA
plane, the per-axis histograms and the radius profile before the views can
draw. Opening it, the page says at once what is being computed; a Dash
background callback computes them (in a forked process, or on ``zspace
worker`` with Redis) in one of the host's job slots and reports each step; when
it is done every view of the run draws again. Meanwhile the views show the
store's "being computed in the background" message instead of blocking.
"""

from __future__ import annotations

import time

from dash import Input, Output, State, dcc, html, no_update

from app import plane_space
from app.job_results import NO_UPDATE, JobResult, returns
from app.jobs import SlotsBusy
from app.memo import MemoKey
from app.store import INDEX_FROM, RunHandle, RunStore
from app.views.parts import ABOVE_TABS, JOB_SLOT_WAIT_S, RUN, guarded, ids, shown_runs
from app.views.protocol import View
from rundir.errors import Refusal, ZspaceError

TAB = ABOVE_TABS  # shown whichever tab is open


class NothingToCompute(Refusal):
    """A background job asked for no run."""

    template = "nothing to compute"


REFUSALS = (NothingToCompute, SlotsBusy)

make = ids("progress")
BOX, NOTE, BAR, STEP, NEEDED, READY = (
    make("box"),
    make("note"),
    make("bar"),
    make("step"),
    make("needed"),
    make("ready"),
)
#: The job the page plans, when it is built (``View.initial``) or for runs picked later; the browser hands it on
#: to NEEDED, which starts it.
PLANNED = make("planned")
#: Runs in the browser, also at load: a job planned into the page starts without asking the server for the plan.
START_PLANNED = "function(planned) { return planned ? planned : window.dash_clientside.no_update; }"
#: Shown while nothing is computed for the runs on the page.
HIDDEN, SHOWN = {"display": "none"}, {"display": "block"}
#: How often (ms) the page asks for the job's progress.
POLL_MS = 500
#: The plane the page opens on (the Planes view's default): its coordinates are part of the base analyses.
DEFAULT_PLANE = plane_space.Plane("pca", 0, 1)


def layout() -> html.Div:
    """A note that says what is being computed, a progress bar and the step it is at (hidden when idle)."""
    return html.Div(
        id=BOX,
        className="analysis-progress note",
        style=HIDDEN,
        children=[
            html.Span(id=NOTE),
            html.Progress(id=BAR, value="0", max="1"),
            html.Span(id=STEP),
            dcc.Store(id=NEEDED),
            dcc.Store(id=PLANNED),
            dcc.Store(id=READY),
        ],
    )


def base_steps(run: RunHandle) -> list[tuple[str, object, object]]:
    """(label, is_ready(), compute()) for each base analysis of ``run``, in the order they are computed."""
    from analysis import results

    def result(declaration):
        return (lambda: run.is_cached(declaration), lambda: run.result(declaration, background=True))

    plane_key = MemoKey.coords(DEFAULT_PLANE.key())
    steps = [
        ("PCA", *result(results.pca)),
        ("the PCA plane", lambda: run.is_memoised(plane_key), lambda: run.coords(DEFAULT_PLANE)),
        ("per-axis histograms", *result(results.histograms)),
        ("the per-axis summary", *result(results.axis_summary)),
        ("the radius profile", *result(results.radius_profile)),
    ]
    if run.n_points > INDEX_FROM:  # a click's nearest-data distance comes from it (RunHandle.nearest_distance)
        is_ready = lambda: run.is_memoised(MemoKey.NEAREST_INDEX)  # noqa: E731
        steps.append(("the nearest-data index", is_ready, run.nearest_index))
    return steps


def pending(run: RunHandle) -> list[str]:
    """Labels of the base analyses ``run`` still lacks (empty for runs the requests may compute themselves)."""
    if run.n_points <= run.store.inline_points:
        return []
    return [label for label, ready, _ in base_steps(run) if not ready()]


def plan(store: RunStore, run_a, run_b) -> tuple[object, str, dict]:
    """What the page must compute for the runs it shows: (job request or no_update, note, box style).

    Answers within a request's time: it only checks which cache entries exist.
    """
    needed, parts = [], []
    for _side, name in shown_runs(run_a, run_b):
        try:
            run = store.open(name)
            missing = pending(run)
        except ZspaceError:  # an unusable run says why in its own views
            continue
        if missing:
            needed.append(run.name)
            parts.append(f"{', '.join(missing)} of {run.name} ({run.n_points:,} points)")
    if not needed:
        return no_update, "", HIDDEN
    note = f"computing {'; '.join(parts)} in the background — the views fill in when it is done"
    return {"runs": needed, "asked": time.time()}, note, SHOWN


def initial(store: RunStore, run_a, run_b) -> dict:
    """The note, the box and the planned job for the runs the page opens with (``View.initial``)."""
    needed, note, style = plan(store, run_a, run_b)
    return {(PLANNED, "data"): None if needed is no_update else needed, (NOTE, "children"): note, (BOX, "style"): style}


def prepare(store: RunStore, needed, set_progress) -> str:
    """Compute every missing base analysis of the runs in ``needed``; ``set_progress((value, max, text))``."""
    if not isinstance(needed, dict) or not isinstance(needed.get("runs"), list) or not needed["runs"]:
        raise NothingToCompute()
    runs = [store.open(name) for name in needed["runs"][:2]]  # validated: unknown or unusable runs refused

    def waiting():
        set_progress((0, 1, "waiting for another background job to finish…"))

    started = time.perf_counter()
    # Other jobs (a t-SNE map) may hold every slot; the base analyses wait for one instead of failing.
    with store.slots.slot(wait=JOB_SLOT_WAIT_S, on_wait=waiting):
        # Looked up under the slot: a job for the same run from another page may have just finished them.
        work = [(run, label, compute) for run in runs for label, ready, compute in base_steps(run) if not ready()]
        for done, (run, label, compute) in enumerate(work):
            set_progress((done, len(work), f"{label} of {run.name} ({done + 1} of {len(work)})…"))
            compute()
    set_progress((1, 1, "done"))
    return f"base analyses of {', '.join(run.name for run in runs)} ready ({time.perf_counter() - started:.1f} s)"


#: Runs in the browser when a job is done: sets the run pickers to the values they already hold, which makes
#: every view of those runs draw again (set_props triggers the callbacks that listen to the pickers).
REDRAW = (
    "function(ready, runA, runB) {"
    "  if (!ready) { return window.dash_clientside.no_update; }"
    f"  window.dash_clientside.set_props('{RUN['a']}', {{value: runA}});"
    f"  if (runB) {{ window.dash_clientside.set_props('{RUN['b']}', {{value: runB}}); }}"
    "  return window.dash_clientside.no_update;"
    "}"
)


def _prepared(value) -> bool:
    # What the job returns: ({"done": time}, line), or (no_update, line) for a refusal.
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], str) and len(value[1]) <= 2000):
        return False
    marker = value[0]
    return marker == NO_UPDATE or (
        isinstance(marker, dict) and set(marker) == {"done"} and isinstance(marker["done"], int | float)
    )


#: The shape of the job's result, checked before it reaches the page (app.job_results).
PREPARED = JobResult(check=_prepared, failed=lambda line: [NO_UPDATE, line])


def register(app, store, views) -> None:
    """Wire the plan (a plain callback), the background job and the redraw when it is done."""

    @app.callback(
        Output(PLANNED, "data"),
        Output(NOTE, "children"),
        Output(BOX, "style"),
        Input(RUN["a"], "value"),
        Input(RUN["b"], "value"),
        prevent_initial_call=True,  # the page opens with its plan (initial, then START_PLANNED)
    )
    @guarded(lambda exc: (no_update, str(exc), SHOWN))
    def _plan(run_a, run_b):
        return plan(store, run_a, run_b)

    app.clientside_callback(START_PLANNED, Output(NEEDED, "data"), Input(PLANNED, "data"))

    @app.callback(
        Output(READY, "data"),
        Output(NOTE, "children", allow_duplicate=True),
        Input(NEEDED, "data"),
        background=True,
        progress=[Output(BAR, "value"), Output(BAR, "max"), Output(STEP, "children")],
        interval=POLL_MS,
        prevent_initial_call=True,
    )
    @returns(PREPARED)
    @guarded(lambda exc: (no_update, str(exc)))
    def _prepare(set_progress, needed):
        return {"done": time.time()}, prepare(store, needed, set_progress)

    app.clientside_callback(
        REDRAW,
        Output(BOX, "title"),
        Input(READY, "data"),
        State(RUN["a"], "value"),
        State(RUN["b"], "value"),
        prevent_initial_call=True,
    )


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("progress", TAB, layout, register, REFUSALS, initial=initial)
