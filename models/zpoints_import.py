"""``zspace import --zpoints Z [--metadata M]``: a run from z-points computed elsewhere, without a model.

Z is a ``.npy`` array, a ``.parquet`` / ``.csv`` table whose every column is
one coordinate, or a TensorBoard Projector ``tensors.tsv``; M a Parquet / CSV
table or a Projector ``metadata.tsv`` with one row per point. The run holds
``zpoints.npy``, ``metadata.parquet`` (``row``, ``id``, ``source``, ``split``,
then M's other columns) and a config whose ``encoder_file`` and
``decoder_file`` are ``null``: every analysis, plane, map, filter, selection,
export and structure number works on it; decoding does not. Everything is read
and checked before anything is written.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

import rundir
from models import projector
from rundir.atomic import atomic_save_npy, atomic_write_json, atomic_write_parquet
from rundir.errors import ZspaceError

#: Columns zspace writes itself at the front of every metadata table.
BOOKKEEPING = ("row", "id", "source", "split")
#: Coordinates a run may have (rundir's config limit) and fewest a plane needs.
MIN_Z_DIM, MAX_Z_DIM = 2, rundir.files.CONFIG_LIMITS["z_dim"][1]


def read_zpoints(path: Path) -> np.ndarray:
    """The z-points of ``path`` as float32 (N x D), each problem one line (see the module notes)."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ZspaceError(f"--zpoints {path.name} does not exist")
    if suffix == ".npy":
        z = _read_npy(path)
    elif suffix == ".tsv":
        z = projector.read_tensors(path)
    elif suffix in (".csv", ".parquet"):
        z = _numeric_table(_read_table(path, "--zpoints"), path.name)
    else:
        raise ZspaceError(f"--zpoints {path.name}: give a .npy, .parquet, .csv or Projector .tsv file")
    if z.ndim != 2 or len(z) < 2:
        raise ZspaceError(f"--zpoints {path.name} must hold at least 2 points, one per row; found shape {z.shape}")
    if not MIN_Z_DIM <= z.shape[1] <= MAX_Z_DIM:
        raise ZspaceError(
            f"--zpoints {path.name} has {z.shape[1]} coordinates per point; zspace needs 2 to {MAX_Z_DIM}"
        )
    bad = np.argwhere(~np.isfinite(z))
    if len(bad):
        row, column = (int(v) for v in bad[0])
        raise ZspaceError(
            f"--zpoints {path.name}: {len(bad):,} values are NaN or inf (the first at row {row}, column {column}, "
            "counting from 0); zspace needs finite coordinates"
        )
    return np.ascontiguousarray(z, dtype=np.float32)


def _read_npy(path: Path) -> np.ndarray:
    try:
        z = np.load(path, allow_pickle=False)
    except ValueError:
        raise ZspaceError(f"--zpoints {path.name} holds Python objects; zspace never loads pickled data") from None
    except OSError as exc:
        raise ZspaceError(f"--zpoints {path.name} is not a valid .npy file ({type(exc).__name__})") from None
    if not np.issubdtype(z.dtype, np.number) or np.iscomplexobj(z):
        raise ZspaceError(f"--zpoints {path.name} holds {z.dtype} values, not real numbers")
    return z.astype(np.float32)


def _read_table(path: Path, option: str) -> pd.DataFrame:
    """A Parquet or CSV table; a CSV of numbers only (its first line too) is read as having no header line.

    For ``--zpoints`` text stays text (``n/a`` is not read as NaN): a coordinate column holds numbers only.
    Metadata keeps pandas' reading of empty cells as missing values.
    """
    keep = option != "--zpoints"
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        frame = pd.read_csv(path, keep_default_na=keep)
        if len(frame.columns) and all(_is_number(c) for c in frame.columns):
            return pd.read_csv(path, header=None, keep_default_na=keep)  # no header line: its first line is data
        return frame
    except Exception as exc:  # pyarrow and the CSV parser raise many types for damaged files
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise ZspaceError(f"{option} {path.name} cannot be read as a table ({first})") from None


def _is_number(text) -> bool:
    try:
        float(str(text))
        return True
    except ValueError:
        return False


def _numeric_table(frame: pd.DataFrame, name: str) -> np.ndarray:
    """The table as float32; a column that is not numbers is named with its first offending value.

    Text such as ``n/a`` is refused here rather than read as NaN; ``nan`` and ``inf`` themselves are
    numbers, refused afterwards as not finite.
    """
    for column in frame.columns:
        if frame[column].dtype.kind in "biuf":
            continue
        values = frame[column].astype(str) if frame[column].dtype.kind in "OUS" else None
        bad = frame.index if values is None else [i for i, v in values.items() if not _is_number(v)]
        if len(bad):  # text that is not a number, or a type such as dates
            row = bad[0]
            raise ZspaceError(
                f"--zpoints {name}: column {str(column)[:40]!r} is not numeric (row {row}: "
                f"{str(frame[column].iat[row])[:40]!r}); every column of Z is one coordinate"
            )
        frame[column] = values.astype(np.float64)
    return frame.to_numpy(dtype=np.float32)


def _user_table(path: Path, n_points: int) -> pd.DataFrame:
    # The user's metadata file as a table: Parquet, CSV or a Projector .tsv.
    if not path.is_file():
        raise ZspaceError(f"--metadata {path.name} does not exist")
    if path.suffix.lower() == ".tsv":
        return projector.read_metadata(path, n_points)
    if path.suffix.lower() in (".csv", ".parquet"):
        return _read_table(path, "--metadata")
    raise ZspaceError(f"--metadata {path.name}: give a .parquet, .csv or Projector .tsv file")


def read_metadata(path: Path | None, n_points: int) -> pd.DataFrame:
    """The metadata table for ``n_points`` points: zspace's columns first, then the user's (module notes)."""
    frame = pd.DataFrame(index=range(n_points)) if path is None else _user_table(path, n_points)
    if len(frame) != n_points:
        raise ZspaceError(
            f"--metadata {path.name} has {len(frame):,} rows but there are {n_points:,} z-points; "
            "it needs one row per point, in the same order"
        )
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    extra = frame[[c for c in frame.columns if c not in BOOKKEEPING]]
    ids = frame["id"].astype(str).to_numpy() if "id" in frame else np.arange(n_points).astype(str)
    if len(set(ids)) != len(ids):
        raise ZspaceError(f"--metadata {path.name}: the id column repeats values; each point needs its own id")
    front = pd.DataFrame(
        {
            "row": np.arange(n_points, dtype=np.int64),
            "id": ids,
            "source": frame["source"].astype(str).to_numpy() if "source" in frame else "",
            # What the model's training did with each point is unknown unless the user's table says so.
            "split": frame["split"].astype(str).to_numpy() if "split" in frame else rundir.UNSEEN_SPLIT,
        }
    )
    return pd.concat([front, extra], axis=1)


def file_record(path: Path) -> dict:
    """Name, size and SHA-256 of an input file, for the run's config."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"name": path.name, "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def import_zpoints(zpoints: Path, metadata: Path | None, out: Path, model: str | None, before_writing=None) -> dict:
    """Write a run at ``out`` from z-points (and metadata); return its ``status.json`` dict.

    Both files are read and checked first; ``before_writing()`` (e.g. clearing
    the run ``--force`` replaces) runs only after every check passed.
    """
    from models.summary import EMPTY_PARAMETERS

    z = read_zpoints(zpoints)
    table = read_metadata(metadata, len(z))
    config = {
        "schema_version": rundir.SCHEMA_VERSION,
        "model": model or "ae",
        "z_dim": int(z.shape[1]),
        "image_size": None,
        "channels": None,
        "encoder_file": None,
        "decoder_file": None,
        "data": None,
        "train_data": None,
        "n_images": len(z),
        "created": rundir.now_iso(),
        "imported": {
            "from": "zpoints",
            "zpoints": file_record(zpoints),
            "metadata": None if metadata is None else file_record(metadata),
            "parameters": EMPTY_PARAMETERS,
        },
    }
    if before_writing is not None:
        before_writing()
    out.mkdir(parents=True, exist_ok=True)
    with rundir.run_lock(out):
        rundir.write_status(out, "created", message="importing z-points")
        atomic_write_json(out / rundir.CONFIG, config)
        atomic_write_parquet(out / rundir.METADATA, table)
        atomic_save_npy(out / rundir.ZPOINTS, z)  # last: a reader that sees the z-points sees their metadata
        rundir.record_zpoints_digest(out)  # the content digest beside the file: a copied run keeps its analyses
        return rundir.write_status(
            out, "complete", message=f"imported {len(z):,} z-points", n_points=len(z), epochs=0, epochs_finished=0
        )
