"""``zspace demo``: the built-in study, end to end, on the project's own synthetic faces.

It trains a demo AE and a demo VAE with the seed's architecture (z_dim 256)
on a few thousand procedurally generated faces, encodes 50,000 faces with
each (so the seed's zoom into a square of side 0.5 around the PCA origin
holds points), runs the default analyses and serves the dashboard. Every step
reuses what an earlier call finished, so a second ``make demo`` goes straight
to serving; an interrupted training resumes.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import rundir
from rundir.errors import ZspaceError, run_reporting_errors
from rundir.layout import DEFAULT_RUNS

#: Sized so that a cold start (generation + two trainings + encoding + analyses) stays within about
#: 5 minutes on 2 idle CPU cores while decoded faces are still faces (docs/BENCHMARKS.md, "demo").
DEMO_IMAGES = 4000
#: Faces each demo model encodes into its z-points (the first DEMO_IMAGES of them are its training faces).
DEMO_ENCODE_IMAGES = 50_000
DEMO_IMAGE_SIZE = 64
DEMO_EPOCHS = 5
#: Small batches: on 2 cores they cost little throughput and give twice the updates
#: per epoch, which visibly sharpens the decoded faces of such a short training.
DEMO_BATCH_SIZE = 32
DEMO_Z_DIM = 256
DEMO_RUNS = (("demo-ae", "ae"), ("demo-vae", "vae"))
#: Points of each t-SNE / UMAP map the demo computes.
DEMO_MAP_POINTS = 1500


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``zspace demo``."""
    parser.add_argument(
        "--runs", default=DEFAULT_RUNS, help=f"folder that holds the run directories (default {DEFAULT_RUNS})"
    )
    parser.add_argument(
        "--images", type=int, default=DEMO_IMAGES, help=f"synthetic faces to train on (default {DEMO_IMAGES})"
    )
    parser.add_argument(
        "--encode-images",
        type=int,
        default=DEMO_ENCODE_IMAGES,
        help=f"synthetic faces each model encodes into z-points (default {DEMO_ENCODE_IMAGES:,})",
    )
    parser.add_argument("--image-size", type=int, default=DEMO_IMAGE_SIZE, help="image side (default 64)")
    parser.add_argument(
        "--epochs", type=int, default=DEMO_EPOCHS, help=f"training epochs per model (default {DEMO_EPOCHS})"
    )
    parser.add_argument("--retrain", action="store_true", help="train the demo runs again even if they are complete")
    parser.add_argument("--no-serve", action="store_true", help="prepare the runs and analyses, then stop")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1, this machine only)"
    )
    parser.add_argument("--port", type=int, default=8050, help="port to serve on (default 8050)")


def run(args: argparse.Namespace) -> int:
    """Prepare the demo runs (train, encode, analyse) as needed, then serve them."""
    runs_dir = Path(args.runs)
    started = time.perf_counter()
    pool = _analysis_pool()
    try:
        _prepare_runs(runs_dir, args, pool)
    finally:
        # On success every analysis has finished; on a failure the message must not wait for one.
        pool.shutdown(wait=False, cancel_futures=True)
    print(f"demo: runs ready in {time.perf_counter() - started:.0f} s", flush=True)
    if args.no_serve:
        return 0
    from app.serve import serve

    serve(runs_dir, host=args.host, port=args.port)
    return 0


def _prepare_runs(runs_dir: Path, args: argparse.Namespace, pool) -> None:
    """Train (or resume, or reuse) and encode each demo run; analyse each beside the next one's training."""
    analysing = None  # the previous run's analysis, running beside this run's training
    for name, kind in DEMO_RUNS:
        run_path = runs_dir / name
        plan = _training_plan(run_path, args)
        if plan is None:
            print(f"demo: {name} is complete — reusing it", flush=True)
        else:
            print(
                f"demo: training {name} ({kind.upper()}, z_dim {DEMO_Z_DIM}, {args.images} faces, "
                f"{args.image_size}x{args.image_size}, {args.epochs} epochs){' — resuming' if '--resume' in plan else ''}",
                flush=True,
            )
            argv = [
                "--data",
                f"synthetic:{args.images}",
                "--model",
                kind,
                "--image-size",
                str(args.image_size),
                "--z-dim",
                str(DEMO_Z_DIM),
                "--epochs",
                str(args.epochs),
                "--batch-size",
                str(DEMO_BATCH_SIZE),
                "--seed",
                "0",
                "--out",
                str(run_path),
                *plan,
            ]
            if _train(argv) != 0:
                raise ZspaceError(f"training {name} failed; see the message above (the run folder is {run_path})")
        _encode(run_path, f"synthetic:{args.encode_images}", args.image_size)
        _finish(analysing)
        analysing = _start_analysis(run_path, pool)
    _finish(analysing)


def _start_analysis(run_path: Path, pool):
    """Start ``zspace analyze RUN --quick --tsne-n DEMO_MAP_POINTS`` in the demo's analysis process.

    The maps (t-SNE, UMAP) run on one thread; in a process of their own they use the core
    that the next model's training leaves idle. Both runs go through the same process, so
    umap-learn compiles its numba kernels (about 50 s on 2 cores) once, not twice.
    """
    print(f"demo: analysing {run_path.name} (t-SNE and UMAP maps, filaments and voids)", flush=True)
    return run_path, pool.submit(_analyse, str(run_path))


def _analysis_pool():
    """One spawned worker process (never forked: the demo has TensorFlow loaded by then)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


def _analyse(run_path: str) -> tuple[int, str]:
    """Run ``zspace analyze`` for the demo in this (worker) process; return its exit status and what it printed."""
    import contextlib
    import io

    from analysis import precompute

    parser = argparse.ArgumentParser(prog="zspace analyze")
    precompute.configure_parser(parser)
    args = parser.parse_args([run_path, "--quick", "--tsne-n", str(DEMO_MAP_POINTS)])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        status = run_reporting_errors("analyze", lambda: precompute.run(args))
    return status, printed.getvalue()


def _finish(analysing) -> None:
    """Wait for an analysis started by :func:`_start_analysis`, print what it did, fail with its last line."""
    if analysing is None:
        return
    run_path, future = analysing
    status, printed = future.result()
    print(printed, end="", flush=True)
    if status != 0:
        last = (printed.strip().splitlines() or ["no output"])[-1]
        raise ZspaceError(f"analysing {run_path.name} failed: {last}")


#: One rendered face set for both models (rendering 50,000 faces takes about 25 s).
_SOURCES: dict[tuple[str, int], object] = {}


def _encode(run_path: Path, spec: str, image_size: int) -> None:
    """Encode ``spec`` into the run unless it holds exactly that already (the faces are rendered once per demo)."""
    from models.data import open_source
    from models.encode import encode_run

    info = rundir.inspect_run(run_path)
    config = rundir.read_config(run_path)
    count = int(spec.partition(":")[2])
    if info.usable and config.get("data") == spec and info.n_points == count:
        return
    print(f"demo: encoding {count:,} faces with {run_path.name}", flush=True)
    started = time.perf_counter()
    if (spec, image_size) not in _SOURCES:
        _SOURCES[(spec, image_size)] = open_source(spec, image_size=image_size, seed=0)
        _SOURCES[(spec, image_size)].images()  # rendered once, kept for the other model
    with rundir.run_lock(run_path):
        encode_run(run_path, _SOURCES[(spec, image_size)])
    print(f"demo: {run_path.name} encoded in {time.perf_counter() - started:.0f} s", flush=True)


def _train(argv: list[str]) -> int:
    """Train as ``zspace train`` would (same options, same one-line errors)."""
    from models import train

    parser = argparse.ArgumentParser(prog="zspace train")
    train.configure_parser(parser)
    args = parser.parse_args(argv)
    return run_reporting_errors("train", lambda: train.run(args))


def _training_plan(run_path: Path, args: argparse.Namespace) -> list[str] | None:
    """Return extra ``train`` arguments, or None when the run can be reused as it is."""
    info = rundir.inspect_run(run_path) if run_path.exists() else None
    if info is None or args.retrain:
        return ["--force"] if run_path.exists() else []
    if not (run_path / rundir.TRAINING_SPLIT).exists():
        # Trained before training held the valid / test images out: its split column cannot be made true.
        return ["--force"]
    same_model = _same_model(info.config, args)
    if same_model and info.usable and int(info.config.get("epochs") or 0) >= args.epochs:
        return None
    if same_model and (run_path / rundir.CHECKPOINTS / "latest.json").exists():
        # An interrupted demo, or one asked for more epochs: continue from the last finished epoch.
        return ["--resume"]
    return ["--force"]


def _same_model(config: dict, args: argparse.Namespace) -> bool:
    # The demo's architecture: a run of another image size or z_dim is trained anew, never resumed.
    return config.get("image_size") == args.image_size and config.get("z_dim") == DEMO_Z_DIM
