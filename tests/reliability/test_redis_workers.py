"""A team deployment on one real Redis: two web workers, a Celery worker, and what each of them may do wrong.

Two gunicorn servers (one process each, threaded as documented) on two ports —
so a test chooses which web worker answers, as a load balancer would — share a
real ``redis-server``, one cache folder and one ``zspace worker``
(:mod:`tests.reliability.deployment`). One deployment serves every test of the
module, in this order: the shared cache, a job polled through the other web
worker, a forged result, a killed worker, a file rewritten under the servers
while clients use them, and last Redis itself killed.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from app.celery_jobs import QUEUE_DOWN, REQUEUED, celery_app
from app.job_queue import STALE_S
from app.views import decode, maps, planes
from tests.reliability.deployment import (
    Redis,
    TsneJob,
    Worker,
    computed,
    dependencies,
    post,
    require_redis,
    worker_pids,
)
from tools.bench.load import gunicorn_server
from tools.bench.requests import callback_body, find_dependency, valid_values

pytestmark = pytest.mark.slow
require_redis()

RUN = "cloud"
#: Seconds a t-SNE job may take from the first request to its answer.
JOB_TIMEOUT_S = 240
READY = re.compile(r"t-SNE of 1,000 points of cloud ready")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """Redis, a Celery worker and two single-process gunicorns on one runs folder and one cache folder."""
    from tools.fixtures import write_run
    from tools.synthetic import filament_cloud

    root = tmp_path_factory.mktemp("redis-deployment")
    runs, cache, logs = root / "runs", root / "cache", root / "logs"
    logs.mkdir()
    write_run(runs, RUN, "ae", np.asarray(filament_cloud(10, 150, 8, noise=0.02, random_state=3)) * 2.0, seed=3)
    write_run(runs, "victim", "vae", np.random.default_rng(4).normal(size=(20_000, 8)), seed=4)
    redis = Redis(root)
    redis.start()
    extra = {"ZSPACE_REDIS_URL": redis.url}
    here = {"runs": runs, "cache": cache, "logs": logs, "redis": redis, "extra": extra, "started": []}

    def start_worker(log_name: str) -> Worker:
        """A new ``zspace worker`` that serves the tests from now on; every one started is stopped at the end."""
        here["worker"] = Worker(runs, cache, extra, logs / log_name)
        here["started"].append(here["worker"])
        return here["worker"]

    here["start_worker"] = start_worker
    try:
        start_worker("celery-1.log")
        with (
            gunicorn_server(runs, cache, workers=1, extra_env=extra, log_path=logs / "a.log") as (url_a, _),
            gunicorn_server(runs, cache, workers=1, extra_env=extra, log_path=logs / "b.log") as (url_b, _),
        ):
            here.update(a=url_a, b=url_b)
            yield here
    finally:
        for worker in here["started"]:
            worker.stop()
        redis.kill()


def plane_request(url: str, run: str = RUN) -> tuple[int, dict]:
    plane = find_dependency(dependencies(url), f"{planes.GRAPH['a']}.figure")
    values = valid_values(run, None) | {f"{planes.KIND}.value": "pca", f"{planes.COLOUR}.value": "none"}
    return post(url, callback_body(plane, values, [f"{planes.KIND}.value"]))


def test_a_result_computed_through_one_worker_is_served_from_redis_by_the_other(deployment):
    url_a, url_b, logs = deployment["a"], deployment["b"], deployment["logs"]
    (pid_a,), (pid_b,) = worker_pids(logs / "a.log"), worker_pids(logs / "b.log")
    assert pid_a != pid_b, "the two web workers must be different processes"
    what = "coords:pca:0:1"

    status_a, answer_a = plane_request(url_a)
    assert status_a == 200
    assert computed(logs / "a.log", what) == [pid_a], (logs / "a.log").read_text(errors="replace")[-3000:]
    # The memoised coordinates live in Redis under the dashboard's prefix, not in a cache file.
    assert any(what in key.decode() for key in deployment["redis"].client.keys("zspace:*")), "nothing of ours"
    assert not any((deployment["cache"] / "flask").glob("*")), "with Redis no array cache file is written"

    status_b, answer_b = plane_request(url_b)
    assert status_b == 200
    assert computed(logs / "b.log", what) == [], "worker B recomputed what worker A had put in Redis"
    count_a = answer_a["response"][planes.COUNT["a"]]["children"]
    assert count_a == answer_b["response"][planes.COUNT["a"]]["children"]
    assert "of 1,500 points" in count_a


def test_a_tsne_job_started_through_one_worker_is_polled_and_finished_through_the_other(deployment):
    url_a, url_b = deployment["a"], deployment["b"]
    job = TsneJob(url_a, RUN)  # the page was loaded from worker A
    answer = job.wait(url_b, lambda a: "response" in a, JOB_TIMEOUT_S)  # every poll goes to worker B
    assert READY.match(job.result(answer)), job.result(answer)
    assert any(job.progress_text(a) for a in job.answers), "worker B relayed the job's progress while it ran"
    # The job ran on the Celery worker, not in either web worker.
    assert re.search(r"Task background_callback_\w+\[[\w.-]+\] succeeded", deployment["worker"].log())

    # Worker B lists the new map: it reads the map the Celery worker stored in the shared cache folder.
    picker = find_dependency(dependencies(url_b), f"{maps.PICKED['a']}.options")
    status, listed = post(url_b, callback_body(picker, valid_values(RUN, None), [f"{planes.KIND}.value"]))
    labels = [option["label"] for option in listed["response"][maps.PICKED["a"]]["options"]]
    assert any("t-SNE after PCA-2" in label and "1,000 points" in label for label in labels), labels


def test_a_forged_result_in_redis_never_reaches_the_page_and_broadcasts_reach_no_worker(deployment):
    url_a, url_b, logs = deployment["a"], deployment["b"], deployment["logs"]
    client = deployment["redis"].client
    # Remote control is off: a shutdown broadcast through Redis stops no worker.
    celery_app(deployment["redis"].url).control.broadcast("shutdown")

    job = TsneJob(url_a, RUN, reduce_to=4)
    # What someone with write access to Redis would put there: a script in an Iframe as the result, the same as
    # progress, a set_props for another component, and an envelope that looks sealed but is signed with a guess.
    script = {"type": "Iframe", "namespace": "dash_html_components", "props": {"srcDoc": "<script>alert(1)</script>"}}
    client.set(job.key, json.dumps(script))
    client.set(job.key + "-progress", json.dumps([[0, 1, script]]))
    client.set(job.key + "-set_props", json.dumps({planes.COUNT["a"]: {"children": script}}))
    answer = job.wait(url_b, lambda a: "response" in a, JOB_TIMEOUT_S)
    assert READY.match(job.result(answer)), job.result(answer)
    seen = json.dumps(job.answers)
    assert "srcDoc" not in seen and "Iframe" not in seen and "sideUpdate" not in seen, seen[:2000]
    assert "dropped a job result that this server did not seal" in (logs / "b.log").read_text()
    assert deployment["worker"].proc.poll() is None, "a broadcast stopped the worker"


def test_a_worker_killed_mid_job_is_reported_within_a_minute_and_a_restarted_worker_finishes_it(deployment):
    url_a, url_b = deployment["a"], deployment["b"]
    client, worker = deployment["redis"].client, deployment["worker"]
    job = TsneJob(url_a, RUN, reduce_to=10)
    deadline = time.monotonic() + 60
    while not client.keys("zspace-job-beat:*") or not client.keys(job.key + "-progress"):
        assert time.monotonic() < deadline, "the job never started on the worker"
        time.sleep(0.1)
    worker.kill()  # the worker and its job process, mid-job
    killed = time.monotonic()
    assert client.get(job.key) is None, "the job had already finished: the kill did not land mid-job"

    answer = job.wait(url_b, lambda a: job.progress_text(a) == REQUEUED, 60, every=1.0)
    waited = time.monotonic() - killed
    assert STALE_S <= waited <= 60, f"the page said so after {waited:.0f} s"
    assert "response" not in answer and all("response" not in a for a in job.answers)

    restarted = deployment["start_worker"]("celery-2.log")
    answer = job.wait(url_b, lambda a: "response" in a, JOB_TIMEOUT_S)
    assert READY.match(job.result(answer)), job.result(answer)
    assert re.search(r"Task background_callback_\w+\[[\w.-]+\] succeeded", restarted.log())
    assert "re-queued job" in (deployment["logs"] / "b.log").read_text()


def test_zpoints_rewritten_under_the_servers_costs_requests_one_line_and_never_a_worker(deployment):
    """``cp other.npy zpoints.npy`` over a served run: truncated, then written piece by piece, under load."""
    from tools.bench.requests import KINDS, RequestFactory, answer_problem
    from tools.bench.requests import post as post_text

    urls, logs, runs = (deployment["a"], deployment["b"]), deployment["logs"], deployment["runs"]
    zpoints = runs / "victim" / "zpoints.npy"
    data = zpoints.read_bytes()
    factory = RequestFactory(dependencies(urls[0]), {"victim": np.load(zpoints)})
    booted = {name: worker_pids(logs / f"{name}.log") for name in ("a", "b")}
    answers, stop = [], threading.Event()

    def client(index: int):
        gen, url = random.Random(index), urls[index % 2]
        for count in itertools.count():
            if stop.is_set():
                return
            kind = KINDS[(index + count) % len(KINDS)]
            status, text = post_text(url + "/_dash-update-component", factory.build(kind, gen))
            answers.append((time.monotonic(), kind, status, text))

    pids = [pid for name in ("a", "b") for pid in booted[name]]
    mapped = []

    def watch_maps():  # SIGBUS needs a memory map of the file: look for one while requests are served
        while not stop.is_set():
            mapped.extend(pid for pid in pids if "zpoints.npy" in Path(f"/proc/{pid}/maps").read_text())
            time.sleep(0.02)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(4)]
    threads.append(threading.Thread(target=watch_maps, daemon=True))
    for thread in threads:
        thread.start()
    time.sleep(3)
    started = time.monotonic()
    with open(zpoints, "r+b") as handle:  # what cp does to the file it overwrites: truncate, then write
        handle.truncate(0)
        for at in range(0, len(data), len(data) // 8 + 1):
            time.sleep(0.3)
            handle.write(data[at : at + len(data) // 8 + 1])
            handle.flush()
    ended = time.monotonic()
    time.sleep(4)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)

    # No web worker died or was replaced, and none of them ever had the file mapped.
    for name in ("a", "b"):
        log = (logs / f"{name}.log").read_text(errors="replace")
        assert worker_pids(logs / f"{name}.log") == booted[name] and "SIGBUS" not in log and "exited" not in log
    assert not mapped, f"the web workers {sorted(set(mapped))} mapped zpoints.npy while serving"
    assert all(status == 200 for _, _, status, _ in answers), [a[1:3] for a in answers if a[2] != 200][:5]
    window = [text for at, _, _, text in answers if started <= at <= ended]
    said = [re.search(r"run victim cannot be shown: zpoints\.npy [^\"]*", text) for text in window]
    said = [found.group() for found in said if found]
    assert said, f"{len(window)} requests during the rewrite, none said why: {window[:2]}"
    for line in said:
        assert re.fullmatch(
            r"run victim cannot be shown: zpoints\.npy (is truncated|changed while|is not a valid).*", line
        )
        assert str(runs) not in line and "Traceback" not in line
    after = [(kind, text) for at, kind, _, text in answers if at > ended + 2]
    assert after and all(answer_problem(kind, 200, text) is None for kind, text in after), after[:2]


def test_with_redis_killed_the_page_still_computes_and_a_new_job_says_once_that_the_queue_is_unreachable(deployment):
    url_a, logs = deployment["a"], deployment["logs"]
    deployment["redis"].kill()
    # Plane coordinates of another run than before (nothing in this worker's memory): computed, answered 200.
    for _ in range(3):
        status, answer = plane_request(url_a, "victim")
        assert status == 200, answer
        assert "of 20,000 points" in answer["response"][planes.COUNT["a"]]["children"]
    click = find_dependency(dependencies(url_a), f"{decode.PANEL['a']}.children")
    values = valid_values(RUN, None) | {
        f"{planes.KIND}.value": "axis",
        f"{planes.GRAPH['a']}.clickData": {"points": [{"x": 0.3, "y": -0.2}]},
    }
    status, answer = post(url_a, callback_body(click, values, [f"{planes.GRAPH['a']}.clickData"]))
    assert status == 200 and "data:image/png;base64," in json.dumps(answer)
    # One line in the log for the whole outage, however many requests met it.
    outage = (logs / "a.log").read_text().count("Redis is unreachable")
    assert outage == 1, (logs / "a.log").read_text()[-3000:]

    job = TsneJob(url_a, RUN)
    answer = job.poll(url_a)
    assert job.result(answer) == QUEUE_DOWN  # the first poll ends the job with one line
    assert sum(QUEUE_DOWN in json.dumps(a) for a in job.answers) == 1
