"""``zspace import --encoder E --decoder D --data SOURCE``: a run from a model trained elsewhere.

E and D are Keras ``.keras`` / ``.h5`` files, SavedModel folders or ONNX
files (:mod:`models.model_files`), in any mix. Their shapes say z_dim, the
image size, the channels and the axis order (channels last, or first as
PyTorch exports); they are checked against each other and against the data
before anything is written. The run then holds copies of both models
(``.h5`` converted to ``.keras``; ONNX with its weights inside the file), a
config marked ``imported`` with each source file's name and SHA-256 and how
to feed the models (:mod:`models.codecs`), and the z-points of every image of
SOURCE, encoded exactly as ``zspace encode`` does (streamed, atomic; an
interrupted import continues with ``zspace encode RUN``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import rundir
from models.codecs import DecoderFunction, EncoderFunction, image_shape
from models.model_files import ModelFile, onnx_bytes, open_model_file
from rundir.atomic import TMP_PREFIX, atomic_path, atomic_write_bytes, atomic_write_json
from rundir.errors import ZspaceError

#: Image value ranges by name (``--pixel-range``); any ``LOW,HIGH`` pair works too (``--pixel-range=-1,1``:
#: the shell form a value starting with a minus needs, hence the name ``tanh`` for it).
PIXEL_RANGES = {"0,1": (0.0, 1.0), "tanh": (-1.0, 1.0), "-1,1": (-1.0, 1.0), "0,255": (0.0, 255.0)}
#: Images the models are tried on before anything is written.
PROBE_IMAGES = 4


@dataclass
class ImportPlan:
    """What the two models' shapes say, checked against each other."""

    model: str
    z_dim: int
    image_size: int
    channels: int
    layout: dict
    mu_output: int
    logvar_output: int | None


def parse_pixel_range(text: str) -> tuple[float, float]:
    """``LOW,HIGH`` (e.g. ``0,1``, ``-1,1``, ``0,255``) as two floats, low < high."""
    if text in PIXEL_RANGES:
        return PIXEL_RANGES[text]
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise ZspaceError(
            f"--pixel-range must be LOW,HIGH such as 0,1, tanh (-1,1) or 0,255; got {text[:40]!r}"
        ) from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ZspaceError(f"--pixel-range needs finite LOW < HIGH, got {text[:40]!r}")
    return low, high


def axis_order(shape: tuple, what: str) -> str:
    """``nhwc`` or ``nchw`` from an image shape (batch first), or one line saying it is not an image."""
    if len(shape) == 4:
        last, first = shape[3], shape[1]
        if last in (1, 3, 4) and (first is None or first > 4 or shape[1] == shape[2]):
            return "nhwc"
        if first in (1, 3, 4):
            return "nchw"
    raise ZspaceError(f"{what} is {_shape(shape)}, not a batch of images (batch, side, side, channels)")


def _shape(shape: tuple) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _default_outputs(encoder: ModelFile, label: str, listing: str) -> tuple[int, int | None]:
    # One output is z; two of equal width are (mu, logvar); more need --mu-output.
    count = len(encoder.output_shapes)
    if count == 1:
        return 0, None
    widths = {shape[-1] for shape in encoder.output_shapes}
    if count == 2 and len(widths) == 1 and all(len(s) == 2 for s in encoder.output_shapes):
        return 0, 1
    raise ZspaceError(f"{label} has {count} outputs ({listing}); say which is mu with --mu-output NAME|INDEX")


def pick_outputs(encoder: ModelFile, z_dim: int, mu_output: str | None, label: str) -> tuple[int, int | None]:
    """(mu, logvar) output numbers of the encoder.

    One output: it is z. Without ``--mu-output``, two outputs of equal width are
    (mu, logvar), as a VAE encoder gives them; more need ``--mu-output``, after
    which logvar is the other of exactly two outputs, else unknown.
    """
    names, count = encoder.output_names, len(encoder.output_shapes)
    listing = ", ".join(
        f"{i}: {name} {_shape(shape)}" for i, (name, shape) in enumerate(zip(names, encoder.output_shapes, strict=True))
    )
    if mu_output is None:
        return _default_outputs(encoder, label, listing)
    if mu_output.isdigit() and int(mu_output) < count:
        mu = int(mu_output)
    elif mu_output in names:
        mu = names.index(mu_output)
    else:
        raise ZspaceError(f"--mu-output {mu_output[:40]!r} is not an output of {label} ({listing})")
    return mu, (1 - mu if count == 2 else None)


def plan_import(encoder: ModelFile, decoder: ModelFile, model: str | None, mu_output: str | None, labels) -> ImportPlan:
    """Read z_dim, image size, channels and axis orders from the models and check they agree (one line each)."""
    enc_label, dec_label = labels
    if len(decoder.input_shape) != 2 or decoder.input_shape[1] is None:
        raise ZspaceError(f"{dec_label} takes {_shape(decoder.input_shape)}, not a batch of z-vectors (batch, z_dim)")
    z_dim = int(decoder.input_shape[1])
    mu, logvar = pick_outputs(encoder, z_dim, mu_output, enc_label)
    mu_shape = encoder.output_shapes[mu]
    if len(mu_shape) != 2:
        raise ZspaceError(f"{enc_label} output {mu} is {_shape(mu_shape)}, not a batch of z-vectors (batch, z_dim)")
    if mu_shape[1] != z_dim:
        raise ZspaceError(f"decoder expects z of {z_dim}, encoder gives {mu_shape[1]}")
    decoder_order = axis_order(decoder.output_shapes[0], f"{dec_label}'s output")
    encoder_order = axis_order(encoder.input_shape, f"{enc_label}'s input")
    out_side, out_channels = _decoded_image(decoder, decoder_order, z_dim, dec_label)
    _check_encoder_input(encoder, encoder_order, out_side, out_channels)
    kind = model or ("vae" if logvar is not None else "ae")
    layout = {"encoder": encoder_order, "decoder": decoder_order}
    return ImportPlan(kind, z_dim, int(out_side), 3, layout, mu, logvar)


def _decoded_image(decoder: ModelFile, order: str, z_dim: int, label: str) -> tuple[int, int]:
    # (side, channels) of the decoder's square images.
    out_side, out_side2, out_channels = image_shape(decoder.output_shapes[0], order)
    if out_side is None or out_side2 is None or out_channels is None:
        # A graph with free spatial sizes: one decode says what it makes.
        probe = decoder.call(np.zeros((1, z_dim), dtype=np.float32))[0]
        out_side, out_side2, out_channels = image_shape(probe.shape, order) or (None,) * 3
    if out_side != out_side2:
        raise ZspaceError(f"{label} makes {out_side}x{out_side2} images; zspace shows square images")
    return out_side, out_channels


def _check_encoder_input(encoder: ModelFile, order: str, out_side: int, out_channels: int) -> None:
    # The encoder takes what the decoder makes, and both take RGB.
    in_side, _, in_channels = image_shape(encoder.input_shape, order)
    if in_side is not None and in_side != out_side:
        raise ZspaceError(f"decoder makes {out_side}x{out_side} images, encoder takes {in_side}x{in_side}")
    if in_channels is not None and in_channels != out_channels:
        raise ZspaceError(f"decoder makes {out_channels}-channel images, encoder takes {in_channels} channels")
    if out_channels != 3:
        raise ZspaceError(f"the models take {out_channels}-channel images; zspace's data sources give RGB (3 channels)")


def source_hash(path: Path) -> str:
    """SHA-256 of a model file, or of a SavedModel folder's files (relative names and bytes, in sorted order)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def run_file_name(part: str, kind: str) -> str:
    """The file an imported ``part`` is kept as in the run (``.h5`` becomes ``.keras``)."""
    return {
        "keras": f"{part}.keras",
        "h5": f"{part}.keras",
        "onnx": f"{part}.onnx",
        "savedmodel": f"{part}.savedmodel",
    }[kind]


def copy_model(source: Path, model: ModelFile, target: Path, label: str) -> None:
    """Put the model into the run at ``target``, atomically (a SavedModel folder is renamed into place whole)."""
    if model.format == "keras":
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
    elif model.format == "h5":
        with atomic_path(target, suffix=".keras") as tmp:
            model.keras_model.save(tmp)
    elif model.format == "onnx":
        atomic_write_bytes(target, onnx_bytes(source, label))
    else:
        staging = target.parent / f"{TMP_PREFIX}{target.name}"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(source, staging)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)


def build_config(
    plan: ImportPlan, files: dict, sources: dict, models: dict, data: str, pixel_range, source_split
) -> dict:
    """The imported run's ``config.json`` (see :mod:`models.codecs` for the fields that say how to feed the models)."""
    from models.train import library_versions

    records = {
        part: {"name": sources[part].name, "format": models[part].format, "sha256": source_hash(sources[part])}
        for part in ("encoder", "decoder")
    }
    records["encoder"]["outputs"] = models["encoder"].output_names
    layers = [{"part": part, **row} for part in ("encoder", "decoder") for row in models[part].layers]
    total = models["encoder"].parameters + models["decoder"].parameters
    return {
        "schema_version": rundir.SCHEMA_VERSION,
        "model": plan.model,
        "z_dim": plan.z_dim,
        "image_size": plan.image_size,
        "channels": plan.channels,
        "encoder_file": files["encoder"],
        "decoder_file": files["decoder"],
        "pixel_range": [float(pixel_range[0]), float(pixel_range[1])],
        "layout": plan.layout,
        "mu_output": plan.mu_output,
        "logvar_output": plan.logvar_output,
        "data": data,
        "train_data": None,
        "seed": 0,
        "versions": library_versions(),
        "created": rundir.now_iso(),
        "imported": {
            "from": "models",
            **records,
            "source_split": bool(source_split),
            "parameters": {
                "encoder": models["encoder"].parameters,
                "decoder": models["decoder"].parameters,
                "total": total,
                "trainable": total,
                "layers": layers,
            },
        },
    }


def probe(encoder: EncoderFunction, decoder: DecoderFunction, images: np.ndarray, labels) -> np.ndarray:
    """Encode and decode a few real images; return the z-points. One line if either gives NaN / inf or a wrong shape."""
    z, _ = encoder(images)
    if z.shape != (len(images), encoder.z_dim) or not np.isfinite(z).all():
        raise ZspaceError(f"{labels[0]} gives NaN, inf or a wrong shape {z.shape} for real images; check --pixel-range")
    raw = decoder.model.call(z)[0]
    if not np.isfinite(raw).all():
        raise ZspaceError(f"{labels[1]} gives NaN or inf for the encoder's z-points")
    decoded = decoder(z)
    expected = (len(images), decoder.image_size, decoder.image_size, 3)
    if decoded.shape != expected:
        raise ZspaceError(f"{labels[1]} makes images of shape {decoded.shape[1:]}, not {expected[1:]}")
    return z


@dataclass(frozen=True)
class ImportOptions:
    """How ``zspace import`` reads the models: the model kind (None: from the encoder's outputs), encoding batch
    size, the encoder output that is mu, the pixel range the models take, and whether the source's split is kept."""

    model: str | None = None
    batch_size: int = 256
    mu_output: str | None = None
    pixel_range: tuple[float, float] = (0.0, 1.0)
    source_split: bool = False


def import_models(
    encoder_path: Path,
    decoder_path: Path,
    data: str,
    out: Path,
    options: ImportOptions = ImportOptions(),
    before_writing=None,
) -> dict:
    """Check, copy and encode; return the run's final status. Nothing is written before every check passed.

    ``before_writing()`` (e.g. clearing the run ``--force`` replaces) runs once
    every check passed. A failed encoding removes what this import wrote; an
    interrupted one is left for ``zspace encode`` to finish.
    """
    from models.codecs import load_decoder_function, savedmodels_trusted
    from models.data import open_source
    from models.encode import encode_run

    paths = {"encoder": Path(encoder_path), "decoder": Path(decoder_path)}
    labels = (f"--encoder {paths['encoder'].name}", f"--decoder {paths['decoder'].name}")
    models = {
        "encoder": open_model_file(paths["encoder"], labels[0]),
        "decoder": open_model_file(paths["decoder"], labels[1]),
    }
    plan = plan_import(models["encoder"], models["decoder"], options.model, options.mu_output, labels)
    try:
        source = open_source(data, image_size=plan.image_size, seed=0)
    except ZspaceError as exc:
        if "image size must be" in str(exc):
            raise ZspaceError(
                f"the models take {plan.image_size}x{plan.image_size} images; zspace's data sources give square "
                "images whose side is a multiple of 16 from 16 to 1024"
            ) from None
        raise
    files = {part: run_file_name(part, models[part].format) for part in ("encoder", "decoder")}
    config = build_config(plan, files, paths, models, source.spec, options.pixel_range, options.source_split)
    encoder, decoder = EncoderFunction(models["encoder"], config), DecoderFunction(models["decoder"], config)
    first = next(iter(source.batches(PROBE_IMAGES)))
    probe_z = probe(encoder, decoder, first, labels)
    if before_writing is not None:
        before_writing()
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        with rundir.run_lock(out):
            rundir.write_status(out, "created", message="importing models")
            for part in ("encoder", "decoder"):
                copy_model(paths[part], models[part], out / files[part], labels[part == "decoder"])
            atomic_write_json(out / rundir.CONFIG, {**config, "n_images": len(source), "skipped": source.skipped})
            if models["decoder"].format != "savedmodel" or savedmodels_trusted():
                copied = load_decoder_function(out)(probe_z)
                if not np.allclose(copied, decoder(probe_z), atol=1e-4):
                    raise ZspaceError(f"the run's copy of {labels[1]} decodes differently from the original")
            return encode_run(out, source, batch_size=options.batch_size, encoder=encoder)
    except ZspaceError:
        _remove_import(out, created, files)
        raise
    except KeyboardInterrupt:
        if (out / rundir.CONFIG).exists():
            rundir.update_status(out, state="interrupted", message=f"continue with `zspace encode {out}`")
        else:
            _remove_import(out, created, files)
        raise


def _remove_import(out: Path, created: bool, files: dict) -> None:
    """Undo a failed import: the folder it created, or the files it wrote into an existing one."""
    if created:
        shutil.rmtree(out, ignore_errors=True)
        return
    written = (rundir.CONFIG, rundir.STATUS, rundir.ZPOINTS, rundir.ZPOINTS_DIGEST, rundir.ZLOGVAR, rundir.METADATA)
    for name in (*files.values(), *written):
        target = out / name
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)
