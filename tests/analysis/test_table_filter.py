"""The metadata filter language: the listed grammar selects exactly the right rows; anything else is refused in one line."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import regions, tables
from analysis.table_filter import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_WORK,
    MESSAGES,
    FilterError,
    canonical,
    column_kinds,
    condition_text,
    parse,
    row_mask,
)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": np.arange(6),
            "id": [f"img{k}" for k in range(6)],
            "split": ["train", "train", "valid", "test", None, "train"],
            "smiling": np.array([1, -1, 1, -1, 1, -1], dtype=np.int8),
            "pose": np.array([0.1, 0.9, np.nan, -0.5, 2.0, 0.6], dtype=np.float32),
            "5_o_Clock_Shadow": [1, 1, -1, -1, 1, 1],
            "male": [True, False, True, False, True, False],
        }
    )


def rows(frame, text) -> list[int]:
    return np.flatnonzero(row_mask(frame, text)).tolist()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("smiling == 1", [0, 2, 4]),
        ("smiling != 1", [1, 3, 5]),
        ("pose < 0.6", [0, 3]),
        ("pose <= 0.6", [0, 3, 5]),
        ("pose > 0.6", [1, 4]),
        ("pose >= 0.6", [1, 4, 5]),
        ("smiling == 1 and pose > 0.5", [4]),
        ("smiling == 1 or pose < 0", [0, 2, 3, 4]),
        ("(smiling == 1 or pose < 0) and not split == 'train'", [2, 3, 4]),
        ("split in ['valid', 'test']", [2, 3]),
        ('split in ["valid"]', [2]),
        ("split not in ['train']", [2, 3, 4]),
        ("smiling in [1, 2, 3]", [0, 2, 4]),
        ("pose in [0.6, 2]", [4, 5]),
        ("0 < pose < 1", [0, 1, 5]),
        ("-1 < pose and pose < .5", [0, 3]),
        ("5_o_Clock_Shadow == -1", [2, 3]),
        ("`5_o_Clock_Shadow` == 1 AND smiling == -1", [1, 5]),
        ("male == true", [0, 2, 4]),
        ("male == FALSE", [1, 3, 5]),
        ("row >= 4", [4, 5]),
        ("split >= 'train'", [0, 1, 2, 5]),
        ("not (pose > 0)", [2, 3]),
        ("pose != pose", [2]),
        ("((smiling == 1))", [0, 2, 4]),
    ],
)
def test_the_grammar_selects_exactly_the_matching_rows(frame, text, expected):
    assert rows(frame, text) == expected


def test_row_is_the_row_number_when_a_table_has_no_row_column(frame):
    table = frame.drop(columns="row")
    assert "row" in column_kinds(table)
    assert rows(table, "row < 2") == [0, 1]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("len(id) > 3", "function calls"),
        ("smiling.real == 1", "attribute access"),
        ("id[0] == 'i'", "subscripts"),
        ("__class__ == 1", "dunder names"),
        ("smiling == __import__", "dunder names"),
        ("nope == 1", "unknown column 'nope'"),
        ("Smiling == 1", "did you mean smiling"),
        ("lambda x: 1", "'lambda' is not allowed"),
        ("[x for x in id]", "expected a column or a value at position 0"),
        ("smiling == 1 and x for x in id", "unknown column 'x'"),
        ("import os", "'import' is not allowed"),
        ("smiling = 1", "use =="),
        ("smiling == 1 && pose > 0", "use and"),
        ("smiling == 1 || pose > 0", "use or"),
        ("smiling == 'yes'", "holds numbers"),
        ("split == 1", "holds text"),
        ("1 == 1", "needs a column"),
        ("smiling", "expected a comparison after smiling"),
        ("smiling ==", "expected a column or a value"),
        ("(smiling == 1", "expected )"),
        ("smiling in 1", "expected [ after in"),
        ("split == 'train", "never closed"),
        ("pose > 1e999", "too large"),
        ("smiling == 1 pose > 0", "expected and / or"),
        ("{'a': 1}", "use [ ] for a list"),
        ("", "empty filter"),
        ("x" * (MAX_LENGTH + 1), "longer than"),
        ("(" * (MAX_DEPTH + 1) + "smiling == 1" + ")" * (MAX_DEPTH + 1), "nested"),
        ("smiling in [" + ",".join(["1"] * 300) + "]", "lists of more than"),
        (" or ".join(["pose > 0"] * (MAX_CONDITIONS + 1)), f"more than {MAX_CONDITIONS} conditions"),
        (" < ".join(["pose"] * (MAX_CONDITIONS + 2)), f"more than {MAX_CONDITIONS} conditions"),  # a chain counts each
    ],
)
def test_anything_else_is_refused_with_one_line_naming_the_problem(frame, text, names):
    with pytest.raises(FilterError) as refused:
        row_mask(frame, text)
    message = str(refused.value)
    assert names in message
    assert "\n" not in message and "Traceback" not in message
    assert any(re.fullmatch(pattern, message) for pattern in MESSAGES), message


def test_a_filter_that_is_not_text_is_refused(frame):
    for value in (None, 5, ["smiling == 1"], {"expr": "x"}):
        with pytest.raises(FilterError, match="not text"):
            row_mask(frame, value)


def test_canonical_text_reads_back_to_the_same_filter(frame):
    kinds = column_kinds(frame)
    for text in ("smiling==1 AND(pose>0.5 or split in ['a','b'])", "not `5_o_Clock_Shadow` != -1", "0<pose<=1.5"):
        tree = parse(text, kinds)
        assert parse(str(tree), kinds) == tree
        assert canonical(str(tree), kinds) == str(tree)
        assert rows(frame, str(tree)) == rows(frame, text)


def test_the_builder_quotes_text_and_splits_lists(frame):
    kinds = column_kinds(frame)
    assert condition_text("split", "in", "valid, test", kinds) == "split in ['valid', 'test']"
    assert condition_text("split", "==", "train", kinds) == "split == 'train'"
    assert condition_text("pose", ">", " 0.5 ", kinds) == "pose > 0.5"
    with pytest.raises(FilterError, match="holds numbers"):
        condition_text("pose", ">", "'high'", kinds)
    with pytest.raises(FilterError, match="unknown column"):
        condition_text("nope", "==", "1", kinds)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60) | st.from_regex(r"[a-z_ ().=<>!'\[\],0-9]{0,40}"))
def test_arbitrary_text_is_a_mask_or_a_filter_error_never_anything_else(text):
    table = pd.DataFrame({"smiling": [1, -1], "pose": [0.5, -0.5], "split": ["a", "b"]})
    try:
        mask = row_mask(table, text)
    except FilterError as exc:
        assert any(re.fullmatch(pattern, str(exc)) for pattern in MESSAGES), str(exc)
    else:
        assert mask.dtype == bool and mask.shape == (2,)


def test_regions_select_the_points_inside_a_box_and_a_lasso():
    grid = np.stack(np.meshgrid(np.arange(5.0), np.arange(5.0)), axis=-1).reshape(-1, 2)
    box = regions.in_box(grid, [3.0, 1.0], [0.5, 2.0])
    assert {tuple(p) for p in grid[box]} == {(x, y) for x in (1.0, 2.0, 3.0) for y in (1.0, 2.0)}
    # The triangle (0,0)-(4,0)-(0,4) holds the shifted grid points with x + y < 4.
    inside = regions.in_polygon(grid + 0.25, [0, 4, 0], [0, 0, 4])
    assert {tuple(p) for p in (grid + 0.25)[inside]} == {
        (x + 0.25, y + 0.25) for x in range(4) for y in range(4) if x + y <= 3
    }
    shapes = [
        {"kind": "box", "x": [0, 0.5], "y": [0, 0.5]},
        {"kind": "lasso", "x": [3.5, 4.5, 4.5], "y": [3.5, 3.5, 4.5]},
    ]
    assert {tuple(p) for p in grid[regions.in_shapes(grid, shapes)]} == {(0.0, 0.0), (4.0, 4.0)}


def test_point_tables_hold_the_export_columns_in_both_formats(tmp_path):
    table = tables.points_table(
        [3, 5], ["a", "b"], [[0.5, 1.5], [2.0, -1.0]], colour=[1.0, 2.0], colour_name="pose", selected=[True, False]
    )
    assert list(table.columns) == ["row", "id", "x", "y", "pose", "selected", "filtered"]
    for fmt in ("csv", "parquet"):
        path = tmp_path / f"t.{fmt}"
        path.write_bytes(tables.table_bytes(table, fmt))
        back = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
        assert back["row"].tolist() == [3, 5] and back["selected"].tolist() == [True, False]
        assert back["filtered"].all() and back["x"].tolist() == [0.5, 2.0]
    assert tables.format_of("x.PARQUET") == "parquet"
    with pytest.raises(ValueError, match=".csv or .parquet"):
        tables.format_of("x.xlsx")


def test_the_work_of_a_filter_is_bounded_by_conditions_times_rows_not_only_by_length():
    """At most MAX_CONDITIONS conditions, and conditions x rows <= MAX_WORK: exactly at both limits works."""
    assert (MAX_CONDITIONS, MAX_WORK) == (64, 12_800_000)  # the documented limits (docs/SECURITY.md)
    rows = MAX_WORK // MAX_CONDITIONS
    big = pd.DataFrame(
        {"pose": np.linspace(-1, 1, rows, dtype=np.float32), "split": np.where(np.arange(rows) % 2, "a", "b")}
    )
    # 64 conditions, each keeping a different slice; their "or" is checked against numpy directly.
    lows = np.round(np.linspace(-1, 0.9, MAX_CONDITIONS // 2), 3)
    text = " or ".join(f"({low:.3f} < pose < {low + 0.001:.3f})" for low in lows)
    assert len(parse(text, column_kinds(big)).items) == MAX_CONDITIONS // 2  # each chain is two comparisons
    pose = big["pose"].to_numpy()
    expected = np.zeros(rows, bool)
    for low in lows:
        expected |= (np.float32(f"{low:.3f}") < pose) & (pose < np.float32(f"{low + 0.001:.3f}"))
    assert np.array_equal(row_mask(big, text), expected) and 0 < expected.sum() < rows
    # One row more is one comparison pass too many: refused with one line, before any work.
    with pytest.raises(FilterError) as refused:
        row_mask(pd.concat([big, big.iloc[:1]], ignore_index=True), text)
    message = str(refused.value)
    assert message.startswith(f"filter: {MAX_CONDITIONS} conditions on {rows + 1:,} rows are not allowed"), message
    assert any(re.fullmatch(pattern, message) for pattern in MESSAGES), message
    # Fewer conditions may look at more rows: the bound is the product.
    assert row_mask(pd.concat([big, big], ignore_index=True), "split == 'a'").sum() == rows


def test_a_text_column_used_by_many_conditions_gives_the_same_rows_as_one_in_list(frame):
    many = " or ".join(f"split == {name!r}" for name in ("valid", "test", "nope"))
    assert np.array_equal(row_mask(frame, many), row_mask(frame, "split in ['valid', 'test', 'nope']"))
    assert row_mask(frame, many).tolist() == [False, False, True, True, False, False]
