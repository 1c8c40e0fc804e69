"""Layout builders: the page shell, the run picker and one builder per view (tab)."""

from __future__ import annotations

from dash import dcc, html

from app.layout.views import density_view, model_view, pca_view, planes_view, radius_view, sampling_view

EMPTY_STATE = "no runs found: run `zspace train …` or `make demo`"


def run_list(runs: list[dict]) -> html.Ul:
    """Every run of the folder with its state; unusable ones say why."""
    items = []
    for run in runs:
        cls = "run-item ok" if run["usable"] else "run-item broken"
        text = run["label"] if run["usable"] else f"{run['name']} — {run['state']}: {run['reason']}"
        items.append(html.Li(text, className=cls, title=text))
    return html.Ul(items, id="run-list", className="run-list")


def header(runs: list[dict]) -> html.Div:
    """Title bar with the run picker and the compare picker."""
    usable = [r for r in runs if r["usable"]]
    options = [{"label": r["label"], "value": r["name"], "disabled": not r["usable"]} for r in runs]
    first = usable[0]["name"] if usable else None
    # Compare mode defaults to the first run of the other model kind (typically AE vs VAE).
    other = next((r["name"] for r in usable if r["model"] != (usable[0]["model"] if usable else "")), None)
    return html.Div(
        className="header",
        children=[
            html.Div([html.H1("zspace"), html.Span("latent space of autoencoders", className="subtitle")]),
            html.Div(
                className="pickers",
                children=[
                    html.Label("run", htmlFor="run-a"),
                    dcc.Dropdown(id="run-a", options=options, value=first, clearable=False, className="picker"),
                    html.Label("compare with", htmlFor="run-b"),
                    dcc.Dropdown(id="run-b", options=options, value=other, placeholder="(none)", className="picker"),
                ],
            ),
        ],
    )


def build_layout(runs: list[dict]) -> html.Div:
    """The whole page for the given run listing (called on every page load, so new runs appear)."""
    usable = any(r["usable"] for r in runs)
    empty = html.Div(EMPTY_STATE, id="empty-state", className="empty-state") if not usable else None
    return html.Div(
        id="page",
        className="page single",
        children=[
            header(runs),
            html.Details([html.Summary(f"{len(runs)} run(s) in the folder"), run_list(runs)], className="runs-box"),
            empty,
            dcc.Tabs(
                id="tabs",
                value="planes",
                className="tabs",
                children=[
                    dcc.Tab(label="Planes", value="planes", className="tab", children=planes_view()),
                    dcc.Tab(label="Density", value="density", className="tab", children=density_view()),
                    dcc.Tab(label="Radius", value="radius", className="tab", children=radius_view()),
                    dcc.Tab(label="PCA spectrum", value="pca", className="tab", children=pca_view()),
                    dcc.Tab(label="Sampling", value="sampling", className="tab", children=sampling_view()),
                    dcc.Tab(label="Model", value="model", className="tab", children=model_view()),
                ],
            ),
        ],
    )
