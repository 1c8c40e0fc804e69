"""The background-job store (issue 13, item 3): private files, the signing secret outside it, own jobs only.

The audit found the diskcache folder of the background callbacks world-readable,
holding the secret that signs job ids; with it, a local user forged a cancel
that made the server SIGKILL an arbitrary process of the server's user.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from dash import _callback_signing as signing

from app.views import maps
from tools.bench.load import free_port
from tools.bench.requests import callback_body, valid_values
from tools.fixtures import DEMO_RUNS

RUN = next(name for name, usable in DEMO_RUNS.items() if usable)


def build(runs_dir, cache_dir):
    from app.factory import create_app

    return create_app(runs_dir, cache_dir=cache_dir, warm=False, auth=None)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def job_store_files(cache_dir: Path) -> list[Path]:
    return [p for p in (cache_dir / "background").rglob("*") if p.is_file()]


@pytest.fixture()
def served(runs_dir, tmp_path, monkeypatch):
    """A fresh app on its own cache folder (no ZSPACE_SECRET_KEY), its test client and the cancel callback."""
    monkeypatch.delenv("ZSPACE_SECRET_KEY", raising=False)
    monkeypatch.delenv("ZSPACE_REDIS_URL", raising=False)
    cache = tmp_path / "cache"
    app = build(runs_dir, cache)
    client = app.server.test_client()
    client.get("/")  # a user opens the page (its token is signed)
    client.get("/_dash-dependencies")  # Dash registers the cancel callbacks on its first request
    cancel = next(d for d in app._callback_list if d["output"] == f"{maps.CANCEL}.id")
    return app, client, cancel, cache


@pytest.fixture()
def victim():
    """A process of the server's user that no one should be able to kill through the dashboard."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process
    process.kill()
    process.wait()


def forge_cancel(client, cancel: dict, secret: bytes, pid: int):
    """POST a cancel whose page token and job id are signed with ``secret``, as an attacker holding it would."""
    page = "forged-page-load"
    query = {
        "endId": signing.sign(secret, signing.END_SCOPE, page),
        "cancelJob": signing.sign(secret, signing.job_scope(page), str(pid)),
    }
    body = callback_body(cancel, valid_values(RUN, None), [f"{maps.CANCEL}.n_clicks"])
    return client.post("/_dash-update-component", json=body, query_string=query)


def test_the_job_store_and_its_files_are_private_and_the_key_lives_beside_it(served):
    app, _, _, cache = served
    store = cache / "background"
    assert mode(store) == 0o700
    files = job_store_files(cache)
    assert files, "the job store holds its database"
    assert {path.name: oct(mode(path)) for path in files} == {path.name: "0o600" for path in files}
    key = cache / "job-secret.key"
    assert mode(key) == 0o600 and key.parent != store
    assert app.server.secret_key == key.read_text().strip()


def test_reading_the_job_store_reveals_no_signing_secret(served):
    app, _, _, cache = served
    secret = app._get_signing_secret()  # what Dash signs job and cache handles with
    assert len(secret) >= 32
    for path in job_store_files(cache):
        assert secret not in path.read_bytes(), f"{path.name} holds the signing secret"
    assert b"__dash_background_signing_secret__" not in b"".join(p.read_bytes() for p in job_store_files(cache))


def test_a_local_user_who_reads_the_job_store_cannot_forge_a_cancel(served, victim):
    _, client, cancel, cache = served
    # The attacker can read every file of the job store: any long token in it may be a secret.
    tokens = set()
    for path in job_store_files(cache):
        tokens.update(re.findall(rb"[A-Za-z0-9_\-]{24,}", path.read_bytes()))
    for token in sorted(tokens)[:200]:
        answer = forge_cancel(client, cancel, token, victim.pid)
        assert answer.status_code in (200, 204)
    assert victim.poll() is None, "a cancel forged from the job store's contents killed a process"


def test_even_with_the_secret_a_cancel_only_reaches_jobs_the_server_started(served, victim):
    app, client, cancel, _ = served
    leaked = app.server.secret_key.encode()  # say the key file leaked after all
    answer = forge_cancel(client, cancel, leaked, victim.pid)
    assert answer.status_code in (200, 204)
    assert victim.poll() is None, "a correctly signed cancel for a process the server never started killed it"


def test_the_server_refuses_to_start_on_a_job_store_others_can_read(runs_dir, tmp_path, monkeypatch):
    from rundir.errors import ZspaceError

    monkeypatch.delenv("ZSPACE_REDIS_URL", raising=False)
    cache = tmp_path / "cache"
    (cache / "background").mkdir(parents=True)
    os.chmod(cache / "background", 0o755)  # what the old server created
    with pytest.raises(ZspaceError) as refused:
        build(runs_dir, cache)
    assert "open to other users (mode 755)" in str(refused.value) and "\n" not in str(refused.value)

    # The command line says it in one line and exits 2 (the default cache folder sits beside the runs).
    runs = tmp_path / "runs"
    runs.mkdir()
    (tmp_path / "cache" / "background").chmod(0o755)
    done = subprocess.run(
        [sys.executable, "-m", "zspace.cli", "serve", "--runs", str(runs), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=180,  # a server that starts anyway never returns: the timeout fails the test
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr[-2000:]
    assert len(lines) == 1 and "background-job folder" in lines[0] and "chmod" in lines[0], lines


def test_zspace_secret_key_signs_instead_of_the_key_file(runs_dir, tmp_path, monkeypatch):
    from rundir.errors import ZspaceError

    monkeypatch.delenv("ZSPACE_REDIS_URL", raising=False)
    monkeypatch.setenv("ZSPACE_SECRET_KEY", "k" * 40)
    app = build(runs_dir, tmp_path / "cache")
    assert app.server.secret_key == "k" * 40 and not (tmp_path / "cache" / "job-secret.key").exists()
    monkeypatch.setenv("ZSPACE_SECRET_KEY", "short")
    with pytest.raises(ZspaceError, match="at least 16 characters"):
        build(runs_dir, tmp_path / "cache2")
