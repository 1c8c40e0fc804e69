"""Read and check a run directory's files; write its status.

Every problem is raised as a one-line :class:`~rundir.errors.RunNotReadyError`
that names the file, never a server path (these lines reach browsers).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from rundir import private_copies
from rundir.atomic import atomic_write_json
from rundir.errors import RunNotReadyError
from rundir.layout import (
    CONFIG,
    METADATA,
    MODEL_FILES,
    MODEL_KINDS,
    SCHEMA_VERSION,
    STATES,
    STATUS,
    ZPOINTS,
    now_iso,
)

#: Bounds of the config fields every reader relies on: (low, high) whole numbers.
CONFIG_LIMITS = {"z_dim": (1, 65536), "image_size": (1, 4096), "channels": (1, 4)}


def read_json(path: str | os.PathLike, what: str) -> dict[str, Any]:
    """Read a JSON object, raising a one-line :class:`RunNotReadyError` if it is unusable."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunNotReadyError(f"{what} is missing ({path.name})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunNotReadyError(f"{what} cannot be read ({path.name}: {type(exc).__name__})") from None
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        raise RunNotReadyError(f"{what} is not valid JSON ({path.name}: {reason})") from None
    if not isinstance(value, dict):
        raise RunNotReadyError(f"{what} must hold a JSON object ({path.name})")
    return value


def read_config(run: str | os.PathLike) -> dict[str, Any]:
    """Read and check ``config.json`` of a run.

    Raises
    ------
    RunNotReadyError
        If the config is missing, unreadable, of an unknown schema version,
        or lacks (or mistypes) the fields every reader relies on.
    """
    config = read_json(Path(run) / CONFIG, "run config")
    _check_schema(config.get("schema_version"))
    if config.get("model") not in MODEL_KINDS:
        raise RunNotReadyError(
            f"run config names unknown model kind {str(config.get('model'))[:40]!r}; expected ae or vae"
        )
    for part, names in MODEL_FILES.items():
        name = config.get(f"{part}_file", names[0])
        if name is not None and name not in names:
            raise RunNotReadyError(f"run config: {part}_file must be one of {', '.join(names)} or null")
    imageless = not has_decoder(config) and model_file(config, "encoder") is None
    for key, limits in CONFIG_LIMITS.items():
        if config.get(key) is None and imageless and key != "z_dim":
            continue  # z-points imported alone: no model, so no image size or channels
        _check_limit(config, key, limits)
    return config


def _check_schema(version) -> None:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RunNotReadyError("run config has no valid schema_version")
    if version > SCHEMA_VERSION:
        raise RunNotReadyError(
            f"run was written by a newer zspace (schema {version} > {SCHEMA_VERSION}); upgrade zspace to read it"
        )


def _check_limit(config: dict[str, Any], key: str, limits: tuple[int, int]) -> None:
    low, high = limits
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        shown = "missing" if key not in config else f"{str(value)[:40]!r}"
        raise RunNotReadyError(f"run config: {key} must be a whole number from {low} to {high}, got {shown}")


def model_file(config: dict[str, Any], part: str) -> str | None:
    """The file name of the run's ``part`` (``encoder`` or ``decoder``), or None when the run has none.

    Trained runs hold ``encoder.keras`` / ``decoder.keras``; an imported run names its own
    (:data:`rundir.layout.MODEL_FILES`) or ``null`` (z-points imported without a model).
    """
    return config.get(f"{part}_file", MODEL_FILES[part][0])


def has_decoder(config: dict[str, Any]) -> bool:
    """True when the run has a decoder (what decoding, paths, samplers and the sampler lab need)."""
    return model_file(config, "decoder") is not None


def write_status(run: str | os.PathLike, state: str, **fields: Any) -> dict[str, Any]:
    """Atomically replace ``status.json`` with ``state`` plus progress ``fields``."""
    if state not in STATES:
        raise ValueError(f"unknown run state {state!r}")
    status = {"state": state, "updated": now_iso(), **fields}
    atomic_write_json(Path(run) / STATUS, status)
    return status


def update_status(run: str | os.PathLike, **fields: Any) -> dict[str, Any]:
    """Merge ``fields`` into the current status (keeping its state) and write it."""
    try:
        current = read_status(run)
    except RunNotReadyError:  # a damaged status is replaced, as a missing one would be
        current = {}
    state = fields.pop("state", current.get("state", "created"))
    merged = {k: v for k, v in current.items() if k not in ("state", "updated")}
    merged.update(fields)
    return write_status(run, state, **merged)


def read_status(run: str | os.PathLike) -> dict[str, Any]:
    """Read ``status.json``; a missing file reads as state ``created``."""
    path = Path(run) / STATUS
    if not path.exists():
        return {"state": "created"}
    return read_json(path, "run status")


def npy_layout(path: str | os.PathLike) -> tuple[tuple[int, ...], np.dtype, bool, int]:
    """Return shape, dtype, Fortran order and data offset of a ``.npy`` file after checking it is complete.

    Raises
    ------
    RunNotReadyError
        If the file is missing, not ``.npy``, holds objects, or is shorter than
        its header says (a truncated write, or a header claiming an impossible shape).
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
            offset = handle.tell()
            actual = os.fstat(handle.fileno()).st_size
    except FileNotFoundError:
        raise RunNotReadyError(f"{path.name} is missing") from None
    except (ValueError, OSError, SyntaxError, TypeError) as exc:
        raise RunNotReadyError(f"{path.name} is not a valid .npy file ({type(exc).__name__})") from None
    if dtype.hasobject:
        raise RunNotReadyError(f"{path.name} holds Python objects; zspace never loads pickled data")
    if any(not isinstance(side, int) or side < 0 for side in shape):
        raise RunNotReadyError(f"{path.name} has an impossible shape {shape}")
    # Python integers: a header claiming (2**60, 256) must not overflow into a small, "complete" size.
    expected = offset + math.prod(shape) * dtype.itemsize
    if actual < expected:
        raise RunNotReadyError(f"{path.name} is truncated ({actual:,} bytes, its header needs {expected:,}); re-encode")
    return tuple(shape), dtype, bool(fortran), offset


def npy_header(path: str | os.PathLike) -> tuple[tuple[int, ...], np.dtype]:
    """Return shape and dtype of a ``.npy`` file after checking it is complete (see :func:`npy_layout`)."""
    shape, dtype, _fortran, _offset = npy_layout(path)
    return shape, dtype


def load_zpoints(run: str | os.PathLike, mmap: bool = True, check_finite: bool = True) -> np.ndarray:
    """Load the run's z-points (N x z_dim float32), memory-mapped by default.

    In a process that serves the dashboard (:func:`rundir.private_copies.serve_private_copies`)
    the points are read into a private, read-only copy instead (kept per file version), so a
    ``zpoints.npy`` truncated or rewritten under the server costs a one-line message, never the process.

    Raises
    ------
    RunNotReadyError
        On a missing, truncated, wrongly typed or shaped file, a z_dim that
        differs from the config, or NaN / inf values.
    """
    run = Path(run)
    config = read_config(run)
    shape, dtype, fortran, offset = npy_layout(run / ZPOINTS)
    if len(shape) != 2:
        raise RunNotReadyError(f"zpoints.npy must be 2-D (N x z_dim), found shape {shape}")
    if dtype != np.float32:
        raise RunNotReadyError(f"zpoints.npy must be float32, found {dtype}; re-run `zspace encode`")
    if shape[1] != config["z_dim"]:
        raise RunNotReadyError(f"zpoints.npy has z_dim {shape[1]} but the config says {config['z_dim']}")
    if shape[0] < 1:
        raise RunNotReadyError("zpoints.npy holds no points; re-run `zspace encode`")
    if mmap and private_copies.enabled():
        # A server process: never a memory map, which a file truncated under it would turn into SIGBUS.
        z = private_copies.read(run / ZPOINTS, shape, dtype, fortran, offset)
    else:
        z = np.load(run / ZPOINTS, mmap_mode="r" if mmap else None, allow_pickle=False)
    if check_finite and not _all_finite(z):
        raise RunNotReadyError("zpoints.npy contains NaN or inf values; the model diverged — retrain or re-encode")
    return z


def load_metadata(run: str | os.PathLike, n_points: int | None = None):
    """Load ``metadata.parquet`` as a pandas DataFrame, checking its row count.

    Parameters
    ----------
    run : path-like
        The run directory.
    n_points : int, optional
        Expected number of rows (the number of z-points).
    """
    import pandas as pd

    path = Path(run) / METADATA
    if not path.exists():
        raise RunNotReadyError("metadata.parquet is missing; re-run `zspace encode`")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a damaged file
        raise RunNotReadyError(
            f"metadata.parquet is unreadable ({type(exc).__name__}); re-run `zspace encode`"
        ) from None
    if n_points is not None and len(frame) != n_points:
        raise RunNotReadyError(
            f"metadata has {len(frame)} rows but there are {n_points} z-points; re-run `zspace encode`"
        )
    return frame


def _all_finite(z: np.ndarray, chunk: int = 65536) -> bool:
    # Chunked so a memory-mapped 200k x 256 array is not copied whole.
    return all(np.isfinite(z[start : start + chunk]).all() for start in range(0, len(z), chunk))
