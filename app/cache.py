"""flask-caching backends that never pickle.

The default backends of flask-caching (cachelib) pickle every value, and a
cache entry that is read back is then unpickled: a writable cache folder or a
shared Redis would become a code-execution hole. These backends store only
what the dashboard memoises — numpy arrays, dicts of arrays and JSON values —
as ``.npz`` / JSON bytes and load them with ``allow_pickle=False``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import stat
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
from cachelib.serializers import BaseSerializer
from flask_caching import Cache
from flask_caching.backends.filesystemcache import FileSystemCache
from flask_caching.backends.rediscache import RedisCache

from rundir.errors import ZspaceError

log = logging.getLogger(__name__)

_JSON, _ARRAYS = b"J", b"Z"
#: Prefix of the dashboard's keys in a shared Redis (Celery's own keys start with ``celery-``).
KEY_PREFIX = "zspace:"
_JSON_KEY = "__json__"


class SafeSerializer(BaseSerializer):
    """Serialise JSON values, numpy arrays and flat dicts of both; refuse anything else."""

    def dumps(self, value, protocol=None) -> bytes:  # noqa: ARG002 - cachelib's signature
        if isinstance(value, np.ndarray):
            value = {"__array__": value}
        if isinstance(value, dict) and any(isinstance(v, np.ndarray) for v in value.values()):
            arrays = {k: v for k, v in value.items() if isinstance(v, np.ndarray)}
            rest = {k: v for k, v in value.items() if not isinstance(v, np.ndarray)}
            buffer = io.BytesIO()
            np.savez(buffer, **arrays, **{_JSON_KEY: np.frombuffer(json.dumps(rest).encode(), dtype=np.uint8)})
            return _ARRAYS + buffer.getvalue()
        return _JSON + json.dumps(value).encode()

    def loads(self, bvalue: bytes):
        """Decode an entry; anything unreadable (or pickled) reads as a miss and is recomputed."""
        if not bvalue:
            return None
        try:
            if bvalue[:1] == _JSON:
                return json.loads(bvalue[1:].decode())
            if bvalue[:1] != _ARRAYS:
                return None
            with np.load(io.BytesIO(bvalue[1:]), allow_pickle=False) as npz:
                value = {k: npz[k] for k in npz.files if k != _JSON_KEY}
                value.update(json.loads(npz[_JSON_KEY].tobytes().decode()))
        except (ValueError, OSError, KeyError, UnicodeDecodeError, zipfile.BadZipFile):
            return None
        return value.get("__array__", value) if set(value) == {"__array__"} else value

    def dump(self, value, f, protocol=None) -> None:  # noqa: ARG002
        f.write(self.dumps(value))

    def load(self, f):
        return self.loads(f.read())


class SafeFileSystemCache(FileSystemCache):
    """flask-caching's FileSystemCache with :class:`SafeSerializer`."""

    serializer = SafeSerializer()


class RedisOutage:
    """Whether Redis answered lately, with one log line per outage (rate-limited), shared by a process.

    While Redis is unreachable a caller skips it for :data:`RETRY_S` seconds
    instead of waiting on a dead socket in every request, then tries again.
    """

    #: Seconds a failed Redis call makes the cache skip Redis before trying again.
    RETRY_S = 5.0
    #: Least seconds between two log lines about the same outage.
    LOG_EVERY_S = 60.0

    def __init__(self, off: str, back: str):
        self.off, self.back = off, back
        self.down_until = 0.0
        self.logged_at = -float("inf")
        self.down = False
        self._lock = threading.Lock()

    def skipping(self) -> bool:
        """True while Redis failed within the last :data:`RETRY_S` seconds."""
        return time.monotonic() < self.down_until

    def failed(self, exc: BaseException) -> None:
        """Record a failed call: skip Redis for a while, and log once per outage (at most once a minute)."""
        now = time.monotonic()
        with self._lock:
            self.down_until = now + self.RETRY_S
            self.down = True
            if now - self.logged_at >= self.LOG_EVERY_S:
                self.logged_at = now
                log.warning(
                    "Redis is unreachable (%s: %s): %s; retrying every %.0f s",
                    type(exc).__name__,
                    str(exc)[:120],
                    self.off,
                    self.RETRY_S,
                )

    def answered(self) -> None:
        """Record a call that worked (logs once that Redis is back after an outage)."""
        if self.down:
            with self._lock:
                if self.down:
                    self.down = False
                    self.logged_at = -float("inf")
                    log.warning("Redis answers again: %s", self.back)


def _guarded(name: str, fallback):
    """A cache method that treats an unreachable Redis as a miss (``fallback``) instead of failing the request."""

    def method(self, *args, **kwargs):
        import redis

        if self.outage.skipping():
            return fallback(*args) if callable(fallback) else fallback
        try:
            value = getattr(super(SafeRedisCache, self), name)(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            self.outage.failed(exc)
            return fallback(*args) if callable(fallback) else fallback
        self.outage.answered()
        return value

    method.__name__ = name
    method.__doc__ = f"``{name}``, or a miss while Redis is unreachable (the request computes instead)."
    return method


class SafeRedisCache(RedisCache):
    """flask-caching's RedisCache with :class:`SafeSerializer`: every worker and host shares one array cache.

    The cache is only a cache: while Redis is unreachable every read is a miss and every
    write is dropped, so requests compute what they need and the page keeps working;
    the process logs one line per outage (:class:`RedisOutage`).
    """

    serializer = SafeSerializer()
    outage = RedisOutage(
        off="the shared array cache is off; requests compute what they need", back="the shared array cache is back on"
    )

    get = _guarded("get", None)
    has = _guarded("has", False)
    set = _guarded("set", False)
    add = _guarded("add", False)
    delete = _guarded("delete", False)
    delete_many = _guarded("delete_many", lambda *keys: [])
    get_many = _guarded("get_many", lambda *keys: [None] * len(keys))
    set_many = _guarded("set_many", lambda mapping, *rest: [])
    clear = _guarded("clear", False)

    @classmethod
    def factory(cls, app, config, args, kwargs):  # noqa: ARG003 - flask-caching's signature
        """Connect to ``CACHE_REDIS_URL`` exactly as written (its database number and password included).

        Short socket timeouts: an unreachable Redis costs a request a failed connection, never a long wait.
        A Redis that does not answer at start is logged; the server starts and computes without it.
        """
        import redis

        client = redis.from_url(config["CACHE_REDIS_URL"], socket_connect_timeout=2, socket_timeout=5)
        try:
            client.ping()
        except redis.AuthenticationError as exc:  # a wrong password is a setup error, not an outage
            raise ZspaceError(f"cannot use Redis (ZSPACE_REDIS_URL): {type(exc).__name__}: {str(exc)[:120]}") from None
        except (redis.RedisError, OSError) as exc:
            cls.outage.failed(exc)
        return cls(
            host=client,
            default_timeout=config.get("CACHE_DEFAULT_TIMEOUT", 300),
            key_prefix=config.get("CACHE_KEY_PREFIX", ""),
        )


def private_cache_folder(folder: str | os.PathLike) -> Path:
    """Create the array-cache folder with mode 0700, and take group and other access off one that has it.

    Its files (0600, cachelib's default) hold the runs' derived arrays; the folder
    itself is the server's own, so an existing 0755 one (older zspace, or a
    umask) is tightened rather than refused.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.mkdir(mode=0o700, exist_ok=True)
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o077:
        os.chmod(folder, mode & 0o700)
    return folder


def make_cache(server, cache_dir: str | os.PathLike) -> Cache:
    """Attach a flask-caching ``Cache`` to ``server``: Redis if ``ZSPACE_REDIS_URL`` is set, else files.

    Parameters
    ----------
    server : flask.Flask
    cache_dir : path-like
        Folder of the FileSystemCache (created if missing).
    """
    redis_url = os.environ.get("ZSPACE_REDIS_URL")
    if redis_url:
        config = {
            "CACHE_TYPE": "app.cache.SafeRedisCache",
            "CACHE_REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": KEY_PREFIX,
        }
    else:
        private_cache_folder(cache_dir)
        config = {"CACHE_TYPE": "app.cache.SafeFileSystemCache", "CACHE_DIR": str(cache_dir), "CACHE_THRESHOLD": 2000}
    config["CACHE_DEFAULT_TIMEOUT"] = 24 * 3600
    return Cache(server, config=config)
