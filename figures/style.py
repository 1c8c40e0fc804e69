"""How figures look: the colours of runs, and the page's and the report's styles (one definition each)."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

#: One colour per run, in the order shown: the page's first and compared run are the first two; a report
#: shows at most this many runs.
COLOURS = (
    "#1f6feb", "#d9480f", "#2f9e44", "#9c36b5", "#e8590c", "#0c8599", "#c2255c", "#5c940d",
    "#1864ab", "#862e9c", "#a61e4d", "#2b8a3e", "#364fc7", "#d6336c", "#087f5b", "#74b816",
)  # fmt: skip
#: The page's sides: the first run ("a") and the compared run ("b").
SIDE_COLOURS = {"a": COLOURS[0], "b": COLOURS[1]}
#: Colour of the null model (the covariance-matched Gaussian) in every figure.
NULL_COLOUR = "#6e7781"
#: Colours of the probe kinds (data is drawn in the run's colour).
PROBE_COLOURS = ("#6e7781", "#8250df", "#1a7f37", "#bf8700", "#cf222e", "#0969da", "#9a6700")


def colour(side) -> str:
    """A run's colour: ``side`` is the page's "a" / "b" or a report's run index (0, 1, ...)."""
    if isinstance(side, str):
        return SIDE_COLOURS.get(side, COLOURS[0])
    return COLOURS[int(side) % len(COLOURS)]


def faint(side, alpha: float = 0.25) -> str:
    """A run's colour, see-through (the many unflagged axes of the density figure)."""
    hex_colour = colour(side)
    red, green, blue = (int(hex_colour[k : k + 2], 16) for k in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


@dataclass(frozen=True)
class Style:
    """How a figure is drawn for one medium.

    Attributes
    ----------
    interactive : bool
        WebGL scatter, hover texts and click data (the page); plain SVG without them (an offline report).
    template : str or None
        A plotly template (the report's ``"none"`` keeps each figure a few hundred bytes small).
    font : str
    margin : dict
    height : int
        Default figure height (px).
    """

    interactive: bool
    template: str | None
    font: str
    margin: dict
    height: int


PAGE = Style(True, None, "Inter, Segoe UI, Helvetica, Arial, sans-serif", {"l": 50, "r": 20, "b": 44}, 460)
REPORT = Style(False, "none", "Helvetica, Arial, sans-serif", {"l": 56, "r": 16, "b": 48}, 380)


def styled(fig: go.Figure, style: Style = PAGE, title: str = "", height: int | None = None) -> go.Figure:
    """Apply a style's margins, fonts, template and background to ``fig`` (and its title and height)."""
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 14}},
        height=height or style.height,
        margin={**style.margin, "t": 40 if title else 16},
        font={"family": style.font, "size": 12, "color": "#1f2328"},
        legend={"orientation": "h", "y": -0.18},
    )
    if style.template:
        fig.update_layout(template=style.template)
    else:
        fig.update_layout(paper_bgcolor="white", plot_bgcolor="#fbfbfc")
        fig.update_xaxes(gridcolor="#e6e8eb", zerolinecolor="#c9ced4")
        fig.update_yaxes(gridcolor="#e6e8eb", zerolinecolor="#c9ced4")
    return fig


def message_figure(text: str, height: int = 460) -> go.Figure:
    """An empty figure that says why there is nothing to show."""
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 14})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return styled(fig, PAGE, height=height)
