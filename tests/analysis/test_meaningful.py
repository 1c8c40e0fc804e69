"""The meaningful-decode measures as pure functions: features, realism, recall, face space, verdicts, intervals."""

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


def test_realism_is_one_on_the_ball_edge_and_recall_counts_covered_points():
    ref = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    radii = m.knn_radii(ref, k=1)
    assert np.allclose(radii, 1.0)
    score = m.realism(np.array([[0.5, 0.0], [5.0, 5.0]]), ref, radii)
    assert score[0] == pytest.approx(2.0) and score[1] < 1.0
    far = ref + 100.0
    assert m.recall(ref, ref + 0.01, k=1) == 1.0 and m.recall(ref, far, k=1) == 0.0


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
    cal = {"realism": np.linspace(0.9, 1.5, 101), "pixel_nn": np.linspace(0.5, 1.5, 101)}
    limits = m.thresholds(cal, quantile=0.9)
    assert limits["realism"] == pytest.approx(0.96) and limits["pixel_nn"] == pytest.approx(1.4)
    scores = {"realism": np.array([1.2, 0.5, 1.2]), "pixel_nn": np.array([1.0, 1.0, 3.0])}
    assert m.verdict(scores, limits).tolist() == [True, False, False]
    assert (m.margin(scores, limits) >= 0).tolist() == [True, False, False]
    assert m.verdict(cal, m.thresholds(cal, quantile=0.98)).mean() >= 0.96  # calibration data pass


def test_active_units_drop_collapsed_axes():
    z = np.c_[np.random.default_rng(1).normal(size=(500, 3)), np.full((500, 2), 0.001)]
    assert m.active_units(z).tolist() == [True, True, True, False, False]
    assert m.active_units(np.zeros((10, 4))).all()  # nothing active: keep every axis


def test_bootstrap_interval_covers_the_rate_and_narrows_with_more_samples():
    small = (np.arange(50) < 20).astype(float)
    large = (np.arange(2000) < 800).astype(float)
    lo, hi = m.bootstrap_interval(small, random_state=0)
    assert lo < 0.4 < hi
    lo2, hi2 = m.bootstrap_interval(large, random_state=0)
    assert lo2 < 0.4 < hi2 and hi2 - lo2 < (hi - lo) / 3
    assert m.bootstrap_interval(small, random_state=1) == m.bootstrap_interval(small, random_state=1)


def test_roc_auc():
    assert m.roc_auc([3, 4, 5], [0, 1, 2]) == 1.0
    assert m.roc_auc([0, 1], [0, 1]) == 0.5
    with pytest.raises(ValueError, match="at least one"):
        m.roc_auc([], [1])
