"""Image sources: what ``--data`` names, as a table of rows plus their uint8 pixels."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from models.data import cache, celeba, faces
from models.data.decode import SkipImage, decode_file
from models.data.folder import list_folder, split_of
from models.data.spec import FILE_SOURCES, check_image_size, parse_spec
from rundir.errors import ZspaceError

#: Example file names shown per skip reason in :meth:`ImageSource.skip_summary`.
_EXAMPLES_PER_REASON = 3


class ImageSource(ABC):
    """A dataset: ``metadata`` (one row per usable image) and its pixels.

    Attributes
    ----------
    spec : str
        The ``--data`` value it was opened from.
    image_size : int
        Side of the square uint8 images.
    metadata : pandas.DataFrame
        Columns ``row`` (0..N-1), ``id``, ``source``, ``split``, then attributes,
        factors or ``label``.
    skipped : int
        Files that could not be used.
    skipped_files : list of (source, reason)
        Which ones, and why.
    """

    def __init__(self, spec: str, image_size: int, metadata: pd.DataFrame, skipped_files: list | None = None):
        self.spec = spec
        self.image_size = image_size
        self.metadata = metadata.reset_index(drop=True)
        self.metadata.insert(0, "row", np.arange(len(self.metadata), dtype=np.int64))
        self.skipped_files = [tuple(item) for item in skipped_files or []]
        self.skipped = len(self.skipped_files)

    def __len__(self) -> int:
        return len(self.metadata)

    def skip_summary(self) -> str | None:
        """One line such as ``skipped 1 of 41 files (1 corrupt: img_align_celeba/000007.jpg)``, or None."""
        if not self.skipped:
            return None
        by_reason: dict[str, list[str]] = {}
        for source, reason in self.skipped_files:
            by_reason.setdefault(reason, []).append(source)
        parts = []
        for reason, count in Counter(reason for _, reason in self.skipped_files).most_common():
            examples = by_reason[reason][:_EXAMPLES_PER_REASON]
            more = ", ..." if count > len(examples) else ""
            parts.append(f"{count} {reason}: {', '.join(examples)}{more}")
        return f"skipped {self.skipped} of {self.skipped + len(self)} files ({'; '.join(parts)})"

    @abstractmethod
    def images(self) -> np.ndarray:
        """All images as uint8 ``(N, S, S, 3)``, row order == ``metadata.row``."""

    @abstractmethod
    def load_image(self, row: int) -> np.ndarray:
        """The uint8 ``(S, S, 3)`` image of one row, without touching the others."""

    def batches(self, batch_size: int) -> Iterator[np.ndarray]:
        """uint8 ``(B, S, S, 3)`` batches in row order, ``batch_size`` rows each (the last may be shorter).

        Streaming a whole source this way (``zspace encode``) holds one batch
        in memory, where :meth:`images` may hold them all.
        """
        images = self.images()
        for start in range(0, len(self), batch_size):
            yield np.asarray(images[start : start + batch_size])

    def _check_row(self, row: int) -> int:
        if not 0 <= int(row) < len(self):
            raise ZspaceError(f"row {row} is out of range for {self.spec} ({len(self)} images)")
        return int(row)


class SyntheticSource(ImageSource):
    """Procedural faces (:mod:`models.data.faces`), rendered in memory on first use.

    Rendering is about as fast as reading a cache back, so there is no disk
    cache: 20,000 faces at 64x64 take ~245 MB of memory.
    """

    def __init__(self, spec: str, image_size: int, count: int, seed: int):
        self.seed = int(seed)
        index = np.arange(count, dtype=np.int64)
        factors = {
            name: value for name, value in faces.face_factors(self.seed, index).items() if not name.startswith("_")
        }
        metadata = pd.DataFrame(
            {
                "id": [f"{i:06d}" for i in index],
                "source": [f"synthetic:{self.seed}:{i}" for i in index],
                "split": [_synthetic_split(i) for i in index],
                **factors,
            }
        )
        super().__init__(spec, image_size, metadata)
        self._images: np.ndarray | None = None

    def images(self) -> np.ndarray:
        if self._images is None:
            self._images = faces.render_faces(self.seed, np.arange(len(self)), self.image_size)
        return self._images

    def load_image(self, row: int) -> np.ndarray:
        row = self._check_row(row)
        if self._images is not None:
            return self._images[row]
        return faces.render_faces(self.seed, np.array([row]), self.image_size)[0]

    def batches(self, batch_size: int) -> Iterator[np.ndarray]:
        if self._images is not None:
            yield from super().batches(batch_size)
            return
        # Each face depends only on (seed, index): render batch by batch instead of all at once.
        for start in range(0, len(self), batch_size):
            yield faces.render_faces(self.seed, np.arange(start, min(len(self), start + batch_size)), self.image_size)


class FileSource(ImageSource):
    """Images from files (CelebA or a folder tree), decoded once into the disk cache."""

    def __init__(self, spec: str, image_size: int, root: Path, listing: pd.DataFrame, crop: float, cache_dir: Path):
        self.root = root
        self.crop = crop
        sources = listing["source"].tolist()
        identity = {"spec": spec, "root": str(root.resolve()), "size": image_size, "crop": crop}
        key = cache.cache_key(identity, root, sources)
        decode = partial(_decode_source, root=root, size=image_size, crop=crop)
        entry = cache.load_entry(cache_dir, key, image_size)
        if entry is None:
            try:
                entry = cache.build_entry(cache_dir, key, image_size, sources, decode, SkipImage)
            except OSError as exc:
                raise ZspaceError(
                    f"cannot write the decoded-image cache in {cache_dir} ({exc.strerror or exc}); "
                    "free some disk space or set ZSPACE_CACHE_DIR to a writable folder"
                ) from None
        self._images, manifest = entry
        kept = listing.set_index("source", drop=False).loc[manifest["kept"]]
        super().__init__(spec, image_size, kept, manifest["skipped"])
        if not len(self):
            raise ZspaceError(f"{spec}: none of the {self.skipped} image files could be used ({self.skip_summary()})")

    def images(self) -> np.ndarray:
        return self._images

    def batches(self, batch_size: int) -> Iterator[np.ndarray]:
        # Plain reads of the cache file rather than slices of its memory map: mapped pages would stay
        # resident in this process, so one pass over a 96x96 CelebA cache would grow it by 5.5 GB.
        filename = getattr(self._images, "filename", None)
        if filename is None:  # an entry small enough to have been loaded into memory
            yield from super().batches(batch_size)
            return
        side = self.image_size
        with open(filename, "rb") as handle:
            handle.seek(self._images.offset)
            for start in range(0, len(self), batch_size):
                batch = np.empty((min(batch_size, len(self) - start), side, side, 3), np.uint8)
                if handle.readinto(batch.reshape(-1).data) != batch.nbytes:
                    raise ZspaceError(f"the decoded-image cache {filename} is shorter than its header says")
                yield batch

    def load_image(self, row: int) -> np.ndarray:
        row = self._check_row(row)
        try:
            return decode_file(self.root / self.metadata["source"].iat[row], self.image_size, self.crop)
        except SkipImage:
            # The file changed or vanished since it was cached: the cached copy is what the model saw.
            return np.asarray(self._images[row])


def open_source(spec: str, image_size: int, seed: int = 0, cache_dir: str | os.PathLike | None = None) -> ImageSource:
    """Open the data source named by ``spec``.

    Parameters
    ----------
    spec : str
        ``synthetic[:N]`` (default N 20000), ``celeba:PATH`` or ``folder:PATH``.
    image_size : int
        Side of the square images, a multiple of 16.
    seed : int
        Seed of the synthetic faces (ignored by file sources).
    cache_dir : path-like, optional
        Where decoded file images are cached; default ``$ZSPACE_CACHE_DIR`` or ``data/cache``.

    Returns
    -------
    ImageSource

    Raises
    ------
    ZspaceError
        Unknown scheme, bad size, missing or empty folder, malformed CelebA files,
        or no usable image at all.
    """
    parsed = parse_spec(spec)
    image_size = check_image_size(image_size)
    if parsed.scheme == "synthetic":
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ZspaceError(f"the seed must be a whole number >= 0, got {seed!r}")
        return SyntheticSource(spec, image_size, parsed.count, int(seed))
    root = Path(parsed.path).expanduser()
    if not root.is_dir():
        raise ZspaceError(f"data folder {root} does not exist or is not a folder ({parsed.scheme}:PATH)")
    kind = FILE_SOURCES[parsed.scheme]
    folder = Path(cache_dir) if cache_dir is not None else cache.default_cache_dir()
    return FileSource(spec, image_size, root, kind.lister(root), kind.crop, folder)


def load_original_image(data_spec: str, source_field: str, image_size: int) -> np.ndarray | None:
    """The original image of one metadata row, decoded on its own (for the dashboard).

    Parameters
    ----------
    data_spec : str
        The run's ``--data`` value.
    source_field : str
        The row's ``source`` column: a path relative to the dataset root, or
        ``synthetic:<seed>:<index>``.
    image_size : int
        Side of the returned square.

    Returns
    -------
    numpy.ndarray or None
        uint8 ``(S, S, 3)``; None if the file is gone or no longer decodes.

    Raises
    ------
    ZspaceError
        If ``source_field`` does not belong to ``data_spec`` or tries to leave the dataset folder.
    """
    parsed = parse_spec(data_spec)
    image_size = check_image_size(image_size)
    if parsed.scheme == "synthetic":
        prefix, _, rest = source_field.partition(":")
        seed_text, _, index_text = rest.partition(":")
        if prefix != "synthetic" or not seed_text.isdigit() or not index_text.isdigit():
            raise ZspaceError(f"{source_field[:80]!r} is not a synthetic face id (synthetic:<seed>:<index>)")
        return faces.render_faces(int(seed_text), np.array([int(index_text)]), image_size)[0]
    relative = PurePosixPath(source_field)
    if (
        not source_field
        or "\\" in source_field
        or "\0" in source_field
        or relative.is_absolute()
        or ".." in relative.parts
    ):
        raise ZspaceError(f"image path {source_field[:80]!r} must be relative and stay inside the dataset folder")
    try:
        return decode_file(Path(parsed.path).expanduser() / relative, image_size, FILE_SOURCES[parsed.scheme].crop)
    except SkipImage:
        return None


def _decode_source(source: str, root: Path, size: int, crop: float) -> np.ndarray:
    return decode_file(root / source, size, crop)


def _synthetic_split(index: int) -> str:
    """80/10/10 split of synthetic faces by index (stable for any N)."""
    return split_of(f"synthetic:{index}")
