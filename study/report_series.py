"""The report's series: a sweep's numbers against β, and a run's numbers over its training epochs.

Sections (HTML strings) and their static figures; the numbers come from
``summary.json`` (``sweeps``: :func:`study.sweep.sweep_curve`; a run's
``epochs``: :func:`analysis.snapshots.epoch_curve`), so the page draws exactly
what the file holds.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from figures import style

esc = html.escape

#: The sweep's panels besides the rates: (title, curve key).
SWEEP_PANELS = (
    ("void fraction per probe kind", "void_fraction"),
    ("median local intrinsic dimension", "lid_median"),
    ("reconstruction error (pixel MSE)", "recon_mse"),
    ("KL(q(z|x) || N(0, I)), nats", "kl"),
    ("active units", "active_units"),
)
#: The per-epoch panels: (title, curve keys drawn in it).
EPOCH_PANELS = (
    ("median local intrinsic dimension (and its Gaussian null)", ("lid_median", "null_lid_median")),
    ("void fraction per probe kind", ("void_normal", "void_axis_gaussian", "void_full_gaussian", "void_uniform_box")),
    ("active units", ("active_units",)),
    ("mean radius |z|", ("radius_mean",)),
    ("PC1 share of variance", ("pc1_share",)),
    ("training loss", ("loss", "reconstruction_loss")),
    ("KL term of the loss", ("kl_loss",)),
)


def _values(values) -> list:
    return [np.nan if v is None else float(v) for v in values]


def _style(fig: go.Figure, title: str, height: int) -> go.Figure:
    style.styled(fig, style.REPORT, title, height)
    # Room below for the beta axis's categories and the legend under them.
    fig.update_layout(margin={"t": 60, "b": 96}, legend={"yanchor": "top"})
    return fig


def beta_labels(betas) -> list[str]:
    """β values as the x-axis categories (evenly spaced: 0 has no place on a log axis)."""
    return [f"{float(b):g}" for b in betas]


def sweep_rates_figure(curve: dict) -> go.Figure:
    """Meaningful rate per sampler against β, each with its 95 % bootstrap interval as error bars."""
    x = beta_labels(curve["betas"])
    fig = go.Figure()
    for index, (sampler, rates) in enumerate(curve["rates"].items()):
        rate, lo, hi = (np.asarray(_values(rates[k])) for k in ("rate", "lo", "hi"))
        fig.add_trace(
            go.Scatter(
                x=x, y=rate, name=sampler, mode="lines+markers",
                line={"color": style.COLOURS[index % len(style.COLOURS)], "dash": "dot" if sampler == "data" else "solid"},
                error_y={"type": "data", "symmetric": False, "array": hi - rate, "arrayminus": rate - lo},
            )
        )  # fmt: skip
    fig.update_xaxes(title_text="β (0: the AE)", type="category")
    fig.update_yaxes(title_text="meaningful rate", range=[-0.02, 1.02])
    return _style(fig, f"{curve['sweep']}: meaningful rate per sampler against β", 420)


def _panel_series(curve: dict, key: str) -> list[tuple[str, dict]]:
    """(name, {"value", "lo", "hi", "null"} lists) per line of a panel; plain lists have only a value."""
    value = curve[key]
    if isinstance(value, list):
        return [(key, {"value": value})]
    if "value" in value:
        return [(key, value)]
    return list(value.items())


def sweep_structure_figure(curve: dict) -> go.Figure:
    """The other numbers against β: void fractions and median local dimension (each with its 95 % interval and,
    dashed grey, its Gaussian null), reconstruction error, KL and active units."""
    x = beta_labels(curve["betas"])
    fig = make_subplots(rows=2, cols=3, subplot_titles=[title for title, _ in SWEEP_PANELS], vertical_spacing=0.25)
    for panel, (_title, key) in enumerate(SWEEP_PANELS):
        row, col = panel // 3 + 1, panel % 3 + 1
        series = _panel_series(curve, key)
        for index, (name, parts) in enumerate(series):
            value = np.asarray(_values(parts["value"]))
            bars = None
            if "lo" in parts:
                lo, hi = np.asarray(_values(parts["lo"])), np.asarray(_values(parts["hi"]))
                bars = {"type": "data", "symmetric": False, "array": hi - value, "arrayminus": value - lo}
            colour = style.COLOURS[index % len(style.COLOURS)]
            fig.add_trace(
                go.Scatter(
                    x=x, y=value, name=name, mode="lines+markers", showlegend=len(series) > 1,
                    line={"color": colour}, error_y=bars,
                ),
                row=row, col=col,
            )  # fmt: skip
            if "null" in parts:
                fig.add_trace(
                    go.Scatter(
                        x=x, y=_values(parts["null"]), name=f"{name}: Gaussian null", mode="lines",
                        showlegend=False, line={"color": style.NULL_COLOUR if len(series) == 1 else colour, "dash": "dash"},
                    ),
                    row=row, col=col,
                )  # fmt: skip
        fig.update_xaxes(type="category", title_text="β", row=row, col=col)
    return _style(fig, f"{curve['sweep']}: structure and fit against β (dashed: the Gaussian null)", 600)


def epoch_figure(name: str, curve: dict) -> go.Figure:
    """A run's per-epoch numbers: one panel per entry of :data:`EPOCH_PANELS` (those the run has)."""
    panels = [(title, [k for k in keys if k in curve]) for title, keys in EPOCH_PANELS]
    panels = [(title, keys) for title, keys in panels if keys]
    rows = (len(panels) + 2) // 3
    fig = make_subplots(rows=rows, cols=3, subplot_titles=[title for title, _ in panels], vertical_spacing=0.5 / rows)
    for panel, (_title, keys) in enumerate(panels):
        row, col = panel // 3 + 1, panel % 3 + 1
        for index, key in enumerate(keys):
            fig.add_trace(
                go.Scatter(
                    x=curve["epochs"], y=_values(curve[key]), name=key, mode="lines+markers",
                    showlegend=len(keys) > 1, line={"color": style.COLOURS[index % len(style.COLOURS)]},
                ),
                row=row, col=col,
            )  # fmt: skip
        # Whole epochs as ticks while they fit, not 1.5, 2.5.
        ticks = {"tickvals": curve["epochs"]} if len(curve["epochs"]) <= 12 else {}
        fig.update_xaxes(title_text="epoch", row=row, col=col, **ticks)
    return _style(fig, f"{name}: the latent space over training ({curve['rows']:,} snapshot rows)", 300 * rows)


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
