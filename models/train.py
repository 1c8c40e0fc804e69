"""``zspace train`` / ``python -m models.train``: the training worker that writes a run directory.

It holds the run's lock while writing, records config, status, per-epoch
history, checkpoints and TensorBoard logs, saves the final ``.keras`` models,
then encodes the whole source (``models.encode``) and marks the run complete.
A SIGINT/SIGTERM or SIGKILL loses at most the current epoch; ``--resume``
continues from ``checkpoints/latest.json``. ``--strategy`` trains on one
device, mirrored over several, or over several hosts (:mod:`models.distribute`);
only the chief worker writes the run directory.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import rundir
from models.config import (
    ARCHITECTURE_FIELDS,
    DEFAULT_SNAPSHOT_N,
    config_differences,
    make_config,
    snapshot_settings,
    training_source,
)
from models.distribute import STRATEGIES, WorkerRole, remove_worker_dir, worker_role, worker_write_dir
from rundir.atomic import atomic_write_json, remove_stale_temporaries
from rundir.errors import ZspaceError, run_reporting_errors

#: Training settings that are not part of the architecture, with their defaults.
TRAINING_DEFAULTS: dict[str, Any] = {"epochs": 10, "batch_size": 64, "learning_rate": 1e-3, "seed": 0}

#: Fields a ``--resume`` must agree on (epochs, batch size, learning rate, strategy and XLA may change;
#: mixed precision may not: it changes the optimizer's state, which the checkpoint holds).
RESUME_FIELDS = (*ARCHITECTURE_FIELDS, "data", "mixed_precision")

#: Everything a fresh ``--force`` train removes from an existing run directory.
RUN_CONTENTS = (
    rundir.CONFIG,
    rundir.STATUS,
    rundir.HISTORY,
    rundir.MODEL,
    rundir.ENCODER,
    rundir.DECODER,
    rundir.ZPOINTS,
    rundir.ZPOINTS_DIGEST,
    rundir.ZLOGVAR,
    rundir.METADATA,
    rundir.TRAINING_SPLIT,
)
RUN_FOLDERS = (rundir.CHECKPOINTS, rundir.TENSORBOARD, rundir.ANALYSIS, rundir.SNAPSHOTS)
#: Snapshot options (``--snapshot-every``, ``--snapshot-n``): kept by a resume unless given again.
SNAPSHOT_FIELDS = ("snapshot_every", "snapshot_n")


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``zspace train``."""
    parser.add_argument("--model", choices=("ae", "vae"), help="model kind (default vae)")
    parser.add_argument("--beta", type=float, help="weight of the KL term of the VAE loss (default 1.0)")
    parser.add_argument("--out", required=True, help="run directory to write, e.g. data/runs/NAME")
    add_training_options(parser)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its last finished epoch; omitted options are taken from its config, "
        "and a differing architecture or data source is refused",
    )
    mode.add_argument(
        "--force", action="store_true", help="replace an existing run in --out (its weights, z-points and analyses)"
    )


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """Add the options of a run's data, architecture (all but model and β) and training; ``zspace sweep`` shares them.

    Every one defaults to None (not given) except ``--strategy``.
    """
    parser.add_argument(
        "--data", help="data source: synthetic[:N], celeba:PATH or folder:PATH (required unless --resume)"
    )
    parser.add_argument("--image-size", type=int, help="image side in pixels, a multiple of 16 (default 64)")
    parser.add_argument("--z-dim", type=int, help="latent dimension (default 256)")
    parser.add_argument("--extra-dense", type=int, metavar="N", help="Dense(N) before z / mu, logvar (default off)")
    parser.add_argument("--batch-norm", action="store_true", default=None, help="BatchNormalization after each conv")
    parser.add_argument(
        "--recon-loss", choices=("bce", "mse"), help="reconstruction loss, summed over pixels (default bce)"
    )
    parser.add_argument("--epochs", type=int, help="total number of epochs (default 10)")
    parser.add_argument("--batch-size", type=int, help="images per step (default 64)")
    parser.add_argument("--lr", type=float, dest="learning_rate", help="Adam learning rate (default 1e-3)")
    parser.add_argument("--seed", type=int, help="random seed for weights, shuffling and synthetic data (default 0)")
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="auto",
        help="one device; mirrored over this host's GPUs; multiworker over the hosts in TF_CONFIG; "
        "auto: mirrored when there is more than one GPU, else one (default auto). --batch-size is the global batch",
    )
    parser.add_argument(
        "--cpu-devices",
        type=int,
        metavar="N",
        help="split the CPU into N logical devices (with --strategy mirrored on a host without GPUs)",
    )
    parser.add_argument(
        "--mixed-precision",
        action=argparse.BooleanOptionalAction,
        help="float16 compute with float32 weights, loss scaling and float32 outputs (default: on with a GPU); "
        "a resumed run keeps its setting",
    )
    parser.add_argument(
        "--jit",
        action=argparse.BooleanOptionalAction,
        help="compile the training step with XLA (default: on with a GPU and one replica)",
    )
    parser.add_argument(
        "--snapshot-every",
        type=int,
        metavar="E",
        help="encode a fixed set of images after every E epochs (and after the last) into snapshots/epoch_NNN.npy",
    )
    parser.add_argument(
        "--snapshot-n",
        type=int,
        metavar="N",
        help=f"images per snapshot, the same rows every time (default {DEFAULT_SNAPSHOT_N:,}, at most the data's size)",
    )


def resolve_config(args: argparse.Namespace, existing: dict[str, Any] | None) -> dict[str, Any]:
    """Merge command-line options with the defaults (fresh run) or the existing config (``--resume``).

    Raises
    ------
    ZspaceError
        On invalid values, a missing ``--data``, or a resume whose architecture / data differ.
    """
    given = {
        key: getattr(args, key, None)
        for key in (*ARCHITECTURE_FIELDS, "data", "mixed_precision", *TRAINING_DEFAULTS, *SNAPSHOT_FIELDS)
    }
    if existing:
        # Runs from before these fields existed trained in float32 on their ``data``.
        existing = {
            **existing,
            "data": training_source(existing),
            "mixed_precision": bool(existing.get("mixed_precision", False)),
        }
    base = (
        dict(existing) if existing else {"image_size": 64, "data": None, "mixed_precision": None, **TRAINING_DEFAULTS}
    )
    merged = {**base, **{key: value for key, value in given.items() if value is not None}}
    if not merged.get("data"):
        raise ZspaceError("--data is required (e.g. --data synthetic:2000, celeba:PATH or folder:PATH)")
    config = {**merged, **make_config(**{key: merged.get(key) for key in ARCHITECTURE_FIELDS})}
    _check_training(config)
    if existing:
        _check_resume(args.out, existing, config)
    return config


def _check_training(config: dict[str, Any]) -> None:
    for key in ("epochs", "batch_size"):
        if not isinstance(config[key], int) or config[key] < 1:
            raise ZspaceError(f"--{key.replace('_', '-')} must be a positive integer, got {config[key]!r}")
    if not config["learning_rate"] > 0:
        raise ZspaceError(f"--lr must be > 0, got {config['learning_rate']}")


def _check_resume(out, existing: dict[str, Any], config: dict[str, Any]) -> None:
    # The snapshot rows are recorded once: a resume may not change how many there are.
    fields = (*RESUME_FIELDS, "snapshot_n") if existing.get("snapshot_n") else RESUME_FIELDS
    differences = config_differences(existing, config, fields)
    if differences:
        raise ZspaceError(
            f"cannot --resume {out} with a different configuration ({'; '.join(differences)}); "
            "use another --out or --force to start over"
        )


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape the weights, for the run's config."""
    import platform
    from importlib import metadata

    from models.runtime import start_tensorflow

    tf = start_tensorflow()
    import keras
    import numpy

    try:
        # The distribution's version, not ``zspace.__version__``: models/ never imports the top floor.
        zspace_version = metadata.version("zspace")
    except metadata.PackageNotFoundError:
        zspace_version = "unknown"
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__ if tf is not None else "not installed",  # JAX backend without TensorFlow
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "zspace": zspace_version,
        "keras_backend": keras.backend.backend(),
    }


def prepare_run_dir(out: Path, force: bool, resume: bool) -> None:
    """Refuse to overwrite an existing run unless ``--force``; with it, remove the old run's files."""
    remove_stale_temporaries(out)
    remove_stale_temporaries(out / rundir.CHECKPOINTS)
    if resume:
        return
    occupied = [name for name in (*RUN_CONTENTS, *RUN_FOLDERS) if (out / name).exists()]
    if not occupied:
        return
    if not force:
        state = rundir.read_status(out).get("state", "unknown") if (out / rundir.STATUS).exists() else "unknown"
        raise ZspaceError(
            f"{out} already holds a run (state {state}); use --resume to continue it or --force to replace it"
        )
    for name in RUN_CONTENTS:
        (out / name).unlink(missing_ok=True)
    for name in RUN_FOLDERS:
        if (out / name).is_dir():
            shutil.rmtree(out / name)


def run(args: argparse.Namespace) -> int:
    """Train as the command line asked; return the exit status."""
    out = Path(args.out)
    if (out / rundir.SWEEP).exists():
        raise ZspaceError(f"{out} is a sweep folder; train into one of its runs or another --out")
    existing = None
    if args.resume:
        if not (out / rundir.CONFIG).exists():
            raise ZspaceError(f"nothing to resume: {out} holds no run (no config.json); start it without --resume")
        existing = rundir.read_config(out)
    config = resolve_config(args, existing)
    role = worker_role(os.environ.get("TF_CONFIG")) if args.strategy == "multiworker" else WorkerRole()

    # Bad data is refused before TensorFlow starts (opening a source uses no TensorFlow).
    from models.data import open_source

    source = open_source(config["data"], image_size=config["image_size"], seed=config["seed"])
    if len(source) < 1:
        raise ZspaceError(f"the data source {config['data']} holds no usable images")
    config.update(snapshot_settings(config.get("snapshot_every"), config.get("snapshot_n"), len(source)))
    skipped = source.skip_summary()
    if skipped and role.is_chief:
        print(skipped, flush=True)
    # The strategy before any TensorFlow operation: MultiWorkerMirroredStrategy cannot be created after one.
    strategy, config = start_training_runtime(config, args.strategy, args.cpu_devices, args.jit, role)
    write_dir = worker_write_dir(out, role)
    try:
        with rundir.run_lock(write_dir):
            if role.is_chief:
                prepare_run_dir(out, force=args.force, resume=args.resume)
            return train_run(write_dir, config, source, resume=args.resume, strategy=strategy, resume_from=out)
    finally:
        remove_worker_dir(write_dir, out)


def start_training_runtime(
    config: dict[str, Any], strategy_name: str, cpu_devices: int | None, jit: bool | None, role: WorkerRole
) -> tuple[Any, dict[str, Any]]:
    """Start TensorFlow, create the strategy, settle mixed precision and XLA; return ``(strategy, config)``.

    The returned config records ``strategy`` (as resolved), ``replicas``,
    ``workers``, ``mixed_precision`` and ``jit``.
    """
    from models.distribute import has_gpu, make_strategy, resolve_precision
    from models.runtime import start_tensorflow

    tf = start_tensorflow()
    if not has_gpu(tf):
        # On CPUs with oneDNN, Grappler's remapper fails on the training step's LeakyReLU gradient and logs
        # an ERROR line ("remapper failed: ... Mutation::Apply error") for every traced step; a failed pass
        # is discarded anyway, so switching it off changes no computation, only the noise.
        tf.config.optimizer.set_experimental_options({"remapping": False})
    strategy, resolved = make_strategy(tf, strategy_name, cpu_devices)
    replicas = int(strategy.num_replicas_in_sync)
    mixed, use_jit = resolve_precision(config.get("mixed_precision"), jit, has_gpu(tf), replicas)
    runtime = {"strategy": resolved, "replicas": replicas, "workers": role.workers}
    return strategy, {**config, **runtime, "mixed_precision": mixed, "jit": use_jit}


def train_run(
    out: str | os.PathLike,
    config: dict[str, Any],
    source,
    resume: bool = False,
    strategy=None,
    resume_from: str | os.PathLike | None = None,
) -> int:
    """Train, save and (on the chief) encode one run; the caller holds the lock. Returns 0, or 130 if interrupted.

    ``out`` is where this process writes: the run directory, or a non-chief
    worker's temporary folder (:func:`models.distribute.worker_write_dir`);
    ``resume_from`` is the run directory a resume reads its checkpoint from.
    """
    from models.encode import encode_run
    from models.splits import dataset_identity, record_training_split, training_rows
    from models.training_loop import fit_run

    out = Path(out)
    trained = len(training_rows(source))
    chief = resume_from is None or Path(resume_from).resolve() == out.resolve()
    config = {
        **config,
        "schema_version": rundir.SCHEMA_VERSION,
        # Training encodes its own source: the z-points' source and the training source agree until
        # `zspace encode --data OTHER` changes ``data``.
        "train_data": config["data"],
        "train_dataset": dataset_identity(config["data"]),
        "n_images": len(source),
        "n_train": trained,
        "skipped": int(getattr(source, "skipped", 0)),
        "versions": library_versions(),
    }
    config.setdefault("created", rundir.now_iso())
    atomic_write_json(out / rundir.CONFIG, config)
    record_training_split(out, source)
    _install_sigterm_as_interrupt()
    try:
        result = fit_run(out, config, source, resume=resume, strategy=strategy, resume_from=resume_from)
        if not chief:
            print(f"worker finished epoch {result['epochs_finished']}/{config['epochs']}; the chief writes the run")
            return 0
        status = encode_run(out, source, batch_size=max(config["batch_size"], 256))
    except KeyboardInterrupt:
        status = rundir.read_status(out)
        finished = status.get("epochs_finished", 0)
        rundir.update_status(
            out,
            state="interrupted",
            message=f"interrupted after {finished} finished epoch(s); continue with --resume",
        )
        print(f"interrupted: {finished} epoch(s) saved in {out}; continue with `zspace train --out {out} --resume`")
        return 130
    except Exception as exc:
        message = str(exc) if isinstance(exc, ZspaceError) else f"{type(exc).__name__}: {exc}"
        rundir.update_status(out, state="failed", message=message.splitlines()[0] if message else "failed")
        raise
    ips = result.get("images_per_sec")
    throughput = f"{ips:,.0f} images/s" if ips else "no epoch trained in this process"
    replicas = f" on {config['replicas']} replicas" if config.get("replicas", 1) > 1 else ""
    print(
        f"trained {config['model'].upper()} on the {trained:,} train-split images of {len(source):,} to epoch "
        f"{result['epochs_finished']}/{config['epochs']} ({throughput}{replicas}); encoded {status.get('n_points', 0):,} images; run complete: {out}"
    )
    return 0


def _install_sigterm_as_interrupt() -> None:
    # SIGTERM (e.g. `kill`, a container stop) ends the run as cleanly as Ctrl-C does.
    import signal
    import threading

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def main(argv: list[str] | None = None) -> int:
    """``python -m models.train``: the same job and options as ``zspace train``."""
    parser = argparse.ArgumentParser(prog="python -m models.train", description=__doc__.splitlines()[0])
    configure_parser(parser)
    args = parser.parse_args(argv)
    return run_reporting_errors("train", lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
