"""The Celery manager's answers to a polling page, one case at a time, against an in-memory stand-in for Redis.

The real thing (redis-server, ``zspace worker``, gunicorn) is exercised in
``tests/reliability/test_redis_workers.py``; here each rare case — a forged
entry while the job runs, Redis restarted empty, a stale heartbeat with the
message still delivered or gone, the queue down at start — is set up directly.
"""

from __future__ import annotations

import json
import time

import pytest

from app import celery_jobs, job_queue
from app.celery_jobs import LOST, QUEUE_DOWN, REQUEUED, UNVERIFIED, SignedCeleryManager, celery_app
from app.job_results import NO_UPDATE, TEXT
from app.views import progress

SECRET = "k" * 32
JOB = "abc123"  # a background callback's key
KEY = "result-key"


class FakeRedis:
    """The few redis-py calls the manager makes, on dicts."""

    def __init__(self):
        self.values, self.hashes, self.lists = {}, {}, {}

    def get(self, key):
        value = self.values.get(key)
        return value.encode() if isinstance(value, str) else value

    def set(self, key, value, ex=None, nx=False):
        if nx and key in self.values:
            return False
        self.values[key] = value
        return True

    def exists(self, key):
        return int(key in self.values)

    def delete(self, *keys):
        for key in keys:
            self.values.pop(key, None)

    def hvals(self, name):
        return list(self.hashes.get(name, {}).values())

    def hgetall(self, name):
        return dict(self.hashes.get(name, {}))

    def lrange(self, name, start, end):
        return list(self.lists.get(name, []))


@pytest.fixture
def manager(monkeypatch):
    fake = FakeRedis()
    monkeypatch.setattr(SignedCeleryManager, "client", property(lambda self: fake))
    made = SignedCeleryManager(celery_app("redis://127.0.0.1:1/0"), SECRET)
    made.results[JOB] = TEXT
    made.results["prepare"] = progress.PREPARED
    made.fake = fake
    return made


def progress_entry(manager, **body):
    key = manager._make_progress_key(KEY)
    manager.fake.values[key] = json.dumps([manager.seal.close("progress", key, {"job": JOB, **body})])


def message(task_id: str, delivered: bool = True) -> str:
    """kombu's Redis transport: a queue holds the message, the ``unacked`` hash [message, exchange, routing key]."""
    raw = {"headers": {"id": task_id}, "body": ""}
    return json.dumps([raw, "celery", "celery"] if delivered else raw)


def test_a_forged_result_waits_for_the_real_one_while_the_job_beats(manager):
    task = f"{JOB}.1"
    progress_entry(manager, value=[1, 10, "affinities"], beat=time.time(), task=task)
    manager.fake.values[KEY] = json.dumps({"type": "Iframe", "props": {"srcDoc": "<script>"}})
    assert manager.get_result(KEY, task) is manager.UNDEFINED
    assert manager.get_progress(KEY) == [1, 10, "affinities"]
    # The job's own sealed result replaces it and is handed over.
    manager.fake.values[KEY] = json.dumps(manager.seal.close("result", KEY, {"job": JOB, "value": "map ready"}))
    assert manager.get_result(KEY, task) == "map ready"
    assert KEY not in manager.fake.values  # read once, then forgotten


def test_a_sealed_result_of_another_job_or_shape_is_refused(manager):
    task = f"{JOB}.2"
    progress_entry(manager, value=None, beat=time.time(), task=task)
    manager.fake.values[KEY] = json.dumps(manager.seal.close("result", KEY, {"job": JOB, "value": {"type": "Div"}}))
    assert manager.get_result(KEY, task) == UNVERIFIED
    manager.fake.values[KEY] = json.dumps(manager.seal.close("result", KEY, {"job": "prepare", "value": "x"}))
    assert manager.get_result(KEY, task) == UNVERIFIED  # sealed for the progress job, presented for the map job


def test_a_stale_heartbeat_with_the_message_still_delivered_re_queues_it(manager, monkeypatch):
    task, moved = f"{JOB}.3", []

    def requeue(celery, task_id):  # what kombu's restore does: from the unacked hash back to the queue
        moved.append(task_id)
        manager.fake.hashes["unacked"].pop(b"tag-1")
        manager.fake.lists["celery"] = [message(task_id, delivered=False)]
        return True

    monkeypatch.setattr(celery_jobs, "requeue", requeue)
    progress_entry(manager, value=[4, 10, "optimising"], beat=time.time() - job_queue.STALE_S - 1, task=task)
    manager.fake.hashes["unacked"] = {b"tag-1": message(task)}
    assert manager.get_progress(KEY) == [4, 10, REQUEUED] and moved == [task]
    # While it waits in the queue: the same line, nothing moved twice, and the page keeps polling for the re-run.
    assert manager.get_result(KEY, task) is manager.UNDEFINED
    assert manager.get_progress(KEY) == [4, 10, REQUEUED] and moved == [task]


def test_a_stale_heartbeat_with_the_message_gone_says_start_it_again_in_the_jobs_shape(manager):
    task = f"prepare.{4}"
    progress_entry(manager, value=[0, 3, "PCA of big"], beat=time.time() - job_queue.STALE_S - 1, task=task)
    assert manager.get_progress(KEY) == [0, 3, LOST]
    assert manager.get_result(KEY, task) == [NO_UPDATE, LOST]  # the progress view's two outputs
    assert manager.get_result(KEY, f"{JOB}.5") == LOST  # Redis forgot the job altogether: said, not polled forever


def test_a_fresh_heartbeat_or_a_short_wait_in_the_queue_says_nothing_extra(manager):
    progress_entry(manager, value=[2, 10, "affinities"], beat=time.time() - job_queue.STALE_S + 5, task=f"{JOB}.6")
    assert manager.get_progress(KEY) == [2, 10, "affinities"]
    progress_entry(manager, value=None, queued=time.time() - 5, task=f"{JOB}.6")
    assert manager.get_progress(KEY) is None


def test_the_queue_down_at_start_gives_one_line_and_no_polling(manager, monkeypatch):
    import kombu.exceptions

    class Task:
        name = "background_callback_prepare"

        def apply_async(self, **_kwargs):
            raise kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    job = manager.call_job_fn(KEY, Task(), [1], {})
    assert job == "unreachable:prepare" and not manager.job_running(job)
    assert manager.get_result(KEY, job) == [NO_UPDATE, QUEUE_DOWN]


def test_the_worker_sweep_re_queues_only_jobs_whose_worker_stopped(monkeypatch):
    now = time.time()
    fake = FakeRedis()
    fake.zrange = lambda name, start, end, withscores=False: [
        (tag, score) for tag, score in fake.hashes.get("unacked_index", {}).items()
    ]
    jobs = {  # task: (delivered at, last beat or None)
        "stopped": (now - 300, now - job_queue.STALE_S - 1),
        "running": (now - 300, now - 2),
        "never-began": (now - job_queue.STALE_S - 1, None),
        "just-taken": (now - 3, None),
    }
    fake.hashes["unacked"] = {f"tag-{t}".encode(): message(t) for t in jobs}
    fake.hashes["unacked_index"] = {f"tag-{t}".encode(): at for t, (at, _) in jobs.items()}
    for task, (_, beat) in jobs.items():
        if beat is not None:
            fake.values[job_queue.BEAT_PREFIX + task] = json.dumps({"beat": beat})
    fake.values[job_queue.BEAT_PREFIX + "garbage"] = "not json"
    fake.hashes["unacked"][b"tag-garbage"] = message("garbage")

    class Celery:
        class backend:
            client = fake

    moved = []
    monkeypatch.setattr(job_queue, "requeue", lambda celery, task_id: moved.append(task_id) or True)
    assert job_queue.requeue_stalled(Celery) == 2
    assert sorted(moved) == ["never-began", "stopped"]  # "garbage" was delivered now (no index entry): left alone
