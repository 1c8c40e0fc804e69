"""The sampler lab's rates as figures: the meaningful rate per sampler and run, and quality against coverage."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from figures.style import REPORT, Style, colour, styled


def rates_figure(rows: list[dict], style: Style = REPORT) -> go.Figure:
    """Meaningful rate per sampler and run, with its 95 % Wilson interval as error bars.

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
    return styled(fig, style, "Meaningful rate per sampler (95 % Wilson interval)")


def quality_coverage_figure(rows: list[dict], style: Style = REPORT) -> go.Figure:
    """Precision (quality) against recall (coverage) per sampler and run, each with its 95 % interval.

    A good sampler sits near the ``data`` row (decoded held-out data, compared the same way); one whose
    decodes are copies of an average face sits at high precision and a recall near 0.
    ``rows``: as :func:`rates_figure`'s, with ``precision`` and ``recall`` and their ``_lo`` / ``_hi``.
    """
    fig = go.Figure()
    runs = list(dict.fromkeys(row["run"] for row in rows))
    for side, run in enumerate(runs):
        mine = [row for row in rows if row["run"] == run]

        def bars(name: str, mine=mine) -> dict:
            value = np.array([row[name] for row in mine])
            return {
                "type": "data",
                "array": np.array([row[f"{name}_hi"] for row in mine]) - value,
                "arrayminus": value - np.array([row[f"{name}_lo"] for row in mine]),
            }

        fig.add_trace(
            go.Scatter(
                x=[row["precision"] for row in mine],
                y=[row["recall"] for row in mine],
                error_x=bars("precision"),
                error_y=bars("recall"),
                mode="markers+text",
                text=[row["sampler"] for row in mine],
                textposition="top center",
                marker={"color": colour(side), "size": 9},
                name=f"{run} ({mine[0]['model'].upper()})",
            )
        )
    fig.update_xaxes(title_text="precision (quality)", range=[-0.02, 1.05])
    fig.update_yaxes(title_text="recall (coverage)", range=[-0.02, 1.05])
    return styled(fig, style, "Quality against coverage per sampler (95 % Wilson intervals)")
