"""Encoding streamed into ``zpoints.npy``: images/s and peak memory against the number of images.

Each count runs ``models.encode.encode_run`` in a fresh process (peak RSS is a
per-process high-water mark) on a run whose encoder has the seed architecture
(z_dim 256, 64x64 unless ``--image-size`` says otherwise; untrained weights:
speed and memory do not depend on them).
The images stream from a source that cycles through 1,024 rendered faces, so
200k images need neither 200k renders nor a 2.5 GB cache. Beside each figure:
the memory that holding every image and z-point at once would take (computed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

Z_DIM, POOL = 256, 1024


class CyclingSource:
    """``count`` images streamed batch by batch from a pool of rendered faces (only ``batches`` is used)."""

    def __init__(self, count: int, image_size: int):
        import pandas as pd

        from models.data import faces

        self.spec, self.image_size, self.skipped = f"bench-stream:{count}", image_size, 0
        self.pool = faces.render_faces(0, np.arange(POOL), image_size)
        rows = np.arange(count)
        self.metadata = pd.DataFrame({"row": rows, "id": rows.astype(str), "source": "bench", "split": "train"})

    def __len__(self) -> int:
        return len(self.metadata)

    def batches(self, batch_size: int):
        for start in range(0, len(self), batch_size):
            picks = np.arange(start, min(len(self), start + batch_size)) % POOL
            yield self.pool[picks]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def encode_once(count: int, model: str, batch_size: int, size: int) -> dict:
    """In this process: make a run, encode ``count`` streamed images, return images/s and memory figures."""
    from models.architecture import build_encoder
    from models.checkpoints import save_model_atomically
    from models.config import make_config
    from models.encode import encode_run
    from rundir.atomic import atomic_write_json

    with tempfile.TemporaryDirectory(prefix="zspace-bench-encode-") as folder:
        run = Path(folder)
        config = {**make_config(model=model, image_size=size, z_dim=Z_DIM), "schema_version": 1, "data": "bench"}
        atomic_write_json(run / "config.json", config)
        atomic_write_json(run / "status.json", {"state": "complete"})
        save_model_atomically(build_encoder(config), run / "encoder.keras")
        source = CyclingSource(count, size)
        encode_run(run, CyclingSource(min(count, 2 * batch_size), size), batch_size)  # warm-up: graph tracing
        before, peak_before = _rss_mb(), _peak_rss_mb()
        status = encode_run(run, source, batch_size)
        written = (run / "zpoints.npy").stat().st_size
    return {
        "count": count,
        "model": model,
        "image_size": size,
        "batch_size": batch_size,
        "images_per_s": status["encode_images_per_sec"],
        "rss_before_mb": round(before, 1),
        "peak_rss_before_mb": round(peak_before, 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "zpoints_mb": round(written / 2**20, 1),
        "all_in_memory_mb": round(count * (size * size * 3 + Z_DIM * 4 * (2 if model == "vae" else 1)) / 2**20, 1),
    }


def bench_encode(counts: list[int], size: int = 64, model: str = "vae", batch_size: int = 256) -> list[dict]:
    """Run :func:`encode_once` for each count in its own process; print and return the rows."""
    rows = []
    print(f"encode streamed into zpoints.npy ({model.upper()}, {size}x{size}, z_dim {Z_DIM}, batch {batch_size}):")
    for count in counts:
        child = [sys.executable, "-m", "tools.bench.encode", "--child", str(count), "--model", model]
        child += ["--batch-size", str(batch_size), "--image-size", str(size)]
        done = subprocess.run(child, capture_output=True, text=True, check=True, env=os.environ)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(row)
        grown = row["peak_rss_mb"] - row["peak_rss_before_mb"]
        print(
            f"  {count:>8,} images: {row['images_per_s']:>7,.0f} images/s; peak RSS {row['peak_rss_mb']:,.0f} MB "
            f"(+{grown:,.0f} MB while encoding; RSS before {row['rss_before_mb']:,.0f} MB); zpoints.npy "
            f"{row['zpoints_mb']:,.0f} MB; all images and z in memory would take {row['all_in_memory_mb']:,.0f} MB",
            flush=True,
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.bench.encode [--counts 20000,200000]``; ``--child N`` is the per-count worker."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="20000,50000,200000")
    parser.add_argument("--model", choices=("ae", "vae"), default="vae")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(encode_once(args.child, args.model, args.batch_size, args.image_size)), flush=True)
        return 0
    bench_encode([int(count) for count in args.counts.split(",")], args.image_size, args.model, args.batch_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
