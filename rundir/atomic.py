"""Atomic file writes: write to a temporary name in the same folder, then rename.

A reader (the dashboard, ``analyze``) therefore sees either the old file or
the complete new one, never a half-written file, even when the writer is
killed with SIGKILL. Temporary names start with ``.tmp-`` so that readers and
``git`` can ignore leftovers of a killed writer.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rundir.errors import ZspaceError

TMP_PREFIX = ".tmp-"


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``final``; rename it to ``final`` on success.

    Parameters
    ----------
    final : path-like
        The name the finished file should have.
    suffix : str, optional
        Suffix of the temporary name; libraries such as Keras insist on one
        (``.keras``). Defaults to the suffix of ``final``.

    Notes
    -----
    On an exception the temporary file is removed and ``final`` is untouched.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    suffix = final.suffix if suffix is None else suffix
    fd, tmp_name = tempfile.mkstemp(prefix=TMP_PREFIX + final.stem + "-", suffix=suffix, dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, final)
        _fsync_dir(final.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write_bytes(final: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``final`` atomically."""
    with atomic_path(final) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(final: str | os.PathLike, text: str) -> None:
    """Write UTF-8 ``text`` to ``final`` atomically."""
    atomic_write_bytes(final, text.encode("utf-8"))


def atomic_write_json(final: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``final`` atomically."""
    atomic_write_text(final, json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n")


def atomic_save_npy(final: str | os.PathLike, array: np.ndarray) -> None:
    """Save ``array`` in ``.npy`` format to ``final`` atomically (never pickled)."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    atomic_write_bytes(final, buffer.getvalue())


def atomic_write_parquet(final: str | os.PathLike, frame) -> None:
    """Write a pandas DataFrame as Parquet to ``final`` atomically."""
    with atomic_path(final) as tmp:
        frame.to_parquet(tmp, index=False)


def output_file(path: str | os.PathLike, option: str = "--out") -> Path:
    """Check a file a command was asked to write: its folder must already exist (nothing else is created).

    Commands that write one file the user named (``zspace export --out``, the
    strip PNGs) create that file only; a typo in the folder must not leave new
    folders behind.

    Raises
    ------
    ZspaceError
        One line naming the option and the missing folder.
    """
    path = Path(path)
    if path.is_dir():
        raise ZspaceError(f"{option}: {path} is a folder; name a file inside it")
    folder = path.parent
    if not folder.is_dir():
        raise ZspaceError(f"{option}: the folder {folder} does not exist; create it first (only the file is written)")
    return path


def remove_stale_temporaries(folder: str | os.PathLike) -> int:
    """Delete ``.tmp-*`` files a killed writer left in ``folder``; return how many."""
    count = 0
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    for leftover in folder.glob(TMP_PREFIX + "*"):
        with contextlib.suppress(OSError):
            if leftover.is_dir():
                continue
            leftover.unlink()
            count += 1
    return count


def _fsync_file(path: Path) -> None:
    # Flush file contents to disk before the rename makes them visible, so a
    # power cut cannot leave a complete name over incomplete bytes.
    if path.is_dir():
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
