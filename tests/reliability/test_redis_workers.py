"""Several web workers on one real Redis, with a Celery worker for the background jobs.

A real ``redis-server`` on a free loopback port (no persistence, its own
folder), two gunicorn servers with one worker each on two ports — so a test
can choose which worker answers, as a load balancer would — sharing that Redis
and one cache folder, and one ``zspace worker``. Without ``redis-server`` the
test skips, except in CI (``CI`` or ``ZSPACE_REQUIRE_BROWSER=1``), where it fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from app.views import maps, planes
from tools.bench.load import PROJECT_ROOT, free_port, gunicorn_server, server_env
from tools.bench.requests import callback_body, find_dependency, valid_values

pytestmark = pytest.mark.slow

REDIS_SERVER = shutil.which("redis-server")
if REDIS_SERVER is None:
    if os.environ.get("ZSPACE_REQUIRE_BROWSER") == "1" or os.environ.get("CI"):
        raise RuntimeError("redis-server is missing (apt-get install redis-server); CI must run the Redis test")
    pytest.skip("redis-server not installed (apt-get install redis-server)", allow_module_level=True)

RUN = "cloud"
#: Seconds the t-SNE job may take from the first request to its answer.
JOB_TIMEOUT_S = 240


@contextlib.contextmanager
def redis_server(folder: Path):
    """A throw-away redis-server on 127.0.0.1 (no snapshots, no append-only file); yield its URL."""
    port = free_port()
    command = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with open(folder / "redis.log", "wb") as log:
        proc = subprocess.Popen([*command, "--dir", str(folder)], stdout=log, stderr=log)
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    break
            assert proc.poll() is None and time.monotonic() < deadline, (folder / "redis.log").read_text()
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0", client
    finally:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def celery_worker(runs: Path, cache: Path, env_extra: dict, log_path: Path):
    """``zspace worker`` (one job at a time) until the ``with`` block ends."""
    env = server_env(runs, cache, env_extra)
    command = [sys.executable, "-m", "zspace.cli", "worker", "--runs", str(runs), "--concurrency", "1"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [*command, "--cache-dir", str(cache)], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 180
        while " ready." not in log_path.read_text(errors="replace"):
            assert proc.poll() is None, log_path.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the Celery worker did not start in 180 s"
            time.sleep(0.5)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def post(url: str, body: dict, query: dict | None = None) -> tuple[int, dict]:
    target = f"{url}/_dash-update-component" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    request = urllib.request.Request(
        target, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 - loopback
        text = answer.read().decode()
        return answer.status, (json.loads(text) if text else {})


def dependencies(url: str) -> list[dict]:
    with urllib.request.urlopen(url + "/_dash-dependencies", timeout=30) as answer:  # noqa: S310 - loopback
        return json.loads(answer.read())


def end_id(url: str) -> str:
    """The signed page-load token a browser gets in the page's ``_dash-config`` (background handles bind to it)."""
    with urllib.request.urlopen(url + "/", timeout=30) as answer:  # noqa: S310 - loopback
        page = answer.read().decode()
    config = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(config.group(1))["end_id"]


def worker_pid(log: Path) -> int:
    """The pid of the (only) worker gunicorn booted, from its log."""
    return int(re.findall(r"Booting worker with pid: (\d+)", log.read_text(errors="replace"))[-1])


def computed(log: Path, what: str) -> list[int]:
    """Pids that logged computing ``what`` (a memo miss) in a server log."""
    return [
        int(pid) for pid in re.findall(rf"\[(\d+)\] app\.store INFO: computed {re.escape(what)} of ", log.read_text())
    ]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """Redis, a Celery worker and two single-worker gunicorns on one runs folder and one cache folder."""
    from tools.fixtures import write_run
    from tools.synthetic import filament_cloud

    root = tmp_path_factory.mktemp("redis-deployment")
    runs, cache, logs = root / "runs", root / "cache", root / "logs"
    logs.mkdir()
    write_run(runs, RUN, "ae", np.asarray(filament_cloud(10, 150, 8, noise=0.02, random_state=3)) * 2.0, seed=3)
    with redis_server(root) as (redis_url, client):
        extra = {"ZSPACE_REDIS_URL": redis_url}
        with (
            celery_worker(runs, cache, extra, logs / "celery.log"),
            gunicorn_server(runs, cache, workers=1, extra_env=extra, log_path=logs / "a.log") as (url_a, _),
            gunicorn_server(runs, cache, workers=1, extra_env=extra, log_path=logs / "b.log") as (url_b, _),
        ):
            yield {"a": url_a, "b": url_b, "logs": logs, "redis": client, "cache": cache}


def test_a_result_computed_through_one_worker_is_served_from_redis_by_the_other(deployment):
    url_a, url_b, logs = deployment["a"], deployment["b"], deployment["logs"]
    pid_a, pid_b = worker_pid(logs / "a.log"), worker_pid(logs / "b.log")
    assert pid_a != pid_b, "the two web workers must be different processes"

    plane = find_dependency(dependencies(url_a), f"{planes.GRAPH['a']}.figure")
    values = valid_values(RUN, None) | {f"{planes.KIND}.value": "pca", f"{planes.COLOUR}.value": "none"}
    body = callback_body(plane, values, [f"{planes.KIND}.value"])
    what = "coords:pca:0:1"

    status_a, answer_a = post(url_a, body)
    assert status_a == 200
    assert computed(logs / "a.log", what) == [pid_a], (logs / "a.log").read_text(errors="replace")[-3000:]
    # The memoised coordinates live in Redis under the dashboard's prefix, not in a cache file.
    assert any(what in key.decode() for key in deployment["redis"].keys("zspace:*")), "nothing of ours in Redis"
    assert not any((deployment["cache"] / "flask").glob("*")), "with Redis no array cache file is written"

    status_b, answer_b = post(url_b, body)
    assert status_b == 200
    assert computed(logs / "b.log", what) == [], "worker B recomputed what worker A had put in Redis"
    count_a = answer_a["response"][planes.COUNT["a"]]["children"]
    assert count_a == answer_b["response"][planes.COUNT["a"]]["children"]
    assert "of 1,500 points" in count_a


def test_a_tsne_job_started_through_one_worker_is_polled_and_finished_through_the_other(deployment):
    url_a, url_b, logs = deployment["a"], deployment["b"], deployment["logs"]
    job = find_dependency(dependencies(url_a), f"{maps.STATUS}.children")
    values = valid_values(RUN, None) | {
        f"{maps.GO}.n_clicks": 1,
        f"{maps.FOR_SIDE}.value": "a",
        f"{maps.POINTS}.value": 1000,
        f"{maps.PERPLEXITY}.value": 30,
        f"{maps.REDUCE}.value": 2,
    }
    body = callback_body(job, values, [f"{maps.GO}.n_clicks"])
    token = end_id(url_a)  # the page was loaded from worker A

    status, started = post(url_a, body, {"endId": token})
    assert status in (200, 202) and "cacheKey" in started and "job" in started, started
    handles = {"cacheKey": started["cacheKey"], "job": started["job"], "endId": token}

    deadline, answer, progress = time.monotonic() + JOB_TIMEOUT_S, None, []
    while time.monotonic() < deadline:
        status, polled = post(url_b, body, handles)  # every poll goes to worker B
        progress.append(polled.get("progress"))
        if "response" in polled:
            answer = polled["response"][maps.STATUS]["children"]
            break
        time.sleep(0.5)
    assert answer is not None, (
        f"no answer through worker B within {JOB_TIMEOUT_S} s; celery log: "
        + (logs / "celery.log").read_text(errors="replace")[-2000:]
    )
    assert re.match(r"t-SNE of 1,000 points of cloud ready", answer), answer
    assert any(progress), "worker B relayed the job's progress while it ran"
    # The job ran on the Celery worker, not in either web worker.
    assert re.search(r"Task background_callback_\w+\[[\w-]+\] succeeded", (logs / "celery.log").read_text())

    # Worker B lists the new map: it reads the map the Celery worker stored in the shared cache folder.
    picker = find_dependency(dependencies(url_b), f"{maps.PICKED['a']}.options")
    status, listed = post(url_b, callback_body(picker, values, [f"{planes.KIND}.value"]))
    labels = [option["label"] for option in listed["response"][maps.PICKED["a"]]["options"]]
    assert any("t-SNE after PCA-2" in label and "1,000 points" in label for label in labels), labels
