"""``zspace train --snapshot-every``: the same rows encoded after each due epoch, written before the checkpoint."""

import os

import numpy as np
import pytest

import rundir
from models.config import DEFAULT_SNAPSHOT_N
from rundir.snapshots import load_snapshot, load_snapshot_rows, snapshot_epochs, write_snapshot
from zspace import cli

pytestmark = pytest.mark.slow

TINY = ["--data", "fake:160", "--model", "vae", "--image-size", "32", "--z-dim", "8", "--batch-size", "32"]


def _replaced_names(monkeypatch) -> list[str]:
    """Record the final name of every atomic write (os.replace) from now on."""
    names: list[str] = []
    real = os.replace

    def recording(src, dst, *args, **kwargs):
        names.append(f"{os.path.basename(os.path.dirname(dst))}/{os.path.basename(dst)}")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", recording)
    return names


def test_a_resumed_run_keeps_its_rows_retakes_its_unfinished_epochs_and_writes_each_snapshot_first(
    fake_data, tmp_path, monkeypatch
):
    out = tmp_path / "snap"
    argv = ["train", *TINY, "--snapshot-every", "1", "--snapshot-n", "100", "--out", str(out)]
    assert cli.main([*argv, "--epochs", "2"]) == 0
    rows = load_snapshot_rows(out)
    # 100 distinct rows of the 160, drawn once with the run's seed.
    assert len(rows) == 100 and len(np.unique(rows)) == 100 and rows[-1] < 160
    first = {epoch: np.array(load_snapshot(out, epoch)) for epoch in (1, 2)}
    stamps = {epoch: (out / "snapshots" / f"epoch_00{epoch}.npy").stat().st_mtime_ns for epoch in (1, 2)}
    # What a worker killed after writing epoch 3's snapshot, before its checkpoint, leaves behind (and a stray later one).
    write_snapshot(out, 3, np.zeros((100, 8)))
    write_snapshot(out, 4, np.zeros((100, 8)))

    written = _replaced_names(monkeypatch)
    assert cli.main(["train", "--out", str(out), "--resume", "--epochs", "3"]) == 0
    assert snapshot_epochs(out) == [1, 2, 3]
    np.testing.assert_array_equal(load_snapshot_rows(out), rows)
    for epoch in (1, 2):  # earlier snapshots are left as they were
        np.testing.assert_array_equal(load_snapshot(out, epoch), first[epoch])
        assert (out / "snapshots" / f"epoch_00{epoch}.npy").stat().st_mtime_ns == stamps[epoch]
    # Epoch 3 was trained again: its snapshot is the model's encoding of the rows, as zspace encode stores it.
    z = rundir.load_zpoints(out)
    np.testing.assert_allclose(load_snapshot(out, 3), z[rows], atol=1e-5)
    assert not np.allclose(load_snapshot(out, 2), z[rows], atol=1e-3)
    # The snapshot of epoch 3 was in place before the checkpoint that lets a resume skip epoch 3.
    assert written.index("snapshots/epoch_003.npy") < written.index("checkpoints/latest.json")


def test_a_fresh_run_refuses_more_snapshot_rows_than_images_and_a_resume_keeps_the_count(fake_data, tmp_path, capsys):
    out = tmp_path / "bad"
    for extra, message in (
        (["--snapshot-every", "1", "--snapshot-n", "161"], "--snapshot-n 161 is larger than the data (160 images)"),
        (["--snapshot-n", "10"], "--snapshot-n needs --snapshot-every"),
        (["--snapshot-every", "0"], "--snapshot-every must be a positive whole number"),
    ):
        assert cli.main(["train", *TINY, *extra, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err
        assert not out.exists()
    # Exactly the data's size is accepted (checked without training: the config records it).
    from models.config import snapshot_settings

    assert snapshot_settings(1, 160, 160) == {"snapshot_every": 1, "snapshot_n": 160}
    assert snapshot_settings(2, None, 160)["snapshot_n"] == 160 < DEFAULT_SNAPSHOT_N == 5000
    assert snapshot_settings(2, None, 9000)["snapshot_n"] == 5000


def test_a_resume_with_another_snapshot_count_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    rundir.atomic.atomic_write_json(
        out / rundir.CONFIG,
        {"schema_version": 1, "model": "vae", "z_dim": 8, "image_size": 32, "channels": 3, "data": "fake:160"}
        | {"snapshot_every": 1, "snapshot_n": 100, "epochs": 2, "batch_size": 32, "learning_rate": 0.001, "seed": 0},
    )
    assert cli.main(["train", "--out", str(out), "--resume", "--snapshot-n", "50"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "snapshot_n: 100 -> 50" in err


def test_snapshots_follow_every_eth_epoch_and_the_last():
    from models.snapshots import snapshot_due, snapshot_rows

    assert [e for e in range(1, 6) if snapshot_due(e, 2, 5)] == [2, 4, 5]
    assert [e for e in range(1, 4) if snapshot_due(e, 1, 3)] == [1, 2, 3]
    np.testing.assert_array_equal(snapshot_rows(50, 80, seed=0), np.arange(50))
    assert np.array_equal(snapshot_rows(500, 20, seed=1), snapshot_rows(500, 20, seed=1))
    assert not np.array_equal(snapshot_rows(500, 20, seed=1), snapshot_rows(500, 20, seed=2))
