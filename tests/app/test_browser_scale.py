"""A never-analysed large run in headless Chromium: progress first, then a pixel-sharp raster (issue 12, item 3).

The run (300,000 x 64) is above the store's ``inline_points`` (lowered for the
test), so no request computes its PCA, plane, histograms or radius: the page
must say at once what is being computed, show the background job's progress,
and then draw the plane as a density raster with a cell per pixel of the plot,
the true count, and points again once a zoom holds few enough.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from app.views import density, planes, progress
from tools.browser import BackgroundServer, chrome_driver, plot_js, require_chromium

pytestmark = pytest.mark.browser

require_chromium()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

N_POINTS, Z_DIM = 300_000, 64
#: Seconds from opening the page until it says what it computes (the issue asks for about one second
#: on a quiet machine; this bound leaves room for a loaded 2-core CI machine and Chromium's start).
NOTE_WITHIN_S = 30
TIMEOUT = 300


def text_of(driver, element_id: str) -> str:
    found = driver.find_elements(By.ID, element_id)
    return found[0].text if found else ""


@pytest.fixture(scope="module")
def big_run(tmp_path_factory):
    from app.factory import create_app
    from tools.fixtures import write_run
    from tools.synthetic import filament_cloud

    runs = tmp_path_factory.mktemp("scale-runs")
    z = np.asarray(filament_cloud(300, N_POINTS // 300, Z_DIM, noise=0.02, random_state=5), dtype=np.float32) * 2.0
    write_run(runs, "big", "ae", z, seed=5)
    app = create_app(runs, cache_dir=tmp_path_factory.mktemp("scale-cache"), inline_points=50_000)
    server = BackgroundServer(app.server)
    driver = chrome_driver(1400, 900)
    try:
        yield driver, server.url
    finally:
        driver.quit()
        server.stop()


#: Runs in the page before Dash starts: records every text the count line and the progress note show, in order.
RECORDER = (
    "window.__seen = [];"
    "new MutationObserver(() => {"
    f"  for (const id of ['{planes.COUNT['a']}', '{progress.NOTE}']) {{"
    "    const e = document.getElementById(id); const t = e ? e.textContent : '';"
    "    const last = window.__seen.filter(s => s[0] === id).pop();"
    "    if (t && (!last || last[1] !== t)) { window.__seen.push([id, t]); }"
    "  }"
    "}).observe(document, {subtree: true, childList: true, characterData: true});"
)


def test_the_page_says_what_it_computes_before_the_plane_and_draws_it_when_done(big_run):
    driver, url = big_run
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
    opened = time.monotonic()
    driver.get(url)
    note = WebDriverWait(driver, NOTE_WITHIN_S).until(
        lambda d: (
            re.search(r"computing .*PCA.* of big \(300,000 points\) in the background", text_of(d, progress.NOTE))
            and text_of(d, progress.NOTE)
        )
    )
    said_after = time.monotonic() - opened
    # The job reports its steps while it runs.
    WebDriverWait(driver, TIMEOUT).until(
        lambda d: "of big (" in text_of(d, progress.STEP) or "ready" in text_of(d, progress.NOTE)
    )

    count = WebDriverWait(driver, TIMEOUT).until(
        lambda d: "300,000 total" in text_of(d, planes.COUNT["a"]) and text_of(d, planes.COUNT["a"])
    )
    assert "more than the 250,000-point budget" in count, count
    # Done: the views drew again, and with nothing left to compute the progress box is gone.
    WebDriverWait(driver, 30).until(lambda d: not d.find_element(By.ID, progress.BOX).is_displayed())
    print(f"progress note after {said_after:.2f} s: {note!r}")
    # In the order the page showed them: the note, and the plane saying it waits, before any drawn count.
    seen = driver.execute_script("return window.__seen;")
    first_drawn = next(i for i, (element, text) in enumerate(seen) if element == planes.COUNT["a"] and "total" in text)
    before = seen[:first_drawn]
    assert any(element == progress.NOTE and "in the background" in text for element, text in before), seen
    assert any(
        element == planes.COUNT["a"] and "being computed in the background" in text for element, text in before
    ), seen

    # The raster has one cell per pixel of the plot area (no visible blocks), and counts every point.
    cells_x, cells_y, plot_w, plot_h, total = plot_js(
        driver,
        planes.GRAPH["a"],
        "(() => { const t = gd._fullData.find(t => t.name === 'density'); const s = gd._fullLayout._size;"
        " let n = 0; for (const row of t.z)"
        " for (const v of row) { if (v === v && v !== null) n += Math.expm1(v); }"
        " return [t.z[0].length, t.z.length, s.w, s.h, Math.round(n)]; })()",
    )
    assert plot_w * 0.9 <= cells_x <= plot_w * 1.1, (cells_x, plot_w)
    assert plot_h * 0.9 <= cells_y <= plot_h * 1.1, (cells_y, plot_h)
    assert abs(total - N_POINTS) < N_POINTS * 1e-3, total


def test_the_other_views_fill_in_when_the_job_is_done(big_run):
    driver, _ = big_run
    driver.find_element(By.XPATH, f"//*[contains(@class, 'tab') and normalize-space()='{density.TAB}']").click()
    traces = WebDriverWait(driver, TIMEOUT).until(
        lambda d: (n := plot_js(d, density.GRAPH, "gd && gd.data ? gd.data.length : 0")) and n
    )
    assert traces >= Z_DIM, "the density view still shows the pending message"
    driver.find_element(By.XPATH, "//*[contains(@class, 'tab') and normalize-space()='Planes']").click()


def test_zooming_into_a_small_square_switches_the_raster_to_clickable_points(big_run):
    driver, _ = big_run
    for element_id, value in ((planes.SQUARE_X, 0.0), (planes.SQUARE_Y, 0.0), (planes.SQUARE_SIDE, 1.0)):
        box = driver.find_element(By.ID, element_id)
        box.clear()
        box.send_keys(str(value) + "\n")
    driver.find_element(By.ID, planes.SQUARE_GO).click()
    count = WebDriverWait(driver, TIMEOUT).until(
        lambda d: (
            re.search(r"showing [\d,]+ of 300,000 points", text_of(d, planes.COUNT["a"]))
            and text_of(d, planes.COUNT["a"])
        )
    )
    shown = int(re.search(r"showing ([\d,]+)", count).group(1).replace(",", ""))
    assert 0 < shown <= 250_000
    assert plot_js(driver, planes.GRAPH["a"], "gd._fullData.some(t => t.type === 'scattergl')")
