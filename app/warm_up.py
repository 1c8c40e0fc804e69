"""What a run's first click reads, loaded in the background once its plane is drawn.

A click decodes a point and then quotes it against the data: its metadata row,
|z| beside the data's radii, the nearest-data distance (from the projected
index of a large run) and that distance's percentile. Each of these is loaded
on first use and memoised; at 1M points the first use costs up to a second,
which the first click would wait for. The planes ask for them here when they
first draw a run, in one background thread per run version and process, so a
person's first click (seconds later) finds them ready. A failed warm-up only
means that click computes them itself.
"""

from __future__ import annotations

import logging
import threading

from app.store import RunHandle

log = logging.getLogger(__name__)

#: Most run versions remembered as warmed per process (older ones may be warmed again).
WARMED_KEPT = 64

_lock = threading.Lock()
_started: dict[tuple[int, str, str], threading.Thread] = {}


def _load(run: RunHandle) -> None:
    from app import data_reference

    run.metadata()
    data_reference.radius_text(run, run.z()[0])
    data_reference.nn_reference(run)
    if run.has_nearest_index():
        run.nearest_index()


def warm_clicks(run: RunHandle) -> threading.Thread | None:
    """Start loading what ``run``'s first click reads, once per run version and process.

    Returns the thread when this call started one, else None (already started, or the store does not warm).
    """
    if not run.store.warm:
        return None
    key = (id(run.store), str(run.folder), run.files_key)  # per server: tests and benchmarks hold several
    with _lock:
        if key in _started:
            return None
        if len(_started) >= WARMED_KEPT:
            _started.pop(next(iter(_started)))

        def work():
            try:
                _load(run)
            except Exception:  # the first click loads what is missing and says what is wrong
                log.warning("could not warm the first click of %s", run.name, exc_info=True)

        thread = threading.Thread(target=work, name=f"zspace-click-warm-up-{run.name}", daemon=True)
        _started[key] = thread
    thread.start()
    return thread
