"""HTTP compression of everything the page loads: scripts, the layout and every callback answer.

Plotly's bundle alone is 4.8 MB uncompressed, and a plane's figure is mostly
numbers; both shrink to a fraction with Brotli or gzip (flask-compress picks
what the browser accepts). The page's scripts are the same bytes for every
visitor, so each is compressed once per encoding and kept (:class:`ScriptCache`,
byte-capped); callback answers differ every time and are compressed as they go.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import flask
from flask_compress import Compress

#: Most bytes of compressed scripts kept in memory (Plotly's bundle is ~1.1 MB in Brotli, ~1.5 MB in gzip).
SCRIPT_CACHE_BYTES = 32 * 2**20
#: Brotli's quality for answers (4: ~40 ms for Plotly's bundle, once; 11 would take seconds).
BROTLI_QUALITY = 4
#: Encodings in order of preference: Brotli is the smallest for scripts; gzip for clients without it.
ALGORITHMS = ["br", "gzip"]
#: Keys of answers that are not kept (callback answers, the page itself): never stored, never found.
UNKEPT = "unkept"


class ScriptCache:
    """A byte-capped, least-recently-used store of compressed scripts, keyed by encoding and URL."""

    def __init__(self, max_bytes: int = SCRIPT_CACHE_BYTES):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """The compressed bytes stored under ``key``, or None."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        return None

    def set(self, key: str, value: bytes) -> None:
        """Store ``value`` unless its key is an unkept answer's or it alone exceeds the cap."""
        if key.endswith(UNKEPT) or len(value) > self.max_bytes:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = value
            self._size += len(value)
            while self._size > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped)


def cache_key(request: flask.Request) -> str:
    """The URL of a script (Dash versions its URLs, so a URL's bytes never change); else :data:`UNKEPT`."""
    if request.method == "GET" and request.path.startswith(("/_dash-component-suites/", "/assets/")):
        return request.full_path
    return UNKEPT


def install(server: flask.Flask) -> Compress:
    """Compress the answers of ``server`` (scripts once, callback answers as they go)."""
    server.config.update(
        COMPRESS_ALGORITHM=ALGORITHMS,
        COMPRESS_BR_LEVEL=BROTLI_QUALITY,
        COMPRESS_CACHE_KEY=cache_key,
        COMPRESS_CACHE_BACKEND=ScriptCache,
    )
    return Compress(server)
