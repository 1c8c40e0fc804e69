"""``zspace sweep --data SOURCE --beta 0,0.1,1,4 --out data/runs/NAME [train options]``: one run per β.

Trains the seed's architecture once per β (β = 0 is the AE, any other β a
VAE with that KL weight) into ``NAME/beta-<β>``, each an ordinary run
directory, then analyses each (``zspace analyze --quick``) and caches its point
of the sweep curve (:mod:`study.sweep`). ``NAME/sweep.json`` lists the runs
with their β and state (:mod:`rundir.sweep`); only this command writes it,
holding the folder's lock.

Runs train one after another in this process, or, when ``ZSPACE_REDIS_URL``
is set, as Celery tasks on ``zspace worker`` (which must see the same runs
folder); this command then waits for them and keeps the manifest up to date.
Running the same command again continues: finished runs are skipped,
unfinished ones resumed from their last checkpoint, missing analyses computed.
Options left out on a second run are taken from the manifest; new β values
are added; options that would make the runs incomparable may not change.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import rundir
from rundir.errors import ZspaceError
from rundir.sweep import check_betas, member_name, model_of, new_manifest, parse_betas, read_sweep, write_sweep
from zspace.sweep_jobs import ANALYSES, MEMBER_TASK, SEALED_OUTCOME, is_finished, run_member, sealed_task

#: Training options every run of a sweep shares for good: changing one would make the curve compare unlike runs.
#: (``epochs`` may grow: every run then trains on; ``strategy``, ``cpu_devices`` and ``jit`` change no result.)
FIXED_OPTIONS = (
    "data", "image_size", "z_dim", "extra_dense", "batch_norm", "recon_loss", "batch_size", "learning_rate", "seed",
    "mixed_precision", "snapshot_every", "snapshot_n",
)  # fmt: skip
#: Seconds between looks at the workers' progress.
POLL_S = 2.0


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``zspace sweep``."""
    from models.train import add_training_options

    parser.add_argument(
        "--beta",
        help="comma-separated KL weights, e.g. 0,0.1,1,4 (0 trains the AE); required for a new sweep, "
        "and on an existing one the values it lacks are added",
    )
    parser.add_argument("--out", required=True, help="the sweep folder, e.g. data/runs/NAME (one run per beta inside)")
    add_training_options(parser)
    parser.add_argument(
        "--analyses",
        choices=ANALYSES,
        default="all",
        help="after training: all of `zspace analyze --quick` and the sweep numbers (default), the same without "
        "the 2-D maps (no-maps), or nothing (none; run the sweep again later to add them)",
    )
    parser.epilog = (
        "With ZSPACE_REDIS_URL set the runs train as tasks of `zspace worker` (started with a --runs folder "
        "that holds --out); otherwise one after another in this process."
    )


def training_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``zspace train`` options given on the command line (those left out are not listed)."""
    from models.train import add_training_options

    probe = argparse.ArgumentParser(add_help=False)
    add_training_options(probe)
    defaults = vars(probe.parse_args([]))
    return {key: getattr(args, key) for key in defaults if getattr(args, key) is not None}


def settle_options(given: dict[str, Any], manifest: dict | None) -> dict[str, Any]:
    """The sweep's training options: the manifest's, updated with ``given``; a change of a fixed one is refused."""
    base = dict(manifest["train"]) if manifest else {}
    if manifest:
        changed = [
            f"{k}: {base.get(k)!r} -> {v!r}" for k, v in given.items() if k in FIXED_OPTIONS and base.get(k) != v
        ]
        if changed:
            raise ZspaceError(
                f"this sweep's runs were trained with other options ({'; '.join(changed)}); "
                "use another --out for a new sweep"
            )
    options = {**base, **given}
    if not options.get("data"):
        raise ZspaceError("--data is required for a new sweep (e.g. --data synthetic:2000, celeba:PATH)")
    if options.get("strategy") == "multiworker":
        raise ZspaceError("--strategy multiworker trains one run on several hosts; a sweep spreads runs over "
                          "`zspace worker`s instead (set ZSPACE_REDIS_URL)")  # fmt: skip
    return options


def check_options(options: dict[str, Any], betas: list[float]) -> None:
    """Refuse bad options before anything trains: each run's config, the data source and the snapshot set."""
    from models.config import snapshot_settings
    from models.data import open_source
    from models.train import resolve_config
    from zspace.sweep_jobs import training_namespace

    for beta in {model_of(b): b for b in betas}.values():  # one AE and one VAE config say all there is to say
        config = resolve_config(training_namespace(options, beta, Path("."), resume=False), None)
    source = open_source(config["data"], image_size=config["image_size"], seed=config["seed"])
    if len(source) < 1:
        raise ZspaceError(f"the data source {config['data']} holds no usable images")
    snapshot_settings(config.get("snapshot_every"), config.get("snapshot_n"), len(source))


def prepare_folder(folder: Path) -> dict | None:
    """The existing manifest of ``folder``, or None for a new sweep (a folder that is absent or empty)."""
    if (folder / rundir.SWEEP).exists():
        return read_sweep(folder)
    if (folder / rundir.CONFIG).exists() or (folder / rundir.STATUS).exists():
        raise ZspaceError(f"{folder} holds a run, not a sweep; choose a new --out for the sweep")
    if folder.exists() and (not folder.is_dir() or any(not p.name.startswith(".") for p in folder.iterdir())):
        raise ZspaceError(f"{folder} exists and is not a sweep folder; choose a new --out for the sweep")
    return None


def run(args: argparse.Namespace) -> int:
    """Train, analyse and record every run of the sweep; 0 when all are complete."""
    folder = Path(args.out)
    manifest = prepare_folder(folder)
    given = parse_betas(args.beta) if args.beta is not None else []
    if manifest is None and not given:
        raise ZspaceError("--beta is required for a new sweep, e.g. --beta 0,0.1,1,4")
    options = settle_options(training_options(args), manifest)
    known = [float(m["beta"]) for m in manifest["members"]] if manifest else []
    betas = check_betas(known + [b for b in given if b not in known])
    check_options(options, betas)
    with rundir.run_lock(folder):
        manifest = manifest or new_manifest(options, [])
        manifest["train"] = options
        manifest["members"] += [
            {"run": member_name(b), "beta": b, "model": model_of(b), "state": "pending"} for b in betas[len(known) :]
        ]
        manifest = write_sweep(folder, manifest)
        print(f"sweep {folder.name}: {len(betas)} runs, beta = {', '.join(f'{b:g}' for b in betas)}", flush=True)
        if os.environ.get("ZSPACE_REDIS_URL"):
            manifest = run_on_workers(folder, manifest, args.analyses)
        else:
            manifest = run_here(folder, manifest, args.analyses)
    return report(folder, manifest)


def _set_state(folder: Path, manifest: dict, index: int, state: str, message: str = "") -> None:
    """Record a run's state in ``manifest`` (in place) and, when it changed, in ``sweep.json``."""
    member = manifest["members"][index]
    if (member["state"], member.get("message", "")) != (state, message):
        member["state"], member["message"] = state, message
        manifest.update(write_sweep(folder, manifest))


def run_here(folder: Path, manifest: dict, analyses: str) -> dict:
    """Every run in turn in this process; stops at an interruption (the manifest says where)."""
    for index, member in enumerate(manifest["members"]):
        print(f"== {member['run']} ({member['model'].upper()}, beta {member['beta']:g})", flush=True)

        def on_state(state, index=index):
            _set_state(folder, manifest, index, state)

        try:
            outcome = run_member(folder / member["run"], member["beta"], manifest["train"], analyses, on_state)
        except KeyboardInterrupt:
            outcome = {"state": "interrupted", "message": "interrupted; run the sweep again to resume it"}
        _set_state(folder, manifest, index, outcome["state"], outcome["message"])
        if outcome["state"] == "interrupted":
            break
    return manifest


def run_on_workers(folder: Path, manifest: dict, analyses: str) -> dict:
    """Send every run to the Celery workers (sealed), then follow them until all have answered."""
    from app.celery_jobs import celery_app
    from app.factory import default_cache_dir
    from app.job_results import Seal
    from app.jobs import signing_secret

    # The workers' secret: ZSPACE_SECRET_KEY, else the key file of the cache folder the workers use.
    seal = Seal(signing_secret(os.environ.get("ZSPACE_CACHE_DIR") or default_cache_dir(folder.parent)))
    celery = celery_app(os.environ["ZSPACE_REDIS_URL"])
    pending = {}
    for index, member in enumerate(manifest["members"]):
        run = (folder / member["run"]).resolve()
        run.mkdir(exist_ok=True)  # the worker checks the folder is a run of a sweep of its runs folder
        args = sealed_task(seal, run, member["beta"], manifest["train"], analyses)
        pending[index] = celery.send_task(MEMBER_TASK, args=args)
        _set_state(folder, manifest, index, "queued")
    print(f"sent {len(pending)} runs to the workers on ZSPACE_REDIS_URL; waiting for them", flush=True)
    try:
        while pending:
            for index, result in list(pending.items()):
                member = manifest["members"][index]
                run = (folder / member["run"]).resolve()
                if result.state in ("SUCCESS", "FAILURE", "REVOKED"):
                    outcome = _outcome(seal, run, result)
                    _set_state(folder, manifest, index, outcome["state"], outcome["message"])
                    print(f"  {member['run']}: {outcome['state']} {outcome['message']}".rstrip(), flush=True)
                    del pending[index]
                else:
                    _set_state(folder, manifest, index, _seen_state(run, member))
            time.sleep(POLL_S if pending else 0)
    except KeyboardInterrupt:
        print("stopped waiting; the workers go on, and running the sweep again follows them", flush=True)
        raise
    return manifest


def _outcome(seal, run: Path, result) -> dict[str, str]:
    """A finished task's answer, trusted only when sealed by the deployment and borne out by the run itself."""
    if result.state != "SUCCESS":
        return {"state": "failed", "message": f"the worker failed ({result.state}): {result.result}"[:300]}
    body = seal.open(SEALED_OUTCOME, str(run), result.result)
    if body is None or body.get("state") not in ("complete", "failed", "interrupted"):
        return {"state": "failed", "message": "the worker's answer did not pass verification; run the sweep again"}
    if body["state"] == "complete" and not is_finished(run, None):
        return {"state": "failed", "message": "the worker answered complete but the run is not; run the sweep again"}
    return {"state": body["state"], "message": str(body.get("message", ""))[:300]}


def _seen_state(run: Path, member: dict) -> str:
    """What a worker is doing with a run, as far as the run's own status shows it."""
    state = rundir.read_status(run).get("state") if (run / rundir.STATUS).exists() else None
    if state in ("training", "encoding"):
        return "training"
    if state == "complete" and member["state"] in ("training", "analysing"):
        return "analysing"
    return member["state"]


def report(folder: Path, manifest: dict) -> int:
    """Print each run's state; 0 when every run is complete, 130 after an interruption, else 1."""
    states = [m["state"] for m in manifest["members"]]
    for member in manifest["members"]:
        note = f" — {member['message']}" if member.get("message") else ""
        print(f"  beta {member['beta']:<8g} {folder.name}/{member['run']:<16} {member['state']}{note}")
    if all(state == "complete" for state in states):
        print(f"sweep complete: {folder}; `zspace report {folder} --out DIR` draws its curve")
        return 0
    if "interrupted" in states:
        print(f"sweep interrupted; run the same command again to continue {folder}")
        return 130
    print(f"{states.count('failed')} of {len(states)} runs failed; run the same command again to retry them")
    return 1
