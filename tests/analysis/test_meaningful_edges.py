"""The meaningful-decode measures at their edges: exact thresholds, documented defaults, dtypes, block starts and
the one-line errors a user reads, each against numpy / scikit-learn or a brute-force loop."""

import numpy as np
import pytest

from analysis import meaningful as m


def test_image_features_are_float32_and_float_images_are_not_rescaled():
    rng = np.random.default_rng(2)
    raw = rng.integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    from_bytes = m.image_features(raw)
    from_floats = m.image_features(raw / 255.0)  # the same images as floats in [0, 1]
    assert from_bytes.dtype == np.float32 and from_bytes.shape == (3, m.FEATURE_SIDE**2 * 3)
    brute = (raw / 255.0).reshape(3, 16, 2, 16, 2, 3).mean(axis=(2, 4)).reshape(3, -1)
    np.testing.assert_allclose(from_bytes, brute, atol=1e-6)
    np.testing.assert_allclose(from_floats, brute, atol=1e-6)


@pytest.mark.parametrize("shape", [(2, 32, 16, 3), (32, 32, 3)])
def test_images_that_are_not_square_or_not_a_batch_are_refused_with_their_shape(shape):
    with pytest.raises(ValueError, match=r"^images must be N x S x S x C, got shape \(.*\)$"):
        m.image_features(np.zeros(shape))


def test_an_axis_varying_exactly_as_much_as_the_threshold_is_not_active():
    z = np.c_[np.tile([-0.5, 0.5], 50), np.tile([-0.6, 0.6], 50)]  # variances exactly 0.25 and 0.36
    assert m.active_units(z, threshold=0.25).tolist() == [False, True]
    everything = m.active_units(np.zeros((6, 3)))
    assert everything.dtype == bool and everything.tolist() == [True, True, True]


def test_realism_matches_brute_force_past_two_blocks_of_queries():
    rng = np.random.default_rng(3)
    ref = rng.normal(size=(9, 2))
    radii = rng.uniform(0.2, 1.0, size=9)
    queries = rng.normal(size=(2100, 2)) * 2.0  # rows 1024 and 2048 start the second and third block
    got = m.realism(queries, ref, radii, percentile=None)
    brute = np.max(radii / np.linalg.norm(queries[:, None, :] - ref[None], axis=2), axis=1)
    np.testing.assert_allclose(got, brute, rtol=1e-4)
    assert got.dtype == np.float64 and len(got) == 2100


@pytest.mark.parametrize("which", ["queries", "reference"])
def test_realism_names_the_argument_holding_nan(which):
    good = np.zeros((3, 2))
    bad = np.array([[0.0, np.nan], [1.0, 1.0], [2.0, 2.0]])
    args = (bad, good) if which == "queries" else (good, bad)
    with pytest.raises(ValueError, match=f"^{which} contains NaN or inf values$"):
        m.realism(*args, np.ones(3))


def test_realism_needs_one_radius_per_reference_point():
    with pytest.raises(ValueError, match=r"^radii must have one value per reference point \(3\), got shape \(2,\)$"):
        m.realism(np.zeros((1, 2)), np.eye(3, 2), [1.0, 1.0])


def test_the_face_space_keeps_the_fewest_axes_reaching_the_share_exactly():
    # four points on two axes: each axis holds exactly half of the variance
    plus = np.array([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, -1.0, 0.0]])
    assert m.face_space(plus, variance=0.5)[1].shape == (1, 3)
    assert m.face_space(plus, variance=0.5 + 1e-6)[1].shape == (2, 3)


def test_the_face_space_of_small_features_keeps_what_scikit_learn_keeps():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(8)
    small = rng.normal(size=(60, 8)) * np.geomspace(0.02, 0.0005, 8)  # total variance far below 1
    for share in (0.9, 0.99):
        mean, basis = m.face_space(small, variance=share)
        expected = PCA(n_components=share, svd_solver="full").fit(small)
        assert basis.shape[0] == expected.n_components_
        np.testing.assert_allclose(mean, small.mean(axis=0), atol=1e-15)
        np.testing.assert_allclose(np.abs(basis), np.abs(expected.components_), atol=1e-8)


def test_a_face_space_needs_two_images_and_a_share_in_zero_to_one():
    two = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert m.face_space(two, variance=1.0)[1].shape == (1, 2)
    with pytest.raises(ValueError, match=r"^features needs at least 2 point\(s\), got 1$"):
        m.face_space(two[:1])
    for share in (0.0, 1.5):
        with pytest.raises(ValueError, match=rf"^variance must be in \(0, 1\], got {share}$"):
            m.face_space(two, variance=share)
    with pytest.raises(ValueError, match="^features contains NaN or inf values$"):
        m.face_space([[0.0, np.inf], [1.0, 0.0]])


def test_dffs_names_features_holding_nan():
    with pytest.raises(ValueError, match="^features contains NaN or inf values$"):
        m.distance_from_face_space([[np.nan, 0.0]], np.zeros(2), np.eye(2)[:1])


def test_a_tie_between_face_spaces_goes_to_the_smaller_and_its_own_mean_is_returned():
    rng = np.random.default_rng(6)
    basis = np.linalg.qr(rng.normal(size=(12, 3)))[0].T
    faces = 5.0 + rng.normal(size=(200, 3)) * [3, 2, 1] @ basis
    positives = 5.0 + rng.normal(size=(50, 3)) * [3, 2, 1] @ basis
    negatives = {"far": positives + 40.0 * np.linalg.qr(np.c_[basis.T, rng.normal(size=(12, 1))])[0][:, 3]}
    chosen = m.choose_face_space(faces, positives, negatives, grid=(0.999, 0.9))
    assert chosen["auc"] == {0.999: 1.0, 0.9: 1.0}  # every face space tells them apart: a tie
    assert chosen["variance"] == 0.9
    mean, kept = m.face_space(faces, 0.9)
    np.testing.assert_allclose(chosen["mean"], faces.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(chosen["basis"], kept, atol=1e-12)
    with pytest.raises(ValueError, match="^choosing a face space needs at least one kind of known negative$"):
        m.choose_face_space(faces, positives, {})


def test_quantile_thresholds_accept_one_and_refuse_zero_and_more_than_one():
    cal = {"realism": np.linspace(0.0, 1.0, 11), "dffs": np.linspace(0.0, 1.0, 11)}
    assert m.thresholds(cal, quantile=1.0) == {"realism": 0.0, "dffs": 1.0}  # everything passes
    for quantile in (0.0, 1.5):
        with pytest.raises(ValueError, match=rf"^quantile must be in \(0, 1\], got {quantile}$"):
            m.thresholds(cal, quantile=quantile)


def test_thresholds_of_float32_scores_are_numpys_float64_quantiles():
    values = np.random.default_rng(9).lognormal(size=997).astype(np.float32)
    expected = float(np.quantile(values.astype(np.float64), 0.98))
    assert m.thresholds({"dffs": values})["dffs"] == expected


def test_a_float32_score_just_below_its_threshold_fails():
    score = np.float32(0.96)  # 0.9599999785...: below a threshold of 0.96
    limits = {"realism": 0.96, "dffs": 1.0}
    scores = {"realism": np.array([score], dtype=np.float32), "dffs": np.array([0.5], dtype=np.float32)}
    assert m.margin(scores, limits)[0] < 0 and m.verdict(scores, limits).tolist() == [False]


def test_a_measure_without_a_threshold_or_a_score_is_left_out_of_the_verdict():
    limits = {"realism": 1.0, "dffs": 1.0}
    scores = {"realism": np.array([2.0, 0.5]), "reencode": np.array([100.0, 100.0])}
    both = ("realism", "dffs", "reencode")
    np.testing.assert_allclose(m.margin(scores, limits, both), np.log([2.0, 0.5]))
    assert m.verdict(scores, limits, both).tolist() == [True, False]
    assert m.verdict({"reencode": np.array([9.0])}, {"reencode": 1.0}, ("reencode",)).tolist() == [False]
    with pytest.raises(ValueError, match="^no measure has a threshold$"):
        m.margin({"reencode": np.array([1.0])}, limits)


def test_roc_auc_says_what_is_missing():
    with pytest.raises(ValueError, match="^ROC AUC needs at least one positive and one negative score$"):
        m.roc_auc([1.0], [])


def test_the_face_space_of_identical_images_is_their_mean_alone():
    same = np.tile([0.2, 0.4, 0.6], (2, 1))  # fewer images than features, and nothing varies
    mean, basis = m.face_space(same)
    assert basis.shape == (0, 3) and mean.tolist() == [0.2, 0.4, 0.6]
    query = np.array([[1.2, 0.4, 0.6], [0.2, 0.4, 0.6]])
    np.testing.assert_allclose(m.distance_from_face_space(query, mean, basis), [1.0, 0.0], atol=1e-12)
