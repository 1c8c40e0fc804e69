"""Checks of values that arrive from the browser, each failing with one refusal whose words its class defines.

Every refusal a view shows for bad input is a :class:`rundir.errors.Refusal`
subclass: these checks', the run store's (:data:`app.store.REFUSALS`) or one
its view lists (``View.refusals``), so the callback fuzzer can tell a refusal
from a bug: any other error is a bug.
"""

from __future__ import annotations

import math

from rundir.errors import Refusal


class NotANumber(Refusal):
    """A value that is not a number."""

    template = "{name} must be a number"


class OutOfRange(Refusal):
    """A number outside its bounds (or not finite)."""

    template = "{name} must be a finite number between {lo} and {hi}"


class NotWhole(Refusal):
    """A number that must be whole."""

    template = "{name} must be a whole number"


class NotOneOf(Refusal):
    """A value that is not one of the allowed ones."""

    template = "{name} must be one of {shown}"


class TooManyRows(Refusal):
    """A list of row ids that is not one, or too long."""

    template = "{name} must be a list of at most {limit} row ids"


#: The refusals of these checks (every view may raise them).
REFUSALS = (NotANumber, OutOfRange, NotWhole, NotOneOf, TooManyRows)


def finite(value, name: str, lo: float | None = None, hi: float | None = None) -> float:
    """``value`` as a finite float within [lo, hi], or a refusal naming ``name``."""
    if isinstance(value, bool):
        raise NotANumber(name=name)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise NotANumber(name=name) from None
    if not math.isfinite(number) or (lo is not None and number < lo) or (hi is not None and number > hi):
        raise OutOfRange(name=name, lo=lo, hi=hi)
    return number


def whole(value, name: str, lo: int, hi: int) -> int:
    """``value`` as an int within [lo, hi], or a refusal naming ``name``."""
    number = finite(value, name, lo, hi)
    if number != int(number):
        raise NotWhole(name=name)
    return int(number)


def choice(value, name: str, allowed) -> object:
    """``value`` if it is one of ``allowed`` (compared as given), else a refusal listing them."""
    allowed = tuple(allowed)
    try:
        if value in allowed and not isinstance(value, bool | list | dict):
            return value
    except TypeError:  # an unhashable or odd value: not one of them
        pass
    shown = ", ".join(str(a) for a in allowed[:12]) + (", …" if len(allowed) > 12 else "")
    raise NotOneOf(name=name, shown=shown)


def row_list(value, name: str, n_rows: int, limit: int) -> list[int]:
    """``value`` as a list of at most ``limit`` distinct row ids in [0, n_rows)."""
    if not isinstance(value, list) or len(value) > limit:
        raise TooManyRows(name=name, limit=limit)
    return sorted({whole(v, name, 0, n_rows - 1) for v in value})
