"""Samplers and interpolation paths at their boundaries: every chunk of a large run, two points, the first and last
row, n = 0, steps = 2, a one-dimensional z, angles near 0 and 180 degrees, and the documented defaults."""

import re

import numpy as np
import pytest
from scipy import stats as scipy_stats

from analysis import samplers
from analysis._checks import CHUNK

# Rounding puts this vector's cosine with 2x itself just above 1 (and with -2x itself just below -1).
ROUNDS_PAST_ONE = np.random.default_rng(0).normal(size=5)


def whole(message: str) -> str:
    """A pattern for exactly ``message``: the whole line a user reads."""
    return "^" + re.escape(message) + "$"


@pytest.fixture(scope="module")
def large_run():
    """More rows than one streaming chunk (the last chunk short), a spread below one unit per axis."""
    gen = np.random.default_rng(11)
    z = gen.normal(size=(CHUNK + 1500, 3)) * np.array([0.2, 0.5, 0.05]) + np.array([1.0, -2.0, 3.0])
    return z.astype(np.float32)


def test_data_scale_and_the_full_covariance_count_every_chunk_of_a_large_run(large_run):
    z64 = large_run.astype(np.float64)
    # The noise unit: sqrt of the mean per-axis variance (numpy's), below 1 here.
    expected = float(np.sqrt(np.mean(np.var(z64, axis=0))))
    assert expected < 0.5
    assert samplers.data_scale(large_run) == pytest.approx(expected, rel=1e-9)
    full = samplers.statistics("full_gaussian", large_run)
    np.testing.assert_allclose(full["factor"] @ full["factor"].T, np.cov(z64.T), rtol=1e-6)
    np.testing.assert_allclose(full["mean"], z64.mean(axis=0), atol=1e-5)


def test_the_full_gaussian_of_two_points_lies_on_their_line_and_of_one_point_is_that_point():
    two = np.random.default_rng(16).normal(size=(2, 6))
    full = samplers.statistics("full_gaussian", two)
    # Fewer points than dimensions: a singular covariance (N - 1 = 1 in the denominator) whose zero eigenvalues
    # come out of the solver slightly negative; its square root is still finite.
    assert np.isfinite(full["factor"]).all()
    np.testing.assert_allclose(full["factor"] @ full["factor"].T, np.cov(two.T), atol=1e-12)
    drawn = samplers.sample("full_gaussian", 200, two, random_state=0).astype(np.float64)
    along = (two[1] - two[0]) / np.linalg.norm(two[1] - two[0])
    off_line = (drawn - two.mean(axis=0)) - np.outer((drawn - two.mean(axis=0)) @ along, along)
    assert np.abs(off_line).max() < 1e-5
    spread = np.linalg.norm(two[1] - two[0]) / np.sqrt(2.0)  # each point is half the gap from the mean
    assert np.std((drawn - two.mean(axis=0)) @ along) == pytest.approx(spread, rel=0.15)
    one = np.array([[4.0, -1.0]])
    assert np.array_equal(samplers.sample("full_gaussian", 3, one, random_state=0), np.tile(one, (3, 1)))


def test_uniform_box_fills_the_data_box_uniformly_on_every_axis():
    gen = np.random.default_rng(12)
    z = gen.normal(size=(300, 3)) * np.array([5.0, 1.0, 0.2]) + np.array([0.0, 10.0, -3.0])
    box = samplers.sample("uniform_box", 3000, z, random_state=1).astype(np.float64)
    lo, hi = z.min(axis=0), z.max(axis=0)
    for axis in range(3):
        # Kolmogorov-Smirnov against scipy's uniform on [lo, hi]: a box shifted, shrunk or stretched fails.
        assert scipy_stats.kstest(box[:, axis], "uniform", args=(lo[axis], hi[axis] - lo[axis])).pvalue > 1e-3


def test_data_noise_draws_every_row_first_and_last_included_and_every_kind_returns_float32():
    z = np.arange(15.0).reshape(5, 3)
    anchors = samplers.sample("data_noise", 400, z, random_state=0, scale=0)
    assert anchors.dtype == np.float32
    assert {tuple(row) for row in anchors} == {tuple(row) for row in z.astype(np.float32)}
    for kind in samplers.STATISTIC_KINDS + ("normal",):
        assert samplers.sample(kind, 4, z, random_state=0).dtype == np.float32, kind
    kde = samplers.fit("kde", z, max_points=5)
    assert samplers.sample("kde", 4, z, random_state=0, fit=kde).dtype == np.float32


def test_kept_statistics_and_a_zero_scale_draw_without_a_pass_over_the_data(monkeypatch):
    z = np.random.default_rng(13).normal(size=(50, 4))
    kept = {kind: samplers.statistics(kind, z) for kind in samplers.STATISTIC_KINDS}
    expected = {kind: samplers.sample(kind, 6, z, random_state=2) for kind in samplers.STATISTIC_KINDS}
    zero = samplers.sample("data_noise", 6, z, random_state=2, scale=0)

    def no_pass(*args, **kwargs):
        raise AssertionError("the data were read again although the caller keeps their statistics")

    monkeypatch.setattr(samplers, "data_scale", no_pass)
    monkeypatch.setattr(samplers, "statistics", no_pass)
    for kind in samplers.STATISTIC_KINDS:
        assert np.array_equal(samplers.sample(kind, 6, z, random_state=2, stats=kept[kind]), expected[kind]), kind
    assert np.array_equal(samplers.sample("data_noise", 6, z, random_state=2, scale=0), zero)


def test_sample_n_zero_the_default_seed_and_the_errors_a_user_reads():
    z = np.random.default_rng(14).normal(size=(40, 3))
    for kind in ("normal", "axis_gaussian", "data_noise"):
        assert samplers.sample(kind, 0, z).shape == (0, 3), kind
    with pytest.raises(ValueError, match="n must be >= 0, got -1"):
        samplers.sample("normal", -1, z)
    # The documented default draw is seed 0's: the same points on every call.
    assert np.array_equal(samplers.sample("normal", 5, z), samplers.sample("normal", 5, z, random_state=0))
    assert not np.array_equal(samplers.sample("normal", 5, z), samplers.sample("normal", 5, z, random_state=1))
    with pytest.raises(ValueError, match="choose one of normal, axis_gaussian, full_gaussian, uniform_box, data_noise"):
        samplers.sample("gaussian", 5, z)
    with pytest.raises(ValueError, match="those that do: axis_gaussian, full_gaussian, uniform_box, data_noise"):
        samplers.statistics("kde", z)
    with pytest.raises(ValueError, match="'normal' has no fit; fitted samplers: gmm, kde"):
        samplers.fit("normal", z)


def test_fit_passes_its_components_points_and_default_seed_and_refuses_another_dimension():
    gen = np.random.default_rng(15)
    z = np.vstack([gen.normal(size=(50, 3)), gen.normal(size=(50, 3)) + 8.0])
    gmm = samplers.fit("gmm", z, k=2, max_points=60)
    assert gmm["means"].shape == (2, 3) and gmm["n_fit"] == 60
    assert np.array_equal(gmm["means"], samplers.fit("gmm", z, k=2, max_points=60, random_state=0)["means"])
    kde = samplers.fit("kde", z, max_points=40)
    assert kde["n_total"] == 100 and kde["n_fit"] < 40
    assert np.array_equal(kde["ids"], samplers.fit("kde", z, max_points=40, random_state=0)["ids"])
    assert not np.array_equal(kde["ids"], samplers.fit("kde", z, max_points=40, random_state=1)["ids"])
    with pytest.raises(ValueError, match=whole("this mixture was fitted to z-points of another dimension (refit it)")):
        samplers.sample("gmm", 3, np.hstack([z, z[:, :1]]), fit=gmm)


def test_paths_of_one_dimension_two_steps_and_bad_end_points():
    assert np.array_equal(samplers.lerp([1.0], [3.0], 3), [[1.0], [2.0], [3.0]])
    ends = samplers.slerp([1.0, 0.0], [0.0, 2.0], 2)
    assert np.array_equal(ends, [[1.0, 0.0], [0.0, 2.0]])
    with pytest.raises(ValueError, match="same length, got 3 and 4"):
        samplers.lerp(np.ones(3), np.ones(4), 5)
    with pytest.raises(ValueError, match="same length, got 0 and 0"):
        samplers.lerp([], [], 5)
    for bad in ([np.nan, 0.0], [0.0, np.inf]):
        with pytest.raises(ValueError, match=whole("z0 and z1 must be finite")):
            samplers.lerp([1.0, 2.0], bad, 3)
        with pytest.raises(ValueError, match=whole("z0 and z1 must be finite")):
            samplers.slerp(bad, [1.0, 2.0], 3)
    with pytest.raises(ValueError, match=r"steps must be >= 2 \(both end points are included\), got 1"):
        samplers.slerp([1.0, 0.0], [0.0, 1.0], 1)


def reference_slerp(a, b, steps):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    omega = np.arccos(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


def test_slerp_keeps_unit_norm_at_narrow_and_wide_angles_and_falls_back_to_the_line_at_the_edges():
    for degrees in (30.0, 150.0):
        angle = np.radians(degrees)
        a, b = np.array([1.0, 0.0, 0.0]), np.array([np.cos(angle), np.sin(angle), 0.0])
        arc = samplers.slerp(a, b, 9)
        np.testing.assert_allclose(np.linalg.norm(arc, axis=1), 1.0, rtol=1e-12)
        np.testing.assert_allclose(arc, reference_slerp(a, b, 9), atol=1e-12)
    # float32 z-points (a run's) give the float64 path.
    a32 = np.array([0.3, -1.2, 0.7], np.float32)
    b32 = np.array([1.1, 0.4, -0.2], np.float32)
    np.testing.assert_allclose(samplers.slerp(a32, b32, 7), reference_slerp(a32, b32, 7), rtol=1e-12, atol=1e-14)
    # From the origin, and between parallel directions, the path is the straight line.
    b = np.array([2.0, -1.0, 0.5])
    np.testing.assert_array_equal(samplers.slerp(np.zeros(3), b, 5), samplers.lerp(np.zeros(3), b, 5))
    np.testing.assert_array_equal(samplers.slerp(b, np.zeros(3), 5), samplers.lerp(b, np.zeros(3), 5))
    a = ROUNDS_PAST_ONE
    assert a @ (2 * a) / (np.linalg.norm(a) * np.linalg.norm(2 * a)) > 1.0  # the case the clip is there for
    along = samplers.slerp(ROUNDS_PAST_ONE, 2 * ROUNDS_PAST_ONE, 5)
    np.testing.assert_array_equal(along, samplers.lerp(ROUNDS_PAST_ONE, 2 * ROUNDS_PAST_ONE, 5))
    with pytest.raises(
        ValueError,
        match=whole("z0 and z1 point in opposite directions; spherical interpolation is undefined (use lerp)"),
    ):
        samplers.slerp(ROUNDS_PAST_ONE, -2 * ROUNDS_PAST_ONE, 5)


def test_gmm_draws_follow_the_seed_given():
    gen = np.random.default_rng(17)
    z = np.vstack([gen.normal(size=(40, 2)), gen.normal(size=(40, 2)) + 6.0])
    gmm = samplers.fit("gmm", z, k=2)
    first = samplers.sample("gmm", 20, z, random_state=3, fit=gmm)
    assert np.array_equal(first, samplers.sample("gmm", 20, z, random_state=3, fit=gmm))
    assert not np.array_equal(first, samplers.sample("gmm", 20, z, random_state=4, fit=gmm))


def test_a_gmm_fit_follows_the_seed_given():
    gen = np.random.default_rng(18)
    z = np.vstack([gen.normal(size=(50, 3)), gen.normal(size=(50, 3)) + 8.0])
    first = samplers.fit("gmm", z, k=2, max_points=60, random_state=1)["means"]
    assert not np.array_equal(first, samplers.fit("gmm", z, k=2, max_points=60, random_state=0)["means"])
