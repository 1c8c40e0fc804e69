"""The seed's claims decided by numbers, each structure claim against the covariance-matched Gaussian null."""

import numpy as np
import pytest

from analysis import claims, results
from tools import synthetic


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
        "structure": {
            "lid_median": 1.5,
            "void_fraction": {"uniform_box": 0.99, "full_gaussian": 0.97},
            "void_interval": {"uniform_box": [0.98, 1.0], "full_gaussian": [0.95, 0.98]},
            "null": {
                "lid_median": 30.0,
                "void_fraction": {"uniform_box": 0.6, "full_gaussian": 0.01},
                "void_interval": {"uniform_box": [0.55, 0.65], "full_gaussian": [0.0, 0.02]},
            },
        },
        "void_decodes": {"n": 128, "rate": 0.05, "rate_lo": 0.02, "rate_hi": 0.1, "image_ratio": 3.0},
        "rates": {
            "normal": {"rate": 0.02, "rate_lo": 0.0, "rate_hi": 0.05},
            "gmm": {"rate": 0.8, "rate_lo": 0.75, "rate_hi": 0.85},
        },
    }
    rows = claims.check_claims(seed)
    assert len(rows) == 14 and all(row["holds"] for row in rows), [r["claim"] for r in rows if not r["holds"]]
    gaussian = dict(seed, flagged_axes=[], structure={**seed["structure"], "lid_median": 28.0})
    gaussian["rates"] = {"normal": {"rate": 0.9, "rate_lo": 0.85, "rate_hi": 0.95}}
    verdicts = {row["claim"]: row["holds"] for row in claims.check_claims(gaussian)}
    assert not verdicts["Random z from N(0, I) decode to non-faces"]
    assert not verdicts["The filaments are basically one-dimensional"]
    assert not verdicts[THIN]
    assert claims.compare_claims(seed["rates"], gaussian["rates"])[0]["holds"]
    assert not claims.compare_claims(gaussian["rates"], seed["rates"])[0]["holds"]


THIN = "The z-points lie on thin filaments (local dimension far below that of a Gaussian of their shape)"
AROUND = "The z-points lie around voids: a z drawn from the data's own Gaussian usually falls into one"
ONE_D = "The filaments are basically one-dimensional"


def _decided(make_run, tmp_path, name, z):
    run = make_run(tmp_path / name, z)
    stored = results.structure_measures(run, n_points=400, n_probes=300)
    numbers = {"z_dim": z.shape[1], "structure": claims.structure_summary(stored)}
    return {row["claim"]: row for row in claims.check_claims(numbers)}, numbers["structure"]


def test_a_gaussian_ellipsoid_run_does_not_hold_filaments_and_a_filament_cloud_does(make_run, tmp_path):
    # An ellipsoid with a decaying spectrum, like an AE's z-points: its local dimension is far below z_dim
    # (the old rule "LID / z_dim <= 0.1" called it thin) and a uniform probe in its box is in a void.
    ellipsoid = synthetic.decaying_ellipsoid(3000, 256, random_state=11)
    rows, numbers = _decided(make_run, tmp_path, "ellipsoid", ellipsoid)
    assert numbers["lid_median"] / 256 <= 0.1  # what the old rule called "thin"
    assert numbers["void_fraction"]["uniform_box"] > 0.5  # what the old rule called "voids"
    for claim in (THIN, ONE_D, AROUND):
        assert rows[claim]["holds"] is False, (claim, rows[claim])
    assert rows[THIN]["value"] == pytest.approx(rows[THIN]["null"], rel=0.25)  # the data are their own null
    assert not rows["The z-points are more clumped than a Gaussian of their shape (some voids beyond the null)"][
        "holds"
    ]

    filaments = synthetic.filament_cloud(200, 15, 256, noise=1e-3, random_state=0)
    rows, numbers = _decided(make_run, tmp_path, "filaments", filaments)
    for claim in (THIN, ONE_D, AROUND):
        assert rows[claim]["holds"] is True, (claim, rows[claim])
    assert numbers["null"]["void_fraction"]["full_gaussian"] < 0.05  # the null's own probes find no voids


def test_structure_rules_at_their_boundaries():
    def rows(lid, null_lid, void, void_lo, null_hi):
        structure = {
            "lid_median": lid,
            "void_fraction": {"full_gaussian": void},
            "void_interval": {"full_gaussian": [void_lo, void]},
            "null": {
                "lid_median": null_lid,
                "void_fraction": {"full_gaussian": 0.0},
                "void_interval": {"full_gaussian": [0.0, null_hi]},
            },
        }
        return {r["claim"]: r["holds"] for r in claims.check_claims({"z_dim": 16, "structure": structure})}

    assert rows(5.0, 10.0, 0.9, 0.8, 0.1)[THIN] is True  # exactly half the null's dimension
    assert rows(5.0001, 10.0, 0.9, 0.8, 0.1)[THIN] is False
    assert rows(2.0, 4.0, 0.9, 0.8, 0.1)[ONE_D] is True and rows(2.01, 4.02, 0.9, 0.8, 0.1)[ONE_D] is False
    assert rows(1.0, 4.0, 0.9, 0.5, 0.1)[AROUND] is False  # the lower bound must pass 0.5, not reach it
    assert rows(1.0, 4.0, 0.9, 0.5001, 0.1)[AROUND] is True
    assert rows(1.0, 4.0, 0.9, 0.6, 0.6)[AROUND] is False  # no better than the null
