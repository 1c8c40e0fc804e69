"""Callbacks: thin wiring from inputs to ``app.store`` / ``analysis`` and ``app.figures``.

Each module exposes plain functions (called directly by the unit tests) and a
``register(app, store)`` that wires them to component ids.
"""

from __future__ import annotations

from app.callbacks import decode, planes, tsne, views


def register_callbacks(app, store, background_manager) -> None:
    """Register every callback of the dashboard on ``app``, reading runs through ``store``.

    ``background_manager`` runs the long callbacks (a new t-SNE) outside the request threads.
    """
    planes.register(app, store)
    tsne.register(app, store, background_manager)
    decode.register(app, store)
    views.register(app, store)
