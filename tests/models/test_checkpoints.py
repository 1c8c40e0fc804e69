"""Checkpoints, latest.json and history.csv without TensorFlow: write order, pruning, and reading them back.

The model is a stand-in whose ``save`` writes bytes: what is tested here is the
order in which files get their final names (what ``--resume`` relies on after a
kill), which checkpoints are kept, and what a reader makes of the files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

import rundir
from models import checkpoints
from rundir.errors import RunNotReadyError


class FakeModel:
    """Saves its name as bytes, as ``keras.Model.save`` would save weights."""

    def __init__(self, name="m"):
        self.name = name

    def save(self, path, overwrite=False):
        assert overwrite and str(path).endswith(".keras")
        Path(path).write_bytes(self.name.encode())


@pytest.fixture
def renames(monkeypatch):
    """The final names given by os.replace, in order."""
    done = []
    real = os.replace

    def replace(src, dst):
        done.append(Path(dst).name)
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    return done


def test_an_epoch_writes_its_checkpoint_then_the_history_then_latest_json(tmp_path, renames):
    checkpoints.write_checkpoint(tmp_path, FakeModel("w1"), 1, [{"epoch": 1, "loss": 0.5}])
    assert renames == ["epoch_001.keras", "history.csv", "latest.json"]
    folder = tmp_path / rundir.CHECKPOINTS
    assert (folder / "epoch_001.keras").read_bytes() == b"w1"
    latest = json.loads((folder / "latest.json").read_text())
    assert (latest["epoch"], latest["checkpoint"]) == (1, "epoch_001.keras")
    assert abs(dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(latest["updated"])) < dt.timedelta(seconds=5)


def test_only_the_last_three_checkpoints_are_kept_also_past_epoch_999(tmp_path):
    assert checkpoints.KEEP_CHECKPOINTS == 3  # docs/ARCHITECTURE.md: "the last 3 kept"
    history = []
    for epoch in range(1, 6):
        history.append({"epoch": epoch, "loss": 1.0 / epoch})
        checkpoints.write_checkpoint(tmp_path, FakeModel(f"w{epoch}"), epoch, history)
    folder = tmp_path / rundir.CHECKPOINTS
    assert sorted(p.name for p in folder.glob("*.keras")) == ["epoch_003.keras", "epoch_004.keras", "epoch_005.keras"]
    # 1000 sorts before 999 as text: the newest checkpoint must still be the one kept
    for epoch in (998, 999, 1000, 1001):
        checkpoints.write_checkpoint(tmp_path, FakeModel(f"w{epoch}"), epoch, history)
    assert sorted(p.name for p in folder.glob("*.keras")) == ["epoch_1000.keras", "epoch_1001.keras", "epoch_999.keras"]
    assert checkpoints.read_latest(tmp_path)["path"].read_bytes() == b"w1001"


def test_checkpoint_names_are_zero_padded_to_three_digits():
    assert [checkpoints.checkpoint_name(e) for e in (1, 42, 999, 1000)] == [
        "epoch_001.keras",
        "epoch_042.keras",
        "epoch_999.keras",
        "epoch_1000.keras",
    ]


def test_no_latest_json_means_no_finished_epoch(tmp_path):
    assert checkpoints.read_latest(tmp_path) is None


@pytest.mark.parametrize(
    "latest",
    [{"epoch": 0, "checkpoint": "epoch_000.keras"}, {"epoch": "1", "checkpoint": "x"}, {"epoch": 1}],
    ids=["epoch 0", "epoch as text", "no checkpoint"],
)
def test_a_malformed_latest_json_asks_to_start_again(tmp_path, latest):
    folder = tmp_path / rundir.CHECKPOINTS
    folder.mkdir()
    (folder / "latest.json").write_text(json.dumps(latest))
    with pytest.raises(RunNotReadyError, match="latest.json is malformed .*; start again without --resume"):
        checkpoints.read_latest(tmp_path)


def test_a_latest_json_that_is_not_json_is_named_in_the_one_line(tmp_path):
    folder = tmp_path / rundir.CHECKPOINTS
    folder.mkdir()
    (folder / "latest.json").write_text('{"epoch": 1,')
    with pytest.raises(RunNotReadyError, match=r"^checkpoints/latest.json is not valid JSON \(latest.json: "):
        checkpoints.read_latest(tmp_path)


def test_latest_json_is_read_at_epoch_one_and_names_only_files_in_the_checkpoints_folder(tmp_path):
    checkpoints.write_checkpoint(tmp_path, FakeModel(), 1, [{"epoch": 1}])
    latest = checkpoints.read_latest(tmp_path)
    assert latest["epoch"] == 1 and latest["path"] == tmp_path / rundir.CHECKPOINTS / "epoch_001.keras"
    (tmp_path / "outside.keras").write_bytes(b"x")
    (tmp_path / rundir.CHECKPOINTS / "latest.json").write_text(
        json.dumps({"epoch": 2, "checkpoint": "../outside.keras"})
    )
    with pytest.raises(RunNotReadyError, match="checkpoint outside.keras named by latest.json is missing; start again"):
        checkpoints.read_latest(tmp_path)


def test_history_keeps_every_column_in_first_seen_order_and_reads_back_typed(tmp_path):
    history = [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25, "kl": 3.0, "note": "resumed"}]
    checkpoints.write_history(tmp_path, history)
    assert (tmp_path / rundir.HISTORY).read_text() == "epoch,loss,kl,note\n1,0.5,,\n2,0.25,3.0,resumed\n"
    back = checkpoints.read_history(tmp_path)
    assert back == [
        {"epoch": 1, "loss": 0.5, "kl": "", "note": ""},
        {"epoch": 2, "loss": 0.25, "kl": 3.0, "note": "resumed"},
    ]
    assert isinstance(back[0]["epoch"], int) and isinstance(back[1]["kl"], float)


def test_history_up_to_an_epoch_includes_it_and_a_repeated_epoch_keeps_its_last_row(tmp_path):
    (tmp_path / rundir.HISTORY).write_text("epoch,loss\n1,0.9\n2,0.8\n2,0.7\n3,0.6\n")
    assert checkpoints.read_history(tmp_path, up_to_epoch=2) == [{"epoch": 1, "loss": 0.9}, {"epoch": 2, "loss": 0.7}]
    assert [row["epoch"] for row in checkpoints.read_history(tmp_path)] == [1, 2, 3]
    assert checkpoints.read_history(tmp_path, up_to_epoch=0) == []
    assert checkpoints.read_history(tmp_path / "missing") == []


def test_a_history_value_holding_a_line_break_reads_back_unchanged(tmp_path):
    # csv needs the file opened with newline="": otherwise a quoted CR LF comes back as a bare LF.
    checkpoints.write_history(tmp_path, [{"epoch": 1, "note": "resumed\r\nafter a kill"}])
    assert checkpoints.read_history(tmp_path) == [{"epoch": 1, "note": "resumed\r\nafter a kill"}]


def test_a_malformed_latest_json_names_the_file_inside_the_run_and_no_server_path(tmp_path):
    folder = tmp_path / rundir.CHECKPOINTS
    folder.mkdir()
    (folder / "latest.json").write_text(json.dumps({"epoch": -3, "checkpoint": "epoch_001.keras"}))
    with pytest.raises(RunNotReadyError) as refused:
        checkpoints.read_latest(tmp_path)
    message = str(refused.value)
    assert message.startswith("checkpoints/latest.json is malformed") and "without --resume" in message
    assert str(tmp_path) not in message and "\n" not in message


def test_pruning_keeps_a_users_own_epoch_file_and_the_last_three_numbered_checkpoints(tmp_path):
    folder = tmp_path / rundir.CHECKPOINTS
    folder.mkdir()
    (folder / "epoch_best.keras").write_bytes(b"mine")
    history = []
    for epoch in range(1, 5):
        history.append({"epoch": epoch})
        checkpoints.write_checkpoint(tmp_path, FakeModel(f"w{epoch}"), epoch, history)
    assert (folder / "epoch_best.keras").read_bytes() == b"mine"
    assert sorted(p.name for p in folder.glob("epoch_0*.keras")) == [
        "epoch_002.keras",
        "epoch_003.keras",
        "epoch_004.keras",
    ]


def test_pruning_passes_over_an_epoch_file_named_with_digits_that_are_not_ascii(tmp_path):
    # "²" and "٣" count as digits to str.isdigit; only the checkpoints written here are numbered in ASCII.
    folder = tmp_path / rundir.CHECKPOINTS
    folder.mkdir()
    for name in ("epoch_².keras", "epoch_٣.keras"):
        (folder / name).write_bytes(b"mine")
    for epoch in range(1, 5):
        checkpoints.write_checkpoint(tmp_path, FakeModel(f"w{epoch}"), epoch, [{"epoch": epoch}])
    assert (folder / "epoch_².keras").read_bytes() == b"mine" and (folder / "epoch_٣.keras").read_bytes() == b"mine"
    assert sorted(p.name for p in folder.glob("epoch_0*.keras")) == [
        "epoch_002.keras",
        "epoch_003.keras",
        "epoch_004.keras",
    ]


def test_an_old_checkpoint_deleted_by_hand_while_pruning_does_not_fail_the_epoch(tmp_path, monkeypatch):
    for epoch in range(1, 4):
        checkpoints.write_checkpoint(tmp_path, FakeModel(), epoch, [{"epoch": epoch}])
    real_unlink = Path.unlink

    def deleted_first(path, missing_ok=False):
        os.remove(path)  # a person tidying the folder got there between the listing and the pruning
        return real_unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", deleted_first)
    checkpoints.write_checkpoint(tmp_path, FakeModel("w4"), 4, [{"epoch": 4}])
    monkeypatch.undo()
    assert checkpoints.read_latest(tmp_path)["path"].read_bytes() == b"w4"


def test_the_first_checkpoint_of_a_run_creates_the_missing_run_and_checkpoints_folders(tmp_path):
    run = tmp_path / "runs" / "new"
    checkpoints.write_checkpoint(run, FakeModel("w1"), 1, [{"epoch": 1}])
    assert checkpoints.read_latest(run)["path"].read_bytes() == b"w1"
    assert checkpoints.read_history(run) == [{"epoch": 1}]


def test_history_csv_lines_end_in_a_bare_line_feed_on_every_platform(tmp_path):
    checkpoints.write_history(tmp_path, [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25}])
    assert (tmp_path / rundir.HISTORY).read_bytes() == b"epoch,loss\n1,0.5\n2,0.25\n"


def test_saving_a_checkpoint_holds_at_its_named_pause_point_before_the_rename(tmp_path, monkeypatch):
    # The kill tests stop a trainer at "save:<file name>": the model written, not yet renamed.
    from models import pause

    class Killed(Exception):
        pass

    seen = []

    def held(seconds):
        seen.append(sorted(p.name for p in (tmp_path / rundir.CHECKPOINTS).iterdir()))
        raise Killed

    marker = tmp_path / "paused.json"
    monkeypatch.setenv(pause.PAUSE_AT_ENV, "save:epoch_002.keras")
    monkeypatch.setenv(pause.PAUSE_FILE_ENV, str(marker))
    monkeypatch.setattr(pause.time, "sleep", held)
    checkpoints.write_checkpoint(tmp_path, FakeModel("w1"), 1, [{"epoch": 1}])  # another point: no hold
    assert not marker.exists() and seen == []
    with pytest.raises(Killed):
        checkpoints.write_checkpoint(tmp_path, FakeModel("w2"), 2, [{"epoch": 1}, {"epoch": 2}])
    assert json.loads(marker.read_text())["point"] == "save:epoch_002.keras"
    (listing,) = seen
    assert "epoch_002.keras" not in listing and any(n.startswith(".tmp-epoch_002") for n in listing)
    assert checkpoints.read_latest(tmp_path)["epoch"] == 1
