"""The job store's rules at their edges: which folder and key modes are refused, the key's length, the slots' count.

``test_job_store.py`` attacks a whole dashboard and ``test_bounded_work.py``
holds slots from other processes; here each rule of :mod:`app.jobs` is met
exactly at its edge (one permission bit, a key of 15 and 16 characters, one
core, one job), and the own-jobs manager is driven without forking a job.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import zlib

import pytest
from dash import DiskcacheManager

from app import jobs
from rundir.errors import ZspaceError


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_job_folder_is_made_private_under_missing_parents_and_kept_when_it_exists(tmp_path):
    folder = tmp_path / "deep" / "cache" / "background"
    assert jobs.ensure_private_folder(folder) == folder and mode(folder) == 0o700
    (folder / "kept").write_text("x")
    assert jobs.ensure_private_folder(str(folder)) == folder and (folder / "kept").read_text() == "x"


@pytest.mark.parametrize("bits", [0o710, 0o701, 0o740, 0o704, 0o720, 0o702])
def test_a_job_folder_with_any_one_group_or_other_bit_is_refused_in_one_line(tmp_path, bits):
    folder = tmp_path / "background"
    folder.mkdir()
    folder.chmod(bits)
    with pytest.raises(ZspaceError) as refused:
        jobs.ensure_private_folder(folder)
    assert str(refused.value) == (
        f"the background-job folder {folder} is open to other users (mode {bits:o}); "
        f"run `chmod -R go-rwx {folder}` or delete it, then start again"
    )


def test_a_secret_key_of_sixteen_characters_is_taken_and_fifteen_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("ZSPACE_SECRET_KEY", "k" * 16)
    assert jobs.signing_secret(tmp_path / "cache") == "k" * 16
    assert not (tmp_path / "cache").exists(), "a given key writes no key file"
    monkeypatch.setenv("ZSPACE_SECRET_KEY", "k" * 15)
    with pytest.raises(ZspaceError) as refused:
        jobs.signing_secret(tmp_path / "cache")
    assert str(refused.value) == "ZSPACE_SECRET_KEY must be at least 16 characters (e.g. `openssl rand -hex 32`)"


def test_the_key_file_is_256_random_bits_made_once_private_and_with_nothing_left_beside_it(tmp_path, monkeypatch):
    monkeypatch.delenv("ZSPACE_SECRET_KEY", raising=False)
    cache = tmp_path / "new" / "cache"
    key = jobs.signing_secret(cache)
    path = cache / jobs.SECRET_FILE
    assert len(key) == 64 and int(key, 16) >= 0 and path.read_text() == key and mode(path) == 0o600
    assert [p.name for p in cache.iterdir()] == [jobs.SECRET_FILE], "the temporary file is gone"
    assert jobs.signing_secret(cache) == key, "the second worker reads the first one's key"
    assert jobs.signing_secret(tmp_path / "other") != key


def test_a_key_file_written_by_hand_is_read_without_its_line_break(tmp_path, monkeypatch):
    monkeypatch.delenv("ZSPACE_SECRET_KEY", raising=False)
    path = tmp_path / jobs.SECRET_FILE
    path.write_text("  handwritten-key-of-enough-length\n")
    path.chmod(0o600)
    assert jobs.signing_secret(tmp_path) == "handwritten-key-of-enough-length"


@pytest.mark.parametrize("bits", [0o640, 0o604, 0o610])
def test_a_key_file_others_can_reach_is_refused_in_one_line(tmp_path, monkeypatch, bits):
    monkeypatch.delenv("ZSPACE_SECRET_KEY", raising=False)
    path = tmp_path / jobs.SECRET_FILE
    path.write_text("a" * 64)
    path.chmod(bits)
    with pytest.raises(ZspaceError) as refused:
        jobs.signing_secret(tmp_path)
    assert str(refused.value) == (
        f"the job-signing key {path} is readable by other users (mode {bits:o}); run `chmod 600 {path}`"
    )


@pytest.mark.parametrize(("cores", "expected"), [(None, 1), (1, 1), (3, 1), (4, 2), (5, 2)])
def test_one_core_or_an_unknown_count_still_gets_one_job(monkeypatch, cores, expected):
    monkeypatch.delenv("ZSPACE_MAX_JOBS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert jobs.default_max_jobs() == expected
    assert jobs.JobSlots("unused").count == expected


def test_zspace_max_jobs_of_exactly_one_is_taken_and_an_empty_value_means_the_default(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setenv("ZSPACE_MAX_JOBS", "1")
    assert jobs.default_max_jobs() == 1 and jobs.JobSlots("unused").count == 1
    assert jobs.JobSlots("unused", 3).count == 3, "an explicit count wins over the environment"
    monkeypatch.setenv("ZSPACE_MAX_JOBS", "")
    assert jobs.default_max_jobs() == 4
    monkeypatch.setenv("ZSPACE_MAX_JOBS", "0")
    with pytest.raises(ZspaceError) as refused:
        jobs.default_max_jobs()
    assert str(refused.value) == "ZSPACE_MAX_JOBS must be a whole number >= 1, got '0'"


def test_slot_files_are_private_and_a_busy_host_is_refused_with_the_busy_message(tmp_path):
    slots = jobs.JobSlots(tmp_path, 2)
    with slots.slot(), slots.slot():
        assert sorted(p.name for p in (tmp_path / jobs.SLOTS).iterdir()) == ["slot-0", "slot-1"]
        assert {mode(p) for p in (tmp_path / jobs.SLOTS).iterdir()} == {0o600}
        with pytest.raises(jobs.SlotsBusy) as refused, slots.slot():
            pass
        assert str(refused.value) == jobs.BUSY_MESSAGE
    with slots.slot(), slots.slot():  # both released on leaving the block
        pass
    with jobs.JobSlots(tmp_path / "new" / "cache", 1).slot():  # a cache folder not made yet
        assert mode(tmp_path / "new" / "cache" / jobs.SLOTS / "slot-0") == 0o600


def test_the_local_job_store_is_private_json_on_disk(tmp_path, monkeypatch):
    monkeypatch.delenv("ZSPACE_REDIS_URL", raising=False)
    own = jobs.make_manager(tmp_path / "cache")
    store = tmp_path / "cache" / jobs.JOB_STORE
    assert own.handle.directory == str(store) and mode(store) == 0o700
    assert {p.name: mode(p) for p in store.glob("cache.db*")} == {p.name: 0o600 for p in store.glob("cache.db*")}
    big = {"rows": list(range(20_000))}  # large enough for diskcache to keep it in a file of its own
    own.handle.set("result", big)
    files = [p for p in store.rglob("*") if p.is_file() and not p.name.startswith("cache.db")]
    assert len(files) == 1 and mode(files[0]) == 0o600
    assert json.loads(zlib.decompress(files[0].read_bytes())) == big, "stored as JSON, never pickled"
    assert own.handle.get("result") == big


def test_with_zspace_redis_url_jobs_go_to_celery_on_that_url_signed_with_the_servers_secret(tmp_path, monkeypatch):
    from app.celery_jobs import Seal, SignedCeleryManager

    monkeypatch.setenv("ZSPACE_REDIS_URL", "redis://127.0.0.1:1/5")
    monkeypatch.setenv("ZSPACE_SECRET_KEY", "s" * 32)
    manager = jobs.make_manager(tmp_path / "cache")
    assert isinstance(manager, SignedCeleryManager) and manager.handle.conf.broker_url == "redis://127.0.0.1:1/5"
    sealed = Seal("s" * 32).close("result", "key", {"a": 1})
    assert manager.seal.open("result", "key", sealed)["a"] == 1
    assert not (tmp_path / "cache").exists(), "no local job store is made"


@pytest.fixture()
def sleeper():
    """A process the manager is told it started (stands in for a forked job)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process
    process.kill()
    process.wait()


@pytest.fixture()
def manager(tmp_path, monkeypatch, sleeper):
    """The own-jobs manager on a private store; starting a job records ``sleeper`` instead of forking."""
    import diskcache

    started = []

    def start(self, key, job_fn, args, context):
        started.append((key, job_fn, args, context))
        return sleeper.pid

    monkeypatch.setattr(DiskcacheManager, "call_job_fn", start)
    handle = diskcache.Cache(str(tmp_path / "store"))
    yield jobs._own_jobs_manager(handle), handle, started
    handle.close()


def test_a_started_job_is_recorded_with_its_start_time_for_a_week_and_only_it_is_running(manager, sleeper):
    own, handle, started = manager
    job_fn = object()
    assert own.call_job_fn("key-1", job_fn, ("a", 1), {"c": 2}) == sleeper.pid
    assert started == [("key-1", job_fn, ("a", 1), {"c": 2})]
    import psutil

    value, expires = handle.get(f"zspace-started-job:{sleeper.pid}", expire_time=True)
    assert value == psutil.Process(sleeper.pid).create_time()
    assert abs(expires - time.time() - 7 * 24 * 3600) < 60
    assert own.job_running(sleeper.pid) and own.job_running(str(sleeper.pid))
    assert not own.job_running(os.getpid()), "a process this manager never started"
    assert not own.job_running("not-a-pid")
    assert own.terminate_unhealthy_job(os.getpid()) is False
    assert own.terminate_unhealthy_job(sleeper.pid) is False, "a healthy job is left running"


def test_a_reused_pid_is_not_one_of_the_servers_jobs(manager, sleeper):
    own, handle, _ = manager
    own.call_job_fn("key", None, (), {})
    handle.set(f"zspace-started-job:{sleeper.pid}", 12.5)  # the pid now names a process started at another time
    assert not own.job_running(sleeper.pid)
    own.terminate_job(sleeper.pid)
    assert sleeper.poll() is None


def test_cancelling_a_started_job_kills_it_and_forgets_it_while_other_cancels_do_nothing(manager, sleeper):
    own, handle, _ = manager
    own.terminate_job(None)
    own.terminate_job("garbage")
    own.terminate_job(sleeper.pid)
    assert sleeper.poll() is None, "a job the manager never started is not killed"
    own.call_job_fn("key", None, (), {})
    own.terminate_job(str(sleeper.pid))
    assert sleeper.wait(timeout=10) is not None
    assert handle.get(f"zspace-started-job:{sleeper.pid}") is None


def test_a_job_that_ended_before_it_was_recorded_is_not_recorded(tmp_path, monkeypatch):
    import diskcache

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    monkeypatch.setattr(DiskcacheManager, "call_job_fn", lambda self, key, job_fn, args, context: ended.pid)
    with diskcache.Cache(str(tmp_path / "store")) as handle:
        own = jobs._own_jobs_manager(handle)
        assert own.call_job_fn("key", None, (), {}) == ended.pid
        assert handle.get(f"zspace-started-job:{ended.pid}") is None and not own.job_running(ended.pid)
