"""Quality beside coverage: precision and recall against brute force, diversity, the two-sample AUC under its null."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist, pdist

from analysis import coverage


def _brute_pr(samples, reference, k=3):
    def radii(x):
        d = cdist(x, x)
        np.fill_diagonal(d, np.inf)
        return np.sort(d, axis=1)[:, k - 1]

    inside = (cdist(samples, reference) <= radii(reference)[None, :]).any(axis=1)
    covered = (cdist(reference, samples) <= radii(samples)[None, :]).any(axis=1)
    return inside, covered


def test_precision_and_recall_match_brute_force_and_tell_collapse_from_coverage():
    gen = np.random.default_rng(0)
    reference = gen.normal(size=(200, 12))
    spread = gen.normal(size=(200, 12))
    collapsed = 0.2 * gen.normal(size=(200, 12))  # near-copies of the average: inside, but covering little
    for samples in (spread, collapsed):
        found = coverage.precision_recall(samples, reference)
        inside, covered = _brute_pr(samples, reference)
        assert np.array_equal(found["inside"], inside) and np.array_equal(found["covered"], covered)
        assert found["precision"] == inside.mean() and found["recall"] == covered.mean()
        assert found["precision_lo"] <= found["precision"] <= found["precision_hi"]
    same, squeezed = coverage.precision_recall(spread, reference), coverage.precision_recall(collapsed, reference)
    assert squeezed["precision"] > 0.95 and squeezed["recall"] < 0.3 < same["recall"]


def test_diversity_is_the_ratio_of_mean_pairwise_distances_with_an_interval_around_it():
    gen = np.random.default_rng(1)
    reference = gen.normal(size=(150, 8))
    half = 0.5 * gen.normal(size=(150, 8))
    found = coverage.diversity(half, reference, n_boot=200)
    assert found["diversity"] == pytest.approx(pdist(half).mean() / pdist(reference).mean())
    assert found["diversity"] == pytest.approx(0.5, abs=0.05)
    assert found["diversity_lo"] < found["diversity"] < found["diversity_hi"]
    # A resampled set's pairs of copies do not count: the interval of a set against itself straddles 1.
    self_ = coverage.diversity(reference, reference, n_boot=200)
    assert self_["diversity"] == 1.0 and self_["diversity_lo"] < 1.0 < self_["diversity_hi"]


def test_rank_auc_matches_scikit_learn_with_ties():
    from sklearn.metrics import roc_auc_score

    pos, neg = np.array([0.9, 0.5, 0.5, 0.2]), np.array([0.5, 0.1, 0.3])
    expected = roc_auc_score(np.r_[np.ones(4), np.zeros(3)], np.r_[pos, neg])
    assert coverage.rank_auc(pos, neg) == pytest.approx(expected)


def test_two_sample_auc_is_a_half_under_the_null_with_intervals_of_the_right_width():
    gen = np.random.default_rng(2)
    n, aucs, covered = 256, [], 0
    for trial in range(40):
        a, b = gen.normal(size=(n, 6)), gen.normal(size=(n, 6))
        found = coverage.two_sample_auc(a, b, n_boot=300, random_state=trial)
        aucs.append(found["auc"])
        covered += found["auc_lo"] <= 0.5 <= found["auc_hi"]
    # Under the null the Mann-Whitney AUC has sd sqrt((n1 + n2 + 1) / (12 n1 n2)) = 0.0255 for 256 vs 256.
    null_sd = np.sqrt((2 * n + 1) / (12 * n * n))
    assert np.mean(aucs) == pytest.approx(0.5, abs=0.015)
    assert 0.7 * null_sd < np.std(aucs) < 1.4 * null_sd
    assert covered >= 34  # about 95 % of 40 intervals cover 0.5


def test_two_sample_auc_sees_a_collapsed_set_that_a_linear_boundary_cannot():
    gen = np.random.default_rng(3)
    collapsed = 0.3 * gen.normal(size=(150, 6))  # the same mean, less spread
    found = coverage.two_sample_auc(collapsed, gen.normal(size=(150, 6)), n_boot=200)
    assert found["auc"] > 0.9 and found["auc_lo"] > 0.8


def test_coverage_measures_refuse_mismatched_or_tiny_sets():
    with pytest.raises(ValueError, match="features"):
        coverage.precision_recall(np.zeros((10, 3)), np.zeros((10, 4)))
    with pytest.raises(ValueError, match="more than 3 points"):
        coverage.precision_recall(np.random.default_rng(0).normal(size=(3, 2)), np.zeros((10, 2)))
