"""Killed and interrupted training: at most the current epoch is lost, and --resume completes the history."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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


def _start_train(out: Path, epochs: int) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "ZSPACE_TRAIN_SLOW_STEP": "0.08"}
    argv = [sys.executable, "-c", BOOT, str(HERE), "train", *ARGS, "--epochs", str(epochs), "--out", str(out)]
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_epoch(proc: subprocess.Popen, out: Path, epoch: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            status = json.loads((out / rundir.STATUS).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            status = {}
        if (
            status.get("state") == "training"
            and status.get("epoch") == epoch
            and status.get("epochs_finished") == epoch - 1
        ):
            time.sleep(0.3)  # well inside the epoch: 8 steps of >= 0.08 s each
            return
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"training never reached epoch {epoch}")


def _history_epochs(out: Path) -> list[int]:
    with (out / rundir.HISTORY).open() as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def test_sigkill_during_epoch_3_then_resume_has_each_epoch_once(fake_data, tmp_path):
    out = tmp_path / "killed"
    proc = _start_train(out, epochs=4)
    _wait_for_epoch(proc, out, 3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert _history_epochs(out) == [1, 2]  # epoch 3 was lost, nothing else
    assert json.loads((out / rundir.CHECKPOINTS / "latest.json").read_text())["epoch"] == 2
    assert not rundir.inspect_run(out).usable

    assert cli.main(["train", "--out", str(out), "--resume"]) == 0  # the killed holder's lock is gone
    assert _history_epochs(out) == [1, 2, 3, 4]
    assert rundir.inspect_run(out).usable
    assert not list(out.glob(".tmp-*")), "resume cleans up temporaries of the killed writer"


def test_sigint_stops_cleanly_as_interrupted_and_resume_finishes(fake_data, tmp_path):
    out = tmp_path / "interrupted"
    proc = _start_train(out, epochs=3)
    _wait_for_epoch(proc, out, 2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    status = rundir.read_status(out)
    assert status["state"] == "interrupted" and "--resume" in status["message"]
    assert _history_epochs(out) == [1]
    assert cli.main(["train", "--out", str(out), "--resume"]) == 0
    assert _history_epochs(out) == [1, 2, 3]
