"""Shareable views: the page state a link carries, as ``key=value`` pairs in the URL's fragment (``#...``).

A view owns its link keys: its ``View.url_state`` maps each key to a
:class:`Field` (the component property the value is read from, a
:class:`Codec` that turns it into short text and back, checking everything
that comes back, and where a value from a link is written), and its optional
``View.check_url`` checks its values of a link being opened against the
server (a :class:`LinkCheck`). The share view (:mod:`app.views.share`)
iterates the views: it writes the fragment whenever a field changes and
applies a link's values when a page opens. This module is pure (no Dash):
encode, decode, bounds.

The fragment is never sent to the server with the page request, so a long
filter or lasso does not meet proxies' URL limits; it reaches the server only
as a callback value, bounded by :data:`MAX_FRAGMENT`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from app.subsets import clean_filter, clean_selection
from app.validate import choice, finite, whole
from rundir.errors import ZspaceError

#: Longest fragment a page applies (a lasso of a few hundred vertices and a long filter fit).
MAX_FRAGMENT = 24_000
#: Most key=value pairs one fragment may hold.
MAX_FIELDS = 64
#: The link keys of the runs shown (the page shell's run pickers; the share view puts them into links): the first
#: run, the compared runs and the one of them beside the first on the planes.
RUN_KEY, COMPARE_KEY, BESIDE_KEY = "run", "compare", "beside"

_SAFE = ",:[]'()*!~"


class Codec(ABC):
    """Turns one property's value into URL text and back; ``decode`` raises ZspaceError on anything unusable."""

    @abstractmethod
    def encode(self, value) -> str | None:
        """The value as text, or None to leave it out of the link (unset / default)."""

    @abstractmethod
    def decode(self, text: str):
        """The property value for ``text`` (checked)."""

    def spread(self, value, count: int) -> tuple:
        """One value per target of a field (the same value for each, unless a codec says otherwise)."""
        return (value,) * count


@dataclass(frozen=True)
class Choice(Codec):
    """One of a fixed list of values (written as their text)."""

    values: tuple
    name: str = "value"

    def encode(self, value):
        return str(value) if value in self.values and not isinstance(value, bool) else None

    def decode(self, text):
        return choice(next((v for v in self.values if str(v) == text), text), self.name, self.values)


@dataclass(frozen=True)
class Name(Codec):
    """A short name (a run, a map key, a column): letters, digits and ``._-:`` only; empty means None."""

    name: str = "name"
    longest: int = 120

    def encode(self, value):
        return value if isinstance(value, str) and value and self._ok(value) else None

    def decode(self, text):
        if text == "":
            return None
        if not self._ok(text):
            raise ZspaceError(f"{self.name} must be a name of at most {self.longest} letters, digits or ._-:")
        return text

    def _ok(self, text: str) -> bool:
        return len(text) <= self.longest and re.fullmatch(r"[A-Za-z0-9._:\-]+", text) is not None


@dataclass(frozen=True)
class RunName(Name):
    """A run's name: ``NAME``, or ``SWEEP/NAME`` for a run of a sweep folder (:mod:`rundir.listing`)."""

    def _ok(self, text: str) -> bool:
        parts = text.split("/")
        return len(text) <= self.longest and len(parts) <= 2 and all(super(RunName, self)._ok(p) for p in parts)


@dataclass(frozen=True)
class RunNames(Codec):
    """Several runs' names, comma-separated (a name holds no comma); decodes to a list of at most ``most``."""

    most: int
    name: str = "runs"

    def encode(self, value):
        if not isinstance(value, list | tuple) or not value or len(value) > self.most:
            return None
        one = RunName(self.name)
        return ",".join(value) if all(one.encode(name) is not None for name in value) else None

    def decode(self, text):
        if text == "":
            return []
        names = text.split(",")
        if "" in names:
            raise ZspaceError(f"{self.name} must be run names separated by commas")
        if len(names) > self.most:
            raise ZspaceError(f"{self.name} must list at most {self.most} runs")
        return list(dict.fromkeys(RunName(self.name).decode(name) for name in names))


@dataclass(frozen=True)
class Whole(Codec):
    """A whole number in ``[lo, hi]``."""

    lo: int
    hi: int
    name: str = "number"

    def encode(self, value):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return None
        return str(int(value)) if value == int(value) and self.lo <= value <= self.hi else None

    def decode(self, text):
        return whole(text, self.name, self.lo, self.hi)


@dataclass(frozen=True)
class Number(Codec):
    """A finite number in ``[lo, hi]`` (written with 8 significant digits)."""

    lo: float
    hi: float
    name: str = "number"

    def encode(self, value):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return None
        return f"{value:.8g}" if self.lo <= value <= self.hi else None

    def decode(self, text):
        return finite(text, self.name, self.lo, self.hi)


@dataclass(frozen=True)
class Zoom(Codec):
    """A plane's visible ranges: read from the plane's view JSON, written as ``x0,x1,y0,y1``.

    Decodes to ``{"x": [x0, x1], "y": [y0, y1]}`` (what ``planes.RESTORE`` takes).
    """

    bound: float = 1e6

    def encode(self, value):
        if not isinstance(value, dict) or not isinstance(value.get("x"), list) or not isinstance(value.get("y"), list):
            return None
        numbers = [*value["x"][:2], *value["y"][:2]]
        if len(numbers) != 4 or not all(isinstance(v, int | float) and math.isfinite(v) for v in numbers):
            return None
        return ",".join(f"{v:.7g}" for v in numbers)

    def decode(self, text):
        parts = text.split(",")
        if len(parts) != 4:
            raise ZspaceError("zoom must be four numbers x0,x1,y0,y1")
        x0, x1, y0, y1 = (finite(p, "zoom", -self.bound, self.bound) for p in parts)
        if x0 == x1 or y0 == y1:
            raise ZspaceError("zoom must be four numbers x0,x1,y0,y1 spanning a range")
        return {"x": sorted([x0, x1]), "y": sorted([y0, y1])}


@dataclass(frozen=True)
class Row(Codec):
    """A clicked data point: read from ``{"run", "row"}``, written as its row number; decodes to ``{"row": n}``."""

    def encode(self, value):
        row = value.get("row") if isinstance(value, dict) else None
        return str(row) if isinstance(row, int) and not isinstance(row, bool) and row >= 0 else None

    def decode(self, text):
        return {"row": whole(text, "point", 0, 10**9)}


@dataclass(frozen=True)
class Json(Codec):
    """A small JSON value, checked by ``clean`` (a function that raises ZspaceError or returns the value)."""

    clean: object
    longest: int = 16_000

    def encode(self, value):
        try:
            value = self.clean(value)  # only what a link could bring back is written into one
        except ZspaceError:
            return None
        if value is None:
            return None
        text = json.dumps(value, separators=(",", ":"))
        return text if len(text) <= self.longest else None

    def decode(self, text):
        if len(text) > self.longest:
            raise ZspaceError(f"it is longer than {self.longest:,} characters")
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            raise ZspaceError("it is not readable JSON") from None
        return self.clean(value)


class SelectionCodec(Json):
    """A box / lasso selection (:func:`app.subsets.clean_selection`), as compact JSON."""

    def __init__(self):
        super().__init__(clean_selection)


class FilterCodec(Codec):
    """The metadata filter: its text as is, or JSON when it also keeps a selection.

    Targets: the filter store and the filter's text box (:meth:`spread`).
    """

    def encode(self, value):
        try:
            state = clean_filter(value)
        except ZspaceError:
            return None
        if state is None:
            return None
        return state["expr"] if state["within"] is None else json.dumps(state, separators=(",", ":"))

    def decode(self, text):
        if text.startswith("{"):
            return Json(clean_filter).decode(text)
        return clean_filter({"expr": text})

    def spread(self, value, count):
        return (value, "" if value is None else value["expr"])[:count]


@dataclass(frozen=True)
class Field:
    """One fact a link carries.

    Attributes
    ----------
    component, prop : str
        Where the value is read from (an ``Input`` of the share view's writer).
    codec : Codec
    targets : tuple of (component, prop), optional
        Where a link's value is written (default: the same property); several when one
        fact shows in several places (the filter and its text box).
    """

    component: str
    prop: str
    codec: Codec
    targets: tuple[tuple[str, str], ...] | None = None

    def outputs(self) -> tuple[tuple[str, str], ...]:
        """The (component, prop) pairs a link's value is written to."""
        return self.targets or ((self.component, self.prop),)


def encode(fields: dict[str, Field], values: dict[str, object]) -> str:
    """The fragment (with its ``#``) for ``values`` (``key -> property value``); unset values are left out."""
    pairs = []
    for key, field in fields.items():
        text = field.codec.encode(values.get(key))
        if text is not None:
            pairs.append((key, text))
    if not pairs:
        return ""
    return "#" + urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote, safe=_SAFE)


def decode(fields: dict[str, Field], fragment) -> tuple[dict[str, object], list[str]]:
    """The values a fragment holds (``key -> decoded value``) and a list of what was not usable.

    Unknown keys, repeated keys and values their codec refuses are left out and
    named in the list; a fragment that is too long or not text is not read at all.
    """
    if fragment is None or fragment == "":
        return {}, []
    if not isinstance(fragment, str):
        return {}, ["is not text"]
    text = fragment[1:] if fragment.startswith("#") else fragment
    if len(text) > MAX_FRAGMENT:
        return {}, [f"is longer than {MAX_FRAGMENT:,} characters"]
    try:
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        return {}, [f"holds more than {MAX_FIELDS} values"]
    values, problems, seen = {}, [], set()
    for key, value in pairs:
        if key not in fields:
            problems.append(f"has an unknown key {key[:20]!r}")
        elif key in seen:
            problems.append(f"repeats {key}")
        else:
            seen.add(key)
            try:
                values[key] = fields[key].codec.decode(value)
            except ZspaceError as exc:
                problems.append(f"has an unusable {key} ({str(exc)[:160]})")
    return values, problems


def problem_message(problems: list[str], applied: bool) -> str:
    """One line for what a link held that could not be used (empty when nothing)."""
    if not problems:
        return ""
    more = f" and {len(problems) - 1} more problem(s)" if len(problems) > 1 else ""
    tail = "the rest of it is applied" if applied else "it is not applied"
    return f"this link {problems[0]}{more}; {tail} (defaults instead)"


@dataclass
class LinkCheck:
    """A link's decoded values while each view checks its own keys against the server (``View.check_url``).

    Attributes
    ----------
    store : app.store.RunStore
    values : dict
        Key -> decoded value; a check may replace a value by what its components take.
    current : dict
        Key -> the page's value now, for what the link leaves out.
    tabs : list of str
        The page's tabs.
    problems : list of str
        What was dropped, one line each.
    """

    store: object
    values: dict
    current: dict
    tabs: list[str]
    problems: list[str] = dataclasses.field(default_factory=list)

    def value(self, key: str):
        """The link's value of ``key``, else the page's current one."""
        return self.values[key] if key in self.values else self.current.get(key)

    @property
    def runs(self) -> tuple:
        """(run, the run beside it on the planes) the page shows once the link is applied."""
        return self.value(RUN_KEY), self.value(BESIDE_KEY)

    def drop(self, key: str, why) -> None:
        """Leave ``key`` out of what is applied and name it in :attr:`problems`."""
        self.values.pop(key, None)
        self.problems.append(f"has an unusable {key} ({why})")

    def check(self, key: str, check: Callable[[object], object]) -> None:
        """``check(value)`` for the link's value of ``key`` (skipped when absent or None).

        A :class:`ZspaceError` drops the key; a result other than None replaces the value.
        """
        if self.values.get(key) is None:
            return
        try:
            found = check(self.values[key])
        except ZspaceError as exc:
            self.drop(key, exc)
            return
        if found is not None:
            self.values[key] = found
