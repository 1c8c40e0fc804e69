"""The per-step profile of a path: how far each step is from the data, how crowded its surroundings are, its norm."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from figures.style import PAGE, colour, styled

#: The measures of :func:`analysis.walks.path_profile`, top to bottom, with their panel titles.
MEASURES = (
    ("nearest", "distance to the nearest data point"),
    ("knn_radius", "k-NN radius (local density: large = a void)"),
    ("norm", "|z|"),
)
#: Line style of each path kind.
DASHES = {"linear": "solid", "spherical": "dash"}


#: The data's own nearest-neighbour distances drawn on the nearest-data panel: (key of the reference, label).
REFERENCE_LINES = (("median", "data's median NN distance"), ("p99", "data's 99th pct NN distance (void beyond)"))


def profile_figure(
    fractions, profiles: dict[str, dict], side: str = "a", k: int = 10, height: int = 420, reference=None
) -> go.Figure:
    """Three stacked panels (nearest-data distance, k-NN radius, |z|) against the step's position t in [0, 1].

    Parameters
    ----------
    fractions : array_like, shape (K,)
        Each step's position along the path (0 = A, 1 = B).
    profiles : dict
        Path kind ("linear", "spherical") -> the dict of :func:`analysis.walks.path_profile`.
    side : {"a", "b"}
        Which run of a comparison (sets the colour).
    k : int
        The neighbour count behind the k-NN radius (named in its panel).
    reference : dict, optional
        The data's own nearest-neighbour distances (``median``, ``p99``: :func:`analysis.structure.nn_reference`),
        drawn as dotted lines on the nearest-data panel: a step above the 99th percentile line is in a void.
    """
    titles = [title.replace("k-NN", f"{k}-NN") for _, title in MEASURES]
    fig = make_subplots(rows=len(MEASURES), cols=1, shared_xaxes=True, vertical_spacing=0.09, subplot_titles=titles)
    t = np.asarray(fractions, dtype=np.float64)
    for kind, profile in profiles.items():
        for row, (measure, _) in enumerate(MEASURES, start=1):
            fig.add_trace(
                go.Scatter(
                    x=t,
                    y=np.asarray(profile[measure], dtype=np.float64),
                    mode="lines+markers",
                    name=f"{kind} path",
                    legendgroup=kind,
                    showlegend=row == 1,
                    line={"color": colour(side), "dash": DASHES.get(kind, "solid"), "width": 2},
                    marker={"size": 4},
                    hovertemplate=f"{kind}: t %{{x:.2f}}<br>{measure} %{{y:.3f}}<extra></extra>",
                ),
                row=row,
                col=1,
            )
    for key, label in REFERENCE_LINES if reference is not None else ():
        fig.add_hline(
            y=float(reference[key]),
            line={"color": "#6e7781", "dash": "dot" if key == "median" else "dash", "width": 1},
            annotation={"text": f"{label} {float(reference[key]):.3g}", "font": {"size": 10, "color": "#57606a"}},
            annotation_position="top left",
            row=1,
            col=1,
        )
    styled(fig, PAGE, height=height)
    fig.update_layout(showlegend=True, legend={"orientation": "h", "y": 1.12, "x": 0}, margin={"t": 40})
    fig.update_annotations(font={"size": 11})
    fig.update_xaxes(title_text="t (0 = A, 1 = B)", row=len(MEASURES), col=1)
    return fig
