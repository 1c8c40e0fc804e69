"""``zspace demo``: trains a small AE and VAE, encodes more faces than it trained on, analyses, reuses, serves."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

import rundir

pytestmark = pytest.mark.slow

TRAIN, ENCODE = 160, 400


def run_demo(runs, *extra, serve_on=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    argv = [sys.executable, "-m", "zspace", "demo", "--runs", str(runs), "--images", str(TRAIN)]
    argv += ["--encode-images", str(ENCODE), "--image-size", "32", *extra]
    if serve_on is None:
        return subprocess.run([*argv, "--no-serve"], capture_output=True, text=True, env=env, check=False)
    return subprocess.Popen(
        [*argv, "--port", str(serve_on)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A first, cold demo (1 epoch): the runs folder and what it printed."""
    runs = tmp_path_factory.mktemp("demo") / "runs"
    first = run_demo(runs, "--epochs", "1")
    assert first.returncode == 0, first.stderr[-2000:]
    return runs, first.stdout


def test_a_cold_demo_trains_on_few_faces_and_encodes_more(demo):
    runs_dir, out = demo
    runs = {info.name: info for info in rundir.list_runs(runs_dir)}
    assert sorted(runs) == ["demo-ae", "demo-vae"] and all(info.usable for info in runs.values())
    assert (runs["demo-ae"].config["model"], runs["demo-vae"].config["model"]) == ("ae", "vae")
    vae = runs["demo-vae"]
    assert vae.z_dim == 256 and vae.n_points == ENCODE and vae.config["batch_size"] == 32
    assert vae.config["data"] == f"synthetic:{ENCODE}" and vae.config["train_data"] == f"synthetic:{TRAIN}"
    assert out.count(f"encoding {ENCODE:,} faces") == 2
    assert any((runs_dir / "demo-ae" / rundir.ANALYSIS).glob("pca-*.npz"))
    assert any((runs_dir / "demo-ae" / rundir.ANALYSIS).glob("umap-*.npz")), "the picker has a UMAP map to offer"


def test_a_second_demo_reuses_the_runs_and_serves_them(demo):
    runs_dir, _ = demo
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = run_demo(runs_dir, "--epochs", "1", serve_on=port)
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
        assert f"demo-ae (AE, z_dim 256, {ENCODE} points)" in layout
        assert f"demo-vae (VAE, z_dim 256, {ENCODE} points)" in layout
    finally:
        server.terminate()
        printed, _ = server.communicate(timeout=30)
    assert printed.count("reusing it") == 2 and "training" not in printed and "encoding" not in printed


def test_asking_for_more_epochs_resumes_both_trainings(demo):
    runs_dir, _ = demo
    longer = run_demo(runs_dir, "--epochs", "2")
    assert longer.returncode == 0, longer.stderr[-2000:]
    assert longer.stdout.count("resuming") == 2
    history = (runs_dir / "demo-ae" / rundir.HISTORY).read_text().splitlines()
    assert [line.split(",")[0] for line in history[1:]] == ["1", "2"]
    assert rundir.inspect_run(runs_dir / "demo-ae").n_points == ENCODE
