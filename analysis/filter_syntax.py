"""The filter language's tokens, tree and parser (see :mod:`analysis.table_filter` for the grammar and its use).

A tokenizer yields tokens lazily and a recursive-descent parser builds a tree
of :class:`Column`, :class:`Literal`, :class:`Compare`, :class:`In`,
:class:`Not` and :class:`Junction`, checked against the table's column kinds;
``str(tree)`` is the canonical text. Nothing here evaluates anything.
"""

from __future__ import annotations

import difflib
import keyword
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from rundir.errors import ZspaceError

#: Longest filter text accepted (a filter is typed or built by hand; a row list belongs in a selection).
MAX_LENGTH = 2000
#: Most values of one ``in [...]`` list, and most nested parentheses / ``not``.
MAX_LIST = 200
MAX_DEPTH = 32
#: Most conditions (comparisons and ``in`` lists) in one filter: each is a pass over every row.
MAX_CONDITIONS = 64
#: The operand kinds a column can have.
NUMBER, BOOL, TEXT = "number", "bool", "text"

#: Regular expressions of every message :class:`FilterError` carries (for the dashboard's message checks).
MESSAGES = (
    r"filter: longer than \d+ characters \(\d+\)",
    r"filter: unknown column .+",
    r"filter: .+ (is|are) not allowed.*",
    r"filter: .+ at position \d+.*",
    r"filter: column .+ holds (text|numbers).*",
    r"filter: .+ needs a column.*",
)

OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_KEYWORDS = ("and", "or", "not", "in", "true", "false")
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z0-9_]+")
_SPACE = re.compile(r"\s+")
_PUNCTUATION = {"(": "(", ")": ")", "[": "[", "]": "]", ",": ","}
#: Characters that are Python but not filter grammar, with what to write instead.
_HINTS = {
    "=": "use == to compare",
    "&": "use and",
    "|": "use or",
    "!": "use != or not",
    "~": "use not",
    ".": "attribute access is not allowed",
    "{": "use [ ] for a list",
    "}": "use [ ] for a list",
}


class FilterError(ZspaceError, ValueError):
    """A filter text that is not in the grammar or does not fit the table (one line, see :data:`MESSAGES`)."""


# -- the tree ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    name: str

    def __str__(self) -> str:
        return self.name if _NAME.fullmatch(self.name) and not _NUMBER.fullmatch(self.name) else f"`{self.name}`"


@dataclass(frozen=True)
class Literal:
    value: float | str | bool

    def __str__(self) -> str:
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        if isinstance(self.value, str):
            return repr(self.value)
        text = repr(float(self.value))  # the shortest text that reads back as the same number
        return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class Compare:
    left: Column | Literal
    op: str
    right: Column | Literal

    def __str__(self) -> str:
        return f"{self.left} {self.op} {self.right}"


@dataclass(frozen=True)
class In:
    column: Column
    values: tuple
    negate: bool = False

    def __str__(self) -> str:
        shown = ", ".join(str(Literal(v)) for v in self.values)
        return f"{self.column} {'not in' if self.negate else 'in'} [{shown}]"


@dataclass(frozen=True)
class Not:
    item: object

    def __str__(self) -> str:
        return f"not {_wrapped(self.item)}"


@dataclass(frozen=True)
class Junction:
    word: str  # "and" | "or"
    items: tuple

    def __str__(self) -> str:
        return f" {self.word} ".join(_wrapped(item) for item in self.items)


def _wrapped(item) -> str:
    return f"({item})" if isinstance(item, Junction) else str(item)


# -- tokens ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Token:
    kind: str  # name | column | number | string | op | punct | keyword | end
    text: str
    position: int


def _tokens(text: str):
    """Yield the tokens of ``text`` one by one (lazily, so the parser names the first problem it meets)."""
    at = 0
    while at < len(text):
        space = _SPACE.match(text, at)
        if space:
            at = space.end()
            continue
        token, at = _token_at(text, at)
        yield token
    yield _Token("end", "", len(text))


def _token_at(text: str, at: int) -> tuple[_Token, int]:
    # The token that starts at ``at`` (not a space) and where the next one starts.
    char, pair = text[at], text[at : at + 2]
    if pair in OPS:
        return _Token("op", pair, at), at + 2
    if char in "<>":
        return _Token("op", char, at), at + 1
    if char in _PUNCTUATION:
        return _Token("punct", char, at), at + 1
    if char in "'\"`":
        end = text.find(char, at + 1)
        if end < 0:
            raise FilterError(f"filter: the quote {char} opened at position {at} is never closed")
        return _Token("column" if char == "`" else "string", text[at + 1 : end], at), end + 1
    return _number_or_name(text, at)


def _number_or_name(text: str, at: int) -> tuple[_Token, int]:
    char = text[at]
    if char == "." and (number := _NUMBER.match(text, at)):
        return _Token("number", number.group(), at), number.end()
    if char in "+-" and (number := _NUMBER.match(text, at + 1)):
        return _Token("number", text[at : number.end()], at), number.end()
    name = _NAME.match(text, at)
    if not name:
        hint = _HINTS.get(char, "it is not part of the filter grammar")
        raise FilterError(f"filter: {char!r} at position {at}: {hint}")
    number = _NUMBER.match(text, at)
    # A number is a number unless letters follow it: CelebA has a column named 5_o_Clock_Shadow.
    if number and number.end() >= name.end():
        return _Token("number", number.group(), at), number.end()
    word = name.group()
    kind = "keyword" if word.lower() in _KEYWORDS else "name"
    return _Token(kind, word.lower() if kind == "keyword" else word, at), name.end()


# -- the parser --------------------------------------------------------------------------------
class Parser:
    def __init__(self, text: str, columns: Mapping[str, str]):
        self.stream = _tokens(text)
        self.tokens: list[_Token] = []
        self.at = 0
        self.depth = 0
        self.conditions = 0
        self.columns = columns

    @property
    def token(self) -> _Token:
        while len(self.tokens) <= self.at:
            self.tokens.append(next(self.stream))
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.token
        self.at += 1
        return token

    def fail(self, what: str, token: _Token | None = None, hint: str = ""):
        token = token or self.token
        found = "the end" if token.kind == "end" else repr(token.text)
        raise FilterError(f"filter: {what} at position {token.position}, found {found}{hint}")

    def parse(self):
        tree = self.junction("or")
        if self.token.kind != "end":
            self.fail("expected and / or")
        return tree

    def junction(self, word: str):
        lower = (lambda: self.junction("and")) if word == "or" else self.negation
        items = [lower()]
        while self.token.kind == "keyword" and self.token.text == word:
            self.take()
            items.append(lower())
        return items[0] if len(items) == 1 else Junction(word, tuple(items))

    def negation(self):
        self.depth += 1
        # One level is the condition itself; MAX_DEPTH parentheses or not around it are allowed.
        if self.depth > MAX_DEPTH + 1:
            self.fail(f"more than {MAX_DEPTH} nested parentheses or not")
        try:
            if self.token.kind == "keyword" and self.token.text == "not":
                self.take()
                return Not(self.negation())
            if self.token.kind == "punct" and self.token.text == "(":
                self.take()
                inner = self.junction("or")
                if self.token.text != ")" or self.token.kind != "punct":
                    self.fail("expected )")
                self.take()
                return inner
            return self.condition()
        finally:
            self.depth -= 1

    def operand(self) -> Column | Literal:
        token = self.take()
        if token.kind in ("name", "column"):
            return self.column(token)
        if token.kind == "number":
            value = float(token.text)
            if not np.isfinite(value):
                raise FilterError(f"filter: the number at position {token.position} is too large")
            return Literal(value)
        if token.kind == "string":
            return Literal(token.text)
        if token.kind == "keyword" and token.text in ("true", "false"):
            return Literal(token.text == "true")
        self.fail("expected a column or a value", token)

    def column(self, token: _Token) -> Column:
        name = token.text
        follower = self.token  # read first, as the parser always did: a bad character after it is named first
        if token.kind == "name":
            self._refuse_python(name, follower)
        if name not in self.columns:
            same_letters = [c for c in self.columns if c.lower() == name.lower()]
            close = same_letters or difflib.get_close_matches(name, list(self.columns), n=1)
            shown = ", ".join(list(self.columns)[:20]) + (", …" if len(self.columns) > 20 else "")
            raise FilterError(
                f"filter: unknown column {name!r} ({f'did you mean {close[0]}? ' if close else ''}columns: {shown})"
            )
        return Column(name)

    def _refuse_python(self, name: str, follower: _Token) -> None:
        # A bare name that reads like Python (a dunder, a call, a subscript, a keyword) is named as such.
        if name.startswith("__") or name.endswith("__"):
            raise FilterError(f"filter: dunder names like {name} are not allowed")
        if follower.kind == "punct" and follower.text == "(":
            raise FilterError(f"filter: function calls ({name}(...)) are not allowed")
        if follower.kind == "punct" and follower.text == "[":
            raise FilterError(f"filter: subscripts ({name}[...]) are not allowed")
        if keyword.iskeyword(name) and name not in self.columns:
            raise FilterError(f"filter: Python's {name!r} is not allowed; write conditions like smiling == 1")

    def condition(self):
        start = self.token
        left = self.operand()
        negate = self.token.kind == "keyword" and self.token.text == "not"
        if negate or (self.token.kind == "keyword" and self.token.text == "in"):
            return self.membership(left, negate, start)
        if self.token.kind != "op":
            if isinstance(left, Column):
                self.fail(f"expected a comparison after {left}", hint=f" (e.g. {left} == 1)")
            self.fail("expected a comparison")
        parts = []
        while self.token.kind == "op":
            op = self.take().text
            right = self.operand()
            parts.append(self.checked(Compare(left, op, right), start))
            left = right
        return parts[0] if len(parts) == 1 else Junction("and", tuple(parts))

    def membership(self, left, negate: bool, start: _Token) -> In:
        if negate:
            self.take()
            if not (self.token.kind == "keyword" and self.token.text == "in"):
                self.fail("expected in after not")
        self.take()
        if not isinstance(left, Column):
            raise FilterError(f"filter: the condition at position {start.position} needs a column before in")
        if not (self.token.kind == "punct" and self.token.text == "["):
            self.fail("expected [ after in")
        self.take()
        values = self._value_list()
        for value in values:
            _check_types(left, Literal(value), self.columns)
        self.counted()
        return In(left, tuple(values), negate)

    def _value_list(self) -> list:
        # The values of "in [a, b, ...]" after its "[", up to and including the "]".
        values = []
        while not (self.token.kind == "punct" and self.token.text == "]"):
            literal = self.operand()
            if not isinstance(literal, Literal):
                self.fail("expected a value in the list")
            values.append(literal.value)
            if len(values) > MAX_LIST:
                raise FilterError(f"filter: lists of more than {MAX_LIST} values are not allowed")
            if self.token.kind == "punct" and self.token.text == ",":
                self.take()
            elif not (self.token.kind == "punct" and self.token.text == "]"):
                self.fail("expected , or ]")
        self.take()
        return values

    def counted(self) -> None:
        # Length alone does not bound the work: 2,000 characters hold about 250 comparisons.
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise FilterError(
                f"filter: more than {MAX_CONDITIONS} conditions are not allowed (join values with in [...])"
            )

    def checked(self, compare: Compare, start: _Token) -> Compare:
        self.counted()
        if not isinstance(compare.left, Column) and not isinstance(compare.right, Column):
            raise FilterError(f"filter: the condition at position {start.position} needs a column")
        _check_types(compare.left, compare.right, self.columns)
        return compare


def _kind_of(operand, columns: Mapping[str, str]) -> str:
    if isinstance(operand, Column):
        return columns[operand.name]
    if isinstance(operand.value, bool):
        return BOOL
    return TEXT if isinstance(operand.value, str) else NUMBER


def _check_types(left, right, columns: Mapping[str, str]) -> None:
    kinds = {_kind_of(left, columns), _kind_of(right, columns)}
    if TEXT in kinds and len(kinds) > 1:
        column = left if isinstance(left, Column) else right
        if columns[column.name] == TEXT:
            raise FilterError(f"filter: column {column} holds text: compare it with quoted text, e.g. {column} == 'x'")
        raise FilterError(f"filter: column {column} holds numbers: compare it with a number, not quoted text")
