"""The run-directory contract: what readers accept, what they refuse and why."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import rundir
from rundir.atomic import atomic_path, atomic_save_npy, atomic_write_json, remove_stale_temporaries
from rundir.errors import RunLockedError, RunNotReadyError, ZspaceError
from tests.core.runs import make_run, write_decoder_archive


def test_complete_run_is_usable_and_labelled(tmp_path):
    info = rundir.inspect_run(make_run(tmp_path / "good", n=20, z_dim=4))
    assert info.usable, info.reason
    assert (info.n_points, info.z_dim) == (20, 4)
    assert "AE" in info.label() and "20 points" in info.label()


@pytest.mark.parametrize(
    ("damage", "reason_part"),
    [
        (lambda p: (p / rundir.ZPOINTS).write_bytes((p / rundir.ZPOINTS).read_bytes()[:-40]), "truncated"),
        (lambda p: atomic_save_npy(p / rundir.ZPOINTS, np.zeros((20, 4), np.float64)), "float32"),
        (lambda p: atomic_save_npy(p / rundir.ZPOINTS, np.zeros((20, 5), np.float32)), "z_dim 5"),
        (lambda p: atomic_save_npy(p / rundir.ZPOINTS, np.full((20, 4), np.nan, np.float32)), "NaN"),
        (lambda p: (p / rundir.ZPOINTS).unlink(), "missing"),
        (lambda p: (p / rundir.DECODER).unlink(), "decoder.keras is missing"),
        (lambda p: (p / rundir.DECODER).write_bytes(b"weights"), "decoder.keras is damaged"),
        (lambda p: write_decoder_archive(p / rundir.DECODER, z_dim=16, image_size=32), "takes z_dim 16"),
        (lambda p: write_decoder_archive(p / rundir.DECODER, z_dim=4, image_size=64), "makes 64x64 images"),
        (lambda p: pd.DataFrame({"row": [0]}).to_parquet(p / rundir.METADATA), "1 rows but there are 20"),
        (lambda p: (p / rundir.METADATA).write_bytes(b"not parquet"), "unreadable"),
        (lambda p: (p / rundir.CONFIG).write_text("{broken"), "not valid JSON"),
        (lambda p: atomic_write_json(p / rundir.CONFIG, {"schema_version": 99, "model": "ae"}), "newer zspace"),
        (lambda p: rundir.write_status(p, "training", message="epoch 2/5"), "not finished yet (epoch 2/5)"),
        (lambda p: rundir.write_status(p, "failed", message="out of memory"), "out of memory"),
        (lambda p: rundir.write_status(p, "interrupted", epoch=2), "--resume"),
    ],
)
def test_broken_runs_are_reported_with_a_reason(tmp_path, damage, reason_part):
    run = make_run(tmp_path / "run")
    damage(run)
    info = rundir.inspect_run(run)
    assert not info.usable
    assert reason_part in info.reason
    assert "\n" not in info.reason


def test_pickled_object_arrays_are_refused(tmp_path):
    run = make_run(tmp_path / "run")
    # An object-dtype header, as a pickled array has; the refusal must come before any unpickling.
    with open(run / rundir.ZPOINTS, "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, {"descr": "|O", "fortran_order": False, "shape": (1,)})
        handle.write(b"\x80\x04pickled-bytes")
    with pytest.raises(RunNotReadyError, match="pickled"):
        rundir.load_zpoints(run)


def test_list_runs_keeps_going_past_broken_ones(tmp_path):
    make_run(tmp_path / "a-good")
    broken = make_run(tmp_path / "b-broken")
    (broken / rundir.ZPOINTS).write_bytes(b"\x93NUMPY garbage")
    (tmp_path / "not-a-run").mkdir()
    runs = rundir.list_runs(tmp_path)
    assert [r.name for r in runs] == ["a-good", "b-broken"]
    assert [r.usable for r in runs] == [True, False]


@pytest.mark.parametrize("name", ["../etc", "/etc/passwd", "..", "a/../../b", "%2e%2e", "", "x\x00y", "missing"])
def test_resolve_run_refuses_names_outside_the_runs_folder(tmp_path, name):
    make_run(tmp_path / "runs" / "good")
    with pytest.raises(ZspaceError):
        rundir.resolve_run(tmp_path / "runs", name)
    assert rundir.resolve_run(tmp_path / "runs", "good") == (tmp_path / "runs" / "good").resolve()


def test_failed_atomic_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "status.json"
    atomic_write_json(target, {"state": "old"})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert json.loads(target.read_text()) == {"state": "old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["status.json"]


def test_killed_writer_never_leaves_a_partial_file_under_the_final_name(tmp_path):
    script = textwrap.dedent(
        f"""
        import os, signal, numpy as np
        from rundir.atomic import atomic_path
        with atomic_path({str(tmp_path / "z.npy")!r}) as tmp:
            with open(tmp, "wb") as handle:
                handle.write(b"partial")
                handle.flush()
                os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], check=False)
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "z.npy").exists()
    assert remove_stale_temporaries(tmp_path) == 1
    assert list(tmp_path.iterdir()) == []


def test_second_writer_is_refused_and_a_dead_holder_does_not_block(tmp_path):
    run = tmp_path / "run"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from rundir import run_lock\nimport time\nwith run_lock({str(run)!r}):\n print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLockedError, match=f"pid {holder.pid}"), rundir.run_lock(run):
            pass
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    with rundir.run_lock(run):  # the kernel freed the dead holder's lock
        pass


def test_status_updates_keep_progress_fields(tmp_path):
    rundir.write_status(tmp_path, "training", epoch=1, epochs=3)
    rundir.update_status(tmp_path, epoch=2)
    status = rundir.read_status(tmp_path)
    assert (status["state"], status["epoch"], status["epochs"]) == ("training", 2, 3)


def test_a_status_update_keeps_the_state_and_other_fields_and_stamps_the_time_anew(tmp_path, monkeypatch):
    monkeypatch.setattr(rundir.files, "now_iso", lambda: "2031-01-02T03:04:05Z")
    (tmp_path / rundir.STATUS).write_text('{"state": "training", "updated": "2020-01-01", "message": "epoch 1/3"}')
    assert rundir.update_status(tmp_path, epoch=2) == {
        "state": "training",
        "updated": "2031-01-02T03:04:05Z",
        "message": "epoch 1/3",
        "epoch": 2,
    }
    assert rundir.update_status(tmp_path, state="complete")["state"] == "complete"
    assert rundir.read_status(tmp_path)["state"] == "complete"


@pytest.mark.parametrize("status_text", [None, "{broken", '{"epoch": 1}'])
def test_a_status_update_of_a_run_without_a_readable_state_starts_from_created(tmp_path, status_text):
    if status_text is not None:
        (tmp_path / rundir.STATUS).write_text(status_text)
    status = rundir.update_status(tmp_path, epochs=3)
    assert status["state"] == "created" and status["epochs"] == 3
    assert rundir.read_status(tmp_path) == status


def test_a_run_linked_from_outside_is_listed_as_refused(tmp_path):
    make_run(tmp_path / "elsewhere" / "outside")
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "linked").symlink_to(tmp_path / "elsewhere" / "outside", target_is_directory=True)
    (info,) = rundir.list_runs(tmp_path / "runs")
    assert not info.usable and "outside the runs folder" in info.reason


def test_reasons_do_not_reveal_absolute_server_paths(tmp_path):
    run = make_run(tmp_path / "run")
    (run / rundir.CONFIG).unlink()
    info = rundir.inspect_run(run)
    assert "config is missing" in info.reason and str(tmp_path) not in info.reason
