"""Bounded background work (issue 12, item 2): job slots across processes, request-driven results under a cap."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from app.jobs import BUSY_MESSAGE, JobSlots, default_max_jobs
from app.views import density, maps
from app.views import radius as radius_view
from app.views.parts import open_shown
from rundir.errors import ZspaceError
from tools.fixtures import write_run
from tools.synthetic import filament_cloud

#: A second process that takes one job slot of ``cache`` and holds it until killed.
HOLDER = """
import sys, time
from app.jobs import JobSlots
with JobSlots(sys.argv[1], int(sys.argv[2])).slot():
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture()
def slot_holder(tmp_path):
    """Start a process holding one of the 1-slot deployment's slots; yield (cache folder, process)."""
    cache = tmp_path / "cache"
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(cache), "1"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert process.stdout.readline().strip() == "held"
        yield cache, process
    finally:
        process.kill()
        process.wait()


def test_a_job_slot_held_by_another_process_refuses_the_next_job_until_that_process_dies(slot_holder):
    cache, holder = slot_holder
    with pytest.raises(ZspaceError, match="a map is already being computed"), JobSlots(cache, 1).slot():
        pass
    holder.kill()  # a cancelled or crashed job: the kernel releases its lock
    holder.wait()
    with JobSlots(cache, 1).slot():
        pass


def test_two_slots_let_two_jobs_run_and_refuse_a_third(slot_holder):
    cache, _ = slot_holder
    slots = JobSlots(cache, 2)
    with slots.slot(), pytest.raises(ZspaceError, match=BUSY_MESSAGE), slots.slot():
        pass


def test_a_waiting_job_reports_and_takes_the_slot_once_it_is_free(slot_holder):
    cache, holder = slot_holder
    waits = []

    def on_wait():
        waits.append(time.monotonic())
        if len(waits) == 2:
            holder.kill()

    with JobSlots(cache, 1).slot(wait=30, on_wait=on_wait):
        pass
    assert len(waits) >= 2


def test_a_second_map_request_is_told_to_wait_while_one_is_computed(tmp_path, slot_holder):
    from app.factory import create_app

    cache, _ = slot_holder
    runs = tmp_path / "runs"
    write_run(runs, "cloud", "ae", np.asarray(filament_cloud(10, 120, 8, random_state=1)), seed=1)
    store = create_app(runs, cache_dir=cache, warm=False, auth=None, max_jobs=1).zspace_store
    with pytest.raises(ZspaceError) as refused:
        maps.compute_map(store.open("cloud"), 1000, 30, 0, lambda progress: None)
    assert str(refused.value) == BUSY_MESSAGE
    assert type(refused.value) in maps.REFUSALS
    assert not any(store.open("cloud").request_folder.glob("tsne-*")), "no map was computed"


def test_the_default_is_one_job_per_two_cores_and_zspace_max_jobs_overrides_it(monkeypatch):
    monkeypatch.delenv("ZSPACE_MAX_JOBS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert default_max_jobs() == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert default_max_jobs() == 8
    monkeypatch.setenv("ZSPACE_MAX_JOBS", "3")
    assert default_max_jobs() == 3
    for bad in ("0", "-1", "many"):
        monkeypatch.setenv("ZSPACE_MAX_JOBS", bad)
        with pytest.raises(ZspaceError, match="ZSPACE_MAX_JOBS must be a whole number >= 1"):
            default_max_jobs()


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_many_distinct_requests_never_touch_the_run_folder_and_keep_the_cache_under_its_cap(tmp_path, monkeypatch):
    import app.store
    from app.factory import create_app

    cap = 40_000
    monkeypatch.setattr(app.store, "REQUEST_CACHE_BYTES", cap)
    runs = tmp_path / "runs"
    write_run(runs, "cloud", "ae", np.asarray(filament_cloud(10, 300, 8, random_state=2)) * 3, seed=2)
    before = snapshot(runs)
    store = create_app(runs, cache_dir=tmp_path / "cache", warm=False, auth=None).zspace_store

    refused = 0
    for width in [*density.BIN_WIDTHS, 0.01, 0.2, 1e-9, 3.0, -1, "0.25"]:  # every choice and some that are not
        try:
            density.density_view(open_shown(store, "cloud", None), width)
        except ZspaceError:
            refused += 1
        assert folder_bytes(store.request_root) <= cap
    for width in [*radius_view.BIN_WIDTHS, 0.001, 7.5]:
        try:
            radius_view.radius_view(open_shown(store, "cloud", None), width)
        except ZspaceError:
            refused += 1
        assert folder_bytes(store.request_root) <= cap
    assert refused == 8, "widths outside the lists are refused, not computed"
    assert snapshot(runs) == before, "a request wrote into the run folder"
    # The cap evicted entries (all the allowed widths together are larger than the cap), the newest survive.
    entries = sorted(store.open("cloud").request_folder.glob("*.json"))
    assert entries and folder_bytes(store.request_root) <= cap
    assert any("radius" in p.name for p in entries)
