"""Metadata filters: a small condition language parsed against a table's columns, never evaluated as code.

A filter restricts the rows (images) every view uses, e.g.
``smiling == 1 and (pose > 0.5 or split in ['valid', 'test'])``. The grammar::

    filter     := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | "(" filter ")" | condition
    condition  := operand (("==" | "!=" | "<" | "<=" | ">" | ">=") operand)+     # a < b < c chains
                | operand ["not"] "in" "[" [literal ("," literal)*] "]"
    operand    := column | literal
    column     := name | `any text in backticks`                               # e.g. `5_o_Clock_Shadow`
    literal    := number | 'text' | "text" | true | false

Keywords (``and or not in true false``) are case-insensitive; ``row`` is the row
number when the table has no ``row`` column. The text is read by a tokenizer and a
recursive-descent parser (:mod:`analysis.filter_syntax`) into a tree; only that tree is
evaluated, with numpy / pandas comparisons. Function calls, attribute access,
subscripts, dunder names and any other Python are refused with one line naming
the problem (:class:`FilterError`, whose messages :data:`MESSAGES` lists).
The module uses only numpy and pandas: the dashboard and ``zspace export`` share it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from analysis.filter_syntax import (
    BOOL,
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_LIST,
    MESSAGES,
    NUMBER,
    OPS,
    TEXT,
    Column,
    Compare,
    FilterError,
    In,
    Junction,
    Literal,
    Not,
    Parser,
)

#: The module's face (the limits, messages and error come from :mod:`analysis.filter_syntax`).
__all__ = [
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_LIST",
    "MAX_WORK",
    "MESSAGES",
    "FilterError",
    "canonical",
    "check_text",
    "column_kinds",
    "condition_text",
    "conditions",
    "evaluate",
    "parse",
    "row_mask",
]


#: Most row comparisons one filter may cost (conditions x rows): 64 conditions up to 200,000 rows, fewer beyond.
MAX_WORK = 64 * 200_000


# -- the public face ---------------------------------------------------------------------------
def column_kinds(frame) -> dict[str, str]:
    """Each column of a metadata table as ``number``, ``bool`` or ``text`` (the table's order; ``row`` added if absent)."""
    kinds = {}
    for name in frame.columns:
        dtype = frame[name].dtype
        kinds[str(name)] = BOOL if dtype.kind == "b" else NUMBER if dtype.kind in "iuf" else TEXT
    kinds.setdefault("row", NUMBER)
    return kinds


def check_text(text) -> str:
    """``text`` if it can be a filter at all (text, at most :data:`MAX_LENGTH` characters), else FilterError."""
    if not isinstance(text, str):
        raise FilterError("filter: a filter that is not text is not allowed")
    if len(text) > MAX_LENGTH:
        raise FilterError(f"filter: longer than {MAX_LENGTH} characters ({len(text)})")
    return text


def parse(text, columns: Mapping[str, str]):
    """Parse a filter against the table's columns (``name -> kind``, see :func:`column_kinds`).

    Returns
    -------
    The condition tree; ``str(tree)`` is its canonical text.

    Raises
    ------
    FilterError
        With one line naming the problem (a position, a column, a refused construct).
    """
    check_text(text)
    if not text.strip():
        raise FilterError("filter: an empty filter at position 0 needs a column, e.g. smiling == 1")
    return Parser(text, columns).parse()


def _values(frame, operand, columns: dict):
    import pandas as pd

    if isinstance(operand, Literal):
        return operand.value
    if operand.name in columns:
        return columns[operand.name]
    if operand.name == "row" and "row" not in frame.columns:
        series = pd.Series(np.arange(len(frame)), index=frame.index)
    else:
        series = frame[operand.name]
        if series.dtype.kind not in "biuf":
            series = series.astype("string")  # missing values compare as <NA>, then count as no match
    columns[operand.name] = series
    return series


def _as_mask(result) -> np.ndarray:
    # Every condition has a column on one side (evaluate refuses two values), so its result is a Series.
    return result.fillna(False).to_numpy(dtype=bool)


def conditions(tree) -> int:
    """How many conditions (comparisons and ``in`` lists) a parsed filter holds: each is one pass over the rows."""
    if isinstance(tree, Junction):
        return sum(conditions(item) for item in tree.items)
    if isinstance(tree, Not):
        return conditions(tree.item)
    return 1 if isinstance(tree, Compare | In) else 0


def evaluate(tree, frame) -> np.ndarray:
    """The boolean row mask of a parsed filter over ``frame`` (the table it was parsed against).

    Raises
    ------
    FilterError
        When conditions x rows exceed :data:`MAX_WORK` (the work is bounded, not only the text's length).
    """
    count = conditions(tree)
    if count * len(frame) > MAX_WORK:
        raise FilterError(
            f"filter: {count} conditions on {len(frame):,} rows are not allowed "
            f"(at most {MAX_WORK:,} row comparisons; use fewer conditions or one in [...] list)"
        )
    return _evaluate(tree, frame, {})


def _evaluate(tree, frame, columns: dict) -> np.ndarray:
    # ``columns`` keeps each column's values for this evaluation: a text column is converted once, not per condition.
    if isinstance(tree, Junction):
        masks = [_evaluate(item, frame, columns) for item in tree.items]
        combine = np.logical_and if tree.word == "and" else np.logical_or
        return combine.reduce(masks)
    if isinstance(tree, Not):
        return ~_evaluate(tree.item, frame, columns)
    if isinstance(tree, In):
        values = _values(frame, tree.column, columns)
        found = _as_mask(values.isin([_same_precision(v, values) for v in tree.values]))
        return ~found if tree.negate else found
    left, right = _values(frame, tree.left, columns), _values(frame, tree.right, columns)
    if not hasattr(left, "shape") and not hasattr(right, "shape"):
        raise FilterError("filter: a condition of two values needs a column")
    left, right = _same_precision(left, right), _same_precision(right, left)
    return _as_mask(OPS[tree.op](left, right))


def _same_precision(value, other):
    # A float32 column holds 0.6 as 0.6000000238; the typed 0.6 must be rounded the same way to compare equal.
    if isinstance(value, float) and getattr(other, "dtype", None) == np.float32:
        return np.float32(value)
    return value


def row_mask(frame, text) -> np.ndarray:
    """Parse ``text`` against ``frame``'s columns and return its boolean row mask (length ``len(frame)``)."""
    return evaluate(parse(text, column_kinds(frame)), frame)


def canonical(text, columns: Mapping[str, str]) -> str:
    """The canonical text of a filter (one spacing, quoting and number format), e.g. for cache keys and links."""
    return str(parse(text, columns))


def condition_text(column: str, op: str, value: str, columns: Mapping[str, str]) -> str:
    """One condition built from a column, an operator (one of ``== != < <= > >= in``) and typed value text.

    Text columns get the value quoted, ``in`` splits it at commas; the result is
    parsed, so a bad value is refused like typed text.
    """
    if column not in columns:
        raise FilterError(f"filter: unknown column {column!r} (pick one from the list)")
    if op not in (*OPS, "in"):
        raise FilterError(f"filter: the operator {str(op)[:8]!r} at position 0 is not allowed")
    raw = [part.strip() for part in str(value).split(",")] if op == "in" else [str(value).strip()]
    if columns[column] == TEXT:
        raw = [repr(part.strip("'\"")) for part in raw]
    shown = f"[{', '.join(raw)}]" if op == "in" else raw[0]
    text = f"{Column(column)} {op} {shown}"
    return canonical(text, columns)
