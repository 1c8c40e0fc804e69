"""`zspace analyze`'s plan: the documented default set, step by step, without computing anything."""

import argparse
import re

import numpy as np
import pytest

from analysis import precompute, results
from rundir.errors import ZspaceError


def steps(run, **options):
    settings = {"quick": False, "tsne_n": None, "skip_tsne": False, "structure_n": None, "seed": 0, **options}
    chosen = precompute.AnalyzeOptions(**settings)
    return [(label, declaration, params) for label, declaration, params in precompute.plan(run, chosen)]


def test_the_full_plan_is_the_seed_study_for_a_256_dimensional_run(tmp_path, make_run):
    run = make_run(tmp_path / "big", np.zeros((5, 16)))
    plan = steps(run)
    assert [label for label, _, _ in plan] == [
        "axis histograms (bin 0.25)",
        "axis summary",
        "radius histogram (bin 0.5)",
        "radius histogram (bin 0.05)",
        "PCA",
        "filaments and voids (5,000 points)",
        "data nearest-neighbour reference",
        "t-SNE raw z (20,000 points)",
        "t-SNE after PCA-2 (20,000 points)",
        "t-SNE after PCA-4 (20,000 points)",
        "t-SNE after PCA-10 (20,000 points)",
        "UMAP raw z (20,000 points)",
        "UMAP after PCA-10 (20,000 points)",
    ]
    declarations = [d for _, d, _ in plan]
    assert declarations[:7] == [
        results.histograms,
        results.axis_summary,
        results.radius_profile,
        results.radius_profile,
        results.pca,
        results.structure_measures,
        results.nn_reference,
    ]
    assert declarations[7:11] == [results.tsne] * 4 and declarations[11:] == [results.umap] * 2
    params = [p for _, _, p in plan]
    assert params[:5] == [{"bin_width": 0.25}, {"bin_width": 0.25}, {"bin_width": 0.5}, {"bin_width": 0.05}, {}]
    assert params[5] == {"n_points": 5000, "n_probes": 2000, "random_state": 0}
    assert params[6] == {"random_state": 0}
    # the seed's t-SNE of raw z (perplexity 10, exaggeration 16, 1000 iterations); TsneParams' defaults after PCA
    assert params[7] == {
        "n_points": 20000,
        "random_state": 0,
        "perplexity": 10,
        "early_exaggeration": 16,
        "n_iter": 1000,
    }
    assert params[8] == {"n_points": 20000, "pca_components": 2, "random_state": 0}
    assert params[11:] == [
        {"n_points": 20000, "pca_components": None, "random_state": 0},
        {"n_points": 20000, "pca_components": 10, "random_state": 0},
    ]


def test_a_small_run_skips_reductions_to_as_many_components_as_it_has(tmp_path, make_run):
    run = make_run(tmp_path / "small", np.zeros((5, 4)))
    labels = [label for label, _, _ in steps(run, quick=True, seed=3)]
    assert labels[7:] == [
        "t-SNE raw z (2,000 points)",
        "t-SNE after PCA-2 (2,000 points)",
        "UMAP raw z (2,000 points)",
    ]
    assert steps(run, quick=True, seed=3)[5][2] == {"n_points": 1500, "n_probes": 1000, "random_state": 3}
    ten = make_run(tmp_path / "ten", np.zeros((5, 10)))
    assert [label for label, _, _ in steps(ten)][-2:] == [
        "t-SNE after PCA-4 (20,000 points)",
        "UMAP raw z (20,000 points)",
    ]
    eleven = make_run(tmp_path / "eleven", np.zeros((5, 11)))
    assert [label for label, _, _ in steps(eleven)][-1] == "UMAP after PCA-10 (20,000 points)"


def test_sizes_given_replace_the_defaults_and_umap_follows_t_sne(tmp_path, make_run):
    run = make_run(tmp_path / "r", np.zeros((5, 16)))
    plan = steps(run, tsne_n=300, structure_n=700, seed=9)
    assert plan[5][2] == {"n_points": 700, "n_probes": 2000, "random_state": 9}
    assert {p["n_points"] for _, d, p in plan if d in (results.tsne, results.umap)} == {300}
    plan = steps(run, tsne_n=300, umap_n=120, skip_tsne=True)
    assert [p["n_points"] for _, d, p in plan if d is results.umap] == [120, 120]
    assert not any(d is results.tsne for _, d, _ in plan)
    assert len(steps(run, skip_tsne=True, skip_umap=True)) == 7
    fitted = steps(run, skip_tsne=True, skip_umap=True, fits=True)[7:]
    assert [(label, d, p) for label, d, p in fitted] == [
        ("GMM fit (sampler lab)", results.sampler_fit, {"kind": "gmm"}),
        ("KDE fit (sampler lab)", results.sampler_fit, {"kind": "kde"}),
    ]


def test_a_run_is_a_folder_or_a_bare_name_under_the_runs_root(tmp_path, make_run):
    run = make_run(tmp_path / "runs" / "fil", np.zeros((5, 4)))
    assert precompute.find_run(str(run), "elsewhere") == run
    assert precompute.find_run("fil", str(tmp_path / "runs")) == run.resolve()
    for path in ("a/b/c", str(tmp_path / "gone")):
        with pytest.raises(ZspaceError, match=f"^run folder {path} does not exist$"):
            precompute.find_run(path, str(tmp_path / "runs"))
    for name in ("nope", "sweep/nope"):
        with pytest.raises(
            ZspaceError, match=f"^no run named '{name}' in .*runs; pass a run folder or set --runs-root$"
        ):
            precompute.find_run(name, str(tmp_path / "runs"))


@pytest.mark.parametrize("state", ["created", "training", "encoding"])
def test_a_run_still_being_written_is_refused_and_a_failed_one_is_read(tmp_path, make_run, state):
    busy = make_run(tmp_path / "busy", np.zeros((5, 4)), state=state)
    with pytest.raises(ZspaceError, match=f"^run busy is not finished \\({state}\\); wait for"):
        precompute._check_ready(busy)
    precompute._check_ready(make_run(tmp_path / "failed", np.zeros((5, 4)), state="failed"))


def test_a_failing_step_names_itself_and_the_run_in_one_line(tmp_path, make_run, monkeypatch):
    run = make_run(tmp_path / "runs" / "fil", np.random.default_rng(0).normal(size=(30, 4)))

    def broken(run, callback=None):
        raise ValueError("perplexity too large")

    monkeypatch.setattr(precompute, "plan", lambda *a, **k: [("t-SNE raw z (30 points)", _Declaration(broken), {})])
    args = argparse.Namespace(
        run=str(run), runs_root="x", quick=True, tsne_n=None, skip_tsne=False, structure_n=None, seed=0
    )
    with pytest.raises(ZspaceError, match=r"^t-SNE raw z \(30 points\) failed on run fil: perplexity too large$"):
        precompute.run(args)


class _Declaration:
    """Stands in for an analysis declaration: cached or not, computes by calling ``body`` with the callback."""

    def __init__(self, body, cached=False):
        self.body, self.cached = body, cached

    def is_cached(self, run, **params):
        return self.cached

    def __call__(self, run, callback=None, **params):
        return self.body(run, callback=callback, **params)


class _Bar:
    """Records what zspace analyze asks of tqdm."""

    made: list = []

    def __init__(self, **kwargs):
        self.kwargs, self.n, self.postfix = kwargs, 0, []
        _Bar.made.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def set_postfix_str(self, text, refresh=False):
        self.postfix.append((self.n, text, refresh))


def test_each_step_reports_its_progress_into_a_bar_that_goes_away_and_the_summary_counts(
    tmp_path, make_run, monkeypatch, capsys
):
    import tqdm

    from analysis.tsne import MapCancelled

    run = make_run(tmp_path / "runs" / "fil", np.random.default_rng(0).normal(size=(30, 4)))
    _Bar.made = []
    monkeypatch.setattr(tqdm, "tqdm", _Bar)

    def computing(run, callback=None):
        assert callback(0.5, "half way") is True
        callback(0.999, "nearly")
        return argparse.Namespace(backend="opentsne-bh", seconds=2.25)

    steps = [("map (30 points)", _Declaration(computing), {}), ("PCA", _Declaration(None, cached=True), {})]
    monkeypatch.setattr(precompute, "plan", lambda *a, **k: steps)
    args = argparse.Namespace(
        run=str(run), runs_root="x", quick=True, tsne_n=None, skip_tsne=False, structure_n=None, seed=0
    )
    assert precompute.run(args) == 0
    (bar,) = _Bar.made
    assert bar.kwargs == {"total": 100, "desc": "  map (30 points)", "unit": "%", "leave": False, "disable": None}
    assert bar.postfix == [(50, "half way", True), (99, "nearly", True)]
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "  map (30 points): computed (opentsne-bh, 2.2 s)" and out[1] == "  PCA: cached"
    assert re.fullmatch(r"1 analyses computed, 1 cached, in \d+\.\d s -> .*fil/analysis", out[2])

    monkeypatch.setattr(precompute, "plan", lambda *a, **k: steps[1:])
    assert precompute.run(args) == 0
    assert re.fullmatch(r"all 1 analyses of fil cached \(\d+\.\d s\)", capsys.readouterr().out.splitlines()[-1])

    def cancelled(run, callback=None):
        raise MapCancelled("t-SNE cancelled at 40% (iteration 10/750)")

    monkeypatch.setattr(precompute, "plan", lambda *a, **k: [("map", _Declaration(cancelled), {})])
    with pytest.raises(ZspaceError, match=r"^t-SNE cancelled at 40% \(iteration 10/750\)$"):
        precompute.run(args)


def test_callers_without_the_newer_options_get_every_map(tmp_path, make_run, monkeypatch):
    run = make_run(tmp_path / "runs" / "fil", np.zeros((5, 4)))
    asked = []
    monkeypatch.setattr(precompute, "plan", lambda run, options: asked.append(options) or [])
    # an argparse.Namespace from an older caller (the demo, a sweep) has no skip_maps / umap_n / skip_umap
    old = argparse.Namespace(
        run=str(run), runs_root="x", quick=True, tsne_n=300, skip_tsne=False, structure_n=400, seed=2
    )
    precompute.run(old)
    assert asked[-1] == precompute.AnalyzeOptions(quick=True, tsne_n=300, structure_n=400, seed=2)
    new = argparse.Namespace(**vars(old), skip_maps=True, umap_n=50, skip_umap=False, fits=True)
    precompute.run(new)
    assert asked[-1] == precompute.AnalyzeOptions(
        quick=True, tsne_n=300, umap_n=50, structure_n=400, seed=2, skip_tsne=True, skip_umap=True, fits=True
    )


def test_the_command_line_defaults_are_the_documented_ones():
    parser = argparse.ArgumentParser()
    precompute.configure_parser(parser)
    args = parser.parse_args(["fil"])
    assert vars(args) == {
        "run": "fil",
        "runs_root": "data/runs",
        "quick": False,
        "tsne_n": None,
        "umap_n": None,
        "skip_tsne": False,
        "skip_umap": False,
        "skip_maps": False,
        "structure_n": None,
        "fits": False,
        "seed": 0,
    }
    assert precompute.QUICK == {"tsne_n": 2000, "structure_n": 1500, "probes": 1000}
    assert precompute.FULL == {"tsne_n": 20000, "structure_n": 5000, "probes": 2000}
