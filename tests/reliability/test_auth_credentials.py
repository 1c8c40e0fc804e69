"""Basic auth with non-ASCII credentials and odd ``Authorization`` headers (hardening issue, item 2).

Browsers and curl send ``Basic base64(user:password)`` of UTF-8 bytes; old
clients send latin-1, broken ones send anything. Every such request gets the
page (right credentials) or 401, never a 500 or a traceback in the server log.
"""

from __future__ import annotations

import base64
import hmac
import logging

import pytest

ROUTE = "/_dash-layout"


@pytest.fixture()
def make_client(tmp_path, monkeypatch):
    """``make_client("user:password")``: a test client of a dashboard guarded by that ``ZSPACE_AUTH``."""
    from app.factory import create_app

    def make(credentials: str):
        monkeypatch.setenv("ZSPACE_AUTH", credentials)
        (tmp_path / "runs").mkdir(exist_ok=True)
        return create_app(tmp_path / "runs", cache_dir=tmp_path / "cache").server.test_client()

    return make


def basic(raw: bytes) -> dict:
    """An ``Authorization: Basic`` header carrying ``raw`` (user:password bytes) as a client encodes it."""
    return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


def assert_status_without_traceback(client, headers, status, caplog) -> None:
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        answer = client.get(ROUTE, headers=headers)
    assert answer.status_code == status, (headers, answer.status_code)
    if status == 401:
        assert answer.headers["WWW-Authenticate"].startswith("Basic")
    assert not [r for r in caplog.records if r.exc_info], caplog.text
    assert "Traceback" not in caplog.text


def test_non_ascii_credentials_on_the_server_let_the_right_user_in(make_client, caplog):
    client = make_client("team:pässwort")
    assert_status_without_traceback(client, basic("team:pässwort".encode()), 200, caplog)
    assert_status_without_traceback(client, {}, 401, caplog)
    assert_status_without_traceback(client, basic(b"team:passwort"), 401, caplog)
    assert_status_without_traceback(client, basic("team:pässwort!".encode()), 401, caplog)
    assert_status_without_traceback(client, basic("téam:pässwort".encode()), 401, caplog)
    # What a latin-1 client sends is not UTF-8: refused, not a crash.
    assert_status_without_traceback(client, basic("team:pässwort".encode("latin-1")), 401, caplog)


def test_a_non_ascii_user_name_against_ascii_server_credentials_is_refused(make_client, caplog):
    client = make_client("ann:s3cret")
    assert_status_without_traceback(client, basic(b"ann:s3cret"), 200, caplog)
    for raw in ("änn:s3cret".encode(), "änn:s3cret".encode("latin-1"), "ann:s3crét".encode(), "Ω:≠".encode()):
        assert_status_without_traceback(client, basic(raw), 401, caplog)


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!not-base64!!!",
        "Basic änn:s3cret",  # raw, un-encoded non-ASCII (latin-1 on the wire)
        "Basic " + base64.b64encode(b"no-colon-at-all").decode(),
        "Basic ",
        "Bearer s3cret",
        "Basic " + base64.b64encode(b"\xff\xfe:\x00").decode(),
    ],
)
def test_malformed_authorization_headers_get_401(make_client, caplog, header):
    client = make_client("ann:s3cret")
    assert_status_without_traceback(client, {"Authorization": header}, 401, caplog)


def test_user_and_password_are_checked_together_whichever_part_is_wrong(make_client, monkeypatch):
    # The work done must not depend on which part of a guess was right (a timing hint on the user name).
    client = make_client("ann:s3cret")
    compared = []
    real = hmac.compare_digest

    def recording(a, b):
        compared.append((type(a).__name__, len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    work = {}
    for label, raw in {"wrong user": b"bob:s3cret", "wrong password": b"ann:guess1", "both wrong": b"x:y"}.items():
        compared.clear()
        assert client.get(ROUTE, headers=basic(raw)).status_code == 401
        work[label] = list(compared)
    assert work["wrong user"], "hmac.compare_digest was not used"
    assert work["wrong user"] == work["wrong password"] == work["both wrong"], work


def test_zspace_auth_that_is_not_utf8_is_refused_in_one_line(tmp_path, monkeypatch):
    from app.factory import create_app
    from rundir.errors import ZspaceError

    # What Python makes of latin-1 bytes in the environment of a UTF-8 system: an undecodable "\udce4".
    monkeypatch.setenv("ZSPACE_AUTH", "team:p\udce4sswort")
    with pytest.raises(ZspaceError, match="^ZSPACE_AUTH must be UTF-8 text"):
        create_app(tmp_path / "runs", cache_dir=tmp_path / "cache")
