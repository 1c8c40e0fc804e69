"""``zspace report``: one self-contained HTML file and summary.json for an AE beside a VAE."""

from __future__ import annotations

import json
import re

import pytest

from analysis import samplers

pytestmark = pytest.mark.slow


def test_report_writes_the_page_and_the_numbers(report_dir):
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    assert [run["model"] for run in summary["runs"]] == ["ae", "vae"]
    for run in summary["runs"]:
        assert {"radius", "flagged_axes", "pca", "structure", "void_decodes", "rates", "verdict", "judge"} <= set(run)
        assert run["radius"]["sqrt_z_dim"] == 4.0
        assert set(run["rates"]) == {"data", *samplers.KINDS}
        for row in run["rates"].values():
            # Quality beside coverage, each with its interval, and the judge beside the verdict.
            for name in ("rate", "precision", "recall", "diversity", "auc", "judge_rate", "agreement"):
                assert row[f"{name}_lo"] <= row[name] <= row[f"{name}_hi"], name
            assert isinstance(row["good"], bool) and row["judge_n"] == 16
        assert run["rates"]["data"]["good"] is True
        # Every structure number beside its null, and the claims decided against it.
        assert {"lid_median", "nn_median", "void_fraction"} <= set(run["structure"]["null"])
        assert all(claim["holds"] in (True, False, None) for claim in run["claims"])
        assert any("null" in claim for claim in run["claims"])
        assert run["judge"]["kind"] == "synthesis" and 0 <= run["judge"]["accuracy"]["face"] <= 1
        assert set(run["verdict"]["negatives_passed"]) == {"noise", "blobs", "tiles", "blend"}
    assert summary["comparison"][0]["claim"].startswith("A VAE's N(0, I) samples")
    assert summary["settings"]["samples_per_rate"] == 256 and summary["settings"]["judged_per_rate"] == 16
    # The seed's figures are there, one div per figure, and every sampler has a grid of images.
    for heading in (
        "Seed claims",
        "Samplers: quality and coverage",
        "The verdict and its independent judge",
        "Probes in voids, decoded",
        "Number density",
        "Radius",
        "PCA spectrum",
        "PCA planes",
        "t-SNE maps",
        "Structure",
    ):
        assert heading in page, heading
    assert page.count('class="plotly-graph-div"') >= 14
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.S)
    grids = 2 * 8 * len(summary["runs"][0]["rates"])  # 8 decodes per sampler and run
    voids = sum(2 * min(8, run["void_decodes"]["n"]) for run in summary["runs"])  # a void probe beside its neighbour
    assert markup.count("src='data:image/png;base64,") == grids + voids


def test_report_needs_no_network(report_dir):
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    # plotly.js itself mentions URLs inside its code; no element may load one.
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.S)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", markup, flags=re.I)
    assert "<script src" not in page and "<link" not in page
    assert page.count(plotly_marker()) == 1  # plotly.js embedded exactly once


def plotly_marker() -> str:
    import plotly

    return f"plotly.js v{plotly.offline.get_plotlyjs_version()}"


def test_report_refuses_bad_runs_with_one_line(trained_runs, tmp_path, capsys):
    from zspace.cli import main

    assert main(["report", str(tmp_path / "missing"), "--out", str(tmp_path / "out")]) == 2
    assert main(["report", str(trained_runs["ae"]), "--compare", str(trained_runs["ae"]), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("zspace report: error:") for line in err)
    assert not (tmp_path / "out").exists()
