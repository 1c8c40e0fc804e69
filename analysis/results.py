"""The analyses of one run, each computed once and then read from the run's cache.

This is what ``zspace analyze`` precomputes and what the dashboard calls: the
same function with the same parameters hits the same cache entry in every
process. Each function takes the run directory and plain parameters and
returns small numpy-typed results.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

import rundir
from analysis import density, radius, structure
from analysis.cache import cached, entries
from analysis.pca import PCAResult, fit_pca
from analysis.tsne import TsneResult, run_tsne

#: Column order of the stored axis summary.
SUMMARY_COLUMNS = ("axis", "mode", "mean", "fwhm", "std", "skew", "flagged", "reason")


def histograms_key(bin_width: float = 0.25) -> tuple[str, dict]:
    """Cache (name, params) of :func:`histograms`; with :func:`analysis.cache.is_cached` it tells whether it is ready."""
    return "histograms", {"bin_width": float(bin_width)}


def axis_summary_key(bin_width: float = 0.25) -> tuple[str, dict]:
    """Cache (name, params) of :func:`axis_summary`."""
    return "axis_summary", {"bin_width": float(bin_width)}


def radius_key(bin_width: float = 0.5) -> tuple[str, dict]:
    """Cache (name, params) of :func:`radius_profile`."""
    return "radius", {"bin_width": float(bin_width)}


def pca_key() -> tuple[str, dict]:
    """Cache (name, params) of :func:`pca`."""
    return "pca", {"solver": "auto"}


def zpoints(run: str | os.PathLike) -> np.ndarray:
    """The run's z-points, memory-mapped and validated (see :func:`zspace.rundir.load_zpoints`)."""
    return rundir.load_zpoints(run)


def histograms(run, bin_width: float = 0.25) -> dict[str, Any]:
    """Per-axis histograms on a common grid: ``edges`` (bins + 1,), ``counts`` (z_dim, bins)."""

    def compute():
        edges, counts = density.axis_histograms(zpoints(run), bin_width)
        return {"edges": edges, "counts": counts}

    return cached(run, *histograms_key(bin_width), compute)


def axis_summary(run, bin_width: float = 0.25):
    """Per-axis summary table (see :func:`analysis.density.axis_summary`) as a pandas DataFrame."""
    import pandas as pd

    def compute():
        frame = density.axis_summary(zpoints(run), bin_width)
        return {col: frame[col].to_numpy(dtype=str if col == "reason" else None) for col in SUMMARY_COLUMNS}

    stored = cached(run, *axis_summary_key(bin_width), compute)
    return pd.DataFrame({col: np.atleast_1d(stored[col]) for col in SUMMARY_COLUMNS})


def radius_profile(run, bin_width: float = 0.5) -> dict[str, Any]:
    """Radius histogram with its N(0, I) reference and summary numbers.

    Returns
    -------
    dict
        ``edges``, ``counts``, ``reference`` (expected counts for N(0, I) in
        z_dim dimensions), ``z_dim``, and the keys of :func:`analysis.radius.radius_stats`.
    """

    def compute():
        z = zpoints(run)
        r = radius.radii(z)
        edges, counts = radius.radius_histogram(r, bin_width)
        out = {"edges": edges, "counts": counts, "reference": radius.chi_reference(edges, z.shape[1], len(r))}
        out["z_dim"] = int(z.shape[1])
        out.update(radius.radius_stats(r))
        return out

    return cached(run, *radius_key(bin_width), compute)


def pca(run) -> PCAResult:
    """PCA of all z-points of the run (all components kept)."""
    return PCAResult.from_arrays(cached(run, *pca_key(), lambda: fit_pca(zpoints(run)).to_arrays()))


def tsne(
    run,
    n_points: int = 20000,
    pca_components: int | None = None,
    perplexity: float = 30,
    early_exaggeration: float = 12,
    n_iter: int = 750,
    learning_rate="auto",
    init: str = "pca",
    backend: str = "auto",
    random_state: int = 0,
    callback=None,
) -> TsneResult:
    """A t-SNE map of the run (see :func:`analysis.tsne.run_tsne`), computed once per parameter set."""
    name, params = tsne_key(
        n_points, pca_components, perplexity, early_exaggeration, n_iter, learning_rate, init, backend, random_state
    )

    def compute():
        z = zpoints(run)
        fit = pca(run) if pca_components is not None else None
        result = run_tsne(z, **params, callback=callback, pca=fit)
        return {"ids": result.ids, "embedding": result.embedding, "backend": result.backend, "seconds": result.seconds}

    stored = cached(run, name, params, compute)
    return TsneResult(
        ids=stored["ids"],
        embedding=stored["embedding"],
        params=params,
        backend=stored["backend"],
        seconds=stored["seconds"],
    )


def tsne_key(
    n_points: int = 20000,
    pca_components: int | None = None,
    perplexity: float = 30,
    early_exaggeration: float = 12,
    n_iter: int = 750,
    learning_rate="auto",
    init: str = "pca",
    backend: str = "auto",
    random_state: int = 0,
) -> tuple[str, dict]:
    """Cache (name, params) of :func:`tsne` with these arguments."""
    return "tsne", {
        "n_points": int(n_points),
        "pca_components": None if pca_components is None else int(pca_components),
        "perplexity": float(perplexity),
        "early_exaggeration": float(early_exaggeration),
        "n_iter": int(n_iter),
        "learning_rate": learning_rate if learning_rate == "auto" else float(learning_rate),
        "init": init,
        "backend": backend,
        "random_state": int(random_state),
    }


def available_tsne(run) -> list[dict[str, Any]]:
    """Parameter sets of the t-SNE maps already cached for the run's current z-points."""
    return [entry["params"] for entry in entries(run, "tsne")]


def structure_measures(
    run, n_points: int = 5000, k: int = 20, n_probes: int = 2000, quantile: float = 0.99, random_state: int = 0
) -> dict[str, Any]:
    """Filament and void measures on ``n_points`` z-points drawn with ``random_state``.

    Returns
    -------
    dict
        ``ids`` (rows used), ``lid`` (local intrinsic dimension, TwoNN, per
        point), ``lid_median``, ``data_nn`` (NN distance of each used point to
        the nearest other used point), ``threshold`` (its ``quantile``), and
        for each probe kind in :data:`analysis.structure.PROBE_KINDS`:
        ``probe_nn_<kind>`` (probe → nearest data distances) and ``void_<kind>``
        (share of probes beyond the threshold).
    """
    from analysis._checks import draw_ids

    def compute():
        z = zpoints(run)
        ids = draw_ids(len(z), n_points, random_state)
        data = np.asarray(z[ids], dtype=np.float32)
        lid = structure.local_intrinsic_dimension(data, k=k)
        data_nn = structure.nn_distances(data)
        threshold = float(np.quantile(data_nn, quantile))
        out = {"ids": ids, "lid": lid, "lid_median": float(np.nanmedian(lid)), "data_nn": data_nn}
        out["threshold"] = threshold
        for offset, kind in enumerate(structure.PROBE_KINDS):
            probes = structure.make_probes(kind, n_probes, z, random_state=int(random_state) + 1 + offset)
            probe_nn = structure.nn_distances(data, probes)
            out[f"probe_nn_{kind}"] = probe_nn
            out[f"void_{kind}"] = float(np.mean(probe_nn > threshold))
        return out

    return cached(run, *structure_key(n_points, k, n_probes, quantile, random_state), compute)


def structure_key(
    n_points: int = 5000, k: int = 20, n_probes: int = 2000, quantile: float = 0.99, random_state: int = 0
) -> tuple[str, dict]:
    """Cache (name, params) of :func:`structure_measures` with these arguments."""
    return "structure", {
        "n_points": int(n_points),
        "k": int(k),
        "n_probes": int(n_probes),
        "quantile": float(quantile),
        "random_state": int(random_state),
    }
