"""One layout builder per view. Ids ending in ``-a`` / ``-b`` belong to the run / the compared run."""

from __future__ import annotations

from dash import dash_table, dcc, html

from app.store import BASE_COLOUR_LABELS, BASE_COLOURS, MAX_SAMPLES, MAX_TSNE_POINTS

SIDES = ("a", "b")
SAMPLERS = [
    {"label": "standard normal N(0, I)", "value": "normal"},
    {"label": "fitted Gaussian (per axis)", "value": "axis_gaussian"},
    {"label": "fitted Gaussian (full covariance)", "value": "full_gaussian"},
    {"label": "uniform in the data's box", "value": "uniform_box"},
    {"label": "data point + noise", "value": "data_noise"},
]


def _number(id_, value, step=None, min_=None, max_=None, width="5em"):
    return dcc.Input(
        id=id_, type="number", value=value, step=step, min=min_, max=max_, debounce=True, style={"width": width}
    )


def _side_columns(make) -> html.Div:
    """Two columns, one per run; CSS hides the second (``side-b``) when nothing is compared."""
    return html.Div(className="sides", children=[html.Div(make(side), className=f"side side-{side}") for side in SIDES])


def planes_view() -> html.Div:
    """Plane scatter(s) with their controls and the click-to-decode panel."""
    controls = html.Div(
        className="controls",
        children=[
            html.Div(
                [
                    html.Label("plane"),
                    dcc.RadioItems(
                        id="plane-kind",
                        options=[
                            {"label": "PCA pair", "value": "pca"},
                            {"label": "axis pair", "value": "axis"},
                            {"label": "t-SNE", "value": "tsne"},
                        ],
                        value="pca",
                        inline=True,
                    ),
                ]
            ),
            html.Div([html.Label("x"), _number("plane-i", 0, 1, 0), html.Label("y"), _number("plane-j", 1, 1, 0)]),
            html.Div(
                [
                    html.Label("colour"),
                    dcc.Dropdown(
                        id="colour-by",
                        # The base colourings are there from the start, so "none" is a valid value before the
                        # run's metadata columns arrive.
                        options=[{"label": BASE_COLOUR_LABELS[c], "value": c} for c in BASE_COLOURS],
                        value="none",
                        clearable=False,
                        style={"width": "14em"},
                    ),
                ]
            ),
            html.Div(
                [
                    html.Label("empty-space clicks hold other coordinates at"),
                    dcc.RadioItems(
                        id="base-mode",
                        options=[
                            {"label": "the mean", "value": "mean"},
                            {"label": "last selected point", "value": "selected"},
                        ],
                        value="mean",
                        inline=True,
                    ),
                ]
            ),
            html.Div(
                [
                    html.Label("square: centre"),
                    _number("square-x", 0.0, "any"),
                    _number("square-y", 0.0, "any"),
                    html.Label("side"),
                    _number("square-side", 0.5, "any", 0),
                    html.Button("go", id="square-go", n_clicks=0, className="button"),
                    html.Button("whole plane", id="reset-view", n_clicks=0, className="button secondary"),
                ]
            ),
        ],
    )

    def side(s):
        return [
            html.Div(id=f"plane-count-{s}", className="count"),
            dcc.Loading(dcc.Graph(id=f"plane-graph-{s}", config={"displaylogo": False}, className="plane-graph")),
            dcc.Loading(
                html.Div(
                    id=f"decode-panel-{s}",
                    className="decode-panel",
                    children="click a point or empty space to decode it",
                )
            ),
            dcc.Loading(html.Div(id=f"nearest-{s}", className="note nearest"), type="dot"),
            dcc.Store(id=f"view-{s}"),
            dcc.Store(id=f"decoded-{s}"),
            dcc.Store(id=f"selected-{s}"),
        ]

    tsne = html.Details(
        className="controls tsne-box",
        children=[
            html.Summary("compute a new t-SNE map (runs in the background)"),
            html.Div(
                [
                    html.Label("points"),
                    _number("tsne-n", 5000, 100, 100, MAX_TSNE_POINTS, width="7em"),
                    html.Label("perplexity"),
                    _number("tsne-perplexity", 30, "any", 2, 100),
                    html.Label("PCA components first (0: raw z)"),
                    _number("tsne-pca", 0, 1, 0),
                    html.Button("compute", id="tsne-go", n_clicks=0, className="button"),
                    html.Button("cancel", id="tsne-cancel", n_clicks=0, disabled=True, className="button secondary"),
                    html.Progress(id="tsne-progress", value="0", max="100"),
                    html.Span(id="tsne-progress-text", className="note"),
                ]
            ),
            html.Div(id="tsne-status", className="note"),
        ],
    )
    return html.Div([controls, tsne, html.Div(id="tsne-info", className="note"), _side_columns(side)], className="view")


def density_view() -> html.Div:
    """Per-axis density curves, flagged axes and the sortable axis table."""
    return html.Div(
        className="view",
        children=[
            html.Div(
                className="controls",
                children=[
                    html.Div([html.Label("bin width"), _number("density-bin", 0.25, "any", 0)]),
                    html.Div(id="axis-picked", className="note"),
                ],
            ),
            dcc.Loading(dcc.Graph(id="density-graph", config={"displaylogo": False})),
            html.P("click a curve or a row to show that axis on the Planes tab", className="note"),
            dash_table.DataTable(
                id="axis-table",
                sort_action="native",
                page_size=12,
                style_table={"overflowX": "auto"},
                style_cell={"fontFamily": "inherit", "fontSize": 12, "padding": "4px 8px"},
                style_data_conditional=[
                    {"if": {"filter_query": "{flagged} = yes"}, "fontWeight": "bold", "color": "#b42318"}
                ],
            ),
        ],
    )


def radius_view() -> html.Div:
    """Radius histogram with the chi reference."""
    return html.Div(
        className="view",
        children=[
            html.Div(
                className="controls",
                children=[html.Div([html.Label("bin width"), _number("radius-bin", 0.5, "any", 0)])],
            ),
            dcc.Loading(dcc.Graph(id="radius-graph", config={"displaylogo": False})),
        ],
    )


def pca_view() -> html.Div:
    """PCA spectrum: explained variance ratio and cumulative."""
    return html.Div(
        className="view",
        children=[
            html.Div(
                className="controls", children=[html.Div([html.Label("components shown"), _number("pca-k", 50, 1, 1)])]
            ),
            dcc.Loading(dcc.Graph(id="pca-graph", config={"displaylogo": False})),
        ],
    )


def sampling_view() -> html.Div:
    """K decoded random z per run, same sampler and seed on both sides."""
    controls = html.Div(
        className="controls",
        children=[
            html.Div(
                [
                    html.Label("sampler"),
                    dcc.Dropdown(
                        id="sampler", options=SAMPLERS, value="normal", clearable=False, style={"width": "18em"}
                    ),
                ]
            ),
            html.Div([html.Label("K"), _number("sample-k", 12, 1, 1, MAX_SAMPLES)]),
            html.Div([html.Label("noise scale"), _number("sample-scale", 0.5, "any", 0)]),
            html.Div([html.Label("seed"), _number("sample-seed", 0, 1, 0, width="7em")]),
            html.Button("re-roll", id="reroll", n_clicks=0, className="button"),
        ],
    )

    def side(s):
        return [html.H3(id=f"sample-title-{s}"), dcc.Loading(html.Div(id=f"sample-grid-{s}", className="grid"))]

    return html.Div([controls, _side_columns(side)], className="view")


def model_view() -> html.Div:
    """Architecture table, training curves and config, per run."""

    def side(s):
        return [dcc.Loading(html.Div(id=f"model-panel-{s}"))]

    return html.Div([_side_columns(side)], className="view")
