"""The decoded lattice: a mosaic of decodes laid over a plane's viewport, each tile with its nearest-data percentile."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from figures.style import PAGE, colour, styled

#: A tile whose decoded z lies farther from the data than this percentile of the data's own nearest-neighbour
#: distances sits in a void (the void threshold of :data:`analysis.structure.VOID_QUANTILE`); its label is red.
VOID_PERCENTILE = 99.0


def lattice_figure(
    source: str,
    x_range,
    y_range,
    centres,
    percentiles=None,
    side: str = "a",
    labels: tuple[str, str] = ("", ""),
    height: int = 460,
) -> go.Figure:
    """A mosaic image stretched over the viewport, in the plane's own axes, with one label per tile.

    Parameters
    ----------
    source : str
        The mosaic as an image URI (k x k tiles, top row = the viewport's top).
    x_range, y_range : pair of float
        The viewport the tiles cover.
    centres : array_like, shape (k * k, 2)
        Each tile's plane position (:func:`analysis.lattice.positions`).
    percentiles : array_like, shape (k * k,), optional
        Each tile's nearest-data distance as a percentile of the data's nearest-neighbour distances;
        None leaves the tiles unlabelled.
    side : {"a", "b"}
        Which run of a comparison (the frame's colour).
    labels : (str, str)
        The x and y axis titles (the plane's, with its units).
    """
    (x0, x1), (y0, y1) = (tuple(float(v) for v in r) for r in (x_range, y_range))
    centres = np.asarray(centres, dtype=np.float64)
    k = max(1, round(np.sqrt(len(centres))))
    fig = go.Figure()
    fig.add_layout_image(
        source=source, xref="x", yref="y", x=x0, y=y1, sizex=x1 - x0, sizey=y1 - y0, sizing="stretch", layer="below"
    )
    hover = [f"tile at ({x:.3g}, {y:.3g})" for x, y in centres]
    at = centres.copy()
    marker = {"size": 14, "opacity": 0}
    text, colours = None, None
    if percentiles is not None:
        pct = np.asarray(percentiles, dtype=np.float64)
        hover = [
            f"{h}<br>nearest data: {p:.0f}th pct of the data's NN distances" for h, p in zip(hover, pct, strict=True)
        ]
        at[:, 1] -= (y1 - y0) / k * 0.38  # the label sits at the foot of its tile, clear of the face
        text = [f"{p:.0f}" for p in pct]
        colours = ["#cf222e" if p >= VOID_PERCENTILE else "#1f2328" for p in pct]
        marker = {"size": 17, "symbol": "square", "color": "white", "opacity": 0.75}
    # One trace for every label (a white square under its number): 144 layout annotations cost plotly seconds.
    fig.add_trace(
        go.Scatter(
            x=at[:, 0],
            y=at[:, 1],
            mode="markers" if text is None else "markers+text",
            marker=marker,
            text=text,
            textposition="middle center",
            textfont={"size": 9, "color": colours},
            hovertext=hover,
            hoverinfo="text",
            name="tile labels",
            showlegend=False,
        )
    )
    styled(fig, PAGE, height=height)
    fig.update_xaxes(range=[x0, x1], title_text=labels[0], showgrid=False, zeroline=False)
    fig.update_yaxes(range=[y0, y1], title_text=labels[1], showgrid=False, zeroline=False)
    fig.update_layout(
        shapes=[
            {
                "type": "rect",
                "xref": "x",
                "yref": "y",
                "x0": x0,
                "x1": x1,
                "y0": y0,
                "y1": y1,
                "line": {"color": colour(side), "width": 2},
            }
        ],
        dragmode=False,
    )
    return fig
