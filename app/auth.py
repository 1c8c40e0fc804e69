"""Optional HTTP basic auth for shared servers (``ZSPACE_AUTH=user:password``)."""

from __future__ import annotations

import hashlib
import hmac
import os

from flask import Response, request

from rundir.errors import ZspaceError


def auth_from_env() -> tuple[str, str] | None:
    """Read ``ZSPACE_AUTH`` as (user, password); None when unset; ZspaceError when malformed."""
    value = os.environ.get("ZSPACE_AUTH")
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ZspaceError("ZSPACE_AUTH must look like user:password")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # bytes the locale could not decode: no browser could ever send them
        raise ZspaceError("ZSPACE_AUTH must be UTF-8 text (it holds bytes that are not)") from None
    return user, password


def _digest(user: str, password: str) -> bytes:
    # A user name holds no colon (basic auth splits at the first one), so "user:password" is unambiguous.
    # Hashing gives both sides the same length, so the comparison cannot hint at the length of either part.
    return hashlib.sha256(f"{user}:{password}".encode()).digest()


def _offered_digest() -> bytes | None:
    """The digest of the basic-auth credentials of the current request; None when it carries none."""
    try:
        auth = request.authorization
    except ValueError:  # Werkzeug raises on raw non-ASCII after "Basic " instead of ignoring the header
        return None
    if auth is None or auth.type != "basic":
        return None
    # Werkzeug decodes the header as UTF-8 (what browsers and curl send); undecodable bytes read as no header.
    return _digest(str(auth.username or ""), str(auth.password or ""))


def require_basic_auth(server, user: str, password: str) -> None:
    """Make every request to ``server`` (a Flask app) carry the given basic-auth credentials.

    User and password are compared together as one digest of their UTF-8 bytes
    with :func:`hmac.compare_digest`, so non-ASCII credentials work and the time
    taken does not reveal which part of a guess (or how much of it) was right.
    """
    expected = _digest(user, password)

    @server.before_request
    def _check():
        offered = _offered_digest()
        if offered is None or not hmac.compare_digest(offered, expected):
            return Response("authentication required", 401, {"WWW-Authenticate": 'Basic realm="zspace"'})
        return None
