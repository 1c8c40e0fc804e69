"""Read-only access to the runs folder for the dashboard, memoised with flask-caching.

Every name that arrives from a browser (run, plane kind, axis, colour column,
sampler) is validated here against what exists before anything is read, and
request-driven work is bounded (``MAX_SAMPLES``, ``MAX_INLINE_KNN``). Arrays are
memoised in the flask cache under keys that include the run's fingerprint, so a
re-encoded or retrained run never serves stale data, and several gunicorn
workers share the work through the same cache folder (or Redis).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

import rundir
from app.decoder import DecoderService
from rundir.errors import ZspaceError

PLANE_KINDS = ("pca", "axis", "tsne")
BASE_COLOURS = ("none", "radius", "density", "lid")
#: How the base colourings are named in the colour picker.
BASE_COLOUR_LABELS = {
    "none": "nothing",
    "radius": "radius",
    "density": "local density",
    "lid": "local intrinsic dimension",
}
#: Most images one request may decode (sampling grid size).
MAX_SAMPLES = 64
#: Above this many points, local density / intrinsic dimension must come from `zspace analyze`.
MAX_INLINE_KNN = 20000
KNN_K = 20
#: Most points one request may put into a new t-SNE map (larger maps: `zspace analyze --tsne-n`).
MAX_TSNE_POINTS = 20000


def _stat_key(path: Path) -> str:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return "-"
    return f"{stat.st_size}.{stat.st_mtime_ns}"


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0


class RunStore:
    """The runs folder as the dashboard sees it: validated names in, cached arrays out.

    Parameters
    ----------
    runs_dir : path-like
        Folder holding one sub-folder per run.
    cache : flask_caching.Cache
        Where arrays are memoised.
    plane_budget : int
        Most points one plane figure shows before it switches to a density raster.
    """

    def __init__(self, runs_dir: str | os.PathLike, cache, plane_budget: int = 250_000):
        self.runs_dir = Path(runs_dir)
        self.cache = cache
        self.plane_budget = int(plane_budget)
        self.decoder = DecoderService()
        # Loaded metadata tables, per process (like the decoders): a click must not re-read a 200k-row parquet.
        self._frames: dict[tuple[str, str], object] = {}
        self._recent: dict[str, object] = {}
        self._frames_lock = threading.Lock()

    # -- runs -------------------------------------------------------------------------------
    def fingerprint(self, path: Path) -> str:
        """A string that changes whenever the run's config, z-points or decoder change."""
        return "|".join(_stat_key(path / name) for name in (rundir.CONFIG, rundir.ZPOINTS, rundir.DECODER))

    def _info(self, child: Path) -> dict:
        key = f"runinfo:{child.name}:{self.fingerprint(child)}:{_stat_key(child / rundir.STATUS)}"
        info = self.cache.get(key)
        if info is None:
            run = rundir.inspect_run(child)
            info = {
                "name": run.name,
                "label": run.label(),
                "usable": run.usable,
                "reason": run.reason,
                "state": run.state,
                "model": str(run.config.get("model", "")),
                "z_dim": run.z_dim,
                "n_points": run.n_points,
            }
            self.cache.set(key, info)
        return info

    def runs(self) -> list[dict]:
        """Every run of the folder as small JSON: name, label, usable, reason, model, z_dim, n_points."""
        out = []
        for child in sorted(self.runs_dir.iterdir()) if self.runs_dir.is_dir() else []:
            if child.name.startswith(".") or not child.is_dir():
                continue
            if (child / rundir.CONFIG).exists() or (child / rundir.STATUS).exists():
                out.append(self._info(child))
        return out

    def path(self, name) -> Path:
        """Resolve a run name from a browser to its folder; unusable or unknown runs raise ZspaceError."""
        path = rundir.resolve_run(self.runs_dir, name)
        if not ((path / rundir.CONFIG).exists() or (path / rundir.STATUS).exists()):
            raise ZspaceError(f"unknown run {name!r}")
        info = self._info(path)
        if not info["usable"]:
            raise ZspaceError(f"run {name} cannot be shown: {info['reason']}")
        return path

    def config(self, name) -> dict:
        """The run's config.json."""
        return rundir.read_config(self.path(name))

    def z(self, name) -> np.ndarray:
        """The run's z-points, memory-mapped (already checked finite when the run was listed)."""
        return rundir.load_zpoints(self.path(name), check_finite=False)

    def memo(self, name: str, what: str, compute):
        """Return ``compute()`` memoised under ``what`` and the run's fingerprint.

        Two tiers: a small in-process dict (a click must not deserialise the same
        arrays again) in front of the flask cache (shared by every worker).
        """
        key = f"{what}:{name}:{self.fingerprint(self.path(name))}"
        with self._frames_lock:
            if key in self._recent:
                return self._recent[key]
        value = self.cache.get(key)
        if value is None:
            value = compute()
            self.cache.set(key, value)
        with self._frames_lock:
            if len(self._recent) >= 32:
                self._recent.pop(next(iter(self._recent)))
            self._recent[key] = value
        return value

    # -- derived arrays ---------------------------------------------------------------------
    def pca(self, name):
        """The run's PCA (analysis.pca.PCAResult): the same cache entry `zspace analyze` writes."""
        from analysis import results
        from analysis.pca import PCAResult

        path = self.path(name)
        return PCAResult.from_arrays(self.memo(name, "pca", lambda: results.pca(path).to_arrays()))

    def histograms(self, name, bin_width: float) -> dict:
        """Per-axis histograms (``edges``, ``counts``) at ``bin_width``, shared with `zspace analyze`."""
        from analysis import results

        path = self.path(name)
        return self.memo(name, f"hist:{bin_width}", lambda: dict(results.histograms(path, bin_width)))

    def axis_summary(self, name, bin_width: float) -> list[dict]:
        """The per-axis summary table as JSON records (axis, mode, mean, fwhm, std, skew, flagged, reason)."""
        import json

        from analysis import results

        path = self.path(name)
        text = self.memo(
            name, f"summary:{bin_width}", lambda: results.axis_summary(path, bin_width).to_json(orient="records")
        )
        return json.loads(text)

    def radius_profile(self, name, bin_width: float) -> dict:
        """Radius histogram with its chi reference (``edges``, ``counts``, ``reference``)."""
        from analysis import results

        path = self.path(name)
        return self.memo(name, f"radius:{bin_width}", lambda: dict(results.radius_profile(path, bin_width)))

    def check_axes(self, name, kind, i, j) -> tuple[int, int]:
        """Validate a plane kind and two axis indices against the run; return them as ints."""
        if kind not in PLANE_KINDS:
            raise ZspaceError(f"unknown plane kind {kind!r}; choose one of {', '.join(PLANE_KINDS)}")
        try:
            i, j = int(i), int(j)
        except (TypeError, ValueError):
            raise ZspaceError("plane axes must be whole numbers") from None
        z_dim = int(self.config(name)["z_dim"])
        if kind != "tsne" and not (0 <= i < z_dim and 0 <= j < z_dim):
            raise ZspaceError(f"axes must be between 0 and {z_dim - 1}")
        return i, j

    def coords(self, name, kind, i, j) -> tuple[np.ndarray, np.ndarray]:
        """Return (ids, xy float32 N x 2) of the run's points on a plane (t-SNE: its mapped subset)."""
        from analysis.planes import plane_coords

        i, j = self.check_axes(name, kind, i, j)
        if kind == "tsne":
            tsne = self.tsne(name)
            if tsne is None:
                raise ZspaceError(f"no t-SNE map is cached for {name}; compute one below or run `zspace analyze`")
            return tsne["ids"], tsne["embedding"]

        def compute():
            pca = self.pca(name) if kind == "pca" else None
            return plane_coords(self.z(name), kind, i, j, pca=pca)

        xy = self.memo(name, f"coords:{kind}:{i}:{j}", compute)
        return np.arange(len(xy), dtype=np.int64), xy

    def tsne(self, name) -> dict | None:
        """The newest cached t-SNE map of the run (ids, embedding, params), or None; never computes one here."""
        from analysis.cache import entries, lookup

        path = self.path(name)
        found = entries(path, "tsne")
        found.sort(
            key=lambda e: _stat_key(path / rundir.ANALYSIS / f"tsne-{e.get('key')}.json").split(".")[-1], reverse=True
        )
        for entry in found:
            result = lookup(path, "tsne", entry["params"])
            if result is not None:
                return {
                    "ids": np.asarray(result["ids"]),
                    "embedding": np.asarray(result["embedding"]),
                    "params": entry["params"],
                }
        return None

    def compute_tsne(self, name, n_points: int, perplexity: float, pca_components: int | None, progress) -> dict:
        """Compute (or read) a t-SNE map of at most MAX_TSNE_POINTS points; ``progress(fraction, message)``."""
        from analysis import results

        if not 100 <= int(n_points) <= MAX_TSNE_POINTS:
            raise ZspaceError(f"t-SNE points must be between 100 and {MAX_TSNE_POINTS:,} per request")
        path = self.path(name)
        fit = results.tsne(
            path,
            n_points=int(n_points),
            pca_components=pca_components,
            perplexity=float(perplexity),
            callback=lambda fraction, message: progress(fraction, message) or True,
        )
        return {"backend": fit.backend, "seconds": float(fit.seconds), "n_points": int(len(fit.ids))}

    def radii(self, name) -> np.ndarray:
        """Euclidean norm of every z-point."""
        from analysis.radius import radii

        return self.memo(name, "radii", lambda: radii(self.z(name)).astype(np.float32))

    def metadata(self, name):
        """The run's metadata table (pandas), loaded once per process and run version."""
        path = self.path(name)
        key = (str(path), self.fingerprint(path) + _stat_key(path / rundir.METADATA))
        with self._frames_lock:
            if key not in self._frames:
                if len(self._frames) >= 8:  # a few runs at a time; drop the oldest
                    self._frames.pop(next(iter(self._frames)))
                self._frames[key] = rundir.load_metadata(path, int(self.z(name).shape[0]))
            return self._frames[key]

    def metadata_columns(self, name) -> list[str]:
        """Metadata columns that can colour a plane (numeric or boolean, beyond the bookkeeping ones)."""
        frame = self.metadata(name)
        skip = {"row", "id", "source", "split"}
        return [str(c) for c in frame.columns if c not in skip and (frame[c].dtype.kind in "biuf")]

    def metadata_row(self, name, row: int) -> dict:
        """One metadata row as JSON-able values."""
        frame = self.metadata(name)
        return {str(k): (v.item() if hasattr(v, "item") else v) for k, v in frame.iloc[int(row)].items()}

    def colour(self, name, by) -> tuple[np.ndarray | None, str]:
        """Per-point colour values for ``by`` (a base colour or a metadata column) and its label."""
        if by in (None, "none"):
            return None, ""
        if by == "radius":
            return self.radii(name), "radius |z|"
        if by in ("density", "lid"):
            return self._knn_colour(name, by)
        if by not in self.metadata_columns(name):
            raise ZspaceError(f"unknown colour {by!r}; choose none, radius, density, lid or a metadata column")
        values = self.memo(name, f"meta:{by}", lambda: self.metadata(name)[by].to_numpy(dtype=np.float32))
        return values, str(by)

    def _knn_colour(self, name, by) -> tuple[np.ndarray, str]:
        from analysis.cache import cached, lookup
        from analysis.structure import local_intrinsic_dimension, nn_distances

        path = self.path(name)
        params = {"k": KNN_K}
        entry = "app_lid" if by == "lid" else "app_density"
        found = lookup(path, entry, params)
        if found is None:
            n = int(self.z(name).shape[0])
            if n > MAX_INLINE_KNN:
                raise ZspaceError(
                    f"colouring by {by} is computed in the page only for runs of up to {MAX_INLINE_KNN:,} points "
                    f"({name} has {n:,}); colour by radius or a metadata column instead"
                )
            if by == "lid":
                found = cached(
                    path, entry, params, lambda: {"values": local_intrinsic_dimension(self.z(name), k=KNN_K)}
                )
            else:
                # Local density ~ 1 / (distance to the k-th neighbour)^z_dim is too steep to show; its log is.
                def density():
                    dist = nn_distances(self.z(name), k=KNN_K)[:, -1]
                    return {"values": -np.log(np.maximum(dist, 1e-12))}

                found = cached(path, entry, params, density)
        label = "local intrinsic dim." if by == "lid" else "log density (-log d_k)"
        return np.asarray(found["values"], dtype=np.float32), label

    # -- decoding ---------------------------------------------------------------------------
    def decode(self, name, z) -> np.ndarray:
        """Decode z-vectors (at most MAX_SAMPLES) with the run's decoder to uint8 images."""
        z = np.atleast_2d(np.asarray(z, dtype=np.float32))
        if len(z) > MAX_SAMPLES:
            raise ZspaceError(f"at most {MAX_SAMPLES} images per request")
        path = self.path(name)
        return self.decoder.decode(path, self.fingerprint(path), z)

    def nearest_distance(self, name, queries, exclude: int | None = None) -> np.ndarray:
        """Distance from each query to its nearest z-point (optionally not counting row ``exclude``)."""
        z = self.z(name)
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        sq_norms = self.memo(name, "sqnorm", lambda: np.einsum("ij,ij->i", z, z, dtype=np.float32))
        best = np.full(len(queries), np.inf, dtype=np.float32)
        # |a-b|^2 = |b|^2 - 2ab + |a|^2: one contiguous (chunk x d) @ (d x K) product per chunk; |a|^2 is added last.
        for start in range(0, len(z), 65536):
            block = z[start : start + 65536]
            d2 = sq_norms[start : start + len(block), None] - 2.0 * (block @ queries.T)
            if exclude is not None and start <= exclude < start + len(block):
                d2[exclude - start] = np.inf
            best = np.minimum(best, d2.min(axis=0))
        return np.sqrt(np.maximum(best + np.einsum("ij,ij->i", queries, queries), 0.0)).astype(np.float64)
