"""The sampler lab's table and the Structure view as plain functions, on the tiny runs of the conftest."""

from __future__ import annotations

import re

import pytest

from app.views import sampler_rates, structure

pytestmark = pytest.mark.slow


def test_the_rate_table_fills_from_a_background_job_into_the_server_cache(store):
    rows, columns, note = sampler_rates.rate_table(store, "vae", None)
    assert note.startswith("not computed yet for vae") and all(r["vae:rate"] == "—" for r in rows)
    run_folder = store.path("vae") / "analysis"
    before = sorted(p.name for p in run_folder.glob("*")) if run_folder.exists() else []
    reports = []
    message = sampler_rates.compute_rates(store, ["vae"], reports.append)
    assert message == "rates of vae ready" and reports[-1][0] == 100
    rows, columns, note = sampler_rates.rate_table(store, "vae", None)
    assert note == ""
    labels = [r["sampler"] for r in rows]
    assert labels[0] == "data" and "standard normal N(0, I)" in labels
    cell = re.compile(r"^(0|1)\.\d\d \[(0|1)\.\d\d, (0|1)\.\d\d\]$")
    for row in rows:
        assert cell.match(row["vae:rate"]), row
        value, lo, hi = (float(x) for x in re.findall(r"[01]\.\d\d", row["vae:rate"]))
        assert lo <= value <= hi
    # Computed for a request: kept in the server's cache, nothing written into the run.
    after = sorted(p.name for p in run_folder.glob("*")) if run_folder.exists() else []
    assert after == before and list(store.request_folder("vae").glob("sampler_rate*.npz"))


def test_the_structure_view_sets_filaments_beside_a_gaussian_cloud(store):
    rows, columns, lid, nn_a, nn_b = structure.structure_view(store, "ae", "vae")
    by_run = {r["run"]: r for r in rows}
    assert set(by_run) == {"ae", "vae"} and {"median local dim.", "void fraction (normal)"} <= set(by_run["ae"])
    # 1-D filaments read lower-dimensional than an 8-D Gaussian, and leave more room for voids.
    assert by_run["ae"]["median local dim."] < by_run["vae"]["median local dim."]
    assert by_run["ae"]["void fraction (uniform_box)"] >= by_run["vae"]["void fraction (uniform_box)"]
    assert len(lid.data) == 2 and {t.name.split(" ")[0] for t in lid.data} == {"ae", "vae"}
    assert [t.name for t in nn_a.data][0] == "data" and len(nn_a.data) >= 3 and nn_b.layout.title.text.startswith("vae")
