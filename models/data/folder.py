"""List the images of an arbitrary folder tree for ``--data folder:PATH``."""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import pandas as pd

from models.data.decode import IMAGE_EXTENSIONS
from rundir.errors import ZspaceError

#: Label of images that sit directly in the root folder, not in a sub-folder.
ROOT_LABEL = "(root)"


def _image_files(root: Path) -> list[str]:
    # Every image file under root (POSIX paths relative to it); each real folder walked once, hidden ones skipped.
    sources: list[str] = []
    visited: set[str] = set()
    for folder, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in visited:
            dirs[:] = []
            continue
        visited.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        sources += [
            Path(folder, name).relative_to(root).as_posix()
            for name in files
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS
        ]
    return sources


def list_folder(root: Path) -> pd.DataFrame:
    """Return the candidate images under ``root``, sorted by path.

    Columns: ``source`` and ``id`` (POSIX path relative to ``root``), ``split``
    (a stable hash of the path: 80% train, 10% valid, 10% test, so it does not
    change when files are added), ``label`` (the first-level sub-folder).

    Symlinked folders are followed once: each real folder is walked at most
    once, so a symlink loop cannot make the walk endless. Hidden files and
    folders (``.name``) are ignored.

    Raises
    ------
    ZspaceError
        If ``root`` is not a folder or holds no file with an image extension.
    """
    if not root.is_dir():
        raise ZspaceError(f"image folder {root} does not exist or is not a folder")
    sources = _image_files(root)
    if not sources:
        extensions = ", ".join(ext.lstrip(".") for ext in IMAGE_EXTENSIONS)
        raise ZspaceError(f"image folder {root} holds no images ({extensions}); point --data at a folder of images")
    sources.sort()
    return pd.DataFrame(
        {
            "id": sources,
            "source": sources,
            "split": [split_of(source) for source in sources],
            "label": [source.split("/", 1)[0] if "/" in source else ROOT_LABEL for source in sources],
        }
    )


def split_of(key: str) -> str:
    """Stable train/valid/test assignment (80/10/10) from a hash of ``key``."""
    bucket = zlib.crc32(key.encode("utf-8")) % 10
    return "test" if bucket == 9 else "valid" if bucket == 8 else "train"
