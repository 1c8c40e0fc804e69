"""``encode_run`` with a stand-in encoder (no TensorFlow): what it writes, in which order, and what it refuses."""

from __future__ import annotations

import itertools
import os
import time
import types

import numpy as np
import pytest

import rundir
from models import encode
from rundir.errors import ZspaceError
from tests.core.runs import make_run


def codes(batch):
    """A stand-in encoder: z is each colour channel's mean, the log-variance its negative."""
    z = batch.astype(np.float32).mean(axis=(1, 2))
    return z, -z


@pytest.fixture
def run(tmp_path):
    """An imported VAE run of z_dim 3 (imported: every row's split is 'unseen', no training record needed)."""
    return make_run(tmp_path / "r", n=4, z_dim=3, model="vae", imported={"source_split": False}, data="fake:4")


@pytest.fixture
def renames(monkeypatch):
    done, real = [], os.replace

    def replace(src, dst):
        done.append(os.path.basename(dst))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    return done


def test_a_vae_run_gets_its_points_log_variances_and_metadata_with_the_points_renamed_last(fake_data, run, renames):
    source = fake_data.FakeSource(10, 32, seed=5)
    status = encode.encode_run(run, source, batch_size=4, encoder=codes)
    z, logvar = codes(source.images())
    np.testing.assert_allclose(np.load(run / rundir.ZPOINTS), z)
    np.testing.assert_allclose(np.load(run / rundir.ZLOGVAR), logvar)
    metadata = rundir.load_metadata(run, 10)
    assert metadata["id"].tolist() == source.metadata["id"].tolist() and set(metadata["split"]) == {"unseen"}
    files = [name for name in renames if name != rundir.STATUS]
    assert files[:3] == [rundir.METADATA, rundir.ZLOGVAR, rundir.ZPOINTS]
    assert files.index(rundir.ZPOINTS) < files.index(rundir.ZPOINTS_DIGEST) < files.index(rundir.CONFIG)
    assert status == rundir.read_status(run)
    assert (status["state"], status["n_points"]) == ("complete", 10) and status["encode_images_per_sec"] > 0
    assert status["message"].startswith("encoded 10 images in ") and status["message"].endswith(" s")
    assert rundir.read_config(run)["data"] == "fake:10"


def test_an_ae_run_keeps_no_log_variances_from_before(fake_data, run):
    from tests.core.runs import edit_config

    edit_config(run, model="ae")
    np.save(run / rundir.ZLOGVAR, np.zeros((4, 3), np.float32))
    encode.encode_run(run, fake_data.FakeSource(6, 32), batch_size=4, encoder=lambda b: (codes(b)[0], None))
    assert not (run / rundir.ZLOGVAR).exists() and np.load(run / rundir.ZPOINTS).shape == (6, 3)


def test_the_status_says_how_far_encoding_got_and_says_it_at_the_last_batch(fake_data, run, monkeypatch):
    messages, real = [], rundir.update_status

    def recording(path, **fields):
        messages.append((fields.get("state"), fields.get("message")))
        return real(path, **fields)

    monkeypatch.setattr(rundir, "update_status", recording)
    ticks = itertools.count(100.0, 0.1)  # a clock that moves 0.1 s per look: batches come quicker than 0.5 s
    monkeypatch.setattr(
        encode, "time", types.SimpleNamespace(monotonic=lambda: next(ticks), perf_counter=time.perf_counter)
    )
    encode.encode_run(run, fake_data.FakeSource(1200, 32), batch_size=500, encoder=codes)
    assert messages[0] == ("encoding", "encoding 1,200 images")
    # The first batch is reported at once, the next within half a second of it is not, the last always is.
    assert messages[1:-1] == [(None, "encoding 500 / 1,200 images"), (None, "encoding 1,200 / 1,200 images")]
    assert messages[-1][0] == "complete"


class Short:
    """A source whose batches hold fewer images than it announces."""

    def __init__(self, inner, given):
        self.inner, self.given = inner, given
        self.spec, self.image_size, self.metadata = inner.spec, inner.image_size, inner.metadata

    def __len__(self):
        return len(self.inner)

    def batches(self, batch_size):
        yield self.inner.images()[: self.given]


def test_a_source_that_gives_fewer_images_or_metadata_rows_than_it_announces_leaves_the_old_points(fake_data, run):
    before = (run / rundir.ZPOINTS).read_bytes()
    with pytest.raises(ZspaceError) as refused:
        encode.encode_run(run, Short(fake_data.FakeSource(10, 32), 8), encoder=codes)
    assert str(refused.value) == "the data source gave 8 of the 10 images it announced"
    source = fake_data.FakeSource(10, 32)
    source.metadata = source.metadata.iloc[:9]
    with pytest.raises(ZspaceError) as refused:
        encode.encode_run(run, source, encoder=codes)
    assert str(refused.value) == "the data source's metadata has 9 rows for 10 images"
    assert (run / rundir.ZPOINTS).read_bytes() == before
    assert not [p for p in run.iterdir() if p.name.startswith(".tmp-")]


def test_the_encoded_source_is_recorded_keeping_the_training_source_apart(tmp_path):
    trained = make_run(tmp_path / "t", data="celeba:train")
    encode.record_encoded_source(trained, "folder:other")
    config = rundir.read_config(trained)
    assert (config["data"], config["train_data"]) == ("folder:other", "celeba:train")
    encode.record_encoded_source(trained, "celeba:train")
    config = rundir.read_config(trained)
    assert (config["data"], config["train_data"]) == ("celeba:train", "celeba:train")
    stamp = (trained / rundir.CONFIG).stat().st_mtime_ns
    encode.record_encoded_source(trained, "celeba:train")  # nothing to change: the config is not rewritten
    assert (trained / rundir.CONFIG).stat().st_mtime_ns == stamp
    imported = make_run(tmp_path / "i", data="folder:a", imported={"source_split": False})
    encode.record_encoded_source(imported, "folder:b")
    config = rundir.read_config(imported)
    assert config["data"] == "folder:b" and "train_data" not in config
    stamp = (imported / rundir.CONFIG).stat().st_mtime_ns
    encode.record_encoded_source(imported, "folder:b")
    assert (imported / rundir.CONFIG).stat().st_mtime_ns == stamp
