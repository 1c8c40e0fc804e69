"""Decoded samples with their scores, and each sampler's meaningful rate with bootstrap intervals.

What the dashboard calls (from a background job; both cache what they compute):

* :func:`scored_samples` — the Sampling view: K decoded samples of one sampler,
  each image with its scores and verdict.
* :func:`sampler_rates` — the sampler table: per sampler the meaningful rate,
  the precision and the recall over :data:`N_RATE` samples, each with a 95 %
  percentile-bootstrap interval (:data:`analysis.meaningful.N_BOOTSTRAP`
  resamples, seeded). One cache entry per (run, sampler, parameters), so a
  table fills row by row and a second call only reads.

The table also has a ``data`` row: held-out data z-points, decoded — the rate
a sampler that draws exactly the data reaches (0.94 or more: each of the
three thresholds lets :data:`analysis.meaningful.CALIBRATION_QUANTILE` of
decoded data points through).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import rundir
from analysis import density_fit, meaningful, results, samplers
from analysis.results import Declaration
from study import reference as reference_mod
from study.codec import load_codec, to_uint8

#: Samples per sampler behind one rate (its interval is about +-6 points at a rate of 0.5).
N_RATE = 256
#: Most samples one :func:`scored_samples` call decodes (bounds one request's work).
MAX_SCORED = 64
#: GMM components of the ``gmm`` sampler unless chosen otherwise.
GMM_K = density_fit.DEFAULT_COMPONENTS
#: Pseudo-sampler of the rate table: decoded held-out data points.
DATA_ROW = "data"
#: Every row of the full table, in order.
ROWS = (DATA_ROW, *samplers.KINDS)
#: How each row is named to people (the samplers' own labels, :data:`analysis.samplers.LABELS`).
ROW_LABELS = {DATA_ROW: "data (held-out points, decoded)", **samplers.LABELS}
#: Per-image results stored beside the measures.
VERDICTS = ("margin", "meaningful", "consistent")


class RatesCancelled(Exception):
    """Raised by :func:`sampler_rates` when its progress callback returned False."""


def draw(run: str | os.PathLike, sampler: str, n: int, seed=0, gmm_k: int = GMM_K) -> np.ndarray:
    """``n`` z-points of ``sampler`` for a run (float32, n x z_dim); fitted samplers use the cached fit.

    ``sampler`` may also be :data:`DATA_ROW`: held-out data points (the reference's pool rows).
    ``gmm_k`` is the number of GMM components (used by ``gmm`` only).
    """
    z = rundir.load_zpoints(run)
    if sampler == DATA_ROW:
        pool = reference_mod.reference(run)["pool_rows"]
        rows = np.sort(np.random.default_rng(seed).choice(pool, size=min(int(n), len(pool)), replace=False))
        return np.asarray(z[rows], dtype=np.float32)
    if sampler not in samplers.KINDS:
        raise ValueError(f"unknown sampler {sampler!r}; choose one of {', '.join(ROWS)}")
    fit = None
    if sampler in samplers.FITTED_KINDS:
        fit = results.sampler_fit(run, kind=sampler, k=gmm_k)
    return samplers.sample(sampler, int(n), z, random_state=seed, fit=fit)


@dataclass
class ScoredSamples:
    """Decoded samples and their scores.

    Attributes
    ----------
    z : ndarray, shape (k, z_dim)
    images : ndarray of uint8, shape (k, S, S, 3)
    scores : dict
        ``realism``, ``reencode``, ``pixel_nn``, ``margin`` (floats, shape (k,)) and ``meaningful`` (bools);
        see :func:`study.reference.score`.
    limits : dict
        The verdict thresholds, measure -> value.
    """

    z: np.ndarray
    images: np.ndarray
    scores: dict
    limits: dict


def scored_samples(
    run: str | os.PathLike, sampler: str, k: int = 16, seed: int = 0, gmm_k: int = GMM_K
) -> ScoredSamples:
    """Draw ``k`` z of ``sampler``, decode them and score each image.

    ``k`` is at most :data:`MAX_SCORED`. The first call of a run computes its
    reference (and a fitted sampler's fit); later calls decode and score only
    the ``k`` samples (well under a second for the demo models on 2 cores).
    """
    k = int(k)
    if not 1 <= k <= MAX_SCORED:
        raise ValueError(f"k must be between 1 and {MAX_SCORED}, got {k}")
    ref = reference_mod.reference(run)
    codec = load_codec(run)
    z = draw(run, sampler, k, seed, gmm_k)
    images = codec.decode(z)
    return ScoredSamples(z, to_uint8(images), reference_mod.score(ref, codec, z, images), reference_mod.limits(ref))


@dataclass(frozen=True)
class RateParams:
    """One row of the rate table: the sampler, samples, seed, bootstrap resamples and GMM components."""

    sampler: str = "normal"
    n: int = N_RATE
    seed: int = 0
    n_boot: int = meaningful.N_BOOTSTRAP
    gmm_k: int | None = GMM_K

    def __post_init__(self):
        if self.sampler not in ROWS:
            raise ValueError(f"unknown sampler {self.sampler!r}; choose one of {', '.join(ROWS)}")
        # Only the gmm row depends on k: the other rows keep one cache entry whatever k is.
        object.__setattr__(self, "gmm_k", int(self.gmm_k) if self.sampler == "gmm" else None)
        for name, low in (("n", 8), ("seed", 0), ("n_boot", 10)):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < low:
                raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
            object.__setattr__(self, name, int(value))


def _rate_row(run, p: RateParams, _callback) -> dict:
    started = time.perf_counter()
    ref = reference_mod.reference(run)
    codec = load_codec(run)
    # Each sampler its own stream, fixed by its place in ROWS: a row does not change when others are added.
    seed = [p.seed, ROWS.index(p.sampler)]
    z = draw(run, p.sampler, p.n, np.random.default_rng(seed).integers(2**31 - 1), p.gmm_k or GMM_K)
    images = codec.decode(z)
    scores = reference_mod.score(ref, codec, z, images)
    inside = scores["realism"] >= 1.0
    feats = meaningful.image_features(images)
    covered = meaningful.realism(ref["features"], feats, meaningful.knn_radii(feats)) >= 1.0
    out = {f"score_{name}": np.asarray(scores[name]) for name in (*meaningful.MEASURES, *VERDICTS)}
    shares = (("rate", scores["meaningful"]), ("consistent", scores["consistent"]))
    for name, values in (*shares, ("precision", inside), ("recall", covered)):
        lo, hi = meaningful.bootstrap_interval(values.astype(np.float64), n_boot=p.n_boot, random_state=seed)
        out.update({name: float(np.mean(values)), f"{name}_lo": lo, f"{name}_hi": hi})
    out["n_samples"] = len(z)
    out["seconds"] = time.perf_counter() - started
    return out


#: One cached row of the rate table (see :func:`sampler_rates`).
rate_row = Declaration(f"sampler_rate.v{reference_mod.MEASURES_VERSION}", RateParams, _rate_row)

#: Columns of a :func:`sampler_rates` row besides run, model and sampler.
RATE_COLUMNS = (
    "n_samples",
    *(f"{name}{part}" for name in ("rate", "consistent", "precision", "recall") for part in ("", "_lo", "_hi")),
    *(f"{name}_median" for name in meaningful.MEASURES),
    "seconds",
)


def sampler_rates(
    run: str | os.PathLike, rows=ROWS, n: int = N_RATE, seed: int = 0, gmm_k: int = GMM_K, progress=None
) -> list[dict]:
    """The rate table of one run: a dict per sampler (and the ``data`` row), computed once then cached.

    Parameters
    ----------
    run : path-like
    rows : sequence of str
        Samplers (:data:`analysis.samplers.KINDS`) and/or :data:`DATA_ROW`; default all.
    n : int
        Samples per row (default :data:`N_RATE`).
    seed : int
    gmm_k : int
        GMM components of the ``gmm`` row.
    progress : callable(fraction, message) -> bool or None, optional
        Called before each row and at the end; returning False stops with :class:`RatesCancelled`.

    Returns
    -------
    list of dict
        ``run``, ``model``, ``sampler`` and :data:`RATE_COLUMNS`: ``rate`` (meaningful share),
        ``precision`` and ``recall`` (Kynkäänniemi et al.), each with ``_lo``/``_hi`` (95 % bootstrap
        interval), the median of each score, and ``seconds`` (compute time when first computed).

    Notes
    -----
    First call on the demo runs (64 x 64, z_dim 256, 2 CPU cores): about a
    minute per run for all rows (fits, reference, 8 x 256 decodes and
    re-encodes); cached afterwards (milliseconds). See docs/BENCHMARKS.md.
    """
    run = Path(run)
    label = rundir.qualified_name(run)
    model = str(rundir.read_config(run)["model"])
    rows = list(rows)
    table = []
    for i, sampler in enumerate(rows):
        if progress is not None and progress(i / len(rows), f"{label}: {sampler}") is False:
            raise RatesCancelled(f"sampler rates of {label} cancelled at {sampler}")
        stored = rate_row(run, sampler=sampler, n=n, seed=seed, gmm_k=gmm_k)
        row = {"run": label, "model": model, "sampler": sampler}
        for name in meaningful.MEASURES:
            stored[f"{name}_median"] = float(np.median(stored[f"score_{name}"]))
        row.update({key: stored[key] for key in RATE_COLUMNS})
        table.append(row)
    if progress is not None:
        progress(1.0, f"{label}: done")
    return table
