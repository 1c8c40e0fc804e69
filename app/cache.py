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
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
from cachelib.serializers import BaseSerializer
from flask_caching import Cache
from flask_caching.backends.filesystemcache import FileSystemCache
from flask_caching.backends.rediscache import RedisCache

from rundir.errors import ZspaceError

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


class SafeRedisCache(RedisCache):
    """flask-caching's RedisCache with :class:`SafeSerializer`: every worker and host shares one array cache."""

    serializer = SafeSerializer()

    @classmethod
    def factory(cls, app, config, args, kwargs):  # noqa: ARG003 - flask-caching's signature
        """Connect to ``CACHE_REDIS_URL`` exactly as written (its database number and password included)."""
        import redis

        client = redis.from_url(config["CACHE_REDIS_URL"])
        try:
            client.ping()
        except redis.RedisError as exc:
            where = client.connection_pool.connection_kwargs
            raise ZspaceError(
                f"cannot use Redis at {where.get('host', '?')}:{where.get('port', '?')} (ZSPACE_REDIS_URL): "
                f"{type(exc).__name__}: {str(exc)[:120]}"
            ) from None
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
