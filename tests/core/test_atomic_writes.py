"""What crash safety rests on, pinned step by step: the order of fsync and rename, the bytes written, the lock.

A SIGKILL test (``test_rundir.py``) shows that a killed writer leaves no partial
file, but it cannot see a missing fsync or which file is renamed when: those
only matter on a power cut. Here ``os.fsync`` and ``os.replace`` are recorded
as they are called, so a dropped fsync or a rename before the flush fails.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rundir
from rundir import atomic
from rundir.errors import RunLockedError, ZspaceError, run_reporting_errors
from rundir.lock import run_lock


@pytest.fixture
def calls(monkeypatch):
    """Every os.fsync / os.replace from here on, as ("fsync", path, bytes on disk) / ("replace", src, dst)."""
    recorded = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        recorded.append(("fsync", path, None if path.is_dir() else path.read_bytes()))
        return real_fsync(fd)

    def replace(src, dst):
        recorded.append(("replace", Path(src), Path(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return recorded


def test_the_file_is_flushed_complete_then_renamed_then_the_folder_is_flushed(tmp_path, calls):
    final = tmp_path / "status.json"
    atomic.atomic_write_bytes(final, b"complete bytes")
    (fsync_file, rename, fsync_folder) = calls
    tmp = fsync_file[1]
    # the temporary file is flushed with all its bytes, under its temporary name, in the final folder
    assert fsync_file == ("fsync", tmp, b"complete bytes")
    assert tmp.parent == tmp_path and tmp.name.startswith(".tmp-status-") and tmp.suffix == ".json"
    # only then does it get the final name, and the folder's entry is flushed last
    assert rename == ("replace", tmp, final)
    assert fsync_folder == ("fsync", tmp_path, None)
    assert final.read_bytes() == b"complete bytes" and not tmp.exists()


def test_a_failed_write_renames_nothing_and_removes_its_temporary(tmp_path, calls):
    final = tmp_path / "zpoints.npy"
    final.write_bytes(b"old")
    for error in (RuntimeError("disk full"), KeyboardInterrupt()):
        with pytest.raises(type(error)), atomic.atomic_path(final) as tmp:
            tmp.write_bytes(b"half")
            raise error
    assert calls == []
    assert final.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["zpoints.npy"]


def test_the_temporary_name_takes_the_final_suffix_unless_told_and_folders_are_made(tmp_path):
    nested = tmp_path / "a" / "b" / "model.keras"
    with atomic.atomic_path(nested) as tmp:
        assert tmp.parent == nested.parent and tmp.name.startswith(atomic.TMP_PREFIX + "model-")
        assert tmp.suffix == ".keras"
        tmp.write_bytes(b"m")
    with atomic.atomic_path(tmp_path / "checkpoint", suffix=".keras") as tmp:
        assert tmp.suffix == ".keras" and tmp.name.startswith(".tmp-checkpoint-")
        tmp.write_bytes(b"c")
    assert nested.read_bytes() == b"m" and (tmp_path / "checkpoint").read_bytes() == b"c"


def test_a_folder_written_in_place_of_the_temporary_is_renamed_whole(tmp_path, calls):
    # Some writers (older Keras formats) leave a folder where the file was: it is renamed, not fsynced as a file.
    final = tmp_path / "saved"
    with atomic.atomic_path(final) as tmp:
        tmp.unlink()
        tmp.mkdir()
        (tmp / "inside").write_text("x")
    assert (final / "inside").read_text() == "x"
    assert [c[0] for c in calls] == ["replace", "fsync"] and calls[1][1] == tmp_path


def test_json_is_indented_sorted_and_ends_with_a_newline_and_nan_is_refused(tmp_path):
    final = tmp_path / "config.json"
    atomic.atomic_write_json(final, {"z_dim": 8, "beta": 1.5, "filters": [32, 64], "note": "ü"})
    expected = '{\n  "beta": 1.5,\n  "filters": [\n    32,\n    64\n  ],\n  "note": "\\u00fc",\n  "z_dim": 8\n}\n'
    assert final.read_text(encoding="utf-8") == expected
    with pytest.raises(ValueError):
        atomic.atomic_write_json(final, {"loss": float("nan")})
    assert final.read_text(encoding="utf-8") == expected and len(list(tmp_path.iterdir())) == 1


def test_text_is_written_as_utf8(tmp_path):
    atomic.atomic_write_text(tmp_path / "h.csv", "epoch,Größe\n1,2\n")
    assert (tmp_path / "h.csv").read_bytes() == "epoch,Größe\n1,2\n".encode()


def test_npy_round_trips_exactly_and_refuses_objects(tmp_path):
    z = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    atomic.atomic_save_npy(tmp_path / "z.npy", z)
    back = np.load(tmp_path / "z.npy", allow_pickle=False)
    assert back.dtype == np.float32 and np.array_equal(back, z)
    with pytest.raises(ValueError):
        atomic.atomic_save_npy(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["z.npy"]


def test_parquet_keeps_the_columns_without_an_index(tmp_path):
    frame = pd.DataFrame({"row": [3, 4], "id": ["a", "b"]}, index=[10, 11])
    atomic.atomic_write_parquet(tmp_path / "m.parquet", frame)
    back = pd.read_parquet(tmp_path / "m.parquet")
    assert list(back.columns) == ["row", "id"] and back["row"].tolist() == [3, 4]
    assert back.index.tolist() == [0, 1]


def test_stale_temporaries_are_removed_and_counted_but_nothing_else(tmp_path):
    for name in (".tmp-zpoints-1.npy", ".tmp-status-2.json", "zpoints.npy", "tmp-not-ours"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / ".tmp-folder").mkdir()
    assert atomic.remove_stale_temporaries(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tmp-folder", "tmp-not-ours", "zpoints.npy"]
    assert atomic.remove_stale_temporaries(tmp_path) == 0
    assert atomic.remove_stale_temporaries(tmp_path / "missing") == 0


def test_output_file_accepts_a_file_in_an_existing_folder_only(tmp_path):
    assert atomic.output_file(tmp_path / "out.csv") == tmp_path / "out.csv"
    with pytest.raises(ZspaceError, match="^--out: .* is a folder; name a file inside it$"):
        atomic.output_file(tmp_path)
    with pytest.raises(ZspaceError, match="^--png: the folder .*nope does not exist; create it first"):
        atomic.output_file(tmp_path / "nope" / "x.png", option="--png")
    assert not (tmp_path / "nope").exists()


def test_the_lock_writes_its_holder_over_any_longer_old_text_and_refuses_a_second_writer(tmp_path):
    run = tmp_path / "new" / "run"
    (run.parent).mkdir()
    with run_lock(run):
        assert (run / rundir.LOCK).read_text() == f"pid {os.getpid()}"
        # flock is per open file: a second open in the same process is a second writer
        refused = rf"^run run is being written by pid {os.getpid()}; wait for it"
        with pytest.raises(RunLockedError, match=refused), run_lock(run):
            pass
    (run / rundir.LOCK).write_text("pid 123456789012345")
    with run_lock(run):
        assert (run / rundir.LOCK).read_text() == f"pid {os.getpid()}"
    with run_lock(run):  # released on leaving: a later writer gets it
        pass


def test_a_holder_that_wrote_nothing_is_named_another_process_and_other_lock_errors_are_not_hidden(
    tmp_path, monkeypatch
):
    run = tmp_path / "run"
    run.mkdir()
    (run / rundir.LOCK).write_text("")
    holder = open(run / rundir.LOCK)  # noqa: SIM115 - closed below
    try:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(RunLockedError, match="written by another process;"), run_lock(run):
            pass
    finally:
        holder.close()

    def broken(fd, flags):
        raise OSError(errno.ENOLCK, "no locks available")

    monkeypatch.setattr(fcntl, "flock", broken)
    with pytest.raises(OSError) as raised, run_lock(run):
        pass
    assert raised.type is OSError and raised.value.errno == errno.ENOLCK


def test_each_kind_of_error_gets_its_exit_status_and_one_line(capsys, monkeypatch):
    monkeypatch.delenv("ZSPACE_DEBUG", raising=False)

    def raising(exc):
        def body():
            raise exc

        return body

    assert run_reporting_errors("x", lambda: None) == 0
    assert run_reporting_errors("x", lambda: 3) == 3
    assert capsys.readouterr().err == ""
    assert run_reporting_errors("export", raising(ZspaceError("no run named 'a'"))) == 2
    assert capsys.readouterr().err == "zspace export: error: no run named 'a'\n"
    assert run_reporting_errors("train", raising(KeyboardInterrupt())) == 130
    assert capsys.readouterr().err == "zspace train: interrupted\n"
    assert run_reporting_errors("serve", raising(KeyError("k"))) == 1
    assert capsys.readouterr().err == "zspace serve: internal error: KeyError: 'k' (set ZSPACE_DEBUG=1 for details)\n"
    monkeypatch.setenv("ZSPACE_DEBUG", "1")
    assert run_reporting_errors("serve", raising(KeyError("k"))) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "KeyError: 'k'" in err


def test_now_iso_is_utc_to_the_second():
    stamp = rundir.now_iso()
    parsed = dt.datetime.fromisoformat(stamp)
    assert stamp.endswith("+00:00") and parsed.microsecond == 0
    assert abs((dt.datetime.now(dt.UTC) - parsed).total_seconds()) < 5


def test_the_documented_run_contract_names_and_states():
    # docs/ARCHITECTURE.md's table of the run directory; a renamed file would orphan every existing run.
    assert (rundir.CONFIG, rundir.STATUS, rundir.ZPOINTS, rundir.METADATA, rundir.DECODER, rundir.LOCK) == (
        "config.json",
        "status.json",
        "zpoints.npy",
        "metadata.parquet",
        "decoder.keras",
        ".lock",
    )
    assert rundir.STATES == ("created", "training", "encoding", "complete", "failed", "interrupted")
    assert rundir.BUSY_STATES == ("created", "training", "encoding")
    assert json.loads(json.dumps(rundir.MODEL_KINDS)) == ["ae", "vae"]


def test_a_folder_that_cannot_be_flushed_does_not_fail_the_write(tmp_path, monkeypatch):
    # Some file systems refuse to open a directory for fsync; the file itself is already flushed and renamed.
    real_open = os.open

    def open_files_only(path, flags, *args):
        if Path(path).is_dir():
            raise PermissionError(errno.EACCES, "no directory handles here")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", open_files_only)
    atomic.atomic_write_bytes(tmp_path / "z.npy", b"data")
    assert (tmp_path / "z.npy").read_bytes() == b"data"


def test_a_leftover_that_cannot_be_deleted_is_skipped_and_not_counted(tmp_path, monkeypatch):
    for name in (".tmp-a-1.npy", ".tmp-b-2.npy", ".tmp-c-3.npy"):
        (tmp_path / name).write_bytes(b"x")
    real_unlink = Path.unlink

    def unlink(self, *args, **kwargs):
        if self.name == ".tmp-b-2.npy":
            raise PermissionError(errno.EACCES, "read-only")
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", unlink)
    assert atomic.remove_stale_temporaries(tmp_path) == 2
    assert [p.name for p in tmp_path.iterdir()] == [".tmp-b-2.npy"]


def test_eacces_from_flock_means_locked_too(tmp_path, monkeypatch):
    # Linux answers a held flock with EWOULDBLOCK (EAGAIN); other systems (and NFS) with EACCES.
    def held(fd, flags):
        raise OSError(errno.EACCES, "permission denied")

    monkeypatch.setattr(fcntl, "flock", held)
    with pytest.raises(RunLockedError, match="^run r is being written by another process"), run_lock(tmp_path / "r"):
        pass
