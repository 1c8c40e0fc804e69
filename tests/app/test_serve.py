"""Serving: loopback by default, basic auth, the empty state and the gunicorn entry."""

from __future__ import annotations

import subprocess
import sys

from app.factory import create_app
from app.page import EMPTY_STATE
from app.serve import is_loopback


def test_only_loopback_addresses_count_as_private():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


def test_basic_auth_refuses_requests_without_the_password(runs_dir, tmp_path):
    app = create_app(runs_dir, cache_dir=tmp_path, auth=("ann", "s3cret"))
    client = app.server.test_client()
    assert client.get("/").status_code == 401
    assert client.get("/", auth=("ann", "wrong")).status_code == 401
    assert client.get("/", auth=("ann", "s3cret")).status_code == 200


def test_an_empty_runs_folder_says_how_to_make_runs(tmp_path):
    app = create_app(tmp_path / "runs", cache_dir=tmp_path / "cache")
    layout = app.layout()
    assert EMPTY_STATE in str(layout)


def test_the_first_html_says_what_is_computed_for_never_analysed_runs_and_only_then(runs_dir, tmp_path):
    import html
    import re

    from app.views import progress

    # Runs above inline_points are never analysed inside a request: the page's first HTML, before any script
    # runs, says what the background job computes, inside the element Dash replaces with the page.
    large = create_app(runs_dir, cache_dir=tmp_path / "large", warm=False, inline_points=100)
    page = large.server.test_client().get("/").get_data(as_text=True)
    entry = re.search(r'<div id="react-entry-point">(.*?)</div>\s*<footer>', page, re.S)
    assert entry, page[:2000]
    assert "Loading..." in entry.group(1)
    note = re.search(r'<p class="loading-note note">([^<]*)</p>', entry.group(1)).group(1)
    # The page's own progress note, word for word (which analyses it names depends on what is cached already).
    _, planned, _ = progress.plan(large.zspace_store, "ae", "vae")
    assert note == html.escape(planned) and note.startswith("computing ")
    assert "of ae (600 points)" in note and "of vae (600 points)" in note
    assert note.endswith("in the background — the views fill in when it is done")
    # Runs a request may analyse itself: no note.
    small = create_app(runs_dir, cache_dir=tmp_path / "small", warm=False)
    page = small.server.test_client().get("/").get_data(as_text=True)
    assert 'id="react-entry-point"' in page and "loading-note" not in page


def test_serve_help_documents_auth_and_the_default_bind():
    result = subprocess.run(
        [sys.executable, "-m", "zspace", "serve", "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    assert "127.0.0.1" in result.stdout and "ZSPACE_AUTH" in result.stdout


def test_an_oversized_callback_body_is_refused(runs_dir, tmp_path):
    app = create_app(runs_dir, cache_dir=tmp_path)
    body = b'{"output": "page.className", "inputs": [{"id": "run-a", "property": "value", "value": "'
    body += b"x" * (3 * 2**20) + b'"}]}'
    answer = app.server.test_client().post("/_dash-update-component", data=body, content_type="application/json")
    assert answer.status_code == 413


def test_debug_mode_is_refused_beyond_loopback(runs_dir):
    import pytest

    from app.serve import serve
    from rundir.errors import ZspaceError

    with pytest.raises(ZspaceError, match="debug"):
        serve(runs_dir, host="0.0.0.0", port=8050, debug=True)
