"""Optional HTTP basic auth for shared servers (``ZSPACE_AUTH=user:password``)."""

from __future__ import annotations

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
    return user, password


def require_basic_auth(server, user: str, password: str) -> None:
    """Make every request to ``server`` (a Flask app) carry the given basic-auth credentials."""

    @server.before_request
    def _check():
        auth = request.authorization
        # compare_digest: the time taken must not reveal how much of a guess was right.
        if (
            auth is None
            or not hmac.compare_digest(str(auth.username or ""), user)
            or not hmac.compare_digest(str(auth.password or ""), password)
        ):
            return Response("authentication required", 401, {"WWW-Authenticate": 'Basic realm="zspace"'})
        return None
