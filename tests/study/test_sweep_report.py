"""``zspace sweep`` and ``zspace report`` on a sweep folder; a run's snapshots and its curve over training."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import mean_squared_error

import rundir
from analysis import samplers
from rundir.snapshots import load_snapshot, load_snapshot_rows, snapshot_epochs
from rundir.sweep import read_sweep

pytestmark = pytest.mark.slow

BETAS = [0.0, 0.5, 4.0]
NAMES = ["betas/beta-0", "betas/beta-0.5", "betas/beta-4"]


def test_a_sweep_trains_one_complete_run_per_beta_and_the_ae_at_zero(sweep_dir):
    manifest = read_sweep(sweep_dir)
    assert [(m["beta"], m["model"], m["state"]) for m in manifest["members"]] == [
        (0.0, "ae", "complete"), (0.5, "vae", "complete"), (4.0, "vae", "complete"),
    ]  # fmt: skip
    for member in manifest["members"]:
        config = rundir.read_config(sweep_dir / member["run"])
        assert (config["model"], config["beta"], config["z_dim"], config["epochs"]) == (
            member["model"], member["beta"], 8, 1,
        )  # fmt: skip
    listed = rundir.list_runs(sweep_dir.parent)
    assert [r.name for r in listed] == NAMES and all(r.usable for r in listed)


def test_the_report_on_a_sweep_holds_three_runs_each_ae_vae_pair_and_the_curve(sweep_report, sweep_dir):
    summary = json.loads((sweep_report / "summary.json").read_text(encoding="utf-8"))
    assert [r["run"] for r in summary["runs"]] == NAMES
    assert [(c["ae"], c["vae"]) for c in summary["comparison"]] == [(NAMES[0], NAMES[1]), (NAMES[0], NAMES[2])]
    (curve,) = summary["sweeps"]
    assert (curve["sweep"], curve["betas"], curve["runs"], curve["models"]) == (
        "betas",
        BETAS,
        NAMES,
        ["ae", "vae", "vae"],
    )
    assert set(curve["rates"]) == {"data", *samplers.KINDS}
    for i, run in enumerate(summary["runs"]):
        # The curve's points are the runs' own numbers, as the rate table and the Structure view show them.
        for sampler, rates in curve["rates"].items():
            row = run["rates"][sampler]
            assert (rates["lo"][i], rates["rate"][i], rates["hi"][i]) == (row["rate_lo"], row["rate"], row["rate_hi"])
            assert rates["lo"][i] <= rates["rate"][i] <= rates["hi"][i]
        mine, null = run["structure"], run["structure"]["null"]
        assert curve["void_fraction"]["normal"]["value"][i] == mine["void_fraction"]["normal"]
        assert [curve["void_fraction"]["uniform_box"][p][i] for p in ("lo", "hi")] == mine["void_interval"][
            "uniform_box"
        ]
        assert curve["void_fraction"]["uniform_box"]["null"][i] == null["void_fraction"]["uniform_box"]
        assert curve["lid_median"]["value"][i] == pytest.approx(mine["lid_median"])
        assert curve["lid_median"]["null"][i] == pytest.approx(null["lid_median"])
    assert curve["kl"][0] is None and all(kl > 0 for kl in curve["kl"][1:])
    page = (sweep_report / "report.html").read_text(encoding="utf-8")
    assert "<h2>β sweep: betas</h2>" in page and "<th>void (N(0, I))</th>" in page
    # Figure titles travel JSON-escaped inside each figure's script.
    assert "betas: meaningful rate per sampler against \\u03b2" in page


def test_the_sweeps_fit_numbers_match_an_independent_computation(sweep_dir):
    from models.data import faces
    from models.io import load_decoder
    from study.sweep import fit_numbers

    for member, beta in zip(("beta-0", "beta-4"), (0.0, 4.0), strict=True):
        run = sweep_dir / member
        found = fit_numbers.read(run)
        assert found is not None, "zspace sweep caches each run's fit numbers"
        rows = np.asarray(found["rows"])
        assert len(rows) == found["n_images"] == 256 and len(np.unique(rows)) == 256
        z = rundir.load_zpoints(run, mmap=False)
        decoded = np.asarray(load_decoder(run)(z[rows], training=False)).reshape(len(rows), -1)
        originals = faces.render_faces(0, rows, 32).astype(np.float32).reshape(len(rows), -1) / 255.0
        assert found["recon_mse"] == pytest.approx(mean_squared_error(originals, decoded), rel=1e-4)
        assert found["active_units"] == int(np.sum(np.var(z.astype(np.float64), axis=0) > 0.01))
        if beta:
            logvar = np.load(run / rundir.ZLOGVAR).astype(np.float64)
            mu = z.astype(np.float64)
            kl = np.mean(np.sum(0.5 * (mu**2 + np.exp(logvar) - 1 - logvar), axis=1))
            assert found["kl"] == pytest.approx(kl, rel=1e-6)


def test_running_the_sweep_again_continues_and_skips_what_is_finished(sweep_dir, capsys):
    from zspace.cli import main

    stamps = {m: (sweep_dir / m / rundir.HISTORY).stat().st_mtime_ns for m in ("beta-0", "beta-0.5", "beta-4")}
    assert main(["sweep", "--analyses", "no-maps", "--out", str(sweep_dir)]) == 0
    out = capsys.readouterr().out
    assert "trained" not in out and "computed" not in out and "sweep complete" in out
    assert {m: (sweep_dir / m / rundir.HISTORY).stat().st_mtime_ns for m in stamps} == stamps
    assert [m["state"] for m in read_sweep(sweep_dir)["members"]] == ["complete"] * 3


def test_a_report_refuses_a_run_named_twice_through_its_sweep(sweep_dir, tmp_path, capsys):
    from zspace.cli import main

    argv = ["report", str(sweep_dir), "betas/beta-4", "--runs-root", str(sweep_dir.parent), "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "run betas/beta-4 is given twice" in err
    assert not list(tmp_path.iterdir())


def test_three_epochs_with_snapshot_every_1_leave_three_snapshots_of_the_same_rows(trained_runs):
    for run in trained_runs.values():
        assert snapshot_epochs(run) == [1, 2, 3]
        rows = load_snapshot_rows(run)
        assert len(rows) == len(np.unique(rows)) == 400 and rows[-1] < 750  # rows of synthetic:750
        snaps = [np.asarray(load_snapshot(run, epoch)) for epoch in (1, 2, 3)]
        assert all(s.shape == (400, 16) for s in snaps)
        # The last snapshot is the trained encoder's z of those rows; earlier ones differ (training moved them).
        np.testing.assert_allclose(snaps[2], rundir.load_zpoints(run)[rows], atol=1e-5)
        assert not np.allclose(snaps[0], snaps[2], atol=1e-3)


def test_the_report_of_runs_with_snapshots_draws_their_curve_over_training(report_dir):
    summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    for run in summary["runs"]:
        curve = run["epochs"]
        assert curve["epochs"] == [1, 2, 3] and curve["rows"] == 400
        assert len(curve["lid_median"]) == 3 and all(v is not None for v in curve["lid_median"])
        assert curve["loss"][0] > curve["loss"][2]  # history.csv's losses beside the structure numbers
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    assert "Over training: tiny-ae" in page and "Over training: tiny-vae" in page
