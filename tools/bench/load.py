"""``zspace bench load``: the documented team setup (gunicorn, loopback) under 1 and then 16 concurrent clients.

Each client thread posts real Dash callback requests (:mod:`tools.bench.requests`)
— click-to-decode and its nearest-distance follow-up, zoom (viewport re-query),
sampling, and clicks on empty space of a UMAP map when a run has one — and
checks every answer for what a user would see. A round is bounded by time *and*
by request count and stops by itself. One client gives the single-user figure;
two identical rounds of 16 clients give the team's, and whether memory grows
(the server's resident memory, gunicorn master + workers, sampled every 0.5 s).
Goals (:data:`GOALS`): decode and zoom p99 within 2 s, no errors, flat memory.
Traffic only ever goes to 127.0.0.1.
"""

from __future__ import annotations

import concurrent.futures
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
from rundir.layout import DEFAULT_RUNS
from tools.bench.requests import REQUEST_TIMEOUT_S, RequestFactory, answer_problem, post

#: The browser follows every decode with the nearest-data-distance callback; it is timed as its own kind.
REPORTED = ("decode", "nearest", "zoom", "sample", "umap")
#: Goals of the team setup on the 2-core machine: p99 latency (ms) per request kind.
GOALS = {"decode": 2000.0, "zoom": 2000.0}
#: Concurrent clients of the team figure (and 1 for the single-user figure beside it).
CLIENTS = 16
#: Largest growth of peak RSS from the first to the last round that still counts as "no growth".
MAX_MEMORY_GROWTH = 0.10
#: Most requests one client sends per second of a round: a hard bound besides the clock.
MAX_REQUESTS_PER_CLIENT_SECOND = 50
PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: The documented team setup (README, "Serving for a team"): gunicorn processes and threads per process.
TEAM_WORKERS, TEAM_THREADS = 2, 8


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


def gunicorn_command(
    port: int, workers: int = TEAM_WORKERS, threads: int = TEAM_THREADS, target: str = "app.wsgi:server"
) -> list[str]:
    """The documented team command (README, docs/SECURITY.md) on 127.0.0.1:``port``; ``threads`` 1 is gunicorn's sync worker."""
    worker_class = ["-k", "gthread", "--threads", str(threads)] if threads > 1 else ["-k", "sync"]
    return [sys.executable, "-m", "gunicorn", "-w", str(workers), *worker_class, "-b", f"127.0.0.1:{port}"] + [
        "--timeout",
        "120",
        target,
    ]


@contextlib.contextmanager
def gunicorn_server(
    runs_dir: Path,
    cache_dir: Path,
    workers: int = TEAM_WORKERS,
    start_timeout: float = 180.0,
    extra_env: dict | None = None,
    log_path: Path | None = None,
    threads: int = TEAM_THREADS,
    target: str = "app.wsgi:server",
):
    """Serve ``runs_dir`` with :func:`gunicorn_command` on a free port; yield (base URL, master pid).

    ``extra_env`` is added to the server's environment (e.g. ``ZSPACE_REDIS_URL``); its log goes
    to ``log_path`` when given (else a temporary file, shown if it fails to start).
    """
    port = free_port()
    env = server_env(runs_dir, cache_dir, extra_env)
    command = gunicorn_command(port, workers, threads, target)
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "w+b") if log_path else tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log)
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
    """``clients`` threads post requests of every kind the factory offers for ``duration`` s; return the figures.

    Each client stops at the deadline or after ``max_per_client`` requests, whichever comes first.
    """
    deadline = time.monotonic() + duration
    if max_per_client is None:
        max_per_client = max(1, int(duration * MAX_REQUESTS_PER_CLIENT_SECOND))
    latencies: dict[str, list[float]] = {k: [] for k in REPORTED}
    errors: list[str] = []
    lock = threading.Lock()
    kinds = factory.kinds

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
            kind = kinds[(index + count) % len(kinds)]
            answer = timed(kind, factory.build(kind, gen))
            if kind in ("decode", "umap") and answer is not None and (follow := factory.follow_up(answer)):
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
    """name -> z-points of every usable run in ``runs_dir``."""
    return {info.name: rundir.load_zpoints(info.path) for info in rundir.list_runs(runs_dir) if info.usable}


def run_load(
    runs_dir: str | os.PathLike,
    clients: int = CLIENTS,
    duration: float = 60.0,
    rounds: int = 2,
    warmup: int = 2,
    single: bool = True,
    workers: int = TEAM_WORKERS,
    threads: int = TEAM_THREADS,
) -> dict:
    """Serve ``runs_dir`` with gunicorn, then one round of 1 client and ``rounds`` identical rounds of ``clients``.

    Parameters
    ----------
    runs_dir : path-like
        Runs folder with at least one usable run.
    clients : int
        Concurrent client threads of the team rounds.
    duration : float
        Seconds per round.
    rounds : int
        Identical team rounds (the last against the first shows memory growth).
    warmup : int
        Requests of each kind per client-slot sent before measuring (each worker loads TensorFlow,
        the decoders and, on a first UMAP click, compiles its inverse).
    single : bool
        Also measure one client alone first (the single-user figure).
    workers, threads : int
        gunicorn processes and threads per process (threads 1: the sync worker).

    Returns
    -------
    dict
        ``setup``, ``single`` (a round of 1 client, or None), ``rounds``, ``errors`` (total),
        ``memory_growth_mb`` and ``memory_grew`` (last team round's peak against the first's), ``goals``.
    """
    runs_dir = Path(runs_dir)
    runs = usable_runs(runs_dir)
    if not runs:
        raise ZspaceError(f"no usable run in {runs_dir}; the load benchmark needs at least one")
    with (
        tempfile.TemporaryDirectory(prefix="zspace-load-cache-") as cache,
        gunicorn_server(runs_dir, Path(cache), workers=workers, threads=threads) as (url, pid),
    ):
        with urllib.request.urlopen(url + "/_dash-dependencies", timeout=30) as response:  # noqa: S310
            factory = RequestFactory(json.loads(response.read()), runs)
        factory.find_umap_maps(url, runs_dir)
        if factory.umap_maps:
            # A process's first UMAP click compiles the inverse (numba, about a minute of CPU): not part of a round.
            gen = random.Random(7)
            bodies = [factory.build("umap", gen) for _ in range(2 * workers)]
            with concurrent.futures.ThreadPoolExecutor(len(bodies)) as pool:
                list(pool.map(lambda body: post(url + "/_dash-update-component", body, timeout=600), bodies))
        # Concurrent, so that every worker loads TensorFlow and the decoders before the clock starts.
        warm = load_round(url, factory, clients=4, duration=300.0, seed=99, max_per_client=warmup * len(factory.kinds))
        if warm["errors"]:
            raise ZspaceError(f"warm-up requests failed: {warm['first_errors'][0]}")
        alone = None
        if single:
            with MemorySampler(pid) as memory:
                alone = load_round(url, factory, 1, duration, seed=50)
            alone["peak_rss_mb"] = round(memory.peak / 2**20, 1)
        results = []
        for index in range(rounds):
            with MemorySampler(pid) as memory:
                figures = load_round(url, factory, clients, duration, seed=index)
            figures["peak_rss_mb"] = round(memory.peak / 2**20, 1)
            figures["end_rss_mb"] = round(memory.rss() / 2**20, 1)
            results.append(figures)
    growth = results[-1]["peak_rss_mb"] - results[0]["peak_rss_mb"]
    goals = {
        kind: {"p99_goal_ms": goal, "worst_p99_ms": max(r["latency"][kind]["p99_ms"] or 0.0 for r in results)}
        for kind, goal in GOALS.items()
    }
    for goal in goals.values():
        goal["met"] = goal["worst_p99_ms"] <= goal["p99_goal_ms"]
    return {
        "setup": {"workers": workers, "threads": threads, "clients": clients, "duration_s": duration},
        "runs": sorted(runs),
        "umap_maps": len(factory.umap_maps),
        "single": alone,
        "rounds": results,
        "errors": sum(r["errors"] for r in results) + (alone["errors"] if alone else 0),
        "memory_growth_mb": round(growth, 1),
        "memory_grew": growth > MAX_MEMORY_GROWTH * results[0]["peak_rss_mb"],
        "goals": goals,
    }


def _cell(figures: dict | None, kind: str) -> str:
    if not figures or not figures["latency"][kind]["requests"]:
        return "—"
    lat = figures["latency"][kind]
    return f"{lat['p50_ms']:,.0f} / {lat['p99_ms']:,.0f}"


def print_report(figures: dict) -> None:
    """Print the figures of :func:`run_load`: p50 / p99 per kind, 1 client beside each team round."""
    setup = figures["setup"]
    worker = f"gthread, {setup['threads']} threads" if setup["threads"] > 1 else "sync"
    print(f"runs: {', '.join(figures['runs'])} ({figures['umap_maps']} UMAP maps clicked)")
    print(f"gunicorn -w {setup['workers']} ({worker}); p50 / p99 in ms")
    rounds = [("1 client", figures["single"])] + [
        (f"{r['clients']} clients, round {k}", r) for k, r in enumerate(figures["rounds"], start=1)
    ]
    if figures.get("baseline_sync"):
        rounds.append((f"sync -w {setup['workers']}, {CLIENTS} clients", figures["baseline_sync"]))
    print(f"{'kind':8s}" + "".join(f"{name:>26s}" for name, _ in rounds))
    for kind in REPORTED:
        print(f"{kind:8s}" + "".join(f"{_cell(r, kind):>26s}" for _, r in rounds))
    for name, r in rounds:
        if r is None:
            continue
        print(
            f"{name}: {r['requests']} requests in {r['duration_s']} s ({r['requests_per_s']}/s), errors {r['errors']}, "
            f"server peak RSS {r['peak_rss_mb']} MB"
        )
        for error in r["first_errors"]:
            print(f"  error: {error}")
    for kind, goal in figures["goals"].items():
        verdict = "met" if goal["met"] else f"MISSED by {goal['worst_p99_ms'] - goal['p99_goal_ms']:,.0f} ms"
        print(f"goal {kind} p99 <= {goal['p99_goal_ms']:,.0f} ms: worst {goal['worst_p99_ms']:,.0f} ms, {verdict}")
    verdict = "MORE than" if figures["memory_grew"] else "within"
    print(
        f"memory growth (peak of last round - peak of first): {figures['memory_growth_mb']} MB, "
        f"{verdict} the {MAX_MEMORY_GROWTH:.0%} bound"
    )


def main(args) -> int:
    """Entry of ``zspace bench load``: data/runs if it has usable runs, else small demo runs in a temp folder.

    The documented setup is measured first; then, as the baseline of the same run, one round of the same
    clients against the earlier setup (gunicorn's sync workers). Exit status 1 if any request of the
    documented setup failed, its peak memory grew by more than MAX_MEMORY_GROWTH or a goal was missed.
    """
    duration = 10.0 if getattr(args, "quick", False) else 60.0
    runs_dir = Path(os.environ.get("ZSPACE_RUNS", DEFAULT_RUNS))
    with tempfile.TemporaryDirectory(prefix="zspace-load-runs-") as scratch:
        if not (runs_dir.is_dir() and any(info.usable for info in rundir.list_runs(runs_dir))):
            from tools.fixtures import make_demo_runs

            print(f"no usable run in {runs_dir}: building small demo runs (z_dim 16, 64 px, 5,000 points)", flush=True)
            runs_dir = make_demo_runs(Path(scratch) / "runs", n_points=5000, z_dim=16, image_size=64)
        print(
            f"serving {runs_dir} with {' '.join(gunicorn_command(0)[2:-1])}: 1 client x {duration:.0f} s, "
            f"then {CLIENTS} clients x {duration:.0f} s x 2 rounds",
            flush=True,
        )
        figures = run_load(runs_dir, clients=CLIENTS, duration=duration)
        print(
            f"baseline: the earlier setup, gunicorn -w {TEAM_WORKERS} sync, {CLIENTS} clients x {duration:.0f} s",
            flush=True,
        )
        baseline = run_load(runs_dir, clients=CLIENTS, duration=duration, rounds=1, single=False, threads=1)
        figures["baseline_sync"] = baseline["rounds"][0]
    print_report(figures)
    if getattr(args, "out", None):
        from rundir.atomic import atomic_write_json

        atomic_write_json(args.out, {"load": figures})
    missed = not all(goal["met"] for goal in figures["goals"].values())
    return 1 if figures["errors"] or figures["memory_grew"] or missed else 0
