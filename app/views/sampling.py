"""The Sampling view: K random z of one sampler, decoded by each run's decoder with the same seed, side by side."""

from __future__ import annotations

from dash import Input, Output, State, dcc, html, no_update

from app.images import to_data_uri
from app.store import MAX_SAMPLES
from app.validate import choice, finite, whole
from app.views.parts import RUN, SIDES, TABS, error_box, guarded, ids, labelled, number, side_columns, side_run

TAB = "Sampling"
MESSAGES = ()

make = ids("sampling")
SAMPLER, K, SCALE, SEED, REROLL = make("sampler"), make("k"), make("scale"), make("seed"), make("reroll")
GRID = {s: make("grid", s) for s in SIDES}
TITLE = {s: make("title", s) for s in SIDES}

#: How each sampler kind of :mod:`analysis.samplers` is named in the picker.
SAMPLER_LABELS = {
    "normal": "standard normal N(0, I)",
    "axis_gaussian": "fitted Gaussian (per axis)",
    "full_gaussian": "fitted Gaussian (full covariance)",
    "uniform_box": "uniform in the data's box",
    "data_noise": "data point + noise",
}
MAX_SEED = 2**31 - 1


def sampler_kinds() -> tuple[str, ...]:
    """The sampler kinds the view offers: every kind :mod:`analysis.samplers` defines."""
    from analysis.samplers import KINDS

    return KINDS


def layout() -> html.Div:
    """Sampler, K, noise scale, seed; then one grid of decoded samples per run."""
    controls = html.Div(
        className="controls",
        children=[
            labelled(
                "sampler",
                dcc.Dropdown(
                    id=SAMPLER,
                    options=[{"label": SAMPLER_LABELS.get(k, k), "value": k} for k in sampler_kinds()],
                    value="normal",
                    clearable=False,
                    style={"width": "18em"},
                ),
            ),
            labelled("K", number(K, 12, 1, 1, MAX_SAMPLES)),
            labelled("noise scale", number(SCALE, 0.5, "any", 0)),
            labelled("seed", number(SEED, 0, 1, 0, width="7em")),
            html.Button("re-roll", id=REROLL, n_clicks=0, className="button"),
        ],
    )

    def side(s):
        return [html.H3(id=TITLE[s]), dcc.Loading(html.Div(id=GRID[s], className="grid"))]

    return html.Div([controls, side_columns(side)], className="view")


def sample_grid(store, run, sampler, k, seed, scale) -> list:
    """K images decoded from random z of ``sampler``, each captioned with its nearest-data distance."""
    from analysis.samplers import sample

    sampler = choice(sampler, "sampler", sampler_kinds())
    k = whole(k, "K", 1, MAX_SAMPLES)
    seed = whole(seed, "seed", 0, MAX_SEED)
    scale = finite(scale, "noise scale", 0.0, 100.0)
    z = sample(sampler, k, store.z(run), random_state=seed, scale=scale)
    images = store.decode(run, z)
    dist = store.nearest_distance(run, z)
    return [
        html.Figure(
            [html.Img(src=to_data_uri(img), className="face"), html.Figcaption(f"NN dist {d:.2f}")],
            className="tile sample",
        )
        for img, d in zip(images, dist, strict=True)
    ]


def register(app, store) -> None:
    """Wire the sampling grids and the re-roll button."""

    @app.callback(Output(SEED, "value"), Input(REROLL, "n_clicks"), State(SEED, "value"), prevent_initial_call=True)
    @guarded(lambda exc: 0)
    def _reroll(_clicks, seed):
        return (whole(seed, "seed", 0, MAX_SEED) + 1) % (MAX_SEED + 1)

    for side in SIDES:

        @app.callback(
            Output(GRID[side], "children"),
            Output(TITLE[side], "children"),
            Input(TABS, "value"),
            Input(RUN["a"], "value"),
            Input(RUN["b"], "value"),
            Input(SAMPLER, "value"),
            Input(K, "value"),
            Input(SEED, "value"),
            Input(SCALE, "value"),
        )
        @guarded(lambda exc: (error_box(exc), no_update))
        def _samples(tab, run_a, run_b, sampler, k, seed, scale, side=side):
            run = side_run(run_a, run_b, side)
            if not run:
                return [], ""
            if tab != TAB:  # decoding is work: only for the tab in front
                return no_update, no_update
            title = f"{run} ({str(store.config(run)['model']).upper()})"
            return sample_grid(store, run, sampler, k, seed, scale), title
