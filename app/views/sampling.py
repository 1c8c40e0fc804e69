"""The Sampling view: K random z of one sampler, decoded by each run's decoder with the same seed, side by side.

Samplers that use the data (the fitted Gaussians, the data's box, data + noise)
use only the rows the metadata filter keeps, so "sample near the smiling faces"
is a filter away; N(0, I) ignores the data. The ex-post density samplers (GMM,
KDE) are fitted to the whole run by the sampler lab's background job. Once the
lab has a run's reference, every image carries its meaningful-decode scores.
Each grid can be downloaded as one PNG.
"""

from __future__ import annotations

import hashlib

import numpy as np
from dash import Input, Output, State, dcc, html, no_update

from app import subsets
from app.images import strip, to_data_uri
from app.memo import MemoKey
from app.store import MAX_SAMPLES, RunHandle
from app.url_state import Choice, Field, Number, Whole
from app.validate import choice, finite, whole
from app.views import filters
from app.views.parts import RUN, SIDES, TABS, error_box, guarded, ids, labelled, number, side_columns, side_run
from app.views.protocol import View
from rundir.errors import Refusal

TAB = "Sampling"


class FittedToWholeRun(Refusal):
    """A fitted sampler (GMM, KDE) asked for a filter's rows: it is fitted to the whole run only."""

    template = "{label} samplers are fitted to the whole run (in the background); clear the filter to sample them"


class NotFittedYet(Refusal):
    """A fitted sampler whose density the rates job has not fitted yet."""

    template = "the {label} sampler of {run} is not fitted yet: press 'compute the rates' above, which fits it in the background"


REFUSALS = (FittedToWholeRun, NotFittedYet, subsets.FilterKeepsNoRows, *subsets.REFUSALS)

make = ids("sampling")
SAMPLER, K, SCALE, SEED, REROLL = make("sampler"), make("k"), make("scale"), make("seed"), make("reroll")
GRID = {s: make("grid", s) for s in SIDES}
TITLE = {s: make("title", s) for s in SIDES}

MAX_SEED = 2**31 - 1
#: Most filtered rows a sampler is fitted to (an even spread of them beyond), so a request copies a bounded array.
MAX_FIT_ROWS = 50_000
#: Tiles per row of a downloaded grid.
PNG_COLUMNS = 8


def sampler_kinds() -> tuple[str, ...]:
    """The sampler kinds the view offers: every kind :mod:`analysis.samplers` defines."""
    from analysis.samplers import KINDS

    return KINDS


def sampler_label(kind: str) -> str:
    """How a sampler kind is named in the picker (:data:`analysis.samplers.LABELS`)."""
    from analysis.samplers import LABELS

    return LABELS[kind]


def url_state() -> dict:
    """What a shared link carries of this view (see :mod:`app.url_state`)."""
    return {
        "sampler": Field(SAMPLER, "value", Choice(sampler_kinds(), "sampler")),
        "seed": Field(SEED, "value", Whole(0, MAX_SEED, "seed")),
        "k": Field(K, "value", Whole(1, MAX_SAMPLES, "K")),
        "scale": Field(SCALE, "value", Number(0.0, 100.0, "noise scale")),
    }


URL_STATE = url_state()


def layout() -> html.Div:
    """Sampler, K, noise scale, seed; then one grid of decoded samples per run."""
    controls = html.Div(
        className="controls",
        children=[
            labelled(
                "sampler",
                dcc.Dropdown(
                    id=SAMPLER,
                    options=[{"label": sampler_label(k), "value": k} for k in sampler_kinds()],
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


def sample_z(run: RunHandle, sampler, k, seed, scale, filter_state=None) -> tuple[np.ndarray, str]:
    """K random z of ``sampler`` for ``run`` (fitted to the rows the filter keeps), and a note saying so."""
    from analysis import results, samplers

    sampler = choice(sampler, "sampler", sampler_kinds())
    k = whole(k, "K", 1, MAX_SAMPLES)
    seed = whole(seed, "seed", 0, MAX_SEED)
    scale = finite(scale, "noise scale", 0.0, 100.0)
    rows = subsets.filter_rows(run, filter_state) if sampler != "normal" else None
    data, note = run.z(), ""
    if rows is not None:
        if len(rows) == 0:
            raise subsets.FilterKeepsNoRows(rows="rows", run=run.name, consequence="nothing to fit a sampler to")
        note = f"fitted to the {len(rows):,} rows the filter keeps"
        if len(rows) > MAX_FIT_ROWS:
            rows = rows[np.linspace(0, len(rows) - 1, MAX_FIT_ROWS).astype(np.int64)]
            note += f" (an even spread of {MAX_FIT_ROWS:,} of them)"
        data = np.asarray(data[rows], dtype=np.float32)
    fit = None
    if sampler in samplers.FITTED_KINDS:
        # Fitting a mixture to 256-D points takes up to a minute: never inside a request.
        if rows is not None:
            raise FittedToWholeRun(label=sampler_label(sampler))
        fit = run.cached_result(results.sampler_fit, kind=sampler)
        if fit is None:
            raise NotFittedYet(label=sampler_label(sampler), run=run.name)
    stats = None
    if sampler in samplers.STATISTIC_KINDS:
        # The data's statistics are the whole cost of a draw (a covariance of 50k x 256: a second): kept per run and rows.
        which = "all" if rows is None else hashlib.blake2b(np.asarray(rows).tobytes(), digest_size=8).hexdigest()
        stats = run.memo(MemoKey.sampler_statistics(sampler, which), lambda: samplers.statistics(sampler, data))
    return samplers.sample(sampler, k, data, random_state=seed, scale=scale, fit=fit, stats=stats), note


def lab_scores(run: RunHandle, z) -> dict | None:
    """The sampler lab's per-image scores of the decodes of ``z`` (None until the lab has the run's reference)."""
    from study import reference
    from study.codec import load_codec

    ref = run.cached_result(reference.reference)
    if ref is None:
        return None
    codec = load_codec(run.folder)
    return reference.score(ref, codec, z, codec.decode(z))


#: What the distance under each sample is, in words (the caption's tooltip and the grid's note).
DISTANCE_WORDS = "distance in z from the sample to the nearest of the run's data z-points"


def distance_text(distance: float, reference: dict | None) -> str:
    """The caption of a sample's nearest-data distance, with where it falls among the data's own.

    ``reference``: the run's cached :data:`analysis.results.nn_reference`, or None (then the distance alone).
    """
    text = f"nearest data z: {distance:.2f}"
    if reference is None:
        return text
    from analysis.structure import distance_percentile

    percentile = float(distance_percentile(distance, reference["distances"]))
    beyond = distance > float(np.max(reference["distances"]))
    where = "beyond every data point's" if beyond else f"p{percentile:.0f} of the data's"
    return f"{text} ({where})"


def _caption(index: int, distance: float, scores: dict | None, reference: dict | None) -> html.Figcaption:
    text = distance_text(distance, reference)
    if scores is None:
        return html.Figcaption(text, title=DISTANCE_WORDS)
    verdict = "meaningful" if scores["meaningful"][index] else "not meaningful"
    numbers = {
        name: float(scores[name][index]) for name in ("realism", "pixel_nn", "dffs", "reencode") if name in scores
    }
    detail = " · ".join(f"{name} {value:.2f}" for name, value in numbers.items())
    return html.Figcaption(
        [html.B(verdict, className="ok" if scores["meaningful"][index] else "bad"), html.Br(), text],
        title=f"{detail} · {DISTANCE_WORDS}",
        className="scores",
    )


def reference_note(reference: dict | None) -> str:
    """The grid's note on the numbers under the images."""
    if reference is None:
        return f"under each image: {DISTANCE_WORDS}"
    return (
        f"under each image: {DISTANCE_WORDS}, and where it falls among the data points' own nearest-neighbour "
        f"distances (median {reference['median']:.2f}, 99th percentile {reference['p99']:.2f})"
    )


def sample_grid(run: RunHandle, sampler, k, seed, scale, filter_state=None) -> list:
    """K images decoded from random z of ``sampler``, each captioned with its nearest-data distance and scores.

    The grid ends with a link that downloads it as one PNG, and a note when a filter shaped the sampler.
    """
    from analysis import results

    z, note = sample_z(run, sampler, k, seed, scale, filter_state)
    dist = run.nearest_distance(z)
    reference = run.cached_result(results.nn_reference)
    note = (note + " · " if note else "") + reference_note(reference)
    if not run.has_decoder:  # the Sampling tab's rate table says once that the run has no decoder
        captions = [_caption(i, d, None, reference) for i, d in enumerate(dist)]
        tiles = [html.Figure([caption], className="tile sample no-image") for caption in captions]
        return [html.Div(html.Span(note, className="note"), className="grid-bar"), *tiles]
    images = run.decode(z)
    scores = lab_scores(run, z)
    if scores is None:
        note = (note + " · " if note else "") + "scores appear once the rates above are computed"
    else:
        note = (note + " · " if note else "") + f"{int(np.sum(scores['meaningful']))} of {len(z)} meaningful"
    tiles = [
        html.Figure(
            [html.Img(src=to_data_uri(img), className="face"), _caption(i, d, scores, reference)],
            className="tile sample",
        )
        for i, (img, d) in enumerate(zip(images, dist, strict=True))
    ]
    name = f"{run.name}-{sampler}-seed{seed}-k{len(images)}.png"
    link = html.A(
        "download grid (PNG)", href=to_data_uri(strip(images, PNG_COLUMNS)), download=name, className="note png"
    )
    return [html.Div([link, html.Span(f" · {note}" if note else "", className="note")], className="grid-bar"), *tiles]


def register(app, store, views) -> None:
    """Wire the sampling grids and the re-roll button."""

    @app.callback(Output(SEED, "value"), Input(REROLL, "n_clicks"), State(SEED, "value"), prevent_initial_call=True)
    @guarded(lambda exc: 0)
    def _reroll(_clicks, seed):
        return (whole(seed, "seed", 0, MAX_SEED) + 1) % (MAX_SEED + 1)

    for side in SIDES:

        @app.callback(
            Output(GRID[side], "children"),
            Output(TITLE[side], "children"),
            inputs={
                "tab": Input(TABS, "value"),
                "runs": [Input(RUN["a"], "value"), Input(RUN["b"], "value")],
                "draw": [Input(SAMPLER, "value"), Input(K, "value"), Input(SEED, "value"), Input(SCALE, "value")],
                "filter_state": Input(filters.FILTER, "data"),
            },
            # A later tab's view computes when its tab is opened, never at page load.
            prevent_initial_call=True,
        )
        @guarded(lambda exc: (error_box(exc), no_update))
        def _samples(tab, runs, draw, filter_state, side=side):
            name = side_run(*runs, side)
            if not name:
                return [], ""
            if tab != TAB:  # decoding is work: only for the tab in front
                return no_update, no_update
            run = store.open(name)
            title = f"{run.name} ({str(run.config['model']).upper()})"
            return sample_grid(run, *draw, filter_state), title


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("sampling", TAB, layout, register, REFUSALS, url_state=URL_STATE)
