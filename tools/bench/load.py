"""``zspace bench load``: the dashboard under gunicorn (2 workers, loopback) and 20 concurrent clients.

Each client thread posts real Dash callback requests (:mod:`tools.bench.requests`)
— click-to-decode and its nearest-distance follow-up, zoom (viewport re-query)
and sampling — and checks every answer for what a user would see. A round is bounded by time *and* by request count and stops by itself.
The server's resident memory (gunicorn master + workers) is sampled every
0.5 s; a second identical round shows whether memory grows. Traffic only ever
goes to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

import rundir
from rundir.errors import ZspaceError
from tools.bench.requests import KINDS, REQUEST_TIMEOUT_S, RequestFactory, answer_problem, post

#: The browser follows every decode with the nearest-data-distance callback; it is timed as its own kind.
REPORTED = ("decode", "nearest", "zoom", "sample")
#: Largest growth of peak RSS from the first to the last round that still counts as "no growth".
MAX_MEMORY_GROWTH = 0.10
#: Most requests one client sends per second of a round: a hard bound besides the clock.
MAX_REQUESTS_PER_CLIENT_SECOND = 50
PROJECT_ROOT = Path(__file__).resolve().parent.parent


# -- the server ------------------------------------------------------------------------------
def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_dash-dependencies", timeout=5) as response:  # noqa: S310 - loopback
            return response.status == 200
    except OSError:
        return False


def server_env(runs_dir: Path, cache_dir: Path, extra_env: dict | None = None) -> dict[str, str]:
    """The environment of a served dashboard: this one without auth or Redis, plus the runs, cache and ``extra_env``."""
    env = {k: v for k, v in os.environ.items() if k not in ("ZSPACE_AUTH", "ZSPACE_REDIS_URL")}
    env.update(ZSPACE_RUNS=str(runs_dir), ZSPACE_CACHE_DIR=str(cache_dir), TF_CPP_MIN_LOG_LEVEL="2")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env.update(extra_env or {})
    return env


@contextlib.contextmanager
def gunicorn_server(
    runs_dir: Path,
    cache_dir: Path,
    workers: int = 2,
    start_timeout: float = 180.0,
    extra_env: dict | None = None,
    log_path: Path | None = None,
):
    """Run ``gunicorn -w WORKERS -b 127.0.0.1:PORT app.wsgi:server``; yield (base URL, master pid).

    ``extra_env`` is added to the server's environment (e.g. ``ZSPACE_REDIS_URL``); its log goes
    to ``log_path`` when given (else a temporary file, shown if it fails to start).
    """
    port = free_port()
    env = server_env(runs_dir, cache_dir, extra_env)
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "120"]
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "w+b") if log_path else tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([*command, "app.wsgi:server"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + start_timeout
            while not _answers(url):
                if proc.poll() is not None:
                    log.seek(0)
                    tail = log.read().decode("utf-8", "replace")[-2000:]
                    raise ZspaceError(f"gunicorn exited with status {proc.returncode} before serving: {tail}")
                if time.monotonic() > deadline:
                    raise ZspaceError(f"gunicorn did not answer within {start_timeout:.0f} s")
                time.sleep(0.3)
            yield url, proc.pid
        finally:
            if proc.poll() is None:
                # Quick shutdown (SIGINT): by now no request is in flight, and a graceful one waits for TF teardown.
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


class MemorySampler:
    """Sample the summed RSS of a process and its children every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.5):
        import psutil

        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        """Current RSS in bytes of the process tree (processes that vanish count as 0)."""
        import psutil

        total = 0
        for proc in [self.process, *self.process.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            self._stop.wait(self.interval)

    def __enter__(self):
        self.peak = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


# -- rounds ----------------------------------------------------------------------------------
def load_round(
    url: str, factory: RequestFactory, clients: int, duration: float, seed: int = 0, max_per_client: int | None = None
) -> dict:
    """``clients`` threads post decode / zoom / sample requests for ``duration`` s; return the figures.

    Each client stops at the deadline or after ``max_per_client`` requests, whichever comes first.
    """
    deadline = time.monotonic() + duration
    if max_per_client is None:
        max_per_client = max(1, int(duration * MAX_REQUESTS_PER_CLIENT_SECOND))
    latencies: dict[str, list[float]] = {k: [] for k in REPORTED}
    errors: list[str] = []
    lock = threading.Lock()

    def timed(kind: str, body: dict) -> str | None:
        start = time.perf_counter()
        text = None
        try:
            status, text = post(url + "/_dash-update-component", body)
            problem = answer_problem(kind, status, text)
        except OSError as exc:  # a timeout or a refused connection is an error, not a crash of the bench
            problem = f"{type(exc).__name__}: {exc}"
        with lock:
            latencies[kind].append(time.perf_counter() - start)
            if problem:
                errors.append(f"{kind}: {problem}")
        return None if problem else text

    def client(index: int):
        gen = random.Random(seed * 1000 + index)
        for count in range(max_per_client):
            if time.monotonic() >= deadline:
                break
            kind = KINDS[(index + count) % len(KINDS)]
            answer = timed(kind, factory.build(kind, gen))
            if kind == "decode" and answer is not None and (follow := factory.follow_up(answer)) is not None:
                timed("nearest", follow)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 2 * REQUEST_TIMEOUT_S)
    wall = time.perf_counter() - started
    served = sum(len(v) for v in latencies.values())
    per_kind = {
        k: {
            "requests": len(v),
            "p50_ms": round(1000 * float(np.percentile(v, 50)), 1) if v else None,
            "p99_ms": round(1000 * float(np.percentile(v, 99)), 1) if v else None,
        }
        for k, v in latencies.items()
    }
    return {
        "clients": clients,
        "duration_s": round(wall, 1),
        "requests": served,
        "requests_per_s": round(served / wall, 1),
        "errors": len(errors),
        "first_errors": errors[:5],
        "latency": per_kind,
    }


def usable_runs(runs_dir: Path) -> dict[str, np.ndarray]:
    """name -> z-points (memory-mapped) of every usable run in ``runs_dir``."""
    return {info.name: rundir.load_zpoints(info.path) for info in rundir.list_runs(runs_dir) if info.usable}


def run_load(
    runs_dir: str | os.PathLike, clients: int = 20, duration: float = 60.0, rounds: int = 2, warmup: int = 2
) -> dict:
    """Serve ``runs_dir`` with gunicorn (2 workers) and run ``rounds`` identical load rounds against it.

    Parameters
    ----------
    runs_dir : path-like
        Runs folder with at least one usable run.
    clients : int
        Concurrent client threads.
    duration : float
        Seconds per round.
    rounds : int
        Identical rounds (the second shows memory growth).
    warmup : int
        Requests of each kind per client-slot sent before measuring (each worker loads TensorFlow
        and the decoders on its first decode).

    Returns
    -------
    dict
        Figures per round plus ``errors`` (total) and ``memory_growth_mb`` (peak of the last round
        minus peak of the first).
    """
    runs_dir = Path(runs_dir)
    runs = usable_runs(runs_dir)
    if not runs:
        raise ZspaceError(f"no usable run in {runs_dir}; the load benchmark needs at least one")
    with tempfile.TemporaryDirectory(prefix="zspace-load-cache-") as cache, gunicorn_server(runs_dir, Path(cache)) as s:
        url, pid = s
        with urllib.request.urlopen(url + "/_dash-dependencies", timeout=30) as response:  # noqa: S310
            factory = RequestFactory(json.loads(response.read()), runs)
        # Concurrent, so that every worker loads TensorFlow and the decoders before the clock starts.
        warm = load_round(url, factory, clients=4, duration=120.0, seed=99, max_per_client=warmup * len(KINDS))
        if warm["errors"]:
            raise ZspaceError(f"warm-up requests failed: {warm['first_errors'][0]}")
        results = []
        for index in range(rounds):
            with MemorySampler(pid) as memory:
                figures = load_round(url, factory, clients, duration, seed=index)
            figures["peak_rss_mb"] = round(memory.peak / 2**20, 1)
            figures["end_rss_mb"] = round(memory.rss() / 2**20, 1)
            results.append(figures)
    growth = results[-1]["peak_rss_mb"] - results[0]["peak_rss_mb"]
    return {
        "runs": sorted(runs),
        "rounds": results,
        "errors": sum(r["errors"] for r in results),
        "memory_growth_mb": round(growth, 1),
        "memory_grew": growth > MAX_MEMORY_GROWTH * results[0]["peak_rss_mb"],
    }


def print_report(figures: dict) -> None:
    """Print the figures of :func:`run_load` as a small table."""
    print(f"runs: {', '.join(figures['runs'])}")
    for index, result in enumerate(figures["rounds"], start=1):
        print(
            f"round {index}: {result['clients']} clients, {result['duration_s']} s, {result['requests']} requests "
            f"({result['requests_per_s']}/s), errors {result['errors']}, "
            f"server peak RSS {result['peak_rss_mb']} MB (end {result['end_rss_mb']} MB)"
        )
        for kind, lat in result["latency"].items():
            print(f"  {kind:7s} {lat['requests']:6d} requests  p50 {lat['p50_ms']} ms  p99 {lat['p99_ms']} ms")
        for error in result["first_errors"]:
            print(f"  error: {error}")
    verdict = "MORE than" if figures["memory_grew"] else "within"
    print(
        f"memory growth (peak of last round - peak of first): {figures['memory_growth_mb']} MB, "
        f"{verdict} the {MAX_MEMORY_GROWTH:.0%} bound"
    )


def main(args) -> int:
    """Entry of ``zspace bench load``: data/runs if it has usable runs, else small demo runs in a temp folder.

    Exit status 1 if any request failed or peak memory grew by more than MAX_MEMORY_GROWTH.
    """
    duration = 10.0 if getattr(args, "quick", False) else 60.0
    runs_dir = Path(os.environ.get("ZSPACE_RUNS", "data/runs"))
    with tempfile.TemporaryDirectory(prefix="zspace-load-runs-") as scratch:
        if not (runs_dir.is_dir() and any(info.usable for info in rundir.list_runs(runs_dir))):
            from tools.fixtures import make_demo_runs

            print(f"no usable run in {runs_dir}: building small demo runs (z_dim 16, 64 px, 5,000 points)", flush=True)
            runs_dir = make_demo_runs(Path(scratch) / "runs", n_points=5000, z_dim=16, image_size=64)
        print(
            f"serving {runs_dir} with gunicorn -w 2 on 127.0.0.1; 20 clients x {duration:.0f} s x 2 rounds", flush=True
        )
        figures = run_load(runs_dir, clients=20, duration=duration)
    print_report(figures)
    if getattr(args, "out", None):
        from rundir.atomic import atomic_write_json

        atomic_write_json(args.out, {"load": figures})
    return 1 if figures["errors"] or figures["memory_grew"] else 0
