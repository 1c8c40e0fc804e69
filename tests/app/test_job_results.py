"""What a background job may hand to the page: sealed by the server's secret, bound to its key, of its own shape."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from app.job_results import NO_UPDATE, TEXT, Seal, plain_progress, result_of
from app.views import progress

SECRET = "s" * 32


def test_a_sealed_entry_opens_only_with_the_same_secret_kind_and_key():
    seal = Seal(SECRET)
    envelope = seal.close("result", "key-1", {"job": "abc", "value": "t-SNE ready"})
    body = seal.open("result", "key-1", json.loads(json.dumps(envelope)))  # as it travels through Redis
    assert body == {"job": "abc", "value": "t-SNE ready", "kind": "result", "key": "key-1"}
    # Independently: the MAC is HMAC-SHA256 of the body text under the secret.
    assert envelope["mac"] == hmac.new(SECRET.encode(), envelope["body"].encode(), hashlib.sha256).hexdigest()
    assert seal.open("result", "key-2", envelope) is None  # moved to another job
    assert seal.open("progress", "key-1", envelope) is None  # replayed as progress
    assert Seal("t" * 32).open("result", "key-1", envelope) is None  # sealed by someone else
    tampered = {**envelope, "body": envelope["body"].replace("t-SNE ready", "<script>")}
    assert seal.open("result", "key-1", tampered) is None
    for forged in (None, "text", [envelope], {"zspace": 1}, {**envelope, "zspace": 2}, {**envelope, "mac": 5}):
        assert seal.open("result", "key-1", forged) is None
    with pytest.raises(ValueError, match="at least 16 bytes"):
        Seal("short")


def test_results_and_progress_are_restricted_to_the_shapes_the_jobs_return():
    iframe = {"type": "Iframe", "namespace": "dash_html_components", "props": {"srcDoc": "<script>"}}
    assert TEXT.check("rates of ae ready") and not TEXT.check(iframe) and not TEXT.check(["a"])
    assert not TEXT.check("x" * 2001) and TEXT.check("x" * 2000)
    prepared = progress.PREPARED
    assert prepared.check([{"done": 1.5}, "base analyses ready"]) and prepared.check([NO_UPDATE, "refused"])
    for wrong in ([iframe, "x"], [{"done": 1, "props": 2}, "x"], [{"done": "now"}, "x"], [{"done": 1}, iframe], "x"):
        assert not prepared.check(wrong), wrong
    assert prepared.failed("the worker stopped") == [NO_UPDATE, "the worker stopped"]
    assert plain_progress([3, 10, "affinities"]) and plain_progress([None, None, "waiting"])
    for wrong in ([0, 1, iframe], [0, 1], [True, 1, "x"], ["1", 1, "x"], (0, 1, "x")):
        assert not plain_progress(wrong), wrong


def test_every_background_job_of_the_dashboard_declares_its_result(dash_app):
    from dash.background_callback.managers import BaseBackgroundCallbackManager

    jobs = {(fn.__module__, fn.__qualname__): fn for _key, fn, _progress in BaseBackgroundCallbackManager.functions}
    ours = {name: fn for name, fn in jobs.items() if name[0].startswith("app.views.")}
    assert {module for module, _ in ours} == {
        "app.views.maps",
        "app.views.sampler_rates",
        "app.views.progress",
        "app.views.sweep",
        "app.views.epoch_structure",
    }
    for name, fn in ours.items():
        assert hasattr(fn, "zspace_result"), f"{name} declares no result shape (app.job_results.returns)"
    assert result_of(ours["app.views.progress", "register.<locals>._prepare"]) is progress.PREPARED
    assert result_of(ours["app.views.maps", "register.<locals>._compute"]) is TEXT
