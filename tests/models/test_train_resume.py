"""Killed and interrupted training: at most the current epoch is lost, and --resume completes the history."""

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
from zspace import cli

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BOOT = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); import fake_image_source; fake_image_source.install(); "
    "from zspace.cli import main; sys.exit(main(sys.argv[1:]))"
)
ARGS = ["--data", "fake:256", "--model", "vae", "--image-size", "32", "--z-dim", "8", "--batch-size", "32"]


def _start_train(out: Path, epochs: int, pause_at: str, marker: Path) -> subprocess.Popen:
    """Start a training worker that holds at ``pause_at`` (see ``models.pause``) and says so in ``marker``."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "ZSPACE_PAUSE_AT": pause_at, "ZSPACE_PAUSE_FILE": str(marker)}
    argv = [sys.executable, "-c", BOOT, str(HERE), "train", *ARGS, "--epochs", str(epochs), "--out", str(out)]
    # A test run started in the background (`make test &`) inherits SIGINT as ignored, and Python keeps it
    # ignored in the worker; the worker gets the default disposition back, as a terminal gives it.
    return subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_sigint_default
    )


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_pause(proc: subprocess.Popen, marker: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the worker never reached its pause point")
        time.sleep(0.05)


def _history_epochs(out: Path) -> list[int]:
    with (out / rundir.HISTORY).open() as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def test_sigkill_during_epoch_3_then_resume_has_each_epoch_once(fake_data, tmp_path):
    out, marker = tmp_path / "killed", tmp_path / "paused.json"
    proc = _start_train(out, epochs=4, pause_at="train-step:3:2", marker=marker)
    _wait_for_pause(proc, marker)
    status = json.loads((out / rundir.STATUS).read_text())
    assert (status["state"], status["epoch"], status["epochs_finished"], status["step"]) == ("training", 3, 2, 2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert _history_epochs(out) == [1, 2]  # epoch 3 was lost, nothing else
    assert json.loads((out / rundir.CHECKPOINTS / "latest.json").read_text())["epoch"] == 2
    assert not rundir.inspect_run(out).usable

    assert cli.main(["train", "--out", str(out), "--resume"]) == 0  # the killed holder's lock is gone
    assert _history_epochs(out) == [1, 2, 3, 4]
    assert rundir.inspect_run(out).usable
    assert not list(out.glob(".tmp-*")), "resume cleans up temporaries of the killed writer"
    # Only the newest three epoch checkpoints are kept.
    kept = sorted(path.name for path in (out / rundir.CHECKPOINTS).glob("epoch_*.keras"))
    assert kept == ["epoch_002.keras", "epoch_003.keras", "epoch_004.keras"]


def test_sigint_stops_cleanly_as_interrupted_and_resume_finishes(fake_data, tmp_path):
    out, marker = tmp_path / "interrupted", tmp_path / "paused.json"
    proc = _start_train(out, epochs=3, pause_at="train-step:2:3", marker=marker)
    _wait_for_pause(proc, marker)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    status = rundir.read_status(out)
    assert status["state"] == "interrupted" and "--resume" in status["message"]
    assert _history_epochs(out) == [1]
    assert cli.main(["train", "--out", str(out), "--resume"]) == 0
    assert _history_epochs(out) == [1, 2, 3]


def test_a_resumed_run_trains_on_the_same_batches_as_an_uninterrupted_one(fake_data, tmp_path):
    whole, split = tmp_path / "whole", tmp_path / "split"
    ae = ["--data", "fake:96", "--model", "ae", "--image-size", "32", "--z-dim", "8", "--batch-size", "32"]
    assert cli.main(["train", *ae, "--epochs", "3", "--out", str(whole)]) == 0
    assert cli.main(["train", *ae, "--epochs", "1", "--out", str(split)]) == 0
    assert cli.main(["train", "--out", str(split), "--resume", "--epochs", "3"]) == 0
    # Each epoch's order depends on (seed, epoch) alone, and the optimizer state comes back with the checkpoint.
    np.testing.assert_allclose(_losses(split), _losses(whole), rtol=1e-5)
    np.testing.assert_allclose(np.load(split / rundir.ZPOINTS), np.load(whole / rundir.ZPOINTS), atol=1e-4)


def _losses(out: Path) -> list[float]:
    with (out / rundir.HISTORY).open() as handle:
        return [float(row["loss"]) for row in csv.DictReader(handle)]
