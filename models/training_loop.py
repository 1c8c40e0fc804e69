"""The Keras ``fit`` loop of a run: progress in ``status.json``, a checkpoint and history row per epoch.

Kept apart from the command line (``models.train``) so tests and the demo
can train a source object in-process. The model is built (or loaded) inside
the run's ``tf.distribute`` strategy scope and precision policy
(:mod:`models.distribute`); ``--batch-size`` is the global batch.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from models.runtime import start_tensorflow

start_tensorflow()

import keras  # noqa: E402 - after TensorFlow started with its C++ start-up logs filtered

import rundir  # noqa: E402
from models import checkpoints  # noqa: E402
from models.distribute import precision_policy  # noqa: E402
from models.pause import pause_point, pause_wanted  # noqa: E402

#: Seconds between status.json rewrites during an epoch (the dashboard polls it).
STATUS_INTERVAL = 1.0


class RunRecorder(keras.callbacks.Callback):
    """Writes progress to ``status.json`` and, after each epoch, a checkpoint, ``history.csv`` and ``latest.json``."""

    def __init__(self, run: Path, epochs: int, steps: int, batch_size: int, n_images: int, history: list[dict]):
        super().__init__()
        self.run, self.epochs, self.steps = run, epochs, steps
        self.batch_size, self.n_images = batch_size, n_images
        self.history_rows = history
        self.epoch_started = self.last_status = 0.0
        self.epoch = 0
        self.trained_seconds: list[tuple[int, float]] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1
        self.epoch_started = time.perf_counter()
        rundir.update_status(
            self.run, state="training", epoch=epoch + 1, epochs=self.epochs, step=0, steps=self.steps,
            message=f"epoch {epoch + 1}/{self.epochs}",
        )  # fmt: skip

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        pausing = pause_wanted(f"train-step:{self.epoch}:{batch + 1}")
        if pausing or now - self.last_status >= STATUS_INTERVAL:
            self.last_status = now
            seen = min(self.n_images, (batch + 1) * self.batch_size)
            rundir.update_status(
                self.run, step=batch + 1, steps=self.steps,
                images_per_sec=round(seen / max(now - self.epoch_started, 1e-9), 1),
                loss=_number((logs or {}).get("loss")),
            )  # fmt: skip
        if pausing:
            pause_point(f"train-step:{self.epoch}:{batch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.epoch_started
        ips = self.n_images / max(seconds, 1e-9)
        self.trained_seconds.append((epoch + 1, seconds))
        row = {"epoch": epoch + 1, **{k: _number(v) for k, v in (logs or {}).items()}}
        row.update(seconds=round(seconds, 3), images_per_sec=round(ips, 1))
        self.history_rows[:] = [r for r in self.history_rows if r["epoch"] < epoch + 1] + [row]
        checkpoints.write_checkpoint(self.run, self.model, epoch + 1, self.history_rows)
        rundir.update_status(
            self.run, epoch=epoch + 1, epochs_finished=epoch + 1, step=self.steps, steps=self.steps,
            images_per_sec=round(ips, 1), message=f"finished epoch {epoch + 1}/{self.epochs}",
        )  # fmt: skip

    def throughput(self) -> float | None:
        """Images/s of this process's epochs, leaving out the first when there are more (graph tracing)."""
        timed = self.trained_seconds[1:] if len(self.trained_seconds) > 1 else self.trained_seconds
        if not timed:
            return None
        return len(timed) * self.n_images / max(sum(seconds for _, seconds in timed), 1e-9)


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def new_model(config: dict[str, Any]):
    """Build and compile a fresh model for ``config`` (inside the caller's strategy scope and precision policy)."""
    from models.architecture import build_model

    keras.utils.set_random_seed(int(config["seed"]))
    model = build_model(config, seed=int(config["seed"]))
    # Under mixed_float16, compile wraps Adam in a LossScaleOptimizer (Keras' auto_scale_loss).
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=float(config["learning_rate"])),
        jit_compile=bool(config.get("jit", False)),
    )
    return model


def fit_run(
    run: str | os.PathLike,
    config: dict[str, Any],
    source,
    resume: bool = False,
    strategy=None,
    resume_from: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Train (or continue) the run's model and save ``model.keras``, ``encoder.keras``, ``decoder.keras``.

    Parameters
    ----------
    run : path-like
        Where this process writes: the run directory, or a non-chief worker's temporary folder.
    config : dict
        The run's config, including ``mixed_precision`` and ``jit``.
    source : ImageSource
        The training images; training learns from its ``train`` split (:func:`models.splits.training_rows`).
    resume : bool
        Continue from the newest checkpoint.
    strategy : tf.distribute.Strategy, optional
        Default: TensorFlow's current (default) strategy.
    resume_from : path-like, optional
        The run directory whose checkpoint a resume loads, when it is not ``run``
        (non-chief workers read the chief's; it must be on storage every host sees).

    Returns
    -------
    dict
        ``epochs_finished`` and ``images_per_sec`` (``None`` if no epoch ran in this call).
    """
    import tensorflow as tf

    from models.architecture import float32_parts
    from models.data import make_training_dataset
    from models.io import load_model_file
    from models.splits import training_rows

    run = Path(run)
    train_rows = training_rows(source)
    strategy = strategy or tf.distribute.get_strategy()
    latest = checkpoints.read_latest(resume_from or run) if resume else None
    with precision_policy(bool(config.get("mixed_precision", False))), strategy.scope():
        if latest:
            model = load_model_file(latest["path"], config, compile=True)
            model.optimizer.learning_rate.assign(float(config["learning_rate"]))
            model.jit_compile = bool(config.get("jit", False))
            initial_epoch = int(latest["epoch"])
        else:
            model = new_model(config)
            initial_epoch = 0
    history = checkpoints.read_history(run, up_to_epoch=initial_epoch)
    epochs, batch_size = int(config["epochs"]), int(config["batch_size"])
    steps = -(-len(train_rows) // batch_size)
    recorder = RunRecorder(run, epochs, steps, batch_size, len(train_rows), history)
    rundir.write_status(
        run, "training", epoch=initial_epoch, epochs=epochs, epochs_finished=initial_epoch, step=0, steps=steps,
        message="resuming" if latest else "starting",
    )  # fmt: skip
    if initial_epoch < epochs:
        callbacks = [recorder, keras.callbacks.TensorBoard(str(run / rundir.TENSORBOARD), write_graph=False)]
        writes_run = resume_from is None or Path(resume_from).resolve() == run.resolve()
        if config.get("snapshot_every") and writes_run:
            from models.snapshots import SnapshotRecorder, prepare_rows

            rows = prepare_rows(run, config, len(source), initial_epoch)
            # Before the recorder: a snapshot lands before the checkpoint of its epoch.
            callbacks.insert(0, SnapshotRecorder(run, source, rows, config["snapshot_every"], epochs))
        dataset = make_training_dataset(source, batch_size, int(config["seed"]), initial_epoch, epochs, train_rows)
        # Every worker builds the same seeded pipeline and keeps its share of each global batch.
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        model.fit(
            dataset.with_options(options),
            epochs=epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps,  # one iterator over all remaining epochs, each in its own seeded order
            shuffle=False,  # the dataset orders itself; Keras would only warn
            callbacks=callbacks,
            verbose=1 if sys.stdout.isatty() else 2,
        )
    rundir.update_status(run, message="saving models")
    checkpoints.save_model_atomically(model, run / rundir.MODEL)
    encoder, decoder = float32_parts(model)
    checkpoints.save_model_atomically(encoder, run / rundir.ENCODER)
    checkpoints.save_model_atomically(decoder, run / rundir.DECODER)
    ips = recorder.throughput()
    fields = {"train_images_per_sec": round(ips, 1)} if ips else {}
    rundir.update_status(
        run, epochs_finished=max(initial_epoch, len(recorder.trained_seconds) + initial_epoch), **fields
    )
    return {"epochs_finished": initial_epoch + len(recorder.trained_seconds), "images_per_sec": ips}
