"""A sweep's numbers against β and a run's numbers over its training epochs, in the page's or the report's style.

The curves are :func:`study.sweep.sweep_curve`'s (``betas``, ``rates``, ``void_fraction``, ...) and
:func:`analysis.snapshots.epoch_curve`'s (``epochs`` and one list per number), passed as plain dicts.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from figures.style import COLOURS, NULL_COLOUR, REPORT, Style, styled

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


def _style(fig: go.Figure, title: str, height: int, medium: Style) -> go.Figure:
    styled(fig, medium, title, height)
    # Room below for the beta axis's categories and the legend under them.
    fig.update_layout(margin={"t": 60, "b": 96}, legend={"yanchor": "top"})
    return fig


def beta_labels(betas) -> list[str]:
    """β values as the x-axis categories (evenly spaced: 0 has no place on a log axis)."""
    return [f"{float(b):g}" for b in betas]


def sweep_rates_figure(curve: dict, medium: Style = REPORT) -> go.Figure:
    """Meaningful rate per sampler against β, each with its 95 % bootstrap interval as error bars."""
    x = beta_labels(curve["betas"])
    fig = go.Figure()
    for index, (sampler, rates) in enumerate(curve["rates"].items()):
        rate, lo, hi = (np.asarray(_values(rates[k])) for k in ("rate", "lo", "hi"))
        fig.add_trace(
            go.Scatter(
                x=x, y=rate, name=sampler, mode="lines+markers",
                line={"color": COLOURS[index % len(COLOURS)], "dash": "dot" if sampler == "data" else "solid"},
                error_y={"type": "data", "symmetric": False, "array": hi - rate, "arrayminus": rate - lo},
            )
        )  # fmt: skip
    fig.update_xaxes(title_text="β (0: the AE)", type="category")
    fig.update_yaxes(title_text="meaningful rate", range=[-0.02, 1.02])
    return _style(fig, f"{curve['sweep']}: meaningful rate per sampler against β", 420, medium)


def _panel_series(curve: dict, key: str) -> list[tuple[str, dict]]:
    """(name, {"value", "lo", "hi", "null"} lists) per line of a panel; plain lists have only a value."""
    value = curve[key]
    if isinstance(value, list):
        return [(key, {"value": value})]
    if "value" in value:
        return [(key, value)]
    return list(value.items())


def sweep_structure_figure(curve: dict, medium: Style = REPORT) -> go.Figure:
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
            colour = COLOURS[index % len(COLOURS)]
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
                        showlegend=False, line={"color": NULL_COLOUR if len(series) == 1 else colour, "dash": "dash"},
                    ),
                    row=row, col=col,
                )  # fmt: skip
        fig.update_xaxes(type="category", title_text="β", row=row, col=col)
    return _style(fig, f"{curve['sweep']}: structure and fit against β (dashed: the Gaussian null)", 600, medium)


def epoch_figure(name: str, curve: dict, medium: Style = REPORT, epoch: int | None = None) -> go.Figure:
    """A run's per-epoch numbers: one panel per entry of :data:`EPOCH_PANELS` (those the run has).

    ``epoch``: marked with a vertical line in every panel (the page's epoch slider).
    """
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
                    showlegend=len(keys) > 1, line={"color": COLOURS[index % len(COLOURS)]},
                ),
                row=row, col=col,
            )  # fmt: skip
        # Whole epochs as ticks while they fit, not 1.5, 2.5.
        ticks = {"tickvals": curve["epochs"]} if len(curve["epochs"]) <= 12 else {}
        fig.update_xaxes(title_text="epoch", row=row, col=col, **ticks)
        if epoch is not None:
            fig.add_vline(x=epoch, line={"color": NULL_COLOUR, "dash": "dot", "width": 1}, row=row, col=col)
    return _style(fig, f"{name}: the latent space over training ({curve['rows']:,} snapshot rows)", 300 * rows, medium)


def epoch_plane_figure(name: str, side, x, y, epoch: int, pcs: tuple[int, int], ranges: tuple) -> go.Figure:
    """A run's snapshot z-points after ``epoch`` on two components of the last snapshot's PCA (page style).

    ``ranges``: ((x0, x1), (y0, y1)), the same for every epoch, so the points move and the axes stay.
    """
    from figures.style import PAGE, colour

    fig = go.Figure(
        go.Scattergl(
            x=np.asarray(x), y=np.asarray(y), mode="markers", name=f"{name} epoch {epoch}",
            marker={"size": 4, "color": colour(side), "opacity": 0.6}, hoverinfo="skip",
        )
    )  # fmt: skip
    fig.update_xaxes(title_text=f"PC {pcs[0]} (of the last snapshot)", range=list(ranges[0]))
    fig.update_yaxes(title_text=f"PC {pcs[1]}", range=list(ranges[1]))
    return styled(fig, PAGE, f"{name}: {len(x):,} snapshot points after epoch {epoch}", 420)
