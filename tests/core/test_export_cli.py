"""``zspace export``: every point of a plane with row, id, x, y, colour and flags; ``--filter`` keeps exactly the matches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rundir
from zspace import cli

N_POINTS = 300


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory):
    from analysis import results
    from tools.fixtures import make_demo_runs

    root = make_demo_runs(tmp_path_factory.mktemp("runs"), n_points=N_POINTS)
    results.tsne(root / "bench-ae", n_points=200, perplexity=10, n_iter=250)
    return root


def export(runs_root, *args) -> int:
    return cli.main(["export", *args, "--runs-root", str(runs_root)])


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_every_point_of_a_pca_plane_with_the_columns(runs_root, tmp_path, suffix, capsys):
    out = tmp_path / f"points.{suffix}"
    assert export(runs_root, "bench-ae", "--plane", "pca:0,1", "--out", str(out)) == 0
    assert f"wrote {N_POINTS} points of bench-ae on pca:0,1" in capsys.readouterr().out
    table = pd.read_csv(out) if suffix == "csv" else pd.read_parquet(out)
    assert list(table.columns) == ["row", "id", "x", "y", "radius", "selected", "filtered"]
    meta = rundir.load_metadata(runs_root / "bench-ae")
    assert table["row"].tolist() == list(range(N_POINTS)) and table["id"].tolist() == meta["id"].tolist()
    z = rundir.load_zpoints(runs_root / "bench-ae")
    assert np.allclose(table["radius"], np.linalg.norm(z, axis=1), rtol=1e-6)
    centred = z - z.mean(axis=0)
    # The first principal component is the direction of largest variance: the x column has the largest spread.
    assert table["x"].var() == pytest.approx(np.linalg.eigvalsh(np.cov(centred.T))[-1], rel=1e-3)
    assert table["filtered"].all() and not table["selected"].any()


def test_filter_writes_exactly_the_matching_rows_and_select_marks_rows(runs_root, tmp_path):
    out = tmp_path / "smiling.csv"
    args = ["bench-ae", "--plane", "axis:2,5", "--filter", "smiling == 1 and pose > 0", "--select", "pose > 1"]
    assert export(runs_root, *args, "--colour", "pose", "--out", str(out)) == 0
    table = pd.read_csv(out)
    meta = rundir.load_metadata(runs_root / "bench-ae")
    expected = np.flatnonzero((meta["smiling"] == 1) & (meta["pose"] > 0))
    assert table["row"].tolist() == expected.tolist()
    z = rundir.load_zpoints(runs_root / "bench-ae")
    assert np.allclose(table[["x", "y"]], z[expected][:, [2, 5]], atol=1e-6)
    assert np.allclose(table["pose"], meta["pose"].to_numpy()[expected], atol=1e-6)
    assert table["selected"].tolist() == (meta["pose"].to_numpy()[expected] > 1).tolist()


def test_a_cached_tsne_map_exports_its_mapped_points(runs_root, tmp_path):
    out = tmp_path / "map.parquet"
    assert export(runs_root, str(runs_root / "bench-ae"), "--plane", "tsne", "--colour", "none", "--out", str(out)) == 0
    table = pd.read_parquet(out)
    assert len(table) == 200 and list(table.columns) == ["row", "id", "x", "y", "selected", "filtered"]
    assert table["row"].is_unique and table["row"].between(0, N_POINTS - 1).all()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["bench-ae", "--plane", "pca:0"], "--plane must be"),
        (["bench-ae", "--plane", "axis:0,99"], "indices must be below 8"),
        (["bench-ae", "--plane", "tsne:7"], "no such t-SNE map of bench-ae; maps: 0 = t-SNE raw z"),
        (["bench-vae", "--plane", "tsne"], "maps: none (run `zspace analyze`)"),
        (["bench-ae", "--plane", "pca:0,1", "--filter", "len(id) > 3"], "function calls"),
        (["bench-ae", "--plane", "pca:0,1", "--filter", "smilng == 1"], "unknown column 'smilng'"),
        (["bench-ae", "--plane", "pca:0,1", "--colour", "id"], "--colour must be radius, none or a numeric column"),
        (["no-such-run", "--plane", "pca:0,1"], "no run named 'no-such-run'"),
        (["bench-broken", "--plane", "pca:0,1"], "zpoints.npy"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_2(runs_root, tmp_path, capsys, args, says):
    out = tmp_path / "never.csv"
    assert export(runs_root, *args, "--out", str(out)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("zspace export: error:") and says in lines[0], lines
    assert not out.exists()


def test_an_unknown_output_format_is_refused_before_any_work(runs_root, tmp_path, capsys):
    assert export(runs_root, "bench-ae", "--plane", "pca:0,1", "--out", str(tmp_path / "x.xlsx")) == 2
    assert "--out: the output file must end with .csv or .parquet" in capsys.readouterr().err


def test_out_in_a_missing_folder_is_refused_and_no_folder_is_created(runs_root, tmp_path, capsys):
    out = tmp_path / "no" / "such" / "folder" / "points.csv"
    assert export(runs_root, "bench-ae", "--plane", "pca:0,1", "--out", str(out)) == 2
    line = capsys.readouterr().err.strip()
    assert "--out: the folder" in line and "does not exist; create it first" in line, line
    assert not (tmp_path / "no").exists(), "a folder was created for a mistyped --out"
    # The same file in an existing folder is written, and nothing but that file appears.
    before = set(tmp_path.iterdir())
    assert export(runs_root, "bench-ae", "--plane", "pca:0,1", "--out", str(tmp_path / "points.csv")) == 0
    assert set(tmp_path.iterdir()) - before == {tmp_path / "points.csv"}
