"""``zspace report`` on a run whose metadata names an original that cannot be loaded: it skips it, says so, finishes."""

from __future__ import annotations

import json

import numpy as np
import pytest

import rundir
from rundir.atomic import atomic_write_parquet

pytestmark = pytest.mark.slow

HOSTILE = "../../etc/passwd"


@pytest.fixture(scope="module")
def run_with_a_bad_source(tmp_path_factory):
    """A tiny fixture run (300 points) whose sources are procedural faces, except two rows of the real set."""
    from study.reference import ReferenceParams, split_rows
    from tools.fixtures import make_demo_runs

    root = make_demo_runs(tmp_path_factory.mktemp("runs"), n_points=300)
    run = root / "bench-ae"
    meta = rundir.load_metadata(run)
    ref_rows = split_rows(len(meta), ReferenceParams())[0]
    meta["source"] = [f"synthetic:0:{r}" for r in range(len(meta))]
    bad = [int(ref_rows[0]), int(ref_rows[-1])]  # the first and the last row of the real set
    meta.loc[bad[0], "source"] = HOSTILE  # refused, never opened
    meta.loc[bad[1], "source"] = "synthetic:0"  # a face id without its index
    atomic_write_parquet(run / rundir.METADATA, meta)
    return run, bad, ref_rows


def test_training_images_skip_each_unloadable_original_and_name_its_row(run_with_a_bad_source):
    from models.data import faces
    from study.reference import training_images

    run, bad, ref_rows = run_with_a_bad_source
    images, kept, skipped = training_images(run, ref_rows)
    assert kept.tolist() == [r for r in ref_rows.tolist() if r not in bad]
    # Every kept image is the procedural face its row names (an independent render), in order.
    assert np.array_equal(images, faces.render_faces(0, kept, 32))
    assert len(skipped) == 2
    for row, note in zip(bad, skipped, strict=True):
        assert note.startswith(f"row {row}: ") and "is not a synthetic face id" in note, note


def test_the_report_finishes_and_says_which_originals_it_left_out(run_with_a_bad_source, tmp_path, capsys):
    from zspace.cli import main

    run, bad, _ = run_with_a_bad_source
    assert main(["report", str(run), "--out", str(tmp_path / "report"), "--judge-samples", "0"]) == 0, (
        capsys.readouterr().err
    )
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    originals = summary["runs"][0]["originals"]
    assert originals["skipped"] == 2
    assert f"row {bad[0]}:" in originals["note"] and f"row {bad[1]}:" in originals["note"]
    page = (tmp_path / "report" / "report.html").read_text()
    assert "2 training images of the real set could not be loaded and were left out" in page
    note = page.split("could not be loaded and were left out (")[1].split(").</li>")[0]
    assert "&#x27;../../etc/passwd&#x27;" in note and "<" not in note  # escaped text, never markup


def test_a_run_whose_originals_are_mostly_gone_is_still_refused_in_one_line(run_with_a_bad_source):
    from rundir.errors import ZspaceError
    from study.reference import training_images

    run, bad, _ = run_with_a_bad_source
    with pytest.raises(ZspaceError, match=r"only 1 of 3 training images of run bench-ae can be read .+first: row"):
        training_images(run, np.array([bad[0], bad[1], 7]))
    assert len(training_images(run, np.array([bad[0], 7]))[1]) == 1  # half readable is enough
