"""Is a decoded image "meaningful"? Measures, a verdict calibrated on decoded data points, and a rate.

The seed calls a z-point meaningful when the decoder makes a recognisable face
of it. Every measure here compares with what the *same* decoder makes of
*data* z-points, so an AE and a VAE are judged by one rule although their
reconstructions differ in sharpness. Two look at the image D(z):

``realism``
    Kynkäänniemi, Karras, Laine, Lehtinen & Aila, "Improved Precision and
    Recall Metric for Assessing Generative Models" (NeurIPS 2019), Section 5:
    every real image's feature vector gets a ball reaching its k-th nearest
    real neighbour, and the realism score of an image is
    ``max_j r_j / |f - f_j|`` over the real images whose ball is no larger than
    the median ball (:data:`REALISM_PERCENTILE`): the paper prunes the largest
    balls, which outliers of the real set blow up, so that a single far-flung
    real image cannot vouch for everything around it. Features here: the
    image area-averaged to :data:`FEATURE_SIDE` x :data:`FEATURE_SIDE` pixels
    (see :func:`image_features`).
``dffs``
    Distance from face space (Turk & Pentland, "Eigenfaces for Recognition",
    J. Cognitive Neuroscience 3(1), 1991, where it detects faces): the part of
    the feature vector that the leading principal components of the training
    images ("eigenfaces") cannot express, divided by the median of the same
    for decoded data points (held out from the eigenface fit). How many
    eigenfaces: the share of variance of :data:`FACE_SPACE_GRID` that best
    separates decoded data points from known non-faces made without any
    sampler (:func:`choose_face_space`; the known images are in
    ``study.reference``) — fixed before any sampler is scored.

and one looks at z:

``reencode``
    ``|E(D(z)) - z|`` divided by the median of the same for data z: is z a
    fixed point of encode-after-decode, as data z are? Dividing by the data's
    own value makes it independent of the latent scale (an AE's is arbitrary).
    For a VAE the norm runs over its active units only (:func:`active_units`).
    It is reported, but not part of the verdict: it measures whether z lies
    where the encoder puts data, not what D(z) looks like. A VAE's N(0, I)
    samples decode to faces by every image measure (and by eye) yet re-encode
    ~9x farther than data z, because the encoder packs the data into a smaller
    region than its prior (the "aggregate posterior" mismatch; Rosca,
    Lakshminarayanan & Mohamed 2018, Dai & Wipf 2019).

A third image measure, the RMS pixel distance to the nearest training image,
was dropped: on the demo runs it rejected none of the known non-faces (noise,
colour blobs, shuffled tiles, blends of two faces) that realism and dffs
passed (docs/MEASURES.md).

Verdict: an image is meaningful when none of the image measures
(:data:`VERDICT_MEASURES`) is worse than the worst
(1 - :data:`CALIBRATION_QUANTILE`) share of decoded held-out data points —
"as face-like, on every measure, as this decoder's reconstructions". The
thresholds come from decoded data points alone; no sampler is looked at. The
rate of a sampler is the share of its images that pass, with a Wilson interval.
"""

from __future__ import annotations

import numpy as np

from analysis._checks import as_points
from analysis.intervals import CONFIDENCE as CONFIDENCE  # re-exported: the rate table states its intervals
from analysis.intervals import N_BOOTSTRAP as N_BOOTSTRAP  # re-exported: the rate table states its intervals

#: Side of the area-averaged image used as the feature space of realism, dffs and the coverage measures.
FEATURE_SIDE = 16
#: Per measure: +1 when larger means more face-like, -1 when smaller does.
DIRECTIONS = {"realism": 1, "dffs": -1, "reencode": -1}
MEASURES = tuple(DIRECTIONS)
#: The measures an image must pass to be meaningful (the image measures; see the module notes).
VERDICT_MEASURES = ("realism", "dffs")
#: Real images whose ball counts in the realism score: those up to this percentile of the radii
#: (Kynkäänniemi et al. prune the larger half).
REALISM_PERCENTILE = 50.0
#: Shares of the training images' feature variance the face space may keep; :func:`choose_face_space` picks one.
FACE_SPACE_GRID = (0.9, 0.95, 0.98, 0.99, 0.995, 0.998)
#: Share of decoded data points each measure's threshold lets through.
CALIBRATION_QUANTILE = 0.98
#: A VAE unit is active when its posterior mean varies over the data by more than this
#: (Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016).
ACTIVE_VARIANCE = 0.01


def image_features(images, side: int = FEATURE_SIDE) -> np.ndarray:
    """Area-average images to ``side`` x ``side`` pixels and flatten them: the precision/recall feature space.

    Why this space: it needs no download (Kynkäänniemi et al. use VGG-16
    features, which we cannot fetch here), it is the same for every model (the
    model's own encoder would judge its decoder by itself, and differs between
    an AE and a VAE), and averaging away fine detail keeps a blurry but
    correct reconstruction close to its sharp original while keeping the
    layout that makes a face — skin, hair, eyes and background regions — which
    noise and void decodes lack.

    Parameters
    ----------
    images : array_like, shape (N, S, S, C)
        uint8 in [0, 255] or float in [0, 1]; S a multiple of ``side``.
    side : int

    Returns
    -------
    ndarray of float32, shape (N, side * side * C), values in [0, 1]
    """
    arr = np.asarray(images)
    if arr.ndim != 4 or arr.shape[1] != arr.shape[2]:
        raise ValueError(f"images must be N x S x S x C, got shape {arr.shape}")
    size = arr.shape[1]
    if size % side:
        raise ValueError(f"image side {size} is not a multiple of the feature side {side}")
    pixels = arr.astype(np.float32) / (255.0 if arr.dtype == np.uint8 else 1.0)
    f = size // side
    pooled = pixels.reshape(len(arr), side, f, side, f, arr.shape[3]).mean(axis=(2, 4))
    return pooled.reshape(len(arr), -1)


def active_units(z, threshold: float = ACTIVE_VARIANCE) -> np.ndarray:
    """Axes whose values vary over the data by more than ``threshold`` (all axes when none does).

    Parameters
    ----------
    z : array_like, shape (N, z_dim)
        A VAE's posterior means of the data (its z-points).
    threshold : float

    Returns
    -------
    ndarray of bool, shape (z_dim,)
    """
    var = as_points(z, dtype=None).var(axis=0, dtype=np.float64)
    active = var > float(threshold)
    return active if active.any() else np.ones_like(active)


def realism(queries, reference, radii, percentile: float | None = REALISM_PERCENTILE) -> np.ndarray:
    """Kynkäänniemi et al.'s realism score of each query against reference balls: >= 1 inside a ball.

    Parameters
    ----------
    queries : array_like, shape (M, F)
    reference : array_like, shape (R, F)
    radii : array_like, shape (R,)
        Ball radius of each reference point (:func:`analysis.coverage.radii`).
    percentile : float or None
        Only balls with a radius up to this percentile of ``radii`` count (the
        paper's realism score prunes the larger half: 50); None counts every ball.

    Returns
    -------
    ndarray of float64, shape (M,)
        ``max_j radii_j / |q - reference_j|`` over the balls that count.
    """
    q = as_points(queries, name="queries", dtype=np.float32)
    ref = as_points(reference, name="reference", dtype=np.float32)
    radii = np.asarray(radii, dtype=np.float64)
    if radii.shape != (len(ref),):
        raise ValueError(f"radii must have one value per reference point ({len(ref)}), got shape {radii.shape}")
    if percentile is not None:
        keep = radii <= np.percentile(radii, float(percentile))
        ref, radii = ref[keep], radii[keep]
    sq = np.einsum("ij,ij->i", ref, ref)
    out = np.empty(len(q))
    for start in range(0, len(q), 1024):
        block = q[start : start + 1024]
        d2 = np.einsum("ij,ij->i", block, block)[:, None] - 2.0 * block @ ref.T + sq[None, :]
        dist = np.sqrt(np.maximum(d2, 0.0))
        out[start : start + len(block)] = np.max(radii[None, :] / np.maximum(dist, 1e-12), axis=1)
    return out


def face_space(features, variance: float = FACE_SPACE_GRID[-1]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and leading principal axes ("eigenfaces") of training-image features.

    Parameters
    ----------
    features : array_like, shape (N, F)
    variance : float in (0, 1]
        Keep the fewest axes that explain this share of the variance.

    Returns
    -------
    mean : ndarray, shape (F,)
    basis : ndarray, shape (m, F)
        Orthonormal rows; none (m = 0) when every image is the same.
    """
    f = as_points(features, name="features", min_points=2)
    if not 0 < float(variance) <= 1:
        raise ValueError(f"variance must be in (0, 1], got {variance}")
    mean = f.mean(axis=0)
    _, singular, vt = np.linalg.svd(f - mean, full_matrices=False)
    total = float(np.sum(singular**2))
    if total == 0:  # identical images: no axis explains anything, the face space is their mean alone
        return mean, vt[:0]
    share = np.cumsum(singular**2) / total
    m = int(np.searchsorted(share, float(variance) - 1e-12) + 1)
    return mean, vt[: min(m, len(vt))]


def distance_from_face_space(features, mean, basis) -> np.ndarray:
    """Norm of each feature vector's residual after projection onto the face space (Turk & Pentland 1991)."""
    f = as_points(features, name="features") - np.asarray(mean, dtype=np.float64)
    basis = np.asarray(basis, dtype=np.float64)
    return np.linalg.norm(f - (f @ basis.T) @ basis, axis=1)


def choose_face_space(features, positives, negatives: dict, grid=FACE_SPACE_GRID) -> dict:
    """The face space (variance share of ``grid``) whose dffs best tells ``positives`` from known ``negatives``.

    Parameters
    ----------
    features : array_like, shape (N, F)
        Training-image features: the eigenfaces are fitted to these.
    positives : array_like, shape (P, F)
        Features of decoded data points.
    negatives : dict
        Kind -> features of known non-faces (none of them a sampler's decodes).
    grid : sequence of float
        Variance shares to try.

    Returns
    -------
    dict
        ``variance`` (the chosen share: the highest mean ROC AUC over the negative kinds, the
        smaller face space on a tie), ``mean``, ``basis``, and ``auc`` (share -> mean AUC).
    """
    if not negatives:
        raise ValueError("choosing a face space needs at least one kind of known negative")
    scores = {}
    fits = {}
    for variance in grid:
        mean, basis = face_space(features, variance)
        pos = -distance_from_face_space(positives, mean, basis)
        aucs = [roc_auc(pos, -distance_from_face_space(neg, mean, basis)) for neg in negatives.values()]
        scores[float(variance)] = float(np.mean(aucs))
        fits[float(variance)] = (mean, basis)
    best = max(scores, key=lambda v: (scores[v], -v))
    return {"variance": best, "mean": fits[best][0], "basis": fits[best][1], "auc": scores}


def thresholds(calibration: dict, quantile: float = CALIBRATION_QUANTILE) -> dict:
    """Per-measure thresholds that let ``quantile`` of the calibration (decoded data) scores pass.

    Parameters
    ----------
    calibration : dict
        Measure name -> scores of decoded data points (names from :data:`DIRECTIONS`).
    quantile : float in (0, 1]

    Returns
    -------
    dict
        Measure name -> threshold (a lower bound for ``realism``, an upper bound for the others).
    """
    if not 0 < float(quantile) <= 1:
        raise ValueError(f"quantile must be in (0, 1], got {quantile}")
    out = {}
    for name, values in calibration.items():
        direction = DIRECTIONS[name]
        q = 1 - quantile if direction > 0 else quantile
        out[name] = float(np.quantile(np.asarray(values, dtype=np.float64), q))
    return out


def margin(scores: dict, limits: dict, measures=VERDICT_MEASURES) -> np.ndarray:
    """Worst log-margin over ``measures``: ``min_m direction_m * log(score_m / threshold_m)``; >= 0 passes all.

    A continuous "how meaningful" score consistent with :func:`verdict` (used for ROC curves and sorting).
    Measures missing from ``scores`` or ``limits`` are left out.
    """
    names = [name for name in measures if name in limits and name in scores]
    if not names:
        raise ValueError("no measure has a threshold")
    parts = []
    for name in names:
        values = np.maximum(np.asarray(scores[name], dtype=np.float64), 1e-12)
        parts.append(DIRECTIONS[name] * np.log(values / max(limits[name], 1e-12)))
    return np.min(parts, axis=0)


def verdict(scores: dict, limits: dict, measures=VERDICT_MEASURES) -> np.ndarray:
    """True where an image passes the threshold of each of ``measures`` (see :func:`thresholds`)."""
    return margin(scores, limits, measures) >= 0


def roc_auc(positive_scores, negative_scores) -> float:
    """Area under the ROC curve: the chance that a positive scores higher than a negative (ties count half)."""
    from sklearn.metrics import roc_auc_score

    pos = np.asarray(positive_scores, dtype=np.float64).ravel()
    neg = np.asarray(negative_scores, dtype=np.float64).ravel()
    if not len(pos) or not len(neg):
        raise ValueError("ROC AUC needs at least one positive and one negative score")
    labels = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    return float(roc_auc_score(labels, np.r_[pos, neg]))
