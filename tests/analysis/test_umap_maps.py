"""UMAP maps: seeded, parameters recorded, umap-learn's own map and inverse, hull flag, cancellation."""

import os
import subprocess
import sys

import numba
import numpy as np
import pytest
from scipy.spatial.distance import pdist

from analysis import umap_maps
from analysis.umap_inverse import inside_hull, inverse_transform
from analysis.umap_maps import UmapCancelled, map_input, run_umap
from tools import synthetic

SETTINGS = {"n_points": None, "n_epochs": 100, "random_state": 0}


@pytest.fixture(scope="module")
def cloud():
    return synthetic.filament_cloud(10, 30, 8, noise=0.01, random_state=0)


@pytest.fixture(scope="module")
def fit(cloud):
    return run_umap(cloud, **SETTINGS)


def test_a_seeded_map_is_reproducible_and_records_its_parameters(cloud, fit):
    again = run_umap(cloud, **SETTINGS)
    np.testing.assert_array_equal(again.embedding, fit.embedding)
    other = run_umap(cloud, **{**SETTINGS, "random_state": 1})
    assert not np.allclose(other.embedding, fit.embedding)
    assert fit.embedding.dtype == np.float32 and fit.embedding.shape == (300, 2)
    assert fit.params == {
        "n_points": 300,
        "pca_components": None,
        "n_neighbors": 15,
        "min_dist": 0.1,
        "spread": 1.0,
        "metric": "euclidean",
        "n_epochs": 100,
        "random_state": 0,
    }


def test_a_subset_after_pca_maps_the_drawn_rows(cloud):
    small = run_umap(cloud, n_points=120, pca_components=3, n_epochs=30)
    assert len(small.ids) == 120 and np.all(np.diff(small.ids) > 0)
    assert small.params["n_points"] == 120 and small.params["pca_components"] == 3
    assert map_input(cloud, small.ids, 3).shape == (120, 3)


def test_the_map_and_its_inverse_are_umap_learns_own(cloud, fit):
    x = map_input(cloud, fit.ids)
    model = umap_maps._umap().UMAP(n_epochs=100, random_state=0, n_jobs=1, **umap_maps.FIXED).fit(x)
    np.testing.assert_array_equal(model.embedding_, fit.embedding)
    candidates = fit.embedding[:40] + 0.05
    points = candidates[inside_hull(fit.embedding, candidates)][:5]
    assert len(points) == 5
    np.testing.assert_allclose(inverse_transform(fit, x, points), model.inverse_transform(points), atol=1e-5)


def test_the_inverse_of_mapped_points_lands_near_their_z(cloud, fit):
    x = map_input(cloud, fit.ids)
    error = np.linalg.norm(inverse_transform(fit, x, fit.embedding) - x, axis=1)
    typical = np.median(pdist(x))
    assert np.median(error) < 0.1 * typical
    # A map point is decoded near its own row, not near just any row.
    shuffled = np.random.default_rng(0).permutation(len(x))
    assert np.median(np.linalg.norm(x[shuffled] - x, axis=1)) > 5 * np.median(error)


def test_points_outside_the_data_hull_are_flagged(fit):
    far = fit.embedding.max(axis=0) + 10
    between = fit.embedding[:2].mean(axis=0)
    np.testing.assert_array_equal(inside_hull(fit.embedding, [between, far, -far]), [True, False, False])
    with pytest.raises(ValueError, match="m x 2"):
        inside_hull(fit.embedding, np.zeros((2, 3)))


def test_a_callback_cancels_between_epochs_and_leaves_numba_threads_alone(cloud):
    threads, seen = numba.get_num_threads(), []

    def stop_at_the_epochs(progress, message):
        seen.append(message)
        return not message.startswith("epoch")

    with pytest.raises(UmapCancelled, match="epoch"):
        run_umap(cloud, **SETTINGS, callback=stop_at_the_epochs)
    assert seen[0].startswith("UMAP of 300 points") and not any(m.startswith("done") for m in seen)
    assert numba.get_num_threads() == threads


def test_a_cancel_at_the_start_runs_nothing_and_callback_errors_pass_through(cloud):
    seen = []
    with pytest.raises(UmapCancelled):
        run_umap(cloud, **SETTINGS, callback=lambda p, m: seen.append(m) or False)
    assert len(seen) == 1

    def broken(progress, message):
        if message.startswith("epoch"):
            raise RuntimeError("progress store is gone")

    with pytest.raises(RuntimeError, match="progress store is gone"):
        run_umap(cloud, **SETTINGS, callback=broken)


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ({"metric": "chebyshev"}, "unknown UMAP metric"),
        ({"min_dist": 2.0}, "min_dist must be between"),
        ({"n_neighbors": 1}, "n_neighbors must be a whole number >= 2"),
        ({"n_points": 10}, "needs more than 17 points"),
    ],
)
def test_bad_parameters_fail_with_one_clear_line(cloud, given, reason):
    with pytest.raises(ValueError, match=reason):
        run_umap(cloud, **{**SETTINGS, **given})


def test_importing_umap_learn_through_analysis_leaves_tensorflow_out():
    code = "import sys; from analysis import umap_maps; umap_maps._umap(); print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False False"
