"""The filter builder's value text as a user types it: only the quotes around a text value are taken off."""

from __future__ import annotations

from analysis import table_filter as tf

KINDS = {"size": "text", "pose": "number"}


def test_the_builder_keeps_every_letter_of_a_text_value_and_only_drops_its_quotes():
    assert tf.condition_text("size", "==", "XXL", KINDS) == "size == 'XXL'"
    assert tf.condition_text("size", "in", "XS, 'XXL', \"M\"", KINDS) == "size in ['XS', 'XXL', 'M']"
