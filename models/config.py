"""The model configuration: defaults, validation, and which fields must match on ``--resume``.

This module does not import Keras, so the command line can check arguments
before paying for TensorFlow.
"""

from __future__ import annotations

from typing import Any

from rundir.errors import ZspaceError

#: The seed's architecture (Part XII): 4 x Conv2D with these filters, kernel 3, stride 2.
ARCHITECTURE_DEFAULTS: dict[str, Any] = {
    "model": "vae",
    "image_size": 96,
    "channels": 3,
    "z_dim": 256,
    "filters": [32, 64, 128, 256],
    "kernel_size": 3,
    "extra_dense": None,
    "batch_norm": False,
    "beta": 1.0,
    "recon_loss": "bce",
}

#: Fields that define the network and its loss; a resumed run must agree on all of them.
ARCHITECTURE_FIELDS = tuple(ARCHITECTURE_DEFAULTS)

#: Number of stride-2 convolutions, hence the image size must be a multiple of 2**4.
DOWNSAMPLING = 16


def make_config(**overrides: Any) -> dict[str, Any]:
    """Return a validated architecture config: the defaults updated with ``overrides``.

    ``None`` values in ``overrides`` mean "use the default" (except for
    ``extra_dense``, where ``None`` is the default anyway).
    """
    config = dict(ARCHITECTURE_DEFAULTS)
    for key, value in overrides.items():
        if value is not None:
            config[key] = value
    return validate_config(config)


def _filters(given) -> list[int]:
    # The four convolution widths, from a list or from text ("32,64,128,256").
    filters = given.replace(",", " ").split() if isinstance(given, str) else given
    try:
        filters = [int(f) for f in filters]
    except (TypeError, ValueError):
        raise ZspaceError(f"filters must be 4 positive integers, got {given!r}") from None
    if len(filters) != 4 or min(filters) < 1:
        raise ZspaceError(f"filters must be 4 positive integers, got {given!r}")
    return filters


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """Check an architecture config and normalise its types.

    Raises
    ------
    ZspaceError
        With one line naming the bad field and what is allowed.
    """
    config = {**ARCHITECTURE_DEFAULTS, **config}
    if config["model"] not in ("ae", "vae"):
        raise ZspaceError(f"unknown model kind {config['model']!r}; use 'ae' or 'vae'")
    size = _positive_int(config, "image_size")
    if size % DOWNSAMPLING:
        raise ZspaceError(
            f"image size {size} is not a multiple of {DOWNSAMPLING} (the encoder halves it 4 times); try "
            f"{max(DOWNSAMPLING, size // DOWNSAMPLING * DOWNSAMPLING)}"
        )
    _positive_int(config, "channels")
    _positive_int(config, "z_dim")
    _positive_int(config, "kernel_size")
    config["filters"] = _filters(config["filters"])
    if config["extra_dense"] is not None:
        _positive_int(config, "extra_dense")
    config["batch_norm"] = bool(config["batch_norm"])
    try:
        config["beta"] = float(config["beta"])
    except (TypeError, ValueError):
        raise ZspaceError(f"beta must be a number, got {config['beta']!r}") from None
    if not config["beta"] >= 0:
        raise ZspaceError(f"beta must be >= 0, got {config['beta']}")
    if config["recon_loss"] not in ("bce", "mse"):
        raise ZspaceError(f"unknown reconstruction loss {config['recon_loss']!r}; use 'bce' or 'mse'")
    return config


def architecture_of(config: dict[str, Any]) -> dict[str, Any]:
    """Return only the fields that define the network (what ``build_model`` reads)."""
    full = validate_config({key: config[key] for key in ARCHITECTURE_FIELDS if key in config})
    return {key: full[key] for key in ARCHITECTURE_FIELDS}


def training_source(config: dict[str, Any]) -> str | None:
    """The ``--data`` a run was trained on.

    ``data`` names the source the z-points were last encoded from (``zspace
    encode RUN --data OTHER`` changes it); ``train_data`` keeps the training
    source. Runs written before ``train_data`` existed trained on ``data``.
    """
    return config.get("train_data") or config.get("data")


def config_differences(old: dict[str, Any], new: dict[str, Any], fields: tuple[str, ...]) -> list[str]:
    """List ``field: old -> new`` for every field in ``fields`` whose values differ."""
    return [f"{key}: {old.get(key)!r} -> {new.get(key)!r}" for key in fields if old.get(key) != new.get(key)]


def _positive_int(config: dict[str, Any], key: str) -> int:
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value or value < 1:
        raise ZspaceError(f"{key} must be a positive integer, got {value!r}")
    config[key] = int(value)
    return config[key]


#: Rows a snapshot encodes unless ``--snapshot-n`` says otherwise (fewer when the data has fewer images).
DEFAULT_SNAPSHOT_N = 5000


def snapshot_settings(every: int | None, n: int | None, n_images: int) -> dict[str, int | None]:
    """Check ``--snapshot-every`` / ``--snapshot-n`` against the data; return ``snapshot_every`` and ``snapshot_n``.

    Without ``every`` no snapshots are taken (both ``None``). ``n`` defaults to
    :data:`DEFAULT_SNAPSHOT_N`, capped at the data's size; a larger ``n`` given
    explicitly is refused.

    Raises
    ------
    ZspaceError
        One line for a value that is not a positive whole number, ``n`` without
        ``every``, or ``n`` larger than the data.
    """
    for flag, value in (("--snapshot-every", every), ("--snapshot-n", n)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ZspaceError(f"{flag} must be a positive whole number, got {value!r}")
    if every is None:
        if n is not None:
            raise ZspaceError("--snapshot-n needs --snapshot-every E (how many epochs between snapshots)")
        return {"snapshot_every": None, "snapshot_n": None}
    if n is not None and n > n_images:
        raise ZspaceError(
            f"--snapshot-n {n:,} is larger than the data ({n_images:,} images); give at most {n_images:,}"
        )
    return {"snapshot_every": int(every), "snapshot_n": int(n if n is not None else min(DEFAULT_SNAPSHOT_N, n_images))}
