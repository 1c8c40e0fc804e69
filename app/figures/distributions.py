"""Density, radius, PCA-spectrum and training-history figures (overlaid when two runs are compared)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.figures.style import SIDE_COLOURS, base_layout

_FAINT = {"a": "rgba(31,111,235,0.25)", "b": "rgba(217,72,15,0.25)"}


def density_figure(series: list[dict]) -> go.Figure:
    """All per-axis density curves of one or two runs, flagged axes drawn bold.

    Parameters
    ----------
    series : list of dict
        One per run: ``name``, ``side`` ("a"/"b"), ``edges`` (bins+1,), ``counts``
        (z_dim x bins) and ``flagged`` (z_dim bools). Each curve's ``customdata``
        is its axis, so clicking it selects that axis.
    """
    fig = go.Figure()
    for run in series:
        edges = np.asarray(run["edges"], dtype=np.float64)
        centres = ((edges[:-1] + edges[1:]) / 2).astype(np.float32)
        counts = np.asarray(run["counts"], dtype=np.float64)
        totals = np.maximum(counts.sum(axis=1, keepdims=True), 1) * np.diff(edges)[None, :]
        dens = (counts / totals).astype(np.float32)
        flagged = np.asarray(run["flagged"], dtype=bool)
        # Plain axes first, flagged axes last so they are drawn on top.
        for axis in [*np.flatnonzero(~flagged), *np.flatnonzero(flagged)]:
            bold = bool(flagged[axis])
            fig.add_trace(
                go.Scatter(
                    x=centres,
                    y=dens[axis],
                    mode="lines",
                    line={
                        "width": 2.2 if bold else 0.8,
                        "color": SIDE_COLOURS[run["side"]] if bold else _FAINT[run["side"]],
                    },
                    # A plain list: Dash reads customdata back from the figure, and it cannot index a typed array.
                    customdata=[int(axis)] * len(centres),
                    name=f"{run['name']} axis {axis}" + (" (flagged)" if bold else ""),
                    hovertemplate=f"{run['name']} axis {axis}<br>z %{{x:.2f}}<br>density %{{y:.3f}}<extra></extra>",
                    showlegend=False,
                )
            )
    base_layout(fig, height=420)
    fig.update_xaxes(title_text="z value (per axis)")
    fig.update_yaxes(title_text="density")
    return fig


def radius_figure(series: list[dict]) -> go.Figure:
    """Histogram of |z| per run with its chi reference (the radius of N(0, I) in z_dim dimensions).

    Parameters
    ----------
    series : list of dict
        One per run: ``name``, ``side``, ``edges``, ``counts`` and ``reference`` (expected counts per bin).
    """
    fig = go.Figure()
    for run in series:
        edges = np.asarray(run["edges"], dtype=np.float64)
        centres = ((edges[:-1] + edges[1:]) / 2).astype(np.float32)
        colour = SIDE_COLOURS[run["side"]]
        fig.add_trace(
            go.Bar(
                x=centres,
                y=np.asarray(run["counts"], dtype=np.float32),
                width=float(np.diff(edges).mean()),
                marker={"color": colour, "opacity": 0.55},
                name=f"{run['name']} |z|",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=centres,
                y=np.asarray(run["reference"], dtype=np.float32),
                mode="lines",
                line={"color": colour, "dash": "dash", "width": 2},
                name=f"{run['name']} chi reference (N(0, I))",
            )
        )
    base_layout(fig, height=420)
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text="radius |z|")
    fig.update_yaxes(title_text="points per bin")
    return fig


def spectrum_figure(series: list[dict]) -> go.Figure:
    """Explained variance ratio (bars) and cumulative (line, right axis) per principal component."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for run in series:
        ratio = np.asarray(run["ratio"], dtype=np.float32)
        pcs = np.arange(1, len(ratio) + 1, dtype=np.int32)
        colour = SIDE_COLOURS[run["side"]]
        fig.add_trace(go.Bar(x=pcs, y=ratio, name=f"{run['name']} ratio", marker={"color": colour, "opacity": 0.6}))
        fig.add_trace(
            go.Scatter(x=pcs, y=np.cumsum(ratio), name=f"{run['name']} cumulative", line={"color": colour}),
            secondary_y=True,
        )
    base_layout(fig, height=420)
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text="principal component")
    fig.update_yaxes(title_text="explained variance ratio", secondary_y=False)
    fig.update_yaxes(title_text="cumulative", range=[0, 1.02], secondary_y=True)
    return fig


def history_figure(name: str, columns: dict[str, np.ndarray]) -> go.Figure:
    """Training curves: every loss-like column of ``history.csv`` against the epoch."""
    fig = go.Figure()
    epochs = np.asarray(columns.get("epoch", np.arange(len(next(iter(columns.values()), [])))), dtype=np.float32)
    for key, values in columns.items():
        if key in ("epoch", "seconds", "images_per_sec"):
            continue
        fig.add_trace(go.Scatter(x=epochs, y=np.asarray(values, dtype=np.float32), mode="lines+markers", name=key))
    base_layout(fig, title=f"{name}: training history", height=340)
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="loss")
    return fig
