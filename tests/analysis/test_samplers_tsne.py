"""Samplers, interpolation paths, and the t-SNE front end (tiny sizes only)."""

import numpy as np
import pytest

from analysis import samplers, tsne
from tools import synthetic


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(8)
    z = rng.normal(size=(2000, 6)) @ np.diag([3, 1, 1, 0.5, 0.5, 0.1]) + np.arange(6)
    return z.astype(np.float32)


def test_fitted_samplers_reproduce_data_moments(data):
    axis = samplers.sample("axis_gaussian", 20000, data, random_state=0)
    assert np.allclose(axis.mean(axis=0), data.mean(axis=0), atol=0.1)
    assert np.allclose(axis.std(axis=0), data.std(axis=0), rtol=0.05)
    full = samplers.sample("full_gaussian", 20000, data, random_state=0)
    assert np.allclose(np.cov(full.T), np.cov(data.T), atol=0.2)
    box = samplers.sample("uniform_box", 5000, data, random_state=0)
    assert (box >= data.min(axis=0) - 1e-6).all() and (box <= data.max(axis=0) + 1e-6).all()
    normal = samplers.sample("normal", 20000, data, random_state=0)
    assert np.allclose(normal.mean(axis=0), 0, atol=0.05)


def test_kept_statistics_give_the_same_draw_as_computing_them_and_are_the_datas_moments(data):
    z64 = data.astype(np.float64)
    for kind in samplers.STATISTIC_KINDS:
        stats = samplers.statistics(kind, data)
        kept = samplers.sample(kind, 50, data, random_state=5, stats=stats)
        assert np.array_equal(kept, samplers.sample(kind, 50, data, random_state=5)), kind
    axis, full = samplers.statistics("axis_gaussian", data), samplers.statistics("full_gaussian", data)
    np.testing.assert_allclose(axis["std"], z64.std(axis=0), rtol=1e-10)
    np.testing.assert_allclose(full["factor"] @ full["factor"].T, np.cov(z64.T), atol=1e-8)
    box = samplers.statistics("uniform_box", data)
    assert np.array_equal(box["lo"], z64.min(axis=0)) and np.array_equal(box["hi"], z64.max(axis=0))
    with pytest.raises(ValueError, match="draws from no statistics"):
        samplers.statistics("normal", data)


def test_data_noise_sampler_scales_its_noise_to_the_data(data):
    from analysis.structure import nn_distances

    # The unit: the RMS per-axis standard deviation, against numpy.
    unit = float(np.sqrt(np.mean(np.var(data.astype(np.float64), axis=0))))
    assert samplers.data_scale(data) == pytest.approx(unit, rel=1e-9)
    points = samplers.sample("data_noise", 200, data, random_state=1, scale=0.01)
    assert nn_distances(data, points).max() < 0.1
    # The default noise: a tenth of the data's spread per axis, whatever the latent scale.
    for factor in (1.0, 100.0):
        scaled = data * factor
        moved = samplers.sample("data_noise", 4000, scaled, random_state=2) - samplers.sample(
            "data_noise", 4000, scaled, random_state=2, scale=0
        )
        assert moved.std() == pytest.approx(samplers.DATA_NOISE_SHARE * unit * factor, rel=0.03)


def test_samplers_are_reproducible_and_seeded(data):
    a = samplers.sample("full_gaussian", 10, data, random_state=3)
    assert np.array_equal(a, samplers.sample("full_gaussian", 10, data, random_state=3))
    assert not np.array_equal(a, samplers.sample("full_gaussian", 10, data, random_state=4))
    with pytest.raises(ValueError, match="unknown sampler"):
        samplers.sample("gaussian", 10, data)


def test_lerp_and_slerp_paths():
    z0, z1 = np.array([3.0, 0.0, 0.0]), np.array([0.0, 3.0, 0.0])
    line = samplers.lerp(z0, z1, 5)
    assert line.shape == (5, 3) and np.allclose(line[0], z0) and np.allclose(line[-1], z1)
    assert np.allclose(line[2], [1.5, 1.5, 0])
    arc = samplers.slerp(z0, z1, 5)
    assert np.allclose(arc[0], z0) and np.allclose(arc[-1], z1)
    assert np.allclose(np.linalg.norm(arc, axis=1), 3.0)  # stays on the sphere, off the empty centre
    with pytest.raises(ValueError, match="opposite directions"):
        samplers.slerp(z0, -z0, 4)
    with pytest.raises(ValueError, match="steps must be >= 2"):
        samplers.lerp(z0, z1, 1)


@pytest.mark.parametrize("backend", ["opentsne-bh", "opentsne-fft", "sklearn"])
def test_tsne_backends_map_a_subset_and_record_it(backend):
    z, labels = synthetic.filament_cloud(4, 60, 32, noise=0.01, random_state=0, return_labels=True)
    result = tsne.run_tsne(z, n_points=150, perplexity=10, n_iter=300, backend=backend, random_state=1, n_jobs=1)
    assert result.backend == backend
    assert result.embedding.shape == (150, 2) and np.isfinite(result.embedding).all()
    assert len(np.unique(result.ids)) == 150 and result.ids.max() < len(z)
    assert result.params["n_points"] == 150 and result.params["perplexity"] == 10
    # points of the same curve end up closer to each other than to other curves
    emb, lab = result.embedding, labels[result.ids]
    centroids = np.array([emb[lab == c].mean(axis=0) for c in range(4)])
    nearest = np.argmin(((emb[:, None, :] - centroids[None]) ** 2).sum(-1), axis=1)
    assert np.mean(nearest == lab) > 0.9


def test_tsne_after_pca_same_seed_same_map_and_progress():
    z = synthetic.filament_cloud(3, 50, 16, noise=0.01, random_state=2)
    seen = []
    a = tsne.run_tsne(
        z,
        n_points=100,
        pca_components=4,
        perplexity=8,
        n_iter=260,
        random_state=0,
        n_jobs=1,
        callback=lambda p, m: seen.append(p),
    )
    b = tsne.run_tsne(z, n_points=100, pca_components=4, perplexity=8, n_iter=260, random_state=0, n_jobs=1)
    assert a.backend == "opentsne-bh" and a.params["pca_components"] == 4
    assert np.array_equal(a.ids, b.ids) and np.allclose(a.embedding, b.embedding)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen) and len(seen) > 5


def test_tsne_cancel_through_callback():
    z = synthetic.filament_cloud(3, 50, 16, random_state=3)
    calls = []

    def stop_after_a_few(progress, message):
        calls.append(progress)
        return len(calls) < 4

    with pytest.raises(tsne.TsneCancelled, match="cancelled"):
        tsne.run_tsne(z, n_points=100, perplexity=8, n_iter=500, n_jobs=1, callback=stop_after_a_few)
    assert len(calls) == 4


def test_tsne_auto_backend_rule_and_bad_parameters():
    assert tsne.choose_backend(5000) == "opentsne-bh"
    assert tsne.choose_backend(165_000) == "opentsne-fft"
    z = np.random.default_rng(0).normal(size=(30, 4))
    with pytest.raises(ValueError, match="perplexity 30 is too large for 30 points"):
        tsne.run_tsne(z)
    with pytest.raises(ValueError, match="unknown t-SNE backend"):
        tsne.run_tsne(z, backend="cuda")
