"""The ex-post GMM and KDE against scikit-learn, a log-sum-exp loop and the sampling distributions they promise."""

import numpy as np
import pytest
from scipy import special, stats
from sklearn.mixture import GaussianMixture

from analysis import density_fit


def test_one_component_is_the_data_mean_and_covariance_plus_the_relative_regularisation():
    rng = np.random.default_rng(50)
    z = rng.normal(size=(400, 3)) @ np.array([[2.0, 0, 0], [0.5, 1.0, 0], [0, 0.3, 0.2]])
    fit = density_fit.fit_gmm(z, k=1, max_points=1000)
    reg = 1e-3 * z.var(axis=0).mean()
    expected = np.cov(z.T, bias=True) + reg * np.eye(3)
    chol = fit["chol"][0].astype(np.float64)
    assert np.allclose(chol @ chol.T, expected, rtol=1e-5, atol=1e-7)
    assert np.allclose(fit["means"][0], z.mean(axis=0), atol=1e-5) and fit["weights"].tolist() == [1.0]
    assert (fit["n_fit"], fit["n_total"], fit["kind"]) == (400, 400, "gmm")
    assert fit["chol"].dtype == np.float32 and fit["means"].dtype == np.float32


def test_a_mixture_is_scikit_learns_fit_of_the_drawn_points_with_the_drawn_seed():
    rng = np.random.default_rng(51)
    z = np.concatenate([rng.normal(0, 0.5, (300, 2)), rng.normal(6, 1.0, (300, 2))])
    fit = density_fit.fit_gmm(z, k=2, max_points=500, random_state=7)
    gen = np.random.default_rng(7)
    ids = np.sort(gen.choice(600, size=500, replace=False))
    data = z[ids]
    reference = GaussianMixture(
        n_components=2,
        covariance_type="full",
        reg_covar=1e-3 * data.var(axis=0).mean(),
        max_iter=density_fit.GMM_MAX_ITER,
        random_state=int(gen.integers(2**31 - 1)),
    ).fit(data)
    assert np.allclose(fit["weights"], reference.weights_, rtol=1e-12)
    assert np.allclose(fit["means"], reference.means_, rtol=1e-6)
    assert fit["loglik"] == pytest.approx(reference.lower_bound_, rel=1e-12)
    assert (fit["n_iter"], fit["converged"], fit["n_fit"]) == (reference.n_iter_, reference.converged_, 500)


def test_identical_points_get_the_absolute_floor_of_regularisation():
    fit = density_fit.fit_gmm(np.ones((5, 2)), k=1)
    chol = fit["chol"][0].astype(np.float64)
    assert np.allclose(chol @ chol.T, 1e-6 * np.eye(2), rtol=1e-4)


def test_the_documented_defaults():
    assert (density_fit.DEFAULT_COMPONENTS, density_fit.DEFAULT_MAX_POINTS, density_fit.GMM_MAX_ITER) == (
        10,
        20000,
        100,
    )
    assert (density_fit.KDE_VALIDATION_SHARE, density_fit.KDE_MAX_VALIDATION, density_fit.KDE_GRID_POINTS) == (
        0.1,
        1000,
        24,
    )
    assert density_fit.KDE_BANDWIDTH_RANGE == (1e-3, 3.0) and density_fit.MIN_POINTS == 3


def test_three_points_and_k_up_to_their_number_are_the_limits():
    z = np.random.default_rng(52).normal(size=(10, 2))
    assert density_fit.fit_gmm(z, k=3, max_points=3)["n_fit"] == 3
    with pytest.raises(ValueError, match="^max_points must be at least 3, got 2$"):
        density_fit.fit_gmm(z, max_points=2)
    with pytest.raises(ValueError, match="^a Gaussian mixture needs at least 3 points, got 2$"):
        density_fit.fit_gmm(z[:2], k=1)
    with pytest.raises(ValueError, match="^k=4 components need between 1 and 3"):
        density_fit.fit_gmm(z, k=4, max_points=3)
    with pytest.raises(ValueError, match="^k=0 components"):
        density_fit.fit_gmm(z, k=0)
    with pytest.raises(ValueError, match="^a kernel density needs at least 3 points, got 2$"):
        density_fit.fit_kde(z[:2])


def test_kde_loglik_is_the_mean_log_of_the_kernel_average_up_to_its_constant():
    rng = np.random.default_rng(53)
    d2 = rng.uniform(0.5, 30.0, size=(40, 70))
    widths = np.array([0.05, 0.3, 1.0, 4.0])
    got = density_fit.kde_loglik(d2, widths, d=5)
    for h, value in zip(widths, got, strict=True):
        # log N(x; c, h^2 I) = -|x - c|^2 / (2 h^2) - d log h - (d / 2) log(2 pi): the last term is dropped
        brute = np.mean(special.logsumexp(-d2 / (2 * h * h), axis=1) - np.log(d2.shape[1])) - 5 * np.log(h)
        assert value == pytest.approx(brute, rel=1e-6, abs=1e-6), h


def test_the_bandwidth_is_the_best_of_a_coarse_and_a_fine_grid_and_near_the_true_optimum():
    rng = np.random.default_rng(54)
    points = rng.normal(size=(300, 2))
    held, centres = points[:60], points[60:]
    d2 = ((held[:, None, :] - centres[None]) ** 2).sum(-1)
    best, widths, loglik = density_fit.best_bandwidth(d2, d=2, unit=2.0)
    assert len(widths) == 2 * density_fit.KDE_GRID_POINTS and np.all(np.diff(widths) >= 0)
    assert widths[0] == pytest.approx(2e-3) and widths[-1] == pytest.approx(6.0)
    assert best == widths[np.argmax(loglik)]
    dense = np.geomspace(2e-3, 6.0, 4000)
    optimum = dense[np.argmax(density_fit.kde_loglik(d2, dense, 2))]
    assert best == pytest.approx(optimum, rel=0.01)  # the fine grid resolves it to about 1 %


def test_a_kde_holds_out_a_tenth_chooses_its_width_on_them_and_keeps_the_rest_as_centres():
    z = np.random.default_rng(55).normal(size=(100, 3))
    fit = density_fit.fit_kde(z, max_points=500, random_state=9)
    held = np.zeros(100, dtype=bool)
    held[np.random.default_rng(9).choice(100, size=10, replace=False)] = True
    assert fit["ids"].tolist() == np.flatnonzero(~held).tolist() and fit["n_fit"] == 90 and fit["n_total"] == 100
    unit = np.sqrt(z.var(axis=0).mean())
    d2 = ((z[held][:, None, :] - z[~held][None]) ** 2).sum(-1)
    assert fit["bandwidth"] == pytest.approx(density_fit.best_bandwidth(d2, 3, unit)[0], rel=1e-9)
    assert fit["scott"] == pytest.approx(90 ** (-1 / 7) * unit, rel=1e-12)


def test_the_held_out_share_is_capped(monkeypatch):
    monkeypatch.setattr(density_fit, "KDE_MAX_VALIDATION", 4)
    assert density_fit.fit_kde(np.random.default_rng(56).normal(size=(100, 2)))["n_fit"] == 96


def test_gmm_samples_follow_the_weights_means_and_covariances():
    fit = {
        "weights": np.array([2.0, 6.0]),  # not normalised: read as 1/4 and 3/4
        "means": np.array([[-5.0, 0.0], [5.0, 1.0]]),
        "chol": np.array([[[1.0, 0.0], [0.0, 1.0]], [[2.0, 0.0], [1.0, 0.5]]]),
    }
    n = 20000
    points = density_fit.sample_gmm(fit, n, random_state=1)
    right = points[:, 0] > 0
    # the share of each component is binomial: 4 standard errors is far below a wrong weight's 0.25 / 0.5 gap
    assert abs(right.mean() - 0.75) < 4 * np.sqrt(0.75 * 0.25 / n)
    second = points[right]
    assert np.allclose(second.mean(axis=0), [5.0, 1.0], atol=4 * 2 / np.sqrt(right.sum()))
    assert np.allclose(np.cov(second.T), fit["chol"][1] @ fit["chol"][1].T, rtol=0.05, atol=0.02)
    assert np.array_equal(points, density_fit.sample_gmm(fit, n, random_state=1))


def test_kde_samples_are_centres_moved_by_a_chi_distributed_distance():
    z = np.array([[0.0] * 4, [100.0] * 4, [-100.0] * 4])
    fit = {"ids": np.array([0, 2]), "bandwidth": 0.5}
    points = density_fit.sample_kde(fit, 4000, z, random_state=2)
    dist = np.linalg.norm(points[:, None, :] - z[None], axis=2)
    source = dist.argmin(axis=1)
    assert set(source.tolist()) == {0, 2}  # never the row left out of the centres
    moved = dist.min(axis=1) / 0.5
    assert moved.mean() == pytest.approx(stats.chi(4).mean(), abs=4 * stats.chi(4).std() / np.sqrt(4000))
    for broken in ({"ids": np.array([], dtype=int), "bandwidth": 1.0}, {"ids": np.array([3]), "bandwidth": 1.0}):
        with pytest.raises(ValueError, match="fitted to other z-points"):
            density_fit.sample_kde(broken, 5, z)


@pytest.fixture(scope="module")
def noise():
    # no clusters: where EM and the subsample land depends on the seed, so a lost seed shows
    return np.random.default_rng(57).uniform(-1, 1, size=(300, 3))


def test_a_mixture_on_structureless_points_is_scikit_learns_fit_with_the_drawn_seed(noise):
    fit = density_fit.fit_gmm(noise, k=4, max_points=250, random_state=11)
    gen = np.random.default_rng(11)
    data = noise[np.sort(gen.choice(300, size=250, replace=False))]
    reference = GaussianMixture(
        n_components=4,
        covariance_type="full",
        reg_covar=1e-3 * data.var(axis=0).mean(),
        max_iter=density_fit.GMM_MAX_ITER,
        random_state=int(gen.integers(2**31 - 1)),
    ).fit(data)
    assert np.allclose(fit["means"], reference.means_, rtol=1e-6)
    other = density_fit.fit_gmm(noise, k=4, max_points=250, random_state=12)
    assert not np.allclose(other["means"], fit["means"], atol=1e-3)


def test_the_default_seed_is_zero_for_every_fit_and_sample(noise):
    gmm = density_fit.fit_gmm(noise, k=4, max_points=250)
    assert np.array_equal(gmm["means"], density_fit.fit_gmm(noise, k=4, max_points=250, random_state=0)["means"])
    kde = density_fit.fit_kde(noise, max_points=250)
    assert np.array_equal(kde["ids"], density_fit.fit_kde(noise, max_points=250, random_state=0)["ids"])
    assert not np.array_equal(kde["ids"], density_fit.fit_kde(noise, max_points=250, random_state=1)["ids"])
    for sample, args in ((density_fit.sample_gmm, (gmm, 50)), (density_fit.sample_kde, (kde, 50, noise))):
        assert np.array_equal(sample(*args), sample(*args, random_state=0))
        assert not np.array_equal(sample(*args), sample(*args, random_state=1))


def test_a_kde_of_a_subsample_takes_its_centres_from_the_seeded_draw(noise):
    fit = density_fit.fit_kde(noise, max_points=120, random_state=5)
    gen = np.random.default_rng(5)
    ids = np.sort(gen.choice(300, size=120, replace=False))
    held = np.zeros(120, dtype=bool)
    held[gen.choice(120, size=12, replace=False)] = True
    assert fit["ids"].tolist() == ids[~held].tolist() and (fit["n_fit"], fit["n_total"]) == (108, 300)
    assert set(fit) == {"kind", "ids", "bandwidth", "scott", "bandwidths", "loglik", "n_fit", "n_total", "seconds"}
    assert len(fit["bandwidths"]) == len(fit["loglik"]) == 48 and 0 <= fit["seconds"] < 60


def test_ten_points_hold_out_one_and_the_width_scales_with_the_data():
    z = np.random.default_rng(58).normal(size=(10, 2))
    fit = density_fit.fit_kde(z)
    assert fit["n_fit"] == 9
    small = density_fit.fit_kde(z * 1e-3)
    assert small["bandwidth"] == pytest.approx(1e-3 * fit["bandwidth"], rel=1e-6)
    assert small["scott"] == pytest.approx(1e-3 * fit["scott"], rel=1e-9)


def test_squared_distances_equal_a_loop_across_query_chunks():
    rng = np.random.default_rng(59)
    queries, points = rng.normal(size=(2100, 3)), rng.normal(size=(7, 3))  # two chunks of 1024 and a rest
    brute = np.array([[sum((q - p) ** 2) for p in points] for q in queries])
    assert np.allclose(density_fit._squared_distances(queries, points), brute, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match=r"^this kernel density was fitted to other z-points \(refit it for these\)$"):
        density_fit.sample_kde({"ids": np.array([9]), "bandwidth": 1.0}, 3, queries[:5])


def test_the_fine_grid_spans_the_coarse_neighbours_of_the_best_even_at_either_end():
    rng = np.random.default_rng(60)
    lo, hi = density_fit.KDE_BANDWIDTH_RANGE
    coarse = np.geomspace(lo, hi, density_fit.KDE_GRID_POINTS)
    cases = {
        "inside": rng.uniform(0.01, 0.1, size=(30, 80)),
        "smallest": np.where(rng.uniform(size=(30, 80)) < 0.5, 0.0, 50.0),  # duplicates: the narrowest kernel wins
        "widest": 100.0 + rng.uniform(0.0, 1e-3, size=(30, 80)),  # every centre far: the optimum, h = 10, is past 3
    }
    for name, d2 in cases.items():
        d = 1 if name == "widest" else 2
        best_coarse = int(np.argmax(density_fit.kde_loglik(d2, coarse, d)))
        fine = np.geomspace(coarse[max(best_coarse - 1, 0)], coarse[min(best_coarse + 1, 23)], 24)
        best, widths, loglik = density_fit.best_bandwidth(d2, d)
        assert np.allclose(widths, np.sort(np.concatenate([coarse, fine]))), name
        assert best == widths[np.argmax(loglik)]
        assert best_coarse == {"inside": best_coarse, "smallest": 0, "widest": 23}[name], (name, best_coarse)
        assert best == density_fit.best_bandwidth(d2, d, unit=1.0)[0]  # the documented default unit


def test_three_points_are_enough_for_both_fits():
    z = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    gmm = density_fit.fit_gmm(z, k=1)
    assert gmm["n_fit"] == 3 and 0 <= gmm["seconds"] < 60
    assert density_fit.fit_kde(z)["n_fit"] == 2
