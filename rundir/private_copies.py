"""Private in-memory copies of ``.npy`` files for processes that must survive a file changed under them.

A memory-mapped ``zpoints.npy`` that is truncated while mapped (``cp other.npy
zpoints.npy`` truncates, then writes) makes the next read of a page past the
new end raise SIGBUS, which no Python code can catch: the process dies. A
server therefore never maps the z-points. :func:`read` copies the array into
private memory with plain reads, checks every byte arrived and that the file
did not change while it was read (size, time and inode before and after), and
keeps the copy for that version of the file. A file being rewritten reads as
a one-line :class:`~rundir.errors.RunNotReadyError`; a copy already handed to a
request stays valid whatever happens to the file.

Copies are kept per process, least recently used dropped beyond a byte budget
(the newest always stays, however large). Command-line tools keep memory maps
(they own the runs they read); :func:`serve_private_copies` switches a process over.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from rundir.errors import RunNotReadyError

#: Default budget of kept copies per process (bytes); the most recently used copy is kept even beyond it.
DEFAULT_BUDGET = 2 << 30

_budget: int | None = None
_kept: OrderedDict = OrderedDict()
_kept_lock = threading.Lock()
_reading: dict[str, threading.Lock] = {}


def serve_private_copies(budget: int = DEFAULT_BUDGET) -> None:
    """From now on this process reads z-points into private copies (see the module notes), keeping ``budget`` bytes."""
    global _budget
    if budget < 0:
        raise ValueError(f"budget must be >= 0 bytes, got {budget}")
    _budget = int(budget)


def enabled() -> bool:
    """True when this process reads z-points into private copies instead of mapping them."""
    return _budget is not None


def _version(stat: os.stat_result) -> tuple[int, int, int, int]:
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns


def read(path: str | os.PathLike, shape: tuple, dtype: np.dtype, fortran: bool, offset: int) -> np.ndarray:
    """The array stored at ``offset`` of ``path`` (its header already checked), as a private read-only copy.

    Raises
    ------
    RunNotReadyError
        When the file is shorter than its header says or changed while it was read.
    """
    path = Path(path)
    name = path.name
    try:
        version = _version(path.stat())
    except FileNotFoundError:
        raise RunNotReadyError(f"{name} is missing") from None
    key = (str(path.absolute()), *version)
    with _kept_lock:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]
        reading = _reading.setdefault(key[0], threading.Lock())
    with reading:  # one thread reads a file version; the others wait for its copy
        with _kept_lock:
            if key in _kept:
                return _kept[key]
        array = _read_fresh(path, shape, dtype, fortran, offset, version)
        with _kept_lock:
            _kept[key] = array
            stale = [k for k in _kept if k[0] == key[0] and k != key]
            for old in stale:  # an older version of the same file is never served again
                del _kept[old]
            while len(_kept) > 1 and sum(a.nbytes for a in _kept.values()) > (_budget or 0):
                _kept.popitem(last=False)
    return array


def _read_fresh(path: Path, shape, dtype, fortran: bool, offset: int, version) -> np.ndarray:
    array = np.empty(shape[::-1] if fortran else shape, dtype=dtype)  # C order in memory either way
    target = memoryview(array).cast("B")
    with path.open("rb") as handle:
        if _version(os.fstat(handle.fileno())) != version:
            raise RunNotReadyError(f"{path.name} changed while it was read; try again when the writer has finished")
        handle.seek(offset)
        done = 0
        while done < len(target):
            got = handle.readinto(target[done:])
            if not got:
                raise RunNotReadyError(
                    f"{path.name} is truncated ({offset + done:,} bytes, its header needs "
                    f"{offset + len(target):,}); re-encode"
                )
            done += got
        after = os.fstat(handle.fileno())
    if _version(after) != version or _version(path.stat()) != version:
        raise RunNotReadyError(f"{path.name} changed while it was read; try again when the writer has finished")
    array = array.T if fortran else array
    array.flags.writeable = False
    return array


def forget() -> None:
    """Drop every kept copy (for tests and for a process that no longer serves)."""
    with _kept_lock:
        _kept.clear()
