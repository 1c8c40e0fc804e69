"""What a background job may hand to the page, sealed so that nobody but the server's workers can write it.

With Celery, job results and progress travel through Redis. Whoever can write
to Redis could otherwise put any Dash component into the page (an ``Iframe``
whose ``srcDoc`` holds a script). Two locks stop that:

* :class:`Seal`: every result and progress entry a job writes carries an
  HMAC-SHA256 over its text, keyed by the server's secret (``ZSPACE_SECRET_KEY``
  or ``<cache>/job-secret.key``, never stored in Redis) and bound to the entry's
  own key, so an entry can be neither forged nor moved to another job.
* :class:`JobResult`: each job declares the shape of what it returns (the
  dashboard's jobs return one line of text, or a marker and a line); a sealed
  value of any other shape is refused too. Progress is (value, max, text) of
  plain numbers and text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass

#: What Dash reads as "leave this output as it is".
NO_UPDATE = {"_dash_no_update": "_dash_no_update"}
#: Version of the sealed envelope.
SEAL_VERSION = 1


def canonical(value) -> str:
    """``value`` as canonical JSON (sorted keys, no spaces); Dash's own objects (no_update) as their JSON."""
    from _plotly_utils.utils import PlotlyJSONEncoder

    return json.dumps(value, cls=PlotlyJSONEncoder, sort_keys=True, separators=(",", ":"), allow_nan=False)


class Seal:
    """HMAC-SHA256 envelopes bound to a kind (``result`` / ``progress``) and the Redis key they are stored under."""

    def __init__(self, secret: str | bytes):
        self._key = secret.encode() if isinstance(secret, str) else bytes(secret)
        if len(self._key) < 16:
            raise ValueError("the sealing secret must be at least 16 bytes")

    def _mac(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def close(self, kind: str, key: str, body: dict) -> dict:
        """The sealed envelope of ``body`` (a JSON object) for ``kind`` stored under ``key``."""
        text = canonical({**body, "kind": kind, "key": key})
        return {"zspace": SEAL_VERSION, "body": text, "mac": self._mac(text)}

    def open(self, kind: str, key: str, envelope) -> dict | None:
        """The body of a sealed envelope, or None when it is not one this server sealed for ``kind`` and ``key``."""
        if not isinstance(envelope, dict) or envelope.get("zspace") != SEAL_VERSION:
            return None
        text, mac = envelope.get("body"), envelope.get("mac")
        if not isinstance(text, str) or not isinstance(mac, str) or not hmac.compare_digest(mac, self._mac(text)):
            return None
        try:
            body = json.loads(text)
        except ValueError:
            return None
        if not isinstance(body, dict) or body.get("kind") != kind or body.get("key") != key:
            return None
        return body


@dataclass(frozen=True)
class JobResult:
    """What one background job returns: ``check(value)`` says whether a value has its shape, ``failed(line)`` is
    what the page shows instead when the job could not finish (the worker stopped, the queue is down)."""

    check: Callable[[object], bool]
    failed: Callable[[str], object]


def _one_line(value) -> bool:
    return isinstance(value, str) and len(value) <= 2000


#: A job whose one output is a line of text (a new map, the sampler rates).
TEXT = JobResult(check=_one_line, failed=lambda line: line)


def returns(result: JobResult):
    """Declare a background callback's :class:`JobResult`; put it above ``@guarded`` (outermost but ``app.callback``)."""

    def mark(fn):
        fn.zspace_result = result
        return fn

    return mark


def result_of(fn) -> JobResult:
    """The :class:`JobResult` a job declared (:data:`TEXT` when it declared none)."""
    return getattr(fn, "zspace_result", TEXT)


def plain_progress(value) -> bool:
    """True for progress the page may show: (value, max, text) — two numbers (or None) and a line of text."""
    return (
        isinstance(value, list)
        and len(value) == 3
        and all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in value[:2])
        and _one_line(value[2])
    )
