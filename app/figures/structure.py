"""Structure-panel figures: local intrinsic dimension and nearest-neighbour distances, data against probes."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from app.figures.style import SIDE_COLOURS, base_layout

#: Colours of the probe kinds (data is drawn in the run's colour).
PROBE_COLOURS = ("#6e7781", "#8250df", "#1a7f37", "#bf8700", "#cf222e", "#0969da", "#9a6700")


def lid_figure(series: list[dict]) -> go.Figure:
    """Histograms of the local intrinsic dimension of each run's points (overlaid).

    Parameters
    ----------
    series : list of dict
        One per run: ``name``, ``side`` and ``lid`` (per-point estimates; NaN ignored).
    """
    fig = go.Figure()
    for run in series:
        lid = np.asarray(run["lid"], dtype=np.float64)
        lid = lid[np.isfinite(lid)]
        fig.add_trace(
            go.Histogram(
                x=lid.astype(np.float32),
                name=f"{run['name']} (median {np.median(lid):.1f})" if len(lid) else run["name"],
                marker={"color": SIDE_COLOURS[run["side"]]},
                opacity=0.55,
                nbinsx=60,
            )
        )
    base_layout(fig, height=340)
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text="local intrinsic dimension (TwoNN, 20 neighbours)")
    fig.update_yaxes(title_text="points")
    return fig


def nn_distance_figure(name: str, side: str, data_nn, probe_nn: dict, threshold: float) -> go.Figure:
    """Distance to the nearest data point: of data points (to another one) and of each probe kind's points.

    Parameters
    ----------
    name, side : the run and its side ("a" / "b")
    data_nn : array
        Each data point's distance to its nearest other data point.
    probe_nn : dict
        Probe kind -> each probe's distance to the nearest data point.
    threshold : float
        The void threshold (a quantile of ``data_nn``): probes beyond it sit in a void.
    """
    fig = go.Figure()
    values = [np.asarray(data_nn, dtype=np.float64)] + [np.asarray(v, dtype=np.float64) for v in probe_nn.values()]
    positive = np.concatenate([v[v > 0] for v in values]) if values else np.array([1.0])
    # Log-spaced bins: data distances and void distances differ by orders of magnitude.
    edges = np.geomspace(max(positive.min(), 1e-6), max(positive.max(), 2e-6), 60)
    centres = np.sqrt(edges[:-1] * edges[1:]).astype(np.float32)
    curves = [("data", values[0], SIDE_COLOURS[side], 2.5)]
    curves += [(kind, values[i + 1], PROBE_COLOURS[i % len(PROBE_COLOURS)], 1.5) for i, kind in enumerate(probe_nn)]
    for label, dist, colour, width in curves:
        counts, _ = np.histogram(dist, bins=edges)
        share = (counts / max(len(dist), 1)).astype(np.float32)
        fig.add_trace(go.Scatter(x=centres, y=share, mode="lines", name=label, line={"color": colour, "width": width}))
    fig.add_vline(x=float(threshold), line={"dash": "dash", "color": "#59636e"})
    base_layout(fig, title=f"{name}: distance to the nearest data point", height=340)
    fig.update_xaxes(type="log", title_text="distance (log scale)")
    fig.update_yaxes(title_text="share of points")
    return fig
