"""SIGKILL in the middle of a write: no half-written file is ever visible, and the next run completes.

Each kill lands on a state, not after a guessed delay (TensorFlow's import alone
takes longer than the old fixed delays, so they killed before anything was
written). Training and encoding are held at a named point by ``models.pause``
(``ZSPACE_PAUSE_AT``) while the test checks the state on disk, then killed;
analyze is killed as soon as its first cache entry appears. Each test then
asserts that the kill landed mid-write (the temporary file is still there and
the final one was not replaced), that every visible file is whole, and that
the next run finishes the job.
"""

import csv
import io
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
from rundir.atomic import TMP_PREFIX
from zspace import cli

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ["--data", "synthetic:192", "--model", "vae", "--image-size", "32", "--z-dim", "8", "--batch-size", "32"]


def start(*argv, pause_at: str | None = None, marker: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    if pause_at:
        env.update(ZSPACE_PAUSE_AT=pause_at, ZSPACE_PAUSE_FILE=str(marker))
    command = [sys.executable, "-m", "zspace", *map(str, argv)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for_pause(proc: subprocess.Popen, marker: Path, point: str, timeout: float = 180) -> None:
    """Wait until the worker holds at ``point``."""
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"the worker ended (exit {proc.returncode}) before {point}: {proc.stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the worker never reached {point}")
        time.sleep(0.05)
    assert json.loads(marker.read_text())["point"] == point
    marker.unlink()


def sigkill(proc: subprocess.Popen) -> None:
    assert proc.poll() is None, "the worker must still be running when it is killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def temporaries(folder: Path, stem: str) -> list[Path]:
    return sorted(folder.glob(f"{TMP_PREFIX}{stem}-*"))


def assert_every_visible_file_is_whole(run: Path):
    """Every file under its final name parses completely; leftovers only ever carry the .tmp- prefix."""
    for path in run.rglob("*"):
        if path.is_dir() or path.name.startswith(TMP_PREFIX) or path.name == rundir.LOCK or "tensorboard" in path.parts:
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
        assert (run / rundir.CHECKPOINTS / f"epoch_{epoch:03d}.keras").is_file(), "latest.json names a checkpoint"


def history_epochs(run: Path) -> list[int]:
    if not (run / rundir.HISTORY).exists():
        return []
    return [int(row["epoch"]) for row in csv.DictReader((run / rundir.HISTORY).open())]


def latest_epoch(run: Path) -> int:
    return json.loads((run / rundir.CHECKPOINTS / "latest.json").read_text())["epoch"]


def test_training_killed_mid_epoch_mid_checkpoint_and_mid_encode_resumes_to_a_whole_run(tmp_path):
    run, marker = tmp_path / "run", tmp_path / "paused.json"
    checkpoints = run / rundir.CHECKPOINTS

    # 1. Inside epoch 2: epoch 1 is saved, epoch 2 is not.
    proc = start("train", *TRAIN, "--epochs", "4", "--out", run, pause_at="train-step:2:3", marker=marker)
    wait_for_pause(proc, marker, "train-step:2:3")
    status = rundir.read_status(run)
    assert (status["state"], status["epoch"], status["epochs_finished"]) == ("training", 2, 1)
    sigkill(proc)
    assert_every_visible_file_is_whole(run)
    assert history_epochs(run) == [1] and latest_epoch(run) == 1

    # 2. While the epoch-3 checkpoint is being written: it exists only under its temporary name.
    resume = ["train", "--out", run, "--resume", "--epochs", "4"]
    proc = start(*resume, pause_at="save:epoch_003.keras", marker=marker)
    wait_for_pause(proc, marker, "save:epoch_003.keras")
    (partial,) = temporaries(checkpoints, "epoch_003")
    assert partial.stat().st_size > 0 and not (checkpoints / "epoch_003.keras").exists()
    sigkill(proc)
    assert partial.exists(), "the kill landed before the rename"
    assert_every_visible_file_is_whole(run)
    assert history_epochs(run) == [1, 2] and latest_epoch(run) == 2

    # 3. While the final z-points are being written: half of them sit in the temporary .npy.
    proc = start(*resume, pause_at="encode:half", marker=marker)
    wait_for_pause(proc, marker, "encode:half")
    (partial,) = temporaries(run, "zpoints")
    assert not (run / rundir.ZPOINTS).exists() and rundir.read_status(run)["state"] == "encoding"
    sigkill(proc)
    assert partial.exists(), "the kill landed before the rename"
    assert_every_visible_file_is_whole(run)
    assert history_epochs(run) == [1, 2, 3, 4] and latest_epoch(run) == 4
    assert not rundir.inspect_run(run).usable

    assert cli.main([*map(str, resume)]) == 0
    assert history_epochs(run) == [1, 2, 3, 4]
    assert rundir.inspect_run(run).usable
    assert not list(run.rglob(TMP_PREFIX + "*")), "resume removes what the killed writers left"
    # Documented: the newest three epoch checkpoints are kept.
    assert sorted(p.name for p in checkpoints.glob("epoch_*.keras")) == [f"epoch_00{e}.keras" for e in (2, 3, 4)]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "done"
    assert cli.main(["train", *TRAIN, "--epochs", "1", "--out", str(run)]) == 0
    return run


def test_encode_killed_mid_write_keeps_the_old_zpoints_and_reruns(trained_run, tmp_path):
    zpoints = trained_run / rundir.ZPOINTS
    before, inode = zpoints.read_bytes(), zpoints.stat().st_ino
    marker = tmp_path / "paused.json"
    proc = start("encode", trained_run, "--batch-size", "16", pause_at="encode:half", marker=marker)
    wait_for_pause(proc, marker, "encode:half")
    (partial,) = temporaries(trained_run, "zpoints")
    assert zpoints.stat().st_ino == inode, "zpoints.npy not yet replaced"
    sigkill(proc)
    assert partial.exists(), "the kill landed before the rename"
    assert zpoints.read_bytes() == before
    assert_every_visible_file_is_whole(trained_run)

    assert cli.main(["encode", str(trained_run)]) == 0
    assert rundir.inspect_run(trained_run).usable
    np.testing.assert_allclose(np.load(zpoints), np.load(io.BytesIO(before)), atol=1e-5)
    assert not list(trained_run.glob(TMP_PREFIX + "*")), "the next encode removes the killed one's leftovers"


def test_analyze_killed_after_its_first_entry_leaves_only_whole_entries(trained_run, capsys):
    proc = start("analyze", trained_run, "--quick")
    deadline = time.monotonic() + 120
    while not entries(trained_run, "histograms"):
        assert proc.poll() is None and time.monotonic() < deadline, "analyze ended before its first entry"
        time.sleep(0.02)
    sigkill(proc)
    assert not entries(trained_run, "tsne"), "the kill landed before analyze finished"
    assert_every_visible_file_is_whole(trained_run)
    assert cli.main(["analyze", str(trained_run), "--quick"]) == 0
    capsys.readouterr()
    assert cli.main(["analyze", str(trained_run), "--quick"]) == 0
    assert "cached" in capsys.readouterr().out
