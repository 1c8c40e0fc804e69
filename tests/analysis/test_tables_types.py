"""Export tables keep their documented column types whatever the caller's arrays hold, and a subset of a table
is written without its index."""

import io

import numpy as np
import pyarrow.parquet as pq

from analysis import tables


def test_integer_coordinates_and_32_bit_rows_are_exported_as_int64_rows_and_float64_coordinates():
    table = tables.points_table(np.array([3, 9], dtype=np.int32), ["a", "b"], [[1, 2], [3, 4]], selected=[1, 0])
    schema = pq.read_schema(io.BytesIO(tables.table_bytes(table, "parquet")))
    assert [str(schema.field(name).type) for name in ("row", "x", "y", "selected")] == [
        "int64",
        "double",
        "double",
        "bool",
    ]
    # selected given as 0 / 1 reads True / False in the CSV, as for every other table
    assert tables.table_bytes(table, "csv").decode().splitlines()[1:] == ["3,a,1,2,True,True", "9,b,3,4,False,True"]


def test_a_selected_subset_of_a_table_is_written_without_its_row_labels():
    table = tables.points_table([0, 1, 2, 3], list("abcd"), np.arange(8.0).reshape(4, 2), selected=[1, 1, 0, 1])
    subset = table[table["selected"]]  # pandas keeps the labels 0, 1 and 3
    stored = pq.ParquetFile(io.BytesIO(tables.table_bytes(subset, "parquet")))
    assert stored.schema_arrow.names == list(tables.COLUMNS) and stored.metadata.num_columns == len(tables.COLUMNS)
    assert tables.table_bytes(subset, "csv").decode().splitlines()[0] == ",".join(tables.COLUMNS)


def test_the_filter_flags_given_as_zero_and_one_are_written_as_true_and_false():
    table = tables.points_table([5, 6], ["a", "b"], [[0.0, 0.0], [1.0, 1.0]], filtered=np.array([1, 0]))
    assert table["filtered"].dtype == bool
    assert tables.table_bytes(table, "csv").decode().splitlines()[1:] == ["5,a,0,0,False,True", "6,b,1,1,False,False"]
