"""A run's decoder and encoder as numpy functions, whatever format they were saved in.

The one loader every decoding path uses (the dashboard's decoder service,
the sampler lab's codec, the strip commands, ``zspace encode``): trained runs
hold ``.keras`` files (loaded and checked by :mod:`models.io`); an imported
run names its files in ``config.json`` (``encoder_file`` / ``decoder_file``:
Keras, SavedModel or ONNX, opened by :mod:`models.model_files`) together with
how to feed them:

* ``pixel_range`` ``[low, high]``: the value range of the models' images
  (default ``[0, 1]``, what zspace's own models take and give). Encoder inputs
  are the uint8 pixels mapped linearly onto it; decoder outputs are mapped back.
* ``layout`` ``{"encoder": "nhwc"|"nchw", "decoder": ...}``: channels last
  (Keras) or first (PyTorch exports); default ``nhwc``.
* ``mu_output`` / ``logvar_output``: which encoder outputs are the z-point
  (a VAE's mean) and its log-variance (default 0 / 1 for a VAE, 0 / none for an AE).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

import rundir
from models.model_files import ModelFile, keras_model_file, open_model_file
from rundir.errors import RunNotReadyError, ZspaceError

#: Set to 1 to load SavedModel folders from runs: a TensorFlow graph can read and write files, which safe
#: mode exists to prevent (Keras refuses TFSMLayer in safe mode for the same reason).
TRUST_SAVEDMODEL_ENV = "ZSPACE_TRUST_SAVEDMODEL"
#: Image value range of zspace's own models (sigmoid outputs, inputs scaled by 1/255).
DEFAULT_PIXEL_RANGE = (0.0, 1.0)
LAYOUTS = ("nhwc", "nchw")


def pixel_range(config: dict[str, Any]) -> tuple[float, float]:
    """``(low, high)`` of the run's image values (:data:`DEFAULT_PIXEL_RANGE` unless the config says otherwise)."""
    value = config.get("pixel_range") or DEFAULT_PIXEL_RANGE
    low, high = float(value[0]), float(value[1])
    if not (np.isfinite(low) and np.isfinite(high) and high > low):
        raise RunNotReadyError(f"run config: pixel_range must be two finite numbers, low < high, got {value!r}")
    return low, high


def layout(config: dict[str, Any], part: str) -> str:
    """``nhwc`` or ``nchw``: the axis order of the images ``part`` (encoder or decoder) takes or gives."""
    value = (config.get("layout") or {}).get(part, "nhwc")
    if value not in LAYOUTS:
        raise RunNotReadyError(f"run config: layout of the {part} must be nhwc or nchw, got {str(value)[:20]!r}")
    return value


def output_indices(config: dict[str, Any]) -> tuple[int, int | None]:
    """(mu, logvar) output numbers of the run's encoder; logvar None when there is none."""
    variational = config.get("model") == "vae"
    mu = config.get("mu_output", 0)
    logvar = config.get("logvar_output", 1 if variational else None)
    return int(mu), None if logvar is None else int(logvar)


def image_shape(shape: tuple, order: str) -> tuple:
    """(side, side, channels) of a model's image shape (batch first) in its axis order; Nones where free."""
    if len(shape) != 4:
        return ()
    return (shape[1], shape[2], shape[3]) if order == "nhwc" else (shape[2], shape[3], shape[1])


class DecoderFunction:
    """z (B x z_dim float32) -> float32 images (B, S, S, C) in [0, 1], whatever the model's format and range."""

    def __init__(self, model: ModelFile, config: dict[str, Any]):
        self.model = model
        self.z_dim = int(config["z_dim"])
        self.image_size = int(config["image_size"])
        self.channels = int(config["channels"])
        self.low, self.high = pixel_range(config)
        self.order = layout(config, "decoder")

    def __call__(self, z) -> np.ndarray:
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.z_dim)
        images = self.model.call(z)[0]
        if self.order == "nchw":
            images = np.transpose(images, (0, 2, 3, 1))
        if (self.low, self.high) != DEFAULT_PIXEL_RANGE:
            images = (images - self.low) / (self.high - self.low)
        return np.clip(images, 0.0, 1.0).astype(np.float32, copy=False)


class EncoderFunction:
    """uint8 images (B, S, S, C) -> (z, logvar or None), each B x z_dim float32, as ``zspace encode`` feeds it."""

    def __init__(self, model: ModelFile, config: dict[str, Any]):
        self.model = model
        self.z_dim = int(config["z_dim"])
        self.image_size = int(config["image_size"])
        self.low, self.high = pixel_range(config)
        self.order = layout(config, "encoder")
        self.mu, self.logvar = output_indices(config)

    def __call__(self, images) -> tuple[np.ndarray, np.ndarray | None]:
        x = np.asarray(images, dtype=np.float32) * np.float32((self.high - self.low) / 255.0) + np.float32(self.low)
        if self.order == "nchw":
            x = np.transpose(x, (0, 3, 1, 2))
        outputs = self.model.call(x)
        z = outputs[self.mu].reshape(len(x), -1)
        logvar = None if self.logvar is None else outputs[self.logvar].reshape(len(x), -1)
        return z, logvar


def check_decoder_fits(model: ModelFile, config: dict[str, Any], label: str) -> None:
    """Raise one line when ``model``'s input is not z_dim or its output not an image of the config's size."""
    width = model.input_shape[-1] if len(model.input_shape) == 2 else None
    if width != int(config["z_dim"]):
        raise RunNotReadyError(f"{label} takes input {_shape(model.input_shape)}, not z of {config['z_dim']}")
    side, side2, channels = image_shape(model.output_shapes[0], layout(config, "decoder")) or (None,) * 3
    expected = (int(config["image_size"]), int(config["image_size"]), int(config["channels"]))
    if (side, side2, channels) != expected and None not in (side, side2, channels):
        raise RunNotReadyError(
            f"{label} makes {_shape(model.output_shapes[0])}, not {expected[0]}x{expected[1]} images "
            f"with {expected[2]} channels"
        )


def check_encoder_fits(model: ModelFile, config: dict[str, Any], label: str) -> None:
    """Raise one line when ``model`` does not take the config's images or its chosen outputs are not z_dim wide."""
    side, side2, channels = image_shape(model.input_shape, layout(config, "encoder")) or (None,) * 3
    size = int(config["image_size"])
    if any(v is not None and v != want for v, want in ((side, size), (side2, size), (channels, config["channels"]))):
        raise RunNotReadyError(f"{label} takes {_shape(model.input_shape)}, not {size}x{size} images")
    mu, logvar = output_indices(config)
    for what, index in (("mu", mu), ("logvar", logvar)):
        if index is None:
            continue
        if index >= len(model.output_shapes):
            raise RunNotReadyError(f"{label} has {len(model.output_shapes)} outputs; no output {index} for {what}")
        width = model.output_shapes[index][-1]
        if width != int(config["z_dim"]):
            raise RunNotReadyError(f"{label} output {index} ({what}) is {width} wide, not z_dim {config['z_dim']}")


def _shape(shape: tuple) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def savedmodels_trusted() -> bool:
    """Whether the operator allowed SavedModel folders in runs to be loaded (:data:`TRUST_SAVEDMODEL_ENV`)."""
    return os.environ.get(TRUST_SAVEDMODEL_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _run_model(run: Path, config: dict[str, Any], part: str) -> ModelFile:
    """The run's ``part`` opened and checked against its config."""
    from models import io

    name = rundir.model_file(config, part)
    if name is None:
        what = "decoder" if part == "decoder" else "encoder"
        raise ZspaceError(
            f"run {run.name} has no {what}: it was imported as z-points alone, so it cannot decode or encode images"
        )
    if not config.get("imported"):  # trained by zspace: the .keras files and checks of models.io
        model = io.load_decoder(run) if part == "decoder" else io.load_encoder(run)
        return keras_model_file(model)
    label = f"{name} of run {run.name}"
    if name.endswith(".savedmodel") and not savedmodels_trusted():
        raise RunNotReadyError(
            f"{label} is a TensorFlow SavedModel, whose graph may read and write files; zspace loads one from a "
            f"run only with {TRUST_SAVEDMODEL_ENV}=1 (or import the model as .keras or ONNX)"
        )
    try:
        model = open_model_file(run / name, label)
    except RunNotReadyError:
        raise
    except ZspaceError as exc:
        raise RunNotReadyError(str(exc)) from None
    (check_decoder_fits if part == "decoder" else check_encoder_fits)(model, config, label)
    return model


def load_decoder_function(run: str | os.PathLike) -> DecoderFunction:
    """The run's decoder as a numpy function (see :class:`DecoderFunction`).

    Raises
    ------
    ZspaceError
        One line: the run has no decoder (z-points imported alone), or its file is missing, refused or does
        not fit the config (:class:`~rundir.errors.RunNotReadyError`).
    """
    run = Path(run)
    config = rundir.read_config(run)
    return DecoderFunction(_run_model(run, config, "decoder"), config)


def load_encoder_function(run: str | os.PathLike) -> EncoderFunction:
    """The run's encoder as a numpy function (see :class:`EncoderFunction`); errors as :func:`load_decoder_function`."""
    run = Path(run)
    config = rundir.read_config(run)
    return EncoderFunction(_run_model(run, config, "encoder"), config)
