"""The run directory: the one contract between training, analysis and the app.

A run directory (``data/runs/<name>/``) is written only by the training /
encoding worker and read by everyone else. This module knows its file names,
reads and validates them, and never imports TensorFlow, so ``analysis`` and
the dashboard can use it cheaply. See ``docs/ARCHITECTURE.md`` for the table.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zspace.atomic import atomic_write_json
from zspace.errors import RunLockedError, RunNotReadyError, ZspaceError

#: Version of the layout below; a run with a newer one is refused, not guessed at.
SCHEMA_VERSION = 1

CONFIG = "config.json"
STATUS = "status.json"
HISTORY = "history.csv"
MODEL = "model.keras"
ENCODER = "encoder.keras"
DECODER = "decoder.keras"
CHECKPOINTS = "checkpoints"
TENSORBOARD = "tensorboard"
ZPOINTS = "zpoints.npy"
ZLOGVAR = "zlogvar.npy"
METADATA = "metadata.parquet"
ANALYSIS = "analysis"
LOCK = ".lock"

STATES = ("created", "training", "encoding", "complete", "failed", "interrupted")


def now_iso() -> str:
    """Return the current UTC time as an ISO-8601 string."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def read_json(path: str | os.PathLike, what: str) -> dict[str, Any]:
    """Read a JSON object, raising a one-line :class:`RunNotReadyError` if it is unusable."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunNotReadyError(f"{what} is missing ({path})") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunNotReadyError(f"{what} is not valid JSON ({path}: {exc.msg})") from None
    if not isinstance(value, dict):
        raise RunNotReadyError(f"{what} must hold a JSON object ({path})")
    return value


def read_config(run: str | os.PathLike) -> dict[str, Any]:
    """Read and check ``config.json`` of a run.

    Raises
    ------
    RunNotReadyError
        If the config is missing, unreadable, of an unknown schema version,
        or lacks the fields every reader relies on.
    """
    config = read_json(Path(run) / CONFIG, "run config")
    version = config.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise RunNotReadyError(f"run config has no valid schema_version ({run})")
    if version > SCHEMA_VERSION:
        raise RunNotReadyError(
            f"run was written by a newer zspace (schema {version} > {SCHEMA_VERSION}); upgrade zspace to read it"
        )
    for key in ("model", "z_dim", "image_size", "channels"):
        if key not in config:
            raise RunNotReadyError(f"run config lacks '{key}' ({run})")
    if config["model"] not in ("ae", "vae"):
        raise RunNotReadyError(f"run config names unknown model kind {config['model']!r} ({run})")
    return config


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
        current = read_json(Path(run) / STATUS, "run status")
    except RunNotReadyError:
        current = {"state": "created"}
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


def npy_header(path: str | os.PathLike) -> tuple[tuple[int, ...], np.dtype]:
    """Return shape and dtype of a ``.npy`` file after checking it is complete.

    Raises
    ------
    RunNotReadyError
        If the file is missing, not ``.npy``, or shorter than its header says
        (a truncated write).
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
    except FileNotFoundError:
        raise RunNotReadyError(f"{path.name} is missing ({path.parent})") from None
    except (ValueError, OSError) as exc:
        raise RunNotReadyError(f"{path.name} is not a valid .npy file ({exc})") from None
    if dtype.hasobject:
        raise RunNotReadyError(f"{path.name} holds Python objects; zspace never loads pickled data")
    expected = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = path.stat().st_size
    if actual < expected:
        raise RunNotReadyError(f"{path.name} is truncated ({actual} of {expected} bytes); re-run `zspace encode`")
    return tuple(shape), dtype


def load_zpoints(run: str | os.PathLike, mmap: bool = True, check_finite: bool = True) -> np.ndarray:
    """Load the run's z-points (N x z_dim float32), memory-mapped by default.

    Raises
    ------
    RunNotReadyError
        On a missing, truncated, wrongly typed or shaped file, a z_dim that
        differs from the config, or NaN / inf values.
    """
    run = Path(run)
    config = read_config(run)
    shape, dtype = npy_header(run / ZPOINTS)
    if len(shape) != 2:
        raise RunNotReadyError(f"zpoints.npy must be 2-D (N x z_dim), found shape {shape}")
    if dtype != np.float32:
        raise RunNotReadyError(f"zpoints.npy must be float32, found {dtype}; re-run `zspace encode`")
    if shape[1] != int(config["z_dim"]):
        raise RunNotReadyError(f"zpoints.npy has z_dim {shape[1]} but the config says {config['z_dim']}")
    if shape[0] < 1:
        raise RunNotReadyError("zpoints.npy holds no points; re-run `zspace encode`")
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
        raise RunNotReadyError(f"metadata.parquet is missing ({run})")
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


def check_decoder_file(path: Path, config: dict[str, Any]) -> None:
    """Check that ``decoder.keras`` fits the run's config, reading only its JSON (no TensorFlow).

    A ``.keras`` file is a zip holding ``config.json``; the decoder's input
    width must be z_dim and its Reshape must match image_size / 16, so weights
    copied in from another run are caught when runs are listed, not on a click.

    Raises
    ------
    RunNotReadyError
        If the file is missing, not a Keras archive, or built for another z_dim or image size.
    """
    import zipfile

    if not path.exists():
        raise RunNotReadyError("decoder.keras is missing; retrain or copy the weights back")
    try:
        with zipfile.ZipFile(path) as archive:
            layers = json.loads(archive.read("config.json"))["config"]["layers"]
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError, OSError):
        raise RunNotReadyError("decoder.keras is damaged (not a Keras archive); retrain the run") from None
    side = None  # the image side, followed through Reshape and the upsampling layers after it
    for layer in layers:
        settings = layer.get("config", {}) if isinstance(layer, dict) else {}
        kind = layer.get("class_name") if isinstance(layer, dict) else None
        if kind == "InputLayer" and isinstance(settings.get("batch_shape"), list):
            width = settings["batch_shape"][-1]
            if width != int(config["z_dim"]):
                raise RunNotReadyError(f"decoder.keras takes z_dim {width} but the config says {config['z_dim']}")
        elif kind == "Reshape" and isinstance(settings.get("target_shape"), list):
            side = int(settings["target_shape"][0])
        elif side is not None and kind == "Conv2DTranspose" and settings.get("padding") == "same":
            side *= int(_first(settings.get("strides", 1)))
        elif side is not None and kind == "UpSampling2D":
            side *= int(_first(settings.get("size", 2)))
    if side is not None and side != int(config["image_size"]):
        raise RunNotReadyError(f"decoder.keras makes {side}x{side} images but the config says {config['image_size']}")


def _first(value):
    return value[0] if isinstance(value, list | tuple) else value


@dataclass
class RunInfo:
    """What a reader needs to know about one run directory before opening it."""

    name: str
    path: Path
    state: str
    usable: bool
    reason: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    n_points: int = 0
    z_dim: int = 0

    def label(self) -> str:
        """A one-line description for pickers and listings."""
        if not self.usable:
            return f"{self.name} — {self.state}: {self.reason}"
        model = str(self.config.get("model", "?")).upper()
        return f"{self.name} ({model}, z_dim {self.z_dim}, {self.n_points:,} points)"


def inspect_run(run: str | os.PathLike, check_finite: bool = True) -> RunInfo:
    """Check a run directory and say whether the dashboard and analyses can use it.

    Never raises for a broken run: the reason is returned in ``RunInfo.reason``.
    """
    run = Path(run)
    info = RunInfo(name=run.name, path=run, state="unknown", usable=False)
    try:
        info.status = read_status(run)
        info.state = str(info.status.get("state", "unknown"))
        info.config = read_config(run)
        if info.state in ("training", "encoding", "created"):
            progress = info.status.get("message") or f"state {info.state}"
            raise RunNotReadyError(f"not finished yet ({progress})")
        if info.state == "interrupted":
            raise RunNotReadyError(f"training was interrupted; continue it with `zspace train --out {run} --resume`")
        if info.state == "failed":
            raise RunNotReadyError(str(info.status.get("message") or "training failed"))
        z = load_zpoints(run, check_finite=check_finite)
        info.n_points, info.z_dim = int(z.shape[0]), int(z.shape[1])
        load_metadata(run, info.n_points)
        check_decoder_file(run / DECODER, info.config)
        info.usable = True
    except ZspaceError as exc:
        # Reasons reach browsers: name the run, never the server's absolute paths.
        info.reason = str(exc).replace(str(run.resolve()), run.name).replace(str(run), run.name)
        if info.state in ("complete", "unknown"):
            info.state = "broken"
    return info


def list_runs(root: str | os.PathLike, check_finite: bool = True) -> list[RunInfo]:
    """Inspect every sub-folder of ``root`` that looks like a run, sorted by name."""
    root = Path(root)
    if not root.is_dir():
        return []
    runs = []
    real_root = root.resolve()
    for child in sorted(root.iterdir()):
        if not child.is_dir() or child.name.startswith("."):
            continue
        if not ((child / CONFIG).exists() or (child / STATUS).exists()):
            continue
        if child.resolve().parent != real_root:
            # resolve_run refuses such a run, so list it as unusable rather than offer it.
            reason = "links outside the runs folder; copy the run in instead of linking it"
            runs.append(RunInfo(name=child.name, path=child, state="refused", usable=False, reason=reason))
            continue
        runs.append(inspect_run(child, check_finite=check_finite))
    return runs


def resolve_run(root: str | os.PathLike, name: str) -> Path:
    """Map a run name coming from a user or a browser to its folder, safely.

    Only the plain names of existing sub-folders of ``root`` are accepted, so
    ``../../etc``, absolute paths and encoded variants cannot escape ``root``.
    """
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise ZspaceError(f"unknown run {name!r}")
    root = Path(root).resolve()
    try:
        candidate = (root / name).resolve()
        found = candidate.parent == root and candidate.is_dir()
    except OSError:  # e.g. a name longer than the file system allows: still just an unknown run
        found = False
    if not found:
        raise ZspaceError(f"unknown run {name[:80]!r}")
    return candidate


@contextlib.contextmanager
def run_lock(run: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on a run directory while writing it.

    The lock is an ``flock`` on ``.lock``: the kernel drops it when the holder
    dies, even by SIGKILL, so a stale lock never blocks a later writer.

    Raises
    ------
    RunLockedError
        If another live process holds the lock.
    """
    run = Path(run)
    run.mkdir(parents=True, exist_ok=True)
    handle = open(run / LOCK, "a+")  # noqa: SIM115 - closed in finally
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunLockedError(f"run {run.name} is being written by {holder}; wait for it or stop it first") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()
