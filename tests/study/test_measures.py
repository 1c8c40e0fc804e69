"""The meaningful-decode measures on real (tiny) trained models: validation AUCs and the seed's ordering of rates."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import meaningful
from study import scoring, validation

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_measures_tell_decoded_faces_from_noise_and_far_probes(trained_runs, kind):
    result = validation.validate(trained_runs[kind], n=128)
    auc = result["auc"]
    for negative in ("noise", "blobs"):
        for measure in (*meaningful.VERDICT_MEASURES, "verdict"):
            assert auc[negative][measure] >= 0.95, (negative, measure, auc[negative])
        assert result["meaningful"][negative] == 0.0
    # Far-away probes (6x the data's RMS radius) are told by re-encoding even where the tiny decoder
    # still paints a blurry face there.
    assert auc["far_6"]["reencode"] >= 0.95, auc["far_6"]
    assert result["meaningful"]["data"] >= 0.85


def test_rates_follow_the_seed_and_the_rae_paper(trained_runs):
    ae = {row["sampler"]: row for row in scoring.sampler_rates(trained_runs["ae"], rows=("normal", "gmm"), n=192)}
    vae = {row["sampler"]: row for row in scoring.sampler_rates(trained_runs["vae"], rows=("normal",), n=192)}
    shown = {
        f"{m} {s}": f"{r['rate']:.2f} [{r['rate_lo']:.2f}, {r['rate_hi']:.2f}]"
        for m, t in (("AE", ae), ("VAE", vae))
        for s, r in t.items()
    }
    print("meaningful rates:", shown)
    # RAE (Ghosh et al. 2020): a GMM fitted ex post to the AE's z samples faces; N(0, I) does not.
    assert ae["gmm"]["rate_lo"] > ae["normal"]["rate_hi"], shown
    # The seed series: a VAE's N(0, I) samples decode to faces, an AE's do not.
    assert vae["normal"]["rate_lo"] > ae["normal"]["rate_hi"], shown


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
    first = scoring.sampler_rates(run, rows=("data",), n=64)
    assert scoring.rate_row.is_cached(run, sampler="data", n=64)
    assert scoring.sampler_rates(run, rows=("data",), n=64) == first
    assert first[0]["model"] == "vae" and first[0]["n_samples"] == 64
    assert first[0]["rate"] >= 0.75  # held-out data points pass the thresholds calibrated on other data points
    with pytest.raises(scoring.RatesCancelled):
        scoring.sampler_rates(run, rows=("uniform_box",), n=64, progress=lambda fraction, message: False)
    assert not scoring.rate_row.is_cached(run, sampler="uniform_box", n=64)
