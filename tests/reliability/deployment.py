"""A team deployment on loopback for the Redis and worker tests: redis-server, ``zspace worker``, gunicorn, clients.

Everything here starts real processes: a throw-away ``redis-server`` (no
persistence, its own folder), ``zspace worker`` in its own process group (so a
test can SIGKILL it with its job processes, as a lost machine would), and the
helpers that post what a browser posts. Without ``redis-server`` the tests
skip, except in CI (``CI`` or ``ZSPACE_REQUIRE_BROWSER=1``), where they fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from tools.bench.load import PROJECT_ROOT, free_port, server_env
from tools.bench.requests import callback_body, find_dependency, valid_values

REDIS_SERVER = shutil.which("redis-server")


def require_redis() -> None:
    """Skip the calling module without redis-server, or fail under CI."""
    import pytest

    if REDIS_SERVER is None:
        if os.environ.get("ZSPACE_REQUIRE_BROWSER") == "1" or os.environ.get("CI"):
            raise RuntimeError("redis-server is missing (apt-get install redis-server); CI must run the Redis tests")
        pytest.skip("redis-server not installed (apt-get install redis-server)", allow_module_level=True)


class Redis:
    """A throw-away redis-server on 127.0.0.1 that a test may kill (and start again on the same port)."""

    def __init__(self, folder: Path):
        self.folder, self.port, self.proc = folder, free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        with open(self.folder / "redis.log", "ab") as log:
            self.proc = subprocess.Popen([*command, "--dir", str(self.folder)], stdout=log, stderr=log)
        self.client = redis.Redis(host="127.0.0.1", port=self.port)
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(redis.ConnectionError):
                if self.client.ping():
                    return
            assert self.proc.poll() is None and time.monotonic() < deadline, (self.folder / "redis.log").read_text()
            time.sleep(0.1)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Worker:
    """``zspace worker --concurrency 1`` in its own process group, its output in ``log_path``."""

    def __init__(self, runs: Path, cache: Path, env_extra: dict, log_path: Path):
        env = server_env(runs, cache, env_extra)
        command = [sys.executable, "-m", "zspace.cli", "worker", "--runs", str(runs), "--concurrency", "1"]
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [*command, "--cache-dir", str(cache)],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + 180
        while " ready." not in self.log():
            assert self.proc.poll() is None, self.log()[-3000:]
            assert time.monotonic() < deadline, "the Celery worker did not start in 180 s"
            time.sleep(0.3)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its job processes at once (a lost machine, the OOM killer on the group)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


def post(url: str, body: dict, query: dict | None = None) -> tuple[int, dict]:
    """POST a callback body as the browser does; (status, JSON answer)."""
    target = f"{url}/_dash-update-component" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    request = urllib.request.Request(
        target, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 - loopback
            text = answer.read().decode()
            return answer.status, (json.loads(text) if text else {})
    except urllib.error.HTTPError as exc:
        return exc.code, {"error": exc.read().decode(errors="replace")[:2000]}


def dependencies(url: str) -> list[dict]:
    with urllib.request.urlopen(url + "/_dash-dependencies", timeout=30) as answer:  # noqa: S310 - loopback
        return json.loads(answer.read())


def end_id(url: str) -> str:
    """The signed page-load token a browser gets in the page's ``_dash-config`` (background handles bind to it)."""
    with urllib.request.urlopen(url + "/", timeout=30) as answer:  # noqa: S310 - loopback
        page = answer.read().decode()
    config = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(config.group(1))["end_id"]


def worker_pids(log: Path) -> list[int]:
    """The pids of the workers gunicorn booted, from its log."""
    return [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", log.read_text(errors="replace"))]


def computed(log: Path, what: str) -> list[int]:
    """Pids that logged computing ``what`` (a memo miss) in a server log."""
    return [
        int(pid) for pid in re.findall(rf"\[(\d+)\] app\.store INFO: computed {re.escape(what)} of ", log.read_text())
    ]


class TsneJob:
    """The page's "compute a new t-SNE map" job, started through one web worker and polled through any."""

    def __init__(self, url: str, run: str, points: int = 1000, reduce_to: int = 2, perplexity: int = 30):
        from app.views import maps

        self.status_id = maps.STATUS
        dependency = find_dependency(dependencies(url), f"{maps.STATUS}.children")
        values = valid_values(run, None) | {
            f"{maps.GO}.n_clicks": 1,
            f"{maps.FOR_SIDE}.value": "a",
            f"{maps.POINTS}.value": points,
            f"{maps.PERPLEXITY}.value": perplexity,
            f"{maps.REDUCE}.value": reduce_to,
        }
        self.body = callback_body(dependency, values, [f"{maps.GO}.n_clicks"])
        self.token = end_id(url)
        status, started = post(url, self.body, {"endId": self.token})
        assert status in (200, 202) and "cacheKey" in started and "job" in started, (status, started)
        self.handles = {"cacheKey": started["cacheKey"], "job": started["job"], "endId": self.token}
        self.key = started["cacheKey"].rpartition("~")[0]  # the signed handle is "<key>~<signature>"
        self.answers: list[dict] = []

    def poll(self, url: str) -> dict:
        """One poll; the answer is kept in ``answers``."""
        status, answer = post(url, self.body, self.handles)
        assert status == 200, answer
        self.answers.append(answer)
        return answer

    def progress_text(self, answer: dict) -> str | None:
        from app.views import maps

        return (answer.get("progress") or {}).get(f"{maps.PROGRESS_TEXT}.children")

    def result(self, answer: dict) -> str | None:
        return answer["response"][self.status_id]["children"] if "response" in answer else None

    def wait(self, url: str, until, timeout: float, every: float = 0.5) -> dict:
        """Poll through ``url`` until ``until(answer)`` is true; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = self.poll(url)
            if until(answer):
                return answer
            time.sleep(every)
        raise AssertionError(f"no such answer within {timeout:.0f} s; the last: {self.answers[-3:]}")
