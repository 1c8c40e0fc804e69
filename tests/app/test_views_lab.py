"""The sampler lab's table and the Structure view as plain functions, on the tiny runs of the conftest."""

from __future__ import annotations

import re

import numpy as np
import pytest

from app.views import sampler_rates, sampling, structure
from app.views.parts import open_shown

pytestmark = pytest.mark.slow


def test_the_rate_table_fills_from_a_background_job_into_the_server_cache(store):
    rows, columns, note = sampler_rates.rate_table(open_shown(store, "vae", None))
    assert note.startswith("not computed yet for vae") and all(r["vae:rate"] == "—" for r in rows)
    run_folder = store.open("vae").folder / "analysis"
    before = sorted(p.name for p in run_folder.glob("*")) if run_folder.exists() else []
    reports = []
    message = sampler_rates.compute_rates([store.open("vae")], reports.append)
    assert message == "rates of vae ready" and reports[-1][0] == 100
    rows, columns, note = sampler_rates.rate_table(open_shown(store, "vae", None))
    assert note == ""
    labels = [r["sampler"] for r in rows]
    assert labels[0] == "data (held-out points, decoded)" and "standard normal N(0, I)" in labels
    cell = re.compile(r"^(0|1)\.\d\d \[(0|1)\.\d\d, (0|1)\.\d\d\]$")
    for row in rows:
        assert cell.match(row["vae:rate"]), row
        value, lo, hi = (float(x) for x in re.findall(r"[01]\.\d\d", row["vae:rate"]))
        assert lo <= value <= hi
    # Quality beside coverage: each row shows the cached row's precision, recall, diversity and AUC with
    # their intervals, and "good" is the decision against the data row's precision and recall.
    from study.scoring import DATA_ROW, ROW_LABELS, decide

    cached = sampler_rates.cached_rows(store.open("vae"))
    for sampler, row in zip(cached, rows, strict=True):
        assert row["sampler"] == ROW_LABELS[sampler]
        for key in ("precision", "recall", "diversity", "auc", "judge_rate"):
            stored = cached[sampler]
            assert row[f"vae:{key}"] == f"{stored[key]:.2f} [{stored[key + '_lo']:.2f}, {stored[key + '_hi']:.2f}]"
        decision = decide(cached[sampler], cached[DATA_ROW])
        assert row["vae:good"] == "yes" if decision["good"] else row["vae:good"].startswith("no (")
    assert rows[0]["vae:good"] == "yes"  # the data row against itself
    assert sampler_rates.good_text({"precision": 0.9, "recall": 0.1}, {"precision": 0.9, "recall": 0.9}) == (
        "no (coverage)"
    )
    assert sampler_rates.good_text({"precision": 0.73, "recall": 0.73}, {"precision": 0.9, "recall": 0.9}) == "yes"
    assert sampler_rates.good_text({"precision": 0.71, "recall": 0.1}, {"precision": 0.9, "recall": 0.9}) == (
        "no (quality and coverage)"
    )
    assert sampler_rates.good_text(None, {"precision": 0.9, "recall": 0.9}) == "—"
    # Computed for a request: kept in the server's cache, nothing written into the run.
    after = sorted(p.name for p in run_folder.glob("*")) if run_folder.exists() else []
    assert after == before and list(store.open("vae").request_folder.glob("sampler_rate*.npz"))
    # With the lab's reference cached, every sample of the Sampling view carries its verdict and scores.
    from app.views import sampling

    bar, *tiles = sampling.sample_grid(store.open("vae"), "normal", 4, 0, 0.5)
    assert re.search(r"\d of 4 meaningful", str(bar.children[1].children))
    caption = tiles[0].children[1]
    assert caption.children[0].children in ("meaningful", "not meaningful") and "realism" in caption.title
    # The fitted samplers were fitted by the job: the GMM can be sampled now.
    assert len(sampling.sample_grid(store.open("vae"), "gmm", 3, 0, 0.5)) == 4


def test_the_structure_view_sets_filaments_beside_a_gaussian_cloud(store):
    rows, columns, lid, nn_a, nn_b = structure.structure_view(open_shown(store, "ae", "vae"))
    # One row per measure, two columns per run (the run and its null): narrow whatever the number of probe kinds.
    assert [c["id"] for c in columns] == ["measure", "ae:data", "ae:null", "vae:data", "vae:null"]
    by_measure = {r["measure"]: r for r in rows}
    lid_row = by_measure["median local dimension (MLE, 20 neighbours)"]

    def median(cell):
        value, lo, hi = (float(x) for x in re.findall(r"\d+\.\d+", cell))
        assert lo <= value <= hi
        return value

    # 1-D filaments read lower-dimensional than an 8-D Gaussian, and than their own covariance-matched null.
    assert median(lid_row["ae:data"]) < median(lid_row["vae:data"])
    assert median(lid_row["ae:data"]) < 0.5 * median(lid_row["ae:null"])
    found = structure.measures(store.open("ae"))
    assert lid_row["ae:null"].startswith(f"{float(found['null_lid_median']):.2f} [")
    uniform = by_measure["void fraction of uniform in the data's box probes"]
    assert median(uniform["ae:data"]) >= median(uniform["vae:data"])
    assert by_measure["meaningful rate, standard normal N(0, I)"]["ae:null"] == "—"
    assert len(lid.data) == 2 and {t.name.split(" ")[0] for t in lid.data} == {"ae", "vae"}
    assert [t.name for t in nn_a.data][0] == "data" and len(nn_a.data) >= 3 and nn_b.layout.title.text.startswith("vae")


def test_a_umap_map_is_listed_drawn_and_a_click_on_its_empty_space_decodes(store):
    import numpy as np

    from analysis import results
    from app import plane_space
    from app.views import decode

    path = store.open("ae").folder
    results.umap(path, folder=store.open("ae").request_folder, n_points=300, n_neighbors=10, random_state=0)
    listed = plane_space.maps(store.open("ae"))
    entry = next(m for m in listed if m["kind"] == "umap")
    assert entry["label"].startswith("UMAP raw z · 300 points") and entry["invertible"]
    where = plane_space.plane(store.open("ae"), "map", map_key=entry["key"])
    assert where.clickable and plane_space.axis_label(store.open("ae"), where, 0) == "UMAP 1"
    ids, xy = store.open("ae").coords(where)
    assert len(ids) == 300 and xy.shape == (300, 2)
    # A spot between mapped points (inside the hull) and one far outside it.
    inside_spot = xy[:2].mean(axis=0)
    for spot, expected in ((inside_spot, "yes"), (xy.max(axis=0) + 50.0, "no: outside")):
        click = {"points": [{"curveNumber": 0, "pointNumber": [1, 2], "x": float(spot[0]), "y": float(spot[1])}]}
        panel, _, target = decode.decode_click(store.open("ae"), click, where, "mean", None)
        facts = {row.children[0].children: row.children[1].children for row in panel[1].children[1].children}
        assert facts["inside the map's data hull"].startswith(expected)
        assert panel[1].children[0].children[0].children[0].src.startswith("data:image/png")
        assert len(target["z"]) == 8 and np.isfinite(target["z"]).all()
    tsne = next((m for m in listed if m["kind"] == "tsne"), None)
    if tsne is not None:
        tsne_plane = plane_space.plane(store.open("ae"), "map", map_key=tsne["key"])
        assert not tsne_plane.clickable


def test_a_samplers_statistics_are_computed_once_per_run_and_filter_and_draw_the_same(runs_dir, tmp_path, monkeypatch):
    from analysis import samplers
    from app.factory import create_app

    # A store of its own: the session's store may hold these statistics from another test already.
    store = create_app(runs_dir, cache_dir=tmp_path / "cache", warm=False).zspace_store

    computed = []
    real = samplers.statistics
    monkeypatch.setattr(samplers, "statistics", lambda kind, z: computed.append((kind, len(z))) or real(kind, z))
    vae = store.open("vae")
    first, _ = sampling.sample_z(vae, "full_gaussian", 8, 11, 0.5)
    again, _ = sampling.sample_z(vae, "full_gaussian", 8, 12, 0.5)
    filtered, note = sampling.sample_z(vae, "full_gaussian", 8, 11, 0.5, {"expr": "smiling == 1", "within": None})
    z = vae.z()
    assert computed == [("full_gaussian", len(z)), ("full_gaussian", int(note.split()[3].replace(",", "")))]
    np.testing.assert_array_equal(first, samplers.sample("full_gaussian", 8, z, random_state=11))
    assert not np.array_equal(again, first) and not np.array_equal(filtered, first)
