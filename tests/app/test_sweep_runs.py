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


# -- several runs compared at once -----------------------------------------------------------------
def test_the_compare_picker_takes_up_to_its_limit_and_refuses_one_more():
    from app.views.parts import MAX_COMPARED, NotRunNames, TooManyCompared, compared_names

    at_limit = [f"run{k}" for k in range(MAX_COMPARED)]
    assert compared_names("first", [*at_limit, "run0", "first"]) == ["first", *at_limit]  # each once, first left out
    assert compared_names("first", None) == ["first"] and compared_names(None, at_limit) == []
    with pytest.raises(TooManyCompared, match=f"compare at most {MAX_COMPARED} runs at once"):
        compared_names("first", [*at_limit, "one-more"])
    for hostile in ("vae", [1, 2], {"a": 1}):
        with pytest.raises(NotRunNames):
            compared_names("first", hostile)


def test_the_run_beside_the_first_on_the_planes_is_always_one_of_the_compared():
    from app.page import settle_compared
    from app.views.parts import COMPARE, MAX_COMPARED, RUN

    # Picking a run to show beside adds it to the compared; removing it moves the planes to the first one left.
    assert settle_compared("ae", ["vae"], "ae2", RUN["b"]) == (["vae", "ae2"], "ae2", "")
    assert settle_compared("ae", ["ae2", "vae3"], "vae", COMPARE) == (["ae2", "vae3"], "ae2", "")
    assert settle_compared("ae", [], "vae", COMPARE) == ([], None, "")
    assert settle_compared("ae", [["x"], {"y": 1}, "vae", 3, "vae"], None, COMPARE) == (["vae"], "vae", "")
    # The first run becoming the one beside it: the planes move to another compared run.
    assert settle_compared("vae", ["vae", "ae2"], "vae", RUN["a"]) == (["vae", "ae2"], "ae2", "")
    full = [f"r{k}" for k in range(MAX_COMPARED)]
    assert settle_compared("ae", full, "r3", COMPARE) == (full, "r3", "")
    compare, beside, note = settle_compared("ae", [*full, "r-late"], "r-late", COMPARE)
    assert compare == full and beside == "r0" and note.startswith(f"compare at most {MAX_COMPARED} runs")


def test_the_rates_structure_density_radius_and_spectrum_views_show_every_compared_run(sweep_store):
    from app.views import density, sampler_rates, spectrum, structure
    from app.views.parts import open_compared
    from figures.style import COLOURS

    names = ["alone", "betas/beta-0", "betas/beta-1", "wider/beta-0"]
    shown = open_compared(sweep_store, names[0], names[1:])
    fig = radius.radius_view(shown, 0.5)
    histograms = [t for t in fig.data if t.type == "bar"]
    assert [t.name for t in histograms] == [f"{name} |z|" for name in names] and [
        float(np.sum(t.y)) for t in histograms
    ] == [N_POINTS] * 4
    assert [t.marker.color for t in histograms] == list(COLOURS[:4])  # one colour per run, in picking order
    rows, columns, note = sampler_rates.rate_table(shown)
    assert [c["id"] for c in columns[1::8]] == [f"{name}:rate" for name in names]
    assert [c["name"] for c in columns[1:10]] == [
        "alone (VAE) meaningful",
        *(f"alone {h}" for h in ("judge: face", "precision", "recall", "diversity", "two-sample AUC")),
        "alone re-encode consistent",
        "alone good",
        "betas/beta-0 (AE) meaningful",
    ]
    assert note == f"not computed yet for {', '.join(names)}: press 'compute the rates' (about a minute per run)"
    _, axis_rows = density.density_view(shown, 0.5)
    assert {r["run"] for r in axis_rows} == set(names) and len(axis_rows) == 4 * Z_DIM
    assert [t.name for t in spectrum.spectrum_view(shown, 3).data[::2]] == [f"{name} ratio" for name in names]
    rows, columns, lid, nn_a, nn_b = structure.structure_view(shown[:3], beside="betas/beta-1")
    assert [c["id"] for c in columns[1::2]] == [f"{name}:data" for name in names[:3]] and len(lid.data) == 3
    assert all(set(r) == {"measure", *(c["id"] for c in columns[1:])} for r in rows)
    assert nn_a.layout.title.text.startswith("alone") and nn_b.layout.title.text.startswith("betas/beta-1")


def test_a_link_keeps_the_compared_runs_and_an_older_link_shows_its_one_run_beside():
    from app.url_state import LinkCheck

    fields = share.URL_STATE
    fragment = url_state.encode(
        fields, {"run": "alone", "compare": ["betas/beta-0", "wider/beta-1"], "beside": "wider/beta-1"}
    )
    assert fragment == "#run=alone&compare=betas%2Fbeta-0,wider%2Fbeta-1&beside=wider%2Fbeta-1"
    values, problems = url_state.decode(fields, fragment)
    assert values["compare"] == ["betas/beta-0", "wider/beta-1"] and problems == []
    for old, beside in (("#run=alone&compare=betas%2Fbeta-0", "betas/beta-0"), ("#run=alone", None)):
        check = LinkCheck(None, url_state.decode(fields, old)[0], {}, [])
        check.store = type("Store", (), {"open": staticmethod(lambda name: object())})()
        share.check_url(check)
        assert check.values["beside"] == beside and check.runs == ("alone", beside)
    values, problems = url_state.decode(fields, "#compare=" + ",".join(f"r{k}" for k in range(9)))
    assert values == {} and "at most 8 runs" in problems[0]
    assert "unusable compare" in url_state.decode(fields, "#compare=a,,b")[1][0]
