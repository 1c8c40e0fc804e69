"""The request guard's and basic auth's decisions, one rule at a time, on a bare Flask app (no dashboard).

``tests/reliability`` sends hostile requests to a whole dashboard; here each
rule is met exactly at its edge (one input too few or too many, an empty
outputs list, a header of the wrong kind), so a loosened check shows at once.
"""

from __future__ import annotations

import base64
import hashlib
from types import SimpleNamespace

import flask
import pytest

from app import auth, request_guard
from rundir.errors import ZspaceError

CALLBACKS = {"out.children": {"inputs": [{"id": "a"}, {"id": "b"}], "state": [{"id": "s"}]}, "plain.value": {}}
PROP = {"id": "a", "property": "value"}


def body(**changes):
    good = {
        "output": "out.children",
        "outputs": {"id": "out", "property": "children"},
        "inputs": [PROP, {"id": {"type": "row", "index": 1}, "property": "n_clicks"}],
        "state": [{"id": "s", "property": "data"}],
        "changedPropIds": ["a.value"],
    }
    good.update(changes)
    return {k: v for k, v in good.items() if v is not Ellipsis}


def test_a_well_formed_callback_request_passes():
    assert request_guard.problem(body(), CALLBACKS) is None
    assert request_guard.problem(body(inputs=[PROP, [PROP, PROP]]), CALLBACKS) is None  # pattern-matching ALL
    assert request_guard.problem(body(outputs=[PROP]), CALLBACKS) is None
    plain = {"output": "plain.value", "outputs": PROP, "inputs": []}
    assert request_guard.problem(plain, CALLBACKS) is None  # no state, no changedPropIds: both default to empty


@pytest.mark.parametrize(
    ("request_body", "reason"),
    [
        ([body()], "the body must be a JSON object"),
        (None, "the body must be a JSON object"),
        (body(output="other.value"), "unknown callback output"),
        (body(output=["out.children"]), "unknown callback output"),
        (body(inputs=[PROP]), "inputs do not match the callback"),
        (body(inputs=[PROP, PROP, PROP]), "inputs do not match the callback"),
        (body(inputs=[PROP, {"id": 5, "property": "value"}]), "inputs do not match the callback"),
        (body(inputs=[PROP, {"id": "a", "property": 5}]), "inputs do not match the callback"),
        (body(inputs=[PROP, [PROP, "x"]]), "inputs do not match the callback"),
        (body(inputs={"0": PROP, "1": PROP}), "inputs do not match the callback"),
        (body(state=...), "state does not match the callback"),
        (body(state=[PROP, PROP]), "state does not match the callback"),
        (body(outputs=[]), "outputs must name the callback's outputs"),
        (body(outputs=[PROP, "x"]), "outputs must name the callback's outputs"),
        (body(outputs=...), "outputs must name the callback's outputs"),
        (body(changedPropIds="a.value"), "changedPropIds must be a list of strings"),
        (body(changedPropIds=["a.value", 3]), "changedPropIds must be a list of strings"),
    ],
)
def test_each_malformed_part_is_named(request_body, reason):
    assert request_guard.problem(request_body, CALLBACKS) == reason


@pytest.fixture
def guarded():
    server = flask.Flask("guarded")
    server.add_url_rule("/_dash-update-component", "update", lambda: "ran", methods=["GET", "POST"])
    server.add_url_rule("/other", "other", lambda: "other", methods=["POST"])
    config = SimpleNamespace(routes_pathname_prefix="/")
    request_guard.install(SimpleNamespace(server=server, callback_map=CALLBACKS, config=config))
    return server.test_client()


def test_the_guard_answers_400_in_one_line_before_the_callback_runs(guarded):
    answer = guarded.post("/_dash-update-component", json=body(inputs=[PROP]))
    assert answer.status_code == 400 and answer.mimetype == "text/plain"
    assert answer.get_data(as_text=True) == "malformed callback request: inputs do not match the callback"
    not_json = guarded.post("/_dash-update-component", data="{", content_type="application/json")
    assert not_json.get_data(as_text=True) == "malformed callback request: the body must be a JSON object"
    deep = guarded.post("/_dash-update-component", data="[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert deep.status_code == 400


def test_the_guard_leaves_other_methods_and_paths_alone(guarded):
    assert guarded.post("/_dash-update-component", json=body()).get_data(as_text=True) == "ran"
    assert guarded.get("/_dash-update-component").get_data(as_text=True) == "ran"
    assert guarded.post("/other", json=[1]).get_data(as_text=True) == "other"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("team:secret", ("team", "secret")), ("team:se:cret", ("team", "se:cret"))],
)
def test_zspace_auth_is_user_colon_password_split_at_the_first_colon(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("ZSPACE_AUTH", raising=False)
    else:
        monkeypatch.setenv("ZSPACE_AUTH", value)
    assert auth.auth_from_env() == expected


@pytest.mark.parametrize("value", ["team", "team:", ":secret", ":"])
def test_zspace_auth_without_both_parts_is_refused(monkeypatch, value):
    monkeypatch.setenv("ZSPACE_AUTH", value)
    with pytest.raises(ZspaceError, match="^ZSPACE_AUTH must look like user:password$"):
        auth.auth_from_env()


def test_zspace_auth_with_bytes_that_are_not_utf8_is_refused(monkeypatch):
    monkeypatch.setattr(auth.os, "environ", {"ZSPACE_AUTH": "team:p\udcc3ss"})  # what Python makes of undecodable bytes
    with pytest.raises(ZspaceError, match="^ZSPACE_AUTH must be UTF-8 text"):
        auth.auth_from_env()


def basic(user: str, password: str, kind: str = "Basic") -> dict:
    return {"Authorization": f"{kind} " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_only_the_exact_pair_gets_in_and_everyone_else_gets_a_basic_challenge():
    server = flask.Flask("locked")
    server.add_url_rule("/", "page", lambda: "page")
    auth.require_basic_auth(server, "team", "pässwort")
    client = server.test_client()
    assert client.get("/", headers=basic("team", "pässwort")).get_data(as_text=True) == "page"
    for headers in ({}, basic("team", "passwort"), basic("pässwort", "team"), basic("team", "pässwort", "Bearer")):
        refused = client.get("/", headers=headers)
        assert refused.status_code == 401 and refused.get_data(as_text=True) == "authentication required"
        assert refused.headers["WWW-Authenticate"] == 'Basic realm="zspace"'


def test_the_compared_digest_is_sha256_of_user_colon_password():
    assert auth._digest("team", "pw") == hashlib.sha256(b"team:pw").digest()


def test_an_empty_object_is_not_an_input_nor_the_outputs():
    assert request_guard.problem(body(inputs=[PROP, {}]), CALLBACKS) == "inputs do not match the callback"
    assert request_guard.problem(body(inputs=[PROP, ""]), CALLBACKS) == "inputs do not match the callback"
    assert request_guard.problem(body(outputs={}), CALLBACKS) == "outputs must name the callback's outputs"


def test_an_app_under_a_path_prefix_guards_its_own_endpoint_and_leaves_the_root_apps_alone():
    # The benchmark serves a second Dash app under a prefix of the same server (tools/bench/bare_page.py).
    server = flask.Flask("prefixed")
    for path in ("/_dash-update-component", "/baseline/_dash-update-component"):
        server.add_url_rule(path, path, lambda: "ran", methods=["POST"])
    config = SimpleNamespace(routes_pathname_prefix="/baseline/")
    request_guard.install(SimpleNamespace(server=server, callback_map=CALLBACKS, config=config))
    client = server.test_client()
    refused = client.post("/baseline/_dash-update-component", json=[1])
    assert refused.status_code == 400
    assert refused.get_data(as_text=True) == "malformed callback request: the body must be a JSON object"
    assert client.post("/baseline/_dash-update-component", json=body()).get_data(as_text=True) == "ran"
    assert client.post("/_dash-update-component", json=[1]).get_data(as_text=True) == "ran"
