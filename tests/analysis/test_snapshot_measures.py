"""Over training: per-snapshot structure numbers, one PCA basis for all snapshots, and the latent-usage measures."""

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from sklearn.decomposition import PCA

import rundir
from analysis import latent_usage, results, snapshots
from analysis.precompute import AnalyzeOptions, plan
from rundir.errors import RunNotReadyError
from rundir.snapshots import load_snapshot, snapshot_epochs, write_snapshot, write_snapshot_rows

Z_DIM, ROWS = 6, 240


@pytest.fixture
def snapshot_run(tmp_path, make_run):
    """A run with snapshots after epochs 2, 4 and 5: points spreading out along axis 0, the other axes fixed."""
    rng = np.random.default_rng(3)
    base = rng.normal(size=(ROWS, Z_DIM))
    run = make_run(tmp_path / "runs" / "grows", base * 0.5)
    write_snapshot_rows(run, np.arange(0, 2 * ROWS, 2))
    for epoch, stretch in ((2, 1.0), (4, 2.0), (5, 3.0)):
        scale = np.array([stretch, 0.3, 0.05, 0.03, 0.01, 0.003])
        write_snapshot(run, epoch, base * scale + np.arange(Z_DIM))
    pd.DataFrame({"epoch": [1, 2, 3, 4, 5], "loss": [9.0, 8, 7, 6, 5], "kl_loss": [0.1, 0.2, 0.3, 0.4, 0.5]}).to_csv(
        run / rundir.HISTORY, index=False
    )
    return run


def test_each_snapshot_gets_the_structure_views_measures_and_its_usage(snapshot_run):
    z = load_snapshot(snapshot_run, 4)
    found = snapshots.epoch_structure(snapshot_run, 4, n_points=200, n_probes=100)
    # The same measures the Structure view computes for zpoints.npy, here on the snapshot's points.
    view = snapshots.structure.structure_with_null(np.asarray(z), 200, 100, 20, 0.99, None, 0)
    for key in ("lid_median", "null_lid_median", "void_normal", "null_void_uniform_box", "nn_median"):
        assert found[key] == pytest.approx(view[key]), key
    assert found["active_units"] == int(np.sum(np.var(np.asarray(z, np.float64), axis=0) > 0.01)) == 2
    assert found["pc1_share"] == pytest.approx(
        PCA().fit(np.asarray(z, np.float64)).explained_variance_ratio_[0], rel=1e-6
    )
    assert found["radius_mean"] == pytest.approx(np.mean(np.linalg.norm(z, axis=1)), rel=1e-6)
    assert found["n_rows"] == ROWS and found["epoch"] == 4


def test_the_pca_basis_is_the_last_snapshots_and_every_snapshot_is_projected_into_it(snapshot_run):
    fitted = snapshots.snapshot_pca(snapshot_run, components=3)
    assert list(fitted["epochs"]) == [2, 4, 5] and fitted["coords"].shape == (3, ROWS, 3)
    reference = PCA(n_components=3).fit(np.asarray(load_snapshot(snapshot_run, 5), np.float64))
    for index, epoch in enumerate((2, 4, 5)):
        scores = reference.transform(load_snapshot(snapshot_run, epoch))
        ours = fitted["coords"][index]
        signs = np.sign(np.sum(ours * scores, axis=0))  # a component's sign is a convention
        np.testing.assert_allclose(ours, scores * signs, atol=1e-4)
    # Points move, axes do not: the early snapshot spreads less along the last one's PC1.
    assert np.std(fitted["coords"][0][:, 0]) == pytest.approx(np.std(fitted["coords"][2][:, 0]) / 3, rel=1e-2)
    np.testing.assert_array_equal(fitted["rows"], np.arange(0, 2 * ROWS, 2))


def test_the_epoch_curve_reads_only_cached_epochs_unless_asked_to_compute(snapshot_run):
    empty = snapshots.epoch_curve(snapshot_run, compute=False)
    assert empty["epochs"] == [2, 4, 5] and empty["lid_median"] == [None, None, None]
    assert empty["loss"] == [8.0, 6.0, 5.0] and empty["kl_loss"] == pytest.approx([0.2, 0.4, 0.5])
    computed = snapshots.epoch_curve(snapshot_run)
    assert computed["active_units"] == [2.0, 2.0, 2.0] and all(v is not None for v in computed["lid_median"])
    assert snapshots.epoch_curve(snapshot_run, compute=False) == computed
    assert computed["params"]["n_points"] == 1500 and computed["rows"] == ROWS


def test_analyze_plans_the_snapshot_analyses_and_a_run_without_snapshots_has_no_curve(snapshot_run, make_run):
    labels = [label for label, _, _ in plan(snapshot_run, AnalyzeOptions(quick=True, skip_tsne=True, skip_umap=True))]
    assert labels[-4:] == [
        "structure after epoch 2 (snapshot)",
        "structure after epoch 4 (snapshot)",
        "structure after epoch 5 (snapshot)",
        "PCA basis of 3 snapshots",
    ]
    plain = make_run(snapshot_run.parent / "plain", np.ones((20, 3)) * np.arange(20)[:, None])
    assert snapshots.epoch_curve(plain) is None
    with pytest.raises(ValueError, match="no snapshots; train it with --snapshot-every"):
        snapshots.snapshot_pca(plain)


def test_damaged_snapshots_are_refused_with_a_reason(snapshot_run):
    write_snapshot(snapshot_run, 6, np.zeros((ROWS - 1, Z_DIM)))
    assert snapshot_epochs(snapshot_run) == [2, 4, 5, 6]
    with pytest.raises(RunNotReadyError, match=f"epoch_006.npy must be float32 {ROWS} x {Z_DIM}"):
        load_snapshot(snapshot_run, 6)
    write_snapshot(snapshot_run, 6, np.full((ROWS, Z_DIM), np.nan))
    with pytest.raises(RunNotReadyError, match="NaN"):
        load_snapshot(snapshot_run, 6)
    write_snapshot_rows(snapshot_run, [3, 2, 5])
    with pytest.raises(RunNotReadyError, match="distinct rows in ascending order"):
        load_snapshot(snapshot_run, 2)
    with pytest.raises(ValueError, match="no snapshot of epoch 3"):
        snapshots.epoch_structure(snapshot_run, 3)
    assert results.pca.is_cached(snapshot_run) is False  # nothing else was touched


def test_active_units_count_axes_whose_mean_varies_above_the_threshold_at_the_boundary():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5000, 5)) * np.array([1.0, 0.5, 0.2, 0.05, 0.0])
    variances = np.var(z, axis=0)
    assert latent_usage.active_units(z) == int(np.sum(variances > 0.01)) == 3
    np.testing.assert_allclose(latent_usage.axis_variances(z), variances, rtol=1e-12)
    # Exactly at the threshold is not above it.
    assert latent_usage.active_units(z, threshold=float(variances[2])) == 2


def test_mean_kl_matches_numerical_integration_per_axis():
    mu = np.array([[0.0, 1.5, -0.4], [0.3, -2.0, 0.0]])
    logvar = np.array([[0.0, -1.0, 0.7], [-3.0, 0.2, -0.5]])
    total, per_axis = latent_usage.mean_kl(mu, logvar)

    def kl(m, lv):
        q = stats.norm(m, np.exp(0.5 * lv))
        return integrate.quad(lambda x: q.pdf(x) * (q.logpdf(x) - stats.norm.logpdf(x)), m - 12, m + 12)[0]

    expected = np.array(
        [[kl(m, lv) for m, lv in zip(row_m, row_lv, strict=True)] for row_m, row_lv in zip(mu, logvar, strict=True)]
    )
    np.testing.assert_allclose(per_axis, expected.mean(axis=0), rtol=1e-6)
    assert total == pytest.approx(expected.sum(axis=1).mean(), rel=1e-6)
    assert latent_usage.mean_kl(np.zeros((4, 2)), np.zeros((4, 2)))[0] == 0.0
    with pytest.raises(ValueError, match="logvar has"):
        latent_usage.mean_kl(mu, logvar[:, :2])
