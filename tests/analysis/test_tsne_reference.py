"""t-SNE maps equal the libraries' own t-SNE with the same settings, bit for bit; defaults, limits and progress pinned.

``run_tsne`` drives openTSNE's affinities / initialisation / optimiser by hand
(to report progress and cancel); comparing with ``openTSNE.TSNE(...).fit`` and
``sklearn.manifold.TSNE`` on the same points checks that every parameter
reaches the library as documented (iterations counted with the 250 of early
exaggeration, momentum, learning rate, initialisation, seed).
"""

import numpy as np
import openTSNE
import pytest
from sklearn.manifold import TSNE

from analysis import tsne
from analysis._checks import draw_ids
from analysis.pca import fit_pca
from tools import synthetic


@pytest.fixture(scope="module")
def z():
    return synthetic.filament_cloud(3, 40, 8, noise=0.01, random_state=0)


def open_tsne(x, method, perplexity, early_exaggeration, n_iter, seed):
    """openTSNE's own TSNE; its n_iter counts only the iterations after early exaggeration."""
    model = openTSNE.TSNE(
        perplexity=perplexity,
        early_exaggeration=early_exaggeration,
        early_exaggeration_iter=250,
        n_iter=n_iter - 250,
        negative_gradient_method=method,
        initialization="pca",
        n_jobs=1,
        random_state=seed,
    )
    return model.fit(np.asarray(x, dtype=np.float64))


def test_an_opentsne_map_of_a_subset_is_opentsnes_own_map_of_those_rows(z):
    # (the FFT backend differs only in the gradient method passed on; test_samplers_tsne maps with it)
    ours = tsne.run_tsne(z, n_points=100, perplexity=7, early_exaggeration=10, n_iter=280, random_state=3, n_jobs=1)
    ids = draw_ids(len(z), 100, 3)
    reference = open_tsne(z[ids], "bh", 7, 10, 280, 3)
    assert ours.ids.tolist() == ids.tolist() and ours.backend == "opentsne-bh"
    assert np.array_equal(ours.embedding, np.asarray(reference, dtype=np.float32))
    assert ours.kl_divergence == pytest.approx(reference.kl_divergence, rel=1e-12)


def test_a_map_after_pca_is_opentsnes_map_of_the_leading_scores(z):
    ours = tsne.run_tsne(z, n_points=None, pca_components=3, perplexity=9, n_iter=260, random_state=4, n_jobs=1)
    scores = fit_pca(z).transform(z, n_components=3)
    reference = open_tsne(scores, "bh", 9, 12.0, 260, 4)
    assert np.array_equal(ours.embedding, np.asarray(reference, dtype=np.float32))
    assert ours.params["pca_components"] == 3 and ours.params["n_points"] == len(z)


def test_a_scikit_learn_map_is_scikit_learns_own(z):
    ours = tsne.run_tsne(
        z, n_points=40, perplexity=5, early_exaggeration=10, n_iter=250, backend="sklearn", random_state=3
    )
    model = TSNE(
        perplexity=5, early_exaggeration=10, max_iter=250, learning_rate="auto", init="pca", random_state=3, n_jobs=1
    )
    reference = model.fit_transform(np.asarray(z[draw_ids(len(z), 40, 3)], dtype=np.float64))
    assert np.array_equal(ours.embedding, reference.astype(np.float32))
    assert ours.kl_divergence == pytest.approx(model.kl_divergence_, rel=1e-12)


def test_the_documented_defaults():
    assert tsne.TsneParams() == tsne.TsneParams(
        n_points=20000,
        pca_components=None,
        perplexity=30.0,
        early_exaggeration=12.0,
        n_iter=750,
        learning_rate="auto",
        init="pca",
        backend="auto",
        random_state=0,
    )
    assert (tsne.EXAGGERATION_ITER, tsne.BH_MAX_POINTS, tsne.SINGLE_THREAD_BELOW) == (250, 20000, 5000)


def test_barnes_hut_up_to_its_measured_limit_and_fft_one_point_past_it():
    assert tsne.choose_backend(tsne.BH_MAX_POINTS) == "opentsne-bh"
    assert tsne.choose_backend(tsne.BH_MAX_POINTS + 1) == "opentsne-fft"


@pytest.fixture
def fits(monkeypatch):
    """Replaces the library calls: records the backend and thread count each map would use."""
    seen = []

    def fake(method):
        def fit(x, *settings):
            seen.append((method, settings[-2], len(x)))
            return np.zeros((len(x), 2)), 0.5

        return fit

    monkeypatch.setattr(tsne, "_fit_sklearn", fake("sklearn"))
    monkeypatch.setattr(tsne, "_fit_opentsne", lambda x, method, *settings: fake(method)(x, *settings))
    return seen


def test_small_maps_run_on_one_thread_and_larger_ones_on_all_cores(fits):
    z = np.random.default_rng(0).normal(size=(tsne.SINGLE_THREAD_BELOW, 2))
    tsne.run_tsne(z[:-1], n_points=None, perplexity=5)
    tsne.run_tsne(z, n_points=None, perplexity=5)
    tsne.run_tsne(z, n_points=None, perplexity=5, n_jobs=3, backend="sklearn")
    tsne.run_tsne(z, n_points=None, perplexity=5, backend="opentsne-fft")
    assert fits == [("bh", 1, 4999), ("bh", -1, 5000), ("sklearn", 3, 5000), ("fft", -1, 5000)]


def test_perplexity_must_leave_three_neighbours_per_unit_and_four_points_are_the_least(fits):
    z = np.random.default_rng(0).normal(size=(30, 3))
    tsne.run_tsne(z, n_points=None, perplexity=9.99)
    with pytest.raises(ValueError, match=r"^perplexity 10 is too large for 30 points; use less than 10$"):
        tsne.run_tsne(z, n_points=None, perplexity=10)
    tsne.run_tsne(z, n_points=4, perplexity=1)
    with pytest.raises(ValueError, match="^t-SNE needs at least 4 points, got 3$"):
        tsne.run_tsne(z, n_points=3, perplexity=0.5)
    assert [n for _, _, n in fits] == [30, 4]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("n_points", 10.5, "n_points must be a whole number, got 10.5"),
        ("n_points", True, "n_points must be a whole number, got True"),
        ("pca_components", 2.5, "pca_components must be a whole number"),
        ("n_iter", 0, "n_iter must be >= 1, got 0"),
        ("perplexity", 0, "perplexity must be a positive number"),
        ("early_exaggeration", -1, "early_exaggeration must be a positive number"),
        ("learning_rate", "fast", "learning_rate must be a number"),
        ("learning_rate", 0, "learning_rate must be a positive number"),
        ("init", "spectral", 'init must be "pca" or "random"'),
        ("random_state", 1.5, "random_state must be a whole number"),
    ],
)
def test_bad_parameters_are_refused_with_the_field_named(field, value, message):
    with pytest.raises(ValueError, match=message):
        tsne.TsneParams(**{field: value})


def test_equal_settings_in_other_types_are_one_map():
    a = tsne.TsneParams(n_points=100.0, perplexity="10", n_iter=300.0, learning_rate="200", random_state=0.0)
    assert a == tsne.TsneParams(n_points=100, perplexity=10.0, n_iter=300, learning_rate=200.0, random_state=0)
    assert isinstance(a.n_points, int) and isinstance(a.perplexity, float) and tsne.TsneParams(n_iter=1).n_iter == 1
    assert tsne.TsneParams(n_points=None).n_points is None


def test_progress_goes_from_the_start_through_each_iteration_to_the_end(z):
    seen = []
    result = tsne.run_tsne(
        z, n_points=60, perplexity=5, n_iter=270, n_jobs=1, callback=lambda p, m: seen.append((p, m))
    )
    assert seen[0] == (0.0, "t-SNE of 60 points with opentsne-bh")
    assert seen[1] == (0.08, "affinities computed")
    iterations = seen[2:-1]
    done = [int(m.split()[1].split("/")[0]) for _, m in iterations]
    assert done == [*range(10, 251, 10), 260, 270]  # every 10 iterations, counted across both phases
    for (progress, message), step in zip(iterations, done, strict=True):
        assert progress == pytest.approx(0.1 + 0.9 * step / 270) and message.startswith(f"iteration {step}/270, KL ")
    assert seen[-1][0] == 1.0 and seen[-1][1].startswith("done in ") and result.seconds > 0


def test_a_false_answer_stops_at_once_and_a_callback_error_comes_through(z):
    with pytest.raises(tsne.TsneCancelled, match=r"^t-SNE cancelled at 8% \(affinities computed\)$"):
        tsne.run_tsne(z, n_points=60, perplexity=5, n_iter=270, n_jobs=1, callback=lambda p, m: p < 0.05)

    def broken(progress, message):
        if progress > 0.5:
            raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        tsne.run_tsne(z, n_points=60, perplexity=5, n_iter=270, n_jobs=1, callback=broken)
    assert issubclass(tsne.TsneCancelled, tsne.MapCancelled)


def test_map_input_takes_the_rows_or_their_leading_scores(z):
    ids = np.array([0, 5, 7])
    assert np.array_equal(tsne.map_input(z, ids), z[ids].astype(np.float32))
    scores = tsne.map_input(z, ids, pca_components=2, dtype=np.float64)
    assert scores.dtype == np.float64 and scores.flags.c_contiguous
    assert np.allclose(scores, fit_pca(z).transform(z[ids])[:, :2])
    assert tsne.map_input(z, ids, pca_components=8).shape == (3, 8)
    for k in (0, 9):
        with pytest.raises(ValueError, match=f"between 1 and z_dim=8, got {k}"):
            tsne.map_input(z, ids, pca_components=k)


def test_fewer_iterations_than_the_exaggeration_phase_are_all_exaggerated(z):
    ours = tsne.run_tsne(z, n_points=None, perplexity=7, n_iter=60, random_state=2, n_jobs=1)
    model = openTSNE.TSNE(
        perplexity=7,
        early_exaggeration=12.0,
        early_exaggeration_iter=60,
        n_iter=0,
        negative_gradient_method="bh",
        initialization="pca",
        n_jobs=1,
        random_state=2,
    )
    reference = model.fit(np.asarray(z, dtype=np.float64))
    assert np.array_equal(ours.embedding, np.asarray(reference, dtype=np.float32))


def test_scikit_learn_runs_at_least_its_own_minimum_of_250_iterations(z):
    ours = tsne.run_tsne(z, n_points=40, perplexity=5, n_iter=100, backend="sklearn", random_state=3)
    model = TSNE(perplexity=5, max_iter=250, learning_rate="auto", init="pca", random_state=3, n_jobs=1)
    reference = model.fit_transform(np.asarray(z[draw_ids(len(z), 40, 3)], dtype=np.float64))
    assert np.array_equal(ours.embedding, reference.astype(np.float32)) and ours.params["n_iter"] == 100


def test_the_largest_perplexity_is_the_wanted_one_from_91_points_and_a_third_of_n_minus_1_below(fits):
    assert tsne.largest_perplexity(91) == 30.0 and tsne.largest_perplexity(10_000) == 30.0
    assert tsne.largest_perplexity(90) == pytest.approx(89 / 3) and tsne.largest_perplexity(4) == 1.0
    assert tsne.largest_perplexity(40, wanted=5) == 5.0
    z = np.random.default_rng(1).normal(size=(40, 3))
    for n in (4, 40):  # the capped perplexity is accepted at both ends
        tsne.run_tsne(z, n_points=n, perplexity=tsne.largest_perplexity(n))
    assert [n for _, _, n in fits] == [4, 40]
