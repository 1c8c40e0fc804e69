"""The first click's data is loaded in the background once a run's plane is drawn (app.warm_up)."""

from __future__ import annotations

import threading

import numpy as np

import app.store as store_module
from analysis.radius import radii
from app.factory import create_app
from app.memo import MemoKey
from app.views import planes
from app.warm_up import warm_clicks


def test_drawing_a_plane_loads_what_a_click_reads_once_per_run_version(runs_dir, tmp_path, monkeypatch):
    # The fixture's runs are small: let a 600-point run count as large, so its click reads the projected index.
    monkeypatch.setattr(store_module, "INDEX_FROM", 599)
    store = create_app(runs_dir, cache_dir=tmp_path / "cache", plane_budget=400).zspace_store
    ae, vae = store.open("ae"), store.open("vae")
    request = planes.PlaneRequest("a", "ae", None, "pca", 0, 1, None, "radius")
    planes.update_plane(ae, request, planes.classify(None, []))  # computes the PCA inline and starts the warm-up
    assert warm_clicks(ae) is None  # already started by the plane: one per run version and process
    started = warm_clicks(vae)
    assert started is not None and warm_clicks(vae) is None
    started.join(120)
    assert not started.is_alive()
    assert vae.is_memoised(MemoKey.RADII) and not vae.has_nearest_index()  # no PCA of vae yet: no index
    assert np.allclose(vae.memo(MemoKey.RADII, lambda: None), radii(np.asarray(vae.z())), rtol=1e-6)
    assert store.frames.get((str(vae.folder), vae.files_key)) is not None  # the metadata table
    for thread in threading.enumerate():  # the warm-up the plane started for ae
        if thread.name.startswith("zspace-click-warm-up-"):
            thread.join(120)
    assert ae.has_nearest_index() and ae.is_memoised(MemoKey.NEAREST_INDEX)


def test_a_server_started_without_warm_up_loads_nothing_ahead(runs_dir, tmp_path):
    store = create_app(runs_dir, cache_dir=tmp_path / "cache", warm=False).zspace_store
    ae = store.open("ae")
    assert warm_clicks(ae) is None
    assert not ae.is_memoised(MemoKey.RADII)
