"""One run of a β sweep, start to end: train (or resume, or skip when finished), analyse, cache its sweep numbers.

``zspace sweep`` calls :func:`run_member` for each β in turn, or, with
``ZSPACE_REDIS_URL``, sends it as the Celery task :data:`MEMBER_TASK` that
``zspace worker`` registers (:func:`register_tasks`). Either way the same
function runs, so a run trained on a worker is the run a sequential sweep
would have trained. Every step is resumable: a finished run is skipped, an
unfinished one resumed from its last checkpoint, and analyses already cached
are read, so a sweep that is started again continues where it stopped.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rundir
from rundir.errors import RunLockedError, ZspaceError
from rundir.sweep import model_of

#: Name of the Celery task that runs one member (what ``zspace sweep`` sends and ``zspace worker`` runs).
MEMBER_TASK = "zspace.sweep.member"
#: What to analyse after training: everything of ``zspace analyze --quick``, the same without 2-D maps, or nothing.
ANALYSES = ("all", "no-maps", "none")
#: Seconds between looks at a run another process is training (a redelivered task waits for it).
LOCK_POLL_S = 5.0


class _RetracingNoise(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warning.

    Each run of a sweep traces its own encoder and decoder functions in one
    process, which TensorFlow's loop detector takes for a retracing loop; the
    traces are needed, the warning is noise.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


_QUIET = _RetracingNoise()


def training_namespace(options: dict[str, Any], beta: float, out: Path, resume: bool) -> argparse.Namespace:
    """The ``zspace train`` arguments of the run of ``beta`` with the sweep's shared ``options``."""
    from models.train import add_training_options

    probe = argparse.ArgumentParser(add_help=False)
    add_training_options(probe)
    values = {**vars(probe.parse_args([])), **options}
    return argparse.Namespace(
        **values, model=model_of(beta), beta=float(beta), out=str(out), resume=resume, force=False
    )


def is_finished(run: Path, epochs: int | None) -> bool:
    """True when ``run`` is complete and trained to ``epochs`` (None: to whatever it was asked for)."""
    if not (run / rundir.STATUS).exists() or rundir.read_status(run).get("state") != "complete":
        return False
    finished = rundir.read_status(run).get("epochs_finished")
    return epochs is None or (isinstance(finished, int) and finished >= int(epochs))


def train_member(run: Path, beta: float, options: dict[str, Any]) -> int:
    """Train the run of ``beta`` (fresh, or resumed when it has a config); 0 when done, 130 when interrupted.

    Skips a finished run. When another process holds the run's lock (a task
    delivered twice), waits for it to let go, then looks again.
    """
    from models.train import run as train

    while True:
        if is_finished(run, options.get("epochs")):
            return 0
        try:
            return train(training_namespace(options, beta, run, resume=(run / rundir.CONFIG).exists()))
        except RunLockedError:
            time.sleep(LOCK_POLL_S)


def analyse_member(run: Path, analyses: str) -> None:
    """``zspace analyze RUN --quick`` (without maps for ``no-maps``), then the run's point of the sweep curve."""
    from analysis.precompute import run as analyze
    from study.sweep import member_numbers

    skip_maps = analyses == "no-maps"
    analyze(
        argparse.Namespace(
            run=str(run), runs_root=str(run.parent), quick=True, tsne_n=None, umap_n=None, skip_tsne=skip_maps,
            skip_umap=skip_maps, skip_maps=skip_maps, structure_n=None, seed=0,
        )
    )  # fmt: skip
    member_numbers(run, compute=True)


def run_member(
    run: str | Path,
    beta: float,
    options: dict[str, Any],
    analyses: str = "all",
    on_state: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """Train and analyse one run of a sweep; return ``{"state": ..., "message": ...}``.

    ``state`` is ``complete``, ``interrupted`` (Ctrl-C or SIGTERM while training) or
    ``failed`` (the one-line reason in ``message``; the other runs go on).
    ``on_state(state)`` is told ``training`` and ``analysing`` as they start.
    """
    if analyses not in ANALYSES:
        raise ValueError(f"analyses must be one of {', '.join(ANALYSES)}, got {analyses!r}")
    run = Path(run)
    tell = on_state or (lambda _state: None)
    logging.getLogger("tensorflow").addFilter(_QUIET)  # once per logger: a filter already there is not added twice
    try:
        tell("training")
        if train_member(run, beta, options) == 130:
            return {"state": "interrupted", "message": "training was interrupted; run the sweep again to resume it"}
        if analyses != "none":
            tell("analysing")
            analyse_member(run, analyses)
    except ZspaceError as exc:
        return {"state": "failed", "message": str(exc).splitlines()[0][:300] if str(exc) else "failed"}
    except Exception as exc:  # a bug in one run must not stop the others; the message names it
        return {"state": "failed", "message": f"{type(exc).__name__}: {exc}".splitlines()[0][:300]}
    return {"state": "complete", "message": ""}


#: The longest one run of a sweep may train and analyse on a worker (then it stops, resumable, with a message).
MEMBER_TIME_LIMIT_S = 7 * 24 * 3600
#: What a sealed task and its sealed answer are bound to (with the run's folder).
SEALED_TASK, SEALED_OUTCOME = MEMBER_TASK, f"{MEMBER_TASK}.outcome"


def sealed_task(seal, run: Path, beta: float, options: dict[str, Any], analyses: str) -> list:
    """The arguments of :data:`MEMBER_TASK`: the run folder, and the rest sealed with the deployment's secret."""
    body = {"beta": float(beta), "options": options, "analyses": analyses}
    return [str(run), seal.close(SEALED_TASK, str(run), body)]


def register_tasks(celery, runs_dir: str | Path, seal) -> None:
    """Register :data:`MEMBER_TASK` on ``celery`` (``zspace worker`` does), for runs inside ``runs_dir`` only.

    A task must be sealed with the deployment's secret (``seal``, :class:`app.job_results.Seal`: the
    secret never travels through Redis) and name a ``SWEEP/NAME`` folder of the worker's own runs folder
    (:func:`rundir.resolve_run`); anything else is refused before anything is read or trained. While it
    runs, the task writes a heartbeat and keeps its message from Redis's visibility timeout
    (:func:`app.job_queue.keep_delivered`): a worker that dies has its run re-queued by the next
    ``zspace worker``, which resumes it from its last checkpoint. Its answer is sealed too.
    """
    root = Path(runs_dir)

    @celery.task(
        name=MEMBER_TASK, bind=True, ignore_result=False,
        soft_time_limit=MEMBER_TIME_LIMIT_S, time_limit=MEMBER_TIME_LIMIT_S + 600,
    )  # fmt: skip
    def member(self, run: str, envelope: dict) -> dict:
        def answer(state: str, message: str) -> dict:
            return seal.close(SEALED_OUTCOME, str(run), {"state": state, "message": message})

        body = seal.open(SEALED_TASK, str(run), envelope)
        if body is None:
            return answer("failed", "the task was not sealed with this deployment's secret; nothing was trained")
        path = Path(run).resolve()
        try:
            if rundir.resolve_run(root, f"{path.parent.name}/{path.name}") != path:
                raise ZspaceError("not a sweep run")
        except ZspaceError:
            return answer("failed", f"{path.name} is not a run of a sweep in this worker's --runs folder")
        with _Heartbeat(celery.backend.client, self.request.id):
            outcome = run_member(path, float(body["beta"]), dict(body["options"]), str(body["analyses"]))
        return answer(outcome["state"], outcome["message"])


class _Heartbeat:
    """While a task runs: its heartbeat every few seconds, and its message kept from the visibility timeout."""

    def __init__(self, client, task_id: str):
        import threading

        self.client, self.task_id = client, task_id
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="zspace-sweep-heartbeat", daemon=True)

    def beat(self) -> None:
        import json

        from app.celery_jobs import EXPIRE_S
        from app.job_queue import BEAT_PREFIX, keep_delivered

        try:
            self.client.set(BEAT_PREFIX + self.task_id, json.dumps({"beat": time.time()}), ex=EXPIRE_S)
            keep_delivered(self.client, self.task_id)
        except Exception as exc:  # Redis away: the run goes on; the next beat tries again
            logging.getLogger(__name__).warning("sweep heartbeat failed: %s: %s", type(exc).__name__, exc)

    def _run(self) -> None:
        from app.celery_jobs import HEARTBEAT_S

        while not self.stop.wait(HEARTBEAT_S):
            self.beat()

    def __enter__(self):
        self.beat()
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=30)
