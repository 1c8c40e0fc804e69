"""``zspace sweep`` with ``ZSPACE_REDIS_URL``: each run a sealed task of a real ``zspace worker`` on a real Redis."""

from __future__ import annotations

import re
import time

import pytest

import rundir
from rundir.sweep import read_sweep
from tests.reliability.deployment import Redis, Worker, require_redis

pytestmark = pytest.mark.slow
require_redis()

SMALL = ["--data", "synthetic:200", "--image-size", "32", "--z-dim", "8", "--epochs", "1", "--batch-size", "50"]


@pytest.fixture(scope="module")
def queue(tmp_path_factory):
    """A throw-away Redis and one ``zspace worker`` on an empty runs folder (cache folder beside it)."""
    root = tmp_path_factory.mktemp("redis-sweep")
    runs, cache, logs = root / "runs", root / "cache", root / "logs"
    runs.mkdir()
    logs.mkdir()
    redis = Redis(root)
    redis.start()
    worker = Worker(runs, cache, {"ZSPACE_REDIS_URL": redis.url}, logs / "celery.log")
    try:
        yield {"runs": runs, "cache": cache, "redis": redis, "worker": worker}
    finally:
        worker.stop()
        redis.kill()


def _answer(queue, run, args) -> dict:
    """Send one member task by hand and open its sealed answer."""
    from app.celery_jobs import celery_app
    from app.job_results import Seal
    from app.jobs import signing_secret
    from zspace.sweep_jobs import MEMBER_TASK, SEALED_OUTCOME

    task = celery_app(queue["redis"].url).send_task(MEMBER_TASK, args=args)
    deadline = time.monotonic() + 120
    while task.state != "SUCCESS":
        assert task.state in ("PENDING", "STARTED") and time.monotonic() < deadline, (task.state, task.result)
        time.sleep(0.2)
    return Seal(signing_secret(queue["cache"])).open(SEALED_OUTCOME, str(run), task.result)


def test_a_sweep_trains_each_run_as_a_task_of_the_worker(queue, monkeypatch, capsys):
    from zspace.cli import main

    folder = queue["runs"] / "betas"
    monkeypatch.setenv("ZSPACE_REDIS_URL", queue["redis"].url)
    assert main(["sweep", *SMALL, "--beta", "0,2", "--analyses", "none", "--out", str(folder)]) == 0
    assert "sent 2 runs to the workers" in capsys.readouterr().out
    members = read_sweep(folder)["members"]
    assert [(m["run"], m["state"]) for m in members] == [("beta-0", "complete"), ("beta-2", "complete")]
    assert all(r.usable for r in rundir.list_runs(queue["runs"]))
    # The worker trained them (this process only sent and waited), with a heartbeat while each ran.
    log = queue["worker"].log()
    assert len(re.findall(r"Task zspace\.sweep\.member\[[\w-]+\] succeeded", log)) == 2, log[-3000:]
    for model in ("AE", "VAE"):
        assert re.search(rf"trained {model} on the [\d,]+ train-split images of 200 to epoch 1/1", log), log[-3000:]
    assert len(queue["redis"].client.keys("zspace-job-beat:*")) == 2


def test_the_worker_refuses_an_unsealed_task_and_a_folder_outside_its_runs(queue, tmp_path):
    from app.job_results import Seal
    from app.jobs import signing_secret
    from zspace.sweep_jobs import sealed_task

    inside = queue["runs"] / "betas" / "beta-9"
    forged = Seal("a guess, not the deployment's secret")
    answer = _answer(queue, inside, sealed_task(forged, inside, 9.0, {"data": "synthetic:50"}, "none"))
    assert answer["state"] == "failed" and "not sealed with this deployment's secret" in answer["message"]
    outside = tmp_path / "elsewhere" / "beta-0"
    outside.mkdir(parents=True)
    seal = Seal(signing_secret(queue["cache"]))
    answer = _answer(queue, outside, sealed_task(seal, outside, 0.0, {"data": "synthetic:50"}, "none"))
    assert answer["state"] == "failed" and "not a run of a sweep in this worker's --runs folder" in answer["message"]
    assert not inside.exists() and list(outside.iterdir()) == []
