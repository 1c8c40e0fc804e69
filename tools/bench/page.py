"""``zspace bench page``: the page in headless Chromium beside a bare Dash page drawing the same two figures.

For each size (50,000 and 1,000,000 points per run; ``--quick``: 20,000 and
200,000) the bench writes two never-analysed runs through the run contract
(filament z-points of :data:`Z_DIM` dimensions, an AE and a "VAE", tiny
decoders) and serves them with gunicorn (one worker) together with the bare
page (:mod:`tools.bench.bare_page`) on the same server. Then, in one run:

* **progress note**: a fresh Chromium opens the never-analysed runs; ms from
  the page's first paint until its note says what is computed in the
  background (runs above the inline size only), and the time until both planes
  are drawn once the page's own job is done;
* **both planes drawn**: fresh Chromium, ms from navigation until both plots
  hold their figure, for the page and for the bare page (median of
  :data:`OPENS` opens each), with the requests and bytes of the page's load;
* **zoom re-query** p50 / p99 (:func:`tools.bench.scale.zoom_latencies`);
* **click to image** p50 / p99: a click's decode request, then the nearest-data
  distance request the page sends after it (:class:`tools.bench.requests.RequestFactory`).

Everything binds 127.0.0.1; the runs live in a temporary folder.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from rundir.atomic import atomic_write_json
from tools.bench.bare_page import GRAPH as BARE_GRAPH
from tools.bench.bare_page import PATH as BARE_PATH
from tools.bench.load import gunicorn_server
from tools.bench.requests import RequestFactory, answer_problem, post
from tools.bench.scale import write_scale_run, zoom_latencies

Z_DIM = 64
#: Fresh-browser opens per page; the median is reported.
OPENS = 3
#: Clicks timed per size.
CLICKS = 40
#: The issue's goals (idle 2-core machine).
GOALS = {"drawn_50k_ms": 1500, "ratio": 1.3, "callbacks": 10, "bytes": 2.5 * 2**20, "note_ms": 1000, "click_p99": 300}
#: A plot holds its figure: a trace with points or a density raster (ms since navigation, else null).
DRAWN_JS = (
    "const ids = arguments[0]; const drawn = ids.every(id => { const gd = document.querySelector('#' + id + "
    "' .js-plotly-plot'); return gd && gd._fullData && gd._fullData.some(t => (t.type === 'scattergl' "
    "&& t.x && t.x.length > 0) || t.type === 'heatmap'); }); return drawn ? performance.now() : null;"
)
#: Records when a progress note ("… in the background") is first in the document: the one in the page's first
#: HTML (``.loading-note``) or the page's own (the id given).
NOTE_WATCH_JS = (
    "window.__noteAt = null;"
    "new MutationObserver(() => {"
    "  if (window.__noteAt !== null) { return; }"
    "  for (const e of document.querySelectorAll('.loading-note, #%s')) {"
    "    if (e.textContent.includes('in the background')) { window.__noteAt = performance.now(); return; }"
    "  }"
    "}).observe(document, {subtree: true, childList: true, characterData: true});"
)
FIRST_PAINT_JS = (
    "const p = performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint');"
    " return p ? p.startTime : null;"
)


def open_and_time(url: str, graph_ids: list[str], note_id: str | None = None, timeout: float = 600) -> dict:
    """One fresh Chromium opening ``url``: ms to both plots drawn, first paint, note (if any), requests, bytes."""
    from selenium.webdriver.support.ui import WebDriverWait

    from tools.browser import chrome_driver, network_log

    driver = chrome_driver(1400, 900, network=True)
    try:
        if note_id:
            # Watched from before the first byte is parsed: driver.get returns only after the page's load
            # event (its scripts), so polling from here could not see a note that is there from the start.
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": NOTE_WATCH_JS % note_id})
        driver.get(url)
        drawn = WebDriverWait(driver, timeout, poll_frequency=0.02).until(
            lambda d: d.execute_script(DRAWN_JS, graph_ids)
        )
        paint = driver.execute_script(FIRST_PAINT_JS)
        note = driver.execute_script("return window.__noteAt;") if note_id else None
        time.sleep(1.0)  # requests a drawing sets off
        fetched = network_log(driver)
    finally:
        driver.quit()
    return {
        "drawn_ms": round(drawn),
        # A note in the page's first HTML is in the document before the paint that shows it: 0.
        "note_after_paint_ms": max(0, round(note - paint)) if note is not None and paint else None,
        "requests": len(fetched),
        "callbacks": sum(f.callback for f in fetched),
        "bytes": sum(f.transferred for f in fetched),
    }


def percentiles(values: list[float]) -> dict:
    """p50 and p99 (ms) of latencies in seconds."""
    ordered = sorted(values)
    return {
        "p50_ms": round(1000 * ordered[len(ordered) // 2]),
        "p99_ms": round(1000 * ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]),
    }


def click_latencies(url: str, runs_dir: Path, names: list[str]) -> dict:
    """p50 / p99 of a click's decode request, of the nearest-distance request after it, and of both."""
    import rundir

    with urllib.request.urlopen(url + "/_dash-dependencies", timeout=60) as answer:  # noqa: S310 - loopback
        dependencies = json.loads(answer.read())
    runs = {name: rundir.load_zpoints(runs_dir / name) for name in names}
    factory, gen = RequestFactory(dependencies, runs), random.Random(0)
    decode, nearest, both = [], [], []
    for _ in range(CLICKS):
        started = time.perf_counter()
        status, text = post(url + "/_dash-update-component", factory.build("decode", gen))
        decode.append(time.perf_counter() - started)
        problem = answer_problem("decode", status, text)
        follow = factory.follow_up(text) if problem is None else None
        if follow is None:
            raise RuntimeError(f"a click was answered without an image: {problem}")
        started = time.perf_counter()
        status, line = post(url + "/_dash-update-component", follow)
        nearest.append(time.perf_counter() - started)
        if answer_problem("nearest", status, line):
            raise RuntimeError(f"the nearest-data distance was not answered: {line[:200]}")
        both.append(decode[-1] + nearest[-1])
    return {"decode": percentiles(decode), "nearest": percentiles(nearest), "both": percentiles(both)}


def measure(root: Path, n_points: int) -> dict:
    """Write the two runs of one size, serve them with the bare page, and time everything."""
    from app.views import planes, progress

    label = f"{n_points // 1000}k"
    runs_dir, cache = root / f"runs-{label}", root / f"cache-{label}"
    names = [f"page-ae-{label}", f"page-vae-{label}"]
    started = time.perf_counter()
    for seed, (name, model) in enumerate(zip(names, ("ae", "vae"), strict=True)):
        write_scale_run(runs_dir, name, n_points, seed=seed, z_dim=Z_DIM, model=model)
    print(f"  {label}: wrote 2 x {n_points:,} x {Z_DIM} in {time.perf_counter() - started:.1f} s", flush=True)
    graphs = [planes.GRAPH[side] for side in "ab"]
    figures: dict = {"points": n_points}
    with gunicorn_server(runs_dir, cache, workers=1, target="tools.bench.page_server:server") as (url, _pid):
        cold = open_and_time(url + "/", graphs, note_id=progress.NOTE)
        figures["note_after_paint_ms"], figures["cold_drawn_ms"] = cold["note_after_paint_ms"], cold["drawn_ms"]
        print(f"  {label}: cold {cold}", flush=True)
        for page, at, ids in (("page", "/", graphs), ("bare", BARE_PATH, list(BARE_GRAPH.values()))):
            opens = [open_and_time(url + at, ids) for _ in range(OPENS)]
            figures[page] = {
                key: statistics.median(o[key] for o in opens) for key in ("drawn_ms", "requests", "callbacks", "bytes")
            }
            print(f"  {label}: {page} {figures[page]}", flush=True)
        figures["zoom"] = zoom_latencies(url, names[0], n_points)
        figures["click"] = click_latencies(url, runs_dir, names)
    print(f"  {label}: {json.dumps(figures)}", flush=True)
    return figures


def table(results: dict) -> list[str]:
    """The printed table: one column per size, the bare page beside the page."""
    sizes = list(results)
    rows = [
        ("both planes drawn (ms)", lambda r: f"{r['page']['drawn_ms']:.0f}"),
        ("  bare Dash page (ms)", lambda r: f"{r['bare']['drawn_ms']:.0f}"),
        ("  page / bare", lambda r: f"{r['page']['drawn_ms'] / r['bare']['drawn_ms']:.2f}"),
        ("requests at load (callbacks)", lambda r: f"{r['page']['requests']:.0f} ({r['page']['callbacks']:.0f})"),
        ("  bare Dash page", lambda r: f"{r['bare']['requests']:.0f} ({r['bare']['callbacks']:.0f})"),
        ("MB transferred at load", lambda r: f"{r['page']['bytes'] / 2**20:.2f}"),
        ("  bare Dash page", lambda r: f"{r['bare']['bytes'] / 2**20:.2f}"),
        ("progress note after first paint (ms)", lambda r: str(r["note_after_paint_ms"])),
        ("never analysed: both planes drawn (ms)", lambda r: str(r["cold_drawn_ms"])),
        ("zoom re-query p50 / p99 (ms)", lambda r: f"{r['zoom']['p50_ms']} / {r['zoom']['p99_ms']}"),
        (
            "click to image p50 / p99 (ms)",
            lambda r: f"{r['click']['decode']['p50_ms']} / {r['click']['decode']['p99_ms']}",
        ),
        (
            "  then nearest line p50 / p99 (ms)",
            lambda r: f"{r['click']['nearest']['p50_ms']} / {r['click']['nearest']['p99_ms']}",
        ),
        ("  both p50 / p99 (ms)", lambda r: f"{r['click']['both']['p50_ms']} / {r['click']['both']['p99_ms']}"),
    ]
    lines = [f"{'':40s}" + "".join(f"{size:>18s}" for size in sizes)]
    lines += [f"{name:40s}" + "".join(f"{value(results[s]):>18s}" for s in sizes) for name, value in rows]
    return lines


def main(args) -> int:
    """Entry of ``zspace bench page``: both sizes, the table, the load average."""
    from tools.browser import chromium_available

    if not chromium_available():
        print("zspace bench page needs Chromium: apt-get install chromium chromium-driver", file=sys.stderr)
        return 2
    sizes = (20_000, 200_000) if getattr(args, "quick", False) else (50_000, 1_000_000)
    print(f"load average at the start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="zspace-page-") as scratch:
        for n_points in sizes:
            results[f"{n_points // 1000}k"] = measure(Path(scratch), n_points)
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("\n".join(table(results)))
    print(f"goals (idle 2-core machine): {json.dumps(GOALS)}")
    if getattr(args, "out", None):
        atomic_write_json(args.out, {"page": results})
    return 0
