"""Encoding batch by batch without TensorFlow: every row in place, progress, the halfway hold, bounded memory."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.format import open_memmap

from models import encode
from rundir.errors import ZspaceError


def images(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 4, 4, 3), dtype=np.uint8)


def codes(batch):
    """A stand-in encoder: z is the mean of each colour channel, the log-variance its negative."""
    z = batch.astype(np.float32).mean(axis=(1, 2))
    return z, -z


def batched(data, sizes):
    start = 0
    for size in sizes:
        yield data[start : start + size]
        start += size


def test_every_row_lands_in_place_and_progress_follows_each_batch():
    data, progress = images(7), []
    z_out, logvar_out = np.zeros((7, 3), np.float32), np.zeros((7, 3), np.float32)
    written = encode.encode_batches(codes, batched(data, [3, 3, 1]), z_out, logvar_out, lambda *p: progress.append(p))
    assert written == 7 and progress == [(3, 7), (6, 7), (7, 7)]
    expected = data.astype(np.float64).mean(axis=(1, 2))
    np.testing.assert_allclose(z_out, expected, rtol=1e-6)
    np.testing.assert_allclose(logvar_out, -expected, rtol=1e-6)


def test_a_source_may_give_exactly_the_rows_it_announced_and_not_one_more():
    assert encode.encode_batches(codes, batched(images(6), [3, 3]), np.zeros((6, 3), np.float32)) == 6
    with pytest.raises(ZspaceError) as refused:
        encode.encode_batches(codes, batched(images(7), [3, 3, 1]), np.zeros((6, 3), np.float32))
    assert str(refused.value) == "the data source gave more than the 6 images it announced"


@pytest.mark.parametrize("where", ["z", "logvar"])
def test_a_diverged_batch_is_refused_even_when_it_is_the_last(where):
    def diverging(batch):
        z, logvar = codes(batch)
        if len(batch) == 1:  # the last batch
            (z if where == "z" else logvar)[0, 2] = np.inf if where == "z" else np.nan
        return z, logvar

    out = np.zeros((7, 3), np.float32)
    with pytest.raises(ZspaceError) as refused:
        encode.encode_batches(diverging, batched(images(7), [3, 3, 1]), out, np.zeros((7, 3), np.float32))
    assert str(refused.value) == (
        "the encoder produced NaN or inf z-points; the model diverged — retrain with a lower --lr"
    )
    # An AE has no log-variance: whatever its encoder returns there is not looked at.
    if where == "logvar":
        assert encode.encode_batches(diverging, batched(images(7), [3, 3, 1]), out) == 7


@pytest.mark.parametrize(("sizes", "progress_before"), [([3, 3], 0), ([2, 2, 2], 1), ([4, 2], 0), ([1, 1, 1, 3], 2)])
def test_the_halfway_hold_comes_once_at_the_batch_that_reaches_half_the_rows(monkeypatch, sizes, progress_before):
    events = []
    monkeypatch.setattr(encode, "pause_point", lambda point: events.append(point))
    out = np.zeros((6, 3), np.float32)
    encode.encode_batches(codes, batched(images(6), sizes), out, progress=lambda *p: events.append("progress"))
    assert events.count("encode:half") == 1
    assert events.index("encode:half") == progress_before


@pytest.mark.parametrize(("variational", "releases"), [(False, 3), (True, 3)])
def test_written_pages_are_released_each_time_a_batch_brings_the_written_bytes_to_the_limit(
    monkeypatch, variational, releases
):
    released = []
    monkeypatch.setattr(encode, "_release_written_pages", released.append)
    # One batch of 2 rows x 3 float32 is 24 bytes of z (48 with the log-variance): the limit is exactly one batch.
    monkeypatch.setattr(encode, "RELEASE_BYTES", 48 if variational else 24)
    z_out = np.zeros((6, 3), np.float32)
    logvar_out = np.zeros((6, 3), np.float32) if variational else None
    encode.encode_batches(codes, batched(images(6), [2, 2, 2]), z_out, logvar_out)
    assert len(released) == 2 * releases
    assert all(a is z_out and b is logvar_out for a, b in zip(released[::2], released[1::2], strict=True))
    released.clear()
    monkeypatch.setattr(encode, "RELEASE_BYTES", (48 if variational else 24) + 1)  # one byte more: every 2nd batch
    encode.encode_batches(codes, batched(images(6), [2, 2, 2]), z_out, logvar_out)
    assert len(released) == 2


def test_releasing_the_pages_of_a_file_map_keeps_its_data_and_other_outputs_are_left_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(encode, "RELEASE_BYTES", 1)
    data = images(5)
    z_out = open_memmap(tmp_path / "z.npy", mode="w+", dtype=np.float32, shape=(5, 3))
    encode.encode_batches(codes, batched(data, [2, 2, 1]), z_out)  # an AE: no log-variance output
    z_out.flush()
    np.testing.assert_allclose(np.load(tmp_path / "z.npy"), codes(data)[0])
    np.testing.assert_allclose(np.asarray(z_out), codes(data)[0])
    memory = np.zeros((5, 3), np.float32)
    encode.encode_batches(codes, batched(data, [2, 2, 1]), memory, np.zeros((5, 3), np.float32))
    np.testing.assert_allclose(memory, codes(data)[0])


class Source:
    def __init__(self, image_size=32, n=3):
        self.image_size, self.n = image_size, n

    def __len__(self):
        return self.n


@pytest.mark.parametrize(
    ("config", "source", "message"),
    [
        (
            {"image_size": 64, "channels": 3},
            Source(32),
            "the data source gives 32x32 images but the run's model expects 64x64; open the source with image_size=64",
        ),
        (
            {"image_size": 32, "channels": 1},
            Source(32),
            "the run's model expects 1 channels but data sources give RGB images",
        ),
        ({"image_size": 32, "channels": 3}, Source(32, n=0), "the data source holds no usable images"),
    ],
)
def test_a_source_that_does_not_fit_the_encoder_is_refused_in_one_line(config, source, message):
    with pytest.raises(ZspaceError) as refused:
        encode.check_source_fits(config, source)
    assert str(refused.value) == message
    encode.check_source_fits({"image_size": 32, "channels": 3}, Source(32, n=1))
