"""Fuzzing Dash's callback endpoint: malformed bodies and hostile values for every callback.

A hostile request may be refused (4xx / 5xx) or answered harmlessly (200 with a
message in the page, 204 for "nothing to update"), but it must never hang,
never send a traceback to the browser, and the server must answer a normal
request correctly afterwards.
"""

from __future__ import annotations

import json
import logging
import math
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.views import VIEWS, decode, maps, planes, sampling
from app.views.parts import COMMON_REFUSALS
from tools.bench.requests import callback_body, split_output, valid_values

ENDPOINT = "/_dash-update-component"
#: Seconds a single hostile request may take before it counts as a hang.
TIME_LIMIT_S = 20.0
#: The statuses a malformed request may get (docs/SECURITY.md): refused as malformed, or too large.
REFUSED = (400, 413)
#: The refusal classes a callback may raise: those every view may, and each view's own (exactly these).
LISTED_REFUSALS = frozenset((*COMMON_REFUSALS, *(refusal for view in VIEWS for refusal in view.refusals)))

VALID = valid_values("bench-ae", "bench-vae")

HUGE = [1e308, -1e308, 10**30, -(10**30), 2**63, math.nan, math.inf, -math.inf, 5e-324]
ODD = [None, True, "", "x" * 100_000, "../../etc/passwd", [], {}, [[[]]], {"points": None}, -1, 0, 1.5]
scalars = st.sampled_from(HUGE + ODD) | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
clicks = st.fixed_dictionaries(
    {"points": st.lists(st.fixed_dictionaries({"customdata": scalars, "x": scalars, "y": scalars}), max_size=2)}
)
relayouts = st.fixed_dictionaries({k: scalars for k in ("xaxis.range[0]", "xaxis.range[1]", "yaxis.range[0]")}).map(
    lambda d: {**d, "yaxis.range[1]": d["xaxis.range[0]"]}
)
#: Per property: hostile variants that still look like what the browser sends there.
SHAPED = {
    "clickData": clicks,
    "relayoutData": relayouts
    | st.fixed_dictionaries({"xaxis.range": st.lists(scalars), "yaxis.range": st.lists(scalars)}),
    "data": st.fixed_dictionaries({"run": scalars | st.just("bench-ae"), "row": scalars}),
    "active_cell": st.fixed_dictionaries({"row": scalars, "column": scalars}),
    "derived_viewport_data": st.lists(st.fixed_dictionaries({"axis": scalars}), max_size=3),
}


def post_within(client, **kwargs):
    """POST to the callback endpoint; fail if it takes longer than TIME_LIMIT_S."""
    done = {}
    thread = threading.Thread(target=lambda: done.setdefault("answer", client.post(ENDPOINT, **kwargs)), daemon=True)
    thread.start()
    thread.join(TIME_LIMIT_S)
    assert not thread.is_alive(), f"request did not finish within {TIME_LIMIT_S} s"
    return done["answer"]


def assert_harmless(answer, what: str, malformed: bool = False) -> None:
    """A well-formed request gets 200 / 204; a malformed one may also be refused (400 / 413); never 500."""
    text = answer.get_data(as_text=True)
    assert "Traceback" not in text and 'File "/' not in text, f"{what}: traceback sent to the client"
    # A body missing only optional parts (no state, no changedPropIds) is still answered normally.
    allowed = (200, 204, *REFUSED) if malformed else (200, 204)
    assert answer.status_code in allowed, f"{what}: HTTP {answer.status_code}: {text[:300]}"


def assert_only_validation_messages(records, what: str) -> None:
    """Every refusal the views logged while answering is of a class a view lists (the class, not a subclass)."""
    refused = [r for r in records if r.getMessage().startswith("refused ")]
    unknown = [r.getMessage().split(": ", 1)[1] for r in refused if getattr(r, "refusal", None) not in LISTED_REFUSALS]
    assert not unknown, f"{what}: messages that are not validation messages: {unknown[:3]}"


def assert_still_healthy(dash_app, client) -> None:
    dependency = next(d for d in dash_app._callback_list if d["output"].startswith(f"..{decode.PANEL['a']}."))
    body = callback_body(dependency, VALID, [f"{planes.GRAPH['a']}.clickData"])
    answer = client.post(ENDPOINT, json=body)
    assert answer.status_code == 200 and "data:image" in answer.get_data(as_text=True)


def dependency_ids(dash_app) -> list[str]:
    return [d["output"] for d in dash_app._callback_list]


# -- malformed request bodies ----------------------------------------------------------------
def malformed_bodies(dependency: dict) -> dict[str, dict]:
    """name -> keyword arguments of ``client.post`` for one broken request."""
    good = callback_body(dependency, VALID, [f"{dependency['inputs'][0]['id']}.{dependency['inputs'][0]['property']}"])
    without = {k: {key: v for key, v in good.items() if key != k} for k in good}
    deep = "[" * 10_000 + "]" * 10_000
    deeper = '{"output": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}"
    return {
        "not json": {"data": b"\x00\xff not json {", "content_type": "application/json"},
        "empty body": {"data": b"", "content_type": "application/json"},
        "text/plain": {"data": json.dumps(good), "content_type": "text/plain"},
        "json array": {"json": [good]},
        "json string": {"json": "output"},
        "json null": {"data": b"null", "content_type": "application/json"},
        "deep array 10k": {"data": deep, "content_type": "application/json"},
        "deep object 100k": {"data": deeper, "content_type": "application/json"},
        "unknown output": {"json": {**good, "output": "no-such-id.children"}},
        "output not a string": {"json": {**good, "output": ["a", {"b": 1}]}},
        "missing output": {"json": without["output"]},
        "missing inputs": {"json": without["inputs"]},
        "missing outputs": {"json": without["outputs"]},
        "missing state": {"json": without["state"]},
        "missing changedPropIds": {"json": without["changedPropIds"]},
        "inputs not a list": {"json": {**good, "inputs": {"id": "run-a"}}},
        "inputs of strings": {"json": {**good, "inputs": ["run-a.value"] * len(good["inputs"])}},
        "too few inputs": {"json": {**good, "inputs": good["inputs"][:1]}},
        "too many inputs": {"json": {**good, "inputs": good["inputs"] * 50}},
        "inputs without value": {"json": {**good, "inputs": [{"id": i["id"]} for i in good["inputs"]]}},
        "unknown input ids": {"json": {**good, "inputs": [{**i, "id": "../../x"} for i in good["inputs"]]}},
        "changed unknown": {"json": {**good, "changedPropIds": ["nope.nope", None, 3]}},
        "changed not a list": {"json": {**good, "changedPropIds": "run-a.value"}},
        "outputs garbage": {"json": {**good, "outputs": [{"id": None}, 5]}},
        "huge string input": {"json": {**good, "inputs": [{**i, "value": "A" * 5_000_000} for i in good["inputs"]]}},
    }


def is_background(dash_app, dependency: dict) -> bool:
    """Not fuzzed here: background callbacks start a process per request (fuzzing them would fork hundreds),
    and clientside callbacks run in the browser only (the server has no handler for them)."""
    if dependency.get("clientside_function"):
        return True
    return bool(dash_app.callback_map.get(dependency["output"], {}).get("background"))


def test_malformed_requests_never_crash_hang_or_leak_a_traceback(dash_app, client):
    dependencies = [d for d in dash_app._callback_list if not is_background(dash_app, d)]
    assert len(dependencies) >= 15
    for dependency in dependencies:
        bodies = malformed_bodies(dependency)
        if dependency is not dependencies[0]:  # the endpoint-level cases need not run for every callback
            bodies = {k: v for k, v in bodies.items() if k.startswith(("missing", "inputs", "too", "unknown input"))}
        for name, kwargs in bodies.items():
            answer = post_within(client, **kwargs)
            assert_harmless(answer, f"{dependency['output']}: {name}", malformed=True)
    assert_still_healthy(dash_app, client)


def test_nan_and_infinity_literals_in_the_json_are_survived(dash_app, client):
    dependency = next(d for d in dash_app._callback_list if d["output"].startswith(f"..{sampling.GRID['a']}."))
    body = json.dumps(callback_body(dependency, VALID, [f"{sampling.K}.value"]))
    for literal in ("NaN", "Infinity", "-Infinity", "1e999", "123456789012345678901234567890"):
        hostile = body.replace(
            f'"{sampling.K}", "property": "value", "value": 4',
            f'"{sampling.K}", "property": "value", "value": {literal}',
        )
        assert hostile != body
        answer = post_within(client, data=hostile, content_type="application/json")
        assert_harmless(answer, f"K = {literal}")
        assert "K must be" in answer.get_data(as_text=True)
    assert_still_healthy(dash_app, client)


# -- hostile values in well-formed requests --------------------------------------------------
def value_strategy(prop: str):
    """A valid value, a hostile value shaped like the property's usual JSON, or any JSON at all."""
    key = prop.rsplit(".", 1)[1]
    options = [st.just(VALID.get(prop)), json_values]
    if key in SHAPED:
        options.append(SHAPED[key])
    return st.one_of(*options)


@pytest.fixture(scope="module")
def callbacks_by_output(dash_app) -> dict[str, dict]:
    dash_app.server.test_client().get("/_dash-dependencies")  # lets Dash register its lazy callbacks
    return {d["output"]: d for d in dash_app._callback_list}


def first_output_of(dependency: dict) -> str:
    return "{id}.{property}".format(**split_output(dependency["output"])[0])


def server_callbacks() -> list[str]:
    """First output of every callback that runs on the server, from the dashboard as built now.

    Collected from a real app (on an empty runs folder: callbacks do not depend on runs), so a
    callback added later is fuzzed without anyone editing this file.
    """
    import tempfile

    from app.factory import create_app

    with tempfile.TemporaryDirectory() as scratch:
        app = create_app(f"{scratch}/runs", cache_dir=f"{scratch}/cache", auth=("collect", "only"))
        # Dash registers some callbacks (the cancel of a background job) when it serves its first request.
        app.server.test_client().get("/_dash-dependencies", auth=("collect", "only"))
        return sorted(first_output_of(d) for d in app._callback_list if not is_background(app, d))


def pytest_generate_tests(metafunc):
    if "first_output" in metafunc.fixturenames:
        metafunc.parametrize("first_output", server_callbacks())


def test_hostile_values_get_a_message_or_no_update_never_an_error(
    first_output, callbacks_by_output, dash_app, client, caplog
):
    dependency = next(d for d in callbacks_by_output.values() if first_output_of(d) == first_output)
    props = [f"{i['id']}.{i['property']}" for i in dependency["inputs"] + dependency.get("state", [])]
    inputs = props[: len(dependency["inputs"])]

    valid = {p: VALID.get(p) for p in props}
    # Either every value may be hostile, or exactly one is and the rest are valid (reaching deeper code).
    one_hostile = st.sampled_from(props).flatmap(lambda p: value_strategy(p).map(lambda v, p=p: {**valid, p: v}))
    all_hostile = st.fixed_dictionaries({p: value_strategy(p) for p in props})

    @settings(
        max_examples=30,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(values=one_hostile | all_hostile, changed=st.sampled_from(inputs))
    def check(values, changed):
        caplog.clear()
        answer = post_within(client, json=callback_body(dependency, values, [changed]))
        what = f"{first_output} with {json.dumps(values, default=str)[:400]}"
        assert_harmless(answer, what)
        assert_only_validation_messages(caplog.records, what)

    with caplog.at_level(logging.INFO, logger="app.views.parts"):
        check()
    assert_still_healthy(dash_app, client)


def test_a_forged_cancel_cannot_kill_a_process_of_the_server_user(dash_app, client):
    import subprocess
    import sys

    client.get("/_dash-dependencies")  # lets Dash register its lazy callbacks
    dependency = next(d for d in dash_app._callback_list if first_output_of(d) == f"{maps.CANCEL}.id")
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        body = callback_body(dependency, VALID, [f"{maps.CANCEL}.n_clicks"])
        # The browser sends the job's pid, signed by the server; a raw pid must be ignored.
        for forged in (str(victim.pid), f"{victim.pid}.forged", f"{victim.pid}:{victim.pid}"):
            answer = post_within(client, json=body, query_string={"cancelJob": forged, "oldJob": forged})
            assert_harmless(answer, f"cancelJob={forged}")
        assert victim.poll() is None, "a forged job id killed a process"
    finally:
        victim.kill()
        victim.wait()


def test_the_fuzzer_catches_a_programming_error_and_an_unlisted_message(dash_app, client, monkeypatch, caplog):
    # The checks above must be able to fail: a bug in a callback is a 500, not a friendly message.
    dependency = next(d for d in dash_app._callback_list if d["output"].startswith(f"..{planes.GRAPH['a']}."))
    body = callback_body(dependency, VALID, [f"{planes.KIND}.value"])
    assert_harmless(post_within(client, json=body), "the real callback")

    def buggy(*args, **kwargs):
        return None + 1  # a TypeError, as a slip in a callback body would raise

    monkeypatch.setattr(planes, "update_plane", buggy)
    with pytest.raises(AssertionError, match="HTTP 500"):
        assert_harmless(post_within(client, json=body), "an injected TypeError")

    from rundir.errors import ZspaceError

    def odd_refusal(*args, **kwargs):
        raise ZspaceError("'NoneType' object is not subscriptable")

    monkeypatch.setattr(planes, "update_plane", odd_refusal)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="app.views.parts"):
        answer = post_within(client, json=body)
    assert_harmless(answer, "a refusal")
    with pytest.raises(AssertionError, match="not validation messages"):
        assert_only_validation_messages(caplog.records, "an unlisted message")

    # A class nobody lists is caught even when its words are a listed refusal's; a listed class passes.
    from app.views.decode import NoClick
    from rundir.errors import Refusal

    class Unlisted(Refusal):
        template = NoClick.template

    for refusal, passes in ((Unlisted, False), (NoClick, True)):

        def refuse(*args, refusal=refusal, **kwargs):
            raise refusal()

        monkeypatch.setattr(planes, "update_plane", refuse)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="app.views.parts"):
            assert_harmless(post_within(client, json=body), refusal.__name__)
        if passes:
            assert_only_validation_messages(caplog.records, "a listed refusal")
        else:
            with pytest.raises(AssertionError, match="not validation messages"):
                assert_only_validation_messages(caplog.records, "an unlisted class")
