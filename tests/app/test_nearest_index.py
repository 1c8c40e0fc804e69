"""A click's nearest-data distance on a large run comes from the projected index, and is the exact one (issue 21)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from app import store as run_store
from app.views import decode


@pytest.fixture
def indexed(store, monkeypatch):
    """The shared AE run, treated as a large one (the index threshold lowered below its 600 points)."""
    monkeypatch.setattr(run_store, "INDEX_FROM", 100)
    run = store.open("ae")
    from analysis import results

    run.result(results.pca)
    assert run.has_nearest_index()
    return run


def test_the_index_answers_clicks_exactly_as_a_scan_of_every_point(indexed):
    z = np.asarray(indexed.z(), dtype=np.float64)
    for row in (0, 299, len(z) - 1):
        expected = np.delete(cdist(z[row : row + 1], z)[0], row).min()
        assert indexed.nearest_distance(z[row], exclude=row)[0] == pytest.approx(expected, rel=1e-9)
        line = decode.nearest_text(indexed.store, {"run": "ae", "row": row})
        assert line.startswith(f"nearest other point: {expected:.3f}")
    spot = z.mean(axis=0) + 0.3
    assert indexed.nearest_distance(spot)[0] == pytest.approx(cdist(spot[None], z).min(), rel=1e-9)


def test_many_queries_and_small_runs_are_answered_by_the_scan(indexed, store, monkeypatch):
    z = np.asarray(indexed.z())
    many = z[: run_store.INDEX_QUERIES + 1] + 0.3
    expected = cdist(many.astype(np.float64), z.astype(np.float64)).min(axis=1)
    np.testing.assert_allclose(indexed.nearest_distance(many), expected, rtol=1e-4)
    monkeypatch.setattr(run_store, "INDEX_FROM", 600)  # exactly at the threshold: not a large run
    assert not store.open("ae").has_nearest_index()
