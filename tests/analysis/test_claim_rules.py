"""The claims as a reader sees them: every row's words, the decisions exactly at their thresholds, the knee by brute force."""

import numpy as np
import pytest

from analysis import claims

#: (claim, measure, rule) of every row of a run with every number, in the report's order: what people read.
ROWS = [
    (
        "Most axes are near-Gaussian around 0; a few stand out (off-centre or broad)",
        "flagged axes / z_dim",
        "0 < share <= 0.1",
    ),
    ("The radius density peaks near sqrt(z_dim)", "radius peak / sqrt(z_dim)", "0.75 <= value <= 1.33"),
    ("The region close to the origin is empty", "share of points with |z| < peak / 2", "< 0.01"),
    ("One principal component dominates", "PC1 share / PC2 share", ">= 2.0"),
    ("The PCA spectrum is flat after about 10 components", "components above the flat rest", "1 <= value <= 20"),
    (
        "The z-points lie on thin filaments (local dimension far below that of a Gaussian of their shape)",
        "median local intrinsic dimension (MLE, k = 20)",
        "value <= 0.5 x null",
    ),
    (
        "The filaments are basically one-dimensional",
        "median local intrinsic dimension",
        "value <= 2.0 and thin (row above)",
    ),
    (
        "The z-points lie around voids: a z drawn from the data's own Gaussian usually falls into one",
        "void fraction of probes from the covariance-matched Gaussian",
        "lower bound > 0.5 and > null's upper bound",
    ),
    (
        "A randomly positioned z falls into a void (more often than around a Gaussian of the data's shape)",
        "void fraction of uniform probes in the data's box",
        "lower bound > 0.5 and > null's upper bound",
    ),
    (
        "The z-points are more clumped than a Gaussian of their shape (some voids beyond the null)",
        "void fraction of probes from the covariance-matched Gaussian",
        "lower bound > null's upper bound",
    ),
    (
        "Probes in voids decode to nonsense",
        "meaningful rate of 128 decoded void probes (95 % interval)",
        "upper bound < 0.5",
    ),
    (
        "The decoder changes the image off the data (a void probe's image is not its nearest point's)",
        "median image distance, void probe to its nearest data point, over neighbouring data points'",
        ">= 2.0",
    ),
    (
        "Random z from N(0, I) decode to non-faces",
        "meaningful rate of N(0, I) samples (95 % interval)",
        "upper bound < 0.5",
    ),
    (
        "A GMM fitted to the data z samples faces more often than N(0, I) (RAE, Ghosh et al. 2020)",
        "meaningful rate of GMM samples",
        "lower bound > N(0, I)'s upper bound",
    ),
]


def _numbers(**changes) -> dict:
    numbers = {
        "z_dim": 16,
        "model": "ae",
        "flagged_axes": [{}],
        "radius": {"peak": 4.0, "origin_share": 0.0},
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
    numbers.update(changes)
    return numbers


def _holds(numbers: dict, claim_index: int):
    return claims.check_claims(numbers)[claim_index]["holds"]


def test_every_claim_row_says_what_it_claims_measures_and_decides_by_word_for_word():
    rows = claims.check_claims(_numbers())
    assert [(r["claim"], r["measure"], r["rule"]) for r in rows] == ROWS
    assert all(set(r) >= {"claim", "measure", "value", "rule", "holds"} for r in rows)
    assert rows[0]["value"] == 1 / 16 and rows[1]["value"] == 1.0 and rows[3]["value"] == pytest.approx(4.0)


def test_the_flagged_share_holds_from_one_axis_up_to_exactly_a_tenth_and_not_at_none():
    z_dim = 20
    shares = {0: False, 1: True, 2: True, 3: False}  # 2 of 20 is exactly 0.1
    for flagged, holds in shares.items():
        assert _holds(_numbers(z_dim=z_dim, flagged_axes=[{}] * flagged), 0) is holds, flagged


def test_the_radius_peak_holds_exactly_at_both_ends_of_its_range():
    # z_dim 16: sqrt is 4, so peaks 3.0 and 5.32 are exactly 0.75 and 1.33 of it.
    for peak, holds in ((2.99, False), (3.0, True), (5.32, True), (5.33, False)):
        assert _holds(_numbers(radius={"peak": peak, "origin_share": 0.0}), 1) is holds, peak


def test_the_ae_vae_comparison_needs_the_vae_lower_bound_strictly_above_and_both_runs():
    ae = {"normal": {"rate": 0.1, "rate_lo": 0.05, "rate_hi": 0.2}}
    (row,) = claims.compare_claims(ae, {"normal": {"rate": 0.5, "rate_lo": 0.3, "rate_hi": 0.7}})
    assert (row["claim"], row["measure"], row["rule"]) == (
        "A VAE's N(0, I) samples decode to faces more often than an AE's",
        "VAE minus AE meaningful rate of N(0, I) samples",
        "VAE's lower bound > AE's upper bound",
    )
    assert row["value"] == pytest.approx(0.4) and row["holds"] is True
    touching = claims.compare_claims(ae, {"normal": {"rate": 0.5, "rate_lo": 0.2, "rate_hi": 0.7}})
    assert touching[0]["holds"] is False  # intervals that touch do not separate the two
    assert claims.compare_claims(ae, {}) == [] and claims.compare_claims({}, ae) == []


def _kneedle(ratio) -> int:
    # Brute force: the index farthest below the chord from the first to the last point, both axes scaled to [0, 1].
    r = np.asarray(ratio, dtype=float)
    n = len(r)
    best, best_gap = 0, -np.inf
    for i in range(n):
        x = i / (n - 1)
        y = (r[i] - r.min()) / (r.max() - r.min())
        gap = (1 - x) - y
        if gap > best_gap:
            best, best_gap = i, gap
    return best


def test_the_knee_matches_brute_force_on_random_spectra_and_at_its_edge_cases():
    gen = np.random.default_rng(0)
    for _ in range(30):
        n = int(gen.integers(3, 60))
        spectrum = np.sort(gen.exponential(size=n) ** gen.uniform(1, 4))[::-1]
        assert claims.flattens_at(spectrum / spectrum.sum()) == _kneedle(spectrum), spectrum
    assert claims.flattens_at([0.7, 0.2, 0.1]) == _kneedle([0.7, 0.2, 0.1]) == 1  # three components: a knee
    assert claims.flattens_at([0.7, 0.3]) == 0 and claims.flattens_at([1.0]) == 0  # fewer than three: none
    # Tiny but not flat spreads still have a knee: the flatness tolerance is relative to the largest share.
    assert claims.flattens_at(1e-6 * np.r_[0.7, 0.2, 0.1]) == 1
    # Spreads just above the tolerance (1e-12 of the largest share) are not flat, at 0.5 and at 1e-3.
    for almost in (0.5 + np.r_[1e-12, 0.2e-12, 0.0], 1e-3 + np.r_[1e-13, 0.2e-13, 0.0]):
        assert claims.flattens_at(almost) == _kneedle(almost) == 1
    assert claims.flattens_at(np.full(5, 0.2)) == 0
    with pytest.raises(ValueError, match="^the spectrum is empty$"):
        claims.flattens_at([])


def test_the_origin_share_counts_radii_strictly_inside_half_the_peak():
    radii = np.array([0.5, 0.99, 1.0, 1.5, 4.0])
    assert claims.origin_share(radii, peak=2.0) == pytest.approx(2 / 5)  # 1.0 is exactly half: not inside
    assert np.isnan(claims.origin_share([], peak=2.0))


def test_the_structure_summary_carries_every_number_of_the_run_and_its_null():
    stored = {"n_reference": 5000}
    for prefix, base in (("", 1.0), ("null_", 10.0)):
        stored.update(
            {
                f"{prefix}lid_median": base,
                f"{prefix}lid_median_lo": base - 0.5,
                f"{prefix}lid_median_hi": base + 0.5,
                f"{prefix}nn_median": base * 2,
                f"{prefix}threshold": base * 3,
                f"{prefix}void_normal": base / 100,
                f"{prefix}void_normal_lo": base / 200,
                f"{prefix}void_normal_hi": base / 50,
            }
        )

    def part(base):
        return {
            "lid_median": base,
            "lid_median_lo": base - 0.5,
            "lid_median_hi": base + 0.5,
            "nn_median": base * 2,
            "void_threshold": base * 3,
            "void_fraction": {"normal": base / 100},
            "void_interval": {"normal": [base / 200, base / 50]},
        }

    assert claims.structure_summary(stored) == {**part(1.0), "n_reference": 5000, "null": part(10.0)}


def _structure(lid=1.5, null_lid=30.0, voids=None, spans=None, null_voids=None, null_spans=None) -> dict:
    structure = {"lid_median": lid, "void_fraction": voids or {}, "void_interval": spans or {}}
    structure["null"] = {"lid_median": null_lid, "void_fraction": null_voids or {}, "void_interval": null_spans or {}}
    return structure


def _rows(structure: dict) -> dict:
    return {r["claim"]: r for r in claims.check_claims({"z_dim": 16, "structure": structure})}


THIN, ONE_D = ROWS[5][0], ROWS[6][0]
AROUND, RANDOM, CLUMPED = ROWS[7][0], ROWS[8][0], ROWS[9][0]


def test_thin_filaments_are_decided_against_the_null_exactly_at_half_and_never_against_a_zero_null():
    assert _rows(_structure(lid=15.0, null_lid=30.0))[THIN]["holds"] is True  # exactly 0.5 x null
    assert _rows(_structure(lid=15.01, null_lid=30.0))[THIN]["holds"] is False
    assert _rows(_structure(lid=0.25, null_lid=0.5))[THIN]["holds"] is True  # a null below 1 is a null too
    zero = _rows(_structure(lid=0.0, null_lid=0.0))
    assert zero[THIN]["holds"] is False and zero[ONE_D]["holds"] is False
    row = _rows(_structure(lid=2.0, null_lid=30.0))
    assert (row[THIN]["value"], row[THIN]["null"]) == (2.0, 30.0)
    assert row[ONE_D]["holds"] is True  # exactly 2 dimensions, and thin
    assert _rows(_structure(lid=2.01, null_lid=30.0))[ONE_D]["holds"] is False
    without_null = {"lid_median": 1.5, "null": {}}
    assert THIN not in _rows(without_null) and THIN not in _rows({"null": {"lid_median": 3.0}})


def test_void_claims_need_the_lower_bound_strictly_above_half_and_the_null_and_take_the_value_without_an_interval():
    null = {"full_gaussian": 0.01, "uniform_box": 0.6}
    null_spans = {"full_gaussian": [0.0, 0.02], "uniform_box": [0.55, 0.65]}
    both = {"full_gaussian": 0.97, "uniform_box": 0.99}
    rows = _rows(_structure(voids=both, spans={"full_gaussian": [0.65, 1.0], "uniform_box": [0.65, 1.0]},
                            null_voids=null, null_spans=null_spans))  # fmt: skip
    assert rows[AROUND]["holds"] is True and rows[RANDOM]["holds"] is False  # 0.65 is not above the null's 0.65
    assert (rows[AROUND]["value"], rows[AROUND]["null"]) == (0.97, 0.01)
    at_half = _rows(_structure(voids=both, spans={"full_gaussian": [0.5, 1.0]}, null_voids=null,
                               null_spans=null_spans))  # fmt: skip
    assert at_half[AROUND]["holds"] is False  # a lower bound of exactly 0.5 is not above it
    # Without intervals, the fractions themselves are the bounds.
    plain = _rows(
        _structure(
            voids={"full_gaussian": 0.6, "uniform_box": 0.7}, null_voids={"full_gaussian": 0.6, "uniform_box": 0.5}
        )
    )
    assert plain[AROUND]["holds"] is False and plain[CLUMPED]["holds"] is False and plain[RANDOM]["holds"] is True
    # Clumped: the lower bound above the null's upper bound, not touching it.
    touching = _rows(
        _structure(
            voids={"full_gaussian": 0.1},
            spans={"full_gaussian": [0.05, 0.2]},
            null_voids={"full_gaussian": 0.01},
            null_spans={"full_gaussian": [0.0, 0.05]},
        )
    )
    assert touching[CLUMPED]["holds"] is False
    above = _rows(
        _structure(
            voids={"full_gaussian": 0.1},
            spans={"full_gaussian": [0.06, 0.2]},
            null_voids={"full_gaussian": 0.01},
            null_spans={"full_gaussian": [0.0, 0.05]},
        )
    )
    assert above[CLUMPED]["holds"] is True and above[AROUND]["holds"] is False


def test_a_probe_kind_missing_from_the_run_or_its_null_gives_no_row_and_does_not_hide_the_others():
    only_box = _rows(_structure(voids={"uniform_box": 0.9}, null_voids={"uniform_box": 0.2}))
    assert RANDOM in only_box and AROUND not in only_box and CLUMPED not in only_box
    no_null = _rows(_structure(voids={"full_gaussian": 0.9, "uniform_box": 0.9}, null_voids={"uniform_box": 0.2}))
    assert AROUND not in no_null and CLUMPED not in no_null and RANDOM in no_null


def test_decoded_void_probes_need_an_upper_bound_strictly_below_half_and_some_probes():
    def rows(decodes):
        return {r["claim"]: r for r in claims.check_claims({"z_dim": 16, "void_decodes": decodes})}

    nonsense, changes = ROWS[10][0], ROWS[11][0]
    base = {"n": 64, "rate": 0.3, "rate_lo": 0.2, "rate_hi": 0.5}
    assert rows(base)[nonsense]["holds"] is False and changes not in rows(base)  # exactly 0.5; no image ratio
    assert (
        rows({**base, "rate_hi": 0.49})[nonsense]["measure"]
        == "meaningful rate of 64 decoded void probes (95 % interval)"
    )
    assert rows({**base, "rate_hi": 0.49})[nonsense]["holds"] is True
    assert rows({**base, "image_ratio": 2.0})[changes]["holds"] is True  # exactly 2
    assert rows({**base, "image_ratio": 1.99})[changes]["holds"] is False
    assert rows({**base, "n": 0}) == {} and rows({}) == {}


def test_sampler_rate_claims_are_strict_at_their_bounds():
    def rows(rates):
        return {r["claim"]: r for r in claims.check_claims({"z_dim": 16, "rates": rates})}

    normal, gmm = ROWS[12][0], ROWS[13][0]
    at = {"normal": {"rate": 0.4, "rate_lo": 0.3, "rate_hi": 0.5}, "gmm": {"rate": 0.6, "rate_lo": 0.5, "rate_hi": 0.7}}
    found = rows(at)
    assert found[normal]["holds"] is False and found[gmm]["holds"] is False  # both exactly at their bounds
    assert found[normal]["value"] == 0.4 and found[gmm]["value"] == 0.6
    below = rows({"normal": {**at["normal"], "rate_hi": 0.49}, "gmm": {**at["gmm"], "rate_lo": 0.51}})
    assert below[normal]["holds"] is True and below[gmm]["holds"] is True
    assert gmm not in rows({"gmm": at["gmm"]})  # the GMM claim is against N(0, I): without it, no row


def test_the_rows_carry_their_numbers_and_the_remaining_thresholds_hold_exactly_at_their_bounds():
    numbers = _numbers(radius={"peak": 4.0, "origin_share": 0.003})
    rows = claims.check_claims(numbers)
    assert rows[2]["value"] == 0.003 and rows[4]["value"] == 10  # the origin share; the knee's components
    assert (rows[6]["value"], rows[6]["null"]) == (1.5, 30.0)  # one-dimensional: the run's and the null's LID
    assert (rows[9]["value"], rows[9]["null"]) == (0.97, 0.01)  # clumped: the Gaussian probes' void fractions
    assert (rows[10]["value"], rows[11]["value"]) == (0.05, 3.0)  # decoded void probes: rate and image ratio
    assert _holds(_numbers(radius={"peak": 4.0, "origin_share": 0.01}), 2) is False  # exactly 0.01 is not below it
    assert _holds(_numbers(pca={"pc1_share": 0.2, "pc2_share": 0.1, "flattens_at": 10}), 3) is True  # exactly 2.0
    for knee, holds in ((0, False), (1, True), (20, True), (21, False)):
        assert _holds(_numbers(pca={"pc1_share": 0.2, "pc2_share": 0.05, "flattens_at": knee}), 4) is holds, knee
