"""The filter language's exact canonical text, exact messages and exact limits (its round trips are in test_table_filter).

A canonical text is a cache key and a shareable link: ``true`` written ``TRUE``,
``1`` written ``1.0`` or a lost pair of parentheses changes the key or the
meaning, so each form is pinned here character for character.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import table_filter as tf
from analysis.filter_syntax import Column, Compare, In, Junction, Literal, Not

KINDS = {
    "smiling": "number",
    "pose": "number",
    "split": "text",
    "male": "bool",
    "5_o_Clock_Shadow": "number",
    "123": "number",
}


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("male==TRUE", "male == true"),
        ("male != False", "male != false"),
        ("smiling == 1.0", "smiling == 1"),
        ("smiling == 10", "smiling == 10"),
        ("pose < .25", "pose < 0.25"),
        ("pose < 1e3", "pose < 1000"),
        ("split in ['a', \"b\"]", "split in ['a', 'b']"),
        ("split NOT IN ['a']", "split not in ['a']"),
        ("smiling in [1.0, 2.5]", "smiling in [1, 2.5]"),
        ("`5_o_Clock_Shadow` == 1", "5_o_Clock_Shadow == 1"),
        ("`123` == 1", "`123` == 1"),
        ("not (smiling == 1 or pose > 0)", "not (smiling == 1 or pose > 0)"),
        ("not smiling == 1", "not smiling == 1"),
        ("(smiling == 1 or pose > 0) and split == 'a'", "(smiling == 1 or pose > 0) and split == 'a'"),
        ("smiling == 1 or (pose > 0 and split == 'a')", "smiling == 1 or (pose > 0 and split == 'a')"),
        ("0 < pose <= 1", "0 < pose and pose <= 1"),
    ],
)
def test_each_construct_has_one_canonical_text(text, canonical):
    assert tf.canonical(text, KINDS) == canonical
    assert tf.canonical(canonical, KINDS) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("split not ['a']", "filter: expected in after not at position 10, found '['"),
        ("1 in [1]", "filter: the condition at position 0 needs a column before in"),
        ("split in 'a'", "filter: expected [ after in at position 9, found 'a'"),
        ("split in [pose]", "filter: expected a value in the list at position 14, found ']'"),
        ("split in ['a' 'b']", "filter: expected , or ] at position 14, found 'b'"),
        ("split in ['a',", "filter: expected a column or a value at position 14, found the end"),
        ("smiling == 'a'", "filter: column smiling holds numbers: compare it with a number, not quoted text"),
        (
            "'a' == split and split == 1",
            "filter: column split holds text: compare it with quoted text, e.g. split == 'x'",
        ),
        ("'a' == smiling", "filter: column smiling holds numbers: compare it with a number, not quoted text"),
        ("1 < split", "filter: column split holds text: compare it with quoted text, e.g. split == 'x'"),
    ],
)
def test_each_refusal_says_exactly_what_and_where(text, message):
    with pytest.raises(tf.FilterError) as refused:
        tf.parse(text, KINDS)
    assert str(refused.value) == message


def test_a_list_holds_up_to_two_hundred_values_and_not_one_more():
    values = ", ".join(str(v) for v in range(tf.MAX_LIST))
    assert len(tf.parse(f"smiling in [{values}]", KINDS).values) == 200
    with pytest.raises(tf.FilterError, match=r"^filter: lists of more than 200 values are not allowed$"):
        tf.parse(f"smiling in [{values}, 200]", KINDS)
    assert tf.parse("split in []", KINDS).values == ()


def test_every_comparison_and_list_counts_as_a_condition_also_under_not():
    tree = tf.parse("not smiling == 1 and not (pose > 0 or split in ['a']) and 0 < pose < 1", KINDS)
    assert tf.conditions(tree) == 5


@pytest.fixture
def table():
    # a "row" column that is not the position, and an index that is not 0..n-1 (a filtered table)
    return pd.DataFrame(
        {
            "row": [10, 11, 12, 13],
            "pose": np.array([0.1, 0.6, 0.2, 0.6], dtype=np.float32),
            "wide": np.array([0.1, 0.3, 0.1 + 0.2, 0.5]),
            "level": [0.5, 0.5, 1.5, 2.5],
            "split": ["a", None, "b", "a"],
        },
        index=[7, 8, 9, 20],
    )


def test_a_table_s_own_row_column_is_used_and_rows_compare_by_position(table):
    assert tf.row_mask(table, "row == 11").tolist() == [False, True, False, False]
    positional = table.drop(columns="row")
    assert tf.row_mask(positional, "row == 1").tolist() == [False, True, False, False]
    # row against another column: both sides line up row by row, whatever the index
    assert tf.row_mask(positional, "row < level").tolist() == [True, False, False, False]


def test_typed_numbers_compare_at_the_column_s_precision_on_either_side(table):
    assert tf.row_mask(table, "pose == 0.6").tolist() == [False, True, False, True]
    assert tf.row_mask(table, "0.6 == pose").tolist() == [False, True, False, True]
    assert tf.row_mask(table, "0.6 <= pose").tolist() == [False, True, False, True]
    # a float64 column is not rounded to float32: 0.1 matches 0.1 only, not 0.1 + 0.2's neighbour
    assert tf.row_mask(table, "wide == 0.1").tolist() == [True, False, False, False]
    assert tf.row_mask(table, "wide == 0.3").tolist() == [False, True, False, False]


def test_a_missing_text_value_matches_nothing_not_even_not_equal(table):
    assert tf.row_mask(table, "split == 'a'").tolist() == [True, False, False, True]
    assert tf.row_mask(table, "split != 'a'").tolist() == [False, False, True, False]
    assert tf.row_mask(table, "not split == 'a'").tolist() == [False, True, True, False]
    mask = tf.row_mask(table, "split in ['b']")
    assert mask.dtype == bool and mask.tolist() == [False, False, True, False]


def test_a_tree_of_two_values_is_refused_even_when_built_by_hand(table):
    with pytest.raises(tf.FilterError, match="^filter: a condition of two values needs a column$"):
        tf.evaluate(Compare(Literal(1.0), "==", Literal(1.0)), table)
    both = Junction("or", (Compare(Column("level"), ">", Literal(2.0)), Not(In(Column("split"), ("a",)))))
    assert tf.evaluate(both, table).tolist() == [False, True, True, True]


def test_the_builder_keeps_one_value_unless_asked_for_a_list_and_strips_quotes():
    assert tf.condition_text("split", "==", "a,b", KINDS) == "split == 'a,b'"
    assert tf.condition_text("split", "in", "'a', \"b\"", KINDS) == "split in ['a', 'b']"
    assert tf.condition_text("split", "!=", " 'x' ", KINDS) == "split != 'x'"
    assert tf.condition_text("5_o_Clock_Shadow", "<=", "1", KINDS) == "5_o_Clock_Shadow <= 1"
    with pytest.raises(tf.FilterError) as refused:
        tf.condition_text("split", "__import__('os')", "x", KINDS)
    assert str(refused.value) == "filter: the operator '__import' at position 0 is not allowed"
    with pytest.raises(tf.FilterError, match="^filter: unknown column 'nope' \\(pick one from the list\\)$"):
        tf.condition_text("nope", "==", "1", KINDS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("smiling == 1 @", "filter: '@' at position 13: it is not part of the filter grammar"),
        ("smiling = 1", "filter: '=' at position 8: use == to compare"),
        ("a.b", "filter: '.' at position 1: attribute access is not allowed"),
        ("split == 'train", "filter: the quote ' opened at position 9 is never closed"),
        ("split == ''", None),
        ("smiling", "filter: expected a comparison after smiling at position 7, found the end (e.g. smiling == 1)"),
        ("1 2", "filter: expected a comparison at position 2, found '2'"),
        ("smiling == 1 pose", "filter: expected and / or at position 13, found 'pose'"),
        ("(smiling == 1", "filter: expected ) at position 13, found the end"),
        ("(smiling == 1 ]", "filter: expected ) at position 14, found ']'"),
        ("x__ == 1", "filter: dunder names like x__ are not allowed"),
        ("__x == 1", "filter: dunder names like __x are not allowed"),
        ("split[0] == 'a'", "filter: subscripts (split[...]) are not allowed"),
        ("len(split) > 1", "filter: function calls (len(...)) are not allowed"),
        ("in == 1", "filter: expected a column or a value at position 0, found 'in'"),
        ("smiling == 1 and", "filter: expected a column or a value at position 16, found the end"),
        ("smiling >= -2 and pose <+1", None),
        (
            "SMILING == 1",
            "filter: unknown column 'SMILING' (did you mean smiling? columns: smiling, pose, split, male, 5_o_Clock_Shadow, 123)",
        ),
        (
            "smilng == 1",
            "filter: unknown column 'smilng' (did you mean smiling? columns: smiling, pose, split, male, 5_o_Clock_Shadow, 123)",
        ),
        ("zzz == 1", "filter: unknown column 'zzz' (columns: smiling, pose, split, male, 5_o_Clock_Shadow, 123)"),
    ],
)
def test_each_problem_is_named_with_its_position_and_what_was_found(text, message):
    if message is None:
        tf.parse(text, KINDS)
        return
    with pytest.raises(tf.FilterError) as refused:
        tf.parse(text, KINDS)
    assert str(refused.value) == message


def test_a_list_of_more_than_twenty_columns_is_cut_with_an_ellipsis():
    twenty = {f"c{i:02d}": "number" for i in range(20)}
    listed = ", ".join(twenty)
    with pytest.raises(tf.FilterError, match=f"^filter: unknown column 'zzz' \\(columns: {listed}\\)$"):
        tf.parse("zzz == 1", twenty)
    with pytest.raises(tf.FilterError, match=f"^filter: unknown column 'zzz' \\(columns: {listed}, …\\)$"):
        tf.parse("zzz == 1", {**twenty, "c20": "number"})


def test_thirty_two_parentheses_or_nots_are_allowed_and_thirty_three_are_not():
    for opening, closing in (("(", ")"), ("not ", "")):
        assert tf.parse(opening * tf.MAX_DEPTH + "smiling == 1" + closing * tf.MAX_DEPTH, KINDS)
        with pytest.raises(tf.FilterError, match="^filter: more than 32 nested parentheses or not at position"):
            tf.parse(opening * (tf.MAX_DEPTH + 1) + "smiling == 1" + closing * (tf.MAX_DEPTH + 1), KINDS)
    # depth is counted per branch, not summed over the whole filter
    deep = "(" * tf.MAX_DEPTH + "smiling == 1" + ")" * tf.MAX_DEPTH
    assert tf.conditions(tf.parse(f"{deep} and {deep}", KINDS)) == 2
