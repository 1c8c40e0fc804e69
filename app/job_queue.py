"""The broker's side of stopped workers: find a job's message in Redis and put it back on the queue.

With late acknowledgement a job's message stays in kombu's ``unacked`` hash
while the job runs. When the worker dies it stays there until Redis's
visibility timeout (30 minutes, :data:`app.celery_jobs.VISIBILITY_TIMEOUT_S`)
hands it to another worker. A job's heartbeat (``zspace-job-beat:<task id>``,
written by the job every few seconds) says sooner that nobody runs it any
more: :func:`requeue_stalled` (``zspace worker``, at start and every
:data:`SWEEP_S` seconds) and a polling page (:func:`requeue`) move such a
message back to its queue with kombu's own restore, so the next free worker
takes it.
"""

from __future__ import annotations

import json
import logging
import threading
import time

log = logging.getLogger(__name__)

#: A job whose heartbeat is older than this is taken for stopped (a page says so within this + one poll).
STALE_S = 30.0
#: Seconds between two sweeps of ``zspace worker`` for jobs of stopped workers.
SWEEP_S = 15.0
#: Redis key of a running job's last heartbeat, by Celery task id.
BEAT_PREFIX = "zspace-job-beat:"


def _task_of(entry: bytes) -> str | None:
    try:
        message = json.loads(entry)[0]
        return str(message["headers"]["id"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def locate(client, task_id: str, queue: str = "celery") -> str | None:
    """Where the job's message is: ``"unacked"`` (delivered, not finished), ``"queue"`` (waiting), or None (gone)."""
    for entry in client.hvals("unacked"):
        if _task_of(entry) == task_id:
            return "unacked"
    for entry in client.lrange(queue, 0, -1):
        try:
            if json.loads(entry)["headers"]["id"] == task_id:
                return "queue"
        except (ValueError, KeyError, TypeError):
            continue
    return None


def requeue(celery, task_id: str) -> bool:
    """Put the delivered but unfinished message of ``task_id`` back on its queue (kombu's own restore)."""
    client = celery.backend.client
    for tag, entry in client.hgetall("unacked").items():
        if _task_of(entry) == task_id:
            with celery.connection_for_write() as connection:
                connection.default_channel.qos.restore_by_tag(tag.decode() if isinstance(tag, bytes) else tag)
            log.warning("re-queued job %s: its worker stopped (no heartbeat for %.0f s)", task_id, STALE_S)
            return True
    return False


def requeue_stalled(celery) -> int:
    """Re-queue every delivered job whose worker stopped: no heartbeat for :data:`STALE_S` s. Returns how many."""
    client = celery.backend.client
    now, moved = time.time(), 0
    delivered = {
        (tag.decode() if isinstance(tag, bytes) else tag): score
        for tag, score in client.zrange("unacked_index", 0, -1, withscores=True)
    }
    for tag, entry in client.hgetall("unacked").items():
        task_id = _task_of(entry)
        if not task_id:
            continue
        tag = tag.decode() if isinstance(tag, bytes) else tag
        beat = client.get(BEAT_PREFIX + task_id)
        try:  # a job that never beat counts from its delivery
            last = float(json.loads(beat)["beat"]) if beat else float(delivered.get(tag, now))
        except (ValueError, KeyError, TypeError):
            last = float(delivered.get(tag, now))
        if now - last > STALE_S and requeue(celery, task_id):
            moved += 1
    return moved


def sweep_forever(celery, stop: threading.Event) -> None:
    """Run :func:`requeue_stalled` now and every :data:`SWEEP_S` seconds until ``stop`` is set (``zspace worker``)."""
    while True:
        try:
            requeue_stalled(celery)
        except Exception as exc:  # Redis down, most likely: the next sweep tries again
            log.warning("could not look for jobs of stopped workers: %s: %s", type(exc).__name__, exc)
        if stop.wait(SWEEP_S):
            return


def keep_delivered(client, task_id: str) -> bool:
    """Date the delivered message of a running job as delivered now; False when it is not (or no longer) delivered.

    Redis's visibility timeout hands a message back to the queue once it has been
    delivered for :data:`app.celery_jobs.VISIBILITY_TIMEOUT_S`, whatever its job is
    doing. A job that may run longer (a run of ``zspace sweep`` trains for hours)
    calls this with each heartbeat, so its message is handed to another worker
    only when the heartbeat stops (:func:`requeue_stalled`), never while it runs.
    """
    for tag, entry in client.hgetall("unacked").items():
        if _task_of(entry) == task_id:
            client.zadd("unacked_index", {tag: time.time()}, xx=True)
            return True
    return False
