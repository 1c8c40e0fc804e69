"""Density, radius, PCA-spectrum and training-history figures (overlaid when runs are compared)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from figures.style import NULL_COLOUR, PAGE, Style, colour, faint, styled


def density_figure(series: list[dict], style: Style = PAGE, title: str = "") -> go.Figure:
    """All per-axis density curves of one or more runs, flagged axes drawn bold.

    Parameters
    ----------
    series : list of dict
        One per run: ``name``, ``side`` ("a"/"b", or a report's run index), ``edges`` (bins+1,),
        ``counts`` (z_dim x bins) and ``flagged`` (z_dim bools). On the page each curve's
        ``customdata`` is its axis, so clicking it selects that axis.
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
            fig.add_trace(_axis_curve(run, int(axis), centres, dens[axis], bool(flagged[axis]), style))
    styled(fig, style, title, height=420 if style.interactive else None)
    fig.update_xaxes(title_text="z value (per axis)")
    fig.update_yaxes(title_text="density")
    return fig


def _axis_curve(run: dict, axis: int, centres, density, bold: bool, style: Style) -> go.Scatter:
    line = {"width": 2.2 if bold else 0.8, "color": colour(run["side"]) if bold else faint(run["side"])}
    name = f"{run['name']} axis {axis}" + (" (flagged)" if bold else "")
    if not style.interactive:
        return go.Scatter(x=centres, y=density, mode="lines", line=line, name=name, showlegend=False)
    return go.Scatter(
        x=centres,
        y=density,
        mode="lines",
        line=line,
        # A plain list: Dash reads customdata back from the figure, and it cannot index a typed array.
        customdata=[axis] * len(centres),
        name=name,
        hovertemplate=f"{run['name']} axis {axis}<br>z %{{x:.2f}}<br>density %{{y:.3f}}<extra></extra>",
        showlegend=False,
    )


def radius_figure(series: list[dict], style: Style = PAGE, title: str = "") -> go.Figure:
    """Histogram of |z| per run with its chi reference (the radius of N(0, I) in z_dim dimensions).

    Runs whose references coincide (same z_dim, points and bins: an AE and a VAE of one
    architecture) share one reference curve, named after all of them and drawn in the null
    model's grey: two identical dashed curves on top of each other read as two references.

    Parameters
    ----------
    series : list of dict
        One per run: ``name``, ``side``, ``edges``, ``counts`` and ``reference`` (expected counts per bin).
    """
    fig = go.Figure()
    for run in series:
        edges = np.asarray(run["edges"], dtype=np.float64)
        fig.add_trace(
            go.Bar(
                x=_centres(edges),
                y=np.asarray(run["counts"], dtype=np.float32),
                width=float(np.diff(edges).mean()),
                marker={"color": colour(run["side"]), "opacity": 0.55},
                name=f"{run['name']} |z|",
            )
        )
    for reference in chi_references(series):
        shared = len(reference["names"]) > 1
        fig.add_trace(
            go.Scatter(
                x=_centres(reference["edges"]),
                y=np.asarray(reference["reference"], dtype=np.float32),
                mode="lines",
                line={"color": NULL_COLOUR if shared else colour(reference["side"]), "dash": "dash", "width": 2},
                name=f"chi reference (N(0, I)) of {', '.join(reference['names'])}",
            )
        )
    styled(fig, style, title, height=420 if style.interactive else None)
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text="radius |z|")
    fig.update_yaxes(title_text="points per bin")
    return fig


def _centres(edges) -> np.ndarray:
    edges = np.asarray(edges, dtype=np.float64)
    return ((edges[:-1] + edges[1:]) / 2).astype(np.float32)


def chi_references(series: list[dict]) -> list[dict]:
    """The distinct chi reference curves of ``series`` (see :func:`radius_figure`), in the runs' order.

    Two runs share a curve when their bins have one width on one grid and their references agree
    wherever both have a bin, over bins holding nearly all of each (each run's histogram spans its own
    data, so an AE's and a VAE's grids differ in extent, not in the curve). A shared curve spans the
    union of their bins.

    Returns
    -------
    list of dict
        ``edges``, ``reference``, ``side`` (of the first run using it) and ``names`` (every run using it).
    """
    groups: list[dict] = []
    for run in series:
        bins = _bins(run)
        group = next((g for g in groups if _same_curve(g["bins"], bins)), None)
        if group is None:
            groups.append({"bins": bins, "side": run["side"], "names": [run["name"]]})
        else:
            group["bins"] = {**bins, "values": {**bins["values"], **group["bins"]["values"]}}
            group["names"].append(run["name"])
    out = []
    for group in groups:
        bins = group["bins"]
        index = np.arange(min(bins["values"]), max(bins["values"]) + 1)
        edges = bins["origin"] + bins["width"] * np.append(index, index[-1] + 1)
        reference = np.array([bins["values"].get(int(i), 0.0) for i in index])
        out.append({"edges": edges, "reference": reference, "side": group["side"], "names": group["names"]})
    return out


def _bins(run: dict) -> dict:
    """A run's reference as {bin index on the grid of its width: expected count}."""
    edges = np.asarray(run["edges"], dtype=np.float64)
    reference = np.asarray(run["reference"], dtype=np.float64)
    width = float(np.diff(edges).mean())
    index = np.rint(edges[:-1] / width).astype(np.int64)
    return {"origin": 0.0, "width": width, "values": dict(zip(index.tolist(), reference.tolist(), strict=True))}


def _same_curve(a: dict, b: dict, held: float = 0.01) -> bool:
    # Agreement to 1e-6 on every shared bin decides; the shared bins must hold some of each curve (two
    # curves that are both ~0 wherever both have bins are not shown to be one).
    if not np.isclose(a["width"], b["width"], rtol=1e-9):
        return False
    common = sorted(set(a["values"]) & set(b["values"]))
    if not common:
        return False
    ours, theirs = (np.array([d["values"][i] for i in common]) for d in (a, b))
    totals = [sum(d["values"].values()) for d in (a, b)]
    if min(totals) <= 0 or ours.sum() < held * totals[0] or theirs.sum() < held * totals[1]:
        return False
    return bool(np.allclose(ours, theirs, rtol=1e-6, atol=1e-9 * max(totals)))


def spectrum_figure(series: list[dict], style: Style = PAGE, title: str = "", shown: int | None = None) -> go.Figure:
    """Explained variance ratio (bars) and its cumulative sum (line, right axis) per principal component.

    ``series``: per run ``name``, ``side`` and ``ratio``; ``shown``: the leading components drawn (default all).
    """
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for run in series:
        ratio = np.asarray(run["ratio"], dtype=np.float32)
        pcs = np.arange(1, len(ratio) + 1, dtype=np.int32)[:shown]
        line = colour(run["side"])
        fig.add_trace(
            go.Bar(x=pcs, y=ratio[:shown], name=f"{run['name']} ratio", marker={"color": line, "opacity": 0.6})
        )
        fig.add_trace(
            go.Scatter(x=pcs, y=np.cumsum(ratio)[:shown], name=f"{run['name']} cumulative", line={"color": line}),
            secondary_y=True,
        )
    styled(fig, style, title, height=420 if style.interactive else None)
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
    styled(fig, PAGE, title=f"{name}: training history", height=340)
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="loss")
    return fig
