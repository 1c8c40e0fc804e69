"""Where the dashboard's background jobs run: Dash's background-callback manager.

A new t-SNE map is a Dash background callback, so it never runs inside a
request thread. The manager keeps its jobs in a diskcache folder beside the
flask cache.
"""

from __future__ import annotations

from pathlib import Path


def make_manager(cache_dir: str | Path):
    """The background-callback manager: a diskcache folder beside the flask cache."""
    import diskcache
    from dash import DiskcacheManager

    return DiskcacheManager(diskcache.Cache(str(Path(cache_dir) / "background")))
