"""How a run trains: the ``tf.distribute`` strategy, mixed precision, XLA, and where each worker writes.

``--strategy``:

* ``one`` — TensorFlow's default strategy: one device (the first GPU, else the CPU).
* ``mirrored`` — ``MirroredStrategy`` over every GPU of this host (or, with
  ``--cpu-devices N``, over N logical CPU devices, which is how the tests run it).
* ``multiworker`` — ``MultiWorkerMirroredStrategy`` over several hosts, configured by
  ``TF_CONFIG``; only the chief writes the run directory.
* ``auto`` — ``mirrored`` when this host has more than one GPU, else ``one``.

``--batch-size`` is always the *global* batch: ``tf.distribute`` splits each
batch between the replicas, so a run trains the same way on 1 or 8 devices.

Non-chief workers run the same code (saving a model may need every worker's
cooperation) but write into a temporary folder outside the run directory,
which they delete at the end: TensorFlow's documented ``write_dirpath``
pattern, with the temporary folder moved out of the shared run directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rundir.errors import ZspaceError

STRATEGIES = ("auto", "one", "mirrored", "multiworker")

#: Prefix of a non-chief worker's temporary write folder (TensorFlow names its own ``workertemp_N``).
WORKER_TEMP_PREFIX = "zspace-workertemp_"


@dataclass(frozen=True)
class WorkerRole:
    """This process's place in a multi-worker cluster (a single process is its own chief)."""

    task_type: str = "worker"
    task_index: int = 0
    workers: int = 1
    cluster_has_chief: bool = False

    @property
    def is_chief(self) -> bool:
        """The chief writes the run directory: task ``chief``, or worker 0 when the cluster names no chief."""
        if self.task_type == "chief":
            return True
        return self.task_type == "worker" and self.task_index == 0 and not self.cluster_has_chief


def worker_role(tf_config: str | None) -> WorkerRole:
    """Read this worker's role from the text of ``TF_CONFIG``.

    Parameters
    ----------
    tf_config : str or None
        ``{"cluster": {"worker": ["host1:port", ...]}, "task": {"type": "worker", "index": 0}}``.

    Raises
    ------
    ZspaceError
        If it is missing, not JSON, or names a task that is not in the cluster.
    """
    if not tf_config or not tf_config.strip():
        raise ZspaceError(
            '--strategy multiworker needs TF_CONFIG, e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}'
        )
    try:
        parsed = json.loads(tf_config)
        cluster, task = parsed["cluster"], parsed["task"]
        task_type, task_index = str(task["type"]), int(task["index"])
        members = {str(kind): list(hosts) for kind, hosts in cluster.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ZspaceError(
            "TF_CONFIG is not valid: it needs a 'cluster' of host lists and a 'task' with type and index"
        ) from None
    if task_type not in ("chief", "worker"):
        raise ZspaceError(f"TF_CONFIG task type {task_type!r} cannot train; use 'chief' or 'worker'")
    if not 0 <= task_index < len(members.get(task_type, [])):
        raise ZspaceError(f"TF_CONFIG task {task_type} {task_index} is not in its cluster {members}")
    workers = len(members.get("chief", [])) + len(members.get("worker", []))
    return WorkerRole(task_type, task_index, workers, cluster_has_chief=bool(members.get("chief")))


def worker_write_dir(out: str | os.PathLike, role: WorkerRole) -> Path:
    """The folder this worker writes its run files to: the run directory for the chief, else a fresh temporary one.

    The temporary folder lives in the system's temporary directory, never
    inside ``out``, so a non-chief worker leaves no trace in a shared run
    directory even when it is killed. Remove it with :func:`remove_worker_dir`.
    """
    if role.is_chief:
        return Path(out)
    return Path(tempfile.mkdtemp(prefix=f"{WORKER_TEMP_PREFIX}{role.task_index}-"))


def remove_worker_dir(write_dir: Path, out: str | os.PathLike) -> None:
    """Delete a non-chief worker's temporary folder (never the run directory itself)."""
    if Path(write_dir).resolve() != Path(out).resolve() and Path(write_dir).name.startswith(WORKER_TEMP_PREFIX):
        shutil.rmtree(write_dir, ignore_errors=True)


def configure_cpu_devices(tf, count: int | None) -> None:
    """Split the first CPU into ``count`` logical devices (must run before TensorFlow starts its runtime).

    Raises
    ------
    ZspaceError
        If ``count`` < 1, or the runtime already started with another split.
    """
    if count is None:
        return
    if count < 1:
        raise ZspaceError(f"--cpu-devices must be >= 1, got {count}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is not None and len(current) == count:
        return
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError:
        raise ZspaceError(
            f"--cpu-devices {count} must be set before TensorFlow starts; this process already runs "
            f"{len(tf.config.list_logical_devices('CPU'))} CPU device(s)"
        ) from None


def make_strategy(tf, name: str, cpu_devices: int | None = None):
    """Create the strategy ``name`` (one of :data:`STRATEGIES`); return ``(strategy, resolved name)``.

    ``multiworker`` must be created before any other TensorFlow operation runs.
    """
    if name not in STRATEGIES:
        raise ZspaceError(f"unknown strategy {name!r}; use one of {', '.join(STRATEGIES)}")
    configure_cpu_devices(tf, cpu_devices)
    # Physical devices only until the strategy exists: listing logical ones starts the runtime, after
    # which MultiWorkerMirroredStrategy can no longer configure its collective ops.
    if name == "auto":
        name = "mirrored" if len(tf.config.list_physical_devices("GPU")) > 1 else "one"
    if name == "one":
        return tf.distribute.get_strategy(), name
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy(), name
    gpus = tf.config.list_logical_devices("GPU")
    devices = [device.name for device in gpus] or [device.name for device in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(devices), name


def has_gpu(tf) -> bool:
    """True if TensorFlow sees at least one GPU."""
    return bool(tf.config.list_physical_devices("GPU"))


def resolve_precision(mixed_precision: bool | None, jit: bool | None, gpu: bool, replicas: int) -> tuple[bool, bool]:
    """Decide mixed precision and XLA: each on by default only on a GPU (XLA only with one replica).

    Raises
    ------
    ZspaceError
        For ``--jit`` with more than one replica: Keras' XLA-compiled step reads
        variables of other devices under ``tf.distribute`` and fails.
    """
    mixed = gpu if mixed_precision is None else bool(mixed_precision)
    if jit and replicas > 1:
        raise ZspaceError(f"--jit works with one replica only (this strategy has {replicas}); use --no-jit")
    return mixed, (gpu and replicas == 1) if jit is None else bool(jit)


@contextlib.contextmanager
def precision_policy(mixed: bool) -> Iterator[None]:
    """Build and train under ``mixed_float16`` (or ``float32``), restoring the previous global policy after."""
    from models.runtime import start_tensorflow

    start_tensorflow()
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
