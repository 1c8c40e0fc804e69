"""tf.distribute training: mirrored and multi-worker runs match a one-device run; only the chief writes the run."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rundir
from models.distribute import WorkerRole, remove_worker_dir, resolve_precision, worker_role, worker_write_dir
from rundir.errors import ZspaceError
from zspace import cli

ROOT = Path(__file__).resolve().parents[2]
#: 264 faces, 208 of them in the train split that training learns from, in batches of 32: the last batch (16)
#: is split 8 / 8 between two replicas.
TRAIN = ["--data", "synthetic:264", "--model", "ae", "--image-size", "32", "--z-dim", "8", "--batch-size", "32"]
TWO_WORKERS = {"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 1}}


def _history(run: Path) -> list[float]:
    lines = (run / rundir.HISTORY).read_text().splitlines()
    column = lines[0].split(",").index("loss")
    return [float(line.split(",")[column]) for line in lines[1:]]


def _zspace(*argv: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "zspace", *argv],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("localhost", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@pytest.fixture(scope="module")
def one_device_run(tmp_path_factory):
    """The reference: the same data, seed and global batch on the default (one-device) strategy, in-process."""
    out = tmp_path_factory.mktemp("one") / "run"
    assert cli.main(["train", *TRAIN, "--epochs", "2", "--strategy", "one", "--out", str(out)]) == 0
    return out


def test_the_run_config_records_strategy_and_precision(one_device_run):
    config = rundir.read_config(one_device_run)
    assert (config["strategy"], config["replicas"], config["workers"]) == ("one", 1, 1)
    assert config["mixed_precision"] is False and config["jit"] is False  # no GPU here: both default to off


@pytest.mark.slow
def test_mirrored_on_two_cpu_devices_matches_the_one_device_run(one_device_run, tmp_path):
    out = tmp_path / "mirrored"
    proc = _zspace("train", *TRAIN, "--epochs", "2", "--strategy", "mirrored", "--cpu-devices", "2", "--out", str(out))
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert "on 2 replicas" in stdout
    config = rundir.read_config(out)
    assert (config["strategy"], config["replicas"]) == ("mirrored", 2)
    # Per-replica losses are divided by the replica count and the gradients summed: the same updates as
    # one device. A missing division would double the reported loss and every gradient.
    np.testing.assert_allclose(_history(out), _history(one_device_run), rtol=1e-5)
    np.testing.assert_allclose(
        np.load(out / rundir.ZPOINTS), np.load(one_device_run / rundir.ZPOINTS), rtol=1e-4, atol=1e-4
    )


@pytest.mark.slow
def test_two_local_workers_train_like_one_device_and_only_the_chief_writes(one_device_run, tmp_path):
    out = tmp_path / "shared-run"
    hosts = [f"localhost:{port}" for port in _free_ports(2)]
    workers = []
    for index in (1, 0):
        tf_config = json.dumps({"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}})
        argv = ["train", *TRAIN, "--epochs", "2", "--strategy", "multiworker", "--out", str(out)]
        workers.append(_zspace(*argv, env={"TF_CONFIG": tf_config, "TMPDIR": str(tmp_path)}))
    results = [worker.communicate(timeout=300) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], [err for _, err in results]
    assert "the chief writes the run" in results[0][0]
    assert rundir.inspect_run(out).usable
    config = rundir.read_config(out)
    assert (config["strategy"], config["replicas"], config["workers"]) == ("multiworker", 2, 2)
    np.testing.assert_allclose(_history(out), _history(one_device_run), rtol=1e-5)
    np.testing.assert_allclose(
        np.load(out / rundir.ZPOINTS), np.load(one_device_run / rundir.ZPOINTS), rtol=1e-4, atol=1e-4
    )
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("zspace-workertemp_")], "temp dir removed"


def test_a_worker_that_is_not_the_chief_writes_outside_the_run_directory(tmp_path):
    out = tmp_path / "run"
    role = worker_role(json.dumps(TWO_WORKERS))
    assert (role.task_index, role.workers, role.is_chief) == (1, 2, False)
    write_dir = worker_write_dir(out, role)
    try:
        assert write_dir.is_dir() and out not in write_dir.parents and write_dir != out
        assert not out.exists(), "a non-chief worker never creates (or touches) the run directory"
    finally:
        remove_worker_dir(write_dir, out)
    assert not write_dir.exists()


def test_the_chief_is_worker_0_or_the_task_named_chief(tmp_path):
    out = tmp_path / "run"
    first = worker_role(json.dumps({**TWO_WORKERS, "task": {"type": "worker", "index": 0}}))
    assert first.is_chief and worker_write_dir(out, first) == out
    with_chief = {"cluster": {"chief": ["host0:1"], "worker": ["host1:1"]}, "task": {"type": "worker", "index": 0}}
    assert not worker_role(json.dumps(with_chief)).is_chief
    assert worker_role(json.dumps({**with_chief, "task": {"type": "chief", "index": 0}})).workers == 2
    out.mkdir()
    remove_worker_dir(out, out)
    assert out.is_dir(), "the run directory itself is never removed"


@pytest.mark.parametrize(
    ("tf_config", "message"),
    [
        (None, "needs TF_CONFIG"),
        ("{not json", "TF_CONFIG is not valid"),
        (json.dumps({**TWO_WORKERS, "task": {"type": "worker", "index": 2}}), "is not in its cluster"),
        (json.dumps({**TWO_WORKERS, "task": {"type": "evaluator", "index": 0}}), "cannot train"),
    ],
)
def test_a_bad_tf_config_is_one_line(tf_config, message):
    with pytest.raises(ZspaceError, match=message) as error:
        worker_role(tf_config)
    assert "\n" not in str(error.value)


def test_mixed_precision_and_xla_default_on_only_with_a_gpu():
    assert resolve_precision(None, None, gpu=False, replicas=1) == (False, False)
    assert resolve_precision(None, None, gpu=True, replicas=1) == (True, True)
    assert resolve_precision(None, None, gpu=True, replicas=4) == (True, False), "XLA fails under tf.distribute"
    assert resolve_precision(True, True, gpu=False, replicas=1) == (True, True)
    with pytest.raises(ZspaceError, match="--jit works with one replica only"):
        resolve_precision(None, True, gpu=True, replicas=2)


def test_multiworker_without_tf_config_is_refused_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    out = tmp_path / "run"
    assert cli.main(["train", *TRAIN, "--strategy", "multiworker", "--out", str(out)]) == 2
    assert "needs TF_CONFIG" in capsys.readouterr().err
    assert not out.exists()


def test_default_role_is_a_lone_chief():
    assert WorkerRole().is_chief and WorkerRole().workers == 1


def test_resume_keeps_the_runs_mixed_precision_and_refuses_another(one_device_run):
    import argparse

    from models.train import configure_parser, resolve_config

    parser = argparse.ArgumentParser()
    configure_parser(parser)
    existing = rundir.read_config(one_device_run)
    resumed = resolve_config(parser.parse_args(["--out", str(one_device_run), "--resume"]), existing)
    assert resumed["mixed_precision"] is False
    older = {key: value for key, value in existing.items() if key not in ("mixed_precision", "train_data")}
    assert resolve_config(parser.parse_args(["--out", "x", "--resume"]), older)["mixed_precision"] is False
    with pytest.raises(ZspaceError, match="mixed_precision: False -> True"):
        resolve_config(parser.parse_args(["--out", "x", "--resume", "--mixed-precision"]), existing)
