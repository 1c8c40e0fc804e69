"""Bad data seen from the command line: one error line, exit status 2, no traceback, no hang."""

import os
import subprocess
import sys

import pytest

from tests.fakes import make_fake_celeba


def run_train(data: str, out) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "-m", "zspace", "train", "--data", data, "--model", "ae", "--image-size", "32"]
    command += ["--z-dim", "8", "--epochs", "1", "--out", str(out)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)


def broken_celeba(tmp_path):
    root = make_fake_celeba(tmp_path / "celeba", n=4)
    path = root / "list_attr_celeba.txt"
    path.write_text(
        path.read_text().replace("000003.jpg -1", "000003.jpg  x", 1).replace("000003.jpg  1", "000003.jpg  x", 1)
    )
    return f"celeba:{root}"


def empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    return f"folder:{tmp_path / 'empty'}"


def only_broken_images(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "a.png").write_text("not a png")
    return f"folder:{tmp_path / 'broken'}"


@pytest.mark.parametrize(
    ("make_spec", "message"),
    [
        (empty_folder, "holds no images"),
        (lambda tmp_path: f"folder:{tmp_path / 'missing'}", "does not exist"),
        (broken_celeba, "list_attr_celeba.txt line 5: attribute values must be 1 or -1"),
        (only_broken_images, "none of the 1 image files could be used"),
    ],
    ids=["empty-folder", "missing-folder", "bad-attribute-value", "only-broken-images"],
)
def test_train_refuses_bad_data_in_one_line(tmp_path, make_spec, message, monkeypatch):
    monkeypatch.setenv("ZSPACE_CACHE_DIR", str(tmp_path / "cache"))
    result = run_train(make_spec(tmp_path), tmp_path / "run")
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if "error:" in line]
    assert len(errors) == 1 and message in errors[0], output
    assert not (tmp_path / "run" / "zpoints.npy").exists()
