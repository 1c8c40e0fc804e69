"""The sampler lab's rates as a figure: the meaningful rate per sampler and run, with its bootstrap interval."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from figures.style import REPORT, Style, colour, styled


def rates_figure(rows: list[dict], style: Style = REPORT) -> go.Figure:
    """Meaningful rate per sampler and run, with its 95 % bootstrap interval as error bars.

    ``rows``: one per sampler and run, with ``run``, ``model``, ``sampler``, ``rate``, ``rate_lo`` and ``rate_hi``.
    """
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
                marker={"color": colour(side)},
                name=f"{run} ({mine[0]['model'].upper()})",
            )
        )
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text="sampler")
    fig.update_yaxes(title_text="meaningful rate", range=[0, 1.05])
    return styled(fig, style, "Meaningful rate per sampler (95 % bootstrap interval)")
