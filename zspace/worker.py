"""``zspace worker``: the Celery worker that runs the dashboard's background jobs when Redis is set.

With ``ZSPACE_REDIS_URL`` the web workers (``zspace serve`` or gunicorn) do not
compute t-SNE maps or the base analyses of a large run themselves: they queue a
Dash background callback on Redis, and this worker runs it. It builds the same
dashboard (same runs folder, same cache folder) so that every background
callback is registered as a Celery task under the same name the web workers
queue, adds the task that trains one run of ``zspace sweep``
(:mod:`zspace.sweep_jobs`), then hands over to Celery's own worker. It also
re-queues the jobs of workers that stopped mid-job
(:func:`app.job_queue.requeue_stalled`), so a restarted worker finishes them.
"""

from __future__ import annotations

import argparse
import os

from rundir.errors import ZspaceError
from rundir.layout import DEFAULT_RUNS


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``zspace worker``."""
    parser.add_argument(
        "--runs",
        default=os.environ.get("ZSPACE_RUNS", DEFAULT_RUNS),
        help=f"folder with one sub-folder per run, the same as the web server's (default $ZSPACE_RUNS or {DEFAULT_RUNS})",
    )
    parser.add_argument(
        "--cache-dir",
        default=os.environ.get("ZSPACE_CACHE_DIR"),
        help="the web server's cache folder, where computed maps are kept (default $ZSPACE_CACHE_DIR, else the cache folder beside --runs, e.g. data/cache)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="jobs this worker runs at once (default $ZSPACE_MAX_JOBS, else one per two cores)",
    )
    parser.add_argument("--loglevel", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.epilog = (
        "Needs ZSPACE_REDIS_URL (the same as the web workers'). Example: "
        "ZSPACE_REDIS_URL=redis://127.0.0.1:6379/0 ZSPACE_RUNS=data/runs zspace worker"
    )


def celery_of(runs_dir, cache_dir=None):
    """The Celery application with every background callback of the dashboard registered as a task."""
    if not os.environ.get("ZSPACE_REDIS_URL"):
        raise ZspaceError("zspace worker needs ZSPACE_REDIS_URL=redis://HOST:PORT/DB (the web workers' Redis)")
    from app.factory import create_app
    from zspace.sweep_jobs import register_tasks

    # No decoder warm-up: the worker's dashboard jobs compute analyses and rates, decoding only inside a job.
    dash_app = create_app(runs_dir, cache_dir=cache_dir, warm=False)
    celery = dash_app.zspace_manager.handle
    register_tasks(celery, runs_dir, dash_app.zspace_manager.seal)  # the runs of `zspace sweep`, sealed, in --runs
    return celery


def run(args: argparse.Namespace) -> int:
    """Entry point of ``zspace worker``: run the Celery worker until interrupted."""
    from app.jobs import default_max_jobs

    concurrency = args.concurrency if args.concurrency is not None else default_max_jobs()
    if concurrency < 1:
        raise ZspaceError(f"--concurrency must be >= 1, got {concurrency}")
    celery = celery_of(args.runs, args.cache_dir)
    sweep_for_stopped_workers()
    # No gossip, mingle or event heartbeats: remote control is off (app.celery_jobs), workers need not talk.
    options = ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    celery.worker_main(["worker", f"--loglevel={args.loglevel}", f"--concurrency={concurrency}", *options])
    return 0


def sweep_for_stopped_workers() -> None:
    """Once this worker is ready, re-queue jobs of stopped workers, then look again every few seconds.

    Without it a job whose worker was killed would wait for Redis's visibility
    timeout (30 minutes) before any worker took it again. The sweep runs in the
    worker's main process only (it starts after the job processes are forked).
    """
    import threading

    from celery.signals import worker_ready, worker_shutdown

    from app.job_queue import sweep_forever

    stop = threading.Event()

    @worker_ready.connect(weak=False)
    def _start(sender=None, **_kwargs):
        threading.Thread(target=sweep_forever, args=(sender.app, stop), name="zspace-job-sweep", daemon=True).start()

    @worker_shutdown.connect(weak=False)
    def _stop(**_kwargs):
        stop.set()
