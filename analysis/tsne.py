"""t-SNE maps of z-points behind one function, with three backends and a measured default.

Backends: openTSNE with its Barnes-Hut gradient (``opentsne-bh``), openTSNE
with its FFT-interpolated gradient (``opentsne-fft``), and scikit-learn's
Barnes-Hut ``TSNE`` (``sklearn``). ``backend="auto"`` picks by size from the
timings in ``docs/BENCHMARKS.md``: Barnes-Hut up to ``BH_MAX_POINTS`` points,
FFT above (scikit-learn was never the fastest).

``n_iter`` counts all iterations including the early-exaggeration phase
(250 iterations), as scikit-learn's ``max_iter`` does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from analysis._checks import as_points, draw_ids, positive
from analysis.pca import PCAResult, fit_pca

BACKENDS = ("auto", "opentsne-bh", "opentsne-fft", "sklearn")
#: Largest size for which Barnes-Hut was at least as fast as FFT in our measurements (docs/BENCHMARKS.md).
BH_MAX_POINTS = 20000
#: Below this many points t-SNE runs on one thread by default (see run_tsne's n_jobs).
SINGLE_THREAD_BELOW = 5000
#: Iterations of the early-exaggeration phase (openTSNE's and scikit-learn's default).
EXAGGERATION_ITER = 250
#: A progress callback: (fraction done 0..1, message) -> False to cancel.
ProgressCallback = Callable[[float, str], "bool | None"]


class MapCancelled(Exception):
    """Raised when the progress callback of a map (t-SNE or UMAP) asked to stop."""


class TsneCancelled(MapCancelled):
    """Raised by :func:`run_tsne` when its callback asked to stop."""


@dataclass
class TsneResult:
    """A t-SNE map.

    Attributes
    ----------
    ids : ndarray of int64, shape (n,)
        Row ids (into the full z array) of the mapped points, sorted.
    embedding : ndarray of float32, shape (n, 2)
    params : dict
        Every parameter that shaped the map (JSON-serialisable).
    backend : str
        The backend actually used (never "auto").
    seconds : float
        Wall time of the fit.
    kl_divergence : float
        The fit's final KL divergence as its library reports it (NaN for maps
        cached before it was recorded); lower is a closer map.
    """

    ids: np.ndarray
    embedding: np.ndarray
    params: dict = field(default_factory=dict)
    backend: str = ""
    seconds: float = 0.0
    kl_divergence: float = float("nan")


def choose_backend(n_points: int) -> str:
    """Return the fastest backend measured for ``n_points`` points."""
    return "opentsne-bh" if n_points <= BH_MAX_POINTS else "opentsne-fft"


def _notify(callback, progress: float, message: str) -> None:
    if callback is not None and callback(float(progress), message) is False:
        raise TsneCancelled(f"t-SNE cancelled at {progress:.0%} ({message})")


class _OpenTsneProgress:
    """openTSNE callback that forwards progress and turns a False answer into a stop request."""

    def __init__(self, callback, total_iter: int, phase_offset: int):
        self.callback, self.total, self.offset = callback, total_iter, phase_offset
        self.error: BaseException | None = None

    def optimization_about_to_start(self):
        """Called by openTSNE before each optimisation phase."""

    def __call__(self, iteration, error, embedding):
        done = self.offset + int(iteration)
        try:
            _notify(self.callback, 0.1 + 0.9 * done / self.total, f"iteration {done}/{self.total}, KL {error:.3f}")
        except BaseException as exc:  # noqa: BLE001 - re-raised by run_tsne once openTSNE has unwound
            self.error = exc
            return True
        return False


def _fit_opentsne(x, method: str, params: TsneParams, n_jobs, callback):
    import openTSNE

    n_iter, random_state = params.n_iter, params.random_state
    ee_iter = min(EXAGGERATION_ITER, n_iter)
    phases = []
    for offset in (0, ee_iter):
        phases.append(_OpenTsneProgress(callback, n_iter, offset))
    affinities = openTSNE.affinity.PerplexityBasedNN(
        x, perplexity=params.perplexity, n_jobs=n_jobs, random_state=random_state, verbose=False
    )
    _notify(callback, 0.08, "affinities computed")
    if params.init == "pca":
        start = openTSNE.initialization.pca(x, random_state=random_state)
    else:
        start = openTSNE.initialization.random(x, random_state=random_state)
    embedding = openTSNE.TSNEEmbedding(
        start, affinities, negative_gradient_method=method, n_jobs=n_jobs, random_state=random_state
    )
    lr = "auto" if params.learning_rate == "auto" else float(params.learning_rate)
    steps = [(ee_iter, params.early_exaggeration, 0.8), (n_iter - ee_iter, None, 0.8)]  # openTSNE 1.0 defaults
    for (iters, exaggeration, momentum), progress in zip(steps, phases, strict=True):
        if iters <= 0:
            continue
        embedding = embedding.optimize(
            n_iter=iters,
            exaggeration=exaggeration,
            momentum=momentum,
            learning_rate=lr,
            callbacks=[progress],
            callbacks_every_iters=10,
            n_jobs=n_jobs,
        )
        if progress.error is not None:
            raise progress.error
    return np.asarray(embedding), float(embedding.kl_divergence)


def _fit_sklearn(x, params: TsneParams, n_jobs, callback):
    from sklearn.manifold import TSNE

    # scikit-learn offers no iteration callback: progress is reported at start and end only.
    _notify(callback, 0.05, "scikit-learn t-SNE running (no intermediate progress)")
    model = TSNE(
        perplexity=params.perplexity,
        early_exaggeration=params.early_exaggeration,
        max_iter=max(params.n_iter, 250),
        learning_rate=params.learning_rate,
        init=params.init,
        random_state=params.random_state,
        n_jobs=n_jobs,
    )
    embedding = model.fit_transform(x)
    return embedding, float(model.kl_divergence_)


@dataclass(frozen=True)
class TsneParams:
    """Every parameter that shapes a t-SNE map, with its default (the one list of them).

    Attributes
    ----------
    n_points : int or None
        Points to map, drawn with ``random_state`` (None: all).
    pca_components : int, optional
        Map the scores of the leading k principal components instead of raw z.
    perplexity, early_exaggeration : float
        t-SNE parameters (the seed used 10 and 16 on 20k points).
    n_iter : int
        Total iterations including 250 of early exaggeration (seed: 1000).
    learning_rate : float or "auto"
        "auto" differs between the backends. openTSNE: N / exaggeration per
        phase (Belkina et al., Nat. Commun. 2019), so N / early_exaggeration
        during the early-exaggeration iterations and N afterwards (the phases
        are run separately here, each with its own "auto"). scikit-learn:
        max(N / early_exaggeration / 4, 50) for every iteration.
    init : {"pca", "random"}
    backend : {"auto", "opentsne-bh", "opentsne-fft", "sklearn"}
    random_state : int
        Seeds the subset, the initialisation and the optimisation.
    """

    n_points: int | None = 20000
    pca_components: int | None = None
    perplexity: float = 30.0
    early_exaggeration: float = 12.0
    n_iter: int = 750
    learning_rate: float | str = "auto"
    init: str = "pca"
    backend: str = "auto"
    random_state: int = 0

    def __post_init__(self):
        # Normalised types, so equal settings give equal cache keys ("10" and 10.0 are one map).
        def whole(value, name):
            if isinstance(value, bool) or int(value) != value:
                raise ValueError(f"{name} must be a whole number, got {value!r}")
            return int(value)

        if self.backend not in BACKENDS:
            raise ValueError(f"unknown t-SNE backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        if self.init not in ("pca", "random"):
            raise ValueError(f'init must be "pca" or "random", got {self.init!r}')
        fields = {
            "n_points": None if self.n_points is None else whole(self.n_points, "n_points"),
            "pca_components": None if self.pca_components is None else whole(self.pca_components, "pca_components"),
            "perplexity": positive(self.perplexity, "perplexity"),
            "early_exaggeration": positive(self.early_exaggeration, "early_exaggeration"),
            "n_iter": whole(self.n_iter, "n_iter"),
            "learning_rate": "auto" if self.learning_rate == "auto" else positive(self.learning_rate, "learning_rate"),
            "random_state": whole(self.random_state, "random_state"),
        }
        if fields["n_iter"] < 1:
            raise ValueError(f"n_iter must be >= 1, got {self.n_iter}")
        for name, value in fields.items():
            object.__setattr__(self, name, value)


def largest_perplexity(n_points: int, wanted: float = 30.0) -> float:
    """The perplexity a t-SNE of ``n_points`` points can use: ``wanted``, or less on a small set.

    t-SNE needs more than 3 x perplexity points (each point's 3 x perplexity
    nearest neighbours), so below ``3 * wanted + 1`` points the perplexity is
    capped at ``(n_points - 1) / 3``.
    """
    return float(min(wanted, (n_points - 1) / 3))


def map_input(z, ids, pca_components: int | None = None, pca: PCAResult | None = None, dtype=np.float32) -> np.ndarray:
    """The rows a map of ``z`` is fitted on (t-SNE and UMAP): ``z[ids]``, or their leading PCA scores.

    Parameters
    ----------
    z : array_like, shape (N, z_dim)
    ids : array of int
        Rows of ``z`` in the map.
    pca_components : int, optional
        Use the scores of the leading k principal components.
    pca : PCAResult, optional
        The fit to use for them (else fitted on all of ``z``).
    dtype : numpy dtype
        Of the returned C-contiguous array (float32 by default).
    """
    z = as_points(z, dtype=None)
    x = np.asarray(z[np.asarray(ids)], dtype=np.float64)
    if pca_components is not None:
        if not 1 <= pca_components <= z.shape[1]:
            raise ValueError(f"pca_components must be between 1 and z_dim={z.shape[1]}, got {pca_components}")
        x = (pca if pca is not None else fit_pca(z)).transform(x, n_components=pca_components)
    return np.ascontiguousarray(x, dtype=dtype)


def run_tsne(
    z,
    params: TsneParams | None = None,
    *,
    callback: ProgressCallback | None = None,
    pca: PCAResult | None = None,
    n_jobs: int | None = None,
    **overrides,
) -> TsneResult:
    """Compute a 2-D t-SNE map of (a random subset of) z-points, raw or PCA-reduced.

    Parameters
    ----------
    z : array_like, shape (N, z_dim)
        All z-points; ``n_points`` of them are drawn with ``random_state``.
    params : TsneParams, optional
        The map's parameters; keyword ``overrides`` (any field of
        :class:`TsneParams`) replace single ones.
    callback : callable(progress, message) -> bool, optional
        Called with progress in [0, 1]; returning False (or raising) cancels,
        and :class:`TsneCancelled` (or the callback's exception) is raised.
    pca : PCAResult, optional
        A fit to reuse for ``pca_components`` (else fitted on all of ``z``).
    n_jobs : int or None
        Threads (-1: all cores). None: one thread below ``SINGLE_THREAD_BELOW``
        points, where the per-iteration thread synchronisation costs more than
        it saves (badly so on a busy machine), else all cores.

    Returns
    -------
    TsneResult
        Its ``params`` are the settings used, with ``n_points`` the number actually mapped.
    """
    params = replace(params or TsneParams(), **overrides)
    z = as_points(z, dtype=None)
    ids = draw_ids(len(z), params.n_points, params.random_state)
    n = len(ids)
    # Perplexity must leave room for 3 * perplexity neighbours; t-SNE of < 4 points is meaningless.
    if n < 4:
        raise ValueError(f"t-SNE needs at least 4 points, got {n}")
    if 3 * params.perplexity >= n:
        raise ValueError(f"perplexity {params.perplexity:g} is too large for {n} points; use less than {n / 3:g}")
    x = map_input(z, ids, params.pca_components, pca, dtype=np.float64)
    chosen = choose_backend(n) if params.backend == "auto" else params.backend
    if n_jobs is None:
        n_jobs = 1 if n < SINGLE_THREAD_BELOW else -1
    _notify(callback, 0.0, f"t-SNE of {n:,} points with {chosen}")
    started = time.perf_counter()
    settings = (params, n_jobs, callback)
    if chosen == "sklearn":
        emb, kl = _fit_sklearn(x, *settings)
    else:
        emb, kl = _fit_opentsne(x, "bh" if chosen == "opentsne-bh" else "fft", *settings)
    seconds = time.perf_counter() - started
    _notify(callback, 1.0, f"done in {seconds:.1f} s")
    used = {**asdict(params), "n_points": int(n), "backend": chosen}
    embedding = np.asarray(emb, dtype=np.float32)
    return TsneResult(ids=ids, embedding=embedding, params=used, backend=chosen, seconds=seconds, kl_divergence=kl)
