"""``zspace export RUN --projector DIR``: the run as files TensorBoard's Embedding Projector opens.

Writes ``tensors.tsv`` (every z-point), ``metadata.tsv`` (the metadata table,
a header line first), ``projector_config.pbtxt`` and, when the run's original
images can be read, ``sprite.png``: a square grid of square thumbnails in row
order, at most 8,192 x 8,192 pixels (the Projector's limit), so thumbnails
shrink below the image size when there are many points. Open it with
``tensorboard --logdir DIR`` (the Projector tab). Each file is written
atomically; the config last, so a folder with a config is complete.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import rundir
from models import projector
from rundir.atomic import atomic_path, atomic_write_text
from rundir.errors import ZspaceError


def export_projector(run: Path, folder: Path, note=print) -> dict:
    """Write the Projector files of ``run`` into ``folder`` (created); return what was written.

    Returns
    -------
    dict
        ``points``, ``z_dim``, ``sprite_side`` (thumbnail side, 0 without a sprite) and ``missing``
        (originals that could not be read, drawn grey).
    """
    config = rundir.read_config(run)
    z = rundir.load_zpoints(run)
    frame = rundir.load_metadata(run, len(z))
    if folder.exists() and not folder.is_dir():
        raise ZspaceError(f"--projector {folder} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / projector.TENSORS) as tmp, tmp.open("wb") as handle:
        projector.write_tensors(handle, z)
    atomic_write_text(folder / projector.METADATA, projector.metadata_text(frame))
    side, missing = 0, 0
    if config.get("data") and config.get("image_size"):
        side, missing = write_sprite(config, frame, folder, note)
    else:
        note(f"no sprite: run {run.name} has no original images")
    atomic_write_text(folder / projector.CONFIG, projector.config_text(run.name, z.shape, side or None))
    return {"points": len(z), "z_dim": int(z.shape[1]), "sprite_side": side, "missing": missing}


def write_sprite(config: dict, frame, folder: Path, note) -> tuple[int, int]:
    """Draw the run's originals into ``sprite.png``; return (thumbnail side, originals that could not be read)."""
    from PIL import Image

    columns, side = projector.sprite_grid(len(frame), int(config["image_size"]))
    if not side:
        note(f"no sprite: {len(frame):,} thumbnails do not fit into {projector.MAX_SPRITE_SIDE} pixels")
        return 0, 0
    sheet = np.zeros((columns * side, columns * side, 3), dtype=np.uint8)
    missing = 0
    for row, image in enumerate(originals(config, frame)):
        if image is None:
            missing += 1
            image = np.full((side, side, 3), 128, dtype=np.uint8)
        elif image.shape[0] != side:
            image = np.asarray(Image.fromarray(image).resize((side, side), Image.Resampling.BOX))
        top, left = (row // columns) * side, (row % columns) * side
        sheet[top : top + side, left : left + side] = image
    with atomic_path(folder / projector.SPRITE) as tmp:
        Image.fromarray(sheet).save(tmp, format="PNG")
    if missing:
        note(f"sprite: {missing:,} of {len(frame):,} originals could not be read and are grey")
    return side, missing


def originals(config: dict, frame):
    """Each row's original image (uint8) or None, in row order: streamed from the source when its rows match."""
    from models.data import load_original_image, open_source

    spec, size = config["data"], int(config["image_size"])
    try:
        source = open_source(spec, image_size=size, seed=int(config.get("seed", 0) or 0))
        same = (
            len(source) == len(frame)
            and (source.metadata["source"].astype(str).to_numpy() == frame["source"].astype(str).to_numpy()).all()
        )
    except ZspaceError:
        same = False
    if same:
        for batch in source.batches(256):
            yield from batch
        return
    for value in frame["source"].astype(str):  # the source changed since encoding: each row on its own
        try:
            yield load_original_image(spec, value, size)
        except ZspaceError:
            yield None
