"""A new t-SNE map as a background callback (diskcache manager) with progress and cancel.

The map is computed in a separate process by Dash's background-callback
manager, so a slow t-SNE never blocks the server's request threads, and it is
written to the run's analysis cache, where every worker (and the Planes view)
finds it.
"""

from __future__ import annotations

from pathlib import Path

from dash import DiskcacheManager, Input, Output, State

from app.callbacks.common import USER_ERRORS, finite, whole
from app.store import MAX_TSNE_POINTS


def compute_tsne(store, run, n_points, perplexity, pca_components, set_progress) -> str:
    """Compute a t-SNE map for ``run`` and return a one-line result; ``set_progress((value, max, text))``."""
    if not run:
        return "no run selected"
    n_points = whole(n_points, "t-SNE points", 100, MAX_TSNE_POINTS)
    perplexity = finite(perplexity, "perplexity", 2, 100)
    k = whole(pca_components or 0, "PCA components", 0, 4096)

    def progress(fraction, message):
        set_progress((int(100 * fraction), 100, message))

    done = store.compute_tsne(run, n_points, perplexity, k or None, progress)
    return f"t-SNE of {done['n_points']:,} points ready ({done['backend']}, {done['seconds']:.1f} s): choose the t-SNE plane"


def make_manager(cache_dir: str | Path) -> DiskcacheManager:
    """The background-callback manager: a diskcache folder beside the flask cache."""
    import diskcache

    return DiskcacheManager(diskcache.Cache(str(Path(cache_dir) / "background")))


def register(app, store, manager) -> None:
    """Wire the "compute t-SNE" button of the Planes view."""

    @app.callback(
        Output("tsne-status", "children"),
        Input("tsne-go", "n_clicks"),
        State("run-a", "value"),
        State("tsne-n", "value"),
        State("tsne-perplexity", "value"),
        State("tsne-pca", "value"),
        background=True,
        manager=manager,
        running=[(Output("tsne-go", "disabled"), True, False), (Output("tsne-cancel", "disabled"), False, True)],
        progress=[
            Output("tsne-progress", "value"),
            Output("tsne-progress", "max"),
            Output("tsne-progress-text", "children"),
        ],
        cancel=[Input("tsne-cancel", "n_clicks")],
        prevent_initial_call=True,
    )
    def _tsne(set_progress, _clicks, run, n_points, perplexity, pca_components):
        try:
            return compute_tsne(store, run, n_points, perplexity, pca_components, set_progress)
        except USER_ERRORS as exc:
            return str(exc)
