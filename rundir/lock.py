"""The writer's lock on a run directory (an ``flock`` the kernel frees when the holder dies)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from rundir.errors import RunLockedError
from rundir.layout import LOCK


@contextlib.contextmanager
def run_lock(run: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on a run directory while writing it.

    The lock is an ``flock`` on ``.lock``: the kernel drops it when the holder
    dies, even by SIGKILL, so a stale lock never blocks a later writer.

    Raises
    ------
    RunLockedError
        If another live process holds the lock.
    """
    run = Path(run)
    run.mkdir(parents=True, exist_ok=True)
    handle = open(run / LOCK, "a+")  # noqa: SIM115 - closed in finally
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunLockedError(f"run {run.name} is being written by {holder}; wait for it or stop it first") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()
