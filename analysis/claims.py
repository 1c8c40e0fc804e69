"""The seed study's claims, each decided by one number of a run.

The seed (an AE on CelebA, z_dim 256) makes claims a run can check: a few
axes stand out, the radius peaks near sqrt(z_dim), the origin is empty, one
principal component dominates and the spectrum flattens after ~10, the
z-points lie on thin, nearly one-dimensional filaments around voids, random
z decode to non-faces. :func:`check_claims` turns a run's numbers into one row
per claim: the number that decides it, the same number for the null model
where there is one, the rule, and whether it holds. The rules are ours (the
seed gives no thresholds); each is written next to its number, so a reader
can disagree with it.

Every structure claim is decided against the covariance-matched Gaussian null
(:func:`analysis.structure.gaussian_null`): a plain ellipsoid of the data's
own mean, covariance and size. A number that the ellipsoid reaches too says
nothing about filaments or voids — in 256 dimensions a uniform probe in the
data's box is in a void of *any* cloud, and a Gaussian with a decaying
spectrum has a local dimension far below z_dim. The rules were fixed from
these two known cases (tests/analysis/test_claims.py: a Gaussian ellipsoid
must not hold, a synthetic filament cloud must), never from a run's answer.
"""

from __future__ import annotations

import numpy as np

#: Holds-rules of the claims (see :func:`check_claims`).
RADIUS_PEAK_RANGE = (0.75, 1.33)
MAX_FLAGGED_SHARE = 0.1
MAX_ORIGIN_SHARE = 0.01
MIN_PC1_OVER_PC2 = 2.0
MAX_FLATTENS_AT = 20
#: Thin: the data's median local dimension is at most this share of the null's.
MAX_LID_OVER_NULL = 0.5
MAX_STRING_DIMENSION = 2.0
#: "Usually": the share of covariance-matched Gaussian probes (or uniform probes) in a void.
MIN_VOID_FRACTION = 0.5
MAX_NONFACE_RATE = 0.5
#: A void probe "decodes to something else" when its image is this many times farther from its nearest
#: data point's image than neighbouring data points' images are from each other.
MIN_VOID_IMAGE_RATIO = 2.0


def flattens_at(ratio) -> int:
    """Where the PCA spectrum flattens: the knee of the explained-variance curve, in components.

    The seed read it off a linear plot ("the importance smooths out to an almost
    constant value after the first 10 components"); the knee here is the same
    reading made exact: with both axes scaled to [0, 1], the component farthest
    below the straight line from the first to the last share (the "Kneedle"
    knee of Satopää, Albrecht, Irwin & Raghavan, ICDCS workshops 2011).
    Returns the number of components before it; 0 for a flat spectrum.

    Parameters
    ----------
    ratio : array_like, shape (n,)
        Explained-variance ratios, descending.
    """
    r = np.asarray(ratio, dtype=np.float64).ravel()
    if r.size == 0:
        raise ValueError("the spectrum is empty")
    span = r.max() - r.min()
    if r.size < 3 or span <= 1e-12 * max(r.max(), 1e-300):
        return 0
    x = np.linspace(0.0, 1.0, r.size)
    y = (r - r.min()) / span
    return int(np.argmax((1.0 - x) - y))


def origin_share(radii, peak: float) -> float:
    """Share of points closer to the origin than half the radius peak."""
    r = np.asarray(radii, dtype=np.float64)
    return float(np.mean(r < 0.5 * float(peak))) if r.size else float("nan")


def structure_summary(stored: dict) -> dict:
    """The structure numbers of :func:`check_claims` from a run's cached structure measures.

    Parameters
    ----------
    stored : dict
        :data:`analysis.results.structure_measures` of a run.

    Returns
    -------
    dict
        ``lid_median`` (with ``lid_median_lo`` / ``_hi``), ``nn_median``, ``void_threshold``,
        ``void_fraction`` (probe kind -> share), ``void_interval`` (kind -> [lo, hi]), ``n_reference``,
        and ``null``: the same keys for the covariance-matched Gaussian null.
    """
    kinds = [key.removeprefix("void_") for key in stored if key.startswith("void_") and key[-3:] not in ("_lo", "_hi")]

    def part(prefix: str) -> dict:
        return {
            "lid_median": float(stored[f"{prefix}lid_median"]),
            "lid_median_lo": float(stored[f"{prefix}lid_median_lo"]),
            "lid_median_hi": float(stored[f"{prefix}lid_median_hi"]),
            "nn_median": float(stored[f"{prefix}nn_median"]),
            "void_threshold": float(stored[f"{prefix}threshold"]),
            "void_fraction": {kind: float(stored[f"{prefix}void_{kind}"]) for kind in kinds},
            "void_interval": {
                kind: [float(stored[f"{prefix}void_{kind}_lo"]), float(stored[f"{prefix}void_{kind}_hi"])]
                for kind in kinds
            },
        }

    return {**part(""), "n_reference": int(stored["n_reference"]), "null": part("null_")}


def _row(claim: str, measure: str, value, rule: str, holds) -> dict:
    return {"claim": claim, "measure": measure, "value": value, "rule": rule, "holds": holds}


def check_claims(numbers: dict) -> list[dict]:
    """One row per seed claim for one run.

    Parameters
    ----------
    numbers : dict
        A run's summary (see ``study.summary``): ``z_dim``, ``model``, ``radius`` (``peak``,
        ``origin_share``), ``flagged_axes`` (list), ``pca`` (``pc1_share``, ``pc2_share``,
        ``flattens_at``), ``structure`` (``lid_median``, ``void_fraction`` and ``void_interval`` per
        probe kind, and ``null`` with the same keys for the covariance-matched Gaussian),
        ``void_decodes`` (``n``, ``rate``, ``rate_lo``, ``rate_hi``, ``image_ratio``: decoded void probes)
        and ``rates`` (sampler -> row with ``rate``, ``rate_lo``, ``rate_hi``), each optional.

    Returns
    -------
    list of dict
        ``claim``, ``measure`` (what the number is), ``value``, ``rule`` and ``holds``
        (True, False, or None when the run lacks the number); structure rows also
        ``null``: the same number for the null model.
    """
    z_dim = int(numbers["z_dim"])
    rows = []
    flagged = numbers.get("flagged_axes")
    if flagged is not None:
        share = len(flagged) / z_dim
        rows.append(
            _row(
                "Most axes are near-Gaussian around 0; a few stand out (off-centre or broad)",
                "flagged axes / z_dim",
                share,
                f"0 < share <= {MAX_FLAGGED_SHARE}",
                bool(0 < share <= MAX_FLAGGED_SHARE),
            )
        )
    radius = numbers.get("radius") or {}
    if "peak" in radius:
        value = radius["peak"] / np.sqrt(z_dim)
        lo, hi = RADIUS_PEAK_RANGE
        rows.append(
            _row(
                "The radius density peaks near sqrt(z_dim)",
                "radius peak / sqrt(z_dim)",
                value,
                f"{lo} <= value <= {hi}",
                bool(lo <= value <= hi),
            )
        )
    if "origin_share" in radius:
        rows.append(
            _row(
                "The region close to the origin is empty",
                "share of points with |z| < peak / 2",
                radius["origin_share"],
                f"< {MAX_ORIGIN_SHARE}",
                bool(radius["origin_share"] < MAX_ORIGIN_SHARE),
            )
        )
    pca = numbers.get("pca") or {}
    if "pc1_share" in pca:
        value = pca["pc1_share"] / max(pca["pc2_share"], 1e-300)
        rows.append(
            _row(
                "One principal component dominates",
                "PC1 share / PC2 share",
                value,
                f">= {MIN_PC1_OVER_PC2}",
                bool(value >= MIN_PC1_OVER_PC2),
            )
        )
        rows.append(
            _row(
                "The PCA spectrum is flat after about 10 components",
                "components above the flat rest",
                pca["flattens_at"],
                f"1 <= value <= {MAX_FLATTENS_AT}",
                bool(1 <= pca["flattens_at"] <= MAX_FLATTENS_AT),
            )
        )
    rows.extend(_structure_rows(numbers.get("structure") or {}))
    rows.extend(_void_decode_rows(numbers.get("void_decodes") or {}))
    rows.extend(_rate_rows(numbers.get("rates") or {}))
    return rows


def _null_row(claim: str, measure: str, value, null, rule: str, holds) -> dict:
    row = _row(claim, measure, value, rule, holds)
    row["null"] = null
    return row


def _structure_rows(structure: dict) -> list[dict]:
    null = structure.get("null") or {}
    return _filament_rows(structure, null) + _void_rows(structure, null)


def _filament_rows(structure: dict, null: dict) -> list[dict]:
    rows = []
    if "lid_median" in structure and "lid_median" in null:
        lid, null_lid = structure["lid_median"], null["lid_median"]
        ratio = lid / null_lid if null_lid > 0 else float("nan")
        thin = bool(ratio <= MAX_LID_OVER_NULL)
        rows.append(
            _null_row(
                "The z-points lie on thin filaments (local dimension far below that of a Gaussian of their shape)",
                "median local intrinsic dimension (MLE, k = 20)",
                lid,
                null_lid,
                f"value <= {MAX_LID_OVER_NULL} x null",
                thin,
            )
        )
        rows.append(
            _null_row(
                "The filaments are basically one-dimensional",
                "median local intrinsic dimension",
                lid,
                null_lid,
                f"value <= {MAX_STRING_DIMENSION} and thin (row above)",
                bool(lid <= MAX_STRING_DIMENSION and thin),
            )
        )
    return rows


def _void_rows(structure: dict, null: dict) -> list[dict]:
    rows = []
    voids = structure.get("void_fraction") or {}
    spans = structure.get("void_interval") or {}
    null_voids, null_spans = null.get("void_fraction") or {}, null.get("void_interval") or {}
    for kind, claim, what in (
        (
            "full_gaussian",
            "The z-points lie around voids: a z drawn from the data's own Gaussian usually falls into one",
            "void fraction of probes from the covariance-matched Gaussian",
        ),
        (
            "uniform_box",
            "A randomly positioned z falls into a void (more often than around a Gaussian of the data's shape)",
            "void fraction of uniform probes in the data's box",
        ),
    ):
        if kind not in voids or kind not in null_voids:
            continue
        lo, _ = spans.get(kind, (voids[kind], voids[kind]))
        _, null_hi = null_spans.get(kind, (null_voids[kind], null_voids[kind]))
        rows.append(
            _null_row(
                claim,
                what,
                voids[kind],
                null_voids[kind],
                f"lower bound > {MIN_VOID_FRACTION} and > null's upper bound",
                bool(lo > MIN_VOID_FRACTION and lo > null_hi),
            )
        )
    if "full_gaussian" in voids and "full_gaussian" in null_voids:
        lo, _ = spans.get("full_gaussian", (voids["full_gaussian"],) * 2)
        _, null_hi = null_spans.get("full_gaussian", (null_voids["full_gaussian"],) * 2)
        rows.append(
            _null_row(
                "The z-points are more clumped than a Gaussian of their shape (some voids beyond the null)",
                "void fraction of probes from the covariance-matched Gaussian",
                voids["full_gaussian"],
                null_voids["full_gaussian"],
                "lower bound > null's upper bound",
                bool(lo > null_hi),
            )
        )
    return rows


def _void_decode_rows(decodes: dict) -> list[dict]:
    if not decodes or not decodes.get("n"):
        return []
    rows = [
        _row(
            "Probes in voids decode to nonsense",
            f"meaningful rate of {decodes['n']} decoded void probes (95 % interval)",
            decodes["rate"],
            f"upper bound < {MAX_NONFACE_RATE}",
            bool(decodes["rate_hi"] < MAX_NONFACE_RATE),
        )
    ]
    if "image_ratio" in decodes:
        rows.append(
            _row(
                "The decoder changes the image off the data (a void probe's image is not its nearest point's)",
                "median image distance, void probe to its nearest data point, over neighbouring data points'",
                decodes["image_ratio"],
                f">= {MIN_VOID_IMAGE_RATIO}",
                bool(decodes["image_ratio"] >= MIN_VOID_IMAGE_RATIO),
            )
        )
    return rows


def _rate_rows(rates: dict) -> list[dict]:
    rows = []
    normal = rates.get("normal")
    if normal is not None:
        rows.append(
            _row(
                "Random z from N(0, I) decode to non-faces",
                "meaningful rate of N(0, I) samples (95 % interval)",
                normal["rate"],
                f"upper bound < {MAX_NONFACE_RATE}",
                bool(normal["rate_hi"] < MAX_NONFACE_RATE),
            )
        )
    gmm = rates.get("gmm")
    if normal is not None and gmm is not None:
        rows.append(
            _row(
                "A GMM fitted to the data z samples faces more often than N(0, I) (RAE, Ghosh et al. 2020)",
                "meaningful rate of GMM samples",
                gmm["rate"],
                "lower bound > N(0, I)'s upper bound",
                bool(gmm["rate_lo"] > normal["rate_hi"]),
            )
        )
    return rows


def compare_claims(ae_rates: dict, vae_rates: dict) -> list[dict]:
    """Claims that need an AE beside a VAE: the VAE's N(0, I) samples decode to faces more often.

    Parameters
    ----------
    ae_rates, vae_rates : dict
        sampler -> rate row (``rate``, ``rate_lo``, ``rate_hi``) of an AE run and a VAE run.
    """
    ae, vae = ae_rates.get("normal"), vae_rates.get("normal")
    if ae is None or vae is None:
        return []
    return [
        _row(
            "A VAE's N(0, I) samples decode to faces more often than an AE's",
            "VAE minus AE meaningful rate of N(0, I) samples",
            vae["rate"] - ae["rate"],
            "VAE's lower bound > AE's upper bound",
            bool(vae["rate_lo"] > ae["rate_hi"]),
        )
    ]
