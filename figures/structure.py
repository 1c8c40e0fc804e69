"""Structure figures: local intrinsic dimension and nearest-neighbour distances, data against probes (and the null)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from figures.style import NULL_COLOUR, PAGE, PROBE_COLOURS, REPORT, Style, colour, styled


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
                marker={"color": colour(run["side"])},
                opacity=0.55,
                nbinsx=60,
            )
        )
    styled(fig, PAGE, height=340)
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text="local intrinsic dimension (MLE, 20 neighbours)")
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
    curves = [("data", values[0], colour(side), 2.5)]
    curves += [(kind, values[i + 1], PROBE_COLOURS[i % len(PROBE_COLOURS)], 1.5) for i, kind in enumerate(probe_nn)]
    for label, dist, hue, width in curves:
        counts, _ = np.histogram(dist, bins=edges)
        share = (counts / max(len(dist), 1)).astype(np.float32)
        fig.add_trace(go.Scatter(x=centres, y=share, mode="lines", name=label, line={"color": hue, "width": width}))
    fig.add_vline(x=float(threshold), line={"dash": "dash", "color": "#59636e"})
    styled(fig, PAGE, title=f"{name}: distance to the nearest data point", height=340)
    fig.update_xaxes(type="log", title_text="distance (log scale)")
    fig.update_yaxes(title_text="share of points")
    return fig


def structure_figure(name: str, stored: dict, style: Style = REPORT) -> go.Figure:
    """Filaments and voids of one run beside its covariance-matched Gaussian null.

    Left: local intrinsic dimension of the data and of the null. Right: each
    data point's distance to its nearest neighbour (data and null) and each
    probe's distance to the nearest data point; dashed: the data's void threshold.
    ``stored``: :data:`analysis.results.structure_measures` of the run.
    """
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("local intrinsic dimension (MLE)", "distance to the nearest data point")
    )
    for key, label, hue in (("lid", "data", colour(0)), ("null_lid", "Gaussian null", NULL_COLOUR)):
        values = np.asarray(stored[key], dtype=np.float64)
        values = values[np.isfinite(values)].astype(np.float32)
        fig.add_trace(_histogram(values, f"local dimension: {label}", hue, 0.6, 40), row=1, col=1)
    for key, label, hue in (("data_nn", "data", colour(0)), ("null_data_nn", "Gaussian null", NULL_COLOUR)):
        fig.add_trace(_histogram(stored[key], f"{label} to its neighbour", hue, 0.6, 50), row=1, col=2)
    for key in (key for key in stored if key.startswith("probe_nn_")):
        fig.add_trace(_histogram(stored[key], f"probes: {key.removeprefix('probe_nn_')}", None, 0.4, 50), row=1, col=2)
    fig.add_vline(x=float(stored["threshold"]), line={"dash": "dash", "color": "#444"}, row=1, col=2)
    fig.update_layout(barmode="overlay")
    title = f"{name}: filaments and voids beside a Gaussian of the same shape (dashed: void threshold)"
    return styled(fig, style, title)


def _histogram(values, name: str, hue: str | None, opacity: float, bins: int) -> go.Histogram:
    marker = {"color": hue} if hue else None
    return go.Histogram(x=np.asarray(values, np.float32), name=name, opacity=opacity, nbinsx=bins, marker=marker)
