"""The cached analyses of one run, each declared once: its parameters with their defaults, its key, its computation.

This is what ``zspace analyze`` precomputes and what the dashboard calls: the
same declaration with the same parameters hits the same cache entry in every
process. A declaration is called like a function, ``results.pca(run)`` or
``results.histograms(run, bin_width=0.5)`` (computed when missing), reads
without computing (``results.pca.read(run)``: None when missing), says whether
an entry is ready (``results.pca.is_cached(run)``) and which parameter sets
are cached (``results.tsne.available(run)``).

Adding an analysis: a pure function of arrays in its own module, then one
``Declaration`` here (a parameter dataclass, a compute and, if the result is
not a plain dict, a loader).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

import rundir
from analysis import density, density_fit, radius, samplers, structure
from analysis._checks import positive
from analysis.declarations import Declaration, zpoints
from analysis.map_kinds import INVERTIBLE_MAPS, MAP_NAMES
from analysis.pca import PCAResult, fit_pca
from analysis.tsne import TsneParams, TsneResult, run_tsne
from analysis.umap_inverse import InverseMap, inverse_map
from analysis.umap_maps import UmapParams, UmapResult, map_input, run_umap

#: Column order of the stored axis summary.
SUMMARY_COLUMNS = ("axis", "mode", "mean", "fwhm", "std", "skew", "flagged", "reason")


# -- parameter sets ----------------------------------------------------------------------------
@dataclass(frozen=True)
class BinParams:
    """Histogram bin width (the seed used 0.25 per axis, 0.5 and 0.05 for the radius)."""

    bin_width: float = 0.25

    def __post_init__(self):
        object.__setattr__(self, "bin_width", positive(self.bin_width, "bin_width"))


@dataclass(frozen=True)
class RadiusParams(BinParams):
    """Radius histogram bin width."""

    bin_width: float = 0.5


@dataclass(frozen=True)
class PcaParams:
    """PCA solver (see :data:`analysis.pca.SOLVERS`)."""

    solver: str = "auto"


@dataclass(frozen=True)
class NeighbourParams:
    """Neighbourhood size of the per-point k-NN measures."""

    k: int = 20

    def __post_init__(self):
        if isinstance(self.k, bool) or int(self.k) != self.k or self.k < 2:
            raise ValueError(f"k must be a whole number >= 2, got {self.k!r}")
        object.__setattr__(self, "k", int(self.k))


@dataclass(frozen=True)
class StructureParams:
    """Filament and void measures: points measured, neighbours, probes per kind, threshold quantile, seed,
    and the most points of the reference cloud (all z-points up to it; the null has as many)."""

    n_points: int = 5000
    k: int = structure.LID_K
    n_probes: int = 2000
    quantile: float = structure.VOID_QUANTILE
    random_state: int = 0
    max_points: int = 100_000
    #: The samplers that probe the space (:data:`analysis.samplers.PROBE_KINDS`): part of the cache key,
    #: so a probe sampler added to the registry makes these measures a new entry, never a stale one.
    probe_kinds: tuple[str, ...] = samplers.PROBE_KINDS

    def __post_init__(self):
        for name in ("n_points", "k", "n_probes", "random_state", "max_points"):
            object.__setattr__(self, name, int(getattr(self, name)))
        object.__setattr__(self, "quantile", float(self.quantile))
        kinds = tuple(str(kind) for kind in self.probe_kinds)
        if kinds != samplers.PROBE_KINDS:
            raise ValueError(f"probe_kinds must be the probe samplers {', '.join(samplers.PROBE_KINDS)}, got {kinds}")
        object.__setattr__(self, "probe_kinds", kinds)


@dataclass(frozen=True)
class NnReferenceParams:
    """Data rows whose nearest-neighbour distance to all other rows is measured, and their seed."""

    n_queries: int = 2000
    random_state: int = 0

    def __post_init__(self):
        for name in ("n_queries", "random_state"):
            object.__setattr__(self, name, int(getattr(self, name)))


# -- computations ------------------------------------------------------------------------------
def _histograms(run, p: BinParams, _callback) -> dict:
    edges, counts = density.axis_histograms(zpoints(run), p.bin_width)
    return {"edges": edges, "counts": counts}


def _axis_summary(run, p: BinParams, _callback) -> dict:
    frame = density.axis_summary(zpoints(run), p.bin_width)
    return {col: frame[col].to_numpy(dtype=str if col == "reason" else None) for col in SUMMARY_COLUMNS}


def _summary_frame(stored: dict, _params):
    import pandas as pd

    return pd.DataFrame({col: np.atleast_1d(stored[col]) for col in SUMMARY_COLUMNS})


def _radius(run, p: RadiusParams, _callback) -> dict:
    z = zpoints(run)
    r = radius.radii(z)
    edges, counts = radius.radius_histogram(r, p.bin_width)
    out = {"edges": edges, "counts": counts, "reference": radius.chi_reference(edges, z.shape[1], len(r))}
    out["z_dim"] = int(z.shape[1])
    out.update(radius.radius_stats(r))
    return out


def _pca(run, p: PcaParams, _callback) -> dict:
    return fit_pca(zpoints(run), solver=p.solver).to_arrays()


def _tsne(run, p: TsneParams, callback) -> dict:
    reduce_first = pca(run) if p.pca_components is not None else None
    fit = run_tsne(zpoints(run), p, callback=callback, pca=reduce_first)
    stored = {"ids": fit.ids, "embedding": fit.embedding, "backend": fit.backend, "seconds": fit.seconds}
    return {**stored, "kl_divergence": fit.kl_divergence}


def _tsne_result(stored: dict, p: TsneParams) -> TsneResult:
    return TsneResult(
        ids=np.asarray(stored["ids"]),
        embedding=np.asarray(stored["embedding"]),
        params=asdict(p),
        backend=stored["backend"],
        seconds=stored["seconds"],
        kl_divergence=stored.get("kl_divergence", float("nan")),  # maps cached before it was recorded lack it
    )


def _local_density(run, p: NeighbourParams, _callback) -> dict:
    # Local density ~ 1 / (distance to the k-th neighbour)^z_dim is too steep to show; its log is.
    distances = structure.nn_distances(zpoints(run), k=p.k)[:, -1]
    return {"values": (-np.log(np.maximum(distances, 1e-12))).astype(np.float32)}


def _local_dimension(run, p: NeighbourParams, _callback) -> dict:
    return {"values": structure.local_intrinsic_dimension(zpoints(run), k=p.k).astype(np.float32)}


def _structure(run, p: StructureParams, _callback) -> dict:
    return structure.structure_with_null(
        zpoints(run), p.n_points, p.n_probes, p.k, p.quantile, p.max_points, p.random_state
    )


def _nn_reference(run, p: NnReferenceParams, _callback) -> dict:
    rows, distances = structure.data_nn_distances(zpoints(run), p.n_queries, p.random_state)
    return {"rows": rows, "distances": np.sort(distances), **structure.nn_reference(distances)}


# -- the declarations --------------------------------------------------------------------------
#: Per-axis histograms on a common grid: ``edges`` (bins + 1,), ``counts`` (z_dim, bins).
histograms = Declaration("histograms", BinParams, _histograms)
#: Per-axis summary table (see :func:`analysis.density.axis_summary`) as a pandas DataFrame.
axis_summary = Declaration("axis_summary", BinParams, _axis_summary, _summary_frame)
#: Radius histogram: ``edges``, ``counts``, ``reference`` (N(0, I) counts), ``z_dim`` and
#: the keys of :func:`analysis.radius.radius_stats`.
radius_profile = Declaration("radius", RadiusParams, _radius)
#: PCA of all z-points (all components kept), as :class:`analysis.pca.PCAResult`.
pca = Declaration("pca", PcaParams, _pca, lambda stored, _p: PCAResult.from_arrays(stored))
#: A t-SNE map (see :class:`analysis.tsne.TsneParams`), as :class:`analysis.tsne.TsneResult`.
tsne = Declaration("tsne", TsneParams, _tsne, _tsne_result)
#: ``values``: log local density, -log(distance to the k-th nearest neighbour), per point.
local_density = Declaration("local_density", NeighbourParams, _local_density)
#: ``values``: local intrinsic dimension (Levina-Bickel MLE over k neighbours) per point.
local_dimension = Declaration("local_dimension.mle", NeighbourParams, _local_dimension)
#: Filament and void measures against every z-point, beside the covariance-matched Gaussian null
#: (:func:`analysis.structure.structure_with_null`): ``ids``, ``lid``, ``lid_median`` (``_lo``/``_hi``),
#: ``data_nn``, ``nn_median``, ``threshold``, per probe kind ``probe_nn_<kind>`` and ``void_<kind>``
#: (``_lo``/``_hi``); each again with a ``null_`` prefix; ``n_reference``.
structure_measures = Declaration("structure.v2", StructureParams, _structure)
#: The data's own nearest-neighbour distances, the reference of every "how far from the data" number:
#: ``rows``, ``distances`` (sorted; pass to :func:`analysis.structure.distance_percentile`),
#: ``median``, ``p99`` and ``n`` (see :func:`analysis.structure.nn_reference`).
nn_reference = Declaration("nn_reference", NnReferenceParams, _nn_reference)

#: What ``zspace analyze`` computes of every run besides the sized ones (the structure measures and the maps,
#: see :func:`analysis.precompute.plan`): (label, declaration, parameters), in order. A new analysis is its
#: module and, here, its declaration and its line.
ANALYZED = (
    ("axis histograms (bin 0.25)", histograms, {"bin_width": 0.25}),
    ("axis summary", axis_summary, {"bin_width": 0.25}),
    ("radius histogram (bin 0.5)", radius_profile, {"bin_width": 0.5}),
    ("radius histogram (bin 0.05)", radius_profile, {"bin_width": 0.05}),
    ("PCA", pca, {}),
)

#: Every declaration, by cache name.
DECLARATIONS = {
    d.name: d
    for d in (
        histograms,
        axis_summary,
        radius_profile,
        pca,
        tsne,
        local_density,
        local_dimension,
        structure_measures,
        nn_reference,
    )
}


# -- ex-post density samplers (the sampler lab) ------------------------------------------------
@dataclass(frozen=True)
class SamplerFitParams:
    """A fitted sampler's density: kind, GMM components (None for kde), points used at most, seed."""

    kind: str = "gmm"
    k: int | None = density_fit.DEFAULT_COMPONENTS
    max_points: int = density_fit.DEFAULT_MAX_POINTS
    random_state: int = 0

    def __post_init__(self):
        if self.kind not in samplers.FITTED_KINDS:
            raise ValueError(f"kind must be one of {', '.join(samplers.FITTED_KINDS)}, got {self.kind!r}")
        # k means nothing to a kernel density: one cache entry per KDE whatever k was passed.
        k = None if self.kind == "kde" else self.k
        if k is not None and (isinstance(k, bool) or int(k) != k or k < 1):
            raise ValueError(f"k must be a whole number >= 1, got {self.k!r}")
        object.__setattr__(self, "k", None if k is None else int(k))
        for name in ("max_points", "random_state"):
            object.__setattr__(self, name, int(getattr(self, name)))


def _sampler_fit(run, p: SamplerFitParams, _callback) -> dict:
    k = p.k if p.k is not None else density_fit.DEFAULT_COMPONENTS
    return samplers.fit(p.kind, zpoints(run), k=k, max_points=p.max_points, random_state=p.random_state)


#: The density a fitted sampler draws from (see :func:`analysis.samplers.fit`); pass it to
#: ``samplers.sample(kind, n, z, fit=...)``. Heavy for big runs: compute it in the background.
sampler_fit = Declaration("sampler_fit", SamplerFitParams, _sampler_fit)
DECLARATIONS[sampler_fit.name] = sampler_fit


# -- 2-D maps: t-SNE and UMAP, the family the dashboard's map picker lists --------------------
def _umap(run, p: UmapParams, callback) -> dict:
    reduce_first = pca(run) if p.pca_components is not None else None
    return run_umap(zpoints(run), p, callback=callback, pca=reduce_first).to_arrays()


def _umap_result(stored: dict, p: UmapParams) -> UmapResult:
    return UmapResult.from_arrays(stored, {**asdict(p), "n_points": len(stored["ids"])})


#: A UMAP map (see :class:`analysis.umap_maps.UmapParams`), as :class:`analysis.umap_maps.UmapResult`
#: (embedding plus what :func:`map_point_to_z` needs to invert it).
umap = Declaration("umap", UmapParams, _umap, _umap_result)
DECLARATIONS[umap.name] = umap

#: Every kind of 2-D map (:data:`analysis.map_kinds.MAP_NAMES`), by kind.
MAPS = {kind: DECLARATIONS[kind] for kind in MAP_NAMES}


def map_label(kind: str, params: dict, n_mapped: int) -> str:
    """Short label of a map, e.g. "t-SNE after PCA-2 · 20,000 points · perplexity 30"."""
    if kind not in MAPS:
        raise ValueError(f"unknown map kind {kind!r}; choose one of {', '.join(MAPS)}")
    k = params.get("pca_components")
    details = [f"{int(n_mapped):,} points"]
    if kind == "tsne":
        details.append(f"perplexity {params['perplexity']:g}")
    else:
        details.append(f"{params['n_neighbors']} neighbours")
    return f"{MAP_NAMES[kind]} {f'after PCA-{k}' if k else 'raw z'} · " + " · ".join(details)


def available_maps(run, folder=None) -> list[dict[str, Any]]:
    """Every cached 2-D map of ``run`` (in ``folder`` if given, else the run's own cache).

    Returns
    -------
    list of dict
        ``kind`` (a key of :data:`MAPS`), ``params`` (pass to :func:`load_map`),
        ``label`` (see :func:`map_label`), ``n_points`` (points mapped) and
        ``invertible`` (a click on empty space can be decoded). Raw-z maps
        come first, then by PCA components (the seed compared raw z, then
        PCA-2/4/10); within one input t-SNE before UMAP, bigger maps first.
    """
    total = len(zpoints(run))
    found = []
    for kind, declaration in MAPS.items():
        for params in declaration.available(run, folder=folder):
            # A map asked for more points than the run has holds them all.
            n_mapped = total if params.get("n_points") is None else min(int(params["n_points"]), total)
            found.append(
                {
                    "kind": kind,
                    "params": params,
                    "label": map_label(kind, params, n_mapped),
                    "n_points": n_mapped,
                    "invertible": kind in INVERTIBLE_MAPS,
                }
            )
    order = list(MAPS)
    found.sort(key=lambda m: (m["params"].get("pca_components") or 0, order.index(m["kind"]), -m["n_points"]))
    return found


def load_map(run, kind: str, params: dict, folder=None) -> TsneResult | UmapResult | None:
    """The cached map of ``kind`` with ``params`` (as listed by :func:`available_maps`), or None; never computes.

    Both results have ``ids`` (rows of the run's z-points) and ``embedding``
    (float32, n x 2); a :class:`~analysis.umap_maps.UmapResult` also holds
    what :func:`map_point_to_z` needs.
    """
    if kind not in MAPS:
        raise ValueError(f"unknown map kind {kind!r}; choose one of {', '.join(MAPS)}")
    return MAPS[kind].read(run, folder=folder, **params)


def map_point_to_z(run, kind: str, params: dict, points, folder=None) -> tuple[np.ndarray, np.ndarray]:
    """The z decoded from 2-D points of a cached map, and whether each point lies inside the data's hull.

    Parameters
    ----------
    run : path-like
    kind, params : as listed by :func:`available_maps` (only invertible kinds).
    points : array_like, shape (m, 2) or (2,)
        Map coordinates, e.g. a click on empty space.
    folder : path-like, optional
        Where the map is cached (see :func:`analysis.cache.entry_folder`).

    Returns
    -------
    z : ndarray of float32, shape (m, z_dim)
        umap-learn's inverse (see :func:`analysis.umap_maps.inverse_transform`);
        a PCA-k map's inverse sets the other components to the mean.
    inside : ndarray of bool, shape (m,)
        False where the point is outside the map's convex hull: the z there is
        an extrapolation, not trustworthy.
    """
    if kind not in INVERTIBLE_MAPS:
        raise ValueError(f"{MAP_NAMES.get(kind, kind)} maps have no inverse; only {', '.join(INVERTIBLE_MAPS)} maps do")
    fit = load_map(run, kind, params, folder)
    if fit is None:
        raise ValueError(f"no cached {MAP_NAMES[kind]} map with these parameters; compute it first")
    k = fit.params["pca_components"]
    reduce_first = pca(run) if k is not None else None
    # The map's triangulation, graph and input rows are built once per process and map, not on every click.
    key = (str(Path(run).resolve()), rundir.zpoints_fingerprint(run), kind, str(sorted(params.items())), str(folder))
    inverse = inverse_map(key, lambda: InverseMap(fit, map_input(zpoints(run), fit.ids, k, reduce_first)))
    mapped = inverse.to_z(points)
    z = mapped if k is None else reduce_first.inverse_transform(mapped)
    return np.asarray(z, dtype=np.float32), inverse.inside(points)
