"""``zspace bench scale``: a never-analysed run of a million z-points, served.

Writes a 1,000,000 x 256 run (z-points on filaments, written in chunks into a
memory-mapped ``zpoints.npy`` so memory stays bounded; a tiny decoder) and,
as the baseline of the same process, a 200,000 x 256 one (``--quick``:
200,000 and 50,000). For each it measures

* **note on open**: seconds from opening the never-analysed run in headless
  Chromium until the page says what is being computed;
* **cold analysis**: seconds from opening it until the plane is drawn, i.e.
  the dashboard's own background job computing the base analyses (PCA, the
  default PCA plane, per-axis histograms and summary, radius profile) and the
  first raster, with the peak RSS of the server and its job process meanwhile;
* **warm first paint**: seconds from opening the analysed run in a fresh
  Chromium until the plane is drawn (its count line appears);
* **zoom re-query**: p50 / p99 of the plane callback for random squares
  (from the whole plane down to a few points), posted to the server;
* **peak server RSS**: gunicorn (one worker) from then on.

Everything binds 127.0.0.1; the runs live in a temporary folder.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

import rundir
from rundir.atomic import atomic_path, atomic_write_json, atomic_write_parquet
from tools.bench.load import MemorySampler, gunicorn_server

Z_DIM = 256
#: Points written per chunk (one chunk of float32 z-points is ~100 MB at z_dim 256).
CHUNK = 100_000
#: Zoom requests timed per run.
ZOOMS = 60


def write_scale_run(root: Path, name: str, n_points: int, seed: int = 0, z_dim: int = Z_DIM, model: str = "ae") -> Path:
    """Write run ``root/name``: ``n_points`` x ``z_dim`` filament z-points in chunks, metadata, a tiny decoder."""
    import pandas as pd

    from tools.fixtures import tiny_decoder
    from tools.synthetic import filament_cloud

    run = root / name
    run.mkdir(parents=True)
    atomic_write_json(
        run / rundir.CONFIG,
        {
            "schema_version": rundir.SCHEMA_VERSION,
            "model": model,
            "z_dim": z_dim,
            "image_size": 32,
            "channels": 3,
            "data": {"kind": "synthetic"},
            "seed": seed,
        },
    )
    with atomic_path(run / rundir.ZPOINTS) as tmp:
        z = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n_points, z_dim))
        for start in range(0, n_points, CHUNK):
            size = min(CHUNK, n_points - start)
            curves = max(1, size // 1000)
            chunk = filament_cloud(curves, -(-size // curves), z_dim, noise=0.02, random_state=seed * 1000 + start)
            z[start : start + size] = 2.0 * np.asarray(chunk[:size], dtype=np.float32)
        z.flush()
        del z
    rows, gen = np.arange(n_points), np.random.default_rng(seed)
    # The demo runs' columns (tools.fixtures), so the page's colourings and filters have something to use.
    metadata = pd.DataFrame(
        {
            "row": rows,
            "id": pd.Series(rows).map("img{:07d}".format),
            "split": "train",
            "smiling": gen.choice(np.array([-1, 1], dtype=np.int8), n_points),
            "pose": gen.normal(size=n_points).astype(np.float32),
        }
    )
    atomic_write_parquet(run / rundir.METADATA, metadata)
    with atomic_path(run / rundir.DECODER, suffix=".keras") as tmp:
        tiny_decoder(z_dim, 32, seed=seed).save(tmp)
    rundir.write_status(run, "complete", epoch=1, epochs=1)
    return run


def _text(driver, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.ID, element_id)
    return found[0].text if found else ""


def open_page(url: str, until, timeout: float = 600) -> float:
    """Seconds from ``driver.get(url)`` until ``until(driver)`` holds, in a fresh headless Chromium."""
    from selenium.webdriver.support.ui import WebDriverWait

    from tools.browser import chrome_driver

    driver = chrome_driver(1400, 900)
    try:
        started = time.perf_counter()
        driver.get(url)
        WebDriverWait(driver, timeout, poll_frequency=0.05).until(until)
        return time.perf_counter() - started
    finally:
        driver.quit()


def zoom_latencies(url: str, name: str, n_points: int) -> dict:
    """p50 / p99 (ms) of the plane callback for ZOOMS random squares, and the shown/total split."""
    from app.views import planes
    from tools.bench.requests import callback_body, find_dependency, post, valid_values

    with urllib.request.urlopen(url + "/_dash-dependencies", timeout=60) as answer:  # noqa: S310 - loopback
        plane = find_dependency(json.loads(answer.read()), f"{planes.GRAPH['a']}.figure")
    values = valid_values(name, None) | {f"{planes.KIND}.value": "pca", f"{planes.COLOUR}.value": "none"}
    values[f"{planes.WIDTH['a']}.data"] = 1400
    gen = random.Random(0)
    latencies, rasters = [], 0
    for _ in range(ZOOMS):
        half = 10 ** gen.uniform(-1.5, 1.2)
        cx, cy = gen.uniform(-3, 3), gen.uniform(-3, 3)
        values[f"{planes.GRAPH['a']}.relayoutData"] = {
            "xaxis.range[0]": cx - half,
            "xaxis.range[1]": cx + half,
            "yaxis.range[0]": cy - half,
            "yaxis.range[1]": cy + half,
        }
        body = callback_body(plane, values, [f"{planes.GRAPH['a']}.relayoutData"])
        started = time.perf_counter()
        status, text = post(url + "/_dash-update-component", body)
        latencies.append(time.perf_counter() - started)
        if status != 200 or f"{n_points:,}" not in text:
            count = json.loads(text)["response"][planes.COUNT["a"]]["children"] if status == 200 else text[:200]
            raise RuntimeError(f"a zoom of {name} answered {status}: {count}")
        rasters += "more than the" in text
    ordered = sorted(latencies)
    return {
        "p50_ms": round(1000 * ordered[len(ordered) // 2]),
        "p99_ms": round(1000 * ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]),
        "rasters": rasters,
        "requests": len(latencies),
    }


def measure(root: Path, name: str, n_points: int) -> dict:
    """Write one run, analyse it cold, serve it and time the page and the zooms."""
    from app.views import planes, progress

    runs, cache = root / f"runs-{name}", root / f"cache-{name}"
    started = time.perf_counter()
    write_scale_run(runs, name, n_points)
    figures = {"points": n_points, "write_s": round(time.perf_counter() - started, 1)}
    print(f"  {name}: wrote {n_points:,} x {Z_DIM} in {figures['write_s']} s", flush=True)
    with gunicorn_server(runs, cache, workers=1) as (url, pid):
        # The count line of a drawn plane, points or density raster, always says how many are "in view".
        drawn = lambda d: "in view" in _text(d, planes.COUNT["a"])  # noqa: E731
        with MemorySampler(pid, interval=0.2) as memory:
            marks = {}

            def note_then_plane(driver):
                if "note" not in marks and "in the background" in _text(driver, progress.NOTE):
                    marks["note"] = time.perf_counter()
                return drawn(driver)

            opened = time.perf_counter()
            figures["cold_s"] = round(open_page(url, note_then_plane), 1)
            figures["note_s"] = round(marks["note"] - opened, 2) if "note" in marks else None
        figures["cold_peak_rss_mb"] = memory.peak >> 20
        print(f"  {name}: note after {figures['note_s']} s, plane after {figures['cold_s']} s (cold)", flush=True)
        with MemorySampler(pid) as memory:
            figures["first_paint_s"] = round(open_page(url, drawn), 2)
            figures["zoom"] = zoom_latencies(url, name, n_points)
        figures["server_peak_rss_mb"] = memory.peak >> 20
    print(f"  {name}: {json.dumps(figures)}", flush=True)
    return figures


def main(args) -> int:
    """Entry of ``zspace bench scale``: the large run and its baseline, printed side by side."""
    from tools.browser import chromium_available

    if not chromium_available():
        print("zspace bench scale needs Chromium: apt-get install chromium chromium-driver", file=sys.stderr)
        return 2
    sizes = (200_000, 50_000) if getattr(args, "quick", False) else (1_000_000, 200_000)
    results = {}
    with tempfile.TemporaryDirectory(prefix="zspace-scale-") as scratch:
        for n_points in sizes:
            name = f"scale-{n_points // 1000}k"
            results[name] = measure(Path(scratch), name, n_points)
    (large_name, large), (base_name, base) = results.items()
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"{'':32s}{large_name:>14s}{base_name + ' (baseline)':>24s}")
    rows = [
        ("note on open (s)", lambda r: r["note_s"]),
        ("cold: open to plane (s)", lambda r: r["cold_s"]),
        ("cold: peak RSS incl. job (MB)", lambda r: r["cold_peak_rss_mb"]),
        ("warm first paint (s)", lambda r: r["first_paint_s"]),
        ("zoom re-query p50 (ms)", lambda r: r["zoom"]["p50_ms"]),
        ("zoom re-query p99 (ms)", lambda r: r["zoom"]["p99_ms"]),
        ("zooms answered by a raster", lambda r: f"{r['zoom']['rasters']}/{r['zoom']['requests']}"),
        ("peak server RSS (MB)", lambda r: r["server_peak_rss_mb"]),
    ]
    for label, value in rows:
        print(f"{label:32s}{value(large)!s:>14s}{value(base)!s:>24s}")
    if getattr(args, "out", None):
        atomic_write_json(args.out, {"scale": results})
    return 0
