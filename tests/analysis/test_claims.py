"""The seed's claims decided by numbers."""

import numpy as np

from analysis import claims


def test_spectrum_knee():
    seed_like = np.r_[0.2, 0.12, 0.08, 0.06, 0.05, 0.04, 0.03, 0.025, 0.02, 0.018, np.full(40, 0.008)]
    assert 5 <= claims.flattens_at(seed_like / seed_like.sum()) <= 11
    assert claims.flattens_at(np.full(30, 1 / 30)) == 0
    assert claims.flattens_at(np.r_[0.9, np.full(20, 0.005)]) == 1


def test_claims_hold_for_seed_like_numbers_and_fail_for_gaussian_ones():
    seed = {
        "z_dim": 256,
        "model": "ae",
        "flagged_axes": [{}] * 12,
        "radius": {"peak": 16.5, "origin_share": 0.0},
        "pca": {"pc1_share": 0.2, "pc2_share": 0.05, "flattens_at": 10},
        "structure": {"lid_median": 1.5, "void_fraction": {"uniform_box": 0.99}},
        "rates": {
            "normal": {"rate": 0.02, "rate_lo": 0.0, "rate_hi": 0.05},
            "gmm": {"rate": 0.8, "rate_lo": 0.75, "rate_hi": 0.85},
        },
    }
    rows = claims.check_claims(seed)
    assert len(rows) == 10 and all(row["holds"] for row in rows), [r["claim"] for r in rows if not r["holds"]]
    gaussian = dict(seed, flagged_axes=[], structure={"lid_median": 200.0, "void_fraction": {"uniform_box": 0.0}})
    gaussian["rates"] = {"normal": {"rate": 0.9, "rate_lo": 0.85, "rate_hi": 0.95}}
    verdicts = {row["claim"]: row["holds"] for row in claims.check_claims(gaussian)}
    assert not verdicts["Random z from N(0, I) decode to non-faces"]
    assert not verdicts["The filaments are basically one-dimensional"]
    assert claims.compare_claims(seed["rates"], gaussian["rates"])[0]["holds"]
    assert not claims.compare_claims(gaussian["rates"], seed["rates"])[0]["holds"]
