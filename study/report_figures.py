"""Figures of the report: pure functions from arrays to ``plotly.graph_objects.Figure``.

They draw the seed's figures for a static, offline page: SVG scatter (no
WebGL, which an offline viewer may lack) with a bounded number of points, and
the plain ``"none"`` template (a few hundred bytes instead of ~10 kB per figure).
The dashboard's own builders live in ``app/figures`` (a floor above); these
are the report's.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

#: One colour per run of a report, in the order given (a report shows at most this many runs).
COLOURS = (
    "#1f6feb", "#d9480f", "#2f9e44", "#9c36b5", "#e8590c", "#0c8599", "#c2255c", "#5c940d",
    "#1864ab", "#862e9c", "#a61e4d", "#2b8a3e", "#364fc7", "#d6336c", "#087f5b", "#74b816",
)  # fmt: skip
#: The same colours, faint (the many unflagged axes of the density figure).
FAINT = tuple(f"rgba({int(c[1:3], 16)},{int(c[3:5], 16)},{int(c[5:7], 16)},0.22)" for c in COLOURS)
#: Colour of the null model (the covariance-matched Gaussian) in every figure.
NULL_COLOUR = "#6e7781"
#: Points drawn per scatter at most (a subsample beyond; the title says so).
MAX_SHOWN = 4000


def _layout(fig: go.Figure, title: str, height: int = 380, **axes) -> go.Figure:
    fig.update_layout(
        template="none",
        title={"text": title, "x": 0.01, "font": {"size": 14}},
        height=height,
        margin={"l": 56, "r": 16, "t": 44, "b": 48},
        font={"family": "Helvetica, Arial, sans-serif", "size": 12},
        legend={"orientation": "h", "y": -0.2},
    )
    for name, text in axes.items():
        getattr(fig, f"update_{name}axes")(title_text=text)
    return fig


def density_figure(series: list[dict]) -> go.Figure:
    """Per-axis number density of every axis, overlaid; flagged axes bold.

    ``series``: per run ``name``, ``edges`` (bins + 1), ``counts`` (z_dim x bins), ``flagged`` (z_dim bools).
    """
    fig = go.Figure()
    for side, run in enumerate(series):
        edges = np.asarray(run["edges"], dtype=np.float64)
        centres = ((edges[:-1] + edges[1:]) / 2).astype(np.float32)
        counts = np.asarray(run["counts"], dtype=np.float64)
        dens = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) / np.diff(edges)[None, :]
        flagged = np.asarray(run["flagged"], dtype=bool)
        for axis in [*np.flatnonzero(~flagged), *np.flatnonzero(flagged)]:
            bold = bool(flagged[axis])
            fig.add_trace(
                go.Scatter(
                    x=centres,
                    y=dens[axis].astype(np.float32),
                    mode="lines",
                    line={"width": 2.2 if bold else 0.7, "color": COLOURS[side] if bold else FAINT[side]},
                    name=f"{run['name']} axis {axis}",
                    showlegend=False,
                )
            )
    return _layout(fig, "Number density along every axis (flagged axes bold)", x="z value", y="density")


def radius_figure(series: list[dict]) -> go.Figure:
    """Radius histograms with the chi reference of N(0, I). ``series``: ``name``, ``edges``, ``counts``, ``reference``."""
    fig = go.Figure()
    for side, run in enumerate(series):
        edges = np.asarray(run["edges"], dtype=np.float64)
        centres = ((edges[:-1] + edges[1:]) / 2).astype(np.float32)
        fig.add_trace(
            go.Bar(
                x=centres,
                y=np.asarray(run["counts"], dtype=np.float32),
                width=float(np.diff(edges).mean()),
                marker={"color": COLOURS[side], "opacity": 0.5},
                name=f"{run['name']} |z|",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=centres,
                y=np.asarray(run["reference"], dtype=np.float32),
                mode="lines",
                line={"color": COLOURS[side], "dash": "dash"},
                name=f"{run['name']} chi reference (N(0, I), peak near sqrt(z_dim))",
            )
        )
    fig.update_layout(barmode="overlay")
    return _layout(fig, "Number density against the radius |z|", x="radius |z|", y="points per bin")


def spectrum_figure(series: list[dict], shown: int = 40) -> go.Figure:
    """Explained-variance share of the leading ``shown`` principal components. ``series``: ``name``, ``ratio``."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for side, run in enumerate(series):
        ratio = np.asarray(run["ratio"], dtype=np.float32)
        pcs = np.arange(1, len(ratio) + 1, dtype=np.int32)[:shown]
        fig.add_trace(
            go.Bar(x=pcs, y=ratio[:shown], marker={"color": COLOURS[side], "opacity": 0.6}, name=f"{run['name']} share")
        )
        fig.add_trace(
            go.Scatter(
                x=pcs, y=np.cumsum(ratio)[:shown], line={"color": COLOURS[side]}, name=f"{run['name']} cumulative"
            ),
            secondary_y=True,
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, 1.02], secondary_y=True)
    return _layout(fig, f"PCA spectrum (first {shown} components)", x="principal component", y="explained variance")


def scatter_figure(
    xy: np.ndarray, total: int, title: str, x_label: str, y_label: str, side: int = 0, box=None
) -> go.Figure:
    """Points on a plane; ``total`` is how many exist (the title says when fewer are drawn).

    ``box``: (x0, x1, y0, y1) to fix the view (the zoom levels of the seed's PCA planes).
    """
    xy = np.asarray(xy, dtype=np.float32).reshape(-1, 2)
    note = f" — {len(xy):,} of {total:,} points drawn" if len(xy) < total else f" — {total:,} points"
    fig = go.Figure(
        go.Scatter(
            x=xy[:, 0],
            y=xy[:, 1],
            mode="markers",
            marker={"size": 3 if len(xy) > 1000 else 4, "color": COLOURS[side], "opacity": 0.7},
            name="z-points",
        )
    )
    _layout(fig, title + note, height=360, x=x_label, y=y_label)
    if box is not None:
        fig.update_xaxes(range=[box[0], box[1]])
        fig.update_yaxes(range=[box[2], box[3]], scaleanchor="x", scaleratio=1)
    return fig


def structure_figure(name: str, stored: dict) -> go.Figure:
    """Filaments and voids of one run beside its covariance-matched Gaussian null.

    Left: local intrinsic dimension of the data and of the null. Right: each
    data point's distance to its nearest neighbour (data and null) and each
    probe's distance to the nearest data point; dashed: the data's void threshold.
    ``stored``: :data:`analysis.results.structure_measures` of the run.
    """
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("local intrinsic dimension (MLE)", "distance to the nearest data point")
    )
    for key, label, colour in (("lid", "data", COLOURS[0]), ("null_lid", "Gaussian null", NULL_COLOUR)):
        values = np.asarray(stored[key], dtype=np.float64)
        fig.add_trace(
            go.Histogram(
                x=values[np.isfinite(values)].astype(np.float32),
                nbinsx=40,
                name=f"local dimension: {label}",
                opacity=0.6,
                marker={"color": colour},
            ),
            row=1,
            col=1,
        )
    for key, label in (("data_nn", "data"), ("null_data_nn", "Gaussian null")):
        colour = COLOURS[0] if key == "data_nn" else NULL_COLOUR
        fig.add_trace(
            go.Histogram(
                x=np.asarray(stored[key], np.float32),
                name=f"{label} to its neighbour",
                opacity=0.6,
                nbinsx=50,
                marker={"color": colour},
            ),
            row=1,
            col=2,
        )
    for key in (key for key in stored if key.startswith("probe_nn_")):
        fig.add_trace(
            go.Histogram(
                x=np.asarray(stored[key], np.float32),
                name=f"probes: {key.removeprefix('probe_nn_')}",
                opacity=0.4,
                nbinsx=50,
            ),
            row=1,
            col=2,
        )
    fig.add_vline(x=float(stored["threshold"]), line={"dash": "dash", "color": "#444"}, row=1, col=2)
    fig.update_layout(barmode="overlay")
    return _layout(
        fig, f"{name}: filaments and voids beside a Gaussian of the same shape (dashed: void threshold)", height=380
    )


def rates_figure(rows: list[dict]) -> go.Figure:
    """Meaningful rate per sampler and run, with its 95 % bootstrap interval as error bars."""
    fig = go.Figure()
    runs = list(dict.fromkeys(row["run"] for row in rows))
    for side, run in enumerate(runs):
        mine = [row for row in rows if row["run"] == run]
        rate = np.array([row["rate"] for row in mine])
        fig.add_trace(
            go.Bar(
                x=[row["sampler"] for row in mine],
                y=rate,
                error_y={
                    "type": "data",
                    "array": np.array([row["rate_hi"] for row in mine]) - rate,
                    "arrayminus": rate - np.array([row["rate_lo"] for row in mine]),
                },
                marker={"color": COLOURS[side % 2]},
                name=f"{run} ({mine[0]['model'].upper()})",
            )
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, 1.05])
    return _layout(fig, "Meaningful rate per sampler (95 % bootstrap interval)", x="sampler", y="meaningful rate")
