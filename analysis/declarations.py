"""``Declaration``: one cached analysis of a run, declared once (its parameters, key, computation and loader).

:mod:`analysis.results` holds the declarations themselves; this module is the
machinery they share. Accessor names say whether they compute: a declaration
called like a function computes when missing, ``read`` / ``read_arrays`` never do.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Generic, TypeVar

import numpy as np

import rundir
from analysis.cache import cached, canonical_json, entries, is_cached, lookup

Params = TypeVar("Params")
Result = TypeVar("Result")


@dataclass(frozen=True)
class Declaration(Generic[Params, Result]):
    """One cached analysis of a run.

    Attributes
    ----------
    name : str
        Cache entry name.
    params : type
        A frozen dataclass: its fields are the parameters, their defaults the defaults;
        its ``__post_init__`` normalises and checks them.
    compute : callable(run, params, callback) -> dict
        Computes the stored arrays from the run's z-points.
    load : callable(dict, params) -> result
        Turns the stored arrays into what callers get (default: the dict itself).
    """

    name: str
    params: type
    compute: Callable[[os.PathLike, Any, Any], dict]
    load: Callable[[dict, Any], Any] = None

    def __post_init__(self):
        if self.load is None:
            object.__setattr__(self, "load", _as_stored)

    def settings(self, *args, **given) -> Params:
        """The full, normalised parameter set for ``given`` (in field order or by name; unknown names raise ValueError)."""
        try:
            return self.params(*args, **given)
        except TypeError as exc:
            raise ValueError(f"{self.name}: {exc}") from None

    def key(self, *args, **given) -> tuple[str, dict]:
        """Cache (name, params) for ``given``: what :func:`analysis.cache.is_cached` takes."""
        return self.name, asdict(self.settings(*args, **given))

    def __call__(self, run, *args, callback=None, folder=None, **given) -> Result:
        """The result for ``run`` and ``given`` parameters: read from the cache, computed (and stored) when missing.

        ``folder`` is where the entry is read and stored instead of the run's own cache;
        without it, :func:`analysis.cache.search_order` says where (see :func:`analysis.cache.storing_in`).
        """
        arrays = self.read_or_compute_arrays(run, *args, callback=callback, folder=folder, **given)
        return self.from_arrays(arrays, *args, **given)

    def read_or_compute_arrays(self, run, *args, callback=None, folder=None, **given) -> dict:
        """The stored arrays (a plain dict, what caches can hold): read, or computed and stored when missing."""
        params = self.settings(*args, **given)
        return cached(run, self.name, asdict(params), lambda: self.compute(run, params, callback), folder)

    def read_arrays(self, run, *args, folder=None, **given) -> dict | None:
        """The stored arrays when already cached, else None (never computes)."""
        return lookup(run, *self.key(*args, **given), folder)

    def read(self, run, *args, folder=None, **given) -> Result | None:
        """The cached result, or None when it has not been computed (never computes)."""
        arrays = self.read_arrays(run, *args, folder=folder, **given)
        return None if arrays is None else self.from_arrays(arrays, *args, **given)

    def from_arrays(self, arrays: dict, *args, **given) -> Result:
        """What callers get from stored ``arrays`` (a PCAResult, a DataFrame, or the dict itself); computes nothing."""
        return self.load(arrays, self.settings(*args, **given))

    def is_cached(self, run, *args, folder=None, **given) -> bool:
        """True when a readable entry exists for these parameters."""
        return is_cached(run, *self.key(*args, **given), folder)

    def available(self, run, *, folder=None) -> list[dict[str, Any]]:
        """Parameter sets of this analysis cached for the run's current z-points and current parameters.

        An entry written for a parameter set that has since changed (a field added, a value no
        longer allowed) is left out: asking for it again would be a different entry.
        """
        return [entry["params"] for entry in entries(run, self.name, folder) if self._is_current(entry["params"])]

    def _is_current(self, params) -> bool:
        try:
            return isinstance(params, dict) and canonical_json(self.key(**params)[1]) == canonical_json(params)
        except ValueError:
            return False


def _as_stored(stored: dict, _params) -> dict:
    return stored


def zpoints(run: str | os.PathLike) -> np.ndarray:
    """The run's z-points, memory-mapped and validated (see :func:`rundir.load_zpoints`)."""
    return rundir.load_zpoints(run)
