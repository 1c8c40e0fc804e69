"""A tiny AE and a tiny VAE, really trained on the synthetic faces once per test session (about a minute on 2 cores)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path

import pytest

#: Small enough to train in seconds, large enough that decoded data points look like faces (about 600 of the
#: 750 faces are in the train split that training learns from); the same 400 images are encoded after each
#: epoch (snapshots), so the report has a curve over training to draw.
TRAIN = ["--data", "synthetic:750", "--image-size", "32", "--z-dim", "16", "--epochs", "3"]
TRAIN += ["--snapshot-every", "1", "--snapshot-n", "400"]
#: The β sweep of the sweep tests: three runs of one epoch (β = 0 is the AE).
SWEEP = ["--data", "synthetic:600", "--image-size", "32", "--z-dim", "8", "--epochs", "1", "--beta", "0,0.5,4"]


@pytest.fixture(scope="session", autouse=True)
def small_judge():
    """The independent judge trained on 1,500 renders and measured on 24 known images per kind (the product:
    6,000 and 64), so the session pays seconds for it, not a minute."""
    from study import judge, judge_faces

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(judge_faces, "N_TRAIN", 1500)
        patch.setattr(judge, "N_KNOWN", 24)
        yield


@pytest.fixture(scope="session")
def trained_runs(tmp_path_factory) -> dict[str, Path]:
    """{"ae": run folder, "vae": run folder}, complete (trained and encoded)."""
    from zspace.cli import main

    root = tmp_path_factory.mktemp("study-runs")
    runs = {}
    for kind in ("ae", "vae"):
        out = root / f"tiny-{kind}"
        assert main(["train", *TRAIN, "--model", kind, "--out", str(out)]) == 0
        runs[kind] = out
    return runs


@pytest.fixture(scope="session")
def report_dir(trained_runs, tmp_path_factory) -> Path:
    """``zspace report tiny-ae --compare tiny-vae --out DIR``, run once through the command line."""
    from zspace.cli import main

    out = tmp_path_factory.mktemp("report")
    argv = ["report", str(trained_runs["ae"]), "--compare", str(trained_runs["vae"]), "--out", str(out)]
    assert main([*argv, "--judge-samples", "16"]) == 0
    return out


@pytest.fixture(scope="session")
def sweep_dir(tmp_path_factory) -> Path:
    """``zspace sweep`` of :data:`SWEEP` into ``runs/betas`` (analysed without 2-D maps), run once."""
    from zspace.cli import main

    out = tmp_path_factory.mktemp("sweep-runs") / "betas"
    assert main(["sweep", *SWEEP, "--analyses", "no-maps", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def sweep_report(sweep_dir, tmp_path_factory) -> Path:
    """``zspace report SWEEP --out DIR`` on :func:`sweep_dir`, run once through the command line."""
    from zspace.cli import main

    out = tmp_path_factory.mktemp("sweep-report")
    assert main(["report", str(sweep_dir), "--out", str(out), "--judge-samples", "0"]) == 0
    return out
