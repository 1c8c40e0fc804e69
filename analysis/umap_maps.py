"""UMAP maps of z-points (umap-learn), and the way back from a map to z.

:func:`run_umap` is the UMAP twin of :func:`analysis.tsne.run_tsne`: a seeded
map of (a random subset of) raw or PCA-reduced z-points, with progress and
cancellation. Beside the embedding it keeps what UMAP's own
``inverse_transform`` needs from a fitted model (the fit's ``a``, ``b`` and
the per-point ``sigmas`` and ``rhos``), as plain arrays, so that a click on
an empty part of a cached map decodes a z without a pickled model and without
refitting: :func:`analysis.umap_inverse.inverse_transform` (trustworthy inside
the data's hull, see :func:`analysis.umap_inverse.inside_hull`).

umap-learn compiles its numba kernels on first use (tens of seconds on a
cold machine); :func:`analysis.umap_inverse.warm_up` triggers that with a tiny fit.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from analysis._checks import as_points, draw_ids, positive
from analysis.pca import PCAResult
from analysis.tsne import MapCancelled, ProgressCallback, map_input

#: Input metrics offered: those for which umap-learn has a gradient, which its inverse needs.
METRICS = ("euclidean", "cosine", "manhattan", "correlation")
#: What our parameters leave fixed, passed explicitly so a fit and its inverse use one set of
#: values: umap-learn's defaults. Below 4,096 points umap-learn finds neighbours exactly; that
#: path compiles in about a third of the time of its approximate search (pynndescent: about 35 s
#: more per fresh process on 2 cores), which small maps — the demo's, the tests' — would pay in
#: full. The inverse (a click on empty space) uses neither search.
FIXED = {
    "learning_rate": 1.0,
    "repulsion_strength": 1.0,
    "negative_sample_rate": 5,
    "init": "spectral",
}
#: umap-learn's default ``transform_seed``: seeds the negative sampling of the inverse.
TRANSFORM_SEED = 42
#: Share of the progress bar given to the neighbour graph and the spectral start (before the epochs).
GRAPH_SHARE = 0.3


class _Hidden(importlib.abc.MetaPathFinder):
    """Makes ``import <name>`` fail in one thread while it is on ``sys.meta_path``."""

    def __init__(self, names):
        self.names, self.thread = names, threading.get_ident()

    def find_spec(self, name, path=None, target=None):
        """Refuse the hidden names in the importing thread; let everything else through."""
        if threading.get_ident() == self.thread and name.partition(".")[0] in self.names:
            raise ImportError(f"{name} is not imported by analysis")
        return None


def _umap():
    """Import umap-learn without TensorFlow.

    umap-learn's package init imports TensorFlow and Keras (for ParametricUMAP,
    which we do not use) whenever they are installed, as they are beside the
    models: seconds and hundreds of MB, and analysis never imports TensorFlow.
    They are hidden from this thread for that import only, so a concurrent
    import elsewhere (the decoder service) is unaffected; if TensorFlow is
    already loaded the import costs nothing and is left alone.
    """
    if "umap.umap_" in sys.modules:
        return sys.modules["umap"]
    guard = _Hidden({"tensorflow", "keras", "torch"})
    sys.meta_path.insert(0, guard)
    try:
        import umap
    finally:
        sys.meta_path.remove(guard)
    return umap


class UmapCancelled(MapCancelled):
    """Raised by :func:`run_umap` when its callback asked to stop."""


@dataclass(frozen=True)
class UmapParams:
    """Every parameter that shapes a UMAP map, with its default (umap-learn's, except the seed).

    Attributes
    ----------
    n_points : int or None
        Points to map, drawn with ``random_state`` (None: all).
    pca_components : int, optional
        Map the scores of the leading k principal components instead of raw z.
    n_neighbors : int
        Size of the local neighbourhood (umap-learn default 15).
    min_dist : float
        How tightly points may pack in the map (default 0.1); with ``spread``
        it sets the fit's curve parameters ``a`` and ``b``.
    spread : float
        Scale of the embedded points (default 1.0).
    metric : str
        Input-space metric, one of :data:`METRICS`.
    n_epochs : int or None
        Layout epochs (None: umap-learn's choice, 200 above 10,000 points, else 500).
    random_state : int
        Seeds the subset and the fit. A seeded umap-learn fit runs on one
        thread (its parallel layout is not reproducible).
    """

    n_points: int | None = 20000
    pca_components: int | None = None
    n_neighbors: int = 15
    min_dist: float = 0.1
    spread: float = 1.0
    metric: str = "euclidean"
    n_epochs: int | None = None
    random_state: int = 0

    def __post_init__(self):
        # Normalised types, so equal settings give equal cache keys.
        def whole(value, name, least):
            if isinstance(value, bool) or int(value) != value or int(value) < least:
                raise ValueError(f"{name} must be a whole number >= {least}, got {value!r}")
            return int(value)

        if self.metric not in METRICS:
            raise ValueError(f"unknown UMAP metric {self.metric!r}; choose one of {', '.join(METRICS)}")
        fields = {
            "n_points": None if self.n_points is None else whole(self.n_points, "n_points", 1),
            "pca_components": None if self.pca_components is None else whole(self.pca_components, "pca_components", 1),
            "n_neighbors": whole(self.n_neighbors, "n_neighbors", 2),
            "min_dist": float(self.min_dist),
            "spread": positive(self.spread, "spread"),
            "n_epochs": None if self.n_epochs is None else whole(self.n_epochs, "n_epochs", 1),
            "random_state": whole(self.random_state, "random_state", 0),
        }
        if not 0 <= fields["min_dist"] <= fields["spread"]:
            raise ValueError(f"min_dist must be between 0 and spread={fields['spread']}, got {self.min_dist}")
        for name, value in fields.items():
            object.__setattr__(self, name, value)


@dataclass
class UmapResult:
    """A UMAP map and what its inverse needs.

    Attributes
    ----------
    ids : ndarray of int64, shape (n,)
        Row ids (into the full z array) of the mapped points, sorted.
    embedding : ndarray of float32, shape (n, 2)
    params : dict
        Every parameter that shaped the map (JSON-serialisable), ``n_points`` the number mapped.
    seconds : float
        Wall time of the fit.
    a, b : float
        The fit's membership curve 1 / (1 + a d^(2b)) in the map.
    sigmas, rhos : ndarray of float32, shape (n,)
        Per-point normalisation and distance to the nearest neighbour of the fit's fuzzy graph.
    """

    ids: np.ndarray
    embedding: np.ndarray
    params: dict = field(default_factory=dict)
    seconds: float = 0.0
    a: float = 0.0
    b: float = 0.0
    sigmas: np.ndarray | None = None
    rhos: np.ndarray | None = None

    def to_arrays(self) -> dict:
        """The result as arrays and scalars (for :func:`analysis.cache.cached`; ``params`` is the cache key)."""
        keep = ("ids", "embedding", "seconds", "a", "b", "sigmas", "rhos")
        return {name: getattr(self, name) for name in keep}

    @classmethod
    def from_arrays(cls, stored: dict, params: dict) -> UmapResult:
        """Inverse of :meth:`to_arrays`."""
        arrays = {name: np.asarray(stored[name]) for name in ("ids", "embedding", "sigmas", "rhos")}
        scalars = {name: float(stored[name]) for name in ("seconds", "a", "b")}
        return cls(params=dict(params), **arrays, **scalars)


def _notify(callback, progress: float, message: str) -> None:
    if callback is not None and callback(float(progress), message) is False:
        raise UmapCancelled(f"UMAP cancelled at {progress:.0%} ({message})")


class _EpochReport:
    """A file for umap-learn's tqdm bar: forwards "epochs done / total" to the callback.

    umap-learn reports its layout epochs only through tqdm (its ``tqdm_kwds``);
    with ``bar_format="{n}/{total}"`` each refresh writes ``"\\r<n>/<total>"`` here.
    A cancel is raised from inside the bar, i.e. between two epochs.
    """

    def __init__(self, callback):
        self.callback, self.error = callback, None

    def write(self, text: str) -> None:
        """Called by tqdm with the refreshed bar."""
        done, _, total = text.strip().partition("/")
        if self.error is not None or not done.isdigit() or not total.isdigit() or int(total) == 0:
            return
        try:
            fraction = int(done) / int(total)
            _notify(self.callback, GRAPH_SHARE + (1 - GRAPH_SHARE) * fraction, f"epoch {done}/{total}")
        except BaseException as exc:  # noqa: BLE001 - tqdm swallows some errors: run_umap re-raises this one
            self.error = exc
            raise _Stop from None

    def flush(self) -> None:
        """tqdm flushes after each write."""


class _Stop(Exception):
    """Unwinds umap-learn's layout loop after a cancel (the real reason is kept on the reporter)."""


def run_umap(
    z,
    params: UmapParams | None = None,
    *,
    callback: ProgressCallback | None = None,
    pca: PCAResult | None = None,
    **overrides,
) -> UmapResult:
    """Compute a seeded 2-D UMAP map of (a random subset of) z-points, raw or PCA-reduced.

    Parameters
    ----------
    z : array_like, shape (N, z_dim)
        All z-points; ``n_points`` of them are drawn with ``random_state``.
    params : UmapParams, optional
        The map's parameters; keyword ``overrides`` (any field of
        :class:`UmapParams`) replace single ones.
    callback : callable(progress, message) -> bool, optional
        Called at the start, after each refresh of the layout epochs and at the
        end; returning False (or raising) cancels between two steps, and
        :class:`UmapCancelled` (or the callback's exception) is raised.
    pca : PCAResult, optional
        A fit to reuse for ``pca_components`` (else fitted on all of ``z``).

    Returns
    -------
    UmapResult
        Its ``params`` are the settings used, with ``n_points`` the number actually mapped.
    """
    params = replace(params or UmapParams(), **overrides)
    z = as_points(z, dtype=None)
    ids = draw_ids(len(z), params.n_points, params.random_state)
    n = len(ids)
    # umap-learn's spectral start needs more points than neighbours plus the two map dimensions.
    if n <= params.n_neighbors + 2:
        raise ValueError(
            f"UMAP with {params.n_neighbors} neighbours needs more than {params.n_neighbors + 2} points, got {n}"
        )
    x = map_input(z, ids, params.pca_components, pca)
    _notify(callback, 0.0, f"UMAP of {n:,} points: neighbour graph")
    started = time.perf_counter()
    import numba

    report = _EpochReport(callback)
    model = _umap().UMAP(
        n_neighbors=params.n_neighbors,
        min_dist=params.min_dist,
        spread=params.spread,
        metric=params.metric,
        n_epochs=params.n_epochs,
        random_state=params.random_state,
        n_jobs=1,  # what umap-learn forces for a seeded fit; said here to spare its warning
        tqdm_kwds={"disable": False, "file": report, "bar_format": "{n}/{total}", "mininterval": 0.2},
        **FIXED,
    )
    threads = numba.get_num_threads()
    try:
        embedding = model.fit_transform(x)
    except _Stop:
        raise report.error from None
    finally:
        # umap-learn sets numba's process-wide thread count to its n_jobs and restores it only on success.
        numba.set_num_threads(threads)
    seconds = time.perf_counter() - started
    _notify(callback, 1.0, f"done in {seconds:.1f} s")
    return UmapResult(
        ids=ids,
        embedding=np.asarray(embedding, dtype=np.float32),
        params={**asdict(params), "n_points": int(n)},
        seconds=seconds,
        a=float(model._a),
        b=float(model._b),
        sigmas=np.asarray(model._sigmas, dtype=np.float32),
        rhos=np.asarray(model._rhos, dtype=np.float32),
    )
