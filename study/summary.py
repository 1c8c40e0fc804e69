"""The numbers of a run (what ``summary.json`` holds) and the seed-claims table.

Every number comes from a cached declaration (:mod:`analysis.results`,
:mod:`study.reference`, :mod:`study.scoring`), so a report reads what the
dashboard shows. Analyses that ``zspace analyze`` would have cached are reused
with whatever parameters it used; missing ones are computed at
``zspace analyze --quick`` sizes (and the summary says which).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import rundir
from analysis import claims, radius, results
from analysis.precompute import QUICK
from analysis.snapshots import epoch_curve
from study import scoring
from study.void_decodes import N_VOID, void_decodes, void_summary

#: Keys of one run's summary, in ``summary.json`` order (documented in :func:`run_summary`).
RUN_KEYS = (
    "run",
    "model",
    "z_dim",
    "n_points",
    "radius",
    "flagged_axes",
    "pca",
    "structure",
    "void_decodes",
    "rates",
    "verdict",
    "judge",
    "originals",
    "epochs",
    "claims",
)


def cached_or_quick(declaration, run, **quick):
    """The first cached entry of ``declaration`` for ``run`` (any parameters), else one computed with ``quick``.

    Returns
    -------
    (result, params, computed) : the result, its parameters and whether it was computed now.
    """
    found = declaration.available(run)
    if found:
        params = found[0]
        return declaration(run, **params), params, False
    return declaration(run, **quick), quick, True


def structure_numbers(run) -> dict:
    """Median local dimension, nearest-neighbour distance and void fractions, each beside its null, and their source."""
    stored, params, computed = cached_or_quick(
        results.structure_measures, run, n_points=QUICK["structure_n"], n_probes=QUICK["probes"]
    )
    return {**claims.structure_summary(stored), "params": params, "computed_for_report": computed}


def verdict_numbers(run) -> dict:
    """How the run's verdict was fixed before any sampler: its face space and its pass rate on known non-faces."""
    from analysis.meaningful import MEASURES, verdict
    from study.reference import NEGATIVE_KINDS, limits, reference

    ref = reference(run)
    calibration = {name: np.asarray(ref[f"calibration_{name}"]) for name in MEASURES}
    return {
        "face_space_variance": float(ref["face_space_variance"]),
        "face_space_axes": int(np.asarray(ref["face_basis"]).shape[0]),
        "thresholds": {
            key.removeprefix("threshold_"): float(v) for key, v in ref.items() if key.startswith("threshold_")
        },
        "negatives_passed": {
            kind: float(np.mean(np.asarray(ref[f"negative_margin_{kind}"]) >= 0)) for kind in NEGATIVE_KINDS
        },
        "calibration_passed": float(np.mean(verdict(calibration, limits(ref)))),
    }


def judge_numbers(run, n_judge: int) -> dict:
    """Which independent judge the run has and its accuracy on known faces and non-faces (empty without a judge)."""
    if not n_judge:
        return {}
    from study.judge import KINDS, judge_accuracy, judge_model

    stored = judge_model(run)
    return {"kind": str(stored["kind"]), "name": KINDS[str(stored["kind"])], "accuracy": judge_accuracy(stored)}


def run_summary(run: str | os.PathLike, rates: list[dict] | None = None, n_judge: int = scoring.N_JUDGE) -> dict:
    """The numbers of one run.

    Parameters
    ----------
    run : path-like
    rates : list of dict, optional
        Its :func:`study.scoring.sampler_rates` rows (computed when not given).

    Returns
    -------
    dict
        ``run`` (name), ``model`` ("ae"/"vae"), ``z_dim``, ``n_points``;
        ``radius``: ``peak`` (of the 0.5-wide histogram), ``sqrt_z_dim``, ``peak_over_sqrt_z_dim``,
        ``mean``, ``median``, ``origin_share`` (points with |z| < peak / 2);
        ``flagged_axes``: list of {``axis``, ``mode``, ``mean``, ``fwhm``, ``std``, ``reason``};
        ``pca``: ``pc1_share``, ``pc2_share``, ``flattens_at`` (components above the flat rest,
        :func:`analysis.claims.flattens_at`), ``cumulative_10``;
        ``structure``: :func:`analysis.claims.structure_summary` (``lid_median``, ``nn_median``,
        ``void_threshold``, ``void_fraction`` and ``void_interval`` per probe kind, ``n_reference``, and
        ``null``: the same for the covariance-matched Gaussian), ``params``, ``computed_for_report``;
        ``void_decodes``: :func:`study.void_decodes.void_summary` (decoded void probes: verdict rate,
        judge rate, image ratio);
        ``rates``: sampler -> row of :func:`study.scoring.sampler_rates` (meaningful rate, precision,
        recall, diversity, two-sample AUC, judge rate and agreement, each with ``_lo``/``_hi``; score
        medians; the decisions ``quality``, ``coverage``, ``good``);
        ``verdict``: :func:`verdict_numbers` (face space, thresholds, known non-faces passed);
        ``judge``: :func:`judge_numbers` (the independent judge's kind and accuracy);
        ``epochs``: the run's per-epoch curve (:func:`analysis.snapshots.epoch_curve`), None without snapshots;
        ``originals``: ``skipped`` (training images of the rates' real set whose ``source`` could not be
        loaded, left out) and ``note`` (which rows and why, empty when none);
        ``claims``: rows of :func:`analysis.claims.check_claims`.
    """
    run = Path(run)
    config = rundir.read_config(run)
    z = rundir.load_zpoints(run)
    z_dim = int(z.shape[1])
    profile = results.radius_profile(run)
    r = radius.radii(z)
    ratio = np.asarray(results.pca(run).explained_variance_ratio_, dtype=np.float64)
    table = results.axis_summary(run)
    flagged = table[table["flagged"].astype(bool)]
    rows = rates if rates is not None else scoring.sampler_rates(run, n_judge=n_judge)
    out = {
        "run": rundir.qualified_name(run),  # SWEEP/NAME for a run of a sweep folder
        "model": str(config["model"]),
        "z_dim": z_dim,
        "n_points": int(len(z)),
        "radius": {
            "peak": float(profile["peak"]),
            "sqrt_z_dim": float(np.sqrt(z_dim)),
            "peak_over_sqrt_z_dim": float(profile["peak"] / np.sqrt(z_dim)),
            "mean": float(profile["mean"]),
            "median": float(profile["median"]),
            "origin_share": claims.origin_share(r, profile["peak"]),
        },
        "flagged_axes": [
            {
                "axis": int(row["axis"]),
                **{key: float(row[key]) for key in ("mode", "mean", "fwhm", "std")},
                "reason": str(row["reason"]),
            }
            for _, row in flagged.iterrows()
        ],
        "pca": {
            "pc1_share": float(ratio[0]),
            "pc2_share": float(ratio[1]) if len(ratio) > 1 else 0.0,
            "flattens_at": int(claims.flattens_at(ratio)),
            "cumulative_10": float(np.sum(ratio[:10])),
        },
        "structure": structure_numbers(run),
        "void_decodes": void_summary(void_decodes(run, n_judge=min(n_judge, N_VOID))),
        "rates": {row["sampler"]: _plain(row) for row in rows},
        "verdict": verdict_numbers(run),
        "judge": judge_numbers(run, n_judge),
        "originals": skipped_originals(run),
        "epochs": epoch_curve(run),
    }
    out["claims"] = claims.check_claims(out)
    return out


def skipped_originals(run) -> dict:
    """How many originals the rates' real set left out because their ``source`` could not be loaded, and why."""
    from study.reference import reference

    ref = reference(run)  # cached by the rates
    return {"skipped": int(ref.get("skipped_originals", 0)), "note": str(ref.get("skipped_note", ""))}


def _plain(row: dict) -> dict:
    return {
        key: (value if value is None or isinstance(value, str | bool) else float(value)) for key, value in row.items()
    }


def pairwise_claims(summaries: list[dict]) -> list[dict]:
    """The AE-versus-VAE claims for every pair of an AE and a VAE among ``summaries``, in the order given.

    Each row of :func:`analysis.claims.compare_claims` gains ``ae`` and ``vae``: the two runs' names.
    """
    rows = []
    for ae in (s for s in summaries if s["model"] == "ae"):
        for vae in (s for s in summaries if s["model"] == "vae"):
            for row in claims.compare_claims(ae["rates"], vae["rates"]):
                rows.append({"ae": ae["run"], "vae": vae["run"], **row})
    return rows


def summarize(
    runs: list[str | os.PathLike],
    progress=None,
    sweeps: list[str | os.PathLike] = (),
    n_judge: int = scoring.N_JUDGE,
) -> dict:
    """``summary.json``: every run's summary, the claims of each AE/VAE pair, and each sweep's curve.

    Returns
    -------
    dict
        ``runs`` (list of :func:`run_summary` dicts), ``comparison`` (:func:`pairwise_claims`:
        one set of rows per AE and VAE pair, empty without one), ``sweeps`` (per sweep folder in
        ``sweeps`` its :func:`study.sweep.sweep_curve`, computed where not cached), and
        ``settings``: ``samples_per_rate``, ``judged_per_rate``, ``bootstrap``, ``confidence``,
        ``calibration_quantile``, ``verdict_measures``, ``good_share``.
    """
    from analysis import meaningful
    from study.sweep import sweep_curve

    summaries = []
    for run in runs:
        rows = scoring.sampler_rates(run, progress=progress, n_judge=n_judge)
        summaries.append(run_summary(run, rows, n_judge))
    return {
        "runs": summaries,
        "comparison": pairwise_claims(summaries),
        "sweeps": [sweep_curve(folder, compute=True) for folder in sweeps],
        "settings": {
            "samples_per_rate": scoring.N_RATE,
            "judged_per_rate": int(min(n_judge, scoring.N_RATE)),
            "bootstrap": meaningful.N_BOOTSTRAP,
            "confidence": meaningful.CONFIDENCE,
            "calibration_quantile": meaningful.CALIBRATION_QUANTILE,
            "verdict_measures": list(meaningful.VERDICT_MEASURES),
            "good_share": scoring.GOOD_SHARE,
        },
    }
