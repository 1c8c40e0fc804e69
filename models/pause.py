"""A test hook: hold the worker at a named point so a test can SIGKILL it exactly there.

With ``ZSPACE_PAUSE_AT=<point>`` and ``ZSPACE_PAUSE_FILE=<path>`` in its
environment, a worker that reaches ``<point>`` writes ``<path>`` (JSON: point,
pid) and waits up to :data:`HOLD_SECONDS` before carrying on. The test waits
for the file, checks the state on disk (a temporary file exists, the final one
is untouched) and kills the worker: the kill lands mid-write every time,
instead of after a sleep that may fall before or after the interesting moment.

Points: ``train-step:<epoch>:<step>`` (after that training step, status written),
``save:<file name>`` (a model written to its temporary name, not yet renamed),
``encode:half`` (half of the z-points written to the temporary ``.npy``).
Without the variables, :func:`pause_point` costs one dictionary lookup.
"""

from __future__ import annotations

import os
import time

from rundir.atomic import atomic_write_json

PAUSE_AT_ENV = "ZSPACE_PAUSE_AT"
PAUSE_FILE_ENV = "ZSPACE_PAUSE_FILE"

#: Longest hold: a test that never kills must not hang the worker for good.
HOLD_SECONDS = 120.0


def pause_wanted(point: str) -> bool:
    """True if this process was asked to hold at ``point``."""
    return os.environ.get(PAUSE_AT_ENV) == point and bool(os.environ.get(PAUSE_FILE_ENV))


def pause_point(point: str) -> None:
    """Hold here if asked to (see the module docstring); otherwise return at once."""
    if not pause_wanted(point):
        return
    atomic_write_json(os.environ[PAUSE_FILE_ENV], {"point": point, "pid": os.getpid()})
    deadline = time.monotonic() + HOLD_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)
