"""Callbacks: thin wiring from inputs to ``app.store`` / ``analysis`` and ``app.figures``.

Each module exposes plain functions (called directly by the unit tests) and a
``register(app, store)`` that wires them to component ids.
"""

from __future__ import annotations

from app.callbacks import decode, planes, views


def register_callbacks(app, store) -> None:
    """Register every callback of the dashboard on ``app``, reading runs through ``store``."""
    planes.register(app, store)
    decode.register(app, store)
    views.register(app, store)
