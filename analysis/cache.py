"""The analysis cache: results stored in a run's ``analysis/`` folder, keyed by their parameters.

An entry is ``<run>/analysis/<name>-<key>.npz`` (the arrays, loaded with
``allow_pickle=False``) plus ``<name>-<key>.json`` (name, params and z-points
fingerprint, for people and for checking). The key hashes the name, the
canonical JSON of the parameters and the fingerprint of ``zpoints.npy``, so a
changed parameter is a new entry and a re-encoded run misses every old one.
Both files are written atomically; an entry that cannot be read back, or whose
sidecar does not match, is recomputed and overwritten, never trusted.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

import rundir
from rundir.atomic import atomic_path, atomic_write_json

#: Bump when the stored layout of results changes, so old entries are not misread.
CACHE_VERSION = 1


def canonical_json(params: dict) -> str:
    """Return ``params`` as canonical JSON (sorted keys, no spaces); raise ValueError if not JSON-able."""
    try:
        return json.dumps(params, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cache parameters must be plain JSON values: {exc}") from None


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def zpoints_fingerprint(run_dir: str | os.PathLike) -> str:
    """Identity of the run's ``zpoints.npy`` by content (:func:`rundir.zpoints_fingerprint`).

    Shape, dtype, size and a hash of every byte: re-encoding changes it, a copy
    (``cp -r``, rsync, a restore) keeps it, so a copied run keeps its analyses.
    """
    return rundir.zpoints_fingerprint(run_dir)


def entry_folder(run_dir: str | os.PathLike, folder: str | os.PathLike | None = None) -> Path:
    """Where a run's entries live: ``folder`` if given (e.g. a size-capped cache outside the run), else ``<run>/analysis``."""
    return Path(folder) if folder is not None else Path(run_dir) / rundir.ANALYSIS


def entry_paths(
    run_dir: str | os.PathLike, name: str, params: dict, folder: str | os.PathLike | None = None
) -> tuple[Path, Path, str]:
    """Return (npz path, json path, key) of the entry for ``name`` and ``params`` of ``run_dir``."""
    if not name or not all(c.isalnum() or c in "_." for c in name):
        raise ValueError(f"cache entry name must be letters, digits, '_' or '.', got {name!r}")
    fingerprint = zpoints_fingerprint(run_dir)
    text = f"{CACHE_VERSION}|{name}|{canonical_json(params)}|{fingerprint}"
    key = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
    where = entry_folder(run_dir, folder)
    return where / f"{name}-{key}.npz", where / f"{name}-{key}.json", key


def _to_arrays(result: dict) -> dict[str, np.ndarray]:
    if not isinstance(result, dict) or not result:
        raise ValueError("a cached computation must return a non-empty dict of arrays and scalars")
    arrays = {}
    for key, value in result.items():
        arr = np.asarray(value)
        if arr.dtype.hasobject:
            raise ValueError(f"cached value {key!r} holds Python objects; return numeric or string arrays")
        arrays[str(key)] = arr
    return arrays


def _from_arrays(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    # 0-d arrays come back as Python scalars so a fresh and a cached result look the same.
    return {key: (arr.item() if arr.ndim == 0 else arr) for key, arr in arrays.items()}


def _read_entry(npz_path: Path, json_path: Path, key: str, touch: bool = False) -> dict[str, np.ndarray] | None:
    try:
        sidecar = json.loads(json_path.read_text(encoding="utf-8"))
        if sidecar.get("key") != key:
            return None
        with np.load(npz_path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, json.JSONDecodeError, AttributeError):
        return None
    if sorted(arrays) != sorted(sidecar.get("fields", [])):
        return None
    if touch:
        # Marks the entry as recently used, for prune(): only in a cache folder outside the run, never in the
        # run itself (a reader must not change the runs folder, not even a file time).
        with contextlib.suppress(OSError):
            os.utime(json_path)
    return arrays


#: Where new entries go when a caller gives no folder (see :func:`storing_in`); per thread of execution.
_STORING_IN: contextvars.ContextVar[Path | None] = contextvars.ContextVar("analysis_storing_in", default=None)


@contextlib.contextmanager
def storing_in(folder: str | os.PathLike) -> Iterator[None]:
    """Within the block, results are read from the run's own cache or ``folder``, and new ones stored in ``folder``.

    For code that calls cached analyses several layers deep (the sampler lab) on
    behalf of a server that must not write into the runs folder. The setting
    belongs to the current thread (a ``contextvars`` variable), never to other users.
    """
    token = _STORING_IN.set(Path(folder))
    try:
        yield
    finally:
        _STORING_IN.reset(token)


def search_order(folder: str | os.PathLike | None = None) -> list[Path | None]:
    """Where an entry is looked up, in order; a new entry is stored in the last one.

    The one cache-folder rule of zspace: an explicit ``folder`` is the only place;
    otherwise the run's own cache (``None``: what ``zspace analyze`` wrote) comes
    first, then the folder :func:`storing_in` set for this thread, if any.
    """
    if folder is not None:
        return [Path(folder)]
    extra = _STORING_IN.get()
    return [None] if extra is None else [None, extra]


def lookup(
    run_dir: str | os.PathLike, name: str, params: dict, folder: str | os.PathLike | None = None
) -> dict[str, Any] | None:
    """Return the cached result for ``name`` and ``params``, or None when absent or unreadable."""
    for where in search_order(folder):
        npz_path, json_path, key = entry_paths(run_dir, name, params, where)
        arrays = _read_entry(npz_path, json_path, key, touch=where is not None)
        if arrays is not None:
            return _from_arrays(arrays)
    return None


def cached(
    run_dir: str | os.PathLike,
    name: str,
    params: dict,
    compute: Callable[[], dict[str, Any]],
    folder: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Return the result of ``compute()`` for ``params``, from the run's cache when present.

    Parameters
    ----------
    run_dir : path-like
        The run directory (its ``zpoints.npy`` is part of the key).
    name : str
        Analysis name, e.g. ``"pca"`` (letters, digits, ``_`` and ``.``).
    params : dict
        Every parameter that affects the result (plain JSON values).
    compute : callable() -> dict
        Computes the result: a dict of numpy arrays, numbers and strings.
    folder : path-like, optional
        Store the entry here instead of ``<run>/analysis`` (see :func:`entry_folder`).

    Returns
    -------
    dict
        Arrays as ``ndarray``, scalars as Python scalars — the same whether
        computed now or read from the cache.
    """
    found = lookup(run_dir, name, params, folder)
    if found is not None:
        return found
    npz_path, json_path, key = entry_paths(run_dir, name, params, search_order(folder)[-1])
    arrays = _to_arrays(compute())
    _store_entry(run_dir, name, params, key, arrays, npz_path, json_path)
    return _from_arrays(arrays)


def _store_entry(run_dir, name, params, key, arrays, npz_path, json_path) -> None:
    # A read-only run folder (recommended for shared servers) must not turn a
    # computed result into an error: the result is returned uncached instead.
    if npz_path.parent == Path(run_dir) / rundir.ANALYSIS:
        # A program that writes into the run also leaves the z-points' digest beside them, so a copy that
        # keeps file times (cp -a, rsync -a) finds its analyses without hashing the file again.
        rundir.record_zpoints_digest(run_dir)
    try:
        with atomic_path(npz_path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, allow_pickle=False, **arrays)
        # The sidecar is written last: an entry without a matching sidecar is treated as absent.
        atomic_write_json(
            json_path,
            {
                "name": name,
                "key": key,
                "params": json.loads(canonical_json(params)),
                "fields": sorted(arrays),
                "zpoints_fingerprint": zpoints_fingerprint(run_dir),
                "cache_version": CACHE_VERSION,
            },
        )
    except OSError:
        return


def is_cached(run_dir: str | os.PathLike, name: str, params: dict, folder: str | os.PathLike | None = None) -> bool:
    """True when a readable entry for ``name`` and ``params`` exists (without computing anything)."""
    return lookup(run_dir, name, params, folder) is not None


def entries(run_dir: str | os.PathLike, name: str, folder: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """Sidecars (name, key, params, ...) of the current, readable entries of ``name`` in a run.

    Read from every folder of :func:`search_order` (an entry found in two is
    listed once). Entries computed for an older ``zpoints.npy`` are left out.
    Use it to list, e.g., which t-SNE maps of a run are ready.
    """
    fingerprint, found, seen = None, [], set()
    for where in search_order(folder):
        where = entry_folder(run_dir, where)
        if not where.is_dir():
            continue
        fingerprint = fingerprint or zpoints_fingerprint(run_dir)
        for sidecar in _current_sidecars(where, name, fingerprint):
            if sidecar.get("key") not in seen:
                seen.add(sidecar.get("key"))
                found.append(sidecar)
    return found


def _current_sidecars(where: Path, name: str, fingerprint: str) -> Iterator[dict]:
    for json_path in sorted(where.glob(f"{name}-*.json")):
        try:
            sidecar = json.loads(json_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if (
            isinstance(sidecar, dict)
            and sidecar.get("name") == name
            and sidecar.get("zpoints_fingerprint") == fingerprint
            and json_path.with_suffix(".npz").exists()
        ):
            yield sidecar


def prune(root: str | os.PathLike, max_bytes: int) -> int:
    """Delete the least recently used entries under ``root`` until its entries take at most ``max_bytes``.

    For cache folders outside the runs (request-driven results of the dashboard);
    an entry's sidecar time is refreshed whenever it is read. Returns how many
    entries were removed.
    """
    root = Path(root)
    if not root.is_dir():
        return 0
    found = []
    for json_path in root.rglob("*.json"):
        npz_path = json_path.with_suffix(".npz")
        try:
            size = json_path.stat().st_size + (npz_path.stat().st_size if npz_path.exists() else 0)
            found.append((json_path.stat().st_mtime_ns, size, json_path, npz_path))
        except OSError:
            continue
    total = sum(size for _, size, _, _ in found)
    removed = 0
    for _, size, json_path, npz_path in sorted(found):
        if total <= max_bytes:
            break
        for path in (json_path, npz_path):  # the sidecar first: an entry without one is treated as absent
            with contextlib.suppress(OSError):
                path.unlink()
        total -= size
        removed += 1
    return removed
