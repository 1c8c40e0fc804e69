"""A selection's and a filter's limits exactly at the limit and one past it, as plain functions (no runs).

``test_navigate.py`` selects points of real runs; here each bound of
:mod:`app.subsets` (shapes, vertices, path length, map name, axis numbers) is
met at its edge, and a thinned lasso is compared with evenly spaced vertices
computed here.
"""

from __future__ import annotations

import pytest

from app import subsets
from rundir.errors import ZspaceError

PLANE = {"kind": "pca", "i": 0, "j": 1}


def relayout(*items) -> dict:
    return {"selections": list(items)}


def rect(k: int = 0) -> dict:
    return {"type": "rect", "x0": k, "x1": k + 1, "y0": 0, "y1": 1}


def path(points) -> str:
    return "M" + "L".join(f"{x},{y}" for x, y in points) + "Z"


def test_a_long_lasso_keeps_its_first_and_last_vertex_and_evenly_spaced_ones_between():
    n = 1000
    (shape,) = subsets.shapes_from_relayout(relayout({"type": "path", "path": path((k, -k) for k in range(n))}))
    step = (n - 1) / (subsets.MAX_VERTICES - 1)
    expected = [float(int(k * step + 0.5)) for k in range(subsets.MAX_VERTICES)]  # rounded, no tie here
    assert shape["x"] == expected and shape["y"] == [-x for x in expected]
    assert shape["x"][0] == 0 and shape["x"][-1] == n - 1
    exact = [(k, 0) for k in range(subsets.MAX_VERTICES)]
    (kept,) = subsets.shapes_from_relayout(relayout({"type": "path", "path": path(exact)}))
    assert kept["x"] == [float(k) for k in range(subsets.MAX_VERTICES)]


def test_a_plot_selection_holds_at_most_eight_shapes_and_a_lasso_at_least_three_points():
    assert subsets.MAX_SHAPES == 8 and subsets.MAX_VERTICES == 400 and subsets.MAX_PATH_CHARS == 400_000
    eight = subsets.shapes_from_relayout(relayout(*(rect(k) for k in range(8))))
    assert [s["x"] for s in eight] == [[float(k), k + 1.0] for k in range(8)]
    with pytest.raises(ZspaceError) as refused:
        subsets.shapes_from_relayout(relayout(*(rect(k) for k in range(9))))
    assert str(refused.value) == "selection is malformed: it must hold at most 8 shapes"
    (triangle,) = subsets.shapes_from_relayout(relayout({"type": "path", "path": "M0,0L1,0L0,1Z"}))
    assert triangle == {"kind": "lasso", "x": [0.0, 1.0, 0.0], "y": [0.0, 0.0, 1.0]}
    with pytest.raises(ZspaceError) as short:
        subsets.shapes_from_relayout(relayout({"type": "path", "path": "M0,0L1,0Z"}))
    assert str(short.value) == "a lasso needs at least 3 points"
    for bad in ({"type": "path", "path": 5}, "rect", {"type": "path"}, {"type": "circle", "path": "M0,0L1,0L0,1"}):
        with pytest.raises(ZspaceError) as malformed:
            subsets.shapes_from_relayout(relayout(bad))
        assert str(malformed.value) == "selection is malformed: a shape is not a box or a lasso"
    with pytest.raises(ZspaceError) as no_corner:
        subsets.shapes_from_relayout(relayout({"type": "rect", "x0": 0, "x1": 1, "y0": 0}))
    assert str(no_corner.value) == "selection y must be a number"


def test_a_lasso_path_is_read_up_to_its_length_limit_and_refused_one_past_it():
    head = path([(0, 0), (1, 0), (0, 1)])
    at_limit = head + " " * (subsets.MAX_PATH_CHARS - len(head))
    assert len(subsets.shapes_from_relayout(relayout({"type": "path", "path": at_limit}))[0]["x"]) == 3
    with pytest.raises(ZspaceError) as refused:
        subsets.shapes_from_relayout(relayout({"type": "path", "path": at_limit + " "}))
    assert str(refused.value) == "selection is malformed: a lasso path longer than 400,000 characters"


def test_a_stored_plane_takes_its_defaults_and_its_bounds_inclusively():
    assert subsets.clean_plane_spec({"kind": "axis"}) == {"kind": "axis", "i": 0, "j": 1, "map": None, "units": "z"}
    spec = {"kind": "pca", "i": 1_000_000, "j": 0, "map": "m" * 100, "units": "sd"}
    assert subsets.clean_plane_spec(spec) == spec
    for bad, message in (
        (None, "selection is malformed: it names no plane"),
        ({**spec, "map": "m" * 101}, "selection is malformed: map must be a short name"),
        ({**spec, "map": 5}, "selection is malformed: map must be a short name"),
        ({**spec, "i": 1_000_001}, "selection plane x must be"),
        ({**spec, "j": -1}, "selection plane y must be"),
        ({**spec, "units": "cm"}, "selection plane units must be one of"),
        ({**spec, "kind": "cube"}, "selection plane must be one of"),
    ):
        with pytest.raises(ZspaceError) as refused:
            subsets.clean_plane_spec(bad)
        assert str(refused.value).startswith(message), (bad, str(refused.value))


def test_a_selection_holds_one_to_eight_shapes_of_the_right_sizes_on_a_named_run():
    box = {"kind": "box", "x": [0, 1], "y": [0, 1]}
    lasso = {"kind": "lasso", "x": list(range(400)), "y": [0] * 400}
    kept = subsets.clean_selection({"run": "r" * 200, "plane": PLANE, "shapes": [box] * 7 + [lasso]})
    assert len(kept["shapes"]) == 8 and kept["shapes"][7]["x"][-1] == 399.0
    for bad, message in (
        ({"run": "r" * 201, "plane": PLANE, "shapes": [box]}, "it names no run"),
        ({"run": "a", "plane": PLANE, "shapes": []}, "it must hold 1 to 8 shapes"),
        ({"run": "a", "plane": PLANE, "shapes": [box] * 9}, "it must hold 1 to 8 shapes"),
        ({"run": "a", "plane": PLANE, "shapes": [{**box, "x": [0, 1, 2]}]}, "x must hold 2 to 2 numbers"),
        ({"run": "a", "plane": PLANE, "shapes": [{**lasso, "x": list(range(401))}]}, "x must hold 3 to 400 numbers"),
        ({"run": "a", "plane": PLANE, "shapes": [{**lasso, "y": [0] * 399}]}, "x and y differ in length"),
        ({"run": "a", "plane": PLANE, "shapes": ["box"]}, "a shape is not a box or a lasso"),
    ):
        with pytest.raises(ZspaceError) as refused:
            subsets.clean_selection(bad)
        assert str(refused.value) == f"selection is malformed: {message}"


def test_a_filter_is_described_in_words_and_hashed_the_same_whatever_its_key_order():
    within = {"run": "ae", "plane": PLANE, "shapes": [{"kind": "box", "x": [0, 1], "y": [0, 1]}]}
    assert subsets.describe_filter(None) == "no filter" and subsets.describe_filter({"expr": " "}) == "no filter"
    assert subsets.describe_filter({"expr": " a == 1 "}) == "a == 1"
    assert subsets.describe_filter({"expr": "", "within": within}) == "inside the selection drawn on ae"
    assert subsets.describe_filter({"expr": "a == 1", "within": within}) == (
        "a == 1 and inside the selection drawn on ae"
    )
    one, other = subsets.digest({"a": 1, "b": [1, 2]}), subsets.digest({"b": [1, 2], "a": 1})
    assert one == other and len(one) == 20 and int(one, 16) >= 0
    assert subsets.digest({"a": 1, "b": [2, 1]}) != one
