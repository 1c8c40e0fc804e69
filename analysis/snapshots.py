"""The latent space over training: structure numbers per snapshot and one PCA basis for every snapshot (cached).

A run trained with ``--snapshot-every`` holds the z-points of the same rows
after several epochs (:mod:`rundir.snapshots`). Two cached analyses read them:

* :data:`epoch_structure` — per epoch, the filament and void measures of the
  Structure view beside their Gaussian null (:func:`analysis.structure.structure_with_null`,
  the same rows measured every epoch) plus the radius, the active units and PC1's share;
* :data:`snapshot_pca` — a PCA fitted on the *last* snapshot, with every
  snapshot projected into it: between epochs the points move, not the axes.

:func:`epoch_curve` gathers the per-epoch numbers (and the training losses of
``history.csv``) into one table. Entries are keyed, like every analysis, by the
run's ``zpoints.npy``, which training rewrites whenever it ends, so snapshots
taken by a later (resumed) training never meet an older entry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import rundir
from analysis import radius, structure
from analysis.latent_usage import active_units
from analysis.pca import fit_pca
from analysis.results import Declaration
from analysis.sizes import QUICK
from rundir.snapshots import load_snapshot, load_snapshot_rows, snapshot_epochs

#: Principal components of the snapshots' common basis kept (the Planes view pairs any two of them).
PCA_COMPONENTS = 10
#: Training losses of ``history.csv`` that join the per-epoch table when the run logged them.
HISTORY_COLUMNS = ("loss", "reconstruction_loss", "kl_loss")


@dataclass(frozen=True)
class EpochStructureParams:
    """One snapshot's measures: its epoch, points drawn (the same rows each epoch), neighbours, probes, quantile, seed."""

    epoch: int
    n_points: int = QUICK["structure_n"]
    k: int = structure.LID_K
    n_probes: int = QUICK["probes"]
    quantile: float = structure.VOID_QUANTILE
    random_state: int = 0

    def __post_init__(self):
        for name in ("epoch", "n_points", "k", "n_probes", "random_state"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < (0 if name == "random_state" else 1):
                raise ValueError(f"{name} must be a positive whole number, got {value!r}")
            object.__setattr__(self, name, int(value))
        object.__setattr__(self, "quantile", float(self.quantile))


@dataclass(frozen=True)
class SnapshotPcaParams:
    """Leading components kept of the PCA fitted on the last snapshot."""

    components: int = PCA_COMPONENTS

    def __post_init__(self):
        if isinstance(self.components, bool) or int(self.components) != self.components or self.components < 2:
            raise ValueError(f"components must be a whole number >= 2, got {self.components!r}")
        object.__setattr__(self, "components", int(self.components))


def _snapshot(run, epoch: int) -> np.ndarray:
    if epoch not in snapshot_epochs(run):
        raise ValueError(f"run {Path(run).name} has no snapshot of epoch {epoch}")
    return np.asarray(load_snapshot(run, epoch), dtype=np.float32)


def _epoch_structure(run, p: EpochStructureParams, _callback) -> dict:
    z = _snapshot(run, p.epoch)
    # Every snapshot row is the reference cloud (a snapshot holds at most what --snapshot-n asked for).
    out = structure.structure_with_null(z, p.n_points, p.n_probes, p.k, p.quantile, None, p.random_state)
    r = radius.radii(z)
    ratio = fit_pca(z).explained_variance_ratio_
    out.update(epoch=p.epoch, radius_mean=float(np.mean(r)), radius_median=float(np.median(r)))
    out.update(active_units=active_units(z), pc1_share=float(ratio[0]), n_rows=len(z))
    return out


def _snapshot_pca(run, p: SnapshotPcaParams, _callback) -> dict:
    epochs = snapshot_epochs(run)
    if not epochs:
        raise ValueError(f"run {Path(run).name} has no snapshots; train it with --snapshot-every E")
    rows = load_snapshot_rows(run)
    fit = fit_pca(load_snapshot(run, epochs[-1], len(rows)))
    k = min(p.components, fit.n_components)
    coords = np.stack([fit.transform(load_snapshot(run, epoch, len(rows)), k) for epoch in epochs])
    return {
        "epochs": np.asarray(epochs, dtype=np.int64),
        "rows": rows,
        "coords": coords.astype(np.float32),
        "mean": fit.mean_,
        "components": fit.components_[:k],
        "explained_variance_ratio": fit.explained_variance_ratio_[:k],
    }


#: Per snapshot: the keys of :func:`analysis.structure.structure_with_null` plus ``epoch``,
#: ``radius_mean``, ``radius_median``, ``active_units``, ``pc1_share`` and ``n_rows``.
epoch_structure = Declaration("snapshot_structure", EpochStructureParams, _epoch_structure)
#: ``epochs`` (E,), ``rows`` (N,), ``coords`` (E, N, K float32: each snapshot's scores on the last
#: snapshot's leading K components), ``mean``, ``components`` (K, z_dim), ``explained_variance_ratio`` (K,).
snapshot_pca = Declaration("snapshot_pca", SnapshotPcaParams, _snapshot_pca)

#: Per-epoch numbers of :func:`epoch_curve` (besides ``epoch`` and the training losses).
CURVE_NUMBERS = tuple(
    f"{null}{name}{part}"
    for name in ("lid_median", *(f"void_{kind}" for kind in structure.PROBE_KINDS))
    for null, part in (("", ""), ("", "_lo"), ("", "_hi"), ("null_", ""))
)
CURVE_NUMBERS += ("nn_median", "radius_mean", "radius_median", "active_units", "pc1_share")


def epoch_curve(run: str | os.PathLike, compute: bool = True, **params) -> dict | None:
    """The structure numbers of every snapshot of ``run`` as one table, or None for a run without snapshots.

    Parameters
    ----------
    run : path-like
    compute : bool
        Compute missing epochs (and cache them); with False only cached epochs are read and a
        missing one is None in every column (what a view draws without waiting).
    **params
        Parameters of :data:`epoch_structure` besides ``epoch`` (default: ``zspace analyze --quick`` sizes).

    Returns
    -------
    dict or None
        ``epochs`` (list of int), one list per name of :data:`CURVE_NUMBERS` and per column of
        :data:`HISTORY_COLUMNS` the run logged (None where an epoch has no value), ``rows`` (the
        number of snapshot rows) and ``params`` (the measures' parameters).
    """
    epochs = snapshot_epochs(run)
    if not epochs:
        return None
    settings = epoch_structure.key(epochs[0], **params)[1]
    settings.pop("epoch")
    curve: dict = {"epochs": epochs, "rows": len(load_snapshot_rows(run)), "params": settings}
    found = [
        epoch_structure(run, epoch, **params) if compute else epoch_structure.read(run, epoch, **params)
        for epoch in epochs
    ]
    for name in CURVE_NUMBERS:
        curve[name] = [None if entry is None or not np.isfinite(entry[name]) else float(entry[name]) for entry in found]
    curve.update(_history_columns(run, epochs))
    return curve


def _history_columns(run, epochs: list[int]) -> dict[str, list]:
    import pandas as pd

    path = Path(run) / rundir.HISTORY
    try:
        history = pd.read_csv(path).drop_duplicates("epoch", keep="last").set_index("epoch")
    except (OSError, ValueError, KeyError, pd.errors.ParserError):
        return {}
    columns = {}
    for name in HISTORY_COLUMNS:
        if name in history.columns:
            values = pd.to_numeric(history[name], errors="coerce")
            columns[name] = [float(values[e]) if e in values.index and np.isfinite(values[e]) else None for e in epochs]
    return columns
