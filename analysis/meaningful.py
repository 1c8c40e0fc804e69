"""Is a decoded image "meaningful"? Four measures, a verdict calibrated on decoded data points, and a rate.

The seed calls a z-point meaningful when the decoder makes a recognisable face
of it. Every measure here compares with what the *same* decoder makes of
*data* z-points, so an AE and a VAE are judged by one rule although their
reconstructions differ in sharpness. Three look at the image D(z):

``realism``
    Kynkäänniemi, Karras, Laine, Lehtinen & Aila, "Improved Precision and
    Recall Metric for Assessing Generative Models" (NeurIPS 2019): every real
    image's feature vector gets a ball reaching its k-th nearest real
    neighbour; a generated image is inside the real manifold when it lies in
    some ball. Its realism score ``max_j r_j / |f - f_j|`` is >= 1 exactly then,
    and precision is the share inside. Features here: the image area-averaged
    to :data:`FEATURE_SIDE` x :data:`FEATURE_SIDE` pixels (see :func:`image_features`).
``pixel_nn``
    The RMS pixel distance of D(z) to its nearest training image, divided by
    the median distance of training images to their own nearest other training
    image. Needs no feature model at all.
``dffs``
    Distance from face space (Turk & Pentland, "Eigenfaces for Recognition",
    J. Cognitive Neuroscience 3(1), 1991, where it detects faces): the part of
    the feature vector that the leading principal components of the training
    images ("eigenfaces", :data:`FACE_SPACE_VARIANCE` of their variance) cannot
    express, divided by the median of the same for decoded data points (held
    out from the eigenface fit, so the calibration is not in-sample).
    Nearest-neighbour measures are lenient with a blurred mixture of faces (a
    blur is close to many faces at once); a mixture of misplaced face parts
    still leaves face space, which is what the AE's decodes of N(0, I) look like.

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

Verdict: an image is meaningful when none of the image measures
(:data:`VERDICT_MEASURES`) is worse than the worst
(1 - :data:`CALIBRATION_QUANTILE`) share of decoded held-out data points —
"as face-like, on every measure, as this decoder's reconstructions". The rate
of a sampler is the share of its images that pass, with a bootstrap interval.
"""

from __future__ import annotations

import numpy as np

from analysis._checks import as_points, rng
from analysis.structure import knn, nn_distances

#: Side of the area-averaged image used as the precision/recall feature space.
FEATURE_SIDE = 16
#: Neighbour whose distance sets a real image's ball (Kynkäänniemi et al. use k = 3).
PR_K = 3
#: Per measure: +1 when larger means more face-like, -1 when smaller does.
DIRECTIONS = {"realism": 1, "pixel_nn": -1, "dffs": -1, "reencode": -1}
MEASURES = tuple(DIRECTIONS)
#: The measures an image must pass to be meaningful (the image measures; see the module notes).
VERDICT_MEASURES = ("realism", "pixel_nn", "dffs")
#: Share of the training images' feature variance the face space keeps: ~200 eigenfaces of 1,000
#: demo images. Fewer (0.95: 30) let most of the AE's garbled N(0, I) decodes pass (91 % on the
#: demo AE); 0.998 passes 20 % of those and still 98 % of decoded data points.
FACE_SPACE_VARIANCE = 0.998
#: Share of decoded data points each measure's threshold lets through.
CALIBRATION_QUANTILE = 0.98
#: A VAE unit is active when its posterior mean varies over the data by more than this
#: (Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016).
ACTIVE_VARIANCE = 0.01
#: Bootstrap resamples of a rate's interval, and its coverage.
N_BOOTSTRAP = 1000
CONFIDENCE = 0.95


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


def pixel_vectors(images) -> np.ndarray:
    """Images as flat float32 vectors in [0, 1], scaled by 1/sqrt(pixels * channels) so distances are RMS."""
    arr = np.asarray(images)
    flat = arr.reshape(len(arr), -1).astype(np.float32)
    return flat / ((255.0 if arr.dtype == np.uint8 else 1.0) * np.sqrt(flat.shape[1]))


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


def knn_radii(features, k: int = PR_K) -> np.ndarray:
    """Distance of each feature vector to its k-th nearest other one (the radius of its ball)."""
    return knn(as_points(features, name="features", dtype=np.float32), k=k)[0][:, -1]


def realism(queries, reference, radii) -> np.ndarray:
    """Kynkäänniemi et al.'s realism score of each query against reference balls: >= 1 inside the manifold.

    Parameters
    ----------
    queries : array_like, shape (M, F)
    reference : array_like, shape (R, F)
    radii : array_like, shape (R,)
        Ball radius of each reference point (:func:`knn_radii`).

    Returns
    -------
    ndarray of float64, shape (M,)
        ``max_j radii_j / |q - reference_j|``.
    """
    q = as_points(queries, name="queries", dtype=np.float32)
    ref = as_points(reference, name="reference", dtype=np.float32)
    radii = np.asarray(radii, dtype=np.float64)
    if radii.shape != (len(ref),):
        raise ValueError(f"radii must have one value per reference point ({len(ref)}), got shape {radii.shape}")
    sq = np.einsum("ij,ij->i", ref, ref)
    out = np.empty(len(q))
    for start in range(0, len(q), 1024):
        block = q[start : start + 1024]
        d2 = np.einsum("ij,ij->i", block, block)[:, None] - 2.0 * block @ ref.T + sq[None, :]
        dist = np.sqrt(np.maximum(d2, 0.0))
        out[start : start + len(block)] = np.max(radii[None, :] / np.maximum(dist, 1e-12), axis=1)
    return out


def recall(real, generated, k: int = PR_K) -> float:
    """Share of real feature vectors inside the generated set's k-NN balls (Kynkäänniemi et al.'s recall)."""
    generated = as_points(generated, name="generated", dtype=np.float32)
    if len(generated) <= k:
        raise ValueError(f"recall with k={k} needs more than {k} generated samples, got {len(generated)}")
    return float(np.mean(realism(real, generated, knn_radii(generated, k)) >= 1.0))


def nearest_ratio(queries, reference, scale: float) -> np.ndarray:
    """Distance of each query to its nearest reference vector, divided by ``scale``."""
    return nn_distances(reference, queries) / float(scale)


def face_space(features, variance: float = FACE_SPACE_VARIANCE) -> tuple[np.ndarray, np.ndarray]:
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
        Orthonormal rows.
    """
    f = as_points(features, name="features", min_points=2)
    if not 0 < float(variance) <= 1:
        raise ValueError(f"variance must be in (0, 1], got {variance}")
    mean = f.mean(axis=0)
    _, singular, vt = np.linalg.svd(f - mean, full_matrices=False)
    share = np.cumsum(singular**2) / max(float(np.sum(singular**2)), 1e-300)
    m = int(np.searchsorted(share, float(variance) - 1e-12) + 1)
    return mean, vt[: min(m, len(vt))]


def distance_from_face_space(features, mean, basis) -> np.ndarray:
    """Norm of each feature vector's residual after projection onto the face space (Turk & Pentland 1991)."""
    f = as_points(features, name="features") - np.asarray(mean, dtype=np.float64)
    basis = np.asarray(basis, dtype=np.float64)
    return np.linalg.norm(f - (f @ basis.T) @ basis, axis=1)


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


def bootstrap_interval(
    values, statistic=np.mean, n_boot: int = N_BOOTSTRAP, confidence: float = CONFIDENCE, random_state=0
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over resamples of ``values`` (with replacement).

    Parameters
    ----------
    values : array_like, shape (n,) or (n, ...)
        Resampled along the first axis.
    statistic : callable(array) -> float
    n_boot : int
    confidence : float in (0, 1)
    random_state : int, Generator or None

    Returns
    -------
    (lo, hi) : floats
    """
    arr = np.asarray(values)
    if len(arr) == 0:
        raise ValueError("cannot bootstrap an empty sample")
    gen = rng(random_state)
    stats = np.array([statistic(arr[gen.integers(0, len(arr), len(arr))]) for _ in range(int(n_boot))])
    tail = (1 - float(confidence)) / 2
    return float(np.quantile(stats, tail)), float(np.quantile(stats, 1 - tail))


def roc_auc(positive_scores, negative_scores) -> float:
    """Area under the ROC curve: the chance that a positive scores higher than a negative (ties count half)."""
    from sklearn.metrics import roc_auc_score

    pos = np.asarray(positive_scores, dtype=np.float64).ravel()
    neg = np.asarray(negative_scores, dtype=np.float64).ravel()
    if not len(pos) or not len(neg):
        raise ValueError("ROC AUC needs at least one positive and one negative score")
    labels = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    return float(roc_auc_score(labels, np.r_[pos, neg]))
