"""Helpers shared by the callbacks: which run a side shows, and turning bad input into a message."""

from __future__ import annotations

import math

from dash import html

from rundir.errors import ZspaceError

#: Errors from bad or stale browser input; they become a message in the page, never a traceback.
USER_ERRORS = (ZspaceError, ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)


def side_run(run_a, run_b, side: str):
    """The run shown on ``side`` ("a" or "b"); None when nothing is compared or it is the same run."""
    if side == "a":
        return run_a
    return run_b if run_b and run_b != run_a else None


def finite(value, name: str, lo: float | None = None, hi: float | None = None) -> float:
    """``value`` as a finite float within [lo, hi], or ZspaceError naming ``name``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ZspaceError(f"{name} must be a number") from None
    if not math.isfinite(number) or (lo is not None and number < lo) or (hi is not None and number > hi):
        raise ZspaceError(f"{name} must be a finite number between {lo} and {hi}")
    return number


def whole(value, name: str, lo: int, hi: int) -> int:
    """``value`` as an int within [lo, hi], or ZspaceError naming ``name``."""
    number = finite(value, name, lo, hi)
    if number != int(number):
        raise ZspaceError(f"{name} must be a whole number")
    return int(number)


def error_box(exc: Exception) -> html.Div:
    """A one-line message for an error caused by input, shown where the result would be."""
    return html.Div(str(exc) or type(exc).__name__, className="error")
