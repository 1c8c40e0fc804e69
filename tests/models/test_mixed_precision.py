"""Mixed precision: float32 outputs and KL, loss scaling undone in the update, float32 files for CPUs."""

import keras
import numpy as np
import pytest

from models.architecture import build_model, float32_parts
from models.distribute import precision_policy

TINY = {"model": "vae", "image_size": 32, "z_dim": 8, "filters": [4, 8, 8, 16], "beta": 50.0}


#: A loss scale small enough that the first step does not overflow float16 (the dynamic default, 2**15,
#: skips the first few steps of a summed-over-pixels loss while it halves itself).
SCALE = 16.0


def _step(mixed: bool, weights=None):
    """One SGD step on a fixed batch; return (model, weights before, logs)."""
    x = np.random.default_rng(0).random((8, 32, 32, 3)).astype("float32")
    optimizer = keras.optimizers.SGD(1e-4)
    with precision_policy(mixed):
        model = build_model(TINY, seed=0)
        if weights is not None:
            model.set_weights(weights)
        model.compile(optimizer=keras.optimizers.LossScaleOptimizer(optimizer, SCALE) if mixed else optimizer)
    before = model.get_weights()
    logs = model.train_on_batch(x, return_dict=True)
    return model, before, logs


@pytest.fixture(scope="module")
def both_steps():
    float32 = _step(mixed=False)
    return float32, _step(mixed=True, weights=float32[1])


def test_mixed_model_keeps_z_kl_and_image_in_float32(both_steps):
    _, (model, _, _) = both_steps
    assert keras.mixed_precision.global_policy().name == "float32", "the policy is restored afterwards"
    assert model.encoder.get_layer("conv_1").compute_dtype == "float16"
    for layer in (model.encoder.get_layer("mu"), model.encoder.get_layer("logvar"), model.decoder.get_layer("image")):
        assert layer.compute_dtype == "float32", layer.name
    assert all(weight.dtype == "float32" for weight in model.weights)


def test_loss_scaling_is_undone_so_the_update_matches_float32(both_steps):
    (model32, before, logs32), (model16, _, logs16) = both_steps
    assert float(model16.optimizer.dynamic_scale) == SCALE  # the loss was scaled and the step not skipped
    # The reported loss and KL are the unscaled float32 figures.
    assert logs16["kl_loss"] == pytest.approx(logs32["kl_loss"], rel=1e-2)
    assert logs16["loss"] == pytest.approx(logs32["loss"], rel=1e-3)
    # beta = 50 makes the KL gradient dominate mu / logvar: a scaled or float16-overflowed KL shows here.
    names = [weight.path for weight in model32.weights]
    for name in ("mu/kernel", "logvar/kernel", "image/kernel"):
        index = names.index(name)
        step32 = model32.get_weights()[index] - before[index]
        step16 = model16.get_weights()[index] - before[index]
        assert np.abs(step32).max() > 0
        np.testing.assert_allclose(step16, step32, rtol=0.05, atol=0.05 * np.abs(step32).max(), err_msg=name)


def test_a_new_mixed_model_gets_a_loss_scale_optimizer():
    from models.training_loop import new_model

    config = {**TINY, "seed": 0, "learning_rate": 1e-3}
    with precision_policy(True):
        mixed = new_model(config)
    assert isinstance(mixed.optimizer, keras.optimizers.LossScaleOptimizer)
    assert not isinstance(new_model(config).optimizer, keras.optimizers.LossScaleOptimizer)


def test_saved_encoder_and_decoder_of_a_mixed_model_are_float32(both_steps):
    _, (model16, _, _) = both_steps
    encoder, decoder = float32_parts(model16)
    assert all(layer.compute_dtype == "float32" for part in (encoder, decoder) for layer in part.layers)
    z = np.random.default_rng(1).normal(size=(4, 8)).astype("float32")
    images = keras.ops.convert_to_numpy(decoder(z))
    np.testing.assert_allclose(images, keras.ops.convert_to_numpy(model16.decoder(z)), atol=2e-2)
