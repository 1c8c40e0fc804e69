"""Decoded samples with their scores, and per sampler its quality *and* coverage, each with a 95 % interval.

What the dashboard calls (from a background job; both cache what they compute):

* :func:`scored_samples` — the Sampling view: K decoded samples of one sampler,
  each image with its scores and verdict.
* :func:`sampler_rates` — the sampler table: per sampler, over :data:`N_RATE`
  samples, the meaningful rate (quality of each image), precision and recall
  against as many decoded held-out data points (Kynkäänniemi et al., at equal
  sizes), the diversity ratio and the two-sample AUC (coverage of the set:
  :mod:`analysis.coverage`), the independent judge's rate and its agreement
  with the verdict (:mod:`study.judge`), and the decisions ``quality``,
  ``coverage`` and ``good``. One cache entry per (run, sampler, parameters), so
  a table fills row by row and a second call only reads.

A high meaningful rate alone is no good sampler: 256 copies of one average
face pass every image measure. A sampler is called good only when its
precision *and* its recall reach :data:`GOOD_SHARE` of the ``data`` row's —
held-out data z-points, decoded, compared with the comparison set exactly as
the samplers are: what a sampler that draws the data itself reaches.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import rundir
from analysis import coverage, density_fit, intervals, meaningful, results, samplers
from analysis.results import Declaration
from study import judge as judge_mod
from study import reference as reference_mod
from study.codec import load_codec, to_uint8

#: Samples per sampler behind one rate (its interval is about +-6 points at a rate of 0.5).
N_RATE = 256
#: Samples of each row the independent judge looks at (the first ones; its agreement interval is about
#: +-9 points at 128).
N_JUDGE = 128
#: A sampler is good when its precision and its recall each reach this share of the data row's.
GOOD_SHARE = 0.8
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
    """One row of the rate table: the sampler, samples, seed, bootstrap resamples, GMM components, judged samples."""

    sampler: str = "normal"
    n: int = N_RATE
    seed: int = 0
    n_boot: int = meaningful.N_BOOTSTRAP
    gmm_k: int | None = GMM_K
    n_judge: int = N_JUDGE

    def __post_init__(self):
        if self.sampler not in ROWS:
            raise ValueError(f"unknown sampler {self.sampler!r}; choose one of {', '.join(ROWS)}")
        # Only the gmm row depends on k: the other rows keep one cache entry whatever k is.
        object.__setattr__(self, "gmm_k", int(self.gmm_k) if self.sampler == "gmm" else None)
        for name, low in (("n", 8), ("seed", 0), ("n_boot", 10), ("n_judge", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < low:
                raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
            object.__setattr__(self, name, int(value))
        if self.n > reference_mod.N_COMPARISON:
            raise ValueError(
                f"n must be at most {reference_mod.N_COMPARISON} (the decoded comparison set), got {self.n}"
            )
        object.__setattr__(self, "n_judge", min(self.n_judge, self.n))


def _shares(out: dict, name: str, values) -> None:
    value, lo, hi = intervals.share(values)
    out.update({name: value, f"{name}_lo": lo, f"{name}_hi": hi})


def _judged(run, images, verdicts: np.ndarray, n_judge: int) -> dict:
    """The independent judge on the first ``n_judge`` images, and its agreement with the verdict."""
    if n_judge == 0:
        return {"judge_n": 0}
    said = judge_mod.judge_images(judge_mod.judge_model(run), images[:n_judge])["face"]
    ours = np.asarray(verdicts[:n_judge], dtype=bool)
    out = {"judge_n": n_judge}
    _shares(out, "judge_rate", said)
    _shares(out, "agreement", said == ours)
    for name, cell in (("both", ours & said), ("verdict_only", ours & ~said), ("judge_only", ~ours & said)):
        out[name] = int(cell.sum())
    out["neither"] = int((~ours & ~said).sum())
    # Cohen's kappa: agreement beyond what the two rates give by chance (undefined when both say one thing).
    chance = ours.mean() * said.mean() + (1 - ours.mean()) * (1 - said.mean())
    out["kappa"] = float((np.mean(said == ours) - chance) / (1 - chance)) if chance < 1 else float("nan")
    return out


def _rate_row(run, p: RateParams, _callback) -> dict:
    started = time.perf_counter()
    ref = reference_mod.reference(run)
    codec = load_codec(run)
    # Each sampler its own stream, fixed by its place in ROWS: a row does not change when others are added.
    seed = [p.seed, ROWS.index(p.sampler)]
    z = draw(run, p.sampler, p.n, np.random.default_rng(seed).integers(2**31 - 1), p.gmm_k or GMM_K)
    images = codec.decode(z)
    scores = reference_mod.score(ref, codec, z, images)
    out = {f"score_{name}": np.asarray(scores[name]) for name in (*meaningful.MEASURES, *VERDICTS)}
    _shares(out, "rate", scores["meaningful"])
    _shares(out, "consistent", scores["consistent"])
    # Quality and coverage of the set, against as many decoded held-out data points (equal sizes).
    features = meaningful.image_features(images)
    comparison = np.asarray(ref["comparison_features"])[: len(features)]
    found = coverage.precision_recall(features, comparison)
    out.update({key: value for key, value in found.items() if key not in ("inside", "covered")})
    for name, part in (
        ("diversity", coverage.diversity(features, comparison, p.n_boot, random_state=seed)),
        ("auc", coverage.two_sample_auc(features, comparison, n_boot=p.n_boot, random_state=seed)),
    ):
        out.update({key: part[key] for key in (name, f"{name}_lo", f"{name}_hi")})
    out.update(_judged(run, images, scores["meaningful"], p.n_judge))
    out["n_samples"] = len(z)
    out["seconds"] = time.perf_counter() - started
    return out


#: One cached row of the rate table (see :func:`sampler_rates`).
rate_row = Declaration(f"sampler_rate.v{reference_mod.MEASURES_VERSION}", RateParams, _rate_row)

#: Measures of a row with a 95 % interval (``_lo`` / ``_hi``): the verdict's rate and the re-encoding share,
#: precision and recall, diversity and two-sample AUC, the judge's rate and its agreement with the verdict.
INTERVAL_MEASURES = ("rate", "consistent", "precision", "recall", "diversity", "auc", "judge_rate", "agreement")
#: Columns of a :func:`sampler_rates` row besides run, model and sampler.
RATE_COLUMNS = (
    "n_samples",
    *(f"{name}{part}" for name in INTERVAL_MEASURES for part in ("", "_lo", "_hi")),
    "judge_n",
    "kappa",
    "both",
    "verdict_only",
    "judge_only",
    "neither",
    *(f"{name}_median" for name in meaningful.MEASURES),
    "seconds",
    "quality",
    "coverage",
    "good",
)


def decide(row: dict, data_row: dict) -> dict:
    """Whether a row's quality and coverage hold, judged against the data row's (see :data:`GOOD_SHARE`).

    Returns
    -------
    dict
        ``quality``: precision >= GOOD_SHARE x the data row's precision; ``coverage``: recall >=
        GOOD_SHARE x the data row's recall; ``good``: both.
    """
    quality = bool(row["precision"] >= GOOD_SHARE * data_row["precision"])
    covers = bool(row["recall"] >= GOOD_SHARE * data_row["recall"])
    return {"quality": quality, "coverage": covers, "good": quality and covers}


def sampler_rates(
    run: str | os.PathLike,
    rows=ROWS,
    n: int = N_RATE,
    seed: int = 0,
    gmm_k: int = GMM_K,
    progress=None,
    n_judge: int = N_JUDGE,
) -> list[dict]:
    """The rate table of one run: a dict per sampler (and the ``data`` row), computed once then cached.

    Parameters
    ----------
    run : path-like
    rows : sequence of str
        Samplers (:data:`analysis.samplers.KINDS`) and/or :data:`DATA_ROW`; default all. The data
        row is computed (and cached) in any case: the decisions are made against it.
    n : int
        Samples per row (default :data:`N_RATE`; at most :data:`study.reference.N_COMPARISON`).
    seed : int
    gmm_k : int
        GMM components of the ``gmm`` row.
    progress : callable(fraction, message) -> bool or None, optional
        Called before each row and at the end; returning False stops with :class:`RatesCancelled`.
    n_judge : int
        Samples of each row the independent judge looks at (0: none).

    Returns
    -------
    list of dict
        ``run``, ``model``, ``sampler`` and :data:`RATE_COLUMNS`: each of :data:`INTERVAL_MEASURES`
        with ``_lo``/``_hi`` (95 %: Wilson for shares, percentile bootstrap for diversity and AUC),
        ``judge_n`` and the judge-versus-verdict counts (``both``, ``verdict_only``, ``judge_only``,
        ``neither``) with Cohen's ``kappa``, the median of each score, ``seconds`` (compute time
        when first computed), and the decisions ``quality``, ``coverage`` and ``good`` (:func:`decide`).

    Notes
    -----
    First call on the demo runs (64 x 64, z_dim 256, 2 CPU cores): a few minutes per run for all
    rows (fits, reference, judge, 8 x 256 decodes and re-encodes); cached afterwards. See docs/BENCHMARKS.md.
    """
    run = Path(run)
    label = rundir.qualified_name(run)
    model = str(rundir.read_config(run)["model"])
    rows = list(rows)
    table = []
    for i, sampler in enumerate(rows):
        if progress is not None and progress(i / len(rows), f"{label}: {sampler}") is False:
            raise RatesCancelled(f"sampler rates of {label} cancelled at {sampler}")
        stored = rate_row(run, sampler=sampler, n=n, seed=seed, gmm_k=gmm_k, n_judge=n_judge)
        row = {"run": label, "model": model, "sampler": sampler}
        for name in meaningful.MEASURES:
            stored[f"{name}_median"] = float(np.median(stored[f"score_{name}"]))
        # A row the judge did not look at (n_judge 0) has None in the judge's columns.
        row.update({key: _value(stored.get(key)) for key in RATE_COLUMNS if key not in DECISIONS})
        table.append(row)
    data_row = rate_row(run, sampler=DATA_ROW, n=n, seed=seed, gmm_k=gmm_k, n_judge=n_judge)
    for row in table:
        row.update(decide(row, data_row))
    if progress is not None:
        progress(1.0, f"{label}: done")
    return table


#: The decisions of a row (not stored: made against the data row when the table is read).
DECISIONS = ("quality", "coverage", "good")


def _value(value):
    if value is None:
        return None
    arr = np.asarray(value)
    return arr.item() if arr.ndim == 0 else arr
