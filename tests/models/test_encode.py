"""``zspace encode``: streamed z-points, the encoded source recorded in the config, failures leave the old files."""

import numpy as np
import pytest

import rundir
from rundir.atomic import TMP_PREFIX
from zspace import cli

TINY = ["--model", "vae", "--image-size", "32", "--z-dim", "8", "--batch-size", "32"]


@pytest.fixture
def trained(fake_data, tmp_path):
    out = tmp_path / "vae"
    assert cli.main(["train", "--data", "fake:64", *TINY, "--epochs", "1", "--out", str(out)]) == 0
    return out


class StreamOnly:
    """A source that gives its images only batch by batch, and checks the run directory between batches."""

    def __init__(self, inner, run):
        self.inner, self.run = inner, run
        self.spec, self.image_size, self.metadata = "stream:48", inner.image_size, inner.metadata
        self.seen_on_disk: list[np.ndarray] = []

    def __len__(self):
        return len(self.inner)

    def images(self):
        raise AssertionError("encode asked for every image at once")

    def batches(self, batch_size):
        for index, batch in enumerate(self.inner.batches(batch_size)):
            if index == 1:
                # The first batch's z-points are already in the temporary .npy; zpoints.npy is the old one.
                (temporary,) = self.run.glob(f"{TMP_PREFIX}zpoints-*.npy")
                self.seen_on_disk.append(np.load(temporary)[:batch_size].copy())
            yield batch


def test_encode_streams_batches_into_a_temporary_npy_renamed_at_the_end(fake_data, trained, monkeypatch):
    import os

    from models import encode
    from rundir import digest

    monkeypatch.setattr(encode, "RELEASE_BYTES", 1)  # drop the written pages from memory after every batch
    order, real_replace = [], os.replace

    def recording_replace(src, dst):
        real_replace(src, dst)
        name = os.path.basename(dst)
        order.append(f"{name}:{rundir.read_status(trained)['state']}" if name == rundir.STATUS else name)

    monkeypatch.setattr(os, "replace", recording_replace)
    old = np.load(trained / rundir.ZPOINTS)
    source = StreamOnly(fake_data.FakeSource(48, 32, seed=3), trained)
    status = encode.encode_run(trained, source, batch_size=16)
    # zpoints.npy is renamed, then its content digest written, then the run says complete: a reader that sees
    # the run complete finds a digest of the new z-points, taken at their size and time (a copy keeps it).
    written = [name for name in order if not name.startswith(rundir.STATUS) or name.endswith("complete")]
    assert written.index(rundir.ZPOINTS) < written.index(rundir.ZPOINTS_DIGEST) < written.index("status.json:complete")
    digest._memory.clear()
    stat = (trained / rundir.ZPOINTS).stat()
    assert digest._read_sidecar(trained / rundir.ZPOINTS_DIGEST, digest._stamp(stat)) == digest._hash(
        trained / rundir.ZPOINTS, stat
    )
    z = np.load(trained / rundir.ZPOINTS)
    assert z.shape == (48, 8) and status["n_points"] == 48 and status["encode_images_per_sec"] > 0
    np.testing.assert_array_equal(source.seen_on_disk[0], z[:16])
    import keras

    encoder = keras.saving.load_model(trained / rundir.ENCODER, safe_mode=True)
    expected = keras.ops.convert_to_numpy(encoder(source.inner.images().astype("float32") / 255.0)[0])
    np.testing.assert_allclose(z, expected, rtol=1e-4, atol=1e-4)  # released pages lost nothing
    assert not np.array_equal(z[:48], old[:48]), "other images, other z-points"
    assert np.load(trained / rundir.ZLOGVAR).shape == (48, 8)
    assert not list(trained.glob(TMP_PREFIX + "*"))


def test_encode_with_another_source_records_it_and_keeps_the_training_source(trained, capsys):
    assert cli.main(["encode", str(trained), "--data", "fake:40"]) == 0
    config = rundir.read_config(trained)
    assert (config["data"], config["train_data"]) == ("fake:40", "fake:64")
    info = rundir.inspect_run(trained)
    assert info.usable and info.n_points == 40
    assert len(rundir.load_metadata(trained)) == 40
    # Without --data, encode re-encodes what the run shows now.
    assert cli.main(["encode", str(trained)]) == 0
    assert rundir.read_config(trained)["data"] == "fake:40"
    # A resume trains on the training source again and encodes it.
    assert cli.main(["train", "--out", str(trained), "--resume", "--epochs", "2"]) == 0
    config = rundir.read_config(trained)
    assert (config["data"], config["train_data"]) == ("fake:64", "fake:64")
    assert rundir.inspect_run(trained).n_points == 64


def test_a_diverged_encoder_fails_without_touching_the_old_zpoints(trained, capsys):
    import keras

    from models.checkpoints import save_model_atomically

    before = (trained / rundir.ZPOINTS).read_bytes()
    encoder = keras.saving.load_model(trained / rundir.ENCODER, safe_mode=True)
    encoder.set_weights([np.full_like(weight, np.nan) for weight in encoder.get_weights()])
    save_model_atomically(encoder, trained / rundir.ENCODER)
    assert cli.main(["encode", str(trained)]) == 2
    assert "NaN or inf" in capsys.readouterr().err
    assert (trained / rundir.ZPOINTS).read_bytes() == before
    assert rundir.read_config(trained)["data"] == "fake:64"
    assert rundir.read_status(trained)["state"] == "failed"
    assert not list(trained.glob(TMP_PREFIX + "*")), "the temporary .npy files are removed"
