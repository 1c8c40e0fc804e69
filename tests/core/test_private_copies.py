"""A serving process's private copies of the z-points: exact, read-only, one per file version, within a budget."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import rundir
from rundir import private_copies
from rundir.atomic import atomic_save_npy
from rundir.errors import RunNotReadyError
from rundir.files import npy_layout
from tests.core.runs import make_run


@pytest.fixture
def serving(monkeypatch):
    """This process serves (private copies on); the test ends with the module as it found it."""
    monkeypatch.setattr(private_copies, "_budget", None)
    monkeypatch.setattr(private_copies, "_kept", type(private_copies._kept)())
    monkeypatch.setattr(private_copies, "_reading", {})
    return private_copies


def read(path):
    """What the run reader passes: the header's layout, then the copy."""
    shape, dtype, fortran, offset = npy_layout(path)
    return private_copies.read(path, shape, dtype, fortran, offset)


def test_copies_are_off_until_a_server_turns_them_on_and_a_negative_budget_is_refused(serving):
    assert not private_copies.enabled()
    with pytest.raises(ValueError, match="budget must be >= 0 bytes, got -1"):
        private_copies.serve_private_copies(-1)
    assert not private_copies.enabled()
    private_copies.serve_private_copies(0)
    assert private_copies.enabled() and private_copies._budget == 0
    private_copies.serve_private_copies()
    assert private_copies._budget == private_copies.DEFAULT_BUDGET == 2 * 1024**3


def test_a_served_run_reads_its_points_into_a_read_only_copy_not_a_map(serving, tmp_path):
    run = make_run(tmp_path / "r", n=30, z_dim=4)
    private_copies.serve_private_copies()
    z = rundir.load_zpoints(run)
    assert not isinstance(z, np.memmap) and not z.flags.writeable
    np.testing.assert_array_equal(z, np.load(run / rundir.ZPOINTS))
    assert rundir.load_zpoints(run) is z  # the same version of the file is read once
    private_copies.forget()
    assert rundir.load_zpoints(run) is not z


def test_a_fortran_ordered_file_is_copied_with_its_values_in_place(serving, tmp_path):
    z = np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4))
    np.save(tmp_path / "z.npy", z)
    copy = read(tmp_path / "z.npy")
    assert copy.shape == (3, 4)
    np.testing.assert_array_equal(copy, z)


def test_a_served_run_whose_points_another_tool_wrote_column_major_reads_them_in_place(serving, tmp_path):
    z = np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4))
    run = make_run(tmp_path / "r", n=3, z_dim=4)
    np.save(run / rundir.ZPOINTS, z)
    private_copies.serve_private_copies()
    np.testing.assert_array_equal(rundir.load_zpoints(run), z)


def test_a_rewritten_file_is_read_again_and_its_old_copy_dropped(serving, tmp_path):
    private_copies.serve_private_copies()  # a budget far above both versions: the old one goes because it is old
    path = tmp_path / "z.npy"
    atomic_save_npy(path, np.zeros((5, 2), np.float32))
    first = read(path)
    atomic_save_npy(path, np.ones((5, 2), np.float32))
    second = read(path)
    assert second.tolist() == [[1.0, 1.0]] * 5 and first.tolist() == [[0.0, 0.0]] * 5
    assert [key[0] for key in private_copies._kept] == [str(path.absolute())]


def test_copies_beyond_the_budget_are_dropped_least_recently_used_first_but_the_newest_stays(serving, tmp_path):
    paths = []
    for k in range(3):
        paths.append(tmp_path / f"z{k}.npy")
        atomic_save_npy(paths[-1], np.full((25, 4), k, np.float32))  # 400 bytes each
    private_copies.serve_private_copies(800)
    a, b = read(paths[0]), read(paths[1])  # 800 bytes: exactly the budget, both kept
    assert len(private_copies._kept) == 2
    assert read(paths[0]) is a  # z0 used last, so z1 is the least recently used
    read(paths[2])
    assert sorted(key[0] for key in private_copies._kept) == [str(paths[0].absolute()), str(paths[2].absolute())]
    assert read(paths[1]) is not b
    private_copies.serve_private_copies(0)
    read(paths[0])
    assert [key[0] for key in private_copies._kept] == [str(paths[0].absolute())]  # the newest, over any budget


def test_a_file_shorter_than_its_header_or_missing_is_one_line_not_a_crash(serving, tmp_path):
    path = tmp_path / "z.npy"
    atomic_save_npy(path, np.zeros((4, 4), np.float32))
    shape, dtype, fortran, offset = npy_layout(path)
    with pytest.raises(RunNotReadyError) as refused:
        private_copies.read(path, (5, 4), dtype, fortran, offset)
    assert (
        str(refused.value) == f"z.npy is truncated ({offset + 64:,} bytes, its header needs {offset + 80:,}); re-encode"
    )
    with pytest.raises(RunNotReadyError, match="^gone.npy is missing$"):
        private_copies.read(tmp_path / "gone.npy", shape, dtype, fortran, offset)
    assert private_copies._kept == {}


@pytest.mark.parametrize("when", ["before", "during"])
def test_a_file_changed_while_it_is_copied_is_reported_and_never_kept(serving, tmp_path, monkeypatch, when):
    path = tmp_path / "z.npy"
    atomic_save_npy(path, np.zeros((4, 4), np.float32))
    real_open = pathlib.Path.open

    def appended_by_a_writer(self, *args, **kwargs):
        handle = real_open(self, *args, **kwargs)
        if self == path and when == "before":  # between the reader's stat and its open
            with real_open(path, "ab") as writer:
                writer.write(b"\0" * 8)
        elif self == path:
            real_readinto = handle.readinto

            def readinto(buffer):
                got = real_readinto(buffer)
                with real_open(path, "ab") as writer:
                    writer.write(b"\0" * 8)
                return got

            handle.readinto = readinto
        return handle

    shape, dtype, fortran, offset = npy_layout(path)
    monkeypatch.setattr(pathlib.Path, "open", appended_by_a_writer)
    with pytest.raises(
        RunNotReadyError, match="^z.npy changed while it was read; try again when the writer has finished$"
    ):
        private_copies.read(path, shape, dtype, fortran, offset)
    assert private_copies._kept == {}


def test_a_file_read_in_small_pieces_is_copied_whole(serving, tmp_path, monkeypatch):
    path = tmp_path / "z.npy"
    z = np.arange(40, dtype=np.float32).reshape(10, 4)
    atomic_save_npy(path, z)
    real_open = pathlib.Path.open

    def seven_bytes_a_read(self, *args, **kwargs):  # as a pipe or a network file system may answer
        handle = real_open(self, *args, **kwargs)
        real_readinto = handle.readinto
        handle.readinto = lambda buffer: real_readinto(buffer[:7])
        return handle

    monkeypatch.setattr(pathlib.Path, "open", seven_bytes_a_read)
    np.testing.assert_array_equal(read(path), z)


def test_a_file_replaced_under_its_name_while_it_is_copied_is_reported(serving, tmp_path, monkeypatch):
    path = tmp_path / "z.npy"
    atomic_save_npy(path, np.zeros((4, 4), np.float32))
    shape, dtype, fortran, offset = npy_layout(path)
    real_open = pathlib.Path.open

    def replaced_by_a_writer(self, *args, **kwargs):
        handle = real_open(self, *args, **kwargs)
        if self == path:  # the open handle keeps the old file; the name now leads to a new one
            atomic_save_npy(path, np.ones((4, 4), np.float32))
        return handle

    monkeypatch.setattr(pathlib.Path, "open", replaced_by_a_writer)
    with pytest.raises(
        RunNotReadyError, match="^z.npy changed while it was read; try again when the writer has finished$"
    ):
        private_copies.read(path, shape, dtype, fortran, offset)
