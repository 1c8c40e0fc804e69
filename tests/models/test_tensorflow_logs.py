"""TensorFlow's C++ start-up log lines stay off the terminal unless ZSPACE_TF_LOG=1; import errors still show."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from models.runtime import TF_LOG_ENV, is_tensorflow_log_line, without_tensorflow_logs

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ["--data", "synthetic:64", "--model", "ae", "--image-size", "32", "--z-dim", "8", "--epochs", "1"]


def _run(argv: list[str], tf_log: bool, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("TF_CPP_MIN_LOG_LEVEL", TF_LOG_ENV)}
    env.update({TF_LOG_ENV: "1"} if tf_log else {})
    env.update(extra_env or {})
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def _log_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if is_tensorflow_log_line(line) or "absl::InitializeLog" in line]


def test_filter_drops_cpp_log_lines_and_keeps_everything_else():
    text = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1795945334.989996   15528 cudart_stub.cc:31] Could not find cuda drivers on your machine.\n"
        "E0000 00:00:1795945351.349782   15528 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)"
        "W0000 00:00:1795945351.4 15528 rendezvous.cc:9] a line glued to the previous one\n"
        "UserWarning: a Python warning stays\n"
    )
    assert without_tensorflow_logs(text) == "UserWarning: a Python warning stays\n"


@pytest.mark.slow
def test_train_help_and_a_short_train_print_no_tensorflow_log_lines(tmp_path):
    helped = _run([sys.executable, "-m", "zspace", "train", "--help"], tf_log=False)
    assert helped.returncode == 0 and "--strategy" in helped.stdout
    assert _log_lines(helped.stderr) == []
    trained = _run([sys.executable, "-m", "zspace", "train", *TRAIN, "--out", str(tmp_path / "quiet")], tf_log=False)
    assert trained.returncode == 0, trained.stderr
    assert _log_lines(trained.stderr) == [], trained.stderr


@pytest.mark.slow
def test_zspace_tf_log_brings_tensorflows_own_lines_back(tmp_path):
    loud = _run([sys.executable, "-m", "zspace", "train", *TRAIN, "--out", str(tmp_path / "loud")], tf_log=True)
    assert loud.returncode == 0, loud.stderr
    assert _log_lines(loud.stderr), "with ZSPACE_TF_LOG=1 TensorFlow logs as it always does"


def test_a_failing_tensorflow_import_shows_everything_it_printed(tmp_path):
    broken = tmp_path / "site" / "tensorflow"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text(
        "import os\n"
        "os.write(2, b'E0000 00:00:1.5 7 loader.cc:3] could not load libtensorflow_framework.so.2\\n')\n"
        "raise ImportError('libtensorflow_framework.so.2: cannot open shared object file')\n"
    )
    code = "from models.runtime import start_tensorflow; start_tensorflow()"
    failed = _run([sys.executable, "-c", code], tf_log=False, extra_env={"PYTHONPATH": f"{broken.parent}:{ROOT}"})
    assert failed.returncode != 0
    assert "could not load libtensorflow_framework.so.2" in failed.stderr
    assert "ImportError: libtensorflow_framework.so.2: cannot open shared object file" in failed.stderr
