"""The Model view: parameter table, training curves and config of each run."""

from __future__ import annotations

import json

import numpy as np
from dash import Input, Output, dash_table, dcc, html, no_update

import rundir
from app.memo import MemoKey
from app.store import RunHandle
from app.views.parts import RUN, SIDES, TABS, error_box, guarded, ids, side_columns, side_run
from app.views.protocol import View
from figures.distributions import history_figure

TAB = "Model"
REFUSALS = ()

make = ids("model")
PANEL = {s: make("panel", s) for s in SIDES}


def layout() -> html.Div:
    """One panel per run."""
    return html.Div([side_columns(lambda s: [dcc.Loading(html.Div(id=PANEL[s]))])], className="view")


def history_columns(run: RunHandle) -> dict[str, np.ndarray] | None:
    """The run's ``history.csv`` as numeric columns, or None when it has none (memoised)."""
    import pandas as pd

    path = run.folder / rundir.HISTORY
    if not path.exists():
        return None

    def read():
        frame = pd.read_csv(path)
        return {c: frame[c].to_numpy(dtype=np.float32) for c in frame.columns if frame[c].dtype.kind in "iuf"}

    return run.memo(MemoKey.HISTORY, read)


def model_panel(run: RunHandle) -> list:
    """Parameter table, training curves and config of a run."""
    from models.summary import parameter_table

    config = run.config
    parts = [
        html.H3(f"{run.name} ({str(config['model']).upper()}, z_dim {config['z_dim']}, {config['image_size']} px)")
    ]
    table = parameter_table(config)
    parts.append(
        html.P(f"parameters: encoder {table['encoder']:,} · decoder {table['decoder']:,} · total {table['total']:,}")
    )
    layers = [{k: str(v) if isinstance(v, list | tuple) else v for k, v in row.items()} for row in table["layers"]]
    parts.append(dash_table.DataTable(data=layers, page_size=15, style_cell={"fontSize": 12, "fontFamily": "inherit"}))
    columns = history_columns(run)
    if columns:
        parts.append(dcc.Graph(figure=history_figure(run.name, columns), config={"displaylogo": False}))
    else:
        parts.append(html.P("no history.csv in this run", className="note"))
    parts.append(html.Details([html.Summary("config.json"), html.Pre(json.dumps(config, indent=2))]))
    return parts


def register(app, store, views) -> None:
    """Wire the model panels."""
    for side in SIDES:

        @app.callback(
            Output(PANEL[side], "children"),
            Input(TABS, "value"),
            Input(RUN["a"], "value"),
            Input(RUN["b"], "value"),
            # A later tab's view computes when its tab is opened, never at page load.
            prevent_initial_call=True,
        )
        @guarded(error_box)
        def _model(tab, run_a, run_b, side=side):
            name = side_run(run_a, run_b, side)
            if not name:
                return []
            if tab != TAB:
                return no_update
            return model_panel(store.open(name))


#: This view, as the registry and the page shell see it (:class:`app.views.protocol.View`).
VIEW = View("model", TAB, layout, register, REFUSALS)
