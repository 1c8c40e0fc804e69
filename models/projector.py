"""TensorBoard Projector files, both ways: ``tensors.tsv``, ``metadata.tsv``, ``projector_config.pbtxt``, the sprite.

The format, as TensorBoard's projector plugin reads it
(``tensorboard/plugins/projector/projector_plugin.py``):

* ``tensors.tsv``: one point per line, its values separated by tabs, no
  header; empty lines are skipped.
* ``metadata.tsv``: one line per point, in the same order. With more than
  one column the first line is the header (the plugin takes a first line that
  holds a tab as one); a single column has no header.
* ``projector_config.pbtxt``: a ``ProjectorConfig`` message in protobuf text
  format; its paths are relative to its own folder (the plugin refuses paths
  that leave it).
* the sprite: one PNG of equal square thumbnails in row-major order, filling
  a grid of ``ceil(sqrt(N))`` columns; the plugin's frontend accepts at most
  8,192 x 8,192 pixels.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from rundir.errors import ZspaceError

TENSORS, METADATA, CONFIG, SPRITE = "tensors.tsv", "metadata.tsv", "projector_config.pbtxt", "sprite.png"
#: Largest sprite side the Projector's frontend takes (WebGL texture limit it checks).
MAX_SPRITE_SIDE = 8192
#: Name a header-less single metadata column gets.
SINGLE_COLUMN = "label"


def read_tensors(path: Path) -> np.ndarray:
    """Read a Projector ``tensors.tsv`` as float32 (N x D), with one line for each problem a user can fix.

    Raises
    ------
    ZspaceError
        Ragged lines, a value that is not a number, or no data at all.
    """
    try:
        values = np.loadtxt(path, delimiter="\t", dtype=np.float32, ndmin=2, comments=None)
    except ValueError as exc:
        raise ZspaceError(f"{path.name}: {_explain_loadtxt(str(exc))}") from None
    except OSError as exc:
        raise ZspaceError(f"{path.name} cannot be read ({exc.strerror or type(exc).__name__})") from None
    if values.size == 0:
        raise ZspaceError(f"{path.name} holds no points")
    return values


def _explain_loadtxt(text: str) -> str:
    ragged = re.search(r"changed from (\d+) to (\d+) at row (\d+)", text)
    if ragged:
        before, now, line = ragged.groups()
        return f"line {line} has {now} values where the lines before have {before}; every line needs the same number"
    bad = re.search(r"could not convert string '(.{0,40})'.*? at row (\d+), column (\d+)", text)
    if bad:
        value, line, column = bad.groups()
        return f"line {line}, column {column} is not a number ({value!r}); a tensors file holds numbers only"
    return (text.strip().splitlines() or ["not a table of numbers"])[0][:200]


def read_metadata(path: Path, n_points: int) -> pd.DataFrame:
    """Read a Projector ``metadata.tsv`` for ``n_points`` points.

    Several columns: the first line is the header. One column: no header, the
    column is called ``label``, unless the file has exactly one line more than
    there are points, which makes that line the header (how other tools write it).

    Raises
    ------
    ZspaceError
        Ragged lines or a row count that differs from the points'.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ZspaceError(f"{path.name} cannot be read as UTF-8 text ({type(exc).__name__})") from None
    lines = [line for line in text.split("\n") if line.strip("\r")]
    several = bool(lines) and "\t" in lines[0]
    header = 0 if several or len(lines) == n_points + 1 else None
    try:
        frame = pd.read_csv(io.StringIO("\n".join(lines)), sep="\t", header=header, quoting=csv.QUOTE_NONE)
    except pd.errors.ParserError as exc:
        ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if ragged:
            want, line, saw = ragged.groups()
            raise ZspaceError(f"{path.name}: line {line} has {saw} fields where the header has {want}") from None
        raise ZspaceError(f"{path.name}: not a tab-separated table ({str(exc).splitlines()[0][:160]})") from None
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    if header is None:
        frame.columns = [SINGLE_COLUMN]
    return frame


def write_tensors(handle, z: np.ndarray, chunk: int = 8192) -> None:
    """Write z-points as ``tensors.tsv`` lines into an open binary ``handle`` (9 significant digits: exact float32)."""
    for start in range(0, len(z), chunk):
        np.savetxt(handle, np.asarray(z[start : start + chunk], dtype=np.float32), fmt="%.9g", delimiter="\t")


def metadata_text(frame: pd.DataFrame) -> str:
    """``metadata.tsv`` of ``frame``: a header line when it has several columns; tabs and newlines in values become spaces."""
    columns = [str(c) for c in frame.columns]

    def clean(value) -> str:
        text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
        return re.sub(r"[\t\r\n]", " ", text)

    lines = ["\t".join(clean(c) for c in columns)] if len(columns) > 1 else []
    for row in frame.itertuples(index=False, name=None):
        lines.append("\t".join(clean(value) for value in row))
    return "\n".join(lines) + "\n"


def config_text(tensor_name: str, shape: tuple[int, int], sprite_side: int | None) -> str:
    """``projector_config.pbtxt`` for one embedding (``sprite_side``: the thumbnails' side, None without a sprite)."""
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

    config = ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = tensor_name
    embedding.tensor_path = TENSORS
    embedding.metadata_path = METADATA
    embedding.tensor_shape.extend([int(shape[0]), int(shape[1])])
    if sprite_side:
        embedding.sprite.image_path = SPRITE
        embedding.sprite.single_image_dim.extend([int(sprite_side), int(sprite_side)])
    return text_format.MessageToString(config)


def sprite_grid(n_points: int, image_size: int) -> tuple[int, int]:
    """(columns, thumbnail side) of a sprite of ``n_points`` images no larger than :data:`MAX_SPRITE_SIDE`.

    Thumbnails keep the images' own size when it fits, else shrink to fit; a run
    so large that thumbnails would be under 2 pixels gets no sprite (side 0).
    """
    columns = max(1, math.ceil(math.sqrt(n_points)))
    side = min(int(image_size), MAX_SPRITE_SIDE // columns)
    return columns, side if side >= 2 else 0
