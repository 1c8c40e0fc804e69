"""The z-points' content digest: a copy keeps it, a change loses it, and the server never writes it into a run."""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest

import rundir
from rundir import digest
from rundir.atomic import atomic_save_npy, atomic_write_json
from rundir.errors import RunNotReadyError


@pytest.fixture
def run(tmp_path):
    folder = tmp_path / "runs" / "r"
    folder.mkdir(parents=True)
    atomic_write_json(folder / rundir.CONFIG, {"schema_version": 1, "model": "ae", "z_dim": 4, "image_size": 32})
    atomic_save_npy(folder / rundir.ZPOINTS, np.random.default_rng(0).normal(size=(500, 4)).astype(np.float32))
    return folder


@pytest.fixture(autouse=True)
def fresh_memory():
    """Each test starts with nothing remembered and no keep folder, and leaves it so."""
    digest._memory.clear()
    digest.keep_digests_in(None)
    yield
    digest._memory.clear()
    digest.keep_digests_in(None)


@pytest.fixture
def hashes(monkeypatch):
    """Count how often the file's bytes are hashed (a recording monkeypatch of the one hashing call)."""
    calls = []
    real = hashlib.file_digest

    def counting(handle, make):
        calls.append(handle.name)
        return real(handle, make)

    monkeypatch.setattr(hashlib, "file_digest", counting)
    return calls


def independent_fingerprint(path) -> str:
    """The documented recipe, from the file's bytes and header alone."""
    data = path.read_bytes()
    shape, dtype = rundir.npy_header(path)
    content = hashlib.blake2b(data, digest_size=16).hexdigest()
    text = f"{digest.DIGEST_VERSION}|{tuple(shape)}|{dtype.str}|{len(data)}|{content}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def test_the_fingerprint_is_the_files_content_and_any_changed_byte_changes_it(run, tmp_path):
    zpoints = run / rundir.ZPOINTS
    first = rundir.zpoints_fingerprint(run)
    assert first == independent_fingerprint(zpoints)
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(zpoints, copy / rundir.ZPOINTS)  # new time, same bytes
    assert (copy / rundir.ZPOINTS).stat().st_mtime_ns != zpoints.stat().st_mtime_ns
    assert rundir.zpoints_fingerprint(copy) == first
    z = np.load(zpoints)
    z[-1, -1] = np.nextafter(z[-1, -1], np.float32(np.inf))  # the last value, by one ulp
    atomic_save_npy(copy / rundir.ZPOINTS, z)
    assert rundir.zpoints_fingerprint(copy) != first
    assert rundir.zpoints_fingerprint(copy) == independent_fingerprint(copy / rundir.ZPOINTS)


def test_the_digest_beside_the_file_spares_hashing_only_while_size_and_time_match(run, tmp_path, hashes):
    assert rundir.record_zpoints_digest(run) == independent_fingerprint(run / rundir.ZPOINTS)
    assert len(hashes) == 1 and (run / rundir.ZPOINTS_DIGEST).is_file()
    # A copy that keeps times (cp -a, rsync -a): read from the sidecar, nothing hashed.
    kept = tmp_path / "kept"
    shutil.copytree(run, kept, copy_function=shutil.copy2)
    assert rundir.zpoints_fingerprint(kept) == rundir.zpoints_fingerprint(run) and len(hashes) == 1
    # A copy with new times (cp -r): the sidecar no longer matches, the file is hashed once, then remembered.
    fresh = tmp_path / "fresh"
    shutil.copytree(run, fresh, copy_function=shutil.copy)
    assert rundir.zpoints_fingerprint(fresh) == rundir.zpoints_fingerprint(run) and len(hashes) == 2
    assert rundir.zpoints_fingerprint(fresh) and len(hashes) == 2
    # A sidecar that lies about the size is ignored, not trusted.
    body = (run / rundir.ZPOINTS_DIGEST).read_text().replace('"size": ', '"size": 1')
    (fresh / rundir.ZPOINTS_DIGEST).write_text(body)
    digest._memory.clear()
    assert rundir.zpoints_fingerprint(fresh) == independent_fingerprint(fresh / rundir.ZPOINTS)
    assert len(hashes) == 3


def test_a_copy_read_by_the_server_is_hashed_once_and_kept_in_its_cache_not_in_the_run(run, tmp_path, hashes):
    rundir.record_zpoints_digest(run)
    copy = tmp_path / "runs" / "copy"
    shutil.copytree(run, copy, copy_function=shutil.copy)  # its sidecar came along, stale
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in copy.iterdir()}
    keep = tmp_path / "cache" / "digests"
    digest.keep_digests_in(keep)
    hashes.clear()
    assert rundir.zpoints_fingerprint(copy) == rundir.zpoints_fingerprint(run)
    assert len(hashes) == 1 and len(list(keep.glob("*.json"))) == 1
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in copy.iterdir()} == before
    # Another process of the server (nothing in memory) reads the kept digest instead of hashing.
    digest._memory.clear()
    assert rundir.zpoints_fingerprint(copy) == rundir.zpoints_fingerprint(run) and len(hashes) == 1


def test_a_file_rewritten_while_it_is_hashed_is_reported_never_given_a_digest(run, monkeypatch):
    real = hashlib.file_digest

    def rewritten_midway(handle, make):
        result = real(handle, make)
        with open(run / rundir.ZPOINTS, "ab") as writer:  # a writer appending over the file being read
            writer.write(b"\0" * 16)
        return result

    monkeypatch.setattr(hashlib, "file_digest", rewritten_midway)
    with pytest.raises(
        RunNotReadyError, match="^zpoints.npy changed while it was read; try again when the writer has finished$"
    ):
        rundir.zpoints_fingerprint(run)
    assert digest._memory == {}


def test_a_truncated_file_is_refused_with_the_readers_one_line_reason(run):
    zpoints = run / rundir.ZPOINTS
    zpoints.write_bytes(zpoints.read_bytes()[:-4])
    with pytest.raises(RunNotReadyError, match=r"zpoints.npy is truncated .+ re-encode"):
        rundir.zpoints_fingerprint(run)


def test_each_run_read_by_the_server_has_its_own_kept_digest(run, tmp_path, hashes):
    other = tmp_path / "runs" / "other"
    shutil.copytree(run, other)
    z = np.load(other / rundir.ZPOINTS)
    atomic_save_npy(other / rundir.ZPOINTS, z[::-1].copy())
    keep = tmp_path / "cache" / "digests"
    digest.keep_digests_in(keep)
    first, second = rundir.zpoints_fingerprint(run), rundir.zpoints_fingerprint(other)
    assert first != second and len(list(keep.glob("*.json"))) == 2
    digest._memory.clear()  # another server process: both read from the cache, neither hashed again
    assert (rundir.zpoints_fingerprint(run), rundir.zpoints_fingerprint(other)) == (first, second)
    assert len(hashes) == 2


def test_a_run_without_z_points_has_no_fingerprint_and_says_so(tmp_path):
    with pytest.raises(RunNotReadyError) as refused:
        rundir.zpoints_fingerprint(tmp_path)
    assert str(refused.value) == "zpoints.npy is missing"


def test_a_cache_folder_that_cannot_be_written_only_means_hashing_again(run, tmp_path, hashes):
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    digest.keep_digests_in(tmp_path / "cache" / "digests")
    assert rundir.zpoints_fingerprint(run) == independent_fingerprint(run / rundir.ZPOINTS)
    digest._memory.clear()
    assert rundir.zpoints_fingerprint(run) == independent_fingerprint(run / rundir.ZPOINTS) and len(hashes) == 2


def test_memory_keeps_the_most_recent_runs_up_to_its_cap(run, tmp_path, hashes, monkeypatch):
    assert digest.KEPT_IN_MEMORY == 256
    monkeypatch.setattr(digest, "KEPT_IN_MEMORY", 2)
    runs = [run]
    for k in range(2):
        runs.append(tmp_path / f"copy{k}")
        shutil.copytree(run, runs[-1])
    for each in runs:
        rundir.zpoints_fingerprint(each)
    assert len(hashes) == 3 and len(digest._memory) == 2  # exactly the cap: the first run was dropped
    rundir.zpoints_fingerprint(runs[2])
    rundir.zpoints_fingerprint(runs[1])
    assert len(hashes) == 3
    rundir.zpoints_fingerprint(runs[0])
    assert len(hashes) == 4
