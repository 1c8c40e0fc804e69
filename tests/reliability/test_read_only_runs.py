"""A truly read-only runs folder (what docs/SECURITY.md recommends for a shared server) still shows analyses.

The server runs in a subprocess that cannot write the runs folder: as root
(where ``chmod`` does not stop writes) it drops the capabilities that override
file permissions, otherwise the folder is simply made read-only. It asks the
app's own store for analyses no ``zspace analyze`` has cached, and the test
checks that real numbers come back and that nothing in the run folder changed.
"""

from __future__ import annotations

import ctypes
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.runs import make_run

ROOT = Path(__file__).resolve().parents[2]
N_POINTS, Z_DIM = 300, 8

#: Runs in the server process: prove it cannot write the run, then ask the store for two analyses.
SERVER = """
import json, sys
from pathlib import Path
runs, cache, name, copied = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
try:
    (runs / name / "probe").write_text("x")
    print(json.dumps({"writable": True}))
    sys.exit(0)
except PermissionError:
    pass
from analysis import results
from app import plane_space
from app.factory import create_app
store = create_app(runs, cache_dir=cache, auth=None).zspace_store
try:
    run = store.open(name)
    pca = run.result(results.pca)
    histograms = run.result(results.histograms, bin_width=0.25)
    copied_pca = store.open(copied).result(results.pca)
    print(json.dumps({
        "writable": False,
        "variance_ratio": [float(v) for v in pca.explained_variance_ratio_],
        "counts": [[int(c) for c in row] for row in histograms["counts"]],
        "copied_maps": [m["label"] for m in plane_space.maps(store.open(copied))],
        "copied_variance_ratio": [float(v) for v in copied_pca.explained_variance_ratio_],
    }))
except Exception as exc:
    print(json.dumps({"writable": False, "error": f"{type(exc).__name__}: {exc}"}))
"""

# Linux capability numbers (linux/capability.h) and prctl's "drop from the bounding set".
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3
PR_CAPBSET_DROP = 24


def drop_permission_overrides() -> None:
    """In the child before exec: root keeps its uid (the interpreter may live under /root) but obeys file modes."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "cannot drop a capability (no CAP_SETPCAP?)")


def set_writable(folder: Path, writable: bool) -> None:
    """Add or remove every write bit below and including ``folder``."""
    write = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod((mode | stat.S_IWUSR) if writable else (mode & ~write))


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def test_views_of_a_run_on_a_read_only_file_system_still_answer(tmp_path):
    """Also: a run analysed elsewhere and copied in with ``cp -r`` (new file times) shows its cached analyses."""
    from analysis import results

    runs = tmp_path / "runs"
    make_run(runs / "readonly", n=N_POINTS, z_dim=Z_DIM)
    analysed = make_run(tmp_path / "elsewhere" / "copied", n=N_POINTS, z_dim=Z_DIM)
    pca = results.pca(analysed)
    results.tsne(analysed, n_points=100, perplexity=10, n_iter=250)
    subprocess.run(["cp", "-r", str(analysed), str(runs / "copied")], check=True)
    before = snapshot(runs)
    env = {k: v for k, v in os.environ.items() if k not in ("ZSPACE_AUTH", "ZSPACE_REDIS_URL")}
    set_writable(runs, False)
    try:
        result = subprocess.run(
            [sys.executable, "-c", SERVER, str(runs), str(tmp_path / "cache"), "readonly", "copied"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            preexec_fn=drop_permission_overrides if os.geteuid() == 0 else None,
        )
    finally:
        set_writable(runs, True)
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    if answer["writable"]:
        pytest.fail("the server process could still write the read-only runs folder; the check proves nothing here")
    assert "error" not in answer, answer.get("error")
    ratio = answer["variance_ratio"]
    assert len(ratio) == Z_DIM and all(0 < r <= 1 for r in ratio) and sum(ratio) == pytest.approx(1, abs=1e-4)
    counts = answer["counts"]
    assert len(counts) == Z_DIM and all(sum(row) == N_POINTS for row in counts)
    assert snapshot(runs) == before  # nothing written into (or next to) the run
    # The copy's map is listed and its PCA read from its own cache: the server computed neither (no entry of
    # the copy in the server's analysis cache), and the content digests went to the server's cache folder.
    assert answer["copied_maps"] == ["t-SNE raw z · 100 points · perplexity 10"], answer["copied_maps"]
    assert answer["copied_variance_ratio"] == pytest.approx(pca.explained_variance_ratio_.tolist(), rel=1e-6)
    assert not list((tmp_path / "cache" / "analysis").glob("copied/*")), "the server recomputed the copy's analyses"
    assert len(list((tmp_path / "cache" / "digests").glob("*.json"))) == 2  # both runs: neither has a valid sidecar
