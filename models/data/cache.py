"""The decoded-image cache: one uint8 ``.npy`` per (source, image size, file list).

Decoding JPEGs is the slow part of loading; it happens once, in parallel, into
``<cache_dir>/<key>.npy`` (read back memory-mapped) plus a ``<key>.json`` with
the rows kept and the files skipped. The key hashes the spec, the size, the
crop and every file's name, size and mtime, so editing the dataset
invalidates the entry. Both files are written atomically; the JSON is written
last and is the "entry is complete" marker.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from rundir.atomic import atomic_path, atomic_write_json

CACHE_VERSION = 1
DEFAULT_CACHE_DIR = "data/cache"
_HEADER_BYTES = 128  # fixed .npy header length, so the row count can be patched in after streaming
_CHUNK = 256  # files in flight at once: bounds memory whatever the dataset size


def default_cache_dir() -> Path:
    """``$ZSPACE_CACHE_DIR`` if set, else ``data/cache`` under the current folder."""
    return Path(os.environ.get("ZSPACE_CACHE_DIR") or DEFAULT_CACHE_DIR)


def cache_key(identity: dict, root: Path, sources: Iterable[str]) -> str:
    """Hash ``identity`` (spec, size, crop) and each file's relative path, size and mtime."""
    digest = hashlib.sha256(json.dumps({"v": CACHE_VERSION, **identity}, sort_keys=True).encode())
    for source in sources:
        try:
            stat = os.stat(root / source)
            stamp = f"{stat.st_size}:{stat.st_mtime_ns}"
        except OSError:
            stamp = "absent"
        digest.update(f"{source}\0{stamp}\n".encode())
    return digest.hexdigest()[:24]


def load_entry(cache_dir: Path, key: str, size: int) -> tuple[np.ndarray, dict] | None:
    """Return ``(images memmap, manifest)`` of a complete cache entry, or None if absent or unusable."""
    manifest_path, images_path = cache_dir / f"{key}.json", cache_dir / f"{key}.npy"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        kept = manifest.get("kept") if isinstance(manifest, dict) else None
        # mmap cannot map zero bytes of pixels: an entry where every file was skipped reads as empty.
        mmap_mode = "r" if kept else None
        images = np.load(images_path, mmap_mode=mmap_mode, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if not isinstance(kept, list) or images.dtype != np.uint8 or images.shape != (len(kept), size, size, 3):
        return None  # a damaged entry is rebuilt, never trusted
    return images, manifest


def build_entry(
    cache_dir: Path,
    key: str,
    size: int,
    sources: list[str],
    decode: Callable[[str], np.ndarray],
    skip_error: type[Exception],
    workers: int | None = None,
    progress: bool = True,
) -> tuple[np.ndarray, dict]:
    """Decode every source in parallel into a new cache entry and return it like :func:`load_entry`.

    ``decode(source)`` returns a uint8 (size, size, 3) array or raises
    ``skip_error`` (which must have a ``reason`` attribute); skipped files are
    recorded in the manifest as ``[source, reason]``.

    Threads rather than processes or a ``tf.data`` map: Pillow releases the GIL
    while decoding and resizing, so threads use every core without copying
    images between processes, and each file's failure is caught with its
    reason (``tf.io.decode_image`` would abort the pipeline, or drop the file
    silently with ``ignore_errors``, and it cannot read every format or refuse
    an oversized image from its header).
    """
    from tqdm import tqdm

    cache_dir.mkdir(parents=True, exist_ok=True)
    kept: list[str] = []
    skipped: list[list[str]] = []

    def attempt(source: str):
        try:
            return decode(source)
        except skip_error as exc:
            return exc

    workers = workers or min(8, os.cpu_count() or 1)
    bar = tqdm(total=len(sources), desc="decoding images", unit="img", disable=None if progress else True, leave=False)
    with atomic_path(cache_dir / f"{key}.npy") as tmp, open(tmp, "wb") as out, ThreadPoolExecutor(workers) as pool:
        out.write(_npy_header(0, size))
        for start in range(0, len(sources), _CHUNK):
            chunk = sources[start : start + _CHUNK]
            for source, result in zip(chunk, pool.map(attempt, chunk), strict=True):
                if isinstance(result, np.ndarray):
                    out.write(np.ascontiguousarray(result, dtype=np.uint8).tobytes())
                    kept.append(source)
                else:
                    skipped.append([source, result.reason])
            bar.update(len(chunk))
        out.seek(0)
        out.write(_npy_header(len(kept), size))
        out.flush()
    bar.close()
    atomic_write_json(cache_dir / f"{key}.json", {"version": CACHE_VERSION, "kept": kept, "skipped": skipped})
    entry = load_entry(cache_dir, key, size)
    if entry is None:  # pragma: no cover - only if the disk lies to us
        raise OSError(f"cache entry {cache_dir / key} could not be read back after writing")
    return entry


def _npy_header(count: int, size: int) -> bytes:
    """A version-1.0 ``.npy`` header of exactly ``_HEADER_BYTES`` for uint8 (count, size, size, 3)."""
    text = repr({"descr": "|u1", "fortran_order": False, "shape": (count, size, size, 3)}).encode("latin1")
    prefix = b"\x93NUMPY\x01\x00"
    padding = _HEADER_BYTES - len(prefix) - 2 - len(text) - 1
    return prefix + struct.pack("<H", _HEADER_BYTES - len(prefix) - 2) + text + b" " * padding + b"\n"
