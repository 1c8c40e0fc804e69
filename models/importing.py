"""``zspace import``: a run from your own model (:mod:`models.model_import`) or from z-points alone (:mod:`models.zpoints_import`).

    zspace import --encoder E --decoder D --data SOURCE --out data/runs/NAME [--model ae|vae]
                  [--batch-size B] [--mu-output NAME|INDEX] [--pixel-range LOW,HIGH] [--source-split] [--force]
    zspace import --zpoints Z [--metadata M] --out data/runs/NAME [--model ae|vae] [--force]

Every check runs before anything is written; a refused input leaves ``--out`` as it was.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import rundir
from models.encode import DEFAULT_BATCH
from rundir.errors import ZspaceError

#: What an import (re)writes in ``--out``; ``--force`` removes these first, and nothing else.
RUN_FILES = (
    rundir.CONFIG,
    rundir.STATUS,
    rundir.ZPOINTS,
    rundir.ZPOINTS_DIGEST,
    rundir.ZLOGVAR,
    rundir.METADATA,
    rundir.HISTORY,
    rundir.MODEL,
    rundir.TRAINING_SPLIT,
    *rundir.MODEL_FILES["encoder"],
    *rundir.MODEL_FILES["decoder"],
)
RUN_FOLDERS = (rundir.ANALYSIS, rundir.CHECKPOINTS, rundir.TENSORBOARD)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``zspace import``."""
    models = parser.add_argument_group("a model trained elsewhere (with --data)")
    models.add_argument("--encoder", help="the encoder: a .keras, .h5 or .onnx file or a SavedModel folder")
    models.add_argument("--decoder", help="the decoder, in any of the same formats")
    models.add_argument("--data", help="the images to encode: synthetic[:N], celeba:PATH or folder:PATH")
    models.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH, help=f"images per encoder call (default {DEFAULT_BATCH})"
    )
    models.add_argument(
        "--mu-output",
        metavar="NAME|INDEX",
        help="which encoder output is the z-point (a VAE's mu); default: the only output, or the first of two "
        "outputs of equal width (mu, logvar)",
    )
    models.add_argument(
        "--pixel-range",
        default="0,1",
        metavar="LOW,HIGH",
        help="the value range of the models' images: the encoder is fed pixels mapped onto it and the decoder's "
        "output is read back from it; 0,1 (default, Keras' x / 255), tanh for -1,1 (tanh decoders, PyTorch's "
        "Normalize(0.5, 0.5); or --pixel-range=-1,1), 0,255, or any LOW,HIGH",
    )
    models.add_argument(
        "--source-split",
        action="store_true",
        help="the model was trained on the source's own train split: keep its train / valid / test in `split` "
        "(default: every row is `unseen`, as zspace cannot know what the model trained on)",
    )
    alone = parser.add_argument_group("z-points alone")
    alone.add_argument("--zpoints", help="z-points: .npy, .parquet / .csv (every column a coordinate) or tensors.tsv")
    alone.add_argument(
        "--metadata", help="one row per point: .parquet, .csv or metadata.tsv (an `id` column becomes the image id)"
    )
    parser.add_argument("--out", required=True, help="run directory to write, e.g. data/runs/NAME")
    parser.add_argument(
        "--model",
        choices=("ae", "vae"),
        help="what the model is (default: vae when the encoder gives mu and logvar, else ae; ae for z-points alone)",
    )
    parser.add_argument("--force", action="store_true", help="replace a run already in --out")


def check_arguments(args: argparse.Namespace) -> str:
    """``models`` or ``zpoints``: which import the arguments ask for, or one line saying what is missing."""
    model_options = {name: getattr(args, name) for name in ("encoder", "decoder", "data")}
    if args.zpoints is not None:
        given = [f"--{name}" for name, value in model_options.items() if value is not None]
        if given:
            raise ZspaceError(f"--zpoints imports z-points alone; drop {', '.join(given)}")
        return "zpoints"
    if args.metadata is not None:
        raise ZspaceError("--metadata goes with --zpoints; a model import takes its metadata from --data")
    missing = [f"--{name}" for name, value in model_options.items() if value is None]
    if missing:
        raise ZspaceError(
            f"missing {', '.join(missing)}: import a model with --encoder E --decoder D --data SOURCE, "
            "or z-points with --zpoints Z [--metadata M]"
        )
    if args.batch_size < 1:
        raise ZspaceError(f"--batch-size must be >= 1, got {args.batch_size}")
    return "models"


def holds_run(out: Path, force: bool) -> list[str]:
    """The run files in ``out``; refused in one line when there are some and ``force`` is not given."""
    occupied = [name for name in (*RUN_FILES, *RUN_FOLDERS) if (out / name).exists()]
    if occupied and not force:
        raise ZspaceError(f"{out} already holds a run; give another --out, or --force to replace it")
    return occupied


def remove_run(out: Path) -> None:
    """Remove the files of a run in ``out`` (what ``--force`` replaces), leaving anything else in the folder."""
    for name in holds_run(out, force=True):
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()


def run(args: argparse.Namespace) -> int:
    """Import as the arguments ask; print one line about the new run."""
    kind = check_arguments(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ZspaceError(f"--out {out} is a file, not a folder")
    holds_run(out, args.force)  # refused before reading anything when --force is missing

    def clear():
        remove_run(out)

    if kind == "zpoints":
        from models.zpoints_import import import_zpoints

        metadata = None if args.metadata is None else Path(args.metadata)
        status = import_zpoints(Path(args.zpoints), metadata, out, args.model, before_writing=clear)
        print(f"imported {status['n_points']:,} z-points into {out} (no decoder: decoding is not available)")
        return 0
    from models.model_import import ImportOptions, import_models, parse_pixel_range

    options = ImportOptions(
        model=args.model,
        batch_size=args.batch_size,
        mu_output=args.mu_output,
        pixel_range=parse_pixel_range(args.pixel_range),
        source_split=args.source_split,
    )
    status = import_models(Path(args.encoder), Path(args.decoder), args.data, out, options, before_writing=clear)
    config = rundir.read_config(out)
    side = config["image_size"]
    print(
        f"imported a {config['model'].upper()} (z_dim {config['z_dim']}, {side}x{side} images) "
        f"and encoded {status['n_points']:,} images into {out}"
    )
    return 0
