"""Memoised values of a run: their names (:class:`MemoKey`) and the in-process tier in front of the shared cache.

Every value a run's handle memoises (:meth:`app.store.RunHandle.memo`) is named
here once, so two modules never spell the same key differently.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class MemoKey:
    """The names values are memoised under (per run and files key): each written here once."""

    RUN_INFO = "runinfo"
    SQ_NORMS = "sqnorm"
    NEAREST_INDEX = "nearest-index"
    RADII = "radii"
    HISTORY = "history"

    @staticmethod
    def coords(plane_key: str) -> str:
        """A plane's coordinates (``plane_key``: :meth:`app.plane_space.Plane.key`)."""
        return f"coords:{plane_key}"

    @staticmethod
    def direction(column: str) -> str:
        """A metadata column's attribute direction."""
        return f"direction:{column}"

    @staticmethod
    def column(column: str) -> str:
        """A numeric metadata column as float32."""
        return f"meta:{column}"

    @staticmethod
    def selection(digest: str) -> str:
        """The rows inside a selection (``digest``: :func:`app.subsets.digest` of it)."""
        return f"selection:{digest}"

    @staticmethod
    def filter(digest: str) -> str:
        """The row mask of a filter."""
        return f"filter:{digest}"

    @staticmethod
    def links(source) -> str:
        """For each row of ``source``, the row of this run holding the same image."""
        return f"links:{source.name}:{source.files_key}"

    @staticmethod
    def percentiles(mode: str, index: int) -> str:
        """The 1st..99th percentile of an axis (``mode`` "axis") or a principal component ("pc")."""
        return f"range:{mode}:{index}"

    @staticmethod
    def sampler_statistics(sampler: str, rows: str) -> str:
        """A sampler's data statistics over ``rows`` ("all", or a digest of the filtered rows)."""
        return f"sampler-stats:{sampler}:{rows}"

    @staticmethod
    def lattice(plane_key: str, x_range, y_range, k: int, base) -> str:
        """A decoded lattice: k x k tiles over a viewport of a plane, other coordinates from ``base``."""
        ranges = ",".join(f"{float(v):.9g}" for v in (*x_range, *y_range))
        return f"lattice:{plane_key}:{ranges}:{int(k)}:{base}"

    @staticmethod
    def result(declaration, params: dict) -> str:
        """An analysis declaration's result for ``params`` (its full, normalised parameter set)."""
        return f"{declaration.name}:{sorted(declaration.key(**params)[1].items())}"


class Recent:
    """A thread-safe in-process LRU of at most ``kept`` values."""

    def __init__(self, kept: int):
        self.kept = int(kept)
        self._values: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        """The value under ``key`` (now the most recently used), or None."""
        with self._lock:
            if key not in self._values:
                return None
            self._values.move_to_end(key)
            return self._values[key]

    def put(self, key, value) -> None:
        """Keep ``value`` under ``key``, dropping the least recently used beyond ``kept``."""
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.kept:
                self._values.popitem(last=False)
