"""The runs folder as the dashboard sees it: validated run names in, memoised arrays out.

``RunStore`` does two things only: run access (every name that arrives from a
browser is resolved through :func:`rundir.resolve_run` and checked usable) and
memoisation (a small in-process tier in front of the shared flask cache, keyed
by the run's :func:`rundir.files_key`, so a re-encoded or retrained run never
serves stale data). Every computation is an :mod:`analysis` function or
declaration; results a request asks for are kept in a size-capped folder of the
server's cache, never written into the runs folder.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

import rundir
from app.decoder import DecoderService
from app.jobs import JobSlots
from rundir.errors import ZspaceError

log = logging.getLogger(__name__)

#: Most images one request may decode (a sampling grid, a path strip).
MAX_SAMPLES = 64
#: Runs of up to this many points get their base analyses (PCA, histograms, radius) inside a request
#: (about a second at 50k x 256 on 2 cores); larger runs get them from a background job with progress.
INLINE_POINTS = 50_000
#: Largest request-driven analysis folder (bytes) before the least recently used entries are dropped.
REQUEST_CACHE_BYTES = 1 << 30
#: Metadata tables kept in memory per process.
FRAMES_KEPT = 8
#: Memoised values kept in memory per process (in front of the shared cache).
RECENT_KEPT = 48


class AnalysisPending(ZspaceError):
    """A base analysis of a large run is not computed yet; it is computed in the background."""


class RunStore:
    """The runs folder as the dashboard sees it.

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
    """

    def __init__(
        self,
        runs_dir: str | os.PathLike,
        cache,
        cache_dir: str | os.PathLike,
        plane_budget: int = 250_000,
        inline_points: int = INLINE_POINTS,
        slots: JobSlots | None = None,
    ):
        self.runs_dir = Path(runs_dir)
        self.cache = cache
        self.request_root = Path(cache_dir) / "analysis"
        self.plane_budget = int(plane_budget)
        self.inline_points = int(inline_points)
        self.slots = slots if slots is not None else JobSlots(cache_dir)
        self.decoder = DecoderService()
        self._frames: OrderedDict = OrderedDict()
        self._recent: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    # -- runs ---------------------------------------------------------------------------------
    def _inspect(self, child: Path) -> rundir.RunInfo:
        key = f"runinfo:{child}:{rundir.files_key(child)}"
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

    def path(self, name) -> Path:
        """Resolve a run name from a browser to its folder; unusable or unknown runs raise ZspaceError."""
        path = rundir.resolve_run(self.runs_dir, name)  # NAME or SWEEP/NAME, never outside the runs folder
        if not (path / rundir.CONFIG).exists():
            raise ZspaceError(f"unknown run {str(name)[:80]!r}")
        info = self._inspect(path)
        if not info.usable:
            raise ZspaceError(f"run {name} cannot be shown: {info.reason}")
        return path

    def config(self, name) -> dict:
        """The run's config.json."""
        return rundir.read_config(self.path(name))

    def z(self, name) -> np.ndarray:
        """The run's z-points, memory-mapped (already checked finite when the run was listed)."""
        return rundir.load_zpoints(self.path(name), check_finite=False)

    def n_points(self, name) -> int:
        """Number of z-points of the run."""
        return int(self.z(name).shape[0])

    # -- memoisation --------------------------------------------------------------------------
    def memo(self, name: str, what: str, compute):
        """Return ``compute()`` memoised under ``what`` and the run's files key.

        Two tiers: a small in-process LRU (a click must not deserialise the same
        arrays again) in front of the flask cache (shared by every worker).
        """
        key = f"{what}:{name}:{rundir.files_key(self.path(name))}"
        with self._lock:
            if key in self._recent:
                self._recent.move_to_end(key)
                return self._recent[key]
        value = self.cache.get(key)
        if value is None:
            started = time.perf_counter()
            value = compute()
            self.cache.set(key, value)
            # One line per computation: an operator (and the two-worker test) sees what was not served from the cache.
            log.info("computed %s of %s in %.2f s", what, name, time.perf_counter() - started)
        with self._lock:
            self._recent[key] = value
            while len(self._recent) > RECENT_KEPT:
                self._recent.popitem(last=False)
        return value

    def is_memoised(self, name: str, what: str) -> bool:
        """True when :meth:`memo` would return ``what`` without computing it (in this process or the shared cache)."""
        key = f"{what}:{name}:{rundir.files_key(self.path(name))}"
        with self._lock:
            if key in self._recent:
                return True
        return bool(self.cache.has(key))

    def is_stored(self, name, declaration, *args, **params) -> bool:
        """True when :meth:`result` would read ``declaration`` from a cache instead of computing it."""
        path = self.path(name)
        return declaration.is_cached(path, *args, **params) or declaration.is_cached(
            path, *args, folder=self.request_folder(name), **params
        )

    def request_folder(self, name) -> Path:
        """Where analyses a request asks for are kept for this run (outside the runs folder).

        ``<cache>/analysis/NAME``, or ``<cache>/analysis/SWEEP/NAME`` for a run of a sweep folder.
        """
        self.path(name)  # validated: the name is NAME or SWEEP/NAME, each part a plain folder name
        return self.request_root.joinpath(*name.split("/"))

    def result(self, name, declaration, *args, background: bool = False, **params):
        """A cached analysis (an :mod:`analysis.results` declaration) of the run.

        Read from the run's own cache (``zspace analyze``) or the request folder; computed
        into the request folder when missing, unless the run is too large to compute inside
        a request (then :class:`AnalysisPending` says so and the background job computes it).
        """
        path = self.path(name)
        folder = self.request_folder(name)

        def stored():
            found = declaration.lookup_stored(path, *args, **params)
            if found is None:
                found = declaration.lookup_stored(path, *args, folder=folder, **params)
            if found is None:
                if not background and self.n_points(name) > self.inline_points:
                    raise AnalysisPending(
                        f"{declaration.name} of {name} is being computed in the background; "
                        "this view fills in when it is ready"
                    )
                found = declaration.stored(path, *args, folder=folder, **params)
                from analysis.cache import prune

                prune(self.request_root, REQUEST_CACHE_BYTES)
            return found

        settings = declaration.key(*args, **params)[1]
        what = f"{declaration.name}:{sorted(settings.items())}"
        return declaration.loaded(self.memo(name, what, stored), *args, **params)

    # -- metadata -----------------------------------------------------------------------------
    def metadata(self, name):
        """The run's metadata table (pandas), loaded once per process and run version."""
        path = self.path(name)
        key = (str(path), rundir.files_key(path))
        with self._lock:
            if key in self._frames:
                self._frames.move_to_end(key)
                return self._frames[key]
        frame = rundir.load_metadata(path, self.n_points(name))
        with self._lock:
            self._frames[key] = frame
            while len(self._frames) > FRAMES_KEPT:
                self._frames.popitem(last=False)
        return frame

    def metadata_columns(self, name) -> list[str]:
        """Metadata columns that can colour a plane (numeric or boolean, beyond the bookkeeping ones)."""
        frame = self.metadata(name)
        skip = {"row", "id", "source", "split"}
        return [str(c) for c in frame.columns if c not in skip and (frame[c].dtype.kind in "biuf")]

    def metadata_row(self, name, row: int) -> dict:
        """One metadata row as JSON-able values."""
        frame = self.metadata(name)
        return {str(k): (v.item() if hasattr(v, "item") else v) for k, v in frame.iloc[int(row)].items()}

    def column(self, name, column: str) -> np.ndarray:
        """One numeric metadata column as float32 (memoised)."""
        if column not in self.metadata_columns(name):
            raise ZspaceError(f"metadata column must be one of {', '.join(self.metadata_columns(name)[:12])}")
        return self.memo(name, f"meta:{column}", lambda: self.metadata(name)[column].to_numpy(dtype=np.float32))

    # -- decoding -----------------------------------------------------------------------------
    def decode(self, name, z) -> np.ndarray:
        """Decode z-vectors (at most MAX_SAMPLES) with the run's decoder to uint8 images."""
        z = np.atleast_2d(np.asarray(z, dtype=np.float32))
        if len(z) > MAX_SAMPLES:
            raise ZspaceError(f"at most {MAX_SAMPLES} images per request")
        path = self.path(name)
        return self.decoder.decode(path, rundir.files_key(path), z)

    def nearest_distance(self, name, queries, exclude: int | None = None) -> np.ndarray:
        """Distance from each query to its nearest z-point (optionally not counting row ``exclude``)."""
        from analysis.structure import nearest_data_distance

        z = self.z(name)
        sq_norms = self.memo(name, "sqnorm", lambda: np.einsum("ij,ij->i", z, z, dtype=np.float32))
        return nearest_data_distance(z, queries, exclude=exclude, sq_norms=sq_norms)
