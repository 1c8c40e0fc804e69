"""Loading a run's models: safe_mode, and one-line errors for missing, corrupt or mismatched weights."""

import numpy as np
import pytest

import rundir
from models.architecture import build_model
from models.io import load_decoder, load_encoder, load_model
from rundir.atomic import atomic_write_json
from rundir.errors import RunNotReadyError

CONFIG = {"schema_version": 1, "model": "vae", "image_size": 32, "channels": 3, "z_dim": 8, "filters": [4, 8, 8, 16]}


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    model = build_model(CONFIG, seed=0)
    model.save(run / rundir.MODEL)
    model.encoder.save(run / rundir.ENCODER)
    model.decoder.save(run / rundir.DECODER)
    atomic_write_json(run / rundir.CONFIG, CONFIG)
    return run, model


def test_loaded_models_match_the_trained_ones(saved_run):
    run, model = saved_run
    z = np.random.default_rng(0).normal(size=(4, 8)).astype("float32")
    assert np.array_equal(load_decoder(run).predict(z, verbose=0), model.decoder.predict(z, verbose=0))
    x = np.random.default_rng(1).random((2, 32, 32, 3)).astype("float32")
    mu, logvar = load_encoder(run).predict(x, verbose=0)
    assert mu.shape == logvar.shape == (2, 8)
    assert np.array_equal(load_model(run).predict(x, verbose=0), model.predict(x, verbose=0))


def test_weights_of_another_z_dim_are_refused_in_one_line(saved_run, tmp_path):
    run, _ = saved_run
    other = tmp_path / "other"
    other.mkdir()
    for name in (rundir.ENCODER, rundir.DECODER):
        (other / name).write_bytes((run / name).read_bytes())
    atomic_write_json(other / rundir.CONFIG, {**CONFIG, "z_dim": 16})
    with pytest.raises(RunNotReadyError, match="z_dim 8 but config.json says 16") as info:
        load_decoder(other)
    assert "\n" not in str(info.value)
    atomic_write_json(other / rundir.CONFIG, {**CONFIG, "image_size": 64})
    with pytest.raises(RunNotReadyError, match="image size 32 but config.json says 64"):
        load_encoder(other)


def test_missing_and_truncated_weights_give_one_line(saved_run, tmp_path):
    run, _ = saved_run
    broken = tmp_path / "broken"
    broken.mkdir()
    atomic_write_json(broken / rundir.CONFIG, CONFIG)
    with pytest.raises(RunNotReadyError, match="decoder.keras is missing"):
        load_decoder(broken)
    data = (run / rundir.DECODER).read_bytes()
    (broken / rundir.DECODER).write_bytes(data[: len(data) // 2])
    with pytest.raises(RunNotReadyError, match="not a valid .keras file") as info:
        load_decoder(broken)
    assert "\n" not in str(info.value)
