"""Shared figure styling, so every view looks the same."""

from __future__ import annotations

import plotly.graph_objects as go

#: Colours of the first and the compared run in every overlaid figure.
SIDE_COLOURS = {"a": "#1f6feb", "b": "#d9480f"}
FONT = "Inter, Segoe UI, Helvetica, Arial, sans-serif"


def base_layout(fig: go.Figure, title: str = "", height: int = 460) -> go.Figure:
    """Apply the dashboard's common margins, fonts and background to ``fig``."""
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 14}},
        height=height,
        margin={"l": 50, "r": 20, "t": 40 if title else 16, "b": 44},
        font={"family": FONT, "size": 12, "color": "#1f2328"},
        paper_bgcolor="white",
        plot_bgcolor="#fbfbfc",
        legend={"orientation": "h", "y": -0.18},
    )
    fig.update_xaxes(gridcolor="#e6e8eb", zerolinecolor="#c9ced4")
    fig.update_yaxes(gridcolor="#e6e8eb", zerolinecolor="#c9ced4")
    return fig


def message_figure(text: str, height: int = 460) -> go.Figure:
    """An empty figure that says why there is nothing to show."""
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 14})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return base_layout(fig, height=height)
