"""Parse ``--data`` specs (``synthetic[:N]``, ``celeba:PATH``, ``folder:PATH``) and check image sizes."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from models.data import celeba
from models.data.folder import list_folder
from rundir.errors import ZspaceError


@dataclass(frozen=True)
class FileKind:
    """A kind of file source (``scheme:PATH``): how its folder is listed and how much of each image is kept.

    ``lister(root)`` returns the candidate images (``id``, ``source``, ``split`` and any attribute
    columns); ``crop`` is the central fraction of each image kept before resizing.
    """

    lister: Callable[[Path], pd.DataFrame]
    crop: float = 1.0


#: Every file source by its scheme: adding one is its lister module and one line here.
FILE_SOURCES = {
    "celeba": FileKind(celeba.list_celeba, celeba.CROP_FRACTION),
    "folder": FileKind(list_folder),
}
SCHEMES = ("synthetic", *FILE_SOURCES)
DEFAULT_SYNTHETIC_COUNT = 20_000
#: Synthetic images live in memory; this bound keeps a typo (synthetic:20000000)
#: from trying to allocate hundreds of gigabytes.
MAX_SYNTHETIC_COUNT = 1_000_000
_FORMS = ("synthetic[:N]", *(f"{scheme}:PATH" for scheme in FILE_SOURCES))
USAGE = f"use {', '.join(_FORMS[:-1])} or {_FORMS[-1]}"


@dataclass(frozen=True)
class DataSpec:
    """A parsed data spec: ``scheme`` plus either ``count`` (synthetic) or ``path``."""

    scheme: str
    count: int = 0
    path: str = ""


def parse_spec(spec: str) -> DataSpec:
    """Parse a ``--data`` value.

    Raises
    ------
    ZspaceError
        For an unknown scheme, a bad count, or a missing path.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ZspaceError(f"empty data source; {USAGE}")
    scheme, _, rest = spec.strip().partition(":")
    if scheme not in SCHEMES:
        raise ZspaceError(f"unknown data source {spec[:80]!r}; {USAGE}")
    if scheme == "synthetic":
        if not rest:
            return DataSpec("synthetic", count=DEFAULT_SYNTHETIC_COUNT)
        if not rest.isdigit() or not 1 <= int(rest) <= MAX_SYNTHETIC_COUNT:
            raise ZspaceError(f"synthetic:N needs a whole number N from 1 to {MAX_SYNTHETIC_COUNT}, got {rest[:40]!r}")
        return DataSpec("synthetic", count=int(rest))
    if not rest:
        raise ZspaceError(f"{scheme}: needs a path, e.g. {scheme}:data/celeba")
    return DataSpec(scheme, path=rest)


def check_image_size(image_size: int) -> int:
    """Return ``image_size`` if the models can use it (16..1024, a multiple of 16), else raise ZspaceError."""
    try:
        # operator.index accepts numpy integers read from configs and refuses 64.5, "64" and True.
        size = None if isinstance(image_size, bool) else operator.index(image_size)
    except TypeError:
        size = None
    if size is None or size % 16 or not 16 <= size <= 1024:
        raise ZspaceError(
            f"image size must be a multiple of 16 between 16 and 1024 (four stride-2 layers), got {image_size!r}"
        )
    return size
