"""Planes through a run's z-space: which planes exist, where each point sits on one, and back to z.

Every view that draws or reads a plane (the Planes view, click-to-decode, paths,
neighbours, export) goes through here, so a plane kind is defined once. The
arithmetic is :mod:`analysis.planes` / :mod:`analysis.pca`; this module only
validates browser input and memoises through the run's handle
(:class:`app.store.RunHandle`; ``run.coords(plane)`` places its points on a plane).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass

import numpy as np

from analysis.map_kinds import INVERTIBLE_MAPS, MAP_NAMES
from analysis.planes import PlaneFrame
from app.memo import MemoKey
from app.store import RunHandle
from app.validate import NotOneOf, choice, whole
from rundir.errors import Refusal

log = logging.getLogger(__name__)

#: Plane kinds: a pair of principal components, a pair of original axes, a cached 2-D map (t-SNE, UMAP),
#: or an attribute direction (the class-mean difference of a metadata column) against PC1.
PLANE_KINDS = ("pca", "axis", "map", "attribute")
PLANE_LABELS = {
    "pca": "PCA pair",
    "axis": "axis pair",
    "map": "t-SNE / UMAP map",
    "attribute": "attribute direction × PC1 (x = attribute number)",
}


class NoMap(Refusal):
    """A map plane asked of a run that has no 2-D map."""

    template = "no t-SNE or UMAP map is computed for {run}: compute one below or run `zspace analyze`"


class NoAttributeDirection(Refusal):
    """An attribute plane of a column (or a run) that gives no direction."""

    template = "no attribute direction for {what}: {why}"


class NoWayBack(Refusal):
    """A click on empty space of a map that has no inverse (t-SNE)."""

    template = "empty space on a t-SNE map has no z: click a point, or use a PCA, axis or UMAP plane"


class SameAxes(Refusal):
    """A way back to z from a plane whose x and y are the same axis (it spans no plane)."""

    template = "x and y show the same axis, so the plane spans no plane: pick two different axes"


class UnitsUnavailable(Refusal):
    """Plane units the run cannot give (a constant plane axis has no standard deviation)."""

    template = "the plane cannot be shown in the units “{units}”: {why}"


#: Refusals of this module (the views that show them list these in their ``View.refusals``).
REFUSALS = (NoMap, NoAttributeDirection, NoWayBack, SameAxes, UnitsUnavailable)

#: Planes on which every spot maps back to one z (and any z projects exactly).
LINEAR_KINDS = ("pca", "axis", "attribute")
#: The units a linear plane is shown in (:data:`analysis.planes.UNITS`), as the plane's control names them.
UNITS_LABELS = {
    "z": "z units",
    "sd": "standardised (per-run whitening: 1 = one SD of the data)",
    "nn": "data's median nearest-neighbour distance",
}
#: Where the other coordinates of a z at an empty spot come from: the data point nearest to the spot on
#: the plane (the default: it keeps the data's own off-plane coordinates and radius), the data's mean, or
#: the point last clicked.
BASES = ("nearest", "mean", "selected")


@dataclass(frozen=True)
class Plane:
    """A validated plane: its kind, two axis indices (pca / axis), a map key (map) or a metadata column (attribute)."""

    kind: str
    i: int = 0
    j: int = 1
    map_key: str | None = None
    column: str | None = None
    units: str = "z"

    @property
    def linear(self) -> bool:
        """True when every spot of the plane maps back to one z (PCA, axis and attribute planes)."""
        return self.kind in LINEAR_KINDS

    @property
    def clickable(self) -> bool:
        """True when a click on empty space decodes a z: linear planes and invertible maps (UMAP)."""
        return self.linear or (self.kind == "map" and str(self.map_key).split("-")[0] in INVERTIBLE_MAPS)

    def key(self) -> str:
        """A short string that names the plane (for view state and cache keys)."""
        if self.kind == "map":
            return f"map:{self.map_key}"
        if self.kind == "attribute":
            return f"attribute:{self.column}" + self._units_suffix()
        return f"{self.kind}:{self.i}:{self.j}" + self._units_suffix()

    def _units_suffix(self) -> str:
        return "" if self.units == "z" else f":{self.units}"

    def in_z_units(self) -> Plane:
        """The same plane in z's own units (its raw coordinates)."""
        return Plane(self.kind, self.i, self.j, self.map_key, self.column)

    def points(self, run: RunHandle) -> tuple[np.ndarray, np.ndarray]:
        """(row ids, xy float32 N x 2) of ``run``'s points on this plane; what ``run.coords(plane)`` returns."""
        if self.kind == "map":
            from analysis import results

            entry = map_entry(run, self.map_key)
            if entry["invertible"]:
                warm_map_inverse()
            stored = run.result(results.MAPS[entry["kind"]], **entry["params"])
            return np.asarray(stored.ids), np.asarray(stored.embedding, dtype=np.float32)
        if self.units == "z":
            xy = run.memo(MemoKey.coords(self.key()), lambda: _linear_coords(run, self))
        else:
            xy = run.memo(MemoKey.coords(self.key()), lambda: _coords_in_units(run, self))
        return np.arange(len(xy), dtype=np.int64), xy


def raw_coords(run: RunHandle, where: Plane) -> np.ndarray:
    """Every point's coordinates on a linear plane in z units (memoised)."""
    raw = where.in_z_units()
    return run.memo(MemoKey.coords(raw.key()), lambda: _linear_coords(run, raw))


def _coords_in_units(run: RunHandle, where: Plane) -> np.ndarray:
    return frame(run, where).shown_of_raw(raw_coords(run, where)).astype(np.float32)


def _linear_coords(run: RunHandle, where: Plane) -> np.ndarray:
    if where.kind == "attribute":
        from analysis.walks import scores

        origin, basis = attribute_basis(run, where.column)
        return scores(run.z(), basis, origin).astype(np.float32)
    from analysis.planes import plane_coords

    fit = pca(run) if where.kind == "pca" else None
    return plane_coords(run.z(), where.kind, where.i, where.j, pca=fit)


def plane(run: RunHandle, kind, i=0, j=1, map_key=None, units="z") -> Plane:
    """Validate a plane chosen in the browser against the run (a map is always in its own units)."""
    kind = choice(kind, "plane kind", PLANE_KINDS)
    units = "z" if units is None else choice(units, "plane units", tuple(UNITS_LABELS))
    if kind == "map":
        if not map_key:
            raise NoMap(run=run.name)
        choice(map_key, "map", [m["key"] for m in maps(run)])
        return Plane("map", map_key=str(map_key))
    if kind == "attribute":
        columns = attribute_columns(run)
        if not columns:
            raise NoAttributeDirection(what=run.name, why="its metadata has no numeric column")
        index = whole(i, "attribute number (x)", 0, len(columns) - 1)
        return Plane("attribute", i=index, j=0, column=columns[index], units=units)
    return Plane(kind, whole(i, "x axis", 0, run.z_dim - 1), whole(j, "y axis", 0, run.z_dim - 1), units=units)


def _map_key(kind: str, params: dict) -> str:
    text = json.dumps({"kind": kind, **params}, sort_keys=True)
    return f"{kind}-{hashlib.blake2b(text.encode(), digest_size=6).hexdigest()}"


def maps(run: RunHandle) -> list[dict]:
    """Every cached 2-D map of the run (from ``zspace analyze`` or computed in the page): key, kind, params, label.

    Listed as :func:`analysis.results.available_maps` orders them (raw z first,
    then after PCA-2 / 4 / 10, as the seed compared them), from every cache folder of the run.
    """
    from analysis import results

    with run.cache_scope():
        return [
            {**entry, "key": _map_key(entry["kind"], entry["params"])} for entry in results.available_maps(run.folder)
        ]


def map_entry(run: RunHandle, map_key: str) -> dict:
    """The listed map with this key (ZspaceError when it is not one of the run's maps)."""
    listed = maps(run)
    for entry in listed:
        if entry["key"] == map_key:
            return entry
    raise NotOneOf(name="map", shown=", ".join(m["key"] for m in listed) or "none computed")


def pca(run: RunHandle):
    """The run's PCA (analysis.pca.PCAResult), the same cache entry `zspace analyze` writes."""
    from analysis import results

    return run.result(results.pca)


def attribute_columns(run: RunHandle) -> list[str]:
    """The metadata columns an attribute direction can be taken from (every numeric one), in table order."""
    return run.metadata_columns()


def attribute_direction(run: RunHandle, column) -> dict:
    """The class-mean direction of a metadata column (:func:`analysis.walks.attribute_direction`), memoised."""
    column = str(choice(column, "attribute", attribute_columns(run)))

    def compute():
        from analysis.walks import attribute_direction as fit

        try:
            return fit(run.z(), run.column(column))
        except ValueError as exc:  # a constant column, or classes with the same mean
            raise NoAttributeDirection(what=column, why=exc) from None

    return run.memo(MemoKey.direction(column), compute)


def attribute_basis(run: RunHandle, column) -> tuple[np.ndarray, np.ndarray]:
    """(origin, basis 2 x d) of the plane "attribute direction x PC1": the data mean, the direction, PC1 made orthogonal."""
    from analysis.walks import plane_basis

    fit = pca(run)
    try:
        basis = plane_basis(attribute_direction(run, column)["unit"], fit.components_)
    except ValueError as exc:
        raise NoAttributeDirection(what=column, why=exc) from None
    return np.asarray(fit.mean_, dtype=np.float64), basis


_WARM_STARTED = threading.Event()


def warm_map_inverse() -> None:
    """Compile UMAP's inverse (numba) in a background thread, once per process, when a UMAP map is first shown.

    Compiling takes about a minute of CPU on 2 cores; done at start for every
    server it would tax runs that have no UMAP map, done on the first click it
    would make that click wait.
    """
    if _WARM_STARTED.is_set():
        return
    _WARM_STARTED.set()

    def work():
        from analysis.umap_inverse import warm_up

        try:
            warm_up()
        except Exception:  # a failed warm-up only means the first click compiles instead
            log.warning("warming UMAP's inverse failed", exc_info=True)

    threading.Thread(target=work, name="zspace-umap-warm-up", daemon=True).start()


def map_to_z(run: RunHandle, where: Plane, x: float, y: float) -> tuple[np.ndarray, bool]:
    """The z at an empty spot (x, y) of an invertible map (UMAP), and whether the spot is inside the data's hull."""
    from analysis import results

    entry = map_entry(run, where.map_key)
    if not entry["invertible"]:
        raise NoWayBack()
    with run.cache_scope():
        if results.load_map(run.folder, entry["kind"], entry["params"]) is None:  # dropped since it was listed
            raise NotOneOf(name="map", shown=", ".join(m["key"] for m in maps(run)) or "none computed")
        z, inside = results.map_point_to_z(run.folder, entry["kind"], entry["params"], [[x, y]])
    return np.asarray(z[0], dtype=np.float32), bool(inside[0])


def frame(run: RunHandle, where: Plane) -> PlaneFrame:
    """The arithmetic of a linear plane of ``run`` (origin, orthonormal basis, units)."""
    if not where.linear:
        raise ValueError("only linear planes (PCA, axis, attribute) have a frame; a map places data points only")
    if where.kind == "attribute":
        origin, basis = attribute_basis(run, where.column)
    elif where.kind == "pca":
        fit = pca(run)
        origin, basis = np.asarray(fit.mean_, dtype=np.float64), np.asarray(fit.components_[[where.i, where.j]])
    else:
        origin, basis = np.zeros(run.z_dim), np.eye(run.z_dim)[[where.i, where.j]]
    offset, scale = units_of(run, where)
    return PlaneFrame(origin, np.asarray(basis, dtype=np.float64), offset, scale)


def units_of(run: RunHandle, where: Plane) -> tuple[np.ndarray, np.ndarray]:
    """(offset, scale) of the plane's units (:func:`analysis.planes.unit_scale`)."""
    from analysis.planes import unit_scale

    if where.units == "z":
        return np.zeros(2), np.ones(2)
    median = None
    if where.units == "nn":
        from app.data_reference import nn_reference

        reference = nn_reference(run)
        if reference is None:
            raise UnitsUnavailable(units=UNITS_LABELS["nn"], why=f"run `zspace analyze {run.name}` first (a large run)")
        median = float(reference["median"])
    try:
        return unit_scale(raw_coords(run, where), where.units, median)
    except ValueError as exc:
        raise UnitsUnavailable(units=UNITS_LABELS[where.units], why=exc) from None


def z_at(run: RunHandle, where: Plane, targets, base="nearest") -> tuple[np.ndarray, np.ndarray | None]:
    """The full z at each plane position: its two plane coordinates set, the others taken from ``base``.

    Parameters
    ----------
    targets : array_like, shape (M, 2)
        Positions in the plane's units.
    base : "nearest", "mean" or int
        The data point nearest to each position on the plane, the data's mean, or one data row.

    Returns
    -------
    z : ndarray of float32, shape (M, z_dim)
    rows : ndarray of int64, shape (M,), or None
        The data row each z's other coordinates come from (None for the mean).
    """
    from analysis.lattice import moved_onto_plane, nearest_on_plane

    if where.kind in ("pca", "axis") and where.i == where.j:
        raise SameAxes()
    targets = np.atleast_2d(np.asarray(targets, dtype=np.float64))
    found = frame(run, where)
    if isinstance(base, str) and base == "mean":
        rows, base_z = None, np.asarray(pca(run).mean_, dtype=np.float64)
    else:
        ids_, xy = run.coords(where)
        rows = ids_[nearest_on_plane(xy, targets)] if base == "nearest" else np.full(len(targets), int(base))
        base_z = np.asarray(run.z()[rows], dtype=np.float64)
    z = moved_onto_plane(base_z, found.shown(base_z), targets, found.directions)
    return z.astype(np.float32), rows


def to_z(run: RunHandle, where: Plane, x: float, y: float, base_row: int | None = None) -> np.ndarray:
    """The z at plane point (x, y): other coordinates at the mean, or at data row ``base_row``."""
    if not where.linear:
        raise ValueError("to_z takes a linear plane (PCA, axis, attribute); a UMAP map's way back is map_to_z")
    return z_at(run, where, [[x, y]], "mean" if base_row is None else int(base_row))[0][0]


def project(run: RunHandle, where: Plane, z: np.ndarray) -> np.ndarray:
    """Plane coordinates (K x 2) of arbitrary z-vectors on a linear plane, in its units."""
    return frame(run, where).shown(z).astype(np.float32)


def axis_label(run: RunHandle, where: Plane, which: int) -> str:
    """The x (``which`` 0) or y (1) axis title of a plane."""
    if where.kind == "map":
        kind = map_entry(run, where.map_key)["kind"]
        return f"{MAP_NAMES.get(kind, kind)} {which + 1}"
    if where.kind == "attribute":
        if which == 1:
            return "PC 1 (⊥ the direction)" + units_label(run, where)
        found = attribute_direction(run, where.column)
        return (
            f"{where.column}: {found['low_label']} → {found['high_label']} (class means {found['distance']:.3g} apart)"
            + units_label(run, where)
        )
    index = where.i if which == 0 else where.j
    if where.kind == "axis":
        return f"z[{index}]" + units_label(run, where)
    ratio = pca(run).explained_variance_ratio_
    share = f" ({100 * float(ratio[index]):.1f}% var.)" if index < len(ratio) else ""
    return f"PC {index + 1}{share}" + units_label(run, where)


def units_label(run: RunHandle, where: Plane) -> str:
    """What an axis title adds to say the plane's units ("" in z units)."""
    if where.units == "sd":
        return " · in SDs of the data (whitened)"
    if where.units == "nn":
        scale = float(units_of(run, where)[1][0])
        return f" · in median NN distances (1 = {scale:.3g} in z)"
    return ""
