"""The filter builder's value text as a user types it: only the quotes around a text value are taken off."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import table_filter as tf

KINDS = {"size": "text", "pose": "number"}


def test_the_builder_keeps_every_letter_of_a_text_value_and_only_drops_its_quotes():
    assert tf.condition_text("size", "==", "XXL", KINDS) == "size == 'XXL'"
    assert tf.condition_text("size", "in", "XS, 'XXL', \"M\"", KINDS) == "size in ['XS', 'XXL', 'M']"


def test_a_table_without_a_row_column_gets_row_as_a_number_column_last():
    import pandas as pd

    frame = pd.DataFrame({"size": ["S"], "pose": [0.5], "male": [True], "n": [np.int8(1)]})
    assert tf.column_kinds(frame) == {"size": "text", "pose": "number", "male": "bool", "n": "number", "row": "number"}


def test_a_filter_of_exactly_the_longest_length_is_read_and_one_character_more_is_refused():
    text = "pose > 0" + " " * (tf.MAX_LENGTH - 8)
    assert len(text) == 2000 and str(tf.parse(text, KINDS)) == "pose > 0"
    with pytest.raises(tf.FilterError, match=r"^filter: longer than 2000 characters \(2001\)$"):
        tf.parse(text + " ", KINDS)
    with pytest.raises(tf.FilterError, match=r"^filter: a filter that is not text is not allowed$"):
        tf.parse(b"pose > 0", KINDS)
