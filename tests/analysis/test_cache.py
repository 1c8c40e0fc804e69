"""The per-run analysis cache: keyed by parameters and z-points, atomic, never trusting a corrupt entry."""

import json
import subprocess
import sys

import numpy as np
import pytest

import rundir
from analysis import cache, results
from rundir.atomic import atomic_save_npy


class Counter:
    """A compute function that counts its calls."""

    def __init__(self, value=1.0):
        self.calls, self.value = 0, value

    def __call__(self):
        self.calls += 1
        return {"values": np.arange(5) * self.value, "total": 10.0 * self.value, "label": "ok"}


def test_same_params_reuse_the_same_file_without_recomputing(small_run):
    compute = Counter()
    first = cache.cached(small_run, "demo", {"a": 1, "b": [1, 2]}, compute)
    files = sorted((small_run / rundir.ANALYSIS).iterdir())
    second = cache.cached(small_run, "demo", {"b": [1, 2], "a": 1}, compute)  # key order does not matter
    assert compute.calls == 1
    assert sorted((small_run / rundir.ANALYSIS).iterdir()) == files
    assert [p.suffix for p in files] == [".json", ".npz"]
    assert np.array_equal(first["values"], second["values"])
    assert first["total"] == second["total"] == 10.0 and second["label"] == "ok"
    sidecar = json.loads(files[0].read_text())
    assert sidecar["params"] == {"a": 1, "b": [1, 2]} and sidecar["name"] == "demo"


def test_different_params_make_a_new_entry(small_run):
    compute = Counter()
    cache.cached(small_run, "demo", {"a": 1}, compute)
    cache.cached(small_run, "demo", {"a": 2}, compute)
    assert compute.calls == 2
    assert len(list((small_run / rundir.ANALYSIS).glob("demo-*.npz"))) == 2
    assert sorted(e["params"]["a"] for e in cache.entries(small_run, "demo")) == [1, 2]


def test_re_encoded_run_invalidates_old_entries(small_run):
    compute = Counter()
    cache.cached(small_run, "demo", {"a": 1}, compute)
    atomic_save_npy(small_run / rundir.ZPOINTS, np.zeros((300, 8), np.float32))
    assert not cache.is_cached(small_run, "demo", {"a": 1})
    assert cache.entries(small_run, "demo") == []
    cache.cached(small_run, "demo", {"a": 1}, compute)
    assert compute.calls == 2


@pytest.mark.parametrize("damage", [b"", b"PK\x03\x04 garbage", None])
def test_corrupt_entry_is_recomputed_not_trusted(small_run, damage):
    compute = Counter()
    cache.cached(small_run, "demo", {"a": 1}, compute)
    npz = next((small_run / rundir.ANALYSIS).glob("demo-*.npz"))
    if damage is None:
        npz.with_suffix(".json").unlink()  # a writer killed between the two files
    else:
        npz.write_bytes(damage)
    result = cache.cached(small_run, "demo", {"a": 1}, Counter(2.0))
    assert result["total"] == 20.0
    assert cache.cached(small_run, "demo", {"a": 1}, compute)["total"] == 20.0 and compute.calls == 1


def test_pickled_or_unserialisable_values_are_refused(small_run):
    with pytest.raises(ValueError, match="Python objects"):
        cache.cached(small_run, "demo", {}, lambda: {"x": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(ValueError, match="plain JSON"):
        cache.cached(small_run, "demo", {"f": object()}, Counter())
    assert not list((small_run / rundir.ANALYSIS).glob("*.npz"))


def test_cache_hit_across_processes(small_run):
    first = results.pca(small_run)
    code = (
        "import sys; from analysis import cache, results\n"
        "import analysis.pca as p\n"
        "p.fit_pca = lambda *a, **k: sys.exit('recomputed')\n"
        f"r = results.pca({str(small_run)!r}); print(r.explained_variance_ratio_[0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout) == pytest.approx(first.explained_variance_ratio_[0])


def test_results_round_trip_through_the_cache(small_run):
    table = results.axis_summary(small_run)
    again = results.axis_summary(small_run)
    assert table.equals(again)
    assert list(table.loc[table.flagged, "axis"]) == [3]
    profile = results.radius_profile(small_run, 0.5)
    assert profile["z_dim"] == 8 and profile["counts"].sum() == 300 and isinstance(profile["peak"], float)


def test_storing_in_reads_the_run_cache_first_and_writes_new_entries_elsewhere(small_run, tmp_path):
    import threading
    from collections import Counter as Tally

    calls = Tally()
    elsewhere = tmp_path / "server-cache"
    cache.cached(small_run, "demo", {"a": 1}, lambda: calls.update(["run"]) or {"x": np.arange(3)})
    with cache.storing_in(elsewhere):
        # In the run's own cache already: read from there, nothing computed or written elsewhere.
        assert list(cache.cached(small_run, "demo", {"a": 1}, Counter)["x"]) == [0, 1, 2]
        new = cache.cached(small_run, "demo", {"a": 2}, lambda: calls.update(["new"]) or {"x": np.ones(2)})
        assert list(new["x"]) == [1, 1] and cache.is_cached(small_run, "demo", {"a": 2})
        seen_by_another_thread = []
        thread = threading.Thread(
            target=lambda: seen_by_another_thread.append(cache.is_cached(small_run, "demo", {"a": 2}))
        )
        thread.start()
        thread.join()
    assert calls == Tally({"run": 1, "new": 1})
    assert list(elsewhere.glob("demo-*.npz")) and len(list((small_run / rundir.ANALYSIS).glob("demo-*.npz"))) == 1
    assert seen_by_another_thread == [False], "the setting belongs to the thread that made it"
    assert not cache.is_cached(small_run, "demo", {"a": 2})
