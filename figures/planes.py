"""The plane scatter: z-points on a PC / axis / attribute plane or a t-SNE / UMAP map, or a density raster when too many."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from figures.style import PAGE, Style, colour, styled

#: Cells per side of the invisible click layer that makes empty space clickable.
CLICK_GRID = 64
#: Height (px) of a plane figure, and the margins and colour bar around its plot area (see :func:`figures.style.styled`).
PLANE_HEIGHT = 460
FRAME_X_PX, FRAME_Y_PX, COLOUR_BAR_PX = 70, 60, 90
#: Figure widths (px) a browser may report; anything outside is clamped (a hidden column reports 0).
MIN_WIDTH_PX, MAX_WIDTH_PX = 240, 3840


def raster_cells(width_px, height_px: int = PLANE_HEIGHT) -> tuple[int, int] | None:
    """Density-raster cells (along x, along y) for a plane figure ``width_px`` wide: one cell per plot pixel.

    ``width_px`` comes from the browser (the measured width of the graph); a
    value that is not a finite number gives None (the default raster), others
    are clamped to ``[MIN_WIDTH_PX, MAX_WIDTH_PX]`` so a request cannot ask for
    a huge raster.
    """
    if isinstance(width_px, bool) or not isinstance(width_px, int | float) or not np.isfinite(width_px):
        return None
    width = int(min(max(width_px, MIN_WIDTH_PX), MAX_WIDTH_PX))
    return max(16, width - FRAME_X_PX - COLOUR_BAR_PX), max(16, int(height_px) - FRAME_Y_PX)


def _click_layer(x_range, y_range) -> go.Heatmap:
    # Plotly fires no click event on empty plot area; a transparent heatmap under
    # the points turns every click into one with (x, y), which the decoder maps back to z.
    x = np.linspace(x_range[0], x_range[1], CLICK_GRID, dtype=np.float32)
    y = np.linspace(y_range[0], y_range[1], CLICK_GRID, dtype=np.float32)
    return go.Heatmap(
        x=x,
        y=y,
        z=np.zeros((CLICK_GRID, CLICK_GRID), dtype=np.float32),
        opacity=0,
        showscale=False,
        hoverinfo="none",
        name="empty space",
    )


@dataclass(frozen=True)
class PlanePoints:
    """What a plane figure shows.

    Attributes
    ----------
    xy : ndarray, shape (n, 2)
        Coordinates of the points shown.
    ids : ndarray, shape (n,)
        Their row ids (on the page sent as ``customdata``, so a click knows which point it hit).
    x_range, y_range : (float, float)
        The visible rectangle.
    colour : ndarray, shape (n,), optional
        Colour value per shown point; adds a colour bar titled ``colour_label``.
    raster : dict, optional
        ``x_edges``, ``y_edges``, ``counts`` of a density raster, drawn instead of points.
    side : str or int
        Which run: the page's "a" / "b" or a report's run index (sets the point colour).
    """

    xy: np.ndarray
    ids: np.ndarray
    x_range: tuple
    y_range: tuple
    colour: np.ndarray | None = None
    colour_label: str = ""
    raster: dict | None = None
    x_label: str = "x"
    y_label: str = "y"
    side: str | int = "a"


def plane_figure(
    points: PlanePoints,
    style: Style = PAGE,
    title: str = "",
    clickable_space: bool = True,
    uirevision: str = "plane",
    height: int = PLANE_HEIGHT,
) -> go.Figure:
    """Build the plane figure.

    Parameters
    ----------
    points : PlanePoints
    style : figures.style.Style
        The page's (WebGL, hover texts, click data) or the report's (SVG, a fixed square aspect).
    clickable_space : bool
        Add the transparent click layer (planes where empty space maps to a z; the page only).
    uirevision : str
        Plotly keeps the user's zoom while this stays the same; change it when the
        server moves the view itself (a new plane, the square control, a reset).
    """
    fig = go.Figure()
    if clickable_space and style.interactive:
        fig.add_trace(_click_layer(points.x_range, points.y_range))
    fig.add_trace(_raster(points.raster) if points.raster is not None else _scatter(points, style))
    styled(fig, style, title, height=height)
    fig.update_layout(showlegend=False, hovermode="closest", dragmode="zoom", uirevision=uirevision)
    fig.update_xaxes(title_text=points.x_label, range=list(map(float, points.x_range)))
    fig.update_yaxes(title_text=points.y_label, range=list(map(float, points.y_range)))
    if not style.interactive:  # a static picture: the plane's units the same along x and y
        fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def _raster(raster: dict) -> go.Heatmap:
    x_edges, y_edges = np.asarray(raster["x_edges"]), np.asarray(raster["y_edges"])
    counts = np.asarray(raster["counts"], dtype=np.float32).T  # plotly wants [y, x]
    # Empty cells stay transparent, so a raster with a cell per pixel looks like the point cloud it counts.
    shade = np.full(counts.shape, np.nan, dtype=np.float32)
    np.log1p(counts, out=shade, where=counts > 0)
    return go.Heatmap(
        x=((x_edges[:-1] + x_edges[1:]) / 2).astype(np.float32),
        y=((y_edges[:-1] + y_edges[1:]) / 2).astype(np.float32),
        z=shade,
        hoverongaps=False,
        colorscale="Viridis",
        colorbar={"title": {"text": "log(1+count)"}},
        hovertemplate="x %{x:.3f}<br>y %{y:.3f}<extra>density</extra>",
        name="density",
    )


def _scatter(points: PlanePoints, style: Style):
    xy = points.xy
    marker = {"size": 4 if len(xy) < 20000 else 2.5, "opacity": 0.75, "color": colour(points.side)}
    if points.colour is not None:
        marker.update(
            color=np.asarray(points.colour, dtype=np.float32),
            colorscale="Viridis",
            showscale=True,
            colorbar={"title": {"text": points.colour_label}, "thickness": 12},
        )
    x = np.ascontiguousarray(xy[:, 0], dtype=np.float32)
    y = np.ascontiguousarray(xy[:, 1], dtype=np.float32)
    if not style.interactive:  # SVG: an offline viewer may have no WebGL
        return go.Scatter(x=x, y=y, mode="markers", marker=marker, name="z-points")
    return go.Scattergl(
        x=x,
        y=y,
        customdata=np.asarray(points.ids, dtype=np.int32),
        mode="markers",
        marker=marker,
        hovertemplate="id %{customdata}<br>x %{x:.3f}<br>y %{y:.3f}<extra></extra>",
        name="z-points",
    )


def padded_range(values: np.ndarray, pad: float = 0.05) -> tuple[float, float]:
    """The [min, max] of ``values`` widened by ``pad`` of its span (a unit span when constant)."""
    values = np.asarray(values)
    if values.size == 0:
        return (-1.0, 1.0)
    lo, hi = float(np.min(values)), float(np.max(values))
    span = hi - lo if hi > lo else 1.0
    return (lo - pad * span, hi + pad * span)
