"""Training images/s by input pipeline, measured in one run: in-memory tensors vs the decoded cache vs cold JPEGs.

(a) the images as float32 tensors in memory (``Dataset.from_tensor_slices``,
shuffled, batched): the baseline, nothing to read or decode; (b) a
CelebA-layout JPEG folder through the decoded uint8 cache and
``make_training_dataset`` (the pipeline ``zspace train`` uses), cache already
built; (c) the same folder cold: an empty cache, so the first epoch also
decodes every JPEG. Same model, seed, images and batch for all three; the
first epoch of each pays for graph tracing, so the steady figure is the mean
of the later epochs. The goal: (b) / (a) >= 0.9 after the first epoch.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def _fit_epoch_seconds(dataset, steps: int, epochs: int, config: dict) -> list[float]:
    """Train a fresh model for ``epochs`` epochs of ``steps`` batches; return each epoch's seconds."""
    import keras

    from models.training_loop import new_model

    seconds: list[float] = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.started)

    model = new_model(config)
    model.fit(dataset, epochs=epochs, steps_per_epoch=steps, shuffle=False, callbacks=[EpochTimer()], verbose=0)
    return seconds


def bench_input(count: int, size: int = 64, batch_size: int = 64, epochs: int = 3, z_dim: int = 256) -> dict:
    """Measure (a), (b) and (c) on ``count`` fake CelebA images; print and return the figures."""
    from models.config import make_config
    from models.data import make_training_dataset, open_source
    from models.runtime import start_tensorflow
    from tools.fake_celeba import make_fake_celeba

    tf = start_tensorflow()
    config = {**make_config(model="vae", image_size=size, z_dim=z_dim), "seed": 0, "learning_rate": 1e-3}
    steps = -(-count // batch_size)
    with tempfile.TemporaryDirectory(prefix="zspace-bench-input-") as folder:
        root = make_fake_celeba(Path(folder) / "celeba", n=count)
        spec = f"celeba:{root}"

        # (c) cold: an empty cache, so opening the source decodes every JPEG before the first step.
        started = time.perf_counter()
        source = open_source(spec, size, cache_dir=Path(folder) / "cache")
        decode_s = time.perf_counter() - started
        cold = _fit_epoch_seconds(make_training_dataset(source, batch_size, 0, 0, 1), steps, 1, config)

        # (b) the decoded cache, as `zspace train` reads it (the entry written above).
        source = open_source(spec, size, cache_dir=Path(folder) / "cache")
        cached = _fit_epoch_seconds(make_training_dataset(source, batch_size, 0, 0, epochs), steps, epochs, config)

        # (a) in-memory float32 tensors: the same images, no reading, no conversion.
        tensors = tf.constant(np.asarray(source.images(), dtype=np.float32) / 255.0)
        memory = (
            tf.data.Dataset.from_tensor_slices(tensors)
            .shuffle(count, seed=0)
            .batch(batch_size)
            .repeat()
            .prefetch(tf.data.AUTOTUNE)
        )
        in_memory = _fit_epoch_seconds(memory, steps, epochs, config)

    def rate(seconds: list[float]) -> float:
        return count / float(np.mean(seconds))

    figures = {
        "count": count,
        "size": size,
        "batch_size": batch_size,
        "epochs": epochs,
        "a_memory_first": count / in_memory[0],
        "a_memory": rate(in_memory[1:]),
        "b_cache_first": count / cached[0],
        "b_cache": rate(cached[1:]),
        "c_cold_first": count / (decode_s + cold[0]),
        "c_decode_s": decode_s,
    }
    figures["b_ratio"] = figures["b_cache"] / figures["a_memory"]
    figures["b_first_ratio"] = figures["b_cache_first"] / figures["a_memory_first"]
    figures["c_first_ratio"] = figures["c_cold_first"] / figures["a_memory_first"]
    print(
        f"training input, VAE {size}x{size} z_dim {z_dim}, {count:,} CelebA-layout JPEGs, batch {batch_size}, "
        f"mean of epochs 2-{epochs}:\n"
        f"  (a) in-memory tensors        {figures['a_memory']:>7,.0f} images/s (first epoch "
        f"{figures['a_memory_first']:,.0f})\n"
        f"  (b) folder via decoded cache {figures['b_cache']:>7,.0f} images/s = {figures['b_ratio']:.2f} x (a) "
        f"(first epoch {figures['b_cache_first']:,.0f} = {figures['b_first_ratio']:.2f} x)\n"
        f"  (c) cold JPEG folder         {figures['c_cold_first']:>7,.0f} images/s over its first epoch, "
        f"decode {decode_s:.1f} s included = {figures['c_first_ratio']:.2f} x (a)'s first epoch",
        flush=True,
    )
    return figures


def main(args: argparse.Namespace) -> int:
    """Run the input-pipeline figures (``args.quick``: 512 images and 2 epochs, else 2,048 and 3)."""
    quick = bool(getattr(args, "quick", False))
    bench_input(512 if quick else 2048, epochs=2 if quick else 3)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    raise SystemExit(main(parser.parse_args()))
