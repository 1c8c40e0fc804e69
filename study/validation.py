"""Do the meaningful-decode measures tell faces from non-faces? ROC AUCs where the answer is known.

Positives: decoded held-out data points (the decoder's own faces). Negatives,
made without any judgement of ours:

* the known non-faces of :func:`study.reference.known_negatives`, made of
  other decoded data points: ``noise``, ``blobs``, ``tiles`` (shuffled
  4 x 4 tiles) and ``blend`` (two faces averaged);
* ``far_<f>``: decodes of probes far from every data point: the data mean
  plus ``f`` times the data's RMS distance from its mean, in a random
  direction, for each ``f`` of :data:`FAR_FACTORS`. How far is "far" differs
  between models — a VAE's decoder still draws faces at 3x (see
  docs/BENCHMARKS.md) — so several distances are reported.

Each measure's AUC is the chance that a positive scores as more face-like
than a negative; ``verdict`` is the AUC of the combined margin of the image
measures (:func:`analysis.meaningful.margin`), ``reencode`` exists only for
negatives that have a z.
"""

from __future__ import annotations

import os

import numpy as np

import rundir
from analysis import meaningful
from study import reference as reference_mod
from study.codec import load_codec

#: Images per group (positives and each negative set).
N_VALIDATION = 256
#: Distances of the far-away probes, in units of the data's RMS distance from its mean.
FAR_FACTORS = (1.5, 3.0, 6.0)


def far_probes(z, factor: float, n: int, random_state=0) -> np.ndarray:
    """``n`` z at ``factor`` x the data's RMS distance from its mean, in random directions from the mean."""
    data = np.asarray(z, dtype=np.float64)
    mean = data.mean(axis=0)
    rms = float(np.sqrt(np.mean(np.sum((data - mean) ** 2, axis=1))))
    gen = np.random.default_rng(random_state)
    direction = gen.standard_normal((n, data.shape[1]))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    return (mean + factor * rms * direction).astype(np.float32)


def _oriented(scores: dict) -> dict:
    # Larger = more face-like for every entry, so one AUC convention fits all.
    out = {
        name: meaningful.DIRECTIONS[name] * np.log(np.maximum(scores[name], 1e-12))
        for name in meaningful.MEASURES
        if name in scores
    }
    out["verdict"] = scores["margin"]
    return out


def validate(run: str | os.PathLike, n: int = N_VALIDATION, seed: int = 0) -> dict:
    """ROC AUCs of each measure and of the verdict: decoded data points against each negative set.

    Returns
    -------
    dict
        ``auc``: negative set -> {measure or "verdict": AUC}; ``meaningful``: group -> share judged
        meaningful (``data`` and each negative set); ``n``: images per group.
    """
    ref = reference_mod.reference(run)
    codec = load_codec(run)
    z = rundir.load_zpoints(run)
    gen = np.random.default_rng([seed, 0x7A1])
    pool = ref["pool_rows"]
    rows = np.sort(gen.choice(pool, size=min(n, len(pool)), replace=False))
    data_z = np.asarray(z[rows], dtype=np.float32)
    decoded = codec.decode(data_z)
    groups = {"data": reference_mod.score(ref, codec, data_z, decoded)}
    # Made of other decoded data points than the positives (the calibration rows', in the reference's order).
    cal_z = np.asarray(z[ref["cal_rows"]], dtype=np.float32)
    source = reference_mod.images_uint8(codec.decode(cal_z))
    for kind in reference_mod.NEGATIVE_KINDS:
        images = reference_mod.known_negatives(kind, source, n, seed + 1)
        groups[kind] = reference_mod.score(ref, codec, None, images)
    sample = np.asarray(z[np.sort(gen.choice(len(z), size=min(len(z), 20000), replace=False))])
    for i, factor in enumerate(FAR_FACTORS):
        probes = far_probes(sample, factor, n, [seed, 2 + i])
        groups[f"far_{factor:g}"] = reference_mod.score(ref, codec, probes, codec.decode(probes))
    positive = _oriented(groups["data"])
    auc = {}
    for name, scores in groups.items():
        if name == "data":
            continue
        negative = _oriented(scores)
        auc[name] = {key: meaningful.roc_auc(positive[key], negative[key]) for key in negative}
    return {
        "n": int(len(rows)),
        "auc": auc,
        "meaningful": {name: float(np.mean(scores["meaningful"])) for name, scores in groups.items()},
    }
