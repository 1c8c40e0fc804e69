"""SIGKILL at random moments: no half-written file is ever visible, and the next run completes.

The kill times are drawn from a seeded generator so a failure can be replayed.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import rundir
from analysis.cache import entries
from zspace import cli

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
TRAIN = ["--data", "synthetic:192", "--model", "vae", "--image-size", "32", "--z-dim", "8", "--batch-size", "32"]


def start(*argv, slow_step=None):
    env = {**ENV, **({"ZSPACE_TRAIN_SLOW_STEP": str(slow_step)} if slow_step else {})}
    command = [sys.executable, "-m", "zspace", *argv]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def kill_after(proc, seconds):
    """SIGKILL ``proc`` after ``seconds`` unless it ended first; True when it was killed."""
    try:
        proc.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        return True


def assert_every_visible_file_is_whole(run: Path):
    """Every file under its final name parses completely; leftovers only ever carry the .tmp- prefix."""
    for path in run.rglob("*"):
        if path.is_dir() or path.name.startswith(".tmp-") or path.name == rundir.LOCK or "tensorboard" in path.parts:
            continue
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".npy":
            rundir.npy_header(path)
            np.load(path, allow_pickle=False)
        elif path.suffix == ".csv":
            rows = list(csv.DictReader(path.open()))
            assert all(None not in row.values() for row in rows), f"{path.name} has a partial row"
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                [npz[name] for name in npz.files]
    latest = run / rundir.CHECKPOINTS / "latest.json"
    if latest.exists():
        epoch = json.loads(latest.read_text())["epoch"]
        assert any(run.joinpath(rundir.CHECKPOINTS).glob(f"*{epoch:03d}*.keras")), "latest.json names a checkpoint"


def history_epochs(run: Path) -> list[int]:
    if not (run / rundir.HISTORY).exists():
        return []
    return [int(row["epoch"]) for row in csv.DictReader((run / rundir.HISTORY).open())]


def test_training_killed_at_random_points_resumes_to_a_consistent_run(tmp_path):
    run = tmp_path / "run"
    rng = np.random.default_rng(5)
    # Start-up (TensorFlow import, graph tracing) takes a few seconds; the draws
    # land before, inside and between the 6 epochs of ~0.5 s each.
    for delay in rng.uniform(2.0, 9.0, size=3):
        resuming = (run / rundir.CONFIG).exists()
        argv = ["train", "--out", str(run), "--resume"] if resuming else ["train", *TRAIN, "--out", str(run)]
        proc = start(*argv, "--epochs", "6", slow_step=0.05)
        killed = kill_after(proc, float(delay))
        assert killed or proc.returncode == 0, proc.stderr.read()
        assert_every_visible_file_is_whole(run)
        epochs = history_epochs(run)
        assert epochs == list(range(1, len(epochs) + 1)), f"history after a kill at {delay:.1f} s: {epochs}"
    argv = ["train", "--out", str(run), "--resume"] if (run / rundir.CONFIG).exists() else ["train", *TRAIN]
    assert cli.main([*argv, "--epochs", "6", *([] if "--out" in argv else ["--out", str(run)])]) == 0
    assert history_epochs(run) == [1, 2, 3, 4, 5, 6]
    assert rundir.inspect_run(run).usable


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "done"
    assert cli.main(["train", *TRAIN, "--epochs", "1", "--out", str(run)]) == 0
    return run


def test_encode_killed_midway_leaves_old_or_new_files_and_reruns(trained_run):
    before = np.load(trained_run / rundir.ZPOINTS).copy()
    for delay in np.random.default_rng(7).uniform(3.0, 7.0, size=2):
        kill_after(start("encode", str(trained_run), "--batch-size", "16"), float(delay))
        assert_every_visible_file_is_whole(trained_run)
        z = np.load(trained_run / rundir.ZPOINTS, allow_pickle=False)
        assert z.shape == before.shape
    assert cli.main(["encode", str(trained_run)]) == 0
    assert rundir.inspect_run(trained_run).usable
    np.testing.assert_allclose(np.load(trained_run / rundir.ZPOINTS), before, atol=1e-5)


def test_analyze_killed_midway_leaves_only_whole_cache_entries(trained_run, capsys):
    proc = start("analyze", str(trained_run), "--quick")
    deadline = time.monotonic() + 60
    while not entries(trained_run, "pca") and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    kill_after(proc, float(np.random.default_rng(11).uniform(0.0, 1.5)))
    assert_every_visible_file_is_whole(trained_run)
    assert cli.main(["analyze", str(trained_run), "--quick"]) == 0
    capsys.readouterr()
    assert cli.main(["analyze", str(trained_run), "--quick"]) == 0
    assert "cached" in capsys.readouterr().out
