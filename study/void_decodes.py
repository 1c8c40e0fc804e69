"""The seed's chain, checked on decodes: do probes in voids decode to nonsense?

The seed reasons: random z fall into voids between the filaments, and z in
voids decode to non-faces. The first half is a structure number
(:mod:`analysis.structure`); this module decides the second from images.
Probes of every kind of :data:`analysis.samplers.PROBE_KINDS` that lie in a
void (farther from every z-point than 99 % of the data points are from
their nearest neighbour, :data:`analysis.results.nn_reference`) are decoded
and judged by the verdict and by the independent judge; and each is compared
with the decode of its nearest data point. If the decoder ignored the
directions off the data, a void probe would decode to its nearest point's
image: the distance between the two images would be no larger than that
between two neighbouring data points' images (``image_ratio`` near 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import rundir
from analysis import intervals, results, samplers, structure
from analysis.neighbours import nearest_rows, self_neighbours
from analysis.results import Declaration
from study import judge as judge_mod
from study import reference as reference_mod
from study.codec import load_codec, to_uint8

#: Void probes decoded (at most; fewer when fewer probes land in voids).
N_VOID = 128
#: Probes drawn per kind to find them.
N_DRAWN = 512


@dataclass(frozen=True)
class VoidParams:
    """Void probes decoded at most, probes drawn per kind, samples the judge looks at, and the seed."""

    n: int = N_VOID
    n_drawn: int = N_DRAWN
    n_judge: int = N_VOID
    seed: int = 0

    def __post_init__(self):
        for name, low in (("n", 2), ("n_drawn", 2), ("n_judge", 0), ("seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < low:
                raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
            object.__setattr__(self, name, int(value))


def _rms(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    diff = a.astype(np.float32) - b.astype(np.float32)
    return np.sqrt(np.mean(diff * diff, axis=(1, 2, 3)))


def _compute(run, p: VoidParams, _callback) -> dict:
    z = rundir.load_zpoints(run)
    threshold = float(np.quantile(results.nn_reference(run)["distances"], structure.VOID_QUANTILE))
    gen = np.random.default_rng([p.seed, 0x701D])
    probes, kinds = [], []
    for i, kind in enumerate(samplers.PROBE_KINDS):
        drawn = structure.make_probes(kind, p.n_drawn, z, random_state=[p.seed, i])
        distance, _ = nearest_rows(z, drawn, k=1)
        beyond = drawn[distance[:, 0] > threshold]
        probes.append(beyond)
        kinds += [i] * len(beyond)
    pooled, kinds = np.concatenate(probes), np.asarray(kinds, dtype=np.int64)
    out = {"threshold": threshold, "n_drawn": p.n_drawn, "found": np.array([len(b) for b in probes])}
    out["probe_kinds"] = np.array(samplers.PROBE_KINDS)
    if len(pooled) == 0:
        return {**out, "n": 0}
    pick = np.sort(gen.permutation(len(pooled))[: p.n])
    pooled, kinds = pooled[pick].astype(np.float32), kinds[pick]
    codec = load_codec(run)
    ref = reference_mod.reference(run)
    images = codec.decode(pooled)
    verdict = reference_mod.score(ref, codec, pooled, images)["meaningful"]
    _, nearest = nearest_rows(z, pooled, k=1)
    near_images = codec.decode(np.asarray(z[nearest[:, 0]], dtype=np.float32))
    # The scale: neighbouring data points' images (held-out rows and their nearest other z-point).
    rows = np.sort(gen.choice(ref["pool_rows"], size=min(len(pooled), len(ref["pool_rows"])), replace=False))
    _, partners = self_neighbours(z, rows, k=1)
    data_images = codec.decode(np.asarray(z[rows], dtype=np.float32))
    partner_images = codec.decode(np.asarray(z[partners[:, 0]], dtype=np.float32))
    probe_gap, data_gap = _rms(images, near_images), _rms(data_images, partner_images)
    rate, lo, hi = intervals.share(verdict)
    out.update(
        n=len(pooled),
        kinds=kinds,
        meaningful=verdict,
        rate=rate,
        rate_lo=lo,
        rate_hi=hi,
        probe_gap=probe_gap,
        data_gap=data_gap,
        image_ratio=float(np.median(probe_gap) / max(float(np.median(data_gap)), 1e-12)),
        images=to_uint8(images[:16]),
        near_images=to_uint8(near_images[:16]),
    )
    n_judge = min(p.n_judge, len(pooled))
    if n_judge:
        said = judge_mod.judge_images(judge_mod.judge_model(run), images[:n_judge])["face"]
        share, lo, hi = intervals.share(said)
        out.update(judge_n=n_judge, judge_face=said, judge_rate=share, judge_rate_lo=lo, judge_rate_hi=hi)
    return out


#: The decoded void probes of a run: ``threshold`` (the void distance), ``found`` (void probes per kind of
#: ``probe_kinds`` among ``n_drawn``), ``n`` (decoded); when n > 0: ``kinds``, ``meaningful``, ``rate`` with
#: ``rate_lo`` / ``rate_hi`` (the verdict), ``probe_gap`` (image distance to the nearest data point's decode),
#: ``data_gap`` (the same between neighbouring data points), ``image_ratio`` (median over median), ``images``
#: and ``near_images`` (the first 16 of each), and ``judge_rate`` (``_lo`` / ``_hi``) over ``judge_n`` of them.
void_decodes = Declaration(f"void_decodes.v{reference_mod.MEASURES_VERSION}", VoidParams, _compute)


def void_summary(stored: dict) -> dict:
    """The numbers of :func:`analysis.claims.check_claims` (``void_decodes``) from a stored :data:`void_decodes`."""
    out = {"n": int(stored["n"]), "threshold": float(stored["threshold"])}
    out["found"] = {str(k): int(v) for k, v in zip(stored["probe_kinds"], stored["found"], strict=True)}
    out["n_drawn"] = int(stored["n_drawn"])
    if out["n"]:
        for key in ("rate", "rate_lo", "rate_hi", "image_ratio"):
            out[key] = float(stored[key])
        for key in ("judge_rate", "judge_rate_lo", "judge_rate_hi"):
            if key in stored:
                out[key] = float(stored[key])
    return out
