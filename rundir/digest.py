"""The identity of a run's ``zpoints.npy`` by content, so a copied run keeps its cached analyses.

Cached analyses are keyed by :func:`zpoints_fingerprint`: the array's shape,
dtype and size and a BLAKE2b hash of every byte of the file. ``cp -r``, rsync,
``git annex`` and backups give the file a new modification time but the same
bytes, so they keep every analysis; re-encoding changes the bytes and misses
them all.

Hashing 200 MB takes a fraction of a second, so the hash is cached and
revalidated by ``stat`` (size and modification time):

* **beside the file**, ``zpoints.digest.json``, written by the programs that
  write into the run (``zspace encode``, ``zspace analyze``, ``zspace report``:
  :func:`record_zpoints_digest`). A copy that keeps times (``cp -a``,
  ``rsync -a``) reads it and hashes nothing.
* **in the server's cache folder** (:func:`keep_digests_in`): the dashboard
  never writes into the runs folder, so the digest of a copy whose times
  changed is hashed once and kept there, one small file per run path.
* **in memory**, per process, keyed by the file's device, inode, size and time.

The file is hashed by reading it (never through a memory map), and its
``stat`` is compared before and after: a file rewritten while it is hashed is
reported, never given a digest of mixed bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from pathlib import Path

from rundir.atomic import atomic_write_json
from rundir.errors import RunNotReadyError
from rundir.files import npy_header
from rundir.layout import ZPOINTS, ZPOINTS_DIGEST

#: Bump when the digest's recipe changes, so old sidecars are not trusted.
DIGEST_VERSION = 1
#: Digests kept in memory per process (one per run path).
KEPT_IN_MEMORY = 256

_memory: dict[str, tuple[tuple, str]] = {}
_memory_lock = threading.Lock()
_keep_folder: Path | None = None


def keep_digests_in(folder: str | os.PathLike | None) -> None:
    """Keep the digests this process computes in ``folder`` (the server's cache), never in the runs folder.

    ``None`` turns it off (then digests live in memory and in the run's own sidecar only).
    """
    global _keep_folder
    _keep_folder = None if folder is None else Path(folder)


def _stamp(stat: os.stat_result) -> tuple[int, int]:
    # What a sidecar is checked against: a copy keeps neither device nor inode, a time-keeping copy keeps these.
    return int(stat.st_size), int(stat.st_mtime_ns)


def _read_sidecar(path: Path, stamp: tuple[int, int]) -> str | None:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if (
        isinstance(found, dict)
        and found.get("version") == DIGEST_VERSION
        and [found.get("size"), found.get("mtime_ns")] == list(stamp)
        and isinstance(found.get("fingerprint"), str)
        and len(found["fingerprint"]) == 32
    ):
        return found["fingerprint"]
    return None


def _sidecar_body(fingerprint: str, stamp: tuple[int, int]) -> dict:
    return {"version": DIGEST_VERSION, "size": stamp[0], "mtime_ns": stamp[1], "fingerprint": fingerprint}


def _kept_path(zpoints: Path) -> Path | None:
    if _keep_folder is None:
        return None
    name = hashlib.blake2b(str(zpoints.resolve()).encode(), digest_size=12).hexdigest()
    return _keep_folder / f"{name}.json"


def _hash(zpoints: Path, stat: os.stat_result) -> str:
    shape, dtype = npy_header(zpoints)  # a truncated or malformed file is refused with its one-line reason
    content = hashlib.blake2b(digest_size=16)
    with zpoints.open("rb") as handle:
        hashlib.file_digest(handle, lambda: content)
        after = os.fstat(handle.fileno())
    read = content.hexdigest()
    if _stamp(after) != _stamp(stat) or os.stat(zpoints).st_ino != stat.st_ino:
        raise RunNotReadyError("zpoints.npy changed while it was read; try again when the writer has finished")
    text = f"{DIGEST_VERSION}|{tuple(shape)}|{dtype.str}|{stat.st_size}|{read}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def zpoints_fingerprint(run: str | os.PathLike) -> str:
    """The content identity of the run's ``zpoints.npy`` (32 hex digits); the same for every copy of the file.

    Raises
    ------
    RunNotReadyError
        When the file is missing, malformed or truncated, or changed while it was hashed.
    """
    return _fingerprint_and_stamp(run)[0]


def _fingerprint_and_stamp(run) -> tuple[str, tuple[int, int]]:
    # The stamp returned is the one the fingerprint was taken (or checked) at, never a later stat.
    zpoints = Path(run) / ZPOINTS
    try:
        stat = zpoints.stat()
    except FileNotFoundError:
        raise RunNotReadyError("zpoints.npy is missing") from None
    stamp = _stamp(stat)
    memory_key = str(zpoints.absolute())
    exact = (stat.st_dev, stat.st_ino, *stamp)
    with _memory_lock:
        remembered = _memory.get(memory_key)
    if remembered is not None and remembered[0] == exact:
        return remembered[1], stamp
    kept = _kept_path(zpoints)
    fingerprint = _read_sidecar(zpoints.with_name(ZPOINTS_DIGEST), stamp)
    if fingerprint is None and kept is not None:
        fingerprint = _read_sidecar(kept, stamp)
    if fingerprint is None:
        fingerprint = _hash(zpoints, stat)
        if kept is not None:
            with contextlib.suppress(OSError):  # a cache that cannot be written only means hashing again
                atomic_write_json(kept, _sidecar_body(fingerprint, stamp))
    with _memory_lock:
        _memory[memory_key] = (exact, fingerprint)
        while len(_memory) > KEPT_IN_MEMORY:
            _memory.pop(next(iter(_memory)))
    return fingerprint, stamp


def record_zpoints_digest(run: str | os.PathLike) -> str | None:
    """Write ``zpoints.digest.json`` beside the run's z-points (for programs that write into the run).

    Returns the fingerprint, or None when the run folder cannot be written (a
    read-only run still works: its digest is then hashed once per process or kept
    by the server). Never call it from the server: it never writes into the runs folder.
    """
    fingerprint, stamp = _fingerprint_and_stamp(run)
    sidecar = Path(run) / ZPOINTS_DIGEST
    if _read_sidecar(sidecar, stamp) == fingerprint:
        return fingerprint
    try:
        atomic_write_json(sidecar, _sidecar_body(fingerprint, stamp))
    except OSError:
        return None
    return fingerprint
