"""``zspace summary``: parameter counts of a model configuration, as a table or one JSON object.

Builds the model (no run directory, no data) and counts its parameters, so a
user can see the seed's Part XII trade-off (an extra Dense layer before
mu / logvar) before training anything.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from models.config import ARCHITECTURE_DEFAULTS, make_config


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``zspace summary``."""
    parser.add_argument("--model", choices=("ae", "vae"), default="vae", help="model kind (default: vae)")
    parser.add_argument(
        "--image-size", type=int, default=96, help="image side in pixels, a multiple of 16 (default 96)"
    )
    parser.add_argument("--channels", type=int, default=3, help="image channels (default 3)")
    parser.add_argument(
        "--z-dim", type=int, default=ARCHITECTURE_DEFAULTS["z_dim"], help="latent dimension (default 256)"
    )
    parser.add_argument(
        "--extra-dense", type=int, default=None, metavar="N", help="Dense(N) between Flatten and z / mu, logvar"
    )
    parser.add_argument("--batch-norm", action="store_true", help="BatchNormalization after each (de)convolution")
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object instead of a table")


#: The parameter table of a run without a model (z-points imported alone).
EMPTY_PARAMETERS: dict[str, Any] = {"encoder": 0, "decoder": 0, "total": 0, "trainable": 0, "layers": []}


def parameter_table(config: dict[str, Any]) -> dict[str, Any]:
    """Count the parameters of the model ``config`` describes.

    An imported run's models are the user's own, not zspace's architecture:
    their table was counted from the loaded models when they were imported
    (``config["imported"]["parameters"]``; none for z-points imported alone).

    Parameters
    ----------
    config : dict
        Architecture fields (see ``models.config.ARCHITECTURE_DEFAULTS``);
        missing fields take their defaults.

    Returns
    -------
    dict
        ``encoder``, ``decoder``, ``total`` (int, all parameters),
        ``trainable`` (int), ``config`` (the full architecture) and ``layers``:
        a list of ``{"part", "name", "type", "output_shape", "params"}``.
    """
    imported = config.get("imported")
    if imported:
        return {**EMPTY_PARAMETERS, **(imported.get("parameters") or {}), "config": config}
    config = make_config(**config)  # validate before paying for TensorFlow
    from models.architecture import build_decoder, build_encoder

    encoder, decoder = build_encoder(config), build_decoder(config)
    rows = [_layer_row("encoder", layer) for layer in encoder.layers]
    rows += [_layer_row("decoder", layer) for layer in decoder.layers]
    trainable = sum(_count(w) for part in (encoder, decoder) for w in part.trainable_weights)
    return {
        "config": config,
        "encoder": int(encoder.count_params()),
        "decoder": int(decoder.count_params()),
        "total": int(encoder.count_params() + decoder.count_params()),
        "trainable": int(trainable),
        "layers": rows,
    }


def _count(weight) -> int:
    count = 1
    for dim in weight.shape:
        count *= int(dim)
    return count


def _layer_row(part: str, layer) -> dict[str, Any]:
    output = layer.output
    shapes = [tuple(t.shape) for t in output] if isinstance(output, list | tuple) else [tuple(output.shape)]
    shape = ", ".join("(" + ", ".join("None" if d is None else str(d) for d in s) + ")" for s in shapes)
    return {
        "part": part,
        "name": layer.name,
        "type": type(layer).__name__,
        "output_shape": shape,
        "params": int(layer.count_params()),
    }


def format_table(table: dict[str, Any]) -> str:
    """Render :func:`parameter_table` as a plain-text table, one section per part."""
    lines = []
    config = table["config"]
    extra = f", extra Dense {config['extra_dense']}" if config["extra_dense"] else ""
    lines.append(
        f"{config['model'].upper()} {config['image_size']}x{config['image_size']}x{config['channels']}, "
        f"z_dim {config['z_dim']}, filters {tuple(config['filters'])}{extra}"
        + (", batch norm" if config["batch_norm"] else "")
    )
    for part in ("encoder", "decoder"):
        lines.append("")
        lines.append(f"{part.capitalize():<20} {'type':<20} {'output shape':<28} {'params':>12}")
        lines.append("-" * 83)
        for row in table["layers"]:
            if row["part"] == part:
                lines.append(f"{row['name']:<20} {row['type']:<20} {row['output_shape']:<28} {row['params']:>12,}")
        lines.append(f"{part + ' total':<70} {table[part]:>12,}")
    lines.append("")
    lines.append(f"{'total':<70} {table['total']:>12,}")
    if table["trainable"] != table["total"]:
        lines.append(f"{'trainable':<70} {table['trainable']:>12,}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the parameter table (or one JSON object with ``--json``)."""
    table = parameter_table(
        {
            "model": args.model,
            "image_size": args.image_size,
            "channels": args.channels,
            "z_dim": args.z_dim,
            "extra_dense": args.extra_dense,
            "batch_norm": args.batch_norm,
        }
    )
    print(json.dumps(table) if args.json else format_table(table))
    return 0
