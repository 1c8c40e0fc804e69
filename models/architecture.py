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
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers, ops

from models.config import DOWNSAMPLING, architecture_of

#: Slope of LeakyReLU: the common choice for conv AEs; keeps gradients alive for negative inputs.
LEAKY_SLOPE = 0.2


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
    if config["model"] == "ae":
        outputs = layers.Dense(config["z_dim"], name="z")(x)
    else:
        outputs = [layers.Dense(config["z_dim"], name="mu")(x), layers.Dense(config["z_dim"], name="logvar")(x)]
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
    outputs = layers.Conv2DTranspose(
        config["channels"], config["kernel_size"], strides=2, padding="same", activation="sigmoid", name="image"
    )(x)
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
        target = x if y is None else y
        reconstruction = ops.mean(reconstruction_loss(target, y_pred, self.architecture["recon_loss"]))
        total = reconstruction
        self.reconstruction_tracker.update_state(reconstruction)
        if self.variational:
            kl = ops.sum(ops.stack(self.losses)) if self.losses else ops.zeros(())
            self.kl_tracker.update_state(kl)
            total = reconstruction + self.architecture["beta"] * kl
        return total

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


def build_model(config: dict[str, Any], seed: int | None = None) -> LatentAutoencoder:
    """Build (not compile) the AE or VAE described by ``config``, with its weights created."""
    model = LatentAutoencoder(architecture_of(config), seed=seed)
    size, channels = model.architecture["image_size"], model.architecture["channels"]
    model.build((None, size, size, channels))
    return model
