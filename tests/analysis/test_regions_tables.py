"""Box and lasso membership against an independent winding-number reference, and the export tables byte for byte."""

import io

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from analysis import regions, tables


def winding_number(point, vx, vy) -> float:
    """Total signed angle the polygon's edges turn around ``point``, in turns (a brute-force reference)."""
    total = 0.0
    for k in range(len(vx)):
        a = np.arctan2(vy[k - 1] - point[1], vx[k - 1] - point[0])
        b = np.arctan2(vy[k] - point[1], vx[k] - point[0])
        total += (b - a + np.pi) % (2 * np.pi) - np.pi
    return total / (2 * np.pi)


def test_a_simple_lasso_selects_what_the_winding_number_says_is_inside():
    rng = np.random.default_rng(40)
    angles = np.sort(rng.uniform(0, 2 * np.pi, 12))
    radii = rng.uniform(0.5, 2.0, 12)
    vx, vy = 1.0 + radii * np.cos(angles), -2.0 + radii * np.sin(angles)  # a star-shaped, simple polygon
    points = rng.uniform([-1.5, -4.5], [3.5, 0.5], size=(3000, 2))
    expected = [abs(winding_number(p, vx, vy)) > 0.5 for p in points]
    got = regions.in_polygon(points, vx, vy)
    assert got.tolist() == expected and 200 < got.sum() < 2800


def test_a_lasso_with_horizontal_edges_and_a_crossed_one_follows_the_even_odd_rule():
    # an L shape: horizontal edges at y = 0, 1 and 2, and points just either side of every edge
    vx, vy = [0, 2, 2, 1, 1, 0], [0, 0, 1, 1, 2, 2]
    points = np.array([[0.5, 0.5], [1.5, 0.5], [0.5, 1.5], [1.5, 1.5], [0.5, -0.01], [1.99, 0.99], [2.01, 0.5]])
    assert regions.in_polygon(points, vx, vy).tolist() == [True, True, True, False, False, True, False]
    # points level with a vertex: the ray meets two edges there, counted once (half-open in y)
    diamond_x, diamond_y = [1, 2, 1, 0], [0, 1, 2, 1]
    level = np.array([[0.5, 1.0], [1.5, 1.0], [1.0, 0.5], [2.5, 1.0], [-0.5, 1.0], [1.0, 1.5]])
    assert regions.in_polygon(level, diamond_x, diamond_y).tolist() == [True, True, True, False, False, True]
    # a five-pointed star drawn in one stroke: its centre is wound twice, so even-odd (plotly's lasso) leaves it out
    turn = np.arange(5) * 4 * np.pi / 5
    star_x, star_y = np.sin(turn), np.cos(turn)
    tip = [0.0, 0.9]
    assert abs(winding_number([0.0, 0.0], star_x, star_y)) == pytest.approx(2.0)
    assert regions.in_polygon(np.array([[0.0, 0.0], tip]), star_x, star_y).tolist() == [False, True]


def test_a_lasso_needs_three_vertices_given_as_two_equal_lists():
    points = np.array([[0.2, 0.2]])
    assert regions.in_polygon(points, [0, 1, 0], [0, 0, 1]).tolist() == [True]
    for vx, vy in (([0, 1], [0, 0]), ([0, 1, 0], [0, 0]), ([[0, 1, 0]], [[0, 0, 1]])):
        with pytest.raises(ValueError, match="^a polygon needs at least 3 vertices, as equally long x and y lists$"):
            regions.in_polygon(points, vx, vy)


def test_points_outside_the_lasso_s_bounding_box_are_never_inside():
    points = np.array([[5.0, 5.0], [-1.0, 0.5]])
    assert regions.in_polygon(points, [0, 1, 0], [0, 0, 1]).tolist() == [False, False]


def test_a_box_includes_all_four_edges_and_reads_its_corners_in_any_order():
    points = np.array(
        [[1.0, 0.5], [3.0, 2.0], [2.0, 0.5], [2.0, 2.0], [0.99, 1.0], [3.01, 1.0], [2.0, 0.49], [2.0, 2.01]]
    )
    expected = [True, True, True, True, False, False, False, False]
    assert regions.in_box(points, [3.0, 1.0], [2.0, 0.5]).tolist() == expected
    assert regions.in_box(points, [1.0, 3.0], [0.5, 2.0]).tolist() == expected


def test_shapes_select_the_union_of_their_boxes_and_lassos():
    points = np.array([[0.5, 0.5], [5.2, 5.2], [9.0, 9.0], [5.9, 5.9]])
    shapes = [
        {"kind": "box", "x": [0, 1], "y": [0, 1]},
        {"kind": "lasso", "x": [5, 6, 5], "y": [5, 5, 6]},
    ]
    assert regions.in_shapes(points, shapes).tolist() == [True, True, False, False]
    assert regions.in_shapes(points, []).tolist() == [False] * 4
    # the same corners as a box hold the fourth point; as a lasso (a triangle) they do not
    assert regions.in_shapes(points, [{"kind": "box", "x": [5, 6], "y": [5, 6]}]).tolist() == [False, True, False, True]


def test_a_points_table_has_the_documented_columns_types_and_defaults():
    table = tables.points_table([7, 2], np.array(["a", "b"]), [0.5, 1.5, 2.0, -1.0])
    assert list(table.columns) == list(tables.COLUMNS)
    assert table["row"].dtype == np.int64 and table["x"].dtype == np.float64
    assert table[["x", "y"]].values.tolist() == [[0.5, 1.5], [2.0, -1.0]]
    assert table["selected"].tolist() == [False, False] and table["filtered"].tolist() == [True, True]
    coloured = tables.points_table([1], ["a"], [[0, 0]], colour=[3], selected=[1], filtered=[0])
    assert list(coloured.columns) == ["row", "id", "x", "y", "colour", "selected", "filtered"]
    assert coloured["colour"].dtype == np.float64
    assert (coloured["selected"].tolist(), coloured["filtered"].tolist()) == ([True], [False])
    # a colour named like a fixed column gets a prefix instead of replacing it
    clash = tables.points_table([1], ["a"], [[0, 0]], colour=[3], colour_name="x")
    assert list(clash.columns) == ["row", "id", "x", "y", "colour_x", "selected", "filtered"]


def test_csv_bytes_are_utf8_without_an_index_and_numbers_keep_nine_significant_digits():
    table = tables.points_table([0], ["gesicht-ü"], [[1 / 3, 0.1 + 0.2]], colour=[123456789.123], colour_name="radius")
    text = tables.table_bytes(table, "csv").decode("utf-8")
    assert text == "row,id,x,y,radius,selected,filtered\n0,gesicht-ü,0.333333333,0.3,123456789,False,True\n"
    tiny = tables.points_table([1], ["a"], [[1e-12, -2.5e20]])
    assert tables.table_bytes(tiny, "csv").decode().splitlines()[1] == "1,a,1e-12,-2.5e+20,False,True"


def test_parquet_bytes_read_back_to_the_same_table_and_other_formats_are_refused():
    table = tables.points_table([4, 5], ["a", "b"], [[1, 2], [3, 4]], colour=[0.5, 0.25], colour_name="pose")
    data = tables.table_bytes(table, "parquet")
    back = pd.read_parquet(io.BytesIO(data))
    pd.testing.assert_frame_equal(back, table)
    # no index column stored beside the table's own (other readers would show it as a column)
    assert pq.read_schema(io.BytesIO(data)).names == ["row", "id", "x", "y", "pose", "selected", "filtered"]
    with pytest.raises(ValueError, match="^format must be one of csv, parquet$"):
        tables.table_bytes(table, "xlsx")


def test_the_format_comes_from_the_suffix_in_any_case_and_nothing_else():
    assert [tables.format_of(n) for n in ("a.csv", "b.CSV", "c.Parquet")] == ["csv", "csv", "parquet"]
    assert tables.MEDIA_TYPES == {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
    long = "x" * 100 + ".csv.txt"
    with pytest.raises(ValueError) as refused:
        tables.format_of(long)
    assert str(refused.value) == f"the output file must end with .csv or .parquet, got {long[-40:]!r}"
