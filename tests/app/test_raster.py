"""The density raster of a crowded plane: one cell per plot pixel, bounded whatever the browser reports."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.planes import MAX_RASTER_SIZE, viewport_query
from figures.planes import MAX_WIDTH_PX, raster_cells


def test_a_raster_sized_to_the_plot_counts_every_point_inside():
    xy = np.random.default_rng(0).normal(size=(50_000, 2)).astype(np.float32)
    result = viewport_query(xy, (-2, 2), (-1, 1), budget=100, raster_size=(1230, 400))
    assert result.raster["counts"].shape == (1230, 400)
    assert result.raster["counts"].sum() == result.count
    inside = (np.abs(xy[:, 0]) <= 2) & (np.abs(xy[:, 1]) <= 1)
    assert result.count == int(inside.sum())


def test_the_raster_has_one_cell_per_pixel_of_the_plot_and_a_bounded_size():
    wide, high = raster_cells(1400)
    assert 1200 <= wide <= 1300 and 380 <= high <= 420
    assert raster_cells(None) is None and raster_cells("1400") is None and raster_cells(float("nan")) is None
    assert raster_cells(10**9) == raster_cells(MAX_WIDTH_PX), "a huge reported width is clamped"
    assert raster_cells(0)[0] >= 16, "a hidden column still gets a small raster"
    with pytest.raises(ValueError, match="at most"):
        viewport_query(np.zeros((10, 2)), (0, 1), (0, 1), budget=0, raster_size=MAX_RASTER_SIZE + 1)
