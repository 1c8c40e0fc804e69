"""Where the dashboard's background jobs run, who may cancel them, and how many may run at once.

A new t-SNE map and the base analyses of a large run are Dash background
callbacks, so they never run inside a request thread. Two engines:

* **one host** (the default): Dash's ``DiskcacheManager`` forks a process per
  job and keeps its results in ``<cache>/background``. That folder and its files
  are private to the server's user (0700 / 0600, values stored as JSON, never
  pickled), and the server refuses to start on a folder others can read.
* **several workers or hosts** (``ZSPACE_REDIS_URL`` set): Celery on that
  Redis (broker and result store), run by ``zspace worker``, with sealed
  results, heartbeats and re-queued jobs (:mod:`app.celery_jobs`).

Job and cache handles that travel through the browser are signed by Dash with
the Flask ``secret_key``; :func:`signing_secret` keeps that secret outside the
job store (``ZSPACE_SECRET_KEY``, else a private key file beside the store), so
reading the store does not let anyone forge a cancel. A cancel that does carry
a valid signature still only reaches a process this server started
(:class:`OwnJobsDiskcacheManager`).

:class:`JobSlots` bounds how many jobs compute at once on one host
(``ZSPACE_MAX_JOBS``; default one per two cores) with ``flock`` on slot files,
which every process of the host sees and the kernel releases when a job dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import stat
import time
from pathlib import Path

from rundir.errors import Refusal, ZspaceError

log = logging.getLogger(__name__)

#: Sub-folders / files of the server's cache folder.
JOB_STORE, SECRET_FILE, SLOTS = "background", "job-secret.key", "job-slots"
#: What a page says when every job slot is taken.
BUSY_MESSAGE = "a map is already being computed; try again when it is done"


class SlotsBusy(Refusal):
    """Every background-job slot of the host is taken."""

    template = BUSY_MESSAGE


#: Prefix of the job store entries that record the processes this server started.
_STARTED = "zspace-started-job:"


def ensure_private_folder(folder: str | os.PathLike) -> Path:
    """Create ``folder`` with mode 0700, or refuse one that the group or others can read.

    Raises
    ------
    ZspaceError
        One line naming the folder and the command that fixes it.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o077:
        raise ZspaceError(
            f"the background-job folder {folder} is open to other users (mode {mode:o}); "
            f"run `chmod -R go-rwx {folder}` or delete it, then start again"
        )
    return folder


def signing_secret(cache_dir: str | os.PathLike) -> str:
    """The secret that signs background-job handles: ``ZSPACE_SECRET_KEY``, else a private key file.

    The file (``<cache>/job-secret.key``, 0600) sits beside the job store, never
    inside it, and is created once, atomically, by whichever worker starts first.
    Workers on several hosts must share ``ZSPACE_SECRET_KEY`` instead.
    """
    given = os.environ.get("ZSPACE_SECRET_KEY", "")
    if given:
        if len(given) < 16:
            raise ZspaceError("ZSPACE_SECRET_KEY must be at least 16 characters (e.g. `openssl rand -hex 32`)")
        return given
    path = Path(cache_dir) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        temporary = path.with_name(f".tmp-{SECRET_FILE}-{os.getpid()}-{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)  # fails if another worker won the race: then its key is used
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ZspaceError(
            f"the job-signing key {path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`"
        )
    return path.read_text(encoding="ascii").strip()


def _private_json_disk():
    import diskcache

    class PrivateJSONDisk(diskcache.JSONDisk):
        """diskcache's JSON disk (no pickle) whose value files are 0600."""

        def _write(self, full_path, iterator, mode, encoding=None):
            size = super()._write(full_path, iterator, mode, encoding)
            os.chmod(full_path, 0o600)
            return size

    return PrivateJSONDisk


def _own_jobs_manager(handle):
    import psutil
    from dash import DiskcacheManager

    class OwnJobsDiskcacheManager(DiskcacheManager):
        """Dash's diskcache manager that terminates only processes it started itself.

        Dash signs job ids, but a job id is a process id: if the signing secret
        ever leaked, a forged cancel would SIGKILL any process of the server's
        user. Each started job's pid and start time are recorded in the private
        job store for a week; a cancel for anything else is ignored and logged.
        """

        def call_job_fn(self, key, job_fn, args, context):
            pid = super().call_job_fn(key, job_fn, args, context)
            with contextlib.suppress(psutil.Error):
                self.handle.set(f"{_STARTED}{int(pid)}", psutil.Process(pid).create_time(), expire=7 * 24 * 3600)
            return pid

        def _started_here(self, job) -> int | None:
            try:
                pid = int(str(job))
            except ValueError:
                return None
            started = self.handle.get(f"{_STARTED}{pid}")
            try:
                if started is None or psutil.Process(pid).create_time() != started:
                    return None
            except psutil.Error:
                return None
            return pid

        def terminate_job(self, job):
            if job is None:
                return
            pid = self._started_here(job)
            if pid is None:
                log.warning("ignored a cancel for %r: not a job this server started", str(job)[:40])
                return
            super().terminate_job(pid)
            self.handle.delete(f"{_STARTED}{pid}")

        def terminate_unhealthy_job(self, job):
            return False if self._started_here(job) is None else super().terminate_unhealthy_job(job)

        def job_running(self, job):
            return self._started_here(job) is not None and super().job_running(job)

    return OwnJobsDiskcacheManager(handle)


def make_manager(cache_dir: str | Path):
    """The background-callback manager: Celery on ``ZSPACE_REDIS_URL`` if set, else a private diskcache folder."""
    redis_url = os.environ.get("ZSPACE_REDIS_URL")
    if redis_url:
        from app.celery_jobs import SignedCeleryManager, celery_app

        return SignedCeleryManager(celery_app(redis_url), signing_secret(cache_dir))
    import diskcache

    folder = ensure_private_folder(Path(cache_dir) / JOB_STORE)
    handle = diskcache.Cache(str(folder), disk=_private_json_disk())
    for database in folder.glob("cache.db*"):  # SQLite gives its -wal / -shm files the database's mode
        os.chmod(database, 0o600)
    return _own_jobs_manager(handle)


def default_max_jobs() -> int:
    """``ZSPACE_MAX_JOBS`` if set, else one job per two cores (at least one)."""
    given = os.environ.get("ZSPACE_MAX_JOBS")
    if given:
        try:
            value = int(given)
        except ValueError:
            value = 0
        if value < 1:
            raise ZspaceError(f"ZSPACE_MAX_JOBS must be a whole number >= 1, got {given!r}")
        return value
    return max(1, (os.cpu_count() or 1) // 2)


class JobSlots:
    """At most ``count`` background jobs computing at once on this host, across all its processes.

    Each slot is a file ``<cache>/job-slots/slot-K`` held with an exclusive
    ``flock`` while a job computes; the kernel drops the lock when the holder
    exits or is killed, so a cancelled job never leaks its slot. With Celery on
    several hosts each host bounds its own jobs (and ``zspace worker
    --concurrency`` bounds each worker).

    Parameters
    ----------
    cache_dir : path-like
        The server's cache folder (shared by the web workers and the job processes of a host).
    count : int, optional
        Number of slots (default :func:`default_max_jobs`).
    """

    def __init__(self, cache_dir: str | os.PathLike, count: int | None = None):
        self.folder = Path(cache_dir) / SLOTS
        self.count = int(count if count is not None else default_max_jobs())

    def _try(self, index: int):
        self.folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.folder / f"slot-{index}", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return None
        return descriptor

    @contextlib.contextmanager
    def slot(self, wait: float = 0.0, on_wait=None):
        """Hold a free slot for the ``with`` block.

        Parameters
        ----------
        wait : float
            Seconds to wait for a slot (0: refuse at once).
        on_wait : callable(), optional
            Called about twice a second while waiting (e.g. to report "waiting").

        Raises
        ------
        ZspaceError
            :data:`BUSY_MESSAGE` when no slot came free in time.
        """
        deadline = time.monotonic() + wait
        while True:
            descriptor = next((d for d in (self._try(i) for i in range(self.count)) if d is not None), None)
            if descriptor is not None or time.monotonic() >= deadline:
                break
            if on_wait is not None:
                on_wait()
            time.sleep(0.5)
        if descriptor is None:
            raise SlotsBusy()
        try:
            yield
        finally:
            os.close(descriptor)  # closing the descriptor releases the flock
