"""Issue 13, items 4 and 5, through the running app: listing keys, messages without server paths, bounded memos.

The audit found a run listed as usable after its ``metadata.parquet`` was
deleted, absolute server paths in messages of the page, and a per-process
decoder memo that never evicted.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from app.views import decode, planes
from app.views.parts import RUN
from tests.reliability.test_hardening import save_decoder
from tools.bench.requests import callback_body, valid_values
from tools.fixtures import write_run


def build(runs_dir, cache_dir):
    from app.factory import create_app

    return create_app(runs_dir, cache_dir=cache_dir, warm=False, auth=None)


def listed(client) -> dict[str, dict]:
    """The run picker's options as the page shows them: name -> option."""
    layout = json.dumps(client.get("/_dash-layout").get_json())
    found = {}

    def walk(node):
        if isinstance(node, dict):
            props = node.get("props", {})
            if props.get("id") == RUN["a"]:
                found.update({option["value"]: option for option in props["options"]})
            for value in props.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(layout))
    return found


@pytest.fixture()
def own_runs(tmp_path):
    """A runs folder of this test's own (the shared one must not be damaged)."""
    runs = tmp_path / "runs"
    write_run(runs, "kept", "ae", np.random.default_rng(0).normal(size=(40, 8)), seed=1)
    return runs


def test_deleting_metadata_after_a_run_was_listed_makes_the_page_list_it_unusable(own_runs, tmp_path):
    client = build(own_runs, tmp_path / "cache").server.test_client()
    assert not listed(client)["kept"].get("disabled"), "a complete run is offered"
    (own_runs / "kept" / "metadata.parquet").unlink()
    option = listed(client)["kept"]
    assert option["disabled"], "the run is still offered after its metadata was deleted"
    assert "metadata" in option["label"]
    assert str(tmp_path) not in option["label"] and "/" not in option["label"], option["label"]


def test_a_decoder_refused_at_load_is_named_by_run_and_file_in_the_page_never_by_path(own_runs, tmp_path):
    save_decoder(own_runs / "kept", with_lambda=True)  # passes the listing's check, refused by safe_mode on load
    app = build(own_runs, tmp_path / "cache")
    client = app.server.test_client()
    client.get("/_dash-dependencies")
    panel = next(d for d in app._callback_list if d["output"].startswith(f"..{decode.PANEL['a']}."))
    body = callback_body(panel, valid_values("kept", None), [f"{planes.GRAPH['a']}.clickData"])
    answer = client.post("/_dash-update-component", json=body)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "decoder.keras cannot be loaded (ValueError: Requested the deserialization of a `Lambda` layer" in text
    assert "from run kept" in text
    assert str(tmp_path) not in text and str(own_runs) not in text, "a server path reached the page"


def test_the_per_process_decoder_memo_keeps_a_few_decoders(own_runs, tmp_path):
    from app.decoder import DECODERS_KEPT

    for index in range(DECODERS_KEPT + 2):
        shutil.copytree(own_runs / "kept", own_runs / f"copy-{index}")
    store = build(own_runs, tmp_path / "cache").zspace_store
    names = [f"copy-{index}" for index in range(DECODERS_KEPT + 2)]
    for name in names:
        assert store.open(name).decode(np.zeros((1, 8), np.float32)).shape == (1, 32, 32, 3)
        assert store.decoder.loaded <= DECODERS_KEPT
    assert store.decoder.loaded == DECODERS_KEPT
    # The evicted first run loads again when it is clicked.
    assert store.open(names[0]).decode(np.zeros((1, 8), np.float32)).shape == (1, 32, 32, 3)
