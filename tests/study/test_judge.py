"""The independent judge: its accuracy on known faces and non-faces, its independence from the verdict."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from study import judge, judge_faces, judge_photos

ROOT = Path(__file__).resolve().parents[2]


def test_the_judge_shares_no_code_with_the_verdict():
    verdict_modules = {"analysis.meaningful", "analysis.coverage", "study.reference", "study.scoring"}
    for name in ("judge.py", "judge_faces.py", "judge_photos.py"):
        tree = ast.parse((ROOT / "study" / name).read_text(encoding="utf-8"))
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
        assert not imported & verdict_modules, (name, imported & verdict_modules)


def test_analysis_by_synthesis_finds_a_render_and_not_noise():
    regressor = judge_faces.fit_regressor(1500)
    faces = judge_faces.known_images("face", 12, seed=77, size=64)
    found = judge_faces.synthesis(regressor, faces)
    noise = judge_faces.synthesis(regressor, judge_faces.known_images("noise", 12, seed=77, size=64))
    tiles = judge_faces.synthesis(regressor, judge_faces.known_images("tiles", 12, seed=77, size=64))
    assert np.median(found["error"]) < 0.5 * np.median(tiles["error"]) < 0.5 * np.median(noise["error"])
    assert found["uniforms"].shape == (12, judge_faces.USED) and found["blur"].shape == (12,)
    with pytest.raises(ValueError, match="multiple of the judge's side"):
        judge_faces.to_side(np.zeros((1, 48, 48, 3)))


def test_the_faces_judge_states_its_accuracy_on_known_faces_and_non_faces():
    stored = judge._faces_judge(1500, 24)  # what the session's judge is (tests/study/conftest.py)
    accuracy = judge.judge_accuracy(stored)
    print("judge accuracy", {k: round(v, 2) for k, v in accuracy.items() if not k.endswith(("_lo", "_hi"))})
    assert accuracy["face"] >= 0.8
    for kind in ("noise", "blobs", "tiles"):
        assert accuracy[kind] >= 0.9, kind
    assert 0.0 < stored["threshold"] < 0.2
    said = judge.judge_images({"kind": "synthesis", **stored}, judge_faces.known_images("noise", 4, seed=3))
    assert not said["face"].any() and np.isfinite(said["error"]).all()


def test_the_photo_judge_is_opencv_s_bundled_cascade():
    import cv2

    assert (Path(cv2.data.haarcascades) / judge_photos.CASCADE).is_file()  # inside the wheel, no download
    noise = judge_photos.known_negatives("noise", np.zeros((16, 64, 64, 3), np.uint8), random_state=1)
    assert not judge_photos.detect(noise).any()
    # The built-in faces are cartoons, yet the detector finds a face in some of them.
    assert judge_photos.detect(judge_faces.known_images("face", 32, seed=5, size=64)).mean() > 0.15


def test_each_run_gets_its_judge(trained_runs, tmp_path):
    assert judge.kind_of(trained_runs["ae"]) == "synthesis"
    import json

    config = json.loads((trained_runs["ae"] / "config.json").read_text())
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "config.json").write_text(json.dumps({**config, "data": "folder:/somewhere"}))
    assert judge.kind_of(photos) == "detector"
