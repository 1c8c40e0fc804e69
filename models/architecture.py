"""Convolutional AE and VAE following the seed's architecture (Part XII).

Encoder: 4 x Conv2D (stride 2, ``same``) -> Flatten -> optional Dense(extra_dense)
-> AE: Dense(z_dim) ``z``; VAE: Dense(z_dim) ``mu`` and Dense(z_dim) ``logvar``.
Decoder, mirrored: Dense(flatten) -> Reshape -> 3 x Conv2DTranspose -> Conv2DTranspose(channels, sigmoid).

Encoder and decoder are plain functional models (standard layers only), so
``encoder.keras`` / ``decoder.keras`` load anywhere with ``safe_mode=True``.
The trainable model :class:`LatentAutoencoder` wraps both.

Backend choice: the loss lives in an overridden ``compute_loss`` and the
reconstruction / KL figures in ``keras.metrics.Mean`` trackers updated there;
the KL term is added with ``add_loss`` in ``call``. Keras 3 runs
``compute_loss`` inside its stateless scope on JAX (with forward-pass losses
and metric variables mapped), so the same code trains on TensorFlow and JAX
without a backend-specific ``train_step``. Everything uses ``keras.ops``.

Under ``tf.distribute`` each replica computes the loss of its share of the
global batch and the gradients are *summed* across replicas, so
``compute_loss`` divides by the number of replicas, as Keras' own
``compute_loss`` does (an override has to do it itself). Under a
``mixed_float16`` policy the layers that produce z / mu / logvar and the image
compute in float32, so the KL term and the loss are float32; Keras' loss
scaling (``LossScaleOptimizer``) applies to the returned total, KL included.
"""

from __future__ import annotations

from typing import Any

from models.runtime import start_tensorflow

start_tensorflow()

import keras  # noqa: E402 - after TensorFlow started with its C++ start-up logs filtered
from keras import layers, ops  # noqa: E402

from models.config import DOWNSAMPLING, architecture_of  # noqa: E402
from models.distribute import precision_policy  # noqa: E402

#: Slope of LeakyReLU: the common choice for conv AEs; keeps gradients alive for negative inputs.
LEAKY_SLOPE = 0.2

#: Dtype of the layers whose outputs feed the loss or are stored (z / mu / logvar, the image), whatever the policy.
OUTPUT_DTYPE = "float32"


def _activation(x, name: str):
    return layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=name)(x)


def build_encoder(config: dict[str, Any]) -> keras.Model:
    """Build the encoder: image in [0, 1] -> ``z`` (AE) or ``[mu, logvar]`` (VAE)."""
    config = architecture_of(config)
    size, channels = config["image_size"], config["channels"]
    inputs = keras.Input((size, size, channels), name="image")
    x = inputs
    for index, filters in enumerate(config["filters"], start=1):
        x = layers.Conv2D(filters, config["kernel_size"], strides=2, padding="same", name=f"conv_{index}")(x)
        if config["batch_norm"]:
            x = layers.BatchNormalization(name=f"conv_{index}_bn")(x)
        x = _activation(x, f"conv_{index}_act")
    x = layers.Flatten(name="flatten")(x)
    if config["extra_dense"]:
        x = layers.Dense(config["extra_dense"], name="extra_dense")(x)
        x = _activation(x, "extra_dense_act")
    # The z layers compute in float32 under a mixed policy too: exp(logvar) overflows float16 beyond
    # logvar ~ 11, and z-points are stored as float32.
    if config["model"] == "ae":
        outputs = layers.Dense(config["z_dim"], name="z", dtype=OUTPUT_DTYPE)(x)
    else:
        outputs = [
            layers.Dense(config["z_dim"], name="mu", dtype=OUTPUT_DTYPE)(x),
            layers.Dense(config["z_dim"], name="logvar", dtype=OUTPUT_DTYPE)(x),
        ]
    return keras.Model(inputs, outputs, name="encoder")


def build_decoder(config: dict[str, Any]) -> keras.Model:
    """Build the decoder: ``z`` -> image in [0, 1] (sigmoid output)."""
    config = architecture_of(config)
    side = config["image_size"] // DOWNSAMPLING
    innermost = config["filters"][-1]
    inputs = keras.Input((config["z_dim"],), name="z")
    x = layers.Dense(side * side * innermost, name="dense")(inputs)
    x = _activation(x, "dense_act")
    x = layers.Reshape((side, side, innermost), name="reshape")(x)
    for index, filters in enumerate(reversed(config["filters"][:-1]), start=1):
        x = layers.Conv2DTranspose(filters, config["kernel_size"], strides=2, padding="same", name=f"deconv_{index}")(x)
        if config["batch_norm"]:
            x = layers.BatchNormalization(name=f"deconv_{index}_bn")(x)
        x = _activation(x, f"deconv_{index}_act")
    # float32 output under a mixed policy as well: the sigmoid and the summed BCE lose too much in float16.
    outputs = layers.Conv2DTranspose(
        config["channels"], config["kernel_size"], strides=2, padding="same", activation="sigmoid", name="image",
        dtype=OUTPUT_DTYPE,
    )(x)  # fmt: skip
    return keras.Model(inputs, outputs, name="decoder")


def kl_divergence(mu, logvar):
    """Closed-form KL(N(mu, exp(logvar)) || N(0, 1)) per sample, summed over z dimensions."""
    return -0.5 * ops.sum(1.0 + logvar - ops.square(mu) - ops.exp(logvar), axis=-1)


def reconstruction_loss(images, reconstructions, kind: str):
    """Per-sample reconstruction loss summed over pixels and channels (``bce`` or ``mse``)."""
    if kind == "bce":
        eps = keras.backend.epsilon()
        clipped = ops.clip(reconstructions, eps, 1.0 - eps)
        per_pixel = -(images * ops.log(clipped) + (1.0 - images) * ops.log(1.0 - clipped))
    else:
        per_pixel = ops.square(images - reconstructions)
    return ops.sum(ops.reshape(per_pixel, (ops.shape(per_pixel)[0], -1)), axis=-1)


@keras.saving.register_keras_serializable(package="zspace")
class LatentAutoencoder(keras.Model):
    """An AE or VAE built from an architecture config; ``call`` returns the reconstruction.

    For the VAE, ``call(training=True)`` decodes a reparameterised sample and
    ``call(training=False)`` decodes ``mu``, so inference is deterministic.
    Loss = reconstruction summed over pixels (+ ``beta`` x KL for the VAE).
    """

    def __init__(self, architecture: dict[str, Any], seed: int | None = None, **kwargs):
        kwargs.setdefault("name", "latent_autoencoder")
        super().__init__(**kwargs)
        self.architecture = architecture_of(architecture)
        self.seed = seed
        self.variational = self.architecture["model"] == "vae"
        self.encoder = build_encoder(self.architecture)
        self.decoder = build_decoder(self.architecture)
        self.sampling_seed = keras.random.SeedGenerator(seed)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        # Keras collects tracker attributes into ``metrics`` by itself; an AE has no KL to report.
        self.kl_tracker = keras.metrics.Mean(name="kl_loss") if self.variational else None

    def encode(self, images, training: bool = False):
        """Return ``(mu, logvar)`` for a VAE, ``(z, None)`` for an AE."""
        if self.variational:
            mu, logvar = self.encoder(images, training=training)
            return mu, logvar
        return self.encoder(images, training=training), None

    def call(self, images, training: bool = False):
        mu, logvar = self.encode(images, training=training)
        if not self.variational:
            return self.decoder(mu, training=training)
        # The KL term is handed to compute_loss through add_loss (backend-agnostic, see module docstring).
        self.add_loss(ops.mean(kl_divergence(mu, logvar)))
        z = mu
        if training:
            noise = keras.random.normal(ops.shape(mu), seed=self.sampling_seed)
            z = mu + ops.exp(0.5 * logvar) * noise
        return self.decoder(z, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # The trackers get the per-replica means; Keras sums them across replicas on read and divides
        # by the count, so the reported figures are the global means.
        target = x if y is None else y
        reconstruction = ops.mean(reconstruction_loss(target, y_pred, self.architecture["recon_loss"]))
        total = reconstruction
        self.reconstruction_tracker.update_state(reconstruction)
        if self.variational:
            kl = ops.sum(ops.stack(self.losses)) if self.losses else ops.zeros(())
            self.kl_tracker.update_state(kl)
            total = reconstruction + self.architecture["beta"] * kl
        return total / replicas_in_sync()

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        logs = super().compute_metrics(x, y, y_pred, sample_weight)
        if multi_worker_training():
            # Keras 3 reduces each step's logs with strategy.reduce("MEAN", value, axis=0) under a multi-worker
            # strategy, which fails on scalars (tensorflow/tensorflow#72388); a length-1 vector reduces to the
            # same mean, and the epoch's figures are read from the metrics themselves.
            logs = {name: ops.reshape(value, (1,)) for name, value in logs.items()}
        return logs

    @property
    def metrics(self):
        # Listed explicitly so ``reset_state`` runs each epoch; de-duplicated against Keras' own collection.
        collected = list(super().metrics)
        trackers = [self.reconstruction_tracker] + ([self.kl_tracker] if self.variational else [])
        return collected + [t for t in trackers if all(t is not m for m in collected)]

    def get_config(self):
        return {**super().get_config(), "architecture": self.architecture, "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def replicas_in_sync() -> int:
    """Number of replicas the current ``tf.distribute`` strategy trains on (1 outside one, or on JAX)."""
    if keras.backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    return int(tf.distribute.get_strategy().num_replicas_in_sync)


def multi_worker_training() -> bool:
    """True inside a ``MultiWorkerMirroredStrategy`` that spans more than one worker (the test Keras itself makes)."""
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and strategy.extended._in_multi_worker_mode()


def build_model(config: dict[str, Any], seed: int | None = None) -> LatentAutoencoder:
    """Build (not compile) the AE or VAE described by ``config``, with its weights created."""
    model = LatentAutoencoder(architecture_of(config), seed=seed)
    size, channels = model.architecture["image_size"], model.architecture["channels"]
    model.build((None, size, size, channels))
    return model


def float32_parts(model: LatentAutoencoder) -> tuple[keras.Model, keras.Model]:
    """The model's encoder and decoder with float32 layers throughout, holding the trained weights.

    A model trained under ``mixed_float16`` would otherwise save float16 layers
    into ``encoder.keras`` / ``decoder.keras``, and encoding or decoding on a
    CPU would then run in half precision. The weights themselves are float32
    under either policy.
    """
    parts = (model.encoder, model.decoder)
    if all(layer.compute_dtype == "float32" for part in parts for layer in part.layers):
        return parts
    with precision_policy(mixed=False):
        encoder, decoder = build_encoder(model.architecture), build_decoder(model.architecture)
    encoder.set_weights(model.encoder.get_weights())
    decoder.set_weights(model.decoder.get_weights())
    return encoder, decoder
