"""Refuse malformed callback requests with HTTP 400 before Dash reads them.

Dash assumes the renderer's request shape; a hand-made body (not JSON, a list,
a missing ``output``, inputs that do not match the callback) makes it raise
deep inside and answer 500. This check answers 400 with one line instead, so
a 500 from the callback endpoint always means a bug worth looking at.
"""

from __future__ import annotations

from flask import Response, request

ENDPOINT_SUFFIX = "/_dash-update-component"


def _prop(item) -> bool:
    return isinstance(item, dict) and isinstance(item.get("id"), str | dict) and isinstance(item.get("property"), str)


def _props(value, count: int) -> bool:
    # An input may also be a list of props (pattern-matching callbacks, ALL / ALLSMALLER).
    return (
        isinstance(value, list)
        and len(value) == count
        and all(_prop(item) or (isinstance(item, list) and all(_prop(i) for i in item)) for item in value)
    )


def problem(body, callback_map: dict) -> str | None:
    """Why ``body`` is not a callback request of this app (None when it is one)."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        return "unknown callback output"
    return _props_problem(body, callback_map[output]) or _outputs_problem(body)


def _props_problem(body: dict, callback: dict) -> str | None:
    if not _props(body.get("inputs"), len(callback.get("inputs", []))):
        return "inputs do not match the callback"
    if not _props(body.get("state", []), len(callback.get("state", []))):
        return "state does not match the callback"
    return None


def _outputs_problem(body: dict) -> str | None:
    outputs = body.get("outputs")
    if not (_prop(outputs) or (isinstance(outputs, list) and outputs and all(_prop(o) for o in outputs))):
        return "outputs must name the callback's outputs"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds must be a list of strings"
    return None


def install(dash_app) -> None:
    """Check every callback request of ``dash_app`` before Dash handles it."""

    # This app's own endpoint only: another Dash app on the same server (a benchmark's baseline page) has its own.
    endpoint = dash_app.config.routes_pathname_prefix.rstrip("/") + ENDPOINT_SUFFIX

    @dash_app.server.before_request
    def _check_callback_request():
        if request.method != "POST" or request.path != endpoint:
            return None
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # absurdly nested JSON
            body = None
        reason = problem(body, dash_app.callback_map)
        if reason is not None:
            return Response(f"malformed callback request: {reason}", 400, mimetype="text/plain")
        return None
