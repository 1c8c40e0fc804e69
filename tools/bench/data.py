"""``zspace bench data``: faces generated, files decoded into the cache, batches served, training by input pipeline.

Each figure is printed beside its baseline from the same run (one thread vs the
thread pool; a cold decode vs a cache hit), because the absolute numbers depend
on how busy the machine is. The training-input figures (in-memory tensors vs
the decoded cache vs cold JPEGs) live in :mod:`tools.bench.input`
(``python -m tools.bench.input`` runs them alone).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

from models.data import cache, celeba, faces
from models.data.decode import SkipImage
from models.data.source import _decode_source, open_source
from tools.bench.input import bench_input
from tools.fake_celeba import make_fake_celeba


def _timed(function) -> tuple[float, float]:
    """Run ``function`` once; return (wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def bench_faces(count: int, size: int) -> dict:
    """Synthetic faces per second with the thread pool and with one thread."""
    indices = np.arange(count)
    pool_wall, pool_cpu = _timed(lambda: faces.render_faces(0, indices, size))
    one_wall, _ = _timed(lambda: faces.render_faces(0, indices, size, workers=1))
    print(
        f"synthetic faces {count} at {size}x{size}: {pool_wall:.1f} s wall ({pool_cpu:.1f} s CPU, "
        f"{count / pool_wall:.0f} faces/s) with threads; {one_wall:.1f} s with one thread"
    )
    return {"count": count, "size": size, "wall_s": pool_wall, "cpu_s": pool_cpu, "one_thread_wall_s": one_wall}


def bench_files(count: int, size: int, folder: Path) -> dict:
    """Decode a fake CelebA folder into the cache (threads vs one thread), reopen it, and run one tf.data epoch."""
    root = make_fake_celeba(folder / "celeba", n=count)
    sources = celeba.list_celeba(root)["source"].tolist()
    decode = partial(_decode_source, root=root, size=size, crop=celeba.CROP_FRACTION)

    def build(workers: int, where: str) -> None:
        cache.build_entry(folder / where, "bench", size, sources, decode, SkipImage, workers=workers, progress=False)

    pool_wall, _ = _timed(lambda: build(0, "pool"))
    one_wall, _ = _timed(lambda: build(1, "one"))
    spec = f"celeba:{root}"
    open_source(spec, size, cache_dir=folder / "open")
    hit_wall, _ = _timed(lambda: open_source(spec, size, cache_dir=folder / "open"))
    print(
        f"CelebA-layout JPEGs {count} -> {size}x{size} cache: {count / pool_wall:.0f} images/s with threads, "
        f"{count / one_wall:.0f} images/s with one thread; reopening from the cache {hit_wall * 1000:.0f} ms"
    )
    from models.data import make_dataset

    source = open_source(spec, size, cache_dir=folder / "open")
    dataset = make_dataset(source, 64)
    sum(1 for _ in dataset)  # the first epoch pays for TensorFlow's start-up and graph tracing
    epoch_wall, _ = _timed(lambda: sum(1 for _ in dataset))
    print(f"tf.data epoch from the cache: {count / epoch_wall:.0f} images/s (batch 64, float32)")
    return {
        "count": count,
        "size": size,
        "decode_images_per_s": count / pool_wall,
        "decode_one_thread_images_per_s": count / one_wall,
        "cache_hit_s": hit_wall,
        "dataset_images_per_s": count / epoch_wall,
    }


def main(args: argparse.Namespace) -> int:
    """Run the data benchmarks; ``args.quick`` shrinks them, ``args.out`` also writes JSON."""
    quick = bool(getattr(args, "quick", False))
    results = {"cpus": os.cpu_count(), "faces": bench_faces(2000 if quick else 20000, 64)}
    with tempfile.TemporaryDirectory(prefix="zspace-bench-data-") as folder:
        results["files"] = bench_files(300 if quick else 3000, 64, Path(folder))
    results["input"] = bench_input(512 if quick else 2048, epochs=2 if quick else 3)
    if getattr(args, "out", None):
        from rundir.atomic import atomic_write_json

        atomic_write_json(args.out, {"data": results})
    return 0
