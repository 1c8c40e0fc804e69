"""``zspace bench models``: training throughput, decoder latency against ``model.predict``, streamed encoding.

Decoding one z-point is what the dashboard does on every click, so the
figure that matters is the latency of a single call. ``model.predict`` builds
a data pipeline per call; ``predict_on_batch`` and a ``tf.function`` do not.
Each variant is timed in the same process, after a warm-up, on the same model.
Streamed encoding (:mod:`tools.bench.encode`) reports images/s and peak memory
for several image counts, each in its own process.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np


def _median_seconds(call: Callable[[], object], repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def decode_latency(image_size: int = 96, z_dim: int = 256, repeats: int = 20) -> list[dict]:
    """Median latency (ms) of decoding 1 and 64 z-points with each method; ratios vs ``model.predict``."""
    from models.architecture import build_decoder
    from models.config import make_config
    from models.runtime import start_tensorflow

    tf = start_tensorflow()

    decoder = build_decoder(make_config(image_size=image_size, z_dim=z_dim))
    graph = tf.function(lambda z: decoder(z, training=False), reduce_retracing=True)
    rows = []
    for batch in (1, 64):
        z = np.random.default_rng(0).normal(size=(batch, z_dim)).astype(np.float32)
        methods = {
            "model.predict (baseline)": lambda z=z: decoder.predict(z, verbose=0),
            "predict_on_batch": lambda z=z: decoder.predict_on_batch(z),
            "tf.function": lambda z=z: graph(tf.constant(z)).numpy(),
        }
        baseline = None
        for name, call in methods.items():
            seconds = _median_seconds(call, repeats)
            baseline = baseline or seconds
            rows.append(
                {
                    "measure": "decode",
                    "batch": batch,
                    "method": name,
                    "ms": round(seconds * 1e3, 2),
                    "speedup_vs_predict": round(baseline / seconds, 1),
                }
            )
    return rows


def training_throughput(quick: bool) -> list[dict]:
    """Images/s of a few training steps, AE and VAE, z_dim 256, at 64x64 and 96x96."""
    from tools.throughput import measure_training_throughput

    steps, batch = (3, 32) if quick else (15, 64)
    rows = []
    for size in (64, 96):
        for kind in ("ae", "vae"):
            figures = measure_training_throughput(kind, size, 256, batch_size=batch, steps=steps, warmup=2)
            rows.append({"measure": "train", **figures})
    return rows


def main(args: argparse.Namespace) -> int:
    """Print training throughput and decode latency; write them as JSON to ``args.out`` if given."""
    quick = bool(getattr(args, "quick", False))
    results = []
    print("training throughput (z_dim 256; random pixels, the content does not change the cost):", flush=True)
    for row in training_throughput(quick):
        results.append(row)
        print(f"  {row['model'].upper():<4} {row['image_size']}x{row['image_size']} batch {row['batch_size']}: "
              f"{row['images_per_sec']:>8,.0f} images/s ({row['backend']})", flush=True)  # fmt: skip
    print("decoder latency, 96x96, z_dim 256 (median; speed-up vs model.predict in the same process):", flush=True)
    for row in decode_latency(repeats=5 if quick else 30):
        results.append(row)
        print(f"  batch {row['batch']:>2}  {row['method']:<26} {row['ms']:>9.2f} ms  x{row['speedup_vs_predict']}",
              flush=True)  # fmt: skip
    from tools.bench.encode import bench_encode

    # 200k 64x64 images take minutes to encode on 2 cores; the full run streams them at 32x32 instead.
    counts, size = ([5_000, 20_000], 64) if quick else ([20_000, 50_000, 200_000], 32)
    results += [{"measure": "encode", **row} for row in bench_encode(counts, size)]
    out = getattr(args, "out", None)
    if out:
        from rundir.atomic import atomic_write_json

        atomic_write_json(out, {"suite": "models", "quick": quick, "results": results})
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=None)
    raise SystemExit(main(parser.parse_args()))
