"""UMAP's parts that need no fit: parameters and their defaults, the epoch progress, the stored result, the import guard."""

import re
import threading

import numpy as np
import pytest

from analysis import umap_maps
from analysis.umap_maps import UmapParams, UmapResult, _EpochReport, _Hidden


def test_the_defaults_are_umap_learns_except_the_seed():
    assert UmapParams() == UmapParams(
        n_points=20000,
        pca_components=None,
        n_neighbors=15,
        min_dist=0.1,
        spread=1.0,
        metric="euclidean",
        n_epochs=None,
        random_state=0,
    )
    assert umap_maps.FIXED == {
        "learning_rate": 1.0,
        "repulsion_strength": 1.0,
        "negative_sample_rate": 5,
        "init": "spectral",
    }
    assert (umap_maps.TRANSFORM_SEED, umap_maps.GRAPH_SHARE) == (42, 0.3)
    assert umap_maps.METRICS == ("euclidean", "cosine", "manhattan", "correlation")


def test_each_parameter_is_checked_at_its_least_value():
    made = UmapParams(n_points=1.0, pca_components=1, n_neighbors=2, min_dist=0, spread="2", n_epochs=1, random_state=0)
    assert (made.n_points, made.pca_components, made.n_neighbors, made.n_epochs) == (1, 1, 2, 1)
    assert made.spread == 2.0 and made.min_dist == 0.0 and UmapParams(min_dist=1.0).min_dist == 1.0
    for field, value, message in (
        ("n_points", 0, "n_points must be a whole number >= 1, got 0"),
        ("pca_components", 0, "pca_components must be a whole number >= 1, got 0"),
        ("n_neighbors", 1, "n_neighbors must be a whole number >= 2, got 1"),
        ("n_epochs", 0, "n_epochs must be a whole number >= 1, got 0"),
        ("random_state", -1, "random_state must be a whole number >= 0, got -1"),
        ("n_neighbors", 2.5, "n_neighbors must be a whole number >= 2, got 2.5"),
        ("n_neighbors", True, "n_neighbors must be a whole number >= 2, got True"),
        ("min_dist", -0.01, "min_dist must be between 0 and spread=1.0, got -0.01"),
        ("min_dist", 1.01, "min_dist must be between 0 and spread=1.0, got 1.01"),
        ("spread", 0, "spread must be a positive number, got 0.0"),
        (
            "metric",
            "chebyshev",
            "unknown UMAP metric 'chebyshev'; choose one of euclidean, cosine, manhattan, correlation",
        ),
    ):
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            UmapParams(**{field: value})


def test_a_map_needs_more_points_than_neighbours_plus_two():
    z = np.random.default_rng(0).normal(size=(17, 3))
    with pytest.raises(ValueError, match="^UMAP with 15 neighbours needs more than 17 points, got 17$"):
        umap_maps.run_umap(z, n_points=None)


def test_the_epoch_bar_moves_progress_from_the_graph_share_to_one():
    seen = []
    report = _EpochReport(lambda p, m: seen.append((p, m)))
    for text in ("\r0/200", "\r50/200", "200/200\n", "\r", "x/200", "5/0", "7/x"):
        report.write(text)
    assert seen == [(0.3, "epoch 0/200"), (0.3 + 0.7 * 0.25, "epoch 50/200"), (1.0, "epoch 200/200")]
    report.flush()


def test_a_false_answer_or_an_error_in_the_callback_stops_the_epochs_once():
    stopped = _EpochReport(lambda p, m: False)
    with pytest.raises(umap_maps._Stop):
        stopped.write("\r3/10")
    assert (
        isinstance(stopped.error, umap_maps.UmapCancelled)
        and str(stopped.error) == "UMAP cancelled at 51% (epoch 3/10)"
    )
    stopped.write("\r4/10")  # after a stop, later refreshes are ignored (tqdm may still write)

    calls = []

    def broken(progress, message):
        calls.append(message)
        raise KeyError("gone")

    failing = _EpochReport(broken)
    with pytest.raises(umap_maps._Stop):
        failing.write("1/10")
    failing.write("2/10")
    assert isinstance(failing.error, KeyError) and calls == ["epoch 1/10"]


def test_a_result_survives_the_cache_round_trip():
    result = UmapResult(
        ids=np.array([2, 5]),
        embedding=np.ones((2, 2), np.float32),
        params={"n_points": 2},
        seconds=1.5,
        a=1.6,
        b=0.9,
        sigmas=np.array([0.1, 0.2], np.float32),
        rhos=np.array([0.3, 0.4], np.float32),
    )
    stored = result.to_arrays()
    assert set(stored) == {"ids", "embedding", "seconds", "a", "b", "sigmas", "rhos"}
    back = UmapResult.from_arrays(stored, {"n_points": 2})
    assert back.params == {"n_points": 2} and (back.seconds, back.a, back.b) == (1.5, 1.6, 0.9)
    for name in ("ids", "embedding", "sigmas", "rhos"):
        assert np.array_equal(getattr(back, name), getattr(result, name)), name


def test_the_hidden_packages_and_their_submodules_are_refused_in_the_guarding_thread_only():
    guard = _Hidden({"tensorflow", "keras"})
    for name in ("tensorflow", "keras", "tensorflow.python.ops", "keras.layers"):
        with pytest.raises(ImportError, match=f"^{name} is not imported by analysis$"):
            guard.find_spec(name)
    for name in ("numpy", "tensorflow_probability", "umap.umap_", "mykeras"):
        assert guard.find_spec(name) is None
    seen = []
    other = threading.Thread(target=lambda: seen.append(guard.find_spec("tensorflow")))
    other.start()
    other.join()
    assert seen == [None]  # another thread (the decoder service) imports TensorFlow as usual
