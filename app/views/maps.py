"""2-D maps of each run: a picker listing every cached t-SNE and UMAP map with its parameters, and a background job for a new map of either kind.

The seed compares t-SNE of raw z with t-SNE after PCA-2, -4 and -10; ``zspace
analyze`` computes those, and the picker lists each with its parameters so a
user can switch between them. A new map, t-SNE or UMAP, is computed by a Dash
background callback (never inside a request) with progress and cancel; its
settings are chosen from short lists, so requests cannot add unbounded entries
to the cache.
"""

from __future__ import annotations

from dash import Input, Output, State, dcc, html

from analysis.map_kinds import MAP_NAMES
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
METHOD, NEIGHBOURS = make("method"), make("neighbours")
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
#: UMAP's neighbourhood sizes (umap-learn's default is 15).
NEIGHBOUR_CHOICES = (5, 15, 30, 50)
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
            html.Summary("compute a new t-SNE or UMAP map (runs in the background)"),
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
                    labelled(
                        "method",
                        dcc.RadioItems(
                            id=METHOD,
                            options=[{"label": label, "value": kind} for kind, label in MAP_NAMES.items()],
                            value="tsne",
                            inline=True,
                        ),
                    ),
                    labelled("points", _dropdown(POINTS, POINT_CHOICES, 5000, lambda v: f"{v:,}")),
                    labelled("perplexity (t-SNE)", _dropdown(PERPLEXITY, PERPLEXITY_CHOICES, 30, width="6em")),
                    labelled("neighbours (UMAP)", _dropdown(NEIGHBOURS, NEIGHBOUR_CHOICES, 15, width="6em")),
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


def compute_map(run: RunHandle, n_points, perplexity, reduce_to, set_progress, method="tsne", n_neighbours=15) -> str:
    """Compute a t-SNE or UMAP map (``method``, a key of ``MAP_NAMES``) for ``run`` into the server's cache.

    ``perplexity`` shapes a t-SNE map and ``n_neighbours`` a UMAP map; the other is not used.
    ``set_progress((value, max, text))`` reports progress; a False from the cancel button stops the fit.
    """
    from analysis import results
    from analysis.tsne import MapCancelled

    method = choice(method, "method", tuple(MAP_NAMES))
    n_points = choice(n_points, "points", POINT_CHOICES)
    reduce_to = choice(reduce_to, "input", REDUCE_CHOICES)
    params = {"n_points": n_points, "pca_components": reduce_to if 0 < reduce_to < run.z_dim else None}
    if method == "tsne":
        params["perplexity"] = float(choice(perplexity, "perplexity", PERPLEXITY_CHOICES))
    else:
        params["n_neighbors"] = choice(n_neighbours, "neighbours", NEIGHBOUR_CHOICES)

    def progress(fraction, message):
        set_progress((int(100 * fraction), 100, message))
        return True

    try:
        # One of the host's job slots for the whole map; without a free one the user is told to wait.
        with run.store.slots.slot(), run.cache_scope():
            fit = results.MAPS[method](run.folder, callback=progress, **params)
    except MapCancelled as exc:
        raise MapRefused(why=exc) from None
    except ValueError as exc:  # e.g. a perplexity too large for a small run: the analysis says why
        raise MapRefused(why=exc) from None
    how = f"{fit.backend}, " if method == "tsne" else ""
    return (
        f"{MAP_NAMES[method]} of {len(fit.ids):,} points of {run.name} ready ({how}{fit.seconds:.1f} s): "
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
        State(METHOD, "value"),
        State(NEIGHBOURS, "value"),
        **job_controls(GO, CANCEL, PROGRESS, PROGRESS_TEXT),
        prevent_initial_call=True,
    )
    @returns(TEXT)
    @guarded(str)
    def _compute(set_progress, _clicks, run_a, run_b, for_side, *settings):
        run = open_side(store, run_a, run_b, choice(for_side, "map for", SIDES))
        if run is None:
            return "no run selected"
        n_points, perplexity, reduce_to, method, neighbours = settings
        return compute_map(run, n_points, perplexity, reduce_to, set_progress, method, neighbours)


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("maps", TAB, layout, register, REFUSALS, url_state=URL_STATE, initial=initial)
