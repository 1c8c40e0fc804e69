"""Quality beside coverage: a set of generated samples against a reference set of the same size.

A high pass rate alone reads a sampler that returns one average face 256
times as perfect. These measures look at the set:

``precision`` and ``recall``
    Kynkäänniemi, Karras, Laine, Lehtinen & Aila, "Improved Precision and
    Recall Metric for Assessing Generative Models" (NeurIPS 2019): each
    point of a set gets a ball reaching its k-th nearest neighbour in its own
    set; precision is the share of samples inside some reference ball
    (quality), recall the share of reference points inside some sample ball
    (coverage). Both depend on the set sizes (more points, smaller balls), so
    they are only compared at equal sizes, as in the paper.
``diversity``
    The mean distance between two samples over the mean distance between
    two reference points: 1 for a set as varied as the reference, near 0 for
    copies of one image.
``two-sample AUC``
    A classifier two-sample test (Lopez-Paz & Oquab, "Revisiting Classifier
    Two-Sample Tests", ICLR 2017): a k-nearest-neighbour classifier tries to
    tell samples from reference points; its cross-validated ROC AUC is 0.5
    when it cannot (indistinguishable sets) and 1 when it always can. A
    k-NN classifier, not a linear one: a set of near-copies has the
    reference's mean and differs only in spread, which no linear boundary sees.

Every function takes feature vectors (rows) and returns its number with a 95 % interval.
"""

from __future__ import annotations

import numpy as np

from analysis import intervals
from analysis._checks import as_points, rng
from analysis.neighbours import knn

#: Neighbour whose distance sets a point's ball (Kynkäänniemi et al. use k = 3).
PR_K = 3
#: Neighbours that vote in the two-sample classifier, and its cross-validation folds.
C2ST_K = 10
C2ST_FOLDS = 5


def _pair(samples, reference) -> tuple[np.ndarray, np.ndarray]:
    a = as_points(samples, name="samples", dtype=np.float32)
    b = as_points(reference, name="reference", dtype=np.float32)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"samples have {a.shape[1]} features but the reference has {b.shape[1]}")
    return a, b


def radii(features, k: int = PR_K) -> np.ndarray:
    """Distance of each feature vector to its k-th nearest other one in the same set (its ball's radius)."""
    f = as_points(features, name="features", dtype=np.float32)
    if len(f) <= k:
        raise ValueError(f"balls of the k={k}-th neighbour need more than {k} points, got {len(f)}")
    return knn(f, k=k)[0][:, -1]


def inside_balls(queries, centres, centre_radii) -> np.ndarray:
    """True where a query lies in some ball (centre, radius): the manifold membership of Kynkäänniemi et al."""
    q, c = _pair(queries, centres)
    r = np.asarray(centre_radii, dtype=np.float64)
    if r.shape != (len(c),):
        raise ValueError(f"radii must have one value per centre ({len(c)}), got shape {r.shape}")
    sq = np.einsum("ij,ij->i", c, c).astype(np.float64)
    out = np.empty(len(q), dtype=bool)
    for start in range(0, len(q), 1024):
        block = q[start : start + 1024].astype(np.float64)
        d2 = np.einsum("ij,ij->i", block, block)[:, None] - 2.0 * block @ c.T.astype(np.float64) + sq[None, :]
        out[start : start + len(block)] = np.any(np.maximum(d2, 0.0) <= r[None, :] ** 2, axis=1)
    return out


def precision_recall(samples, reference, k: int = PR_K) -> dict:
    """Kynkäänniemi et al.'s precision and recall of ``samples`` against ``reference``, with Wilson intervals.

    Parameters
    ----------
    samples, reference : array_like, shape (n, F) and (m, F)
        Feature vectors; compare sets of equal size (the balls shrink as a set grows).
    k : int

    Returns
    -------
    dict
        ``precision``, ``precision_lo``, ``precision_hi``, ``recall``, ``recall_lo``, ``recall_hi``,
        ``inside`` (n,): each sample in the reference's manifold, ``covered`` (m,): each reference
        point in the samples' manifold. The intervals count the tested points only (the balls held fixed).
    """
    a, b = _pair(samples, reference)
    inside = inside_balls(a, b, radii(b, k))
    covered = inside_balls(b, a, radii(a, k))
    out = {"inside": inside, "covered": covered}
    for name, values in (("precision", inside), ("recall", covered)):
        value, lo, hi = intervals.share(values)
        out.update({name: value, f"{name}_lo": lo, f"{name}_hi": hi})
    return out


def _distances(f: np.ndarray) -> np.ndarray:
    f = f.astype(np.float64)
    sq = np.einsum("ij,ij->i", f, f)
    return np.sqrt(np.maximum(sq[:, None] - 2.0 * f @ f.T + sq[None, :], 0.0))


def _mean_pair_distance(d: np.ndarray, picks: np.ndarray) -> float:
    # Mean distance over pairs of resampled points that are different originals (a point paired with
    # its own copy is no pair: it would pull a resampled set's diversity down).
    sub = d[np.ix_(picks, picks)]
    distinct = picks[:, None] != picks[None, :]
    return float(sub[distinct].mean())


def diversity(samples, reference, n_boot: int = intervals.N_BOOTSTRAP, random_state=0) -> dict:
    """Mean distance between two samples over the mean distance between two reference points.

    Returns
    -------
    dict
        ``diversity`` and its bootstrap 95 % interval ``diversity_lo`` / ``diversity_hi``
        (both sets resampled), ``samples_spread`` and ``reference_spread`` (the two means).
    """
    a, b = _pair(samples, reference)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("diversity needs at least 2 samples and 2 reference points")
    da, db = _distances(a), _distances(b)
    spread_a, spread_b = float(da[np.triu_indices(len(a), 1)].mean()), float(db[np.triu_indices(len(b), 1)].mean())
    gen = rng(random_state)
    ratios = []
    for _ in range(int(n_boot)):
        pa, pb = gen.integers(0, len(a), len(a)), gen.integers(0, len(b), len(b))
        if len(np.unique(pa)) < 2 or len(np.unique(pb)) < 2:
            continue
        ratios.append(_mean_pair_distance(da, pa) / max(_mean_pair_distance(db, pb), 1e-300))
    tail = (1 - intervals.CONFIDENCE) / 2
    value = spread_a / max(spread_b, 1e-300)
    lo, hi = (np.quantile(ratios, tail), np.quantile(ratios, 1 - tail)) if ratios else (value, value)
    return {
        "diversity": value,
        "diversity_lo": float(lo),
        "diversity_hi": float(hi),
        "samples_spread": spread_a,
        "reference_spread": spread_b,
    }


def rank_auc(positive, negative) -> float:
    """ROC AUC as the Mann-Whitney statistic: the chance a positive scores above a negative, ties counting half."""
    from scipy.stats import rankdata

    pos, neg = np.asarray(positive, dtype=np.float64).ravel(), np.asarray(negative, dtype=np.float64).ravel()
    if not len(pos) or not len(neg):
        raise ValueError("an AUC needs at least one positive and one negative score")
    ranks = rankdata(np.r_[pos, neg])
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def two_sample_auc(
    samples,
    reference,
    k: int = C2ST_K,
    folds: int = C2ST_FOLDS,
    n_boot: int = intervals.N_BOOTSTRAP,
    random_state=0,
) -> dict:
    """Classifier two-sample test: the cross-validated ROC AUC of a k-NN classifier telling samples from reference.

    Each point is scored by a classifier trained on the other folds (its share
    of sample neighbours among ``k``); the AUC of those out-of-fold scores is
    0.5 for indistinguishable sets. Interval: percentile bootstrap over the
    scored points, samples and reference resampled separately.

    Returns
    -------
    dict
        ``auc``, ``auc_lo``, ``auc_hi``.
    """
    from sklearn.model_selection import StratifiedKFold
    from sklearn.neighbors import KNeighborsClassifier

    a, b = _pair(samples, reference)
    x = np.concatenate([a, b]).astype(np.float64)
    y = np.r_[np.ones(len(a)), np.zeros(len(b))]
    folds = int(min(folds, len(a), len(b)))
    if folds < 2:
        raise ValueError("the two-sample test needs at least 2 samples and 2 reference points")
    seed = int(rng(random_state).integers(2**31 - 1))
    scores = np.empty(len(x))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        model = KNeighborsClassifier(n_neighbors=min(int(k), len(train))).fit(x[train], y[train])
        scores[test] = model.predict_proba(x[test])[:, list(model.classes_).index(1.0)]
    pos, neg = scores[y == 1], scores[y == 0]
    auc = rank_auc(pos, neg)
    gen = rng([seed, 1])
    boots = [
        rank_auc(pos[gen.integers(0, len(pos), len(pos))], neg[gen.integers(0, len(neg), len(neg))])
        for _ in range(int(n_boot))
    ]
    tail = (1 - intervals.CONFIDENCE) / 2
    return {"auc": auc, "auc_lo": float(np.quantile(boots, tail)), "auc_hi": float(np.quantile(boots, 1 - tail))}
