"""Load a run's Keras models safely (``safe_mode=True``) and check them against its config.

The dashboard's decoder service calls :func:`load_decoder` and wraps the
result in a ``tf.function``; ``encode`` calls :func:`load_encoder`; ``train
--resume`` calls :func:`load_model_file` on its checkpoint. Every problem a user can fix is a
one-line :class:`~rundir.errors.RunNotReadyError`.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import rundir
from rundir.errors import RunNotReadyError


def _where(path: Path) -> str:
    """Which run a model file belongs to, for messages: the run's name, never a server path."""
    run = path.parent.parent if path.parent.name == rundir.CHECKPOINTS else path.parent
    return f"run {run.name}"


def _load(path: Path, what: str, compile: bool = False):
    from models.runtime import start_tensorflow

    start_tensorflow()
    import keras

    import models.architecture  # noqa: F401 - registers LatentAutoencoder for deserialisation

    if not path.is_file():
        raise RunNotReadyError(f"{what} is missing from {_where(path)}; retrain the run or copy its weights back")
    if not zipfile.is_zipfile(path):
        raise RunNotReadyError(
            f"{what} of {_where(path)} is not a valid .keras file; it may be truncated — retrain the run"
        )
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as exc:  # Keras raises many types for damaged or foreign archives
        first_line = (str(exc).strip().splitlines() or [""])[0][:200]
        raise RunNotReadyError(
            f"{what} cannot be loaded ({type(exc).__name__}: {first_line}) from {_where(path)}"
        ) from None


def _shape_of(tensor_or_list) -> tuple:
    first = tensor_or_list[0] if isinstance(tensor_or_list, list | tuple) else tensor_or_list
    return tuple(first.shape)


def _check(actual, expected, what: str, field: str, path: Path) -> None:
    if actual != expected:
        raise RunNotReadyError(
            f"{what} has {field} {actual} but config.json says {expected} ({_where(path)}); "
            "the weights belong to another model"
        )


def check_encoder(encoder, config: dict[str, Any], path: Path) -> None:
    """Raise :class:`RunNotReadyError` if ``encoder`` does not fit ``config`` (image size, channels, z_dim, kind)."""
    in_shape = _shape_of(encoder.inputs)
    _check(in_shape[1], int(config["image_size"]), "encoder", "image size", path)
    _check(in_shape[3], int(config["channels"]), "encoder", "channels", path)
    outputs = encoder.outputs
    _check(len(outputs), 2 if config["model"] == "vae" else 1, "encoder", "number of outputs", path)
    _check(_shape_of(outputs)[-1], int(config["z_dim"]), "encoder", "z_dim", path)


def check_decoder(decoder, config: dict[str, Any], path: Path) -> None:
    """Raise :class:`RunNotReadyError` if ``decoder`` does not fit ``config`` (z_dim, image size, channels)."""
    _check(_shape_of(decoder.inputs)[-1], int(config["z_dim"]), "decoder", "z_dim", path)
    out_shape = _shape_of(decoder.outputs)
    _check(out_shape[1], int(config["image_size"]), "decoder", "image size", path)
    _check(out_shape[3], int(config["channels"]), "decoder", "channels", path)


def load_encoder(run: str | os.PathLike):
    """Load ``encoder.keras`` of a run: image in [0, 1] -> z (AE) or [mu, logvar] (VAE)."""
    run = Path(run)
    config = rundir.read_config(run)
    path = run / rundir.ENCODER
    encoder = _load(path, "encoder.keras")
    check_encoder(encoder, config, path)
    return encoder


def load_decoder(run: str | os.PathLike):
    """Load ``decoder.keras`` of a run: z (batch x z_dim float32) -> images in [0, 1]."""
    run = Path(run)
    config = rundir.read_config(run)
    path = run / rundir.DECODER
    decoder = _load(path, "decoder.keras")
    check_decoder(decoder, config, path)
    return decoder


def load_model(run: str | os.PathLike, compile: bool = False):
    """Load the full ``model.keras`` (a :class:`models.architecture.LatentAutoencoder`)."""
    run = Path(run)
    return load_model_file(run / rundir.MODEL, rundir.read_config(run), compile=compile)


def load_model_file(path: str | os.PathLike, config: dict[str, Any], compile: bool = False):
    """Load a full model (``model.keras`` or a checkpoint) and check it against ``config``."""
    path = Path(path)
    model = _load(path, path.name, compile=compile)
    encoder, decoder = getattr(model, "encoder", None), getattr(model, "decoder", None)
    if encoder is None or decoder is None:
        raise RunNotReadyError(f"{path.name} of {_where(path)} is not a zspace autoencoder")
    check_encoder(encoder, config, path)
    check_decoder(decoder, config, path)
    return model
