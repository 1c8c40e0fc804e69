"""What the shared array cache writes to disk: never a pickle, only the safe serializer's JSON / npz."""

from __future__ import annotations

import pickle

import numpy as np

from app.cache import SafeSerializer
from app.views import density, planes, radius
from app.views.parts import open_shown


def test_the_flask_cache_files_on_disk_hold_no_pickle(runs_dir, tmp_path):
    from app.factory import create_app

    cache_dir = tmp_path / "cache"
    store = create_app(runs_dir, cache_dir=cache_dir, warm=False).zspace_store
    # Fill the cache the way the views do: run listing, plane coordinates, colours, histograms, radius.
    store.runs()
    request = planes.PlaneRequest("a", "ae", None, "pca", 0, 1, colour="radius")
    planes.update_plane(store.open("ae"), request, planes.classify(None, []))
    density.density_view(open_shown(store, "ae", "vae"), 0.25)
    radius.radius_view(open_shown(store, "ae", None), 0.5)
    files = [p for p in (cache_dir / "flask").rglob("*") if p.is_file()]
    assert len(files) >= 5
    serializer = SafeSerializer()
    for path in files:
        raw = path.read_bytes()
        # cachelib's file layout: 4 bytes of expiry time, then the serializer's bytes.
        payload = raw[4:]
        if path.name == "__wz_cache_count":
            continue
        assert payload[:1] in (b"J", b"Z"), f"{path.name} is not a safe entry: {payload[:8]!r}"
        assert payload[:1] != pickle.PROTO, f"{path.name} starts like a pickle"
        assert serializer.loads(payload) is not None, f"{path.name} does not read back"
    coords = [serializer.loads(p.read_bytes()[4:]) for p in files if p.name != "__wz_cache_count"]
    assert any(isinstance(c, np.ndarray) and c.shape == (600, 2) for c in coords), "the plane coordinates are cached"


def test_the_array_cache_folder_is_private_and_an_open_one_is_tightened(runs_dir, tmp_path):
    import os
    import stat

    from app.factory import create_app

    fresh = tmp_path / "fresh"
    store = create_app(runs_dir, cache_dir=fresh, warm=False).zspace_store
    store.runs()  # writes entries
    assert stat.S_IMODE((fresh / "flask").stat().st_mode) == 0o700
    modes = {stat.S_IMODE(p.stat().st_mode) for p in (fresh / "flask").iterdir()}
    assert modes == {0o600}, f"cache files readable by others: {sorted(map(oct, modes))}"
    # A folder an older zspace (or a loose umask) left at 0755 loses group and other access at start.
    old = tmp_path / "old"
    (old / "flask").mkdir(parents=True)
    os.chmod(old / "flask", 0o755)
    create_app(runs_dir, cache_dir=old, warm=False)
    assert stat.S_IMODE((old / "flask").stat().st_mode) == 0o700


def test_with_redis_unreachable_the_server_starts_computes_and_logs_one_line(runs_dir, tmp_path, monkeypatch, caplog):
    import logging
    import time

    from app.cache import RedisOutage, SafeRedisCache
    from app.factory import create_app
    from tools.bench.load import free_port

    monkeypatch.setenv("ZSPACE_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    monkeypatch.setattr(SafeRedisCache, "outage", RedisOutage(off="the cache is off", back="the cache is back"))
    caplog.set_level(logging.WARNING, logger="app.cache")
    store = create_app(runs_dir, cache_dir=tmp_path / "cache", warm=False).zspace_store
    started = time.perf_counter()
    ae = store.open("ae")
    computed = [ae.memo(f"probe{k}", lambda k=k: np.full(3, k)) for k in range(20)]
    assert [int(c[0]) for c in computed] == list(range(20))  # every value computed, none lost
    assert store.cache.get("anything") is None and store.cache.set("x", 1) is False and not store.cache.has("x")
    assert time.perf_counter() - started < 5  # misses, not waits on a dead socket
    lines = [r.getMessage() for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert len(lines) == 1 and "the cache is off" in lines[0], lines
