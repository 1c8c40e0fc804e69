"""Point tables for export: one row per plane point with its row id, image id, coordinates and flags.

The dashboard's export buttons and ``zspace export`` write the same columns
(:data:`COLUMNS`, then the colour column if any) in the same formats
(:data:`FORMATS`), through these functions.
"""

from __future__ import annotations

import io

import numpy as np

#: The fixed columns, in order; a colour column (named after what colours the plane) follows ``y``.
COLUMNS = ("row", "id", "x", "y", "selected", "filtered")
#: File formats, by the suffix a file name ends with.
FORMATS = {".csv": "csv", ".parquet": "parquet"}
MEDIA_TYPES = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


def points_table(rows, ids, xy, colour=None, colour_name: str | None = None, selected=None, filtered=None):
    """The export table of plane points.

    Parameters
    ----------
    rows : array_like of int, shape (N,)
        Row ids of the points (the z-point rows of the run).
    ids : array_like, shape (N,)
        Image ids of those rows (the metadata's ``id``; the row number when a table has none).
    xy : array_like, shape (N, 2)
        Plane coordinates.
    colour : array_like, shape (N,), optional
        What colours the plane, stored as column ``colour_name``.
    selected, filtered : array_like of bool, shape (N,), optional
        Whether each point is in the selection / passes the filter (default all False / all True).

    Returns
    -------
    pandas.DataFrame
    """
    import pandas as pd

    rows = np.asarray(rows, dtype=np.int64)
    xy = np.asarray(xy, dtype=np.float64).reshape(len(rows), 2)
    data = {"row": rows, "id": np.asarray(ids), "x": xy[:, 0], "y": xy[:, 1]}
    if colour is not None:
        name = str(colour_name or "colour")
        if name in COLUMNS:
            name = f"colour_{name}"
        data[name] = np.asarray(colour, dtype=np.float64)
    data["selected"] = np.zeros(len(rows), bool) if selected is None else np.asarray(selected, dtype=bool)
    data["filtered"] = np.ones(len(rows), bool) if filtered is None else np.asarray(filtered, dtype=bool)
    return pd.DataFrame(data)


def format_of(name: str) -> str:
    """``csv`` or ``parquet`` from a file name's suffix; ValueError naming the suffixes otherwise."""
    for suffix, fmt in FORMATS.items():
        if str(name).lower().endswith(suffix):
            return fmt
    raise ValueError(f"the output file must end with {' or '.join(FORMATS)}, got {str(name)[-40:]!r}")


def table_bytes(frame, fmt: str) -> bytes:
    """The table as CSV (UTF-8, no index) or Parquet bytes."""
    if fmt == "csv":
        return frame.to_csv(index=False, float_format="%.9g").encode("utf-8")
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    raise ValueError(f"format must be one of {', '.join(FORMATS.values())}")
