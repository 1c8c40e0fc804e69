"""The sampler lab on real (tiny) trained models: validation AUCs, thresholds fixed without samplers, quality
beside coverage, the independent judge beside the verdict."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import meaningful, samplers
from analysis.cache import storing_in
from study import reference, scoring, validation

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_measures_tell_decoded_faces_from_known_non_faces_and_far_probes(trained_runs, kind):
    result = validation.validate(trained_runs[kind], n=128)
    auc = result["auc"]
    print(kind, {k: {m: round(v, 3) for m, v in a.items()} for k, a in auc.items()}, result["meaningful"])
    for negative in ("noise", "blobs", "tiles"):
        assert auc[negative]["verdict"] >= 0.95, (negative, auc[negative])
        assert result["meaningful"][negative] <= 0.02
        # Noise and blobs fail every measure; shuffled tiles keep the decodes' colours, and at least one
        # measure (dffs, on the tiny models) still tells them.
        measures = [auc[negative][m] for m in meaningful.VERDICT_MEASURES]
        assert (min(measures) if negative != "tiles" else max(measures)) >= 0.95, (negative, auc[negative])
    # Far-away probes (6x the data's RMS radius) are told by re-encoding even where the tiny decoder
    # still paints a blurry face there.
    assert auc["far_6"]["reencode"] >= 0.95, auc["far_6"]
    assert result["meaningful"]["data"] >= 0.85


def test_the_verdict_is_fixed_before_and_without_any_sampler(trained_runs, tmp_path, monkeypatch):
    run = trained_runs["ae"]
    with storing_in(tmp_path / "scored-first"):
        scoring.sampler_rates(run, rows=("normal", "uniform_box"), n=64, n_judge=0)
        after = reference.reference(run)

    def refuse(*args, **kwargs):
        raise AssertionError("a sampler was drawn while the verdict was being fixed")

    monkeypatch.setattr(samplers, "sample", refuse)
    monkeypatch.setattr(scoring, "draw", refuse)
    with storing_in(tmp_path / "no-sampler"):
        before = reference.reference(run)
    assert reference.limits(before) == reference.limits(after)
    assert before["face_space_variance"] == after["face_space_variance"]
    for kind in reference.NEGATIVE_KINDS:
        assert np.array_equal(before[f"negative_margin_{kind}"], after[f"negative_margin_{kind}"])
    # The thresholds let CALIBRATION_QUANTILE of the decoded calibration points through on each measure.
    for name in meaningful.VERDICT_MEASURES:
        passed = meaningful.verdict({name: before[f"calibration_{name}"]}, reference.limits(before), (name,))
        assert passed.mean() == pytest.approx(meaningful.CALIBRATION_QUANTILE, abs=2 / len(passed))


def test_quality_and_coverage_stand_beside_every_rate(trained_runs):
    table = {
        row["sampler"]: row
        for row in scoring.sampler_rates(trained_runs["ae"], rows=("data", "normal", "gmm"), n=128, n_judge=24)
    }
    shown = {
        s: {k: round(float(r[k]), 2) for k in ("rate", "precision", "recall", "diversity", "auc", "judge_rate")}
        for s, r in table.items()
    }
    print("AE rows:", shown)
    data = table["data"]
    assert data["good"] and data["quality"] and data["coverage"]  # the data row is its own ceiling
    # Decoded held-out data against the decoded comparison set: indistinguishable, as varied.
    assert data["auc_lo"] <= 0.5 + 0.1 and 0.8 < data["diversity"] < 1.25
    for row in table.values():
        for name in scoring.INTERVAL_MEASURES:
            assert row[f"{name}_lo"] <= row[name] <= row[f"{name}_hi"], (row["sampler"], name)
        assert row["judge_n"] == 24
        assert row["both"] + row["verdict_only"] + row["judge_only"] + row["neither"] == 24
        assert row["good"] == (row["quality"] and row["coverage"])
    # RAE (Ghosh et al. 2020): a GMM fitted ex post to the AE's z covers the data better than N(0, I).
    assert table["gmm"]["recall"] > table["normal"]["recall"], shown


def test_a_sampler_of_copies_is_not_called_good(trained_runs, monkeypatch, tmp_path):
    # One z repeated 64 times: every image is as good as the data's, and the set covers nothing.
    run = trained_runs["vae"]
    one = np.asarray(scoring.draw(run, "data", 1, seed=5))
    real = scoring.draw

    def copies(run, sampler, n, seed=0, gmm_k=scoring.GMM_K):
        return np.repeat(one, n, axis=0) if sampler == "normal" else real(run, sampler, n, seed, gmm_k)

    monkeypatch.setattr(scoring, "draw", copies)
    with storing_in(tmp_path):
        row = scoring.sampler_rates(run, rows=("normal",), n=64, n_judge=0)[0]
    assert row["diversity"] < 0.05 and row["recall"] < 0.1 and row["auc"] > 0.95
    assert not row["coverage"] and not row["good"]


def test_decisions_at_their_boundary():
    data = {"precision": 0.9, "recall": 0.5}
    at = {"precision": 0.9 * scoring.GOOD_SHARE, "recall": 0.5 * scoring.GOOD_SHARE}
    assert scoring.decide(at, data) == {"quality": True, "coverage": True, "good": True}
    below = {"precision": at["precision"] - 1e-9, "recall": at["recall"]}
    assert scoring.decide(below, data) == {"quality": False, "coverage": True, "good": False}
    below = {"precision": at["precision"], "recall": at["recall"] - 1e-9}
    assert scoring.decide(below, data) == {"quality": True, "coverage": False, "good": False}


def test_scored_samples_carry_their_scores(trained_runs):
    shown = scoring.scored_samples(trained_runs["ae"], "gmm", k=6, seed=3)
    assert shown.images.shape == (6, 32, 32, 3) and shown.images.dtype == np.uint8
    assert shown.z.shape == (6, 16)
    for name in (*meaningful.MEASURES, "margin", "meaningful", "consistent"):
        assert shown.scores[name].shape == (6,), name
    assert np.array_equal(shown.scores["meaningful"], shown.scores["margin"] >= 0)
    again = scoring.scored_samples(trained_runs["ae"], "gmm", k=6, seed=3)
    assert np.array_equal(again.images, shown.images)  # same seed, same samples
    with pytest.raises(ValueError, match="between 1 and"):
        scoring.scored_samples(trained_runs["ae"], "gmm", k=scoring.MAX_SCORED + 1)
    with pytest.raises(ValueError, match="unknown sampler"):
        scoring.scored_samples(trained_runs["ae"], "gaussian", k=2)


def test_rate_rows_are_cached_and_cancellable(trained_runs):
    run = trained_runs["vae"]
    first = scoring.sampler_rates(run, rows=("data",), n=64, n_judge=0)
    assert scoring.rate_row.is_cached(run, sampler="data", n=64, n_judge=0)
    assert scoring.sampler_rates(run, rows=("data",), n=64, n_judge=0) == first
    assert first[0]["model"] == "vae" and first[0]["n_samples"] == 64
    assert first[0]["rate"] >= 0.75  # held-out data points pass the thresholds calibrated on other data points
    with pytest.raises(scoring.RatesCancelled):
        scoring.sampler_rates(run, rows=("uniform_box",), n=64, n_judge=0, progress=lambda fraction, message: False)
    assert not scoring.rate_row.is_cached(run, sampler="uniform_box", n=64, n_judge=0)
    with pytest.raises(ValueError, match="at most"):
        scoring.RateParams(n=reference.N_COMPARISON + 1)
