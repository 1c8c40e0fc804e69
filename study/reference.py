"""Per run, computed once and cached: what decoded images are measured against.

* ``n_reference`` training images (random rows): the real set of the
  precision/recall balls and of the pixel nearest-neighbour distance. Their
  uint8 pixels are stored in the cache entry (1,000 x 64 x 64 x 3 = 12 MB), so
  scoring a sample never reopens the data source.
* ``n_calibration`` other data z-points, decoded: the thresholds of the
  meaningful verdict (:func:`analysis.meaningful.thresholds`) and the scale
  of the re-encoding distance.
* The remaining rows (``pool``): held-out data points, the "data" row of the
  rate table and the positives of the validation.

Reference, calibration and pool rows are disjoint, so no decoded data point is
compared with its own original: a reconstruction is judged as a random sample
is, which can never have a twin among the training images.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import rundir
from analysis import meaningful
from analysis.results import Declaration
from analysis.structure import knn
from rundir.errors import ZspaceError
from study.codec import load_codec, to_uint8

#: Part of the cache names of the reference and the rate rows: bump it when a measure changes,
#: so entries computed by the old code are not read (the cache key knows parameters and z-points only).
MEASURES_VERSION = 1
#: Training images of the real set (subsampled: the pixel NN search is O(n_reference * pixels) per sample).
N_REFERENCE = 1000
#: Decoded data points the thresholds are calibrated on.
N_CALIBRATION = 512
#: Measures reported as a ratio to their median over the decoded calibration points.
RELATIVE = ("dffs", "reencode")
#: Reference images whose own nearest-neighbour distance sets the pixel scale (a subsample; a median is stable).
N_PIXEL_SCALE = 500


@dataclass(frozen=True)
class ReferenceParams:
    """Sizes of the real set and the calibration set, and the seed of their rows."""

    n_reference: int = N_REFERENCE
    n_calibration: int = N_CALIBRATION
    seed: int = 0

    def __post_init__(self):
        for name in ("n_reference", "n_calibration", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < (0 if name == "seed" else 4):
                raise ValueError(f"{name} must be a whole number >= {0 if name == 'seed' else 4}, got {value!r}")
            object.__setattr__(self, name, int(value))


def split_rows(n_points: int, p: ReferenceParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Disjoint (reference, calibration, pool) rows of a run with ``n_points`` z-points, each sorted.

    Small runs give each part at most a third of the points, so every part exists.
    """
    if n_points < 12:
        raise ZspaceError(f"the run has {n_points} z-points; scoring samples needs at least 12")
    order = np.random.default_rng([p.seed, 0x5EF]).permutation(n_points)
    n_ref = min(p.n_reference, n_points // 3)
    n_cal = min(p.n_calibration, n_points // 3)
    return np.sort(order[:n_ref]), np.sort(order[n_ref : n_ref + n_cal]), np.sort(order[n_ref + n_cal :])


def training_images(run: str | os.PathLike, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """uint8 training images of z-point rows, read through the run's metadata, skipping originals that cannot be read.

    Returns
    -------
    images : ndarray of uint8, shape (k, S, S, 3)
    kept : ndarray of int64, shape (k,)
        The rows the images belong to (``rows`` less the skipped ones).
    skipped : list of str
        One note per row whose ``source`` could not be loaded (a moved file, or a value
        that is no image of the data source); the page shows that row fine, only its original is missing.

    Raises
    ------
    ZspaceError
        When fewer than half of the originals can be read (the data moved): the image measures need them.
    """
    from models.data import faces, load_original_image

    run = Path(run)
    rows = np.asarray(rows, dtype=np.int64)
    config = rundir.read_config(run)
    size = int(config["image_size"])
    sources = rundir.load_metadata(run)["source"].to_numpy()[rows]
    parts = [str(s).split(":") for s in sources]
    if parts and all(len(p) == 3 and p[0] == "synthetic" and p[1].isdigit() and p[2].isdigit() for p in parts):
        # Procedural faces render in batches far faster than one by one.
        seeds = {p[1] for p in parts}
        if len(seeds) == 1:
            return faces.render_faces(int(seeds.pop()), np.array([int(p[2]) for p in parts]), size), rows, []
    spec = config.get("data")
    if not isinstance(spec, str):
        raise ZspaceError(f"run {run.name} names no data source; the image measures need its training images")
    out = np.empty((len(sources), size, size, 3), dtype=np.uint8)
    kept, skipped = [], []
    for i, source in enumerate(sources):
        try:
            image = load_original_image(spec, str(source), size)
            problem = "can no longer be read"
        except ZspaceError as exc:  # e.g. a source value that leaves the dataset folder
            image, problem = None, str(exc)
        if image is None:
            skipped.append(f"row {rows[i]}: {problem}"[:200])
            continue
        out[len(kept)] = image
        kept.append(i)
    if 2 * len(kept) < len(sources):
        first = f" (first: {skipped[0]})" if skipped else ""
        raise ZspaceError(
            f"only {len(kept)} of {len(sources)} training images of run {run.name} can be read ({spec}){first}"
        )
    return out[: len(kept)], rows[kept], skipped


def raw_scores(ref: dict, codec, z, images: np.ndarray) -> dict:
    """Scores of ``images`` before calibration; ``reencode`` (the distance |E(D(z)) - z|) only when ``z`` is given."""
    feats = meaningful.image_features(images)
    out = {
        "realism": meaningful.realism(feats, ref["features"], ref["radii"]),
        "pixel_nn": meaningful.nearest_ratio(
            meaningful.pixel_vectors(images), meaningful.pixel_vectors(ref["images"]), ref["pixel_scale"]
        ),
        "dffs": meaningful.distance_from_face_space(feats, ref["face_mean"], ref["face_basis"]),
    }
    if z is not None:
        moved = codec.encode(images_uint8(images)).astype(np.float64) - np.asarray(z, dtype=np.float64)
        out["reencode"] = np.linalg.norm(moved[:, np.asarray(ref["active"], dtype=bool)], axis=1)
    return out


def images_uint8(images) -> np.ndarray:
    """Decoded float images as uint8 (what the encoder is fed; no-op for uint8)."""
    arr = np.asarray(images)
    return arr if arr.dtype == np.uint8 else to_uint8(arr)


def _compute(run, p: ReferenceParams, _callback) -> dict:
    run = Path(run)
    z = rundir.load_zpoints(run)
    ref_rows, cal_rows, pool_rows = split_rows(len(z), p)
    images, ref_rows, skipped = training_images(run, ref_rows)
    features = meaningful.image_features(images)
    pixels = meaningful.pixel_vectors(images)
    scale_rows = np.random.default_rng([p.seed, 0xCA1]).permutation(len(ref_rows))[:N_PIXEL_SCALE]
    # k=2 against the whole set: the first neighbour of a reference image is itself.
    own = knn(pixels, pixels[scale_rows], k=2)[0][:, 1]
    ref = {
        "ref_rows": ref_rows,
        "cal_rows": cal_rows,
        "pool_rows": pool_rows,
        "images": images,
        "features": features,
        "radii": meaningful.knn_radii(features),
        "pixel_scale": float(np.median(own)),
        # Originals that could not be loaded are left out of the real set; the report says how many and why.
        "skipped_originals": len(skipped),
        "skipped_note": "; ".join(skipped[:3]) + ("; …" if len(skipped) > 3 else ""),
    }
    ref["face_mean"], ref["face_basis"] = meaningful.face_space(features)
    codec = load_codec(run)
    # An AE has no prior and nothing collapses: every axis counts (see analysis.meaningful, ``reencode``).
    ref["active"] = meaningful.active_units(z) if codec.variational else np.ones(z.shape[1], dtype=bool)
    cal_z = np.asarray(z[cal_rows], dtype=np.float32)
    cal = raw_scores(ref, codec, cal_z, codec.decode(cal_z))
    # Ratios to the typical decoded data point (1.0), so a table reads the same for every model.
    for name in RELATIVE:
        ref[f"{name}_scale"] = float(max(np.median(cal[name]), 1e-12))
        cal[name] = cal[name] / ref[f"{name}_scale"]
    for name, value in meaningful.thresholds(cal).items():
        ref[f"threshold_{name}"] = value
    for name, values in cal.items():
        ref[f"calibration_{name}"] = values
    return ref


#: The cached reference of a run (see the module notes). Keys: ``ref_rows``, ``cal_rows``, ``pool_rows``,
#: ``images`` (uint8 reference images), ``features``, ``radii``, ``pixel_scale``, ``face_mean`` and
#: ``face_basis`` (the eigenfaces), ``active`` (axes the re-encoding distance runs over), ``dffs_scale``,
#: ``reencode_scale``, ``skipped_originals`` and ``skipped_note`` (reference rows whose original could not be loaded),
#: ``threshold_<measure>`` and ``calibration_<measure>`` for each measure of :data:`analysis.meaningful.MEASURES`.
reference = Declaration(f"meaningful_reference.v{MEASURES_VERSION}", ReferenceParams, _compute)


def limits(ref: dict) -> dict:
    """The verdict thresholds of a reference, measure -> value."""
    return {name: float(ref[f"threshold_{name}"]) for name in meaningful.MEASURES}


def score(ref: dict, codec, z, images) -> dict:
    """Calibrated scores of decoded ``images`` of ``z``: each measure, ``margin``, ``meaningful`` and ``consistent``.

    ``dffs`` and ``reencode`` are ratios to a typical decoded data point (1.0),
    ``pixel_nn`` to the training images' own neighbour distance; ``realism`` >= 1
    means inside the real manifold; ``margin`` >= 0 exactly when ``meaningful``
    (the image measures pass); ``consistent``: the re-encoding distance passes too.
    With ``z`` None (an image that no z made, e.g. noise) ``reencode`` and ``consistent`` are left out.
    """
    out = raw_scores(ref, codec, z, images)
    for name in RELATIVE:
        if name in out:
            out[name] = out[name] / float(ref[f"{name}_scale"])
    out["margin"] = meaningful.margin(out, limits(ref))
    out["meaningful"] = out["margin"] >= 0
    if z is not None:
        out["consistent"] = meaningful.verdict(out, limits(ref), ("reencode",))
    return out
