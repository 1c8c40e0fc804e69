"""The runs folder as the dashboard sees it, and one run of it: ``RunStore.open(name) -> RunHandle``.

``RunStore`` is what the server shares between requests: the runs folder
(every name that arrives from a browser is resolved through
:func:`rundir.resolve_run` and checked usable), the memo tiers (a small
in-process LRU in front of the shared flask cache), the decoder service, the
host's job slots and the plane budget. A request opens the runs it shows as
:class:`RunHandle` values and asks everything of one run through its handle:
z-points, metadata, cached analyses, plane coordinates, memoised values,
decoding. Memoised values are keyed by the run's :func:`rundir.files_key`, so
a re-encoded or retrained run never serves stale data; results a request asks
for are kept in a size-capped folder of the server's cache, never written into
the runs folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

import rundir
from app.decoder import DecoderService
from app.jobs import JobSlots
from app.memo import MemoKey, Recent
from app.validate import NotOneOf
from rundir.errors import Refusal, UnknownRun, ZspaceError

log = logging.getLogger(__name__)

#: Most images one request may decode (a sampling grid, a path strip).
MAX_SAMPLES = 64
#: Runs of up to this many points get their base analyses (PCA, histograms, radius) inside a request
#: (about a second at 50k x 256 on 2 cores); larger runs get them from a background job with progress.
INLINE_POINTS = 50_000
#: Most points one plane figure draws before it shows a density raster of them instead (and says so).
PLANE_BUDGET = 250_000
#: Runs with more points answer nearest-data distances from a projected index once their PCA is cached.
INDEX_FROM = 100_000
#: Most queries answered from the index at once (a click asks one; more go through one scan instead).
INDEX_QUERIES = 8
#: Largest request-driven analysis folder (bytes) before the least recently used entries are dropped.
REQUEST_CACHE_BYTES = 1 << 30
#: Metadata tables kept in memory per process.
FRAMES_KEPT = 8
#: Memoised values kept in memory per process (in front of the shared cache).
RECENT_KEPT = 48


class AnalysisPending(Refusal):
    """A base analysis of a large run is not computed yet; it is computed in the background."""

    template = "{analysis} of {run} is being computed in the background; this view fills in when it is ready"


class RunUnusable(Refusal):
    """A run the folder lists but that cannot be shown (its reason is the listing's)."""

    template = "run {name} cannot be shown: {reason}"


class TooManyImages(Refusal):
    """More images than one request may decode."""

    template = "at most {most} images per request"


#: The refusals of a run's store and handle (every view may raise them).
REFUSALS = (UnknownRun, RunUnusable, AnalysisPending, TooManyImages, NotOneOf)


class RunStore:
    """The runs folder as the dashboard sees it, and what the server shares between requests.

    Parameters
    ----------
    runs_dir : path-like
        Folder holding one sub-folder per run (never written by the server).
    cache : flask_caching.Cache
        Where arrays are memoised (shared by every worker).
    cache_dir : path-like
        The server's cache folder; request-driven analyses live in ``<cache_dir>/analysis/<run>``.
    plane_budget : int
        Most points one plane figure shows before it switches to a density raster.
    inline_points : int
        Runs with more points get their base analyses from the background job, never inside a request.
    slots : app.jobs.JobSlots, optional
        How many background jobs may compute at once (default: :func:`app.jobs.default_max_jobs` on this host).
    warm : bool
        Load what a run's first click reads in the background once its plane is drawn (:mod:`app.warm_up`).
    """

    def __init__(
        self,
        runs_dir: str | os.PathLike,
        cache,
        cache_dir: str | os.PathLike,
        plane_budget: int = PLANE_BUDGET,
        inline_points: int = INLINE_POINTS,
        slots: JobSlots | None = None,
        warm: bool = True,
    ):
        self.runs_dir = Path(runs_dir)
        self.cache = cache
        self.request_root = Path(cache_dir) / "analysis"
        self.plane_budget = int(plane_budget)
        self.inline_points = int(inline_points)
        self.slots = slots if slots is not None else JobSlots(cache_dir)
        self.decoder = DecoderService()
        self.frames = Recent(FRAMES_KEPT)
        self.recent = Recent(RECENT_KEPT)
        self.warm = bool(warm)

    def _inspect(self, child: Path, key: str | None = None) -> rundir.RunInfo:
        key = f"{MemoKey.RUN_INFO}:{child}:{key or rundir.files_key(child)}"
        found = self.cache.get(key)
        if found is None:
            info = rundir.inspect_run(child)
            found = {k: getattr(info, k) for k in ("name", "state", "usable", "reason", "n_points", "z_dim")}
            found["config"] = info.config
            self.cache.set(key, found)
        return rundir.RunInfo(path=child, **found)

    def runs(self) -> list[dict]:
        """Every run of the folder as small JSON: name, label, usable, reason, state, model, z_dim, n_points."""
        return [
            {
                "name": info.name,
                "label": info.label(),
                "usable": info.usable,
                "reason": info.reason,
                "state": info.state,
                "model": str(info.config.get("model", "")),
                "z_dim": info.z_dim,
                "n_points": info.n_points,
            }
            for info in rundir.list_runs(self.runs_dir, inspect=self._inspect)
        ]

    def open(self, name) -> RunHandle:
        """The run named ``name`` (``NAME`` or ``SWEEP/NAME``, from a browser); unknown or unusable runs raise ZspaceError."""
        path = rundir.resolve_run(self.runs_dir, name)  # NAME or SWEEP/NAME, never outside the runs folder
        if not (path / rundir.CONFIG).exists():
            raise UnknownRun(name=repr(str(name)[:80]))
        key = rundir.files_key(path)
        info = self._inspect(path, key)
        if not info.usable:
            raise RunUnusable(name=name, reason=info.reason)
        return RunHandle(self, rundir.qualified_name(path), path, key, info.config, info.n_points, info.z_dim)


class PlaneLike(Protocol):
    """What :meth:`RunHandle.coords` takes: a plane that names itself and places a run's points on it."""

    def key(self) -> str: ...

    def points(self, run: RunHandle) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class RunHandle:
    """One usable run, opened for one request: everything a view asks of a run goes through here.

    Attributes
    ----------
    store : RunStore
        What the server shares (memo tiers, decoder, job slots).
    name : str
        The run's name as the page lists it: ``NAME``, or ``SWEEP/NAME`` for a run of a sweep folder.
    folder : pathlib.Path
        The run directory (never written by the server).
    files_key : str
        :func:`rundir.files_key` when the run was opened: every memoised value is keyed by it.
    config : dict
        The run's ``config.json`` (checked when the run was listed).
    n_points, z_dim : int
        Shape of the run's z-points.
    """

    store: RunStore = field(repr=False, compare=False)
    name: str
    folder: Path
    files_key: str
    config: dict[str, Any] = field(repr=False, compare=False)
    n_points: int
    z_dim: int

    # -- the run's files -----------------------------------------------------------------------
    def z(self) -> np.ndarray:
        """The run's z-points: the serving process' private read-only copy (checked finite when the run was listed)."""
        return rundir.load_zpoints(self.folder, check_finite=False)

    def metadata(self):
        """The run's metadata table (pandas), loaded once per process and run version."""
        key = (str(self.folder), self.files_key)
        frame = self.store.frames.get(key)
        if frame is None:
            frame = rundir.load_metadata(self.folder, self.n_points)
            self.store.frames.put(key, frame)
        return frame

    def metadata_columns(self) -> list[str]:
        """Metadata columns that can colour a plane (numeric or boolean, beyond the bookkeeping ones)."""
        frame = self.metadata()
        skip = {"row", "id", "source", "split"}
        return [str(c) for c in frame.columns if c not in skip and (frame[c].dtype.kind in "biuf")]

    def metadata_row(self, row: int) -> dict:
        """One metadata row as JSON-able values."""
        frame = self.metadata()
        return {str(k): (v.item() if hasattr(v, "item") else v) for k, v in frame.iloc[int(row)].items()}

    def column(self, column: str) -> np.ndarray:
        """One numeric metadata column as float32 (memoised)."""
        columns = self.metadata_columns()
        if column not in columns:
            raise NotOneOf(name="metadata column", shown=", ".join(columns[:12]))
        return self.memo(MemoKey.column(column), lambda: self.metadata()[column].to_numpy(dtype=np.float32))

    def sibling(self, name) -> RunHandle:
        """Another run of the same folder (one a selection or a link names), opened and checked like this one."""
        return self if name == self.name else self.store.open(name)

    # -- memoised values -----------------------------------------------------------------------
    def memo(self, key: str, compute: Callable[[], Any]):
        """``compute()`` memoised under ``key`` (a :class:`MemoKey`) and the run's files key; computes when missing.

        Two tiers: a small in-process LRU (a click must not deserialise the same
        arrays again) in front of the flask cache (shared by every worker).
        """
        full = f"{key}:{self.name}:{self.files_key}"
        value = self.store.recent.get(full)
        if value is not None:
            return value
        value = self.store.cache.get(full)
        if value is None:
            started = time.perf_counter()
            value = compute()
            self.store.cache.set(full, value)
            # One line per computation: an operator (and the two-worker test) sees what was not served from the cache.
            log.info("computed %s of %s in %.2f s", key, self.name, time.perf_counter() - started)
        self.store.recent.put(full, value)
        return value

    def is_memoised(self, key: str) -> bool:
        """True when :meth:`memo` would return ``key`` without computing it (never computes)."""
        full = f"{key}:{self.name}:{self.files_key}"
        return self.store.recent.get(full) is not None or bool(self.store.cache.has(full))

    def coords(self, plane: PlaneLike) -> tuple[np.ndarray, np.ndarray]:
        """(row ids, xy float32 N x 2) of the run's points on ``plane`` (a map holds its mapped subset); memoised."""
        return plane.points(self)

    def sq_norms(self) -> np.ndarray:
        """``|z_i|^2`` of every z-point (memoised)."""
        z = self.z()
        return self.memo(MemoKey.SQ_NORMS, lambda: np.einsum("ij,ij->i", z, z, dtype=np.float32))

    # -- cached analyses -----------------------------------------------------------------------
    @property
    def request_folder(self) -> Path:
        """Where analyses a request asks for are kept for this run (outside the runs folder).

        ``<cache>/analysis/NAME``, or ``<cache>/analysis/SWEEP/NAME`` for a run of a sweep folder.
        """
        return self.store.request_root.joinpath(*self.name.split("/"))

    @contextlib.contextmanager
    def cache_scope(self) -> Iterator[None]:
        """Within the block, this run's analyses follow :func:`analysis.cache.search_order`: read from
        the run's own cache, then the request folder; new results stored in the request folder."""
        from analysis.cache import storing_in

        with storing_in(self.request_folder):
            yield

    @property
    def cache_folders(self) -> tuple[Path, ...]:
        """The folders an analysis of this run is read from, in order (new results go to the last)."""
        from analysis.cache import entry_folder, search_order

        with self.cache_scope():
            return tuple(entry_folder(self.folder, where) for where in search_order())

    def result(self, declaration, *, background: bool = False, **params):
        """A cached analysis (an :mod:`analysis.results` declaration) of the run, memoised; computes when missing.

        Read from the cache folders in order; computed into the request folder when
        missing, unless the run is too large to compute inside a request (then
        :class:`AnalysisPending` says so and the background job computes it;
        ``background=True`` is that job).
        """

        def arrays():
            with self.cache_scope():
                found = declaration.read_arrays(self.folder, **params)
                if found is not None:
                    return found
                if not background and self.n_points > self.store.inline_points:
                    raise AnalysisPending(analysis=declaration.name, run=self.name)
                found = declaration.read_or_compute_arrays(self.folder, **params)
            from analysis.cache import prune

            prune(self.store.request_root, REQUEST_CACHE_BYTES)
            return found

        return declaration.from_arrays(self.memo(MemoKey.result(declaration, params), arrays), **params)

    def cached_result(self, declaration, **params):
        """The declaration's result when one of the cache folders holds it, else None (never computes)."""
        with self.cache_scope():
            return declaration.read(self.folder, **params)

    def is_cached(self, declaration, **params) -> bool:
        """True when :meth:`result` would read ``declaration`` from a cache folder instead of computing it."""
        with self.cache_scope():
            return declaration.is_cached(self.folder, **params)

    def available(self, declaration) -> list[dict[str, Any]]:
        """Parameter sets of ``declaration`` cached for this run, in the cache folders' order."""
        with self.cache_scope():
            return declaration.available(self.folder)

    # -- decoding ------------------------------------------------------------------------------
    @property
    def has_decoder(self) -> bool:
        """True when the run can decode (z-points imported alone cannot; see :func:`rundir.has_decoder`)."""
        return rundir.has_decoder(self.config)

    def decode_or_none(self, z, most: int = MAX_SAMPLES) -> np.ndarray | None:
        """:meth:`decode`, or None for a run without a decoder (its views show their numbers without images)."""
        return self.decode(z, most) if self.has_decoder else None

    def original(self, row: int) -> np.ndarray | None:
        """The original image of data row ``row`` (uint8), or None when the run has no image source
        (z-points imported alone) or its file is gone or no longer decodes."""
        from models.data import load_original_image

        if not self.config.get("image_size") or not self.config.get("data"):
            return None
        source = self.metadata_row(row).get("source")
        if not isinstance(source, str):  # metadata without a source column (or an empty cell): nothing to load
            return None
        try:
            return load_original_image(self.config["data"], source, int(self.config["image_size"]))
        except (ZspaceError, OSError, ValueError):
            return None

    def decode(self, z, most: int = MAX_SAMPLES) -> np.ndarray:
        """Decode z-vectors (at most ``most``, one batched call) with the run's decoder to uint8 images."""
        z = np.atleast_2d(np.asarray(z, dtype=np.float32))
        if len(z) > most:
            raise TooManyImages(most=most)
        return self.store.decoder.decode(self.folder, self.files_key, z)

    def nearest_distance(self, queries, exclude: int | None = None) -> np.ndarray:
        """Distance from each query to its nearest z-point (optionally not counting row ``exclude``), exact.

        Runs of more than :data:`INDEX_FROM` points whose PCA is cached answer a few queries from
        their projected index (:mod:`analysis.projected_nearest`), the others by a scan of every z-point.
        """
        from analysis.projected_nearest import nearest_distance
        from analysis.structure import nearest_data_distance

        queries = np.atleast_2d(np.asarray(queries, dtype=np.float64))
        if len(queries) <= INDEX_QUERIES and self.has_nearest_index():
            index, z = self.nearest_index(), self.z()
            return np.array([nearest_distance(index, z, q, exclude)[0] for q in queries])
        return nearest_data_distance(self.z(), queries, exclude=exclude, sq_norms=self.sq_norms())

    def has_nearest_index(self) -> bool:
        """True when :meth:`nearest_distance` answers from the projected index (a large run with its PCA cached)."""
        from analysis import results

        return self.n_points > INDEX_FROM and self.is_cached(results.pca)

    def nearest_index(self) -> dict:
        """The projected index of the z-points on their leading principal directions (memoised; needs the PCA)."""
        from analysis import results
        from analysis.projected_nearest import projected_index

        def build():
            fit = self.result(results.pca, background=True)
            return projected_index(self.z(), fit.mean_, fit.components_)

        return self.memo(MemoKey.NEAREST_INDEX, build)
