"""`zspace analyze`'s edges: a Windows-style path, and a step without a backend of its own."""

import argparse
import re

import numpy as np
import pytest

from analysis import precompute
from rundir.errors import ZspaceError


def test_a_path_with_backslashes_is_a_missing_folder_not_a_run_name(tmp_path):
    for path in ("runs\\fil", "C:\\runs\\fil"):
        with pytest.raises(ZspaceError, match=r"^run folder .*fil does not exist$"):
            precompute.find_run(path, str(tmp_path))


class _Plain:
    """A declaration whose result has no backend (a histogram, PCA): the summary gives the step's wall time."""

    def is_cached(self, run, **params):
        return False

    def __call__(self, run, callback=None, **params):
        return {"counts": np.arange(3)}


def test_a_step_without_a_backend_reports_its_own_time(tmp_path, make_run, monkeypatch, capsys):
    run = make_run(tmp_path / "runs" / "fil", np.random.default_rng(0).normal(size=(30, 4)))
    monkeypatch.setattr(precompute, "plan", lambda *a, **k: [("PCA", _Plain(), {})])
    args = argparse.Namespace(
        run=str(run), runs_root="x", quick=True, tsne_n=None, skip_tsne=False, structure_n=None, seed=0
    )
    assert precompute.run(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"  PCA: computed \(\d+\.\d s\)", lines[0]), lines
    assert re.fullmatch(r"1 analyses computed, 0 cached, in \d+\.\d s -> .*fil/analysis", lines[1]), lines


def test_each_snapshot_step_computes_its_own_epoch_and_the_pca_basis_comes_last(tmp_path, monkeypatch):
    import rundir.snapshots
    from analysis import snapshots

    monkeypatch.setattr(rundir.snapshots, "snapshot_epochs", lambda run: [2, 5])
    assert precompute.snapshot_steps(tmp_path) == [
        ("structure after epoch 2 (snapshot)", snapshots.epoch_structure, {"epoch": 2}),
        ("structure after epoch 5 (snapshot)", snapshots.epoch_structure, {"epoch": 5}),
        ("PCA basis of 2 snapshots", snapshots.snapshot_pca, {}),
    ]
    monkeypatch.setattr(rundir.snapshots, "snapshot_epochs", lambda run: [])
    assert precompute.snapshot_steps(tmp_path) == []
