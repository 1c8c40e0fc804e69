"""``zspace path``, ``zspace walk`` and ``zspace traverse`` on small real runs (tiny decoders): PNG strips, one-line refusals."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
from PIL import Image

from tools.fixtures import make_demo_runs
from zspace import cli

SIDE = 32  # image side of the fixture runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return make_demo_runs(tmp_path_factory.mktemp("runs"), n_points=300)


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path))


def refusal(capsys, argv) -> str:
    """Run a command that must be refused: exit 2 and exactly one line on stderr, which is returned."""
    assert cli.main(argv) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in lines[0]
    return lines[0]


def test_path_writes_a_strip_and_the_spherical_one_differs(runs, tmp_path, capsys):
    base = ["path", "bench-ae", "--runs-root", str(runs), "--from", "3", "--to", "250", "--steps", "6"]
    assert cli.main([*base, "--out", str(tmp_path / "line.png"), "--profile", str(tmp_path / "line.csv")]) == 0
    said = capsys.readouterr().out
    assert "linear path from 3 to 250 in 6 steps" in said
    assert "not cached: `zspace analyze` adds them as percentiles" in said
    assert cli.main([*base, "--slerp", "--out", str(tmp_path / "arc.png")]) == 0
    line, arc = pixels(tmp_path / "line.png"), pixels(tmp_path / "arc.png")
    assert line.shape == arc.shape == (SIDE + 4, 6 * (SIDE + 2) + 2, 3)
    tile = slice(2, 2 + SIDE)

    def image(strip, k):
        return strip[tile, 2 + k * (SIDE + 2) : 2 + k * (SIDE + 2) + SIDE]

    # Same ends (A and B), different steps in between.
    assert np.array_equal(image(line, 0), image(arc, 0)) and np.array_equal(image(line, 5), image(arc, 5))
    assert not np.array_equal(image(line, 2), image(arc, 2))
    profile = (tmp_path / "line.csv").read_text().splitlines()
    assert profile[0] == "step,t,nearest,knn_radius,norm,nearest_percentile" and len(profile) == 7
    assert all(line.endswith(",") for line in profile[1:])  # no percentiles before `zspace analyze`
    # A and B are left out of the reference: the first step is as far from the data as A's nearest other point.
    z = np.load(runs / "bench-ae" / "zpoints.npy").astype(np.float64)
    others = np.delete(z, [3, 250], axis=0)
    for step, row in ((1, 3), (6, 250)):
        expected = np.linalg.norm(others - z[row], axis=1).min()
        assert float(profile[step].split(",")[2]) == pytest.approx(expected, rel=1e-5)


def test_path_gives_each_distance_as_a_percentile_of_the_datas_own_once_analysed(runs, tmp_path, capsys):
    from analysis import results

    results.nn_reference(runs / "bench-ae")  # what `zspace analyze` caches
    argv = ["path", "bench-ae", "--runs-root", str(runs), "--from", "3", "--to", "250", "--steps", "6"]
    assert cli.main([*argv, "--out", str(tmp_path / "line.png"), "--profile", str(tmp_path / "line.csv")]) == 0
    said = capsys.readouterr().out
    z = np.load(runs / "bench-ae" / "zpoints.npy").astype(np.float64)
    d = np.linalg.norm(z[:, None] - z[None], axis=2)
    np.fill_diagonal(d, np.inf)
    own = d.min(axis=1)  # every point's nearest other point (300 points: all of them are the reference)
    rows = [line.split(",") for line in (tmp_path / "line.csv").read_text().splitlines()[1:]]
    for row in rows:
        assert float(row[5]) == pytest.approx(100 * np.mean(own <= float(row[2])), abs=100 / len(own))
    farthest = max(rows, key=lambda row: float(row[2]))
    assert f"the {float(farthest[5]):.1f}th percentile of the data's own nearest-neighbour distances" in said
    assert f"(median {np.median(own):.3f}, 99th percentile {np.quantile(own, 0.99):.3f}" in said


def test_path_with_a_run_folder_and_a_grid_of_columns(runs, tmp_path):
    out = tmp_path / "grid.png"
    argv = ["path", str(runs / "bench-vae"), "--from", "0", "--to", "1", "--steps", "10", "--columns", "5"]
    assert cli.main([*argv, "--out", str(out)]) == 0
    assert pixels(out).shape == (2 * (SIDE + 2) + 2, 5 * (SIDE + 2) + 2, 3)


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--from", "0", "--to", "300"], "--to 300 is not a row of bench-ae (it has rows 0..299)"),
        (["--from", "-1", "--to", "3"], "--from -1 is not a row"),
        (["--from", "0", "--to", "3", "--steps", "1"], "--steps must be between 2 and 256"),
        (["--from", "4", "--to", "4"], "same point"),
    ],
)
def test_path_refuses_bad_rows_and_sizes_with_one_line(runs, tmp_path, capsys, extra, says):
    out = tmp_path / "never.png"
    line = refusal(capsys, ["path", "bench-ae", "--runs-root", str(runs), *extra, "--out", str(out)])
    assert says in line
    assert not out.exists()


def test_path_creates_only_its_files_never_a_missing_folder(runs, tmp_path, capsys):
    base = ["path", "bench-ae", "--runs-root", str(runs), "--from", "0", "--to", "3", "--steps", "2"]
    line = refusal(capsys, [*base, "--out", str(tmp_path / "missing" / "strip.png")])
    assert "--out: the folder" in line and "does not exist" in line
    line = refusal(capsys, [*base, "--out", str(tmp_path / "ok.png"), "--profile", str(tmp_path / "gone" / "p.csv")])
    assert "--profile: the folder" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "a refused command left a file or a folder"


def test_path_refuses_a_broken_or_unknown_run(runs, tmp_path, capsys):
    out = str(tmp_path / "x.png")
    assert "cannot be used" in refusal(
        capsys, ["path", "bench-broken", "--runs-root", str(runs), "--from", "0", "--to", "1", "--out", out]
    )
    assert "no run named" in refusal(
        capsys, ["path", "nope", "--runs-root", str(runs), "--from", "0", "--to", "1", "--out", out]
    )


def test_walk_along_an_attribute_and_traverse_an_axis_and_a_component(runs, tmp_path, capsys):
    root = ["--runs-root", str(runs)]
    walk = tmp_path / "walk.png"
    assert (
        cli.main(
            ["walk", "bench-ae", *root, "--attribute", "smiling", "--row", "5", "--steps", "5", "--out", str(walk)]
        )
        == 0
    )
    assert "point 5 of bench-ae walked along smiling" in capsys.readouterr().out
    assert pixels(walk).shape[1] == 5 * (SIDE + 2) + 2
    for along in (["--axis", "2"], ["--pc", "0"]):
        out = tmp_path / f"traverse{along[0]}.png"
        assert cli.main(["traverse", "bench-vae", *root, *along, "--steps", "4", "--out", str(out)]) == 0
        strip = pixels(out)
        tiles = [strip[2 : 2 + SIDE, 2 + k * (SIDE + 2) : 2 + k * (SIDE + 2) + SIDE] for k in range(4)]
        assert not np.array_equal(tiles[0], tiles[-1]), "the ends of the percentile range decode differently"
    assert "1st..99th percentile" in capsys.readouterr().out
    assert "--attribute must be a numeric metadata column" in refusal(
        capsys, ["walk", "bench-ae", *root, "--attribute", "id", "--out", str(tmp_path / "w.png")]
    )
    assert "--axis must be between 0 and 7" in refusal(
        capsys, ["traverse", "bench-ae", *root, "--axis", "8", "--out", str(tmp_path / "t.png")]
    )
    assert "--span must be above 0" in refusal(
        capsys, ["walk", "bench-ae", *root, "--attribute", "pose", "--span", "9", "--out", str(tmp_path / "w.png")]
    )
