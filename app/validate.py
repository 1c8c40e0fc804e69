"""Checks of values that arrive from the browser, each failing with one validation message.

Every message a view shows for bad input is built here, names a run (see
:data:`RUN_MESSAGES`) or is declared in the view's own ``MESSAGES``, so the
callback fuzzer can tell a refusal from a bug: any other message is a bug.
"""

from __future__ import annotations

import math
import re

from rundir.errors import ZspaceError

#: Regular expressions of every validation message a view may show.
PATTERNS = (
    r".+ must be a number",
    r".+ must be a finite number between \S+ and \S+",
    r".+ must be a whole number",
    r".+ must be one of .+",
    r".+ must be a list of at most \d+ .+",
    r"no run selected",
    r"no click to decode",
    r"malformed click",
)
#: Messages about runs (unknown, unusable, not analysed yet), raised by the run store.
RUN_MESSAGES = (
    r"unknown run .+",
    r"run \S+ cannot be shown: .+",
    r".+ of \S+ (is|are) being computed.*",
    r".+ (is|are) not computed for \S+.*",
)


def is_validation_message(text: str, extra: tuple[str, ...] = ()) -> bool:
    """True when ``text`` is one of the messages above, the run store's, or ``extra`` (a view's ``MESSAGES``)."""
    return any(re.fullmatch(pattern, text, flags=re.S) for pattern in PATTERNS + RUN_MESSAGES + tuple(extra))


def finite(value, name: str, lo: float | None = None, hi: float | None = None) -> float:
    """``value`` as a finite float within [lo, hi], or ZspaceError naming ``name``."""
    if isinstance(value, bool):
        raise ZspaceError(f"{name} must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
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


def choice(value, name: str, allowed) -> object:
    """``value`` if it is one of ``allowed`` (compared as given), else ZspaceError listing them."""
    allowed = tuple(allowed)
    try:
        if value in allowed and not isinstance(value, bool | list | dict):
            return value
    except TypeError:  # an unhashable or odd value: not one of them
        pass
    shown = ", ".join(str(a) for a in allowed[:12]) + (", …" if len(allowed) > 12 else "")
    raise ZspaceError(f"{name} must be one of {shown}")


def row_list(value, name: str, n_rows: int, limit: int) -> list[int]:
    """``value`` as a list of at most ``limit`` distinct row ids in [0, n_rows)."""
    if not isinstance(value, list) or len(value) > limit:
        raise ZspaceError(f"{name} must be a list of at most {limit} row ids")
    return sorted({whole(v, name, 0, n_rows - 1) for v in value})
