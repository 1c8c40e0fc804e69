"""``zspace encode``: encode a data source with a run's encoder into z-points and a metadata table.

Writes ``zpoints.npy`` (float32 N x z_dim; z = mu for a VAE), ``zlogvar.npy``
(VAE only) and ``metadata.parquet`` atomically, and moves the run's status
``encoding`` -> ``complete``. Used by ``train`` after training and on its own
to re-encode another image set into the same layout.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

import rundir
from rundir.atomic import atomic_save_npy, atomic_write_parquet
from rundir.errors import ZspaceError

#: Images per encoder call: large enough to keep the CPU busy, small enough for little memory.
DEFAULT_BATCH = 256


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``zspace encode``."""
    parser.add_argument("run", help="run directory, e.g. data/runs/demo-vae")
    parser.add_argument(
        "--data", default=None, help="data source (synthetic[:N], celeba:PATH, folder:PATH); default: the run's own"
    )
    parser.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH, help=f"images per batch (default {DEFAULT_BATCH})"
    )


def check_source_fits(config: dict, source) -> None:
    """Raise :class:`ZspaceError` if the source's images do not fit the run's encoder."""
    if int(source.image_size) != int(config["image_size"]):
        raise ZspaceError(
            f"the data source gives {source.image_size}x{source.image_size} images but the run's model "
            f"expects {config['image_size']}x{config['image_size']}; open the source with image_size={config['image_size']}"
        )
    if int(config["channels"]) != 3:
        raise ZspaceError(f"the run's model expects {config['channels']} channels but data sources give RGB images")
    if len(source) < 1:
        raise ZspaceError("the data source holds no usable images")


def encode_images(encoder, images: np.ndarray, variational: bool, batch_size: int = DEFAULT_BATCH, progress=None):
    """Encode uint8 images (N, S, S, 3) in batches; return ``(z, logvar or None)`` as float32 arrays.

    ``progress(done, total)`` is called after each batch, if given.
    """
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def encode_batch(batch):
        return encoder(tf.cast(batch, tf.float32) / 255.0, training=False)

    n = len(images)
    z_dim = int(encoder.outputs[0].shape[-1])
    z = np.empty((n, z_dim), np.float32)
    logvar = np.empty((n, z_dim), np.float32) if variational else None
    for start in range(0, n, batch_size):
        stop = min(n, start + batch_size)
        out = encode_batch(np.asarray(images[start:stop]))
        if variational:
            z[start:stop], logvar[start:stop] = out[0].numpy(), out[1].numpy()
        else:
            z[start:stop] = out.numpy()
        if progress is not None:
            progress(stop, n)
    return z, logvar


def encode_run(run: str | os.PathLike, source, batch_size: int = DEFAULT_BATCH) -> dict:
    """Encode ``source`` with the run's encoder and write z-points, log-variances and metadata.

    The caller must hold the run's lock. Returns the final status dict.
    """
    from models.io import load_encoder

    run = Path(run)
    config = rundir.read_config(run)
    check_source_fits(config, source)
    encoder = load_encoder(run)
    variational = config["model"] == "vae"
    rundir.update_status(run, state="encoding", message=f"encoding {len(source):,} images")
    last = [0.0]

    def progress(done: int, total: int) -> None:
        # Status is rewritten at most twice a second: readers poll it, disks should not churn.
        if time.monotonic() - last[0] > 0.5 or done == total:
            last[0] = time.monotonic()
            rundir.update_status(run, message=f"encoding {done:,} / {total:,} images")

    started = time.perf_counter()
    z, logvar = encode_images(encoder, source.images(), variational, batch_size, progress)
    seconds = time.perf_counter() - started
    if not np.isfinite(z).all():
        raise ZspaceError("the encoder produced NaN or inf z-points; the model diverged — retrain with a lower --lr")
    metadata = source.metadata.reset_index(drop=True)
    if len(metadata) != len(z):
        raise ZspaceError(f"the data source's metadata has {len(metadata)} rows for {len(z)} images")
    # Write metadata and log-variances first: zpoints.npy last means a reader that sees it sees all.
    atomic_write_parquet(run / rundir.METADATA, metadata)
    if variational:
        atomic_save_npy(run / rundir.ZLOGVAR, logvar)
    elif (run / rundir.ZLOGVAR).exists():
        (run / rundir.ZLOGVAR).unlink()
    atomic_save_npy(run / rundir.ZPOINTS, z)
    return rundir.update_status(
        run,
        state="complete",
        message=f"encoded {len(z):,} images in {seconds:.1f} s",
        n_points=len(z),
        encode_images_per_sec=round(len(z) / max(seconds, 1e-9), 1),
    )


def run(args: argparse.Namespace) -> int:
    """Re-encode a run (with its own data source or ``--data``) under the run's lock."""
    from models.data import open_source

    run_dir = Path(args.run)
    if not run_dir.is_dir():
        raise ZspaceError(f"run directory {run_dir} does not exist")
    config = rundir.read_config(run_dir)
    if args.batch_size < 1:
        raise ZspaceError(f"--batch-size must be >= 1, got {args.batch_size}")
    spec = args.data or config.get("data")
    if not spec:
        raise ZspaceError("the run's config names no data source; pass --data SOURCE")
    source = open_source(spec, image_size=int(config["image_size"]), seed=int(config.get("seed", 0) or 0))
    check_source_fits(config, source)
    with rundir.run_lock(run_dir):
        previous = rundir.read_status(run_dir)
        try:
            status = encode_run(run_dir, source, args.batch_size)
        except BaseException as exc:
            # Keep the training result visible: a failed re-encode is reported, not hidden.
            rundir.update_status(
                run_dir, state="failed" if not isinstance(exc, KeyboardInterrupt) else "interrupted", message=str(exc)
            )
            raise
    skipped = source.skip_summary()
    if skipped:
        print(skipped)
    print(f"encoded {status['n_points']:,} images into {run_dir} (was {previous.get('state', 'created')})")
    return 0
