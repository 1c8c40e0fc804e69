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


def test_a_query_exactly_on_a_balls_edge_is_inside_and_small_scales_are_measured_exactly():
    # Kynkäänniemi et al.: a point is in the manifold when d <= r; (3, 4) lies exactly 5 from the origin.
    centres, radius = np.array([[0.0, 0.0], [100.0, 100.0]]), np.array([5.0, 1.0])
    assert coverage.inside_balls(np.array([[3.0, 4.0], [3.0, 4.1]]), centres, radius).tolist() == [True, False]
    # Distances far below 1 (z-units of a tightly packed run) are not rounded up to anything.
    tiny = coverage.inside_balls(np.array([[0.0, 0.0], [0.004, 0.0]]), np.array([[0.0, 0.0]]), np.array([0.003]))
    assert tiny.tolist() == [True, False]


def test_membership_is_exact_across_the_query_blocks_first_last_and_at_the_block_start():
    gen = np.random.default_rng(4)
    queries, centres = gen.normal(size=(2100, 5)), gen.normal(size=(50, 5))
    queries[[1024, 2049]] = centres[:2]  # rows that a block size off by one would never write
    radii_ = np.full(50, 1.2)
    expected = (cdist(queries, centres) <= radii_[None, :]).any(axis=1)
    found = coverage.inside_balls(queries, centres, radii_)
    assert found.dtype == bool and found[1024] and found[2049]
    assert np.array_equal(found, expected)  # blocks of 1,024 queries: rows 0, 1023, 1024, 2047, 2048, 2099
    assert expected[[0, 1023, 1024, 2047, 2048, 2099]].any() and not expected.all()


def test_precision_and_recall_use_the_k_given_and_three_by_default():
    gen = np.random.default_rng(5)
    samples, reference = gen.normal(size=(120, 6)), 1.3 * gen.normal(size=(120, 6))
    for k in (1, 5):
        found = coverage.precision_recall(samples, reference, k=k)
        inside, covered = _brute_pr(samples, reference, k=k)
        assert np.array_equal(found["inside"], inside) and np.array_equal(found["covered"], covered)
    assert coverage.PR_K == 3
    default = coverage.precision_recall(samples, reference)
    assert np.array_equal(default["inside"], _brute_pr(samples, reference, k=3)[0])
    assert not np.array_equal(default["inside"], _brute_pr(samples, reference, k=1)[0])


def test_diversity_is_scale_free_gives_both_spreads_and_is_reproducible_with_its_default_seed():
    gen = np.random.default_rng(6)
    samples, reference = 0.6 * gen.normal(size=(60, 4)), gen.normal(size=(60, 4))
    found = coverage.diversity(samples, reference, n_boot=100)
    assert found["samples_spread"] == pytest.approx(pdist(samples).mean())
    assert found["reference_spread"] == pytest.approx(pdist(reference).mean())
    # A run whose z-points are all within 0.01 of each other: the same ratio, not one floored at 1.
    small = coverage.diversity(0.001 * samples, 0.001 * reference, n_boot=100)
    assert small["diversity"] == pytest.approx(found["diversity"], rel=1e-5)
    assert small["diversity_lo"] == pytest.approx(found["diversity_lo"], rel=1e-4)
    assert coverage.diversity(samples, reference, n_boot=100, random_state=0) == found  # the default seed is 0
    assert coverage.diversity(samples, reference, n_boot=100) == found
    assert coverage.diversity(samples, reference, n_boot=100, random_state=1) != found


def test_the_diversity_interval_resamples_every_point_including_the_first():
    # The first sample sits far out: resamples without it are tight, with it wide. The interval must reach
    # both, so it holds the whole set's value; a bootstrap that never drew row 0 would lie below it.
    samples = np.array([[40.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    found = coverage.diversity(samples, samples[::-1].copy(), n_boot=400)
    assert found["diversity"] == pytest.approx(1.0)
    assert found["diversity_lo"] < 0.5 and found["diversity_hi"] > 2.0
    # The same with the outlier first in the reference.
    against = coverage.diversity(samples[::-1].copy(), samples, n_boot=400)
    assert against["diversity_lo"] < 0.5 and against["diversity_hi"] > 2.0


def test_diversity_takes_two_points_exactly_and_refuses_one_naming_what_it_needs():
    two = coverage.diversity(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([[0.0, 0.0], [0.0, 10.0]]), n_boot=50)
    assert two["diversity"] == pytest.approx(0.5) and two["diversity_lo"] == two["diversity_hi"] == 0.5
    message = "diversity needs at least 2 samples and 2 reference points"
    for samples, reference in ((np.zeros((1, 2)), np.zeros((5, 2))), (np.zeros((5, 2)), np.zeros((1, 2)))):
        with pytest.raises(ValueError, match=f"^{message}$"):
            coverage.diversity(samples, reference)


def test_rank_auc_refuses_an_empty_side_of_either_kind():
    message = "^an AUC needs at least one positive and one negative score$"
    for pos, neg in (([], [0.2, 0.4]), ([0.2, 0.4], []), ([], [])):
        with pytest.raises(ValueError, match=message):
            coverage.rank_auc(pos, neg)


def test_two_sample_auc_is_reproducible_with_its_default_seed_and_takes_small_sets_with_fewer_folds():
    gen = np.random.default_rng(7)
    a, b = gen.normal(size=(80, 4)), 1.5 * gen.normal(size=(80, 4))
    found = coverage.two_sample_auc(a, b, n_boot=100)
    assert coverage.two_sample_auc(a, b, n_boot=100) == found
    assert coverage.two_sample_auc(a, b, n_boot=100, random_state=0) == found  # the default seed is 0
    assert coverage.two_sample_auc(a, b, n_boot=100, random_state=1) != found
    # Three samples against many: three folds (each holds one sample), not the default five.
    few = coverage.two_sample_auc(a[:3], b, n_boot=100)
    assert 0.0 <= few["auc_lo"] <= few["auc"] <= few["auc_hi"] <= 1.0
    few_ref = coverage.two_sample_auc(b, a[:3], n_boot=100)
    assert 0.0 <= few_ref["auc"] <= 1.0
    message = "^the two-sample test needs at least 2 samples and 2 reference points$"
    with pytest.raises(ValueError, match=message):
        coverage.two_sample_auc(a[:1], b)
    two = coverage.two_sample_auc(a[:2], b[:2], n_boot=20)  # exactly two of each: two folds
    assert 0.0 <= two["auc"] <= 1.0


def test_the_two_sample_auc_matches_scikit_learn_cross_validation_with_the_same_folds():
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier

    gen = np.random.default_rng(8)
    a, b = 0.8 * gen.normal(size=(150, 5)), gen.normal(size=(150, 5))
    x, y = np.concatenate([a, b]), np.r_[np.ones(150), np.zeros(150)]
    seed = int(np.random.default_rng(3).integers(2**31 - 1))  # the seed the test derives from random_state=3
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    scores = cross_val_predict(KNeighborsClassifier(n_neighbors=10), x, y, cv=folds, method="predict_proba")[:, 1]
    assert coverage.two_sample_auc(a, b, n_boot=50, random_state=3)["auc"] == pytest.approx(roc_auc_score(y, scores))


def test_bad_sets_are_refused_naming_the_set():
    bad = np.full((5, 2), np.nan)
    with pytest.raises(ValueError, match="^samples contains NaN or inf values$"):
        coverage.precision_recall(bad, np.zeros((5, 2)))
    with pytest.raises(ValueError, match="^reference contains NaN or inf values$"):
        coverage.diversity(np.ones((5, 2)), bad)
    with pytest.raises(ValueError, match="^features contains NaN or inf values$"):
        coverage.radii(bad)
    with pytest.raises(ValueError, match=r"^radii must have one value per centre \(3\), got shape \(2,\)$"):
        coverage.inside_balls(np.zeros((2, 2)), np.zeros((3, 2)), np.zeros(2))


def _reference_bootstrap_width(samples, reference, n_boot, seed):
    # An independent percentile bootstrap of the diversity ratio (distinct pairs only), with its own generator.
    gen = np.random.default_rng(seed)

    def spread(x):
        d = cdist(x, x)
        return d[~np.eye(len(x), dtype=bool)].mean()

    ratios = []
    for _ in range(n_boot):
        pa, pb = gen.integers(0, len(samples), len(samples)), gen.integers(0, len(reference), len(reference))
        ua, ub = np.unique(pa), np.unique(pb)
        if len(ua) > 1 and len(ub) > 1:
            a, b = samples[pa], reference[pb]
            same_a, same_b = pa[:, None] == pa[None, :], pb[:, None] == pb[None, :]
            ratios.append(cdist(a, a)[~same_a].mean() / cdist(b, b)[~same_b].mean())
    lo, hi = np.quantile(ratios, [0.025, 0.975])
    return hi - lo


def test_the_diversity_interval_is_a_95_percent_percentile_bootstrap_resampling_both_sets():
    gen = np.random.default_rng(9)
    samples, reference = 0.7 * gen.normal(size=(60, 3)), gen.normal(size=(60, 3))
    found = coverage.diversity(samples, reference, n_boot=600)
    width = found["diversity_hi"] - found["diversity_lo"]
    assert width == pytest.approx(_reference_bootstrap_width(samples, reference, 600, seed=123), rel=0.2)
    # A three-point set with an outlier: resamples of two distinct points count, so the interval is wide
    # on whichever side the small set is.
    small = np.array([[40.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    for a, b in ((small, reference), (reference, small)):
        found = coverage.diversity(a, b, n_boot=400)
        assert found["diversity_hi"] - found["diversity_lo"] > 0.8 * found["diversity"]
    # No resample to draw: the interval is the value itself.
    none = coverage.diversity(samples, reference, n_boot=0)
    assert none["diversity_lo"] == none["diversity_hi"] == none["diversity"]


def test_the_two_sample_auc_interval_has_the_null_width_and_few_reference_points_mean_fewer_folds_quietly():
    import warnings

    gen = np.random.default_rng(10)
    n = 200
    a, b = gen.normal(size=(n, 4)), gen.normal(size=(n, 4))
    found = coverage.two_sample_auc(a, b, n_boot=400)
    null_sd = np.sqrt((2 * n + 1) / (12 * n * n))  # the Mann-Whitney AUC's spread under the null
    assert found["auc_hi"] - found["auc_lo"] == pytest.approx(2 * 1.96 * null_sd, rel=0.35)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scikit-learn warns when a class has fewer members than folds
        coverage.two_sample_auc(a, b[:3], n_boot=20)
        coverage.two_sample_auc(a[:3], b, n_boot=20)
