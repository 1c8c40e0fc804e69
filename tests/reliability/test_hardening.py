"""Server hardening seen from outside: the bind default and its warning, basic auth on every
route, run names that try to leave the runs folder, and no pickle / unsafe Keras loading anywhere."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path

import numpy as np
import pytest

from tools.bench.requests import callback_body, split_output, valid_values
from tools.fixtures import write_run

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("zspace", "models", "analysis", "app")
MARKER = "OUTSIDE-THE-RUNS-FOLDER-7f3a"


# -- binding -----------------------------------------------------------------------------------
def test_serve_binds_loopback_by_default_in_the_function_and_the_command_line(capsys):
    from app.serve import serve
    from zspace.cli import main

    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--help"])
    assert exit_info.value.code == 0
    assert "default 127.0.0.1" in capsys.readouterr().out


@pytest.fixture()
def served(monkeypatch):
    """Stop ``Dash.run`` from serving; record the host it would have bound to."""
    import dash

    calls = []
    monkeypatch.setattr(dash.Dash, "run", lambda self, **kw: calls.append(kw))
    return calls


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "zspace.example.org"])
def test_binding_beyond_loopback_without_auth_warns_loudly(host, runs_dir, served, monkeypatch, capsys):
    from app.serve import serve

    monkeypatch.delenv("ZSPACE_AUTH", raising=False)
    serve(runs_dir, host=host, port=8050)
    err = capsys.readouterr().err
    assert served and served[0]["host"] == host
    assert "WARNING" in err and "WITHOUT authentication" in err and "ZSPACE_AUTH" in err


def test_binding_beyond_loopback_with_auth_still_says_it_is_reachable(runs_dir, served, monkeypatch, capsys):
    from app.serve import serve

    monkeypatch.setenv("ZSPACE_AUTH", "ann:s3cret")
    serve(runs_dir, host="0.0.0.0", port=8050)
    err = capsys.readouterr().err
    assert "reachable from other machines" in err and "with basic auth" in err


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_loopback_bind_is_quiet(host, runs_dir, served, monkeypatch, capsys):
    from app.serve import serve

    monkeypatch.delenv("ZSPACE_AUTH", raising=False)
    serve(runs_dir, host=host, port=8050)
    assert "WARNING" not in capsys.readouterr().err


# -- what is exposed -------------------------------------------------------------------------
#: Every route the server answers (docs/SECURITY.md lists them); a new one must be added there too.
EXPECTED_ROUTES = {
    "/",
    "/<path:path>",
    "/_dash-layout",
    "/_dash-dependencies",
    "/_dash-update-component",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>",
    "/_reload-hash",
    "/_favicon.ico",
    "/assets/<path:filename>",
    "/static/<path:filename>",
}


def test_the_server_exposes_only_the_documented_routes(dash_app):
    routes = {rule.rule for rule in dash_app.server.url_map.iter_rules()}
    assert routes == EXPECTED_ROUTES, f"undocumented: {routes - EXPECTED_ROUTES}, gone: {EXPECTED_ROUTES - routes}"
    assert not dash_app.server.debug and not dash_app.config.get("enable_mcp", False)


def test_assets_and_static_routes_do_not_serve_files_outside_their_folder(client):
    for url in (
        "/assets/../pyproject.toml",
        "/assets/..%2fpyproject.toml",
        "/assets/%2e%2e/app/auth.py",
        "/static/../x",
    ):
        answer = client.get(url)
        assert answer.status_code in (400, 404), url
        assert b"[project]" not in answer.data and b"hmac" not in answer.data


def test_debug_mode_is_refused_beyond_loopback(runs_dir, served, monkeypatch):
    from app.serve import serve
    from rundir.errors import ZspaceError

    monkeypatch.setenv("ZSPACE_AUTH", "ann:s3cret")
    with pytest.raises(ZspaceError, match="debug"):
        serve(runs_dir, host="0.0.0.0", port=8050, debug=True)


def test_the_gunicorn_entry_says_when_it_runs_without_authentication(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "ZSPACE_AUTH"}
    env.update(ZSPACE_RUNS=str(tmp_path / "runs"), ZSPACE_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run(
        [sys.executable, "-c", "import app.wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ZSPACE_AUTH" in result.stderr


# -- basic auth ------------------------------------------------------------------------------
def test_zspace_auth_protects_every_route_including_callbacks(runs_dir, tmp_path, monkeypatch):
    from app.factory import create_app

    monkeypatch.setenv("ZSPACE_AUTH", "ann:s3cret")
    app = create_app(runs_dir, cache_dir=tmp_path)
    client = app.server.test_client()
    # The page shell's server-side callback: the run beside the first follows the compare picker.
    dependency = next(d for d in app._callback_list if d["output"].startswith("..run-compare.value"))
    values = {"run-a.value": "bench-ae", "run-compare.value": ["bench-vae"], "run-b.value": None}
    body = callback_body(dependency, values, ["run-compare.value"])
    routes = ["/", "/_dash-layout", "/_dash-dependencies", "/assets/style.css", "/_reload-hash", "/no-such-page"]
    for route in routes:
        refused = client.get(route)
        assert refused.status_code == 401, route
        assert refused.headers["WWW-Authenticate"].startswith("Basic")
    assert client.post("/_dash-update-component", json=body).status_code == 401
    assert client.post("/_dash-update-component", json=body, auth=("ann", "wrong")).status_code == 401
    assert client.post("/_dash-update-component", json=body, auth=("bob", "s3cret")).status_code == 401
    answer = client.post("/_dash-update-component", json=body, auth=("ann", "s3cret"))
    assert answer.status_code == 200 and answer.get_json()["response"]["run-b"]["value"] == "bench-vae"
    assert client.get("/_dash-layout", auth=("ann", "s3cret")).status_code == 200


@pytest.mark.parametrize("value", ["ann", "ann:", ":s3cret"])
def test_a_malformed_zspace_auth_is_refused_in_one_line(value, runs_dir, tmp_path, monkeypatch):
    from app.factory import create_app
    from rundir.errors import ZspaceError

    monkeypatch.setenv("ZSPACE_AUTH", value)
    with pytest.raises(ZspaceError, match="user:password"):
        create_app(runs_dir, cache_dir=tmp_path)


# -- run names from the browser ----------------------------------------------------------------
@pytest.fixture(scope="module")
def outside_run(runs_dir) -> Path:
    """A complete, valid run *next to* the runs folder, whose config carries a marker."""
    outside = runs_dir.parent / "outside"
    if not (outside / "secret").exists():
        run = write_run(outside, "secret", "ae", np.ones((20, 8)), seed=5)
        config = json.loads((run / "config.json").read_text())
        config["data"] = {"kind": MARKER}
        (run / "config.json").write_text(json.dumps(config))
    return outside / "secret"


def hostile_names(runs_dir: Path, outside_run: Path) -> list:
    rel = f"../{outside_run.parent.name}/{outside_run.name}"
    return [
        rel,
        "../../etc/passwd",
        "/etc/passwd",
        str(outside_run),
        "%2e%2e%2f" + outside_run.parent.name + "%2f" + outside_run.name,
        rel.replace("/", "\\"),
        "..\\..\\etc\\passwd",
        "bench-ae/../../outside/secret",
        "bench-ae\x00",
        "..",
        ".",
        "",
        "bench-broken",
        "x" * 100_000,
        ["bench-ae"],
        {"name": "bench-ae"},
        12,
    ]


def run_callbacks(app) -> list[dict]:
    """Every server callback that takes the run picker as an input (clientside ones never reach the server)."""
    from app.views.parts import RUN

    return [
        d
        for d in app._callback_list
        if any(i["id"] == RUN["a"] for i in d["inputs"]) and not d.get("clientside_function")
    ]


def values_for(name) -> dict:
    """What a browser sends, with ``name`` as both runs and every view's stored selection."""
    from app.views import decode, planes

    values = valid_values(name, name)
    values[f"{planes.GRAPH['a']}.clickData"] = {"points": [{"pointNumber": 0, "x": 0.0, "y": 0.0}]}
    values[f"{planes.GRAPH['b']}.clickData"] = {"points": [{"pointNumber": 0, "x": 0.0, "y": 0.0}]}
    values[f"{decode.SELECTED['b']}.data"] = {"run": name, "row": 0}
    return values


def test_hostile_run_names_never_read_outside_the_runs_folder(dash_app, client, runs_dir, outside_run):
    from app.views import decode, model, sampling
    from app.views.parts import TABS

    callbacks = run_callbacks(dash_app) + [
        d for d in dash_app._callback_list if d["output"].startswith(f"..{decode.PANEL['a'][:-1]}")
    ]
    assert len(callbacks) >= 10
    for name in hostile_names(runs_dir, outside_run):
        for tab in (sampling.TAB, model.TAB):  # the tab only gates the sampling and model callbacks
            values = values_for(name) | {f"{TABS}.value": tab}
            for dependency in callbacks:
                changed = [f"{dependency['inputs'][0]['id']}.{dependency['inputs'][0]['property']}"]
                answer = client.post("/_dash-update-component", json=callback_body(dependency, values, changed))
                text = answer.get_data(as_text=True)
                where = f"{dependency['output']} with run {str(name)[:60]!r}"
                assert answer.status_code in (200, 204), where
                assert MARKER not in text and "root:x:0:0" not in text, where
                assert "Traceback" not in text and 'File "' not in text, where
                assert "data:image" not in text, where  # nothing was decoded for a hostile name


def test_the_store_refuses_the_same_names_before_touching_a_file(dash_app, runs_dir, outside_run):
    from rundir.errors import ZspaceError

    for name in hostile_names(runs_dir, outside_run):
        with pytest.raises(ZspaceError):
            dash_app.zspace_store.open(name)


def test_a_good_run_still_answers_after_the_hostile_ones(dash_app, client):
    from app.views import model
    from app.views.parts import TABS

    dependency = next(d for d in dash_app._callback_list if split_output(d["output"])[0]["id"] == model.PANEL["a"])
    body = callback_body(dependency, values_for("bench-vae") | {f"{TABS}.value": model.TAB}, [f"{TABS}.value"])
    answer = client.post("/_dash-update-component", json=body)
    assert answer.status_code == 200 and "bench-vae (VAE, z_dim 8, 32 px)" in answer.get_data(as_text=True)


# -- no pickle, safe Keras loading -------------------------------------------------------------
def source_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _name(node: ast.AST) -> str:
    return ast.unparse(node) if isinstance(node, ast.AST) else ""


def test_no_pickle_anywhere_in_the_source_tree():
    problems = []
    for path in source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(n.split(".")[0] in ("pickle", "cPickle", "dill", "cloudpickle", "shelve") for n in names):
                    problems.append(f"{where} imports a pickle module")
            if isinstance(node, ast.Call):
                func = _name(node.func)
                if func.endswith(("read_pickle", "joblib.load", "pickle.load", "pickle.loads")):
                    problems.append(f"{where} calls {func}")
                for keyword in node.keywords:
                    value = getattr(keyword.value, "value", None)
                    if keyword.arg == "allow_pickle" and value is not False:
                        problems.append(f"{where} passes allow_pickle={_name(keyword.value)}")
                    if keyword.arg == "safe_mode" and value is not True:
                        problems.append(f"{where} passes safe_mode={_name(keyword.value)}")
    assert not problems, "\n".join(problems)


def test_every_keras_load_model_call_says_safe_mode_true():
    calls = []
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _name(node.func).endswith("load_model"):
                safe = [k for k in node.keywords if k.arg == "safe_mode"]
                calls.append((f"{path.relative_to(ROOT)}:{node.lineno}", bool(safe) and safe[0].value.value is True))
    assert calls, "no keras load_model call found: the decoder must be loaded somewhere"
    assert all(ok for _, ok in calls), [where for where, ok in calls if not ok]


def save_decoder(run: Path, with_lambda: bool) -> None:
    """Save a small decoder for 8-d z and 32x32x3 images into ``run``, optionally with a Lambda layer."""
    import keras

    inputs = keras.Input((8,))
    # A Lambda layer stores Python bytecode in the .keras file; safe_mode must refuse to deserialise it.
    x = keras.layers.Lambda(lambda z: z * 1.0)(inputs) if with_lambda else inputs
    x = keras.layers.Reshape((32, 32, 3))(keras.layers.Dense(32 * 32 * 3, activation="sigmoid")(x))
    keras.Model(inputs, x).save(run / "decoder.keras")


#: What Keras says when safe_mode refuses a Lambda layer (the refusal, not any other load failure).
SAFE_MODE_REFUSAL = (
    "decoder.keras cannot be loaded (ValueError: Requested the deserialization of a `Lambda` layer whose "
    "`function` is a Python lambda. This carries a potential risk of arbitrary code execution"
)


def test_a_decoder_with_python_code_inside_is_refused_not_run(tmp_path):
    from app.decoder import DecoderService
    from rundir.errors import ZspaceError

    run = write_run(tmp_path, "lambda-run", "ae", np.zeros((10, 8)), seed=4)
    save_decoder(run, with_lambda=True)
    with pytest.raises(ZspaceError) as refused:
        DecoderService().decode(run, "fp", np.zeros((1, 8), dtype=np.float32))
    assert SAFE_MODE_REFUSAL in str(refused.value)
    assert "\n" not in str(refused.value)


def test_the_same_decoder_without_python_code_loads_and_decodes(tmp_path):
    from app.decoder import DecoderService

    # The refusal above must come from the Lambda, not from a service that refuses every decoder.
    run = write_run(tmp_path, "plain-run", "ae", np.zeros((10, 8)), seed=4)
    save_decoder(run, with_lambda=False)
    images = DecoderService().decode(run, "fp", np.zeros((2, 8), dtype=np.float32))
    assert images.shape == (2, 32, 32, 3) and images.dtype == np.uint8
    assert images.max() > 0  # sigmoid of a zero-input Dense: mid-grey, not an empty array


# -- request size ----------------------------------------------------------------------------
def test_an_oversized_request_body_is_refused_before_it_is_parsed(client):
    body = b'{"output": "page.className", "inputs": [{"id": "run-a", "property": "value", "value": "'
    body += b"x" * (32 * 2**20) + b'"}]}'
    answer = client.post("/_dash-update-component", data=body, content_type="application/json")
    assert answer.status_code == 413


# -- runs linked in from elsewhere (a read-only runs folder: test_read_only_runs.py) -----------
def test_a_symlinked_run_pointing_outside_the_folder_is_refused(tmp_path, outside_run):
    from app.factory import create_app
    from rundir.errors import ZspaceError

    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "linked").symlink_to(outside_run, target_is_directory=True)
    store = create_app(runs, cache_dir=tmp_path / "cache").zspace_store
    with pytest.raises(ZspaceError, match="unknown run"):
        store.open("linked")
