"""``zspace encode``: encode a data source with a run's encoder into z-points and a metadata table.

Writes ``zpoints.npy`` (float32 N x z_dim; z = mu for a VAE), ``zlogvar.npy``
(VAE only) and ``metadata.parquet`` atomically, and moves the run's status
``encoding`` -> ``complete``. Used by ``train`` after training, by ``import``
after checking the user's models, and on its own to re-encode another image
set into the same layout. The encoder comes from :mod:`models.codecs`, so a
trained run's ``.keras`` and an imported Keras, SavedModel or ONNX encoder
encode alike; the metadata's ``split`` says what the run's training did with
each row (:mod:`models.splits`).
"""

from __future__ import annotations

import argparse
import contextlib
import mmap
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap

import rundir
from models.config import training_source
from models.pause import pause_point
from rundir.atomic import atomic_path, atomic_write_json, atomic_write_parquet, remove_stale_temporaries
from rundir.errors import ZspaceError

#: Images per encoder call: large enough to keep the CPU busy, small enough for little memory.
DEFAULT_BATCH = 256

#: Bytes of z-points written between releases of their pages from memory (see ``_release_written_pages``).
RELEASE_BYTES = 32 * 2**20


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``zspace encode``."""
    parser.add_argument("run", help="run directory, e.g. data/runs/demo-vae")
    parser.add_argument(
        "--data",
        default=None,
        help="data source (synthetic[:N], celeba:PATH, folder:PATH); default: the one it was last encoded from. "
        "The run's config then names it, so the dashboard shows its images",
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


def _finite_codes(encoder, images, with_logvar: bool):
    # One batch's z (and log-variance), refused when the encoder diverged.
    z, logvar = encoder(np.asarray(images))
    logvar = logvar if with_logvar else None
    if not np.isfinite(z).all() or (logvar is not None and not np.isfinite(logvar).all()):
        raise ZspaceError("the encoder produced NaN or inf z-points; the model diverged — retrain with a lower --lr")
    return z, logvar


def encode_batches(encoder, batches: Iterable[np.ndarray], z_out, logvar_out=None, progress=None) -> int:
    """Encode uint8 image batches ``(B, S, S, 3)`` into the rows of ``z_out`` (and ``logvar_out`` for a VAE).

    ``encoder(images)`` returns ``(z, logvar or None)`` as numpy arrays
    (:class:`models.codecs.EncoderFunction`).

    The outputs may be memory-mapped ``.npy`` files: only one batch of images
    and of z-points is held in memory at a time. ``progress(done, total)`` is
    called after each batch, if given.

    Returns
    -------
    int
        Rows written.

    Raises
    ------
    ZspaceError
        If the encoder produces NaN or inf (checked batch by batch), or the batches hold more rows than ``z_out``.
    """
    total, done, unreleased = len(z_out), 0, 0
    for images in batches:
        stop = done + len(images)
        if stop > total:
            raise ZspaceError(f"the data source gave more than the {total:,} images it announced")
        z, logvar = _finite_codes(encoder, images, logvar_out is not None)
        z_out[done:stop] = z
        if logvar_out is not None:
            logvar_out[done:stop] = logvar
        if done < total / 2 <= stop:
            pause_point("encode:half")
        unreleased += z.nbytes * (2 if logvar_out is not None else 1)
        if unreleased >= RELEASE_BYTES:
            unreleased = 0
            for out in (z_out, logvar_out):
                _release_written_pages(out)
        done = stop
        if progress is not None:
            progress(done, total)
    return done


def _release_written_pages(array) -> None:
    """Unmap the pages of a memory-mapped output from this process; the data stays in the file.

    Written pages of a shared file mapping stay resident in the writer, so the
    process would grow by the whole ``zpoints.npy`` (200 MB per 200k z-points of
    z_dim 256). ``MADV_DONTNEED`` drops them from this process only: the kernel
    keeps them in its page cache and writes them to the file.
    """
    if isinstance(array, np.memmap) and isinstance(array.base, mmap.mmap):
        array.base.madvise(mmap.MADV_DONTNEED)


@contextlib.contextmanager
def _streamed_npy(final: Path | None, rows: int, z_dim: int) -> Iterator[np.ndarray | None]:
    """A float32 ``(rows, z_dim)`` ``.npy`` memory map under a ``.tmp-`` name next to ``final``, renamed on success."""
    if final is None:
        yield None
        return
    with atomic_path(final) as tmp:
        array = open_memmap(tmp, mode="w+", dtype=np.float32, shape=(rows, z_dim))
        yield array
        array.flush()


def encode_run(run: str | os.PathLike, source, batch_size: int = DEFAULT_BATCH, encoder=None) -> dict:
    """Encode ``source`` with the run's encoder and write z-points, log-variances and metadata.

    The z-points stream batch by batch into temporary ``.npy`` files that are
    renamed into place at the end, so memory stays bounded by one batch
    whatever the number of images. The config's ``data`` then names
    ``source`` (the dashboard shows its originals); ``train_data`` keeps the
    training source. ``encoder`` (a :class:`models.codecs.EncoderFunction`)
    defaults to the run's own. The caller must hold the run's lock. Returns the final status dict.
    """
    from models.codecs import load_encoder_function, output_indices
    from models.splits import encoded_splits

    run = Path(run)
    config = rundir.read_config(run)
    check_source_fits(config, source)
    metadata = source.metadata.reset_index(drop=True)
    if len(metadata) != len(source):
        raise ZspaceError(f"the data source's metadata has {len(metadata)} rows for {len(source)} images")
    metadata = metadata.assign(split=encoded_splits(run, config, source))
    encoder = encoder or load_encoder_function(run)
    variational = output_indices(config)[1] is not None
    n, z_dim = len(source), int(config["z_dim"])
    rundir.update_status(run, state="encoding", message=f"encoding {n:,} images")
    last = [0.0]

    def progress(done: int, total: int) -> None:
        # Status is rewritten at most twice a second: readers poll it, disks should not churn.
        if time.monotonic() - last[0] > 0.5 or done == total:
            last[0] = time.monotonic()
            rundir.update_status(run, message=f"encoding {done:,} / {total:,} images")

    started = time.perf_counter()
    # Renames on leaving the blocks: metadata, then zlogvar, then zpoints last, so a reader that sees
    # the new zpoints.npy sees everything that belongs to it.
    with (
        _streamed_npy(run / rundir.ZPOINTS, n, z_dim) as z_out,
        _streamed_npy(run / rundir.ZLOGVAR if variational else None, n, z_dim) as logvar_out,
    ):
        written = encode_batches(encoder, source.batches(batch_size), z_out, logvar_out, progress)
        if written != n:
            raise ZspaceError(f"the data source gave {written:,} of the {n:,} images it announced")
        atomic_write_parquet(run / rundir.METADATA, metadata)
    seconds = time.perf_counter() - started
    if not variational:
        (run / rundir.ZLOGVAR).unlink(missing_ok=True)
    rundir.record_zpoints_digest(run)  # the content digest beside the file: a copied run keeps its analyses
    record_encoded_source(run, source.spec)
    return rundir.update_status(
        run,
        state="complete",
        message=f"encoded {n:,} images in {seconds:.1f} s",
        n_points=n,
        encode_images_per_sec=round(n / max(seconds, 1e-9), 1),
    )


def record_encoded_source(run: str | os.PathLike, spec: str) -> None:
    """Make the run's config name ``spec`` as the source of its z-points, keeping the training source apart."""
    config = rundir.read_config(run)
    if config.get("imported"):  # its training data is unknown to zspace: only the encoded source is recorded
        if config.get("data") != spec:
            atomic_write_json(Path(run) / rundir.CONFIG, {**config, "data": spec})
        return
    if config.get("data") == spec and config.get("train_data"):
        return
    updated = {**config, "train_data": training_source(config), "data": spec}
    atomic_write_json(Path(run) / rundir.CONFIG, updated)


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
        remove_stale_temporaries(run_dir)  # a killed encode's half-written .npy files
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
