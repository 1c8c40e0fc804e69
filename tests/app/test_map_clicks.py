"""The way back from a click on a 2-D map to z (``plane_space.map_to_z``), with the cached maps stood in.

A real UMAP inverse takes a minute to compile (``test_views_lab.py``, slow);
here the analysis layer's three calls are stand-ins that record what they are
asked, so the checks and the hand-over are tested in milliseconds.
"""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import numpy as np
import pytest

from analysis import results
from app import plane_space
from rundir.errors import ZspaceError

UMAP = {"kind": "umap", "params": {"n_points": 300, "n_neighbors": 10}, "label": "UMAP", "invertible": True}
TSNE = {"kind": "tsne", "params": {"n_points": 300, "perplexity": 30}, "label": "t-SNE", "invertible": False}


@pytest.fixture()
def cached(monkeypatch):
    """A stand-in run with a cached UMAP and t-SNE map; returns (run, keys, calls, maps still on disk)."""
    calls, on_disk = [], {"umap", "tsne"}
    run = SimpleNamespace(name="ae", folder="/runs/ae", cache_scope=contextlib.nullcontext)
    monkeypatch.setattr(results, "available_maps", lambda folder: [dict(UMAP), dict(TSNE)])
    monkeypatch.setattr(results, "load_map", lambda folder, kind, params: kind if kind in on_disk else None)

    def to_z(folder, kind, params, points):
        calls.append((folder, kind, params, points))
        return np.array([[0.25, -1.5, 3.0]]), np.array([False])

    monkeypatch.setattr(results, "map_point_to_z", to_z)
    keys = {entry["kind"]: entry["key"] for entry in plane_space.maps(run)}
    return run, keys, calls, on_disk


def test_a_click_on_an_invertible_map_decodes_that_spot_of_that_map(cached):
    run, keys, calls, _ = cached
    z, inside = plane_space.map_to_z(run, plane_space.Plane("map", map_key=keys["umap"]), 1.5, -2.0)
    assert calls == [("/runs/ae", "umap", UMAP["params"], [[1.5, -2.0]])]
    assert z.dtype == np.float32 and z.tolist() == [0.25, -1.5, 3.0]
    assert inside is False and isinstance(inside, bool)


def test_a_click_on_a_tsne_map_or_on_a_map_dropped_since_it_was_listed_is_refused_in_one_line(cached):
    run, keys, calls, on_disk = cached
    with pytest.raises(plane_space.NoWayBack) as refused:
        plane_space.map_to_z(run, plane_space.Plane("map", map_key=keys["tsne"]), 0.0, 0.0)
    assert str(refused.value).startswith("empty space on a t-SNE map has no z: click a point")
    on_disk.discard("umap")
    with pytest.raises(ZspaceError) as dropped:
        plane_space.map_to_z(run, plane_space.Plane("map", map_key=keys["umap"]), 0.0, 0.0)
    assert str(dropped.value) == f"map must be one of {keys['umap']}, {keys['tsne']}"
    with pytest.raises(ZspaceError, match="^map must be one of "):
        plane_space.map_to_z(run, plane_space.Plane("map", map_key="umap-000000000000"), 0.0, 0.0)
    assert calls == []
