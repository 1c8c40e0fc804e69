"""`zspace analyze`: computes the default set once, then reports cache hits."""

import os
import subprocess
import sys

import numpy as np

from analysis import results
from tools import synthetic
from zspace import cli

SEED = {"perplexity": 10, "early_exaggeration": 16, "n_iter": 1000}


def test_analyze_quick_then_cached(tmp_path, capsys, make_run):
    z = synthetic.filament_cloud(20, 30, 16, noise=0.01, random_state=0)
    run = make_run(tmp_path / "runs" / "fil", z)
    argv = [
        "analyze",
        "fil",
        "--runs-root",
        str(tmp_path / "runs"),
        "--quick",
        "--tsne-n",
        "200",
        "--structure-n",
        "300",
    ]
    assert cli.main(argv) == 0
    first = capsys.readouterr().out
    assert "t-SNE after PCA-10 (200 points): computed" in first and ": cached" not in first
    assert "UMAP raw z (200 points): computed (umap-learn" in first
    assert "UMAP after PCA-10 (200 points): computed (umap-learn" in first
    assert cli.main(argv) == 0
    second = capsys.readouterr().out
    assert "all 13 analyses of fil cached" in second and "UMAP raw z (200 points): cached" in second
    maps = results.tsne.available(run)
    assert sorted(str(m["pca_components"]) for m in maps) == ["10", "2", "4", "None"]
    umaps = results.umap.available(run)
    assert sorted(str(m["pca_components"]) for m in umaps) == ["10", "None"]
    # The UMAP and t-SNE maps of one analyze run map the same points.
    assert np.array_equal(results.umap(run, n_points=200).ids, results.tsne(run, n_points=200, **SEED).ids)
    raw = results.tsne(run, n_points=200, **SEED)
    assert raw.embedding.shape == (200, 2) and raw.backend == "opentsne-bh"
    measures = results.structure_measures(run, n_points=300, n_probes=1000)
    assert measures["void_normal"] > 0.9 and 0.5 < measures["lid_median"] < 2

    # `cp -r` gives every file a new time but the same bytes: the copy finds every cached analysis.
    copy = tmp_path / "runs" / "fil-copy"
    subprocess.run(["cp", "-r", str(run), str(copy)], check=True)
    assert (copy / "zpoints.npy").stat().st_mtime_ns != (run / "zpoints.npy").stat().st_mtime_ns
    assert cli.main([*argv[:1], "fil-copy", *argv[2:]]) == 0
    assert "all 13 analyses of fil-copy cached" in capsys.readouterr().out
    assert sorted(str(m["pca_components"]) for m in results.tsne.available(copy)) == ["10", "2", "4", "None"]
    assert np.array_equal(results.umap(copy, n_points=200).embedding, results.umap(run, n_points=200).embedding)


def test_analyze_refuses_unfinished_or_missing_runs(tmp_path, capsys, make_run):
    make_run(tmp_path / "busy", np.zeros((10, 4)), state="encoding")
    assert cli.main(["analyze", str(tmp_path / "busy")]) == 2
    assert "not finished (encoding)" in capsys.readouterr().err
    assert cli.main(["analyze", "nope", "--runs-root", str(tmp_path)]) == 2
    assert "no run named 'nope'" in capsys.readouterr().err


def test_analyze_help_runs_without_tensorflow():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    code = "import sys; from zspace import cli; cli.build_parser('analyze'); import analysis.precompute, analysis.results; print('tensorflow' in sys.modules, 'dash' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False False"


def test_analyze_skip_flags_leave_out_their_maps(tmp_path, capsys, make_run):
    z = synthetic.filament_cloud(20, 30, 16, noise=0.01, random_state=0)
    make_run(tmp_path / "runs" / "fil", z)
    base = ["analyze", "fil", "--runs-root", str(tmp_path / "runs"), "--quick", "--tsne-n", "200"]
    assert cli.main([*base, "--structure-n", "300", "--skip-maps"]) == 0
    out = capsys.readouterr().out
    assert "t-SNE" not in out and "UMAP" not in out and "7 analyses computed" in out
    assert cli.main([*base, "--structure-n", "300", "--skip-tsne", "--umap-n", "150", "--skip-umap"]) == 0
    assert "all 7 analyses of fil cached" in capsys.readouterr().out
    assert cli.main([*base, "--structure-n", "300", "--skip-tsne", "--umap-n", "150"]) == 0
    out = capsys.readouterr().out
    assert "UMAP raw z (150 points): computed" in out and "t-SNE" not in out


def test_analyze_fits_the_sampler_densities_on_their_own(tmp_path, capsys, make_run):
    z = synthetic.filament_cloud(20, 30, 16, noise=0.01, random_state=0)
    run = make_run(tmp_path / "runs" / "fil", z)
    base = ["analyze", "fil", "--runs-root", str(tmp_path / "runs"), "--quick", "--skip-maps", "--structure-n", "300"]
    assert not results.sampler_fit.is_cached(run, kind="gmm")
    assert cli.main([*base, "--fits"]) == 0
    out = capsys.readouterr().out
    assert "GMM fit (sampler lab): computed" in out and "KDE fit (sampler lab): computed" in out
    assert results.sampler_fit.is_cached(run, kind="gmm") and results.sampler_fit.is_cached(run, kind="kde")
    # The reference lines of every "how far from the data" number are cached too.
    reference = results.nn_reference(run)
    assert reference["median"] < reference["p99"] and len(reference["distances"]) == len(z)
