"""The report's series: a sweep's numbers against β, and a run's numbers over its training epochs.

Sections (HTML strings) and their static figures; the numbers come from
``summary.json`` (``sweeps``: :func:`study.sweep.sweep_curve`; a run's
``epochs``: :func:`analysis.snapshots.epoch_curve`), so the page draws exactly
what the file holds.
"""

from __future__ import annotations

import html

import numpy as np

from figures.series import epoch_figure, sweep_rates_figure, sweep_structure_figure

esc = html.escape


def _cell(value, digits: int = 3) -> str:
    return "–" if value is None or not np.isfinite(float(value)) else f"{float(value):.{digits}g}"


def _rate(curve: dict, sampler: str, i: int) -> str:
    rates = curve["rates"].get(sampler)
    if rates is None or rates["rate"][i] is None:
        return "–"
    return f"{rates['rate'][i]:.2f} [{rates['lo'][i]:.2f}, {rates['hi'][i]:.2f}]"


def sweep_section(curve: dict, figure) -> str:
    """One sweep: its rates and structure against β, and a table of the numbers per run."""
    header = ["β", "run", "model", "N(0, I) rate", "GMM rate", "void (N(0, I))", "median LID", "recon MSE", "KL"]
    header.append("active units")
    rows = []
    for i, beta in enumerate(curve["betas"]):
        reason = "" if curve["usable"][i] else f" <span class='na'>({esc(curve['reasons'][i])})</span>"
        rows.append(
            [f"{beta:g}", esc(curve["runs"][i]) + reason, curve["models"][i].upper(), _rate(curve, "normal", i)]
            + [_rate(curve, "gmm", i), _cell(curve["void_fraction"]["normal"]["value"][i])]
            + [_cell(curve["lid_median"]["value"][i])]
            + [_cell(curve["recon_mse"][i]), _cell(curve["kl"][i]), _cell(curve["active_units"][i])]
        )
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return (
        f"<h2>β sweep: {esc(curve['sweep'])}</h2><p class='note'>One run per β of the same architecture and "
        "training (β = 0 is the AE): the seed's AE and VAE are two points of these curves. Rates as in the sampler "
        "table; structure at <code>zspace analyze --quick</code> sizes; reconstruction error over 256 decoded data "
        "points; KL of the posteriors from N(0, I) over every z-point (none for the AE); active units: axes whose "
        "posterior mean varies by more than 0.01 across the data (Burda et al. 2016).</p>"
        + figure(sweep_rates_figure(curve))
        + figure(sweep_structure_figure(curve))
        + f"<table><tr>{head}</tr>{body}</table>"
    )


def epoch_section(name: str, curve: dict, figure) -> str:
    """One run's numbers over training, from its snapshots."""
    params = curve["params"]
    return (
        f"<h2>Over training: {esc(name)}</h2><p class='note'>The same {curve['rows']:,} images encoded after epochs "
        f"{', '.join(str(e) for e in curve['epochs'])}; each snapshot measured like the Structure view "
        f"({params['n_points']:,} points, k = {params['k']}, {params['n_probes']:,} probes per kind). Losses from "
        "history.csv.</p>" + figure(epoch_figure(name, curve))
    )


def series(summary: dict, figure) -> str:
    """Every sweep's section, then every run's per-epoch section (empty when there are none)."""
    parts = [sweep_section(curve, figure) for curve in summary.get("sweeps", [])]
    parts += [epoch_section(s["run"], s["epochs"], figure) for s in summary["runs"] if s.get("epochs")]
    return "".join(parts)
