"""``zspace demo``: prepares a trained AE and VAE with analyses, and reuses them the second time."""

import os
import subprocess
import sys

import pytest

import rundir

pytestmark = pytest.mark.slow


def run_demo(runs, *extra):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    argv = [sys.executable, "-m", "zspace", "demo", "--no-serve", "--runs", str(runs), "--images", "160"]
    return subprocess.run([*argv, "--image-size", "32", *extra], capture_output=True, text=True, env=env, check=False)


def test_demo_trains_both_models_then_reuses_them(tmp_path):
    first = run_demo(tmp_path / "runs", "--epochs", "1")
    assert first.returncode == 0, first.stderr[-2000:]
    runs = {info.name: info for info in rundir.list_runs(tmp_path / "runs")}
    assert sorted(runs) == ["demo-ae", "demo-vae"]
    assert all(info.usable for info in runs.values())
    assert (runs["demo-ae"].config["model"], runs["demo-vae"].config["model"]) == ("ae", "vae")
    assert runs["demo-vae"].z_dim == 256 and runs["demo-vae"].n_points == 160
    assert runs["demo-vae"].config["batch_size"] == 32
    assert any((tmp_path / "runs" / "demo-ae" / rundir.ANALYSIS).glob("pca-*.npz"))

    second = run_demo(tmp_path / "runs", "--epochs", "1")
    assert second.returncode == 0, second.stderr[-2000:]
    assert second.stdout.count("reusing it") == 2
    assert "training" not in second.stdout

    longer = run_demo(tmp_path / "runs", "--epochs", "2")
    assert longer.returncode == 0, longer.stderr[-2000:]
    assert longer.stdout.count("resuming") == 2
    history = (tmp_path / "runs" / "demo-ae" / rundir.HISTORY).read_text().splitlines()
    assert [line.split(",")[0] for line in history[1:]] == ["1", "2"]


def test_the_demo_serves_its_runs_once_they_are_ready(tmp_path):
    import socket
    import time
    import urllib.request

    assert run_demo(tmp_path / "runs", "--epochs", "1").returncode == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    argv = [sys.executable, "-m", "zspace", "demo", "--runs", str(tmp_path / "runs"), "--images", "160"]
    server = subprocess.Popen(
        [*argv, "--image-size", "32", "--epochs", "1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline, layout = time.monotonic() + 120, ""
        while time.monotonic() < deadline and not layout:
            assert server.poll() is None, server.stdout.read()[-2000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_dash-layout", timeout=5) as answer:
                    layout = answer.read().decode()
            except OSError:
                time.sleep(0.5)
        # The served page lists both demo runs as usable (their labels carry the model kind and size).
        assert "demo-ae (AE, z_dim 256, 160 points)" in layout and "demo-vae (VAE, z_dim 256, 160 points)" in layout
    finally:
        server.terminate()
        server.wait(timeout=30)
