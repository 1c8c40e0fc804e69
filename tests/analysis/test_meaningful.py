"""The meaningful-decode measures as pure functions: features, realism, face space and its choice, verdicts."""

import numpy as np
import pytest

from analysis import meaningful as m


def test_image_features_average_blocks_of_pixels():
    images = np.zeros((2, 32, 32, 3), dtype=np.uint8)
    images[0, :16] = 255  # top half white
    feats = m.image_features(images, side=16)
    assert feats.shape == (2, 16 * 16 * 3)
    grid = feats[0].reshape(16, 16, 3)
    assert np.allclose(grid[:8], 1.0) and np.allclose(grid[8:], 0.0) and np.allclose(feats[1], 0.0)
    with pytest.raises(ValueError, match="multiple of the feature side"):
        m.image_features(np.zeros((1, 24, 24, 3)), side=16)


def test_realism_is_one_on_the_ball_edge_and_prunes_the_largest_balls_as_the_paper_does():
    ref = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    radii = np.array([1.0, 1.0, 1.0, 1.0])
    score = m.realism(np.array([[0.5, 0.0], [5.0, 5.0]]), ref, radii, percentile=None)
    assert score[0] == pytest.approx(2.0) and score[1] < 1.0
    # An outlier of the real set has a huge ball; unpruned, it vouches for everything near it.
    ref = np.r_[ref, [[20.0, 20.0]]]
    radii = np.r_[radii, 25.0]
    far = np.array([[10.0, 10.0]])
    assert m.realism(far, ref, radii, percentile=None)[0] > 1.0  # inside the outlier's ball
    # Kynkäänniemi et al.'s realism keeps the balls up to the median radius: brute force over those.
    kept = radii <= np.median(radii)
    brute = np.max(radii[kept] / np.linalg.norm(ref[kept] - far, axis=1))
    assert m.realism(far, ref, radii)[0] == pytest.approx(brute) and brute < 1.0


def test_distance_from_face_space_is_zero_inside_and_grows_outside():
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(20, 3)))[0].T  # a 3-d subspace of 20-d
    faces = rng.normal(size=(200, 3)) @ basis
    mean, found = m.face_space(faces, variance=0.999)
    assert found.shape == (3, 20)
    assert np.allclose(m.distance_from_face_space(faces[:5], mean, found), 0.0, atol=1e-8)
    off = faces[:5] + 2.0 * np.linalg.qr(np.c_[basis.T, rng.normal(size=(20, 1))])[0][:, 3]
    assert np.allclose(m.distance_from_face_space(off, mean, found), 2.0)


def test_verdict_margin_and_thresholds_agree():
    cal = {"realism": np.linspace(0.9, 1.5, 101), "dffs": np.linspace(0.5, 1.5, 101)}
    limits = m.thresholds(cal, quantile=0.9)
    assert limits["realism"] == pytest.approx(0.96) and limits["dffs"] == pytest.approx(1.4)
    scores = {"realism": np.array([1.2, 0.5, 1.2, 0.96]), "dffs": np.array([1.0, 1.0, 3.0, 1.4])}
    assert m.verdict(scores, limits).tolist() == [True, False, False, True]  # exactly at both thresholds passes
    assert (m.margin(scores, limits) >= 0).tolist() == [True, False, False, True]
    assert m.verdict(cal, m.thresholds(cal, quantile=0.98)).mean() >= 0.96  # calibration data pass
    assert m.VERDICT_MEASURES == ("realism", "dffs")  # the pixel-NN criterion is gone (docs/MEASURES.md)


def test_the_face_space_is_chosen_by_known_negatives_not_by_samplers():
    gen = np.random.default_rng(4)
    basis = np.linalg.qr(gen.normal(size=(30, 4)))[0].T
    faces = gen.normal(size=(400, 4)) * [4, 3, 2, 1] @ basis + 0.02 * gen.normal(size=(400, 30))
    positives = gen.normal(size=(100, 4)) * [4, 3, 2, 1] @ basis + 0.02 * gen.normal(size=(100, 30))
    # Known non-faces that leave the 4-d face space by a little: only a tight face space sees them.
    negatives = {"off": positives + 0.3 * gen.normal(size=(100, 30))}
    chosen = m.choose_face_space(faces, positives, negatives, grid=(0.9, 0.999, 1.0))
    assert chosen["basis"].shape[0] <= 4 and chosen["auc"][chosen["variance"]] > 0.99
    assert chosen["auc"][1.0] == pytest.approx(0.5, abs=0.1)  # every axis kept: nothing is off the space
    with pytest.raises(ValueError, match="known negative"):
        m.choose_face_space(faces, positives, {})


def test_active_units_drop_collapsed_axes():
    z = np.c_[np.random.default_rng(1).normal(size=(500, 3)), np.full((500, 2), 0.001)]
    assert m.active_units(z).tolist() == [True, True, True, False, False]
    assert m.active_units(np.zeros((10, 4))).all()  # nothing active: keep every axis


def test_roc_auc():
    assert m.roc_auc([3, 4, 5], [0, 1, 2]) == 1.0
    assert m.roc_auc([0, 1], [0, 1]) == 0.5
    with pytest.raises(ValueError, match="at least one"):
        m.roc_auc([], [1])
