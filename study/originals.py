"""A run's original images: what its z-points were encoded from, read back through its metadata."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import rundir
from rundir.errors import ZspaceError


def _synthetic_faces(sources, size: int) -> np.ndarray | None:
    # Procedural faces of one seed render in a batch, far faster than one by one (None: not such sources).
    from models.data import faces

    parts = [str(s).split(":") for s in sources]
    if not parts or not all(len(p) == 3 and p[0] == "synthetic" and p[1].isdigit() and p[2].isdigit() for p in parts):
        return None
    seeds = {p[1] for p in parts}
    if len(seeds) != 1:
        return None
    return faces.render_faces(int(seeds.pop()), np.array([int(p[2]) for p in parts]), size)


def _original(load, spec: str, source: str, size: int):
    # (image or None, why it is missing) of one training image.
    try:
        return load(spec, source, size), "can no longer be read"
    except ZspaceError as exc:  # e.g. a source value that leaves the dataset folder
        return None, str(exc)


def training_images(run: str | os.PathLike, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """uint8 training images of z-point rows, read through the run's metadata, skipping originals that cannot be read.

    Returns
    -------
    images : ndarray of uint8, shape (k, S, S, 3)
    kept : ndarray of int64, shape (k,)
        The rows the images belong to (``rows`` less the skipped ones).
    skipped : list of str
        One note per row whose ``source`` could not be loaded (a moved file, or a value
        that is no image of the data source); the page shows that row fine, only its original is missing.

    Raises
    ------
    ZspaceError
        When fewer than half of the originals can be read (the data moved): the image measures need them.
    """
    from models.data import load_original_image

    run = Path(run)
    rows = np.asarray(rows, dtype=np.int64)
    config = rundir.read_config(run)
    size = int(config["image_size"])
    sources = rundir.load_metadata(run)["source"].to_numpy()[rows]
    rendered = _synthetic_faces(sources, size)
    if rendered is not None:
        return rendered, rows, []
    spec = config.get("data")
    if not isinstance(spec, str):
        raise ZspaceError(f"run {run.name} names no data source; the image measures need its training images")
    out = np.empty((len(sources), size, size, 3), dtype=np.uint8)
    kept, skipped = [], []
    for i, source in enumerate(sources):
        image, problem = _original(load_original_image, spec, str(source), size)
        if image is None:
            skipped.append(f"row {rows[i]}: {problem}"[:200])
            continue
        out[len(kept)] = image
        kept.append(i)
    if 2 * len(kept) < len(sources):
        first = f" (first: {skipped[0]})" if skipped else ""
        raise ZspaceError(
            f"only {len(kept)} of {len(sources)} training images of run {run.name} can be read ({spec}){first}"
        )
    return out[: len(kept)], rows[kept], skipped
