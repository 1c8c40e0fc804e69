"""Background jobs on Celery and Redis that survive their engines: the queue down, a worker killed, a forged result.

``zspace worker`` runs the dashboard's background callbacks as Celery tasks;
:class:`SignedCeleryManager` is Dash's ``CeleryManager`` with these changes:

* **Sealed results and progress** (:mod:`app.job_results`): a job writes only
  sealed envelopes; the server opens them, checks the shape its job declared,
  and drops anything else with one log line. Values that Dash would apply to
  arbitrary components from Redis (``set_props``) are never read.
* **A heartbeat in the progress**: a thread of the running job rewrites its
  progress every :data:`HEARTBEAT_S` seconds. A poll that finds it older than
  :data:`app.job_queue.STALE_S` says "the worker stopped; the job was re-queued" and puts the
  job's message back on the queue (late acknowledgement keeps it in Redis while
  it runs), or "the worker stopped and the job was lost; start it again" when the
  message is gone. ``zspace worker`` re-queues such jobs itself when it starts and
  every few seconds (:func:`app.job_queue.requeue_stalled`), so a restarted worker
  finishes them without waiting for Redis's visibility timeout.
* **No remote control**: workers do not listen for broadcasts (a ``shutdown``
  sent through Redis reaches nobody); a cancel is a flag in Redis that the job
  checks at its next progress step.
* **An unreachable queue** is one line in the page ("the job queue is
  unreachable") and one line in the log per outage, never a failed request.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid

from dash import CeleryManager

from app.cache import RedisOutage
from app.job_queue import BEAT_PREFIX, STALE_S, locate, requeue
from app.job_results import NO_UPDATE, Seal, plain_progress, result_of

log = logging.getLogger(__name__)

#: Seconds between two heartbeats of a running job.
HEARTBEAT_S = 5.0
#: A job no worker has started after this long gets a line saying so.
QUEUE_WAIT_S = 30.0
#: The longest a job may run (the longest measured: a 20,000-point t-SNE, about a minute on 2 cores; the rates of
#: two runs, about two): beyond it the job stops with a message. Redis redelivers a message not acknowledged
#: within the visibility timeout, so that is set above it: no running job is ever handed to a second worker.
JOB_TIME_LIMIT_S = 25 * 60
VISIBILITY_TIMEOUT_S = 30 * 60
#: How long results, progress and flags stay in Redis.
EXPIRE_S = 24 * 3600
#: Redis keys of ours beside Celery's (the array cache uses ``zspace:``; heartbeats: app.job_queue.BEAT_PREFIX).
CANCEL_PREFIX = "zspace-job-cancel:"
#: Job ids handed to the browser when the queue could not take a job (signed by Dash like real ones).
UNREACHABLE = "unreachable:"

QUEUE_DOWN = "the job queue is unreachable (Redis); the job was not started: try again when it is back"
QUEUE_DOWN_WHILE_RUNNING = "the job queue is unreachable (Redis); this page checks again every few seconds"
REQUEUED = "the worker stopped; the job was re-queued and starts again when a worker takes it"
LOST = "the worker stopped and the job was lost; start it again"
NO_WORKER = "no worker has taken the job for {seconds:.0f} s: is `zspace worker` running?"
UNVERIFIED = "the job's result did not pass verification and was dropped; start it again"
FAILED = "the job failed on the worker (its log says why); start it again"
TOO_LONG = f"the job ran longer than {JOB_TIME_LIMIT_S // 60} minutes and was stopped"


class JobCancelled(Exception):
    """Raised inside a job at its next progress step after the page cancelled it."""


def celery_app(redis_url: str):
    """The Celery application of the background callbacks: broker and result store on ``redis_url``.

    JSON only (never pickle); late acknowledgement with ``task_reject_on_worker_lost`` (a job whose
    worker dies goes back to the queue); remote control off; short socket timeouts.
    """
    from celery import Celery

    app = Celery("zspace", broker=redis_url, backend=redis_url)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        # One job at a time per worker process; a message stays unacknowledged (in Redis) until its job is done.
        worker_prefetch_multiplier=1,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # Results travel as sealed entries Dash writes; Celery's own result records (and the result consumer
        # that subscribes to them, which needs a restart after a Redis outage) are not used.
        task_ignore_result=True,
        task_soft_time_limit=JOB_TIME_LIMIT_S,
        broker_transport_options={
            "visibility_timeout": VISIBILITY_TIMEOUT_S,
            "socket_connect_timeout": 2,
            "socket_timeout": 10,
        },
        redis_socket_connect_timeout=2,
        redis_socket_timeout=10,
        # A queue that is down refuses a new job within about a second instead of retrying for long.
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2},
        broker_connection_retry_on_startup=True,
        # Nobody who can write to Redis can stop, reconfigure or inspect a worker through broadcasts.
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        result_expires=EXPIRE_S,
    )
    return app


def _redis_errors() -> tuple:
    import kombu.exceptions
    import redis

    return (redis.ConnectionError, redis.TimeoutError, kombu.exceptions.OperationalError, ConnectionError, OSError)


_BEATS = RedisOutage(off="running jobs cannot report their progress", back="running jobs report their progress again")


class _Beat:
    """The running job's side: sealed progress with a heartbeat, and the cancel flag."""

    def __init__(self, client, seal: Seal, progress_key: str, task_id: str, job_key: str):
        self.client, self.seal = client, seal
        self.progress_key, self.task_id, self.job_key = progress_key, task_id, job_key
        self.value = None
        self.cancelled = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="zspace-job-heartbeat", daemon=True)

    def write(self) -> None:
        now = time.time()
        body = {"value": self.value, "beat": now, "task": self.task_id, "job": self.job_key}
        envelope = json.dumps([self.seal.close("progress", self.progress_key, body)])
        try:
            with self._lock:
                pipe = self.client.pipeline()
                pipe.set(self.progress_key, envelope, ex=EXPIRE_S)
                pipe.set(BEAT_PREFIX + self.task_id, json.dumps({"beat": now}), ex=EXPIRE_S)
                pipe.exists(CANCEL_PREFIX + self.task_id)
                cancelled = pipe.execute()[-1]
        except _redis_errors() as exc:  # the job keeps computing; its result is written when Redis is back
            _BEATS.failed(exc)
            return
        _BEATS.answered()
        if cancelled:
            self.cancelled.set()

    def update(self, value) -> None:
        """Record new progress (a (value, max, text) tuple) and write it now."""
        from app.job_results import canonical

        self.value = json.loads(canonical(value))
        self.write()
        if self.cancelled.is_set():
            raise JobCancelled()

    def _run(self):
        while not self._stop.wait(HEARTBEAT_S):
            self.write()

    def __enter__(self):
        self.write()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=HEARTBEAT_S)


def _sealed_job(fn, job_key: str, seal: Seal, celery, progress: bool):
    """Wrap a job so that everything it hands back through Redis is sealed, with a heartbeat while it runs."""

    def job(*args, **kwargs):
        from celery import current_task
        from celery.exceptions import SoftTimeLimitExceeded
        from dash.exceptions import PreventUpdate

        request = current_task.request
        result_key, progress_key = request.args[0], request.args[1]
        client = celery.backend.client
        body = {"job": job_key}
        with _Beat(client, seal, progress_key, request.id, job_key) as beat:
            try:
                if beat.cancelled.is_set():
                    raise JobCancelled()
                body["value"] = fn(beat.update, *args[1:], **kwargs) if progress else fn(*args, **kwargs)
            except JobCancelled:
                body["value"] = NO_UPDATE
            except PreventUpdate:
                body["value"] = NO_UPDATE
            except SoftTimeLimitExceeded:
                body["failed"] = TOO_LONG
            except Exception:  # a bug: the worker's log has the traceback, the page one line
                log.exception("background job %s failed", job_key[:12])
                body["failed"] = FAILED
        return seal.close("result", result_key, body)

    return job


class SignedCeleryManager(CeleryManager):
    """Dash's Celery manager with sealed results, heartbeats, re-queueing and no remote control (module notes)."""

    def __init__(self, celery, secret: str | bytes):
        # Set before Dash's constructor, which registers (make_job_fn) every background callback declared so far.
        self.seal = Seal(secret)
        self.results: dict = {}
        self._warned: dict = {}
        self.outage = RedisOutage(
            off="background jobs cannot start or report; pages say 'the job queue is unreachable'",
            back="background jobs start and report again",
        )
        super().__init__(celery)

    @property
    def client(self):
        """The redis-py client of the result store."""
        return self.handle.backend.client

    # -- the worker's side ----------------------------------------------------------------------
    def make_job_fn(self, fn, progress, key=None):
        self.results[key] = result_of(fn)
        return super().make_job_fn(_sealed_job(fn, key, self.seal, self.handle, bool(progress)), progress, key)

    # -- the server's side ----------------------------------------------------------------------
    def call_job_fn(self, key, job_fn, args, context):
        job_key = job_fn.name.removeprefix("background_callback_")
        # The task id names the job it runs, so every answer about it (even once Redis forgot it) has that job's shape.
        task_id = f"{job_key}.{uuid.uuid4().hex}"
        try:
            job_fn.apply_async(args=(key, self._make_progress_key(key), args, context), task_id=task_id)
            queued = {"value": None, "queued": time.time(), "task": task_id, "job": job_key}
            progress_key = self._make_progress_key(key)
            envelope = json.dumps([self.seal.close("progress", progress_key, queued)])
            self.client.set(progress_key, envelope, ex=EXPIRE_S, nx=True)
        except _redis_errors() as exc:
            self.outage.failed(exc)
            return f"{UNREACHABLE}{job_key}"
        self.outage.answered()
        return task_id

    def _progress(self, key) -> dict | None:
        """The opened progress envelope of a job (None when absent or not sealed by us)."""
        progress_key = self._make_progress_key(key)
        raw = self.client.get(progress_key)
        if raw is None:
            return None
        stored = _json(raw)
        body = self.seal.open("progress", progress_key, stored[0] if isinstance(stored, list) and stored else None)
        if body is None:
            self._dropped(progress_key, "progress that this server did not seal")
        return body

    def get_progress(self, key):
        try:
            body = self._progress(key)
            if body is None:
                return None
            value = body.get("value")
            if value is not None and not plain_progress(value):
                self._dropped(key, "progress of an unexpected shape")
                value = None
            line = None if self.client.exists(key) else self._stalled(key, body)  # a result is read next
        except _redis_errors() as exc:
            self.outage.failed(exc)
            return [None, None, QUEUE_DOWN_WHILE_RUNNING]
        self.outage.answered()
        if line is None:
            return value
        return [*(value or [None, None, ""])[:2], line]

    def _stalled(self, key, body) -> str | None:
        """The line to show when the job's worker stopped or no worker took it, else None (re-queues when it can)."""
        now = time.time()
        started = isinstance(body.get("beat"), int | float)
        since = body.get("beat") if started else body.get("queued")
        if not isinstance(since, int | float) or now - since <= (STALE_S if started else QUEUE_WAIT_S):
            return None
        task_id = str(body.get("task", ""))
        where = locate(self.client, task_id)
        if where == "unacked":
            requeue(self.handle, task_id)
            return REQUEUED
        if where == "queue":
            return REQUEUED if started else NO_WORKER.format(seconds=now - since)
        return LOST

    def get_result(self, key, job):
        job = "" if job is None else str(job)
        if job.startswith(UNREACHABLE):
            return self._failed(_job_key(job), QUEUE_DOWN)
        try:
            body, answer = self._sealed_result(key, job)
        except _redis_errors() as exc:
            self.outage.failed(exc)
            return self.UNDEFINED
        if body is None:
            return answer
        self.outage.answered()
        if "failed" in body:
            return self._failed(_job_key(job), str(body["failed"]))
        value = body.get("value")
        if value == NO_UPDATE:
            return value
        if body.get("job") != _job_key(job) or not self.results.get(_job_key(job), result_of(None)).check(value):
            self._dropped(key, "a sealed job result of an unexpected shape")
            return self._failed(_job_key(job), UNVERIFIED)
        return value

    def _sealed_result(self, key, job: str):
        """(the job's sealed result, None), or (None, what get_result answers) while there is no result of ours."""
        raw = self.client.get(key)
        body = self.seal.open("result", key, _json(raw)) if raw is not None else None
        if raw is not None and body is None:
            self._dropped(key, "a job result that this server did not seal")
        if body is not None:
            self._forget(key, job)
            return body, None
        # No result of ours yet. Finished only if the job stopped beating and its message is gone, or if
        # Redis forgot the job altogether (restarted empty: its progress entry, written at start, is gone).
        progress = self._progress(key)
        if progress is None and not self.client.exists(self._make_progress_key(key)):
            return None, self._failed(_job_key(job), LOST)
        if progress is not None and self._stalled(key, progress) == LOST:
            self._forget(key, job)
            return None, self._failed(_job_key(job), LOST if raw is None else UNVERIFIED)
        return None, self.UNDEFINED

    def _dropped(self, key: str, what: str) -> None:
        # One log line per job, however often the page polls it.
        if key not in self._warned:
            self._warned[key] = True
            while len(self._warned) > 256:
                self._warned.pop(next(iter(self._warned)))
            log.warning("dropped %s (job %s…)", what, key[:12])

    def _failed(self, job_key, line: str):
        return self.results.get(job_key, result_of(None)).failed(line)

    def _forget(self, key, job: str) -> None:
        self.client.delete(key, self._make_progress_key(key), BEAT_PREFIX + job, CANCEL_PREFIX + job)

    def job_running(self, job):
        # Polling ends when get_result hands over a value: the job's result, or the line saying why there is none
        # (lost, unverified, the queue down). Celery's own task states are not kept (task_ignore_result).
        return job is not None and not str(job).startswith(UNREACHABLE)

    def terminate_job(self, job):
        # A flag the job reads at its next progress step, instead of a broadcast to the workers (remote control is off).
        if job is None or str(job).startswith(UNREACHABLE):
            return
        try:
            self.client.set(CANCEL_PREFIX + str(job), "1", ex=VISIBILITY_TIMEOUT_S)
        except _redis_errors() as exc:
            self.outage.failed(exc)

    def terminate_unhealthy_job(self, job):
        return False

    def get_updated_props(self, key):
        # A job's set_props would let a value in Redis change any property of any component; the jobs never use it.
        return {}

    def result_ready(self, key):
        return self.get_result(key, None) is not self.UNDEFINED


def _job_key(job: str) -> str:
    """The background callback a job id runs (ids are ``<job key>.<random>``, or ``unreachable:<job key>``)."""
    return str(job).removeprefix(UNREACHABLE).split(".", 1)[0]


def _json(raw):
    try:
        return json.loads(raw)
    except (ValueError, TypeError):
        return None
