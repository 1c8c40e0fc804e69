"""Each URL-state codec at its boundaries, and the fragment's limits exactly at the limit and one past it.

``test_navigate.py`` round-trips a whole page through a link; here each codec
is taken alone (pure functions, no Dash), so a wrong bound, a dropped check or
a changed number format shows on the one value that crosses it.
"""

from __future__ import annotations

import json

import pytest

from app import url_state as us
from rundir.errors import ZspaceError

BOX = {"run": "ae", "plane": {"kind": "pca", "i": 0, "j": 1}, "shapes": [{"kind": "box", "x": [0, 1], "y": [2, 3]}]}


def test_a_choice_is_written_as_its_text_and_read_back_as_the_value_itself():
    codec = us.Choice((1, 2, "pca"), "plane")
    assert [codec.encode(v) for v in (2, "pca", 5, True, None)] == ["2", "pca", None, None, None]
    assert codec.decode("2") == 2 and codec.decode("pca") == "pca"
    with pytest.raises(ZspaceError, match="^plane must be one of 1, 2, pca$"):
        codec.decode("3")
    assert codec.spread("pca", 2) == ("pca", "pca")


def test_a_name_is_at_most_its_length_of_safe_characters_and_empty_means_none():
    codec = us.Name("run", longest=5)
    assert codec.encode("ab.-:") == "ab.-:" and codec.encode("abcdef") is None
    assert [codec.encode(v) for v in ("", "a b", "a/b", 5, None)] == [None] * 5
    assert codec.decode("a_B9.") == "a_B9." and codec.decode("") is None
    for bad in ("abcdef", "a/b", "ä"):
        with pytest.raises(ZspaceError, match="^run must be a name of at most 5 letters, digits or ._-:$"):
            codec.decode(bad)
    assert us.Name().longest == 120


def test_a_whole_number_is_kept_only_inside_its_bounds():
    codec = us.Whole(0, 10, "k")
    assert [codec.encode(v) for v in (0, 10, 3.0, -1, 11, 2.5, True, float("inf"), "3")] == [
        "0",
        "10",
        "3",
        None,
        None,
        None,
        None,
        None,
        None,
    ]
    assert codec.decode("10") == 10 and isinstance(codec.decode("3"), int)
    for bad in ("11", "-1", "2.5", "x"):
        with pytest.raises(ZspaceError, match="^k must be"):
            codec.decode(bad)


def test_a_number_keeps_eight_significant_digits_inside_its_bounds():
    codec = us.Number(-1.0, 1.0, "scale")
    assert codec.encode(0.123456789) == "0.12345679" and codec.encode(-1.0) == "-1" and codec.encode(1) == "1"
    assert [codec.encode(v) for v in (1.0000001, -2, False, float("nan"), None)] == [None] * 5
    assert codec.decode("0.5") == 0.5
    with pytest.raises(ZspaceError, match="^scale must be a finite number between -1.0 and 1.0$"):
        codec.decode("1.5")


def test_a_zoom_is_four_numbers_spanning_a_range_within_its_bound():
    codec = us.Zoom()
    assert codec.encode({"x": [0.5, 1.25, 9], "y": [-2, 3.123456789]}) == "0.5,1.25,-2,3.123457"
    for bad in ({"x": [0, 1]}, {"x": [0, 1], "y": [2]}, {"x": [0, float("inf")], "y": [0, 1]}, [0, 1, 2, 3]):
        assert codec.encode(bad) is None
    assert codec.decode("1,0,3,-2") == {"x": [0.0, 1.0], "y": [-2.0, 3.0]}
    assert codec.decode("-1e6,1e6,0,1") == {"x": [-1e6, 1e6], "y": [0.0, 1.0]}
    for bad, message in (
        ("0,1,2", "four numbers"),
        ("0,1,2,3,4", "four numbers"),
        ("0,0,1,2", "spanning a range"),
        ("0,1,2,2", "spanning a range"),
        ("0,1e6,0,1.000001e6", "zoom must be a finite number"),
    ):
        with pytest.raises(ZspaceError, match=message):
            codec.decode(bad)


def test_a_point_is_its_row_number_from_zero_on():
    codec = us.Row()
    assert [
        codec.encode(v) for v in ({"row": 0}, {"row": 7, "run": "ae"}, {"row": -1}, {"row": True}, {"row": 1.0}, 3)
    ] == [
        "0",
        "7",
        None,
        None,
        None,
        None,
    ]
    assert codec.decode("0") == {"row": 0} and codec.decode("1000000000") == {"row": 10**9}
    with pytest.raises(ZspaceError, match="^point must be"):
        codec.decode("1000000001")


def test_json_is_compact_cleaned_and_bounded_in_length_both_ways():
    codec = us.Json(lambda v: v, longest=12)
    assert codec.encode({"a": [1, 2]}) == '{"a":[1,2]}' and codec.encode(None) is None
    assert codec.encode("x" * 10) == json.dumps("x" * 10) and codec.encode("x" * 11) is None  # 12 and 13 characters
    assert codec.decode('"' + "x" * 10 + '"') == "x" * 10
    with pytest.raises(ZspaceError, match="^it is longer than 12 characters$"):
        codec.decode('"' + "x" * 11 + '"')
    for bad in ("{bad", "[" * 11):
        with pytest.raises(ZspaceError, match="^it is not readable JSON$"):
            codec.decode(bad)

    def refuse(value):
        raise ZspaceError("no")

    assert us.Json(refuse).encode({"a": 1}) is None and us.Json(refuse).longest == 16_000
    with pytest.raises(ZspaceError, match="^no$"):
        us.Json(refuse).decode("{}")


def test_a_filter_is_its_text_alone_or_json_when_it_keeps_a_selection():
    codec = us.FilterCodec()
    assert codec.encode({"expr": "  smiling == 1 ", "within": None}) == "smiling == 1"
    kept = codec.encode({"expr": "a == 1", "within": BOX})
    assert kept.startswith('{"expr":"a == 1","within":{') and " " not in kept.replace("a == 1", "")
    assert codec.decode(kept) == {
        "expr": "a == 1",
        "within": {**BOX, "plane": {**BOX["plane"], "map": None, "units": "z"}},
    }
    assert codec.decode("pose > 0") == {"expr": "pose > 0", "within": None}
    assert codec.encode({"expr": ""}) is None and codec.encode({"bad": 1}) is None
    assert codec.spread({"expr": "a", "within": None}, 2) == ({"expr": "a", "within": None}, "a")
    assert codec.spread(None, 2) == (None, "") and codec.spread(None, 1) == (None,)


def test_a_field_writes_to_its_own_property_unless_it_names_targets():
    codec = us.Name()
    assert us.Field("run", "value", codec).outputs() == (("run", "value"),)
    assert us.Field("f", "data", codec, targets=(("f", "data"), ("t", "value"))).outputs() == (
        ("f", "data"),
        ("t", "value"),
    )


FIELDS = {"run": us.Field("run", "value", us.Name("run")), "k": us.Field("k", "value", us.Whole(1, 99, "k"))}


def test_a_fragment_keeps_the_fields_order_escapes_what_it_must_and_leaves_out_unset_values():
    assert us.encode(FIELDS, {"k": 5, "run": "a:b"}) == "#run=a:b&k=5"
    assert us.encode(FIELDS, {"run": None, "k": 500}) == ""
    filters = {"f": us.Field("f", "data", us.FilterCodec())}
    assert us.encode(filters, {"f": {"expr": "x in ['a', 'b'] and (y != 1)"}}) == (
        "#f=x%20in%20['a',%20'b']%20and%20(y%20!%3D%201)"
    )


def test_a_fragment_is_read_up_to_its_length_and_field_limits_and_not_one_past():
    assert us.decode(FIELDS, "run=ab&k=3") == ({"run": "ab", "k": 3}, [])
    limit = "#run=" + "a" * (us.MAX_FRAGMENT - 4)
    assert us.decode(FIELDS, limit)[1] == [
        "has an unusable run (run must be a name of at most 120 letters, digits or ._-:)"
    ]
    assert us.decode(FIELDS, limit + "a") == ({}, ["is longer than 24,000 characters"])
    many = "&".join(f"x{k}=1" for k in range(us.MAX_FIELDS))
    assert len(us.decode(FIELDS, many)[1]) == us.MAX_FIELDS
    assert us.decode(FIELDS, many + "&run=a") == ({}, ["holds more than 64 values"])
    assert (us.MAX_FRAGMENT, us.MAX_FIELDS) == (24_000, 64)


def test_each_unusable_part_is_named_once_and_the_rest_is_applied():
    values, problems = us.decode(FIELDS, "#" + "q" * 30 + "=1&run=ok&run=again&k=0")
    assert values == {"run": "ok"}
    assert problems == [
        f"has an unknown key {'q' * 20!r}",
        "repeats run",
        "has an unusable k (k must be a finite number between 1 and 99)",
    ]
    assert us.decode(FIELDS, "") == ({}, []) and us.decode(FIELDS, None) == ({}, [])


def test_the_problem_line_names_the_first_problem_and_counts_the_rest():
    assert us.problem_message([], applied=True) == ""
    assert us.problem_message(["repeats run"], applied=True) == (
        "this link repeats run; the rest of it is applied (defaults instead)"
    )
    assert us.problem_message(["repeats run", "b", "c"], applied=False) == (
        "this link repeats run and 2 more problem(s); it is not applied (defaults instead)"
    )


def test_a_run_name_may_name_one_sweep_folder_and_counts_its_length_whole():
    codec = us.RunName("run", longest=9)
    assert codec.encode("sweep/b-1") == "sweep/b-1" and codec.decode("sweep/b-1") == "sweep/b-1"
    assert codec.decode("abcdefghi") == "abcdefghi" and codec.decode("") is None
    for bad in ("a/b/c", "/b", "a/", "abcd/efghi", "abcdefghij", "a b"):
        assert codec.encode(bad) is None
        with pytest.raises(ZspaceError, match="^run must be a name of at most 9 letters, digits or ._-:$"):
            codec.decode(bad)
    assert us.RunName().longest == 120 and us.RunName().name == "name"


def test_compared_runs_are_comma_separated_at_most_their_limit_and_each_named_once():
    codec = us.RunNames(3, "compare")
    assert codec.encode(["a", "s/b", "c"]) == "a,s/b,c" and codec.encode(("a",)) == "a"
    for unusable in ([], ["a", "b", "c", "d"], ["a", "b c"], "a", None):
        assert codec.encode(unusable) is None
    assert codec.decode("") == [] and codec.decode("a,s/b,c") == ["a", "s/b", "c"]
    assert codec.decode("b,a,b") == ["b", "a"]  # a repeat is dropped, the order kept
    for text, message in (
        ("a,,b", "^compare must be run names separated by commas$"),
        ("a,", "^compare must be run names separated by commas$"),
        ("a,b,c,d", "^compare must list at most 3 runs$"),
        ("a,b/c/d", "^compare must be a name of at most 120 letters"),
    ):
        with pytest.raises(ZspaceError, match=message):
            codec.decode(text)
    assert us.RunNames(2).name == "runs"


def test_a_number_is_read_inclusive_of_both_bounds():
    codec = us.Number(-1.0, 1.0, "scale")
    assert codec.decode("-1") == -1.0 and codec.decode("1") == 1.0 and codec.decode("0.12345679") == 0.12345679
    for bad in ("-1.0000001", "1.0000001", "nan", "inf"):
        with pytest.raises(ZspaceError, match="^scale must be a finite number between -1.0 and 1.0$"):
            codec.decode(bad)
    assert us.Number(0, 1).name == "number" and us.Whole(0, 1).name == "number"


def test_a_selection_is_written_as_compact_checked_json_and_read_back_with_its_defaults():
    codec = us.SelectionCodec()
    text = codec.encode(BOX)
    assert text == json.dumps(us.clean_selection(BOX), separators=(",", ":"))
    assert codec.decode(text) == {**BOX, "plane": {**BOX["plane"], "map": None, "units": "z"}}
    assert codec.encode({"run": "ae", "shapes": []}) is None and codec.encode(None) is None
    with pytest.raises(ZspaceError, match="selection is malformed"):
        codec.decode('{"run": "ae", "shapes": []}')


def test_a_blank_value_in_a_link_clears_its_field_and_a_long_refusal_is_cut_at_160_characters():
    assert us.decode(FIELDS, "#run=&k=3") == ({"run": None, "k": 3}, [])

    def refuse(value):
        raise ZspaceError("y" * 200)

    fields = {"j": us.Field("j", "data", us.Json(refuse))}
    assert us.decode(fields, "j=1") == ({}, [f"has an unusable j ({'y' * 160})"])


def test_a_link_check_reads_the_links_value_first_and_drops_what_its_check_refuses():
    check = us.LinkCheck(None, {"run": "a", "beside": None, "x": 5, "y": None}, {"run": "old", "beside": "b"}, ["t"])
    assert check.value("run") == "a" and check.value("beside") is None and check.value("zoom") is None
    assert check.runs == ("a", None)
    assert us.LinkCheck(None, {}, {"run": "old", "beside": "b"}, []).runs == ("old", "b")
    assert (us.RUN_KEY, us.COMPARE_KEY, us.BESIDE_KEY) == ("run", "compare", "beside")
    seen = []
    check.check("y", seen.append)  # None: the check is not even called
    check.check("absent", seen.append)
    assert seen == [] and check.values == {"run": "a", "beside": None, "x": 5, "y": None}
    check.check("x", lambda value: None)  # None: the value stays
    check.check("run", lambda value: value.upper())  # a result replaces it
    assert check.values["x"] == 5 and check.values["run"] == "A" and check.problems == []

    def refuse(value):
        raise ZspaceError(f"{value} is gone")

    check.check("x", refuse)
    check.drop("absent", "never there")
    assert "x" not in check.values and check.problems == [
        "has an unusable x (5 is gone)",
        "has an unusable absent (never there)",
    ]
