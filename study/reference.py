"""Per run, computed once and cached: what decoded images are measured against.

* ``n_reference`` training images (random rows): the real set of the realism
  balls and of the eigenfaces (their features are stored in the cache entry,
  so scoring a sample never reopens the data source).
* ``n_calibration`` other data z-points, decoded: the thresholds of the
  meaningful verdict (:func:`analysis.meaningful.thresholds`), the scale of
  the relative measures, and the raw material of the known non-faces
  (:func:`known_negatives`) that choose the face space.
* ``n_comparison`` other data z-points, decoded: the set every sampler's
  decodes are compared with at equal size (precision, recall, diversity, the
  two-sample AUC: :mod:`analysis.coverage`).
* The remaining rows (``pool``): held-out data points, the "data" row of the
  rate table and the positives of the validation.

The parts are disjoint, so no decoded data point is compared with its own
original. Nothing here looks at any sampler: the thresholds are fixed from
decoded data and from non-faces made without a model before the first
sampler is scored (tests/study/test_measures.py checks they are identical
whether or not any sampler's decodes exist).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

import rundir
from analysis import coverage, meaningful
from analysis.results import Declaration
from rundir.errors import ZspaceError
from study.codec import load_codec, to_uint8
from study.originals import training_images as training_images  # re-exported: the real set's reader

#: Part of the cache names of the reference and the rate rows: bump it when a measure changes,
#: so entries computed by the old code are not read (the cache key knows parameters and z-points only).
MEASURES_VERSION = 2
#: Training images of the real set.
N_REFERENCE = 1000
#: Decoded data points the thresholds are calibrated on.
N_CALIBRATION = 512
#: Decoded data points the coverage measures compare a sampler's decodes with (the first n of them for n samples).
N_COMPARISON = 512
#: Known non-faces of each kind that choose the face space and measure the verdict's specificity.
N_NEGATIVES = 128
#: Kinds of known non-faces (see :func:`known_negatives`).
NEGATIVE_KINDS = ("noise", "blobs", "tiles", "blend")
#: Measures reported as a ratio to their median over the decoded calibration points.
RELATIVE = ("dffs", "reencode")


@dataclass(frozen=True)
class ReferenceParams:
    """Sizes of the real, calibration and comparison sets, and the seed of their rows."""

    n_reference: int = N_REFERENCE
    n_calibration: int = N_CALIBRATION
    n_comparison: int = N_COMPARISON
    seed: int = 0

    def __post_init__(self):
        for name in ("n_reference", "n_calibration", "n_comparison", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < (0 if name == "seed" else 4):
                raise ValueError(f"{name} must be a whole number >= {0 if name == 'seed' else 4}, got {value!r}")
            object.__setattr__(self, name, int(value))


def split_rows(n_points: int, p: ReferenceParams) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Disjoint (reference, calibration, comparison, pool) rows of a run with ``n_points`` z-points, each sorted.

    Small runs give each part at most a quarter of the points, so every part exists.
    """
    if n_points < 16:
        raise ZspaceError(f"the run has {n_points} z-points; scoring samples needs at least 16")
    order = np.random.default_rng([p.seed, 0x5EF]).permutation(n_points)
    sizes = [min(n, n_points // 4) for n in (p.n_reference, p.n_calibration, p.n_comparison)]
    ends = np.cumsum([0, *sizes])
    parts = [np.sort(order[a:b]) for a, b in zip(ends[:-1], ends[1:], strict=True)]
    return parts[0], parts[1], parts[2], np.sort(order[ends[-1] :])


def known_negatives(kind: str, decoded, n: int, random_state=0) -> np.ndarray:
    """``n`` uint8 images that are no face, made without any sampler, in the decoder's own style.

    Parameters
    ----------
    kind : {"noise", "blobs", "tiles", "blend"}
        ``noise``: independent uniform pixels; ``blobs``: 4 x 4 random colours,
        enlarged; ``tiles``: a decoded data point cut into 4 x 4 tiles and
        shuffled (its colours and parts, in the wrong places); ``blend``: the
        average of two decoded data points (a double exposure).
    decoded : array_like, shape (M, S, S, 3)
        Decoded data points (uint8 or float in [0, 1]); tiles and blends are made of them.
    n : int
    random_state : int

    Returns
    -------
    ndarray of uint8, shape (n, S, S, 3)
    """
    images = images_uint8(decoded)
    size = images.shape[1]
    gen = np.random.default_rng([int(random_state), NEGATIVE_KINDS.index(kind) if kind in NEGATIVE_KINDS else 99])
    if kind == "noise":
        return gen.integers(0, 256, (n, size, size, 3)).astype(np.uint8)
    if kind == "blobs":
        cells = gen.integers(0, 256, (n, 4, 4, 3)).astype(np.uint8)
        return np.repeat(np.repeat(cells, -(-size // 4), axis=1), -(-size // 4), axis=2)[:, :size, :size]
    if kind == "tiles":
        side = size // 4
        source = images[gen.integers(0, len(images), n), : 4 * side, : 4 * side]
        tiles = source.reshape(n, 4, side, 4, side, 3).transpose(0, 1, 3, 2, 4, 5).reshape(n, 16, side, side, 3)
        order = np.argsort(gen.random((n, 16)), axis=1)
        shuffled = np.take_along_axis(tiles, order[:, :, None, None, None], axis=1)
        out = images[:n].copy() if len(images) >= n else np.zeros((n, size, size, 3), np.uint8)
        out[:, : 4 * side, : 4 * side] = (
            shuffled.reshape(n, 4, 4, side, side, 3).transpose(0, 1, 3, 2, 4, 5).reshape(n, 4 * side, 4 * side, 3)
        )
        return out
    if kind == "blend":
        pairs = np.stack([gen.permutation(len(images))[:2] for _ in range(n)]) if len(images) >= 2 else None
        if pairs is None:
            raise ValueError("a blend needs at least 2 decoded images")
        mixed = (images[pairs[:, 0]].astype(np.float32) + images[pairs[:, 1]].astype(np.float32)) / 2
        return np.rint(mixed).astype(np.uint8)
    raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(NEGATIVE_KINDS)}")


def raw_scores(ref: dict, codec, z, images: np.ndarray) -> dict:
    """Scores of ``images`` before calibration; ``reencode`` (the distance |E(D(z)) - z|) only when ``z`` is given."""
    feats = meaningful.image_features(images)
    out = {
        "realism": meaningful.realism(feats, ref["features"], ref["radii"]),
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
    ref_rows, cal_rows, cmp_rows, pool_rows = split_rows(len(z), p)
    images, ref_rows, skipped = training_images(run, ref_rows)
    features = meaningful.image_features(images)
    ref = {
        "ref_rows": ref_rows,
        "cal_rows": cal_rows,
        "cmp_rows": cmp_rows,
        "pool_rows": pool_rows,
        "features": features,
        "radii": coverage.radii(features),
        # Originals that could not be loaded are left out of the real set; the report says how many and why.
        "skipped_originals": len(skipped),
        "skipped_note": "; ".join(skipped[:3]) + ("; …" if len(skipped) > 3 else ""),
    }
    codec = load_codec(run)
    # An AE has no prior and nothing collapses: every axis counts (see analysis.meaningful, ``reencode``).
    ref["active"] = meaningful.active_units(z) if codec.variational else np.ones(z.shape[1], dtype=bool)
    cal_z = np.asarray(z[cal_rows], dtype=np.float32)
    cal_images = to_uint8(codec.decode(cal_z))
    negatives = {kind: known_negatives(kind, cal_images, N_NEGATIVES, p.seed) for kind in NEGATIVE_KINDS}
    # The face space that best tells decoded data from the known non-faces (no sampler is looked at).
    chosen = meaningful.choose_face_space(
        features,
        meaningful.image_features(cal_images),
        {kind: meaningful.image_features(images) for kind, images in negatives.items()},
    )
    ref["face_mean"], ref["face_basis"] = chosen["mean"], chosen["basis"]
    ref["face_space_variance"] = chosen["variance"]
    ref["face_space_grid"] = np.array(sorted(chosen["auc"]))
    ref["face_space_auc"] = np.array([chosen["auc"][v] for v in sorted(chosen["auc"])])
    cal = raw_scores(ref, codec, cal_z, cal_images)
    # Ratios to the typical decoded data point (1.0), so a table reads the same for every model.
    for name in RELATIVE:
        ref[f"{name}_scale"] = float(max(np.median(cal[name]), 1e-12))
        cal[name] = cal[name] / ref[f"{name}_scale"]
    for name, value in meaningful.thresholds(cal).items():
        ref[f"threshold_{name}"] = value
    for name, values in cal.items():
        ref[f"calibration_{name}"] = values
    # The verdict on the known non-faces: its specificity, measured before any sampler.
    for kind, images in negatives.items():
        ref[f"negative_margin_{kind}"] = score(ref, codec, None, images)["margin"]
    ref["comparison_features"] = meaningful.image_features(to_uint8(codec.decode(np.asarray(z[cmp_rows], np.float32))))
    return ref


#: The cached reference of a run (see the module notes). Keys: ``ref_rows``, ``cal_rows``, ``cmp_rows``,
#: ``pool_rows``, ``features`` (of the real set), ``radii``, ``face_mean`` and ``face_basis`` (the eigenfaces),
#: ``face_space_variance`` (the chosen share) with ``face_space_grid`` / ``face_space_auc`` (each share's mean
#: AUC against the known non-faces), ``active`` (axes the re-encoding distance runs over), ``dffs_scale``,
#: ``reencode_scale``, ``skipped_originals`` and ``skipped_note`` (reference rows whose original could not be
#: loaded), ``threshold_<measure>`` and ``calibration_<measure>`` for each measure of
#: :data:`analysis.meaningful.MEASURES`, ``negative_margin_<kind>`` (the verdict's margin on each kind of
#: :data:`NEGATIVE_KINDS`) and ``comparison_features`` (the decoded comparison set).
reference = Declaration(f"meaningful_reference.v{MEASURES_VERSION}", ReferenceParams, _compute)


def limits(ref: dict) -> dict:
    """The verdict thresholds of a reference, measure -> value."""
    return {name: float(ref[f"threshold_{name}"]) for name in meaningful.MEASURES}


def score(ref: dict, codec, z, images) -> dict:
    """Calibrated scores of decoded ``images`` of ``z``: each measure, ``margin``, ``meaningful`` and ``consistent``.

    ``dffs`` and ``reencode`` are ratios to a typical decoded data point (1.0);
    ``realism`` >= 1 means inside the real manifold; ``margin`` >= 0 exactly when ``meaningful``
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
