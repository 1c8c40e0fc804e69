"""The analysis cache's contract in detail: keys, sidecars, what is read back, listing and the size cap."""

import hashlib
import json
import os

import numpy as np
import pytest

import rundir
from analysis import cache


def _compute(value=1.0):
    return lambda: {"values": np.arange(3) * value, "one": np.array([value]), "total": 2.0 * value, "n": 3, "tag": "x"}


def test_the_key_hashes_the_version_the_name_the_canonical_parameters_and_the_z_points(small_run, tmp_path):
    npz, sidecar, key = cache.entry_paths(small_run, "demo", {"b": [1, 2], "a": 0.5})
    # an independent reading of the documented key: version | name | sorted, spaceless JSON | z-points fingerprint
    text = "1|demo|" + '{"a":0.5,"b":[1,2]}' + "|" + rundir.zpoints_fingerprint(small_run)
    assert key == hashlib.blake2b(text.encode(), digest_size=8).hexdigest() and len(key) == 16
    assert npz == small_run / "analysis" / f"demo-{key}.npz" and sidecar == npz.with_suffix(".json")
    elsewhere = cache.entry_paths(small_run, "demo", {"a": 0.5, "b": [1, 2]}, tmp_path / "server")
    assert elsewhere == (tmp_path / "server" / npz.name, tmp_path / "server" / sidecar.name, key)
    # numpy numbers (what a slider or an array hands over) key like the Python numbers they are
    assert cache.entry_paths(small_run, "demo", {"b": [np.int64(1), np.int32(2)], "a": np.float64(0.5)})[2] == key


def test_parameters_that_are_not_plain_json_are_refused_in_one_line(small_run):
    with pytest.raises(
        ValueError, match=r"^cache parameters must be plain JSON values: object is not JSON-serialisable$"
    ):
        cache.entry_paths(small_run, "demo", {"f": object()})
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"^cache parameters must be plain JSON values: Out of range float"):
            cache.cached(small_run, "demo", {"x": bad}, _compute())
    assert not (small_run / rundir.ANALYSIS).exists()


@pytest.mark.parametrize("name", ["", "a-b", "a/b", "x y", "tsne\n"])
def test_an_entry_name_outside_letters_digits_underscore_and_dot_is_refused(small_run, name):
    with pytest.raises(ValueError, match=r"^cache entry name must be letters, digits, '_' or '\.', got "):
        cache.entry_paths(small_run, name, {})
    assert cache.entry_paths(small_run, "t_sne.v2", {})[0].name.startswith("t_sne.v2-")


@pytest.mark.parametrize("returned", [{}, [("x", 1)], None])
def test_a_computation_must_return_a_non_empty_dict(small_run, returned):
    with pytest.raises(ValueError, match=r"^a cached computation must return a non-empty dict of arrays and scalars$"):
        cache.cached(small_run, "demo", {}, lambda: returned)


def test_an_object_array_is_refused_by_its_name(small_run):
    result = {"fine": np.ones(2), "bad": np.array([None, 1], dtype=object)}
    with pytest.raises(ValueError, match=r"^cached value 'bad' holds Python objects; return numeric or string arrays$"):
        cache.cached(small_run, "demo", {}, lambda: result)


def test_numbers_come_back_as_python_numbers_and_arrays_as_arrays_fresh_or_cached(small_run):
    for result in (cache.cached(small_run, "demo", {}, _compute()), cache.cached(small_run, "demo", {}, _compute(9))):
        assert type(result["total"]) is float and result["total"] == 2.0
        assert type(result["n"]) is int and type(result["tag"]) is str and result["tag"] == "x"
        assert isinstance(result["one"], np.ndarray) and result["one"].shape == (1,)
        assert list(result["values"]) == [0.0, 1.0, 2.0]


def test_the_sidecar_says_what_the_entry_holds(small_run):
    cache.cached(small_run, "demo", {"b": 2, "a": [1]}, _compute())
    (sidecar,) = (small_run / rundir.ANALYSIS).glob("demo-*.json")
    key = cache.entry_paths(small_run, "demo", {"a": [1], "b": 2})[2]
    assert json.loads(sidecar.read_text()) == {
        "name": "demo",
        "key": key,
        "params": {"a": [1], "b": 2},
        "fields": ["n", "one", "tag", "total", "values"],
        "zpoints_fingerprint": rundir.zpoints_fingerprint(small_run),
        "cache_version": 1,
    }
    # a program that writes into the run also leaves the z-points' digest there for copies of the run
    assert (small_run / rundir.ZPOINTS_DIGEST).is_file()


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: {**s, "key": "0" * 16},  # another entry's sidecar
        lambda s: {**s, "fields": s["fields"][:-1]},  # a field missing from the list
        lambda s: {k: v for k, v in s.items() if k != "fields"},
        lambda s: [s],  # not an object at all
    ],
)
def test_an_entry_whose_sidecar_does_not_match_is_recomputed(small_run, edit):
    cache.cached(small_run, "demo", {}, _compute())
    (sidecar,) = (small_run / rundir.ANALYSIS).glob("demo-*.json")
    sidecar.write_text(json.dumps(edit(json.loads(sidecar.read_text()))))
    assert not cache.is_cached(small_run, "demo", {})
    assert cache.cached(small_run, "demo", {}, _compute(5))["total"] == 10.0
    assert cache.cached(small_run, "demo", {}, _compute(7))["total"] == 10.0, "the recomputed entry is stored"


def test_a_cache_folder_that_cannot_be_written_still_returns_the_result(small_run, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    calls = []
    for _ in range(2):
        result = cache.cached(small_run, "demo", {}, lambda: calls.append(1) or {"x": np.arange(2)})
        assert list(result["x"]) == [0, 1]
        result = cache.cached(small_run, "demo", {}, lambda: calls.append(1) or {"x": np.arange(2)}, folder=blocked)
        assert list(result["x"]) == [0, 1]
    assert len(calls) == 3, "computed once into the run, and every time for the folder that cannot hold it"


def test_an_entry_stored_outside_the_run_leaves_the_run_untouched(small_run, tmp_path):
    before = sorted(p.name for p in small_run.iterdir())
    cache.cached(small_run, "demo", {}, _compute(), folder=tmp_path / "server")
    assert sorted(p.name for p in small_run.iterdir()) == before
    assert cache.is_cached(small_run, "demo", {}, folder=tmp_path / "server") and not cache.is_cached(
        small_run, "demo", {}
    )


def _age(path, seconds_ago):
    when = path.stat().st_mtime - seconds_ago
    os.utime(path, (when, when))
    return path.stat().st_mtime_ns


def test_reading_an_entry_in_a_cache_folder_marks_it_used_but_a_run_is_never_touched(small_run, tmp_path):
    server = tmp_path / "server"
    cache.cached(small_run, "demo", {}, _compute(), folder=server)
    cache.cached(small_run, "demo", {}, _compute())
    (outside,) = server.glob("demo-*.json")
    (inside,) = (small_run / rundir.ANALYSIS).glob("demo-*.json")
    old_outside, old_inside = _age(outside, 3600), _age(inside, 3600)
    assert cache.lookup(small_run, "demo", {}, folder=server)["total"] == 2.0
    assert cache.lookup(small_run, "demo", {})["total"] == 2.0
    assert outside.stat().st_mtime_ns > old_outside
    assert inside.stat().st_mtime_ns == old_inside


def test_entries_lists_each_current_entry_once_from_the_run_and_the_thread_s_folder(small_run, tmp_path):
    server = tmp_path / "server"
    assert cache.entries(small_run, "demo") == [] and cache.entries(small_run, "demo", folder=server) == []
    cache.cached(small_run, "demo", {"a": 1}, _compute())
    cache.cached(small_run, "demo", {"a": 2}, _compute(), folder=server)
    cache.cached(small_run, "demo", {"a": 1}, _compute(), folder=server)  # the same entry in both places
    cache.cached(small_run, "demo", {"a": 3}, _compute(), folder=server)
    (server / "demo-junk.json").write_text("{not json")
    (server / "demo-list.json").write_text("[1, 2]")
    (server / "demo-nodata.json").write_text(json.dumps({"name": "demo", "key": "k"}))
    other = cache.entry_paths(small_run, "demo", {"a": 3}, server)[1]
    (server / "demo-renamed.json").write_text(json.dumps({**json.loads(other.read_text()), "name": "other"}))
    (server / "demo-renamed.npz").write_bytes(b"")
    # an entry whose arrays are gone is not listed
    cache.entry_paths(small_run, "demo", {"a": 3}, server)[0].unlink()

    assert [e["params"] for e in cache.entries(small_run, "demo")] == [{"a": 1}]
    assert sorted(e["params"]["a"] for e in cache.entries(small_run, "demo", folder=server)) == [1, 2]
    with cache.storing_in(server):
        listed = cache.entries(small_run, "demo")
    assert sorted(e["params"]["a"] for e in listed) == [1, 2] and listed[0]["params"] == {"a": 1}
    assert all(e["name"] == "demo" for e in listed)


def _entry_sizes(folder):
    return {p.stem: p.stat().st_size + p.with_suffix(".npz").stat().st_size for p in folder.rglob("*.json")}


def test_prune_removes_the_least_recently_used_entries_until_the_cap_holds(small_run, tmp_path):
    root = tmp_path / "requests"
    assert cache.prune(root, 0) == 0, "no folder yet: nothing to remove"
    for a, (folder, age) in enumerate([(root / "r1", 300), (root / "r2", 200), (root / "r1", 100)]):
        cache.cached(small_run, "demo", {"a": a}, lambda a=a: {"x": np.arange(10 + 40 * a)}, folder=folder)
        _age(cache.entry_paths(small_run, "demo", {"a": a}, folder)[1], age)
    sizes = _entry_sizes(root)
    (root / "r2" / "loose.json").write_text("{}")  # a sidecar without arrays counts by itself
    total = sum(sizes.values()) + (root / "r2" / "loose.json").stat().st_size
    assert cache.prune(root, total) == 0 and len(list(root.rglob("*.json"))) == 4, "exactly at the cap: kept"
    # one byte over: the oldest entry goes (sidecar and arrays), nothing else
    oldest = cache.entry_paths(small_run, "demo", {"a": 0}, root / "r1")
    assert cache.prune(root, total - 1) == 1
    assert not oldest[0].exists() and not oldest[1].exists() and len(list(root.rglob("*.json"))) == 3
    # reading an entry makes it the most recently used: the next oldest goes instead
    assert cache.lookup(small_run, "demo", {"a": 1}, folder=root / "r2") is not None
    newest = cache.entry_paths(small_run, "demo", {"a": 2}, root / "r1")
    left = total - sizes[oldest[1].stem]
    assert cache.prune(root, left - 1) == 1 and not newest[1].exists() and not newest[0].exists()
    assert cache.is_cached(small_run, "demo", {"a": 1}, folder=root / "r2")
    assert cache.prune(root, 0) == 2 and not list(root.rglob("*.json")) and not list(root.rglob("*.npz"))


def test_prune_removes_as_many_old_entries_as_the_cap_needs_past_an_unreadable_file(small_run, tmp_path):
    root = tmp_path / "requests"
    (root / "sub").mkdir(parents=True)
    # a file that cannot be measured (a dangling link, found before the entries) is passed over, not the end
    (root / "broken.json").symlink_to(tmp_path / "gone.json")
    for a, age in enumerate((300, 200, 100)):
        cache.cached(small_run, "demo", {"a": a}, lambda a=a: {"x": np.arange(10 + 40 * a)}, folder=root / "sub")
        _age(cache.entry_paths(small_run, "demo", {"a": a}, root / "sub")[1], age)
    sizes = [
        sum(p.stat().st_size for p in cache.entry_paths(small_run, "demo", {"a": a}, root / "sub")[:2])
        for a in range(3)
    ]
    # the two oldest must go to get under the cap, though the oldest alone is smaller than it
    assert cache.prune(root, sizes[2] + 1) == 2
    assert [cache.is_cached(small_run, "demo", {"a": a}, folder=root / "sub") for a in range(3)] == [False, False, True]


def test_entries_reads_the_thread_s_folder_when_the_run_has_none_and_passes_over_a_broken_sidecar(small_run, tmp_path):
    server = tmp_path / "server"
    cache.cached(small_run, "demo", {"a": 1}, _compute(), folder=server)
    (server / "demo-0.json").write_text("{cut short")  # sorts before every entry's sidecar
    assert not (small_run / rundir.ANALYSIS).exists()
    with cache.storing_in(server):
        assert [e["params"] for e in cache.entries(small_run, "demo")] == [{"a": 1}]
