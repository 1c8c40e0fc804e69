"""The sampler lab's sections of the report: quality beside coverage, the verdict and its judge, decoded samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from figures.rates import quality_coverage_figure, rates_figure
from study import scoring
from study.report_sections import _fmt, _table, esc, name_of, png_uri

#: Columns of the rate table with an interval, and their headers.
RATE_CELLS = (
    ("rate", "meaningful"),
    ("precision", "precision"),
    ("recall", "recall"),
    ("diversity", "diversity"),
    ("auc", "two-sample AUC"),
    ("judge_rate", "judge: faces"),
    ("agreement", "verdict = judge"),
)


def _cell(row: dict, name: str) -> str:
    value = row.get(name)
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:.2f} [{row[name + '_lo']:.2f}, {row[name + '_hi']:.2f}]"


def _decision(row: dict) -> str:
    if row.get("good"):
        return "<span class='holds'>good</span>"
    missing = [name for name in ("quality", "coverage") if not row.get(name)]
    return "<span class='fails'>no: " + esc(" and ".join(missing)) + "</span>"


def rates(summary: dict, figure) -> str:
    rows, table = [], []
    for s in summary["runs"]:
        for sampler, row in s["rates"].items():
            rows.append(row)
            table.append(
                [esc(s["run"]), esc(sampler)]
                + [_cell(row, name) for name, _ in RATE_CELLS]
                + [_decision(row), _cell(row, "consistent")]
            )
    settings = summary["settings"]
    header = ["run", "sampler", *(label for _, label in RATE_CELLS), "sampler", "re-encode consistent"]
    return (
        "<h2>Samplers: quality and coverage</h2>"
        f"<p class='note'>{settings['samples_per_rate']} decoded samples per row, each set compared with as many "
        "decoded held-out data points (the comparison set). <i>meaningful</i>: the share of images whose "
        f"{' and '.join(settings['verdict_measures'])} are within the range of "
        f"{settings['calibration_quantile']:.0%} of this model's decoded data points (quality of each image). "
        "<i>precision</i> and <i>recall</i>: Kynkäänniemi et al. 2019 (k = 3, equal set sizes) on 16 x 16 "
        "area-averaged pixels; <i>diversity</i>: mean distance between two samples over that between two "
        "data decodes (1 = as varied as the data); <i>two-sample AUC</i>: how well a 10-nearest-neighbour "
        "classifier tells the samples from the comparison set (0.5 = it cannot). A sampler is <i>good</i> only "
        f"when its precision and its recall each reach {settings['good_share']:.0%} of the data row's. "
        f"<i>judge</i>: the independent judge on the first {settings['judged_per_rate']} samples of each row, "
        "and its agreement with the verdict. Intervals: 95 %, Wilson for shares, percentile bootstrap "
        f"({settings['bootstrap']} resamples) for diversity and AUC. <i>data</i> decodes held-out data points: "
        "what a sampler drawing the data itself reaches.</p>"
        + figure(rates_figure(rows))
        + figure(quality_coverage_figure(rows))
        + _table(header, table)
    )


def verdict_and_judge(summary: dict) -> str:
    parts = [
        "<h2>The verdict and its independent judge</h2><p class='note'>The verdict's thresholds and face space "
        "are fixed from this model's decoded data points and from known non-faces made without any sampler "
        "(noise, colour blobs, shuffled tiles of decodes, blends of two decodes), before any sampler is scored. "
        "The judge shares no code or threshold with it; its accuracy on known faces and non-faces comes first. "
        "Where the two disagree, the table says how often.</p>"
    ]
    rows = []
    for s in summary["runs"]:
        v = s["verdict"]
        passed = ", ".join(f"{kind} {share:.2f}" for kind, share in v["negatives_passed"].items())
        rows.append(
            [
                esc(s["run"]),
                f"{v['face_space_variance']:g} ({v['face_space_axes']} eigenfaces)",
                f"{v['calibration_passed']:.2f}",
                esc(passed),
            ]
        )
    parts.append(_table(["run", "face space kept", "decoded data passing", "known non-faces passing"], rows))
    judged = [s for s in summary["runs"] if s.get("judge")]
    if judged:
        parts += [_judge_accuracy(judged), _judge_agreement(judged)]
    return "".join(parts)


def _judge_accuracy(judged: list[dict]) -> str:
    kinds = [k for k in judged[0]["judge"]["accuracy"] if not k.endswith(("_lo", "_hi")) and k != "balanced"]
    rows = [
        [esc(s["run"]), esc(s["judge"]["name"])]
        + [_cell(s["judge"]["accuracy"], kind) for kind in kinds]
        + [_fmt(s["judge"]["accuracy"]["balanced"])]
        for s in judged
    ]
    return "<h3>The judge's own accuracy (known faces and known non-faces, 95 % Wilson intervals)</h3>" + _table(
        ["run", "judge", *(f"right on {k}" for k in kinds), "balanced"], rows
    )


def _judge_agreement(judged: list[dict]) -> str:
    rows = []
    for s in judged:
        for sampler, row in s["rates"].items():
            if row.get("judge_n"):
                counts = [_fmt(int(row[key])) for key in ("both", "verdict_only", "judge_only", "neither")]
                rows.append([esc(s["run"]), esc(sampler), _cell(row, "agreement"), _fmt(row["kappa"]), *counts])
    return "<h3>Verdict against judge, per sampler</h3>" + _table(
        ["run", "sampler", "agreement", "Cohen's kappa", "both: face", "verdict only", "judge only", "neither"],
        rows,
    )


def sample_grids(runs: list[Path], k: int, judged: bool) -> str:
    parts = [
        "<h2>Decoded samples per sampler</h2><p class='note'>Green frame: meaningful; red: not. "
        "Caption: realism / distance from face space / re-encoding ratio"
        + (", then the judge's word (J: face, ×: not)." if judged else ".")
        + "</p>"
    ]
    from study import judge as judge_mod

    for run in runs:
        parts.append(f"<h3>{esc(name_of(run))}</h3>")
        model = judge_mod.judge_model(run) if judged else None
        for sampler in scoring.ROWS:
            shown = scoring.scored_samples(run, sampler, k=k, seed=0)
            said = judge_mod.judge_images(model, shown.images)["face"] if model is not None else None
            tiles = []
            for i, image in enumerate(shown.images):
                s = shown.scores
                ok = bool(s["meaningful"][i])
                caption = f"{s['realism'][i]:.2f} / {s['dffs'][i]:.2f} / {s['reencode'][i]:.1f}"
                if said is not None:
                    caption += " · " + ("J" if said[i] else "×")
                tiles.append(
                    f"<div class='tile {'ok' if ok else 'no'}'><img alt='{esc(sampler)} sample {i}' "
                    f"src='{png_uri(image)}'><br>{caption}</div>"
                )
            parts.append(f"<div><b>{esc(sampler)}</b><div class='grid'>{''.join(tiles)}</div></div>")
    return "".join(parts)


def void_probes(runs: list[Path], summary: dict) -> str:
    from study.void_decodes import N_VOID, void_decodes

    parts = [
        "<h2>Probes in voids, decoded</h2><p class='note'>Random probes (every probe kind) that lie in a void of "
        "the data, decoded (top) beside the decode of their nearest data point (bottom). The seed's chain "
        "'random z fall into voids, and z in voids decode to non-faces' is decided from these decodes in the "
        "claims table: their meaningful rate, and how far each image is from its nearest data point's image "
        "relative to two neighbouring data points' images.</p>"
    ]
    rows = []
    for run in runs:
        s = next(s for s in summary["runs"] if s["run"] == name_of(run))["void_decodes"]
        found = ", ".join(f"{kind} {count}" for kind, count in s["found"].items())
        rows.append(
            [
                esc(name_of(run)),
                esc(f"{found} of {s['n_drawn']} each"),
                _fmt(s["n"]),
                _cell(s, "rate") if s["n"] else "–",
                _cell(s, "judge_rate") if "judge_rate" in s else "–",
                _fmt(s.get("image_ratio")),
            ]
        )
        if s["n"]:
            # The same entry the summary read (cached).
            stored = void_decodes(run, n_judge=min(summary["settings"]["judged_per_rate"], N_VOID))
            tiles = "".join(
                f"<div class='tile'><img alt='void probe {i}' src='{png_uri(a)}'><br>"
                f"<img alt='nearest data point {i}' src='{png_uri(b)}'></div>"
                for i, (a, b) in enumerate(zip(stored["images"][:8], stored["near_images"][:8], strict=True))
            )
            parts.append(f"<div><b>{esc(name_of(run))}</b><div class='grid'>{tiles}</div></div>")
    header = ["run", "void probes found per kind", "decoded", "meaningful", "judge: faces", "image ratio"]
    return "".join(parts) + _table(header, rows)


def method_notes(summary: dict) -> str:
    skipped = "".join(
        f"<li><b>{esc(run['run'])}</b>: {run['originals']['skipped']:,} training images of the real set "
        f"could not be loaded and were left out ({esc(run['originals']['note'])}).</li>"
        for run in summary["runs"]
        if run.get("originals", {}).get("skipped")
    )
    return (
        "<h2>How the numbers are made</h2><ul class='note'>"
        + skipped
        + "<li><b>realism</b>: Kynkäänniemi et al. (NeurIPS 2019) realism score on 16 x 16 area-averaged pixels "
        "against the balls of 1,000 training images, the larger half of the balls pruned as in the paper; "
        ">= 1 means inside a ball.</li>"
        "<li><b>dffs</b>: distance from the face space of the training images' leading principal components "
        "(Turk & Pentland 1991), over its median for decoded data points; how many components: the share of "
        "variance that best separates decoded data from the known non-faces.</li>"
        "<li><b>reencode</b>: |E(D(z)) - z| over its median for decoded data points (a VAE: active units only). "
        "Reported, not part of the verdict: it says whether z lies where the encoder puts data.</li>"
        "<li>Thresholds are calibrated per model on 512 decoded data points that are neither among the training "
        "images compared with nor in the data row nor in the comparison set.</li>"
        "<li>Structure numbers are measured against every z-point and set beside a Gaussian with the run's own "
        "mean and covariance and as many points; the claims are decided against it.</li>"
        "<li>Full definitions, sources, deviations and validations: docs/MEASURES.md.</li></ul>"
    )
