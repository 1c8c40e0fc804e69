"""The AE / VAE models: KL term, loss composition, and exact `.keras` round trips."""

import keras
import numpy as np
import pytest

from models.architecture import build_model, kl_divergence, reconstruction_loss

TINY = {"image_size": 32, "z_dim": 8, "filters": [4, 8, 8, 16]}


def _images(n=6, seed=0):
    return np.random.default_rng(seed).random((n, 32, 32, 3)).astype("float32")


def test_kl_term_equals_the_closed_form_for_known_mu_and_logvar():
    mu = np.array([[0.0, 0.0], [1.0, -2.0], [0.5, 0.0]], dtype="float32")
    logvar = np.array([[0.0, 0.0], [0.0, 0.0], [np.log(4.0), -1.0]], dtype="float32")
    # KL(N(mu, s^2) || N(0, 1)) = 0.5 * sum(s^2 + mu^2 - 1 - log s^2)
    expected = [0.0, 0.5 * (1 + 4), 0.5 * ((4 + 0.25 - 1 - np.log(4.0)) + (np.exp(-1.0) - 1 + 1))]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(kl_divergence(mu, logvar)), expected, rtol=1e-6)


def test_vae_loss_is_summed_reconstruction_plus_beta_times_kl():
    model = build_model({**TINY, "model": "vae", "beta": 0.25}, seed=1)
    x = _images()
    y_pred = model(x, training=False)  # deterministic: decodes mu, and records the KL via add_loss
    mu, logvar = model.encoder(x)
    kl = float(np.mean(keras.ops.convert_to_numpy(kl_divergence(mu, logvar))))
    recon = keras.ops.convert_to_numpy(reconstruction_loss(x, y_pred, "bce"))
    per_pixel = -(x * np.log(y_pred) + (1 - x) * np.log(1 - y_pred))
    np.testing.assert_allclose(recon, per_pixel.reshape(len(x), -1).sum(axis=1), rtol=1e-4)
    loss = float(model.compute_loss(x=x, y_pred=y_pred))
    assert loss == pytest.approx(float(recon.mean()) + 0.25 * kl, rel=1e-5)
    assert float(model.kl_tracker.result()) == pytest.approx(kl, rel=1e-5)


def test_training_reports_loss_reconstruction_and_kl_and_lowers_the_loss():
    model = build_model({**TINY, "model": "vae", "recon_loss": "mse"}, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    x = np.repeat(_images(4), 8, axis=0)
    history = model.fit(x, epochs=4, batch_size=16, verbose=0).history
    assert {"loss", "reconstruction_loss", "kl_loss"} <= set(history)
    assert history["loss"][-1] < history["loss"][0]


@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_keras_round_trip_reproduces_outputs_exactly(tmp_path, kind):
    model = build_model({**TINY, "model": kind, "extra_dense": 12, "batch_norm": True}, seed=3)
    rng = np.random.default_rng(4)
    for layer in model.encoder.layers + model.decoder.layers:
        if isinstance(layer, keras.layers.BatchNormalization):  # non-trivial statistics must survive the trip too
            layer.moving_mean.assign(rng.normal(size=layer.moving_mean.shape))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, size=layer.moving_variance.shape))
    x = _images(8)
    for part, inputs in ((model, x), (model.encoder, x), (model.decoder, np.ones((3, 8), "float32"))):
        path = tmp_path / f"{part.name}.keras"
        part.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
        before, after = part(inputs, training=False), loaded(inputs, training=False)
        for a, b in zip(keras.tree.flatten(before), keras.tree.flatten(after), strict=True):
            assert np.array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)), part.name
    assert type(keras.saving.load_model(tmp_path / f"{model.name}.keras")).__name__ == "LatentAutoencoder"


def test_vae_inference_decodes_mu_deterministically():
    vae = build_model({**TINY, "model": "vae"}, seed=0)
    x = _images(2)
    assert np.array_equal(vae.predict(x, verbose=0), vae.predict(x, verbose=0))
    assert vae(x, training=False).shape == (2, 32, 32, 3)
