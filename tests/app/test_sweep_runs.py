"""The dashboard reaches the runs of a sweep folder as ``SWEEP/NAME``, like any other run."""

from __future__ import annotations

import numpy as np
import pytest

from app import url_state
from app.views import radius, share
from app.views.parts import open_shown
from rundir import sweep
from rundir.errors import ZspaceError
from tests.app.conftest import N_POINTS, Z_DIM, make_run


@pytest.fixture(scope="module")
def sweep_store(tmp_path_factory):
    """A runs folder with a plain run and two sweep folders whose runs share their folder names."""
    from app.factory import create_app

    root = tmp_path_factory.mktemp("sweep-runs")
    rng = np.random.default_rng(5)
    make_run(root, "alone", "vae", rng.normal(size=(N_POINTS, Z_DIM)), seed=1)
    for name, scale in (("betas", 1.0), ("wider", 3.0)):
        (root / name).mkdir()
        sweep.write_sweep(root / name, sweep.new_manifest({"data": "synthetic:600"}, [0.0, 1.0]))
        make_run(root / name, "beta-0", "ae", rng.normal(size=(N_POINTS, Z_DIM)) * scale, seed=2)
        make_run(root / name, "beta-1", "vae", rng.normal(size=(N_POINTS, Z_DIM)) * scale, seed=3)
    app = create_app(root, cache_dir=tmp_path_factory.mktemp("sweep-cache"), warm=False)
    return app.zspace_store


def test_the_run_list_names_a_sweeps_runs_sweep_slash_run(sweep_store):
    runs = {r["name"]: r for r in sweep_store.runs()}
    assert sorted(runs) == ["alone", "betas/beta-0", "betas/beta-1", "wider/beta-0", "wider/beta-1"]
    assert all(r["usable"] for r in runs.values())
    assert runs["betas/beta-0"]["model"] == "ae" and runs["betas/beta-0"]["label"].startswith("betas/beta-0 (AE")


def test_a_sweeps_run_opens_in_a_view_and_keeps_its_own_request_cache(sweep_store):
    narrow = radius.radius_view(open_shown(sweep_store, "betas/beta-0", "wider/beta-0"), 0.5)
    assert float(np.sum(narrow.data[0].y)) == N_POINTS
    # Same folder name in two sweeps: two request folders, each holding its own run's entry.
    folders = [sweep_store.open(name).request_folder for name in ("betas/beta-0", "wider/beta-0")]
    assert folders[0] != folders[1] and all(list(folder.glob("radius-*.npz")) for folder in folders)
    assert folders[0].relative_to(sweep_store.request_root).parts == ("betas", "beta-0")


@pytest.mark.parametrize("name", ["betas", "betas/beta-0/analysis", "betas/../alone", "alone/beta-0"])
def test_names_outside_the_rule_are_unknown_runs(sweep_store, name):
    with pytest.raises(ZspaceError, match="unknown run"):
        sweep_store.open(name)


def test_a_link_carries_a_sweeps_run_and_refuses_deeper_names():
    fields = share.URL_STATE
    values, problems = url_state.decode(fields, url_state.encode(fields, {"run": "betas/beta-0.1"}))
    assert values == {"run": "betas/beta-0.1"} and problems == []
    values, problems = url_state.decode(fields, "#run=a%2Fb%2Fc")
    assert values == {} and "unusable run" in problems[0]


def test_the_background_base_analyses_take_a_sweeps_run_by_its_name(sweep_store):
    from app.views import progress

    shown = []
    note = progress.prepare(sweep_store, {"runs": ["wider/beta-1"]}, shown.append)
    assert note.startswith("base analyses of wider/beta-1 ready") and shown[-1] == (1, 1, "done")
