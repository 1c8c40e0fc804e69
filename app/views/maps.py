"""2-D maps of each run: a picker listing every cached t-SNE and UMAP map with its parameters, and a background job for a new t-SNE map.

The seed compares t-SNE of raw z with t-SNE after PCA-2, -4 and -10; ``zspace
analyze`` computes those, and the picker lists each with its parameters so a
user can switch between them. A new map is computed by a Dash background
callback (never inside a request) with progress and cancel; its settings are
chosen from short lists, so requests cannot add unbounded entries to the cache.
"""

from __future__ import annotations

from dash import Input, Output, State, dcc, html

from app import plane_space
from app.job_results import TEXT, returns
from app.jobs import SlotsBusy
from app.store import RunHandle
from app.url_state import Field, Name
from app.validate import choice
from app.views.parts import RUN, SIDES, guarded, ids, job_controls, labelled, open_side, side_columns
from app.views.protocol import View
from rundir.errors import Refusal

TAB = "Planes"


class MapRefused(Refusal):
    """A new map the analysis refuses (a perplexity too large for the run) or that was cancelled; its words are the analysis's."""


REFUSALS = (MapRefused, SlotsBusy, *plane_space.REFUSALS)

make = ids("maps")
PICKED = {s: make("picked", s) for s in SIDES}
INFO = {s: make("info", s) for s in SIDES}
FOR_SIDE, POINTS, PERPLEXITY, REDUCE = make("for"), make("points"), make("perplexity"), make("reduce")
GO, CANCEL, PROGRESS, PROGRESS_TEXT, STATUS = (
    make("go"),
    make("cancel"),
    make("progress"),
    make("progress-text"),
    make("status"),
)

#: The link keys of each side's picked map, and what a shared link carries of this view (see :mod:`app.url_state`).
MAP_KEY = {s: f"map-{s}" for s in SIDES}
URL_STATE = {MAP_KEY[s]: Field(PICKED[s], "value", Name("map")) for s in SIDES}

#: What a page may ask a new map to use (larger maps: `zspace analyze --tsne-n`).
POINT_CHOICES = (1000, 2000, 5000, 10000, 20000)
PERPLEXITY_CHOICES = (5, 10, 30, 50)
#: 0 = raw z; the seed's PCA-2 / 4 / 10, and 50.
REDUCE_CHOICES = (0, 2, 4, 10, 50)


def _dropdown(id_, values, value, fmt=str, width="8em") -> dcc.Dropdown:
    options = [{"label": fmt(v), "value": v} for v in values]
    return dcc.Dropdown(id=id_, options=options, value=value, clearable=False, style={"width": width})


def layout() -> html.Div:
    """One map picker per run, then the box that computes a new map in the background."""

    def side(s):
        return [
            labelled(
                "map",
                dcc.Dropdown(id=PICKED[s], options=[], placeholder="no map computed", style={"minWidth": "26em"}),
            ),
            html.Div(id=INFO[s], className="note"),
        ]

    job = html.Details(
        className="controls tsne-box",
        children=[
            html.Summary("compute a new t-SNE map (runs in the background)"),
            html.Div(
                [
                    labelled(
                        "for",
                        dcc.RadioItems(
                            id=FOR_SIDE,
                            options=[{"label": "the run", "value": "a"}, {"label": "the compared run", "value": "b"}],
                            value="a",
                            inline=True,
                        ),
                    ),
                    labelled("points", _dropdown(POINTS, POINT_CHOICES, 5000, lambda v: f"{v:,}")),
                    labelled("perplexity", _dropdown(PERPLEXITY, PERPLEXITY_CHOICES, 30, width="6em")),
                    labelled(
                        "input",
                        _dropdown(REDUCE, REDUCE_CHOICES, 0, lambda k: f"PCA-{k}" if k else "raw z", width="8em"),
                    ),
                    html.Button("compute", id=GO, n_clicks=0, className="button"),
                    html.Button("cancel", id=CANCEL, n_clicks=0, disabled=True, className="button secondary"),
                    html.Progress(id=PROGRESS, value="0", max="100"),
                    html.Span(id=PROGRESS_TEXT, className="note"),
                ]
            ),
            html.Div(id=STATUS, className="note"),
        ],
    )
    return html.Div([side_columns(side), job], className="view maps")


def map_options(run: RunHandle | None, current) -> tuple[list[dict], str | None]:
    """The run's maps as dropdown options, and the value to show (the current one if still there)."""
    if run is None:
        return [], None
    listed = plane_space.maps(run)
    options = [{"label": m["label"], "value": m["key"]} for m in listed]
    keys = [m["key"] for m in listed]
    return options, current if current in keys else (keys[0] if keys else None)


def map_info(run: RunHandle | None, map_key) -> str:
    """What the picked map is: its kind, input, size and every parameter."""
    if run is None:
        return ""
    if not map_key:
        return f"no map is computed for {run.name}: compute one below or run `zspace analyze {run.name}`"
    entry = plane_space.map_entry(run, map_key)
    shown = ", ".join(f"{k} {v}" for k, v in entry["params"].items() if v is not None)
    return f"{entry['label']} — {shown}"


def compute_map(run: RunHandle, n_points, perplexity, reduce_to, set_progress) -> str:
    """Compute a t-SNE map for ``run`` into the server's cache; ``set_progress((value, max, text))``."""
    from analysis import results
    from analysis.tsne import TsneCancelled

    n_points = choice(n_points, "points", POINT_CHOICES)
    perplexity = choice(perplexity, "perplexity", PERPLEXITY_CHOICES)
    reduce_to = choice(reduce_to, "input", REDUCE_CHOICES)
    params = {"n_points": n_points, "perplexity": float(perplexity)}
    params["pca_components"] = reduce_to if 0 < reduce_to < run.z_dim else None

    def progress(fraction, message):
        set_progress((int(100 * fraction), 100, message))
        return True

    try:
        # One of the host's job slots for the whole map; without a free one the user is told to wait.
        with run.store.slots.slot(), run.cache_scope():
            fit = results.tsne(run.folder, callback=progress, **params)
    except TsneCancelled as exc:
        raise MapRefused(why=exc) from None
    except ValueError as exc:  # e.g. a perplexity too large for a small run: the analysis says why
        raise MapRefused(why=exc) from None
    return (
        f"t-SNE of {len(fit.ids):,} points of {run.name} ready ({fit.backend}, {fit.seconds:.1f} s): "
        "pick it in the map list"
    )


@guarded(lambda exc: ([], None))
def options_of(store, run_a, run_b, side: str, current) -> tuple[list[dict], str | None]:
    """The map picker of ``side``: its options and value."""
    return map_options(open_side(store, run_a, run_b, side), current)


@guarded(str)
def info_of(store, run_a, run_b, side: str, map_key) -> str:
    """The line saying what the picked map of ``side`` is."""
    return map_info(open_side(store, run_a, run_b, side), map_key)


def initial(store, run_a, run_b) -> dict:
    """The map pickers and their lines for the runs the page opens with (``View.initial``)."""
    values = {}
    for side in SIDES:
        options, value = options_of(store, run_a, run_b, side, None)
        values[(PICKED[side], "options")], values[(PICKED[side], "value")] = options, value
        values[(INFO[side], "children")] = info_of(store, run_a, run_b, side, value)
    return values


def register(app, store, views) -> None:
    """Wire the map pickers and the background map job."""
    for side in SIDES:

        @app.callback(
            Output(PICKED[side], "options"),
            Output(PICKED[side], "value"),
            Input(RUN["a"], "value"),
            Input(RUN["b"], "value"),
            Input(STATUS, "children"),
            State(PICKED[side], "value"),
            prevent_initial_call=True,  # the page opens with these values (initial)
        )
        def _options(run_a, run_b, _done, current, side=side):
            return options_of(store, run_a, run_b, side, current)

        @app.callback(
            Output(INFO[side], "children"),
            Input(PICKED[side], "value"),
            State(RUN["a"], "value"),
            State(RUN["b"], "value"),
            prevent_initial_call=True,  # the page opens with these values (initial)
        )
        def _info(map_key, run_a, run_b, side=side):
            return info_of(store, run_a, run_b, side, map_key)

    @app.callback(
        Output(STATUS, "children"),
        Input(GO, "n_clicks"),
        State(RUN["a"], "value"),
        State(RUN["b"], "value"),
        State(FOR_SIDE, "value"),
        State(POINTS, "value"),
        State(PERPLEXITY, "value"),
        State(REDUCE, "value"),
        **job_controls(GO, CANCEL, PROGRESS, PROGRESS_TEXT),
        prevent_initial_call=True,
    )
    @returns(TEXT)
    @guarded(str)
    def _compute(set_progress, _clicks, run_a, run_b, for_side, n_points, perplexity, reduce_to):
        run = open_side(store, run_a, run_b, choice(for_side, "map for", SIDES))
        if run is None:
            return "no run selected"
        return compute_map(run, n_points, perplexity, reduce_to, set_progress)


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("maps", TAB, layout, register, REFUSALS, url_state=URL_STATE, initial=initial)
