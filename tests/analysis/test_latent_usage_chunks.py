"""Active units and the KL term streamed in chunks: every chunk counted once, the first and the last too, and the
errors a user reads name the argument."""

import numpy as np
import pytest

from analysis import latent_usage
from tests.analysis.conftest import mapped_points, peak_bytes


@pytest.fixture
def four_row_chunks(monkeypatch):
    monkeypatch.setattr(latent_usage, "CHUNK", 4)  # 10 rows: chunks of 4, 4 and 2


def test_axis_variances_over_chunks_match_numpy_and_count_every_row_once(four_row_chunks):
    rng = np.random.default_rng(11)
    z = (rng.normal(size=(10, 3)) * [0.05, 1.0, 3.0] + [100.0, -2.0, 0.0]).astype(np.float32)
    z[0], z[-1] = [100.5, 4.0, -9.0], [99.0, -8.0, 7.0]  # the first and the last row weigh most
    expected = z.astype(np.float64).var(axis=0)
    got = latent_usage.axis_variances(z)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert latent_usage.active_units(z) == int(np.sum(expected > latent_usage.ACTIVE_THRESHOLD)) == 3
    assert type(latent_usage.active_units(z, threshold=float(expected[0]))) is int


def test_mean_kl_over_chunks_matches_the_closed_form_per_point(four_row_chunks):
    rng = np.random.default_rng(12)
    mu = rng.normal(size=(10, 3)).astype(np.float32)
    logvar = rng.normal(scale=0.5, size=(10, 3)).astype(np.float32)
    mu[-1], logvar[0] = [4.0, -4.0, 2.0], [-3.0, 2.0, 1.0]
    m64, lv64 = mu.astype(np.float64), logvar.astype(np.float64)
    per_point = 0.5 * (m64**2 + np.exp(lv64) - 1.0 - lv64)  # KL(N(mu, sigma^2) || N(0, 1)) per axis
    total, per_axis = latent_usage.mean_kl(mu, logvar)
    np.testing.assert_allclose(per_axis, per_point.mean(axis=0), rtol=1e-12)
    assert total == pytest.approx(per_point.sum(axis=1).mean(), rel=1e-12) and type(total) is float


def test_the_latent_usage_errors_name_the_argument_and_the_fix():
    with pytest.raises(ValueError, match=r"^z needs at least 2 point\(s\), got 1$"):
        latent_usage.active_units(np.zeros((1, 3)))
    assert latent_usage.active_units(np.array([[0.0, 0.0], [1.0, 0.0]])) == 1  # two points are enough
    with pytest.raises(ValueError, match=r"^mu has shape \(2, 3\) but logvar has \(2, 2\)$"):
        latent_usage.mean_kl(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="^mu contains NaN or inf values$"):
        latent_usage.mean_kl([[np.nan]], [[0.0]])
    with pytest.raises(ValueError, match="^logvar contains NaN or inf values$"):
        latent_usage.mean_kl([[0.0]], [[np.inf]])


def test_a_memory_mapped_run_is_read_chunk_by_chunk_not_copied_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(latent_usage, "CHUNK", 1000)
    # 1.9 MB of float32 on disk, 3.8 MB as a float64 copy; a chunk is 64 kB
    mu = mapped_points(tmp_path / "z.npy", 60_000, 8, seed=13)
    _, peak = peak_bytes(lambda: (latent_usage.axis_variances(mu), latent_usage.mean_kl(mu, mu)))
    assert peak < 1_500_000, f"peak {peak} bytes: the run was copied into memory"
