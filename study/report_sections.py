"""The sections of the report page: HTML strings built from the summary and the runs' cached analyses."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np

import rundir
from analysis import results
from analysis.precompute import QUICK
from analysis.tsne import TsneParams, largest_perplexity
from figures.distributions import density_figure, radius_figure, spectrum_figure
from figures.planes import PlanePoints, padded_range, plane_figure
from figures.structure import structure_figure
from figures.style import REPORT
from study.summary import cached_or_quick

esc = html.escape
#: A run's name in the report: ``SWEEP/NAME`` for a run of a sweep folder, as ``summary.json`` names it.
name_of = rundir.qualified_name

#: Points drawn per scatter at most (a subsample beyond; the title says so).
MAX_SHOWN = 4000
#: Principal components the report's spectrum shows.
SPECTRUM_SHOWN = 40


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return "–" if not np.isfinite(value) else f"{value:.{digits}g}"
    return esc(str(value))


def _table(header: list[str], rows: list[list], cls: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table class='{cls}'><tr>{head}</tr>{body}</table>"


def _verdict(holds) -> str:
    if holds is None:
        return "<span class='na'>not decided</span>"
    return "<span class='holds'>holds</span>" if holds else "<span class='fails'>does not hold</span>"


def overview(summary: dict) -> str:
    rows = [[esc(s["run"]), s["model"].upper(), _fmt(s["z_dim"]), _fmt(s["n_points"])] for s in summary["runs"]]
    return "<h2>Runs</h2>" + _table(["run", "model", "z_dim", "z-points"], rows)


def claims_table(summary: dict) -> str:
    rows = []
    for s in summary["runs"]:
        for c in s["claims"]:
            rows.append(
                [
                    esc(s["run"]),
                    esc(c["claim"]),
                    esc(c["measure"]),
                    _fmt(c["value"]),
                    _fmt(c.get("null")),
                    esc(c["rule"]),
                    _verdict(c["holds"]),
                ]
            )
    for c in summary["comparison"]:
        runs = f"{esc(c['ae'])} vs {esc(c['vae'])}"
        rows.append(
            [runs, esc(c["claim"]), esc(c["measure"]), _fmt(c["value"]), "–", esc(c["rule"]), _verdict(c["holds"])]
        )
    return (
        "<h2>Seed claims</h2><p class='note'>Each claim of the seed study checked on these runs with the number "
        "that decides it and, for the structure claims, the same number for the null model (a Gaussian with the "
        "run's mean and covariance and as many points): a claim of filaments or voids holds only where the data "
        "differ from it. The rules are ours; the seed gives none.</p>"
        + claims_answer(summary)
        + _table(["run", "claim", "number", "value", "null", "rule", "verdict"], rows)
    )


def claims_answer(summary: dict) -> str:
    """The table's answer in words, per run: the claims that hold on it and those that do not."""
    lines = []
    for s in summary["runs"]:
        parts = []
        for holds, words in ((True, "holds"), (False, "does not hold")):
            claims = [esc(c["claim"]) for c in s["claims"] if c["holds"] is holds]
            parts.append(f"{words}: {'; '.join(claims) if claims else 'none'}")
        lines.append(f"<li><b>{esc(s['run'])}</b> — {'. '.join(parts)}.</li>")
    return "<ul class='answer'>" + "".join(lines) + "</ul>"


def distributions(runs: list[Path], summary: dict, figure) -> str:
    density, radius, spectrum = [], [], []
    for side, run in enumerate(runs):
        hist = results.histograms(run)
        flagged = np.zeros(hist["counts"].shape[0], dtype=bool)
        numbers = next(s for s in summary["runs"] if s["run"] == name_of(run))
        flagged[[a["axis"] for a in numbers["flagged_axes"]]] = True
        density.append({"name": name_of(run), "side": side, **hist, "flagged": flagged})
        radius.append({"name": name_of(run), "side": side, **results.radius_profile(run)})
        spectrum.append({"name": name_of(run), "side": side, "ratio": results.pca(run).explained_variance_ratio_})
    axes = []
    for s in summary["runs"]:
        axes += [
            [esc(s["run"]), _fmt(a["axis"]), _fmt(a["mode"]), _fmt(a["fwhm"]), esc(a["reason"])]
            for a in s["flagged_axes"]
        ]
    radius_rows = [
        [
            esc(s["run"]),
            _fmt(s["radius"]["peak"]),
            _fmt(s["radius"]["sqrt_z_dim"]),
            _fmt(s["radius"]["peak_over_sqrt_z_dim"]),
        ]
        for s in summary["runs"]
    ]
    pca_rows = [
        [esc(s["run"]), _fmt(s["pca"]["pc1_share"]), _fmt(s["pca"]["pc2_share"]), _fmt(s["pca"]["flattens_at"])]
        for s in summary["runs"]
    ]
    return (
        "<h2>Number density along the axes</h2>"
        + figure(density_figure(density, REPORT, "Number density along every axis (flagged axes bold)"))
        + "<h3>Flagged axes</h3>"
        + _table(["run", "axis", "mode", "FWHM", "why flagged"], axes)
        + "<h2>Radius</h2>"
        + figure(radius_figure(radius, REPORT, "Number density against the radius |z|"))
        + _table(["run", "peak", "sqrt(z_dim)", "peak / sqrt(z_dim)"], radius_rows)
        + "<h2>PCA spectrum</h2>"
        + figure(spectrum_figure(spectrum, REPORT, f"PCA spectrum (first {SPECTRUM_SHOWN} components)", SPECTRUM_SHOWN))
        + _table(["run", "PC1 share", "PC2 share", "flattens after (components)"], pca_rows)
    )


def _scatter(xy: np.ndarray, total: int, title: str, labels: tuple[str, str], side: int, box=None):
    """Points on a plane, drawn with the page's plane figure; the title says when fewer are drawn than exist.

    ``box``: (x0, x1, y0, y1) to fix the view (the zoom levels of the seed's PCA planes).
    """
    xy = np.asarray(xy, dtype=np.float32).reshape(-1, 2)
    note = f" — {len(xy):,} of {total:,} points drawn" if len(xy) < total else f" — {total:,} points"
    x_range, y_range = ((box[0], box[1]), (box[2], box[3])) if box else (padded_range(xy[:, 0]), padded_range(xy[:, 1]))
    points = PlanePoints(xy, np.arange(len(xy)), x_range, y_range, x_label=labels[0], y_label=labels[1], side=side)
    return plane_figure(points, REPORT, title + note, clickable_space=False, height=360)


def _subsample(count: int, limit: int, seed: int = 0) -> np.ndarray:
    if count <= limit:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size=limit, replace=False))


def planes(runs: list[Path], figure, shares) -> str:
    parts = [
        "<h2>PCA planes at three zoom levels</h2><p class='note'>PC1 against PC2: the whole cloud, then the "
        "central squares that hold " + ", ".join(f"{s:.0%}" for s in shares) + " of the points (the seed zoomed "
        "in the same way to find voids between lines).</p>"
    ]
    for side, run in enumerate(runs):
        xy = results.pca(run).transform(rundir.load_zpoints(run), 2)
        reach = np.max(np.abs(xy), axis=1)
        cells = []
        keep = _subsample(len(xy), MAX_SHOWN)
        cells.append(figure(_scatter(xy[keep], len(xy), f"{name_of(run)}: PC1-PC2", ("PC1", "PC2"), side)))
        for share in shares:
            half = float(max(np.quantile(reach, share), 1e-9))
            inside = np.flatnonzero(reach <= half)
            pick = inside[_subsample(len(inside), MAX_SHOWN)]
            box = (-half, half, -half, half)
            title = f"{name_of(run)}: square of side {2 * half:.3g}"
            cells.append(figure(_scatter(xy[pick], len(inside), title, ("PC1", "PC2"), side, box)))
        parts.append(f"<div class='pair'>{''.join(cells)}</div>")
    return "".join(parts)


def quick_tsne_params(run: Path) -> dict:
    """The report's own t-SNE map of a run without one: QUICK's points, the perplexity capped on a small run."""
    n = min(QUICK["tsne_n"], len(rundir.load_zpoints(run)))
    wanted = TsneParams().perplexity
    perplexity = largest_perplexity(n, wanted)
    return {"n_points": n} if perplexity == wanted else {"n_points": n, "perplexity": perplexity}


def perplexity_note(params: dict) -> str:
    """A sentence when the perplexity was capped for a small run (empty otherwise)."""
    if "perplexity" not in params:
        return ""
    return (
        f" Its perplexity is {params['perplexity']:.3g}, not {TsneParams().perplexity:g}: t-SNE needs more than "
        f"3 x perplexity points and the run has {params['n_points']:,}."
    )


def tsne_maps(runs: list[Path], figure) -> str:
    parts = ["<h2>t-SNE maps</h2>"]
    for side, run in enumerate(runs):
        found = results.tsne.available(run)
        if not found:
            found = [quick_tsne_params(run)]
            parts.append(
                f"<p class='note'>{esc(name_of(run))}: no cached t-SNE map; one of {found[0]['n_points']:,} points "
                "was computed for this report (run <code>zspace analyze</code> for the full set)."
                f"{perplexity_note(found[0])}</p>"
            )
        cells = []
        for params in found:
            fit = results.tsne(run, **params)
            reduced = params.get("pca_components")
            what = f"after PCA-{reduced}" if reduced else "raw z"
            keep = _subsample(len(fit.embedding), MAX_SHOWN)
            title = f"{name_of(run)}: t-SNE {what}, perplexity {params.get('perplexity', 30):.3g}"
            cells.append(figure(_scatter(fit.embedding[keep], len(fit.embedding), title, ("t-SNE 1", "t-SNE 2"), side)))
        parts.append(f"<div class='pair'>{''.join(cells)}</div>")
    return "".join(parts)


def structure(runs: list[Path], summary: dict, figure) -> str:
    parts = [
        "<h2>Structure: filaments and voids</h2><p class='note'>Each number beside the same number for the null "
        "model: a Gaussian with the run's own mean and covariance and as many points. Neighbour distances are "
        "measured against every z-point; a probe is in a void when it is farther from every data point than 99 % "
        "of the data points are from their nearest neighbour. Void fractions with their 95 % Wilson interval.</p>"
    ]
    rows = []
    for run in runs:
        stored, params, _ = cached_or_quick(
            results.structure_measures, run, n_points=QUICK["structure_n"], n_probes=QUICK["probes"]
        )
        parts.append(figure(structure_figure(name_of(run), stored)))
        s = next(s for s in summary["runs"] if s["run"] == name_of(run))["structure"]
        null = s["null"]
        for label, mine, theirs in (
            ("median local dimension", _fmt(s["lid_median"]), _fmt(null["lid_median"])),
            ("median nearest-neighbour distance", _fmt(s["nn_median"]), _fmt(null["nn_median"])),
            ("void threshold (99th percentile)", _fmt(s["void_threshold"]), _fmt(null["void_threshold"])),
        ):
            rows.append([esc(name_of(run)), esc(label), mine, theirs])
        for kind, value in s["void_fraction"].items():
            lo, hi = s["void_interval"][kind]
            nlo, nhi = null["void_interval"][kind]
            rows.append(
                [
                    esc(name_of(run)),
                    esc(f"void fraction of {kind} probes"),
                    f"{value:.3f} [{lo:.3f}, {hi:.3f}]",
                    f"{null['void_fraction'][kind]:.3f} [{nlo:.3f}, {nhi:.3f}]",
                ]
            )
        rows.append(
            [
                esc(name_of(run)),
                "points (each cloud); points measured",
                _fmt(s["n_reference"]),
                _fmt(params["n_points"]),
            ]
        )
    return "".join(parts) + _table(["run", "number", "data", "Gaussian null (same N)"], rows)


def png_uri(image: np.ndarray) -> str:
    """A uint8 image as a ``data:image/png;base64,...`` URI (the report embeds every image)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
