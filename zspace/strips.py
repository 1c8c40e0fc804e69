"""What ``zspace path``, ``zspace walk`` and ``zspace traverse`` share: the run, bounded sizes, decoding, the PNG.

Each of them decodes a line of z-vectors with the run's decoder (the same
service the dashboard uses, loaded through :func:`models.io.load_decoder`) in
batches of at most 64 and writes one strip of images atomically, so a script
that is killed never leaves half a PNG behind.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import rundir
from rundir.errors import ZspaceError
from rundir.layout import DEFAULT_RUNS

#: Most images one decoder call gets (the dashboard's bound per request).
DECODE_BATCH = 64
#: Fewest and most steps of a strip from the command line (decoded in batches of DECODE_BATCH).
MIN_STEPS, MAX_STEPS = 2, 256


def add_run_arguments(parser: argparse.ArgumentParser, default_steps: int) -> None:
    """The run, --runs-root, --steps, --columns and --out, shared by the strip commands."""
    parser.add_argument("run", help="run directory, or the name of a run under --runs-root")
    parser.add_argument(
        "--runs-root", default=DEFAULT_RUNS, help=f"folder of runs for a bare run name (default {DEFAULT_RUNS})"
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=default_steps,
        help=f"images in the strip, both ends included ({MIN_STEPS}..{MAX_STEPS}, default {default_steps})",
    )
    parser.add_argument("--columns", type=int, default=None, help="images per row of the PNG (default: one row)")
    parser.add_argument("--out", required=True, help="PNG file to write, e.g. strip.png")


def open_run(run: str, runs_root: str) -> tuple[Path, np.ndarray]:
    """The run folder (checked usable) and its z-points, memory-mapped."""
    from analysis.precompute import find_run

    path = find_run(run, runs_root)
    info = rundir.inspect_run(path)
    if not info.usable:
        raise ZspaceError(f"run {path.name} cannot be used: {info.reason}")
    return path, rundir.load_zpoints(path, check_finite=False)


def checked_steps(steps: int) -> int:
    """``--steps`` within MIN_STEPS..MAX_STEPS, or one line saying so."""
    if not MIN_STEPS <= int(steps) <= MAX_STEPS:
        raise ZspaceError(f"--steps must be between {MIN_STEPS} and {MAX_STEPS}, got {steps}")
    return int(steps)


def checked_row(row: int, z: np.ndarray, option: str, run: Path) -> int:
    """A row id given on the command line, checked against the run's points."""
    if not 0 <= int(row) < len(z):
        raise ZspaceError(f"{option} {row} is not a row of {run.name} (it has rows 0..{len(z) - 1})")
    return int(row)


def decode(run: Path, zs: np.ndarray) -> np.ndarray:
    """uint8 images of ``zs`` from the run's decoder, decoded DECODE_BATCH at a time."""
    from app.decoder import DecoderService

    service = DecoderService(kept=1)
    fingerprint = rundir.files_key(run)
    zs = np.asarray(zs, dtype=np.float32)
    return np.concatenate(
        [
            service.decode(run, fingerprint, zs[start : start + DECODE_BATCH])
            for start in range(0, len(zs), DECODE_BATCH)
        ]
    )


def write_strip(out: str, images: np.ndarray, columns: int | None) -> Path:
    """Tile ``images`` into one PNG at ``out`` (written atomically)."""
    from PIL import Image

    from app.images import strip
    from rundir.atomic import atomic_path, output_file

    if columns is not None and columns < 1:
        raise ZspaceError(f"--columns must be at least 1, got {columns}")
    out = Path(out)
    if out.suffix.lower() != ".png":
        raise ZspaceError(f"--out must name a .png file, got {out.name}")
    out = output_file(out)
    picture = strip(images, columns=columns)
    with atomic_path(out) as tmp:
        Image.fromarray(picture[..., 0] if picture.shape[2] == 1 else picture).save(tmp, format="PNG")
    return out
