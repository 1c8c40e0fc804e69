"""Training throughput (images/s) of the seed's AE and VAE, on whatever backend Keras runs.

This is how the README's "expected time on a GPU" was measured: the model
code is backend-agnostic, so the same measurement runs on TensorFlow here and
on JAX on a GPU machine that has no TensorFlow
(``KERAS_BACKEND=jax python -m tools.throughput --image-size 96``).
Random pixels stand in for faces: throughput does not depend on content.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def measure_training_throughput(
    model_kind: str, image_size: int, z_dim: int = 256, batch_size: int = 128, steps: int = 50, warmup: int = 5
) -> dict:
    """Train for ``steps`` batches after ``warmup`` batches and return images per second.

    Parameters
    ----------
    model_kind : {"ae", "vae"}
    image_size : int
        Side of the square images (a multiple of 16).
    z_dim : int
    batch_size : int
    steps : int
        Timed training steps.
    warmup : int
        Untimed steps first (compilation, autotuning).

    Returns
    -------
    dict
        ``model``, ``image_size``, ``z_dim``, ``batch_size``, ``backend``,
        ``images_per_sec`` and ``seconds_per_epoch_celeba`` (202,599 images).
    """
    from models.runtime import start_tensorflow

    start_tensorflow()  # before Keras imports it: without the C++ start-up log lines (None without TensorFlow)
    import keras

    from models.architecture import build_model
    from models.config import make_config

    config = make_config(model=model_kind, image_size=image_size, z_dim=z_dim)
    model = build_model(config, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    rng = np.random.default_rng(0)
    images = rng.random((batch_size * 4, image_size, image_size, 3), dtype=np.float32)

    def run_steps(count: int) -> None:
        for step in range(count):
            start = (step % 4) * batch_size
            model.train_on_batch(images[start : start + batch_size])

    run_steps(warmup)
    started = time.perf_counter()
    run_steps(steps)
    # train_on_batch returns host values, so the last step has finished when it returns.
    seconds = time.perf_counter() - started
    rate = steps * batch_size / seconds
    return {
        "model": model_kind,
        "image_size": image_size,
        "z_dim": z_dim,
        "batch_size": batch_size,
        "backend": keras.backend.backend(),
        "images_per_sec": round(rate, 1),
        "seconds_per_epoch_celeba": round(202_599 / rate, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Print one JSON line per model kind."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--z-dim", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--models", default="ae,vae")
    args = parser.parse_args(argv)
    for kind in args.models.split(","):
        figures = measure_training_throughput(kind, args.image_size, args.z_dim, args.batch_size, args.steps)
        print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
