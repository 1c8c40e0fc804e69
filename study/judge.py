"""The independent judge of a run: which one, calibrated once and cached, and what it says of images.

Runs on the built-in faces get analysis by synthesis (:mod:`study.judge_faces`);
runs on photographs get OpenCV's Haar face detector (:mod:`study.judge_photos`).
Neither shares code or a threshold with the meaningful verdict
(:mod:`analysis.meaningful`, :mod:`study.reference`): the faces judge is
trained and calibrated on renders of its own seeds, the detector has no
threshold of ours. Each states its accuracy on known faces and known
non-faces (:func:`judge_accuracy`), so a reader can weigh its word.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import rundir
from analysis.results import Declaration
from study import judge_faces, judge_photos

#: Known faces and known non-faces of each kind the judge's accuracy is measured on.
N_KNOWN = 64
#: The judges, by kind.
KINDS = {
    "synthesis": "analysis by synthesis (the built-in faces' renderer)",
    "detector": "OpenCV Haar frontal-face detector",
}


@dataclass(frozen=True)
class JudgeParams:
    """Renders the faces judge is trained on, and known images of each kind its accuracy is measured on."""

    # Read when a judge is asked for, so a test session can make the judge smaller (tests/study/conftest.py).
    n_train: int = field(default_factory=lambda: judge_faces.N_TRAIN)
    n_known: int = field(default_factory=lambda: N_KNOWN)

    def __post_init__(self):
        for name, low in (("n_train", 100), ("n_known", 8)):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < low:
                raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
            object.__setattr__(self, name, int(value))


def kind_of(run: str | os.PathLike) -> str:
    """``synthesis`` for a run encoded from the built-in faces, else ``detector``."""
    data = rundir.read_config(Path(run)).get("data")
    return "synthesis" if isinstance(data, str) and data.split(":")[0] == "synthetic" else "detector"


@functools.lru_cache(maxsize=2)
def _faces_judge(n_train: int, n_known: int) -> dict:
    # The same for every run (it reads no run): computed once per process, cached per run below.
    regressor = judge_faces.fit_regressor(n_train)
    calibrated = judge_faces.calibrate(regressor, n_known)
    return {"weights": regressor["weights"], "threshold": calibrated["threshold"], **_flat(calibrated["accuracy"])}


def _flat(accuracy: dict) -> dict:
    return {f"accuracy_{key}": float(value) for key, value in accuracy.items()}


def _compute(run, p: JudgeParams, _callback) -> dict:
    kind = kind_of(run)
    if kind == "synthesis":
        return {"kind": kind, **_faces_judge(p.n_train, p.n_known)}
    from study.originals import training_images

    z_rows = np.arange(len(rundir.load_zpoints(run)))
    rows = np.sort(np.random.default_rng(0x1D6E).choice(z_rows, size=min(p.n_known, len(z_rows)), replace=False))
    photos, _, _ = training_images(run, rows)
    return {"kind": kind, **_flat(judge_photos.accuracy(photos))}


#: A run's judge: ``kind`` (a key of :data:`KINDS`), ``accuracy_<known kind>`` with ``_lo`` / ``_hi`` and
#: ``accuracy_balanced``; for ``synthesis`` also the regressor ``weights`` and the ``threshold``.
judge_model = Declaration("independent_judge.v1", JudgeParams, _compute)


def judge_accuracy(stored: dict) -> dict:
    """The judge's accuracy on known images: known kind -> share right, with ``<kind>_lo`` / ``<kind>_hi``."""
    return {key.removeprefix("accuracy_"): float(value) for key, value in stored.items() if key.startswith("accuracy_")}


def judge_images(stored: dict, images) -> dict:
    """What the judge ``stored`` (:data:`judge_model`) says of ``images``.

    Returns
    -------
    dict
        ``face`` (N,) bools; ``error`` (N,): the synthesis error (NaN for the detector).
    """
    if str(stored["kind"]) == "synthesis":
        found = judge_faces.synthesis({"weights": stored["weights"]}, images)
        return {"face": found["error"] <= float(stored["threshold"]), "error": found["error"]}
    return {"face": judge_photos.detect(images), "error": np.full(len(images), np.nan)}
