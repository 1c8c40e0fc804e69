"""``zspace encode RUN``'s own steps without TensorFlow: its refusals, the source it opens, the status it leaves."""

from __future__ import annotations

import argparse
import sys
import types

import pytest

import rundir
from models import encode
from rundir.errors import ZspaceError
from tests.core.runs import edit_config, make_run


class Source:
    """A data source that fits the run and says what it skipped."""

    def __init__(self, spec, image_size, seed):
        self.spec, self.image_size, self.seed = spec, image_size, seed

    def __len__(self):
        return 5

    def skip_summary(self):
        return "skipped 2 unreadable images"


@pytest.fixture
def opened(monkeypatch):
    """Record the sources ``zspace encode`` opens (a stand-in ``models.data``)."""
    sources = []

    def open_source(spec, image_size, seed):
        sources.append(Source(spec, image_size, seed))
        return sources[-1]

    monkeypatch.setitem(sys.modules, "models.data", types.SimpleNamespace(open_source=open_source))
    return sources


@pytest.fixture
def encoded(monkeypatch):
    """Stand in for the encoding itself: record its arguments, or raise what the test puts in ``raises``."""
    calls = {"raises": None, "args": []}

    def encode_run(run, source, batch_size):
        calls["args"].append((run, source, batch_size))
        if calls["raises"] is not None:
            raise calls["raises"]
        return {"n_points": 1234}

    monkeypatch.setattr(encode, "encode_run", encode_run)
    return calls


def args(run, data=None, batch_size=encode.DEFAULT_BATCH):
    return argparse.Namespace(run=str(run), data=data, batch_size=batch_size)


def test_encode_reopens_the_runs_source_with_its_seed_and_says_what_it_did(tmp_path, opened, encoded, capsys):
    run = make_run(tmp_path / "r", data="fake:5", seed=7)
    assert encode.run(args(run, batch_size=1)) == 0
    (source,) = opened
    assert (source.spec, source.image_size, source.seed) == ("fake:5", 32, 7)
    assert encoded["args"] == [(run, source, 1)]
    assert capsys.readouterr().out.splitlines() == [
        "skipped 2 unreadable images",
        f"encoded 1,234 images into {run} (was complete)",
    ]


@pytest.mark.parametrize("seed", [None, ...])
def test_a_run_without_a_seed_is_encoded_with_seed_zero_and_a_fresh_one_was_created(
    tmp_path, opened, encoded, capsys, seed
):
    run = make_run(tmp_path / "r", data="fake:5")
    edit_config(run, seed=seed)
    (run / rundir.STATUS).unlink()
    assert encode.run(args(run, data="fake:9")) == 0
    assert [(s.spec, s.seed) for s in opened] == [("fake:9", 0)]
    assert encoded["args"][0][2] == encode.DEFAULT_BATCH == 256
    assert capsys.readouterr().out.splitlines()[-1] == f"encoded 1,234 images into {run} (was created)"


def test_encode_refuses_a_missing_run_a_batch_below_one_and_a_run_without_a_source(tmp_path, opened, encoded):
    with pytest.raises(ZspaceError) as refused:
        encode.run(args(tmp_path / "nowhere"))
    assert str(refused.value) == f"run directory {tmp_path / 'nowhere'} does not exist"
    run = make_run(tmp_path / "r")
    with pytest.raises(ZspaceError) as refused:
        encode.run(args(run, data="fake:5", batch_size=0))
    assert str(refused.value) == "--batch-size must be >= 1, got 0"
    with pytest.raises(ZspaceError) as refused:
        encode.run(args(run))
    assert str(refused.value) == "the run's config names no data source; pass --data SOURCE"
    assert opened == [] and encoded["args"] == []


@pytest.mark.parametrize(
    ("error", "state"), [(ZspaceError("the encoder produced NaN"), "failed"), (KeyboardInterrupt(), "interrupted")]
)
def test_a_failed_or_stopped_encode_is_recorded_in_the_runs_status_with_its_reason(
    tmp_path, opened, encoded, error, state
):
    run = make_run(tmp_path / "r", data="fake:5")
    encoded["raises"] = error
    with pytest.raises(type(error)):
        encode.run(args(run))
    status = rundir.read_status(run)
    assert (status["state"], status["message"]) == (state, str(error))
