"""Filter, linked selection, shareable links and export in headless Chromium (issue 10's acceptance).

One server serves the module; a second browser opens copied links. Without
Chromium these tests skip, except when ``ZSPACE_REQUIRE_BROWSER=1`` (CI).
"""

from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd
import pytest

from app.views import export, filters, planes, selection, share
from tools.browser import BackgroundServer, chrome_driver, drawn, plot_js, require_chromium

pytestmark = pytest.mark.browser

require_chromium()

from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.actions.action_builder import ActionBuilder  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

TIMEOUT = 30
GRAPH_A, GRAPH_B = planes.GRAPH["a"], planes.GRAPH["b"]


@pytest.fixture(scope="module")
def server(runs_dir, tmp_path_factory):
    from app.factory import create_app

    served = BackgroundServer(create_app(runs_dir, cache_dir=tmp_path_factory.mktemp("navigate-cache")).server)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(server, downloads):
    driver = chrome_driver(1280, 900)
    # Downloads land in a folder of the test's own (a real download, as a user's browser saves it).
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        driver.get(server.url)
        wait_text(driver, planes.COUNT["a"], r"showing \d+ of 600")
        wait_text(driver, planes.COUNT["b"], r"showing \d+ of 600")
        # The count lines come with the figures; Plotly draws them once its bundle has loaded.
        WebDriverWait(driver, TIMEOUT).until(lambda d: all(drawn(d, planes.GRAPH[side]) for side in "ab"))
        yield driver
    finally:
        driver.quit()


def wait_text(driver, element_id: str, pattern: str) -> str:
    """Wait until the element's text matches ``pattern``; return the text."""

    def matched(d):
        elements = d.find_elements(By.ID, element_id)
        return elements and re.search(pattern, elements[0].text) and elements[0].text

    try:
        return WebDriverWait(driver, TIMEOUT).until(matched)
    except TimeoutException:
        elements = driver.find_elements(By.ID, element_id)
        shown = elements[0].text if elements else "(no such element)"
        raise AssertionError(f"#{element_id} never matched {pattern!r}; it shows {shown!r}") from None


def set_input(driver, element_id: str, value) -> None:
    """Type over an input's text and press Enter (select-all first: clearing would submit an empty box)."""
    box = driver.find_element(By.ID, element_id)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(str(value) + "\n")


def shown_points(driver, graph_id: str, trace: str = "z-points") -> int:
    return plot_js(driver, graph_id, f"(gd._fullData.find(t => t.name === '{trace}') || {{x: []}}).x.length")


def drag(driver, graph_id: str, corners: list[tuple[float, float]], close: bool) -> None:
    """Press the mouse at the first data point, move through the others (back to the first if ``close``), release."""
    driver.execute_script(f"document.getElementById('{graph_id}').scrollIntoView({{block: 'center'}});")
    pixels = plot_js(
        driver,
        graph_id,
        "(() => { const r = gd.getBoundingClientRect(), L = gd._fullLayout;"
        f" return {[list(c) for c in corners]!r}.map(([x, y]) =>"
        " [r.left + L._size.l + L.xaxis.l2p(x), r.top + L._size.t + L.yaxis.l2p(y)]); })()",
    )
    actions = ActionBuilder(driver)
    actions.pointer_action.move_to_location(int(pixels[0][0]), int(pixels[0][1])).pointer_down()
    ends = pixels[1:] + pixels[:1] if close else pixels[1:]
    for (x0, y0), (x1, y1) in zip(pixels, ends, strict=False):
        for t in np.linspace(0.2, 1.0, 5):  # several moves per edge, as a hand draws
            actions.pointer_action.move_to_location(int(x0 + t * (x1 - x0)), int(y0 + t * (y1 - y0)))
    actions.pointer_action.pointer_up()
    actions.perform()


def select_on(driver, graph_id: str, mode: str, corners) -> None:
    """Switch the plot to box / lasso select (its toolbar's job) and drag out the region."""
    plot_js(driver, graph_id, f"Plotly.relayout(gd, {{dragmode: '{mode}'}})")
    drag(driver, graph_id, corners, close=mode == "lasso")


def test_typing_a_filter_changes_the_count_and_the_plane(browser):
    before = shown_points(browser, GRAPH_A)
    set_input(browser, filters.TEXT, "smiling == 1")
    kept = int(wait_text(browser, filters.COUNT["a"], r"(\d+) of 600 rows match in ae").split()[0])
    assert 100 < kept < 500
    wait_text(browser, planes.COUNT["a"], rf"showing {kept} of 600 points .* the filter keeps {kept} of 600")
    WebDriverWait(browser, TIMEOUT).until(lambda d: shown_points(d, GRAPH_A) == kept)
    assert before == 600
    # A typo is refused in one line and the filter in force stays.
    set_input(browser, filters.TEXT, "smilng == 1")
    assert "unknown column 'smilng'" in wait_text(browser, filters.MESSAGE, "not applied")
    assert shown_points(browser, GRAPH_A) == kept
    browser.find_element(By.ID, filters.CLEAR).click()
    wait_text(browser, filters.COUNT["a"], "no filter: all 600 rows")
    WebDriverWait(browser, TIMEOUT).until(lambda d: shown_points(d, GRAPH_A) == 600)


def test_a_lasso_on_one_side_lights_up_the_same_images_on_the_other(browser):
    x0, x1 = plot_js(browser, GRAPH_A, "gd._fullLayout.xaxis.range")
    y0, y1 = plot_js(browser, GRAPH_A, "gd._fullLayout.yaxis.range")
    cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 3, (y1 - y0) / 3
    select_on(browser, GRAPH_A, "lasso", [(cx - w, cy - h), (cx + w, cy - h), (cx + w, cy + h), (cx - w, cy + h)])
    text = wait_text(browser, selection.COUNT["a"], r"(\d+) points selected here")
    chosen = int(text.split()[0])
    assert chosen > 0
    wait_text(browser, selection.COUNT["b"], rf"the same images: {chosen} highlighted here of {chosen} selected on ae")
    for graph in (GRAPH_A, GRAPH_B):  # rings around the selected images on both planes
        WebDriverWait(browser, TIMEOUT).until(lambda d, graph=graph: shown_points(d, graph, "selection") == chosen)
    browser.find_element(By.ID, selection.CLEAR).click()
    wait_text(browser, selection.COUNT["a"], "no selection")
    wait_text(browser, selection.COUNT["b"], "no selection")
    WebDriverWait(browser, TIMEOUT).until(lambda d: shown_points(d, GRAPH_B, "selection") == 0)


def test_a_copied_link_opens_the_same_plane_zoom_and_selection_in_a_fresh_browser(browser, server):
    browser.find_element(By.CSS_SELECTOR, f"#{planes.KIND} input[value='axis']").click()
    wait_text(browser, planes.COUNT["a"], r"showing 600 of 600")
    set_input(browser, filters.TEXT, "pose > -1")
    set_input(browser, planes.SQUARE_X, 0.25)
    set_input(browser, planes.SQUARE_Y, -0.5)
    set_input(browser, planes.SQUARE_SIDE, 3)
    browser.find_element(By.ID, planes.SQUARE_GO).click()
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: plot_js(d, GRAPH_A, "gd._fullLayout.xaxis.range") == pytest.approx([-1.25, 1.75], abs=1e-6)
    )
    select_on(browser, GRAPH_A, "select", [(-1.0, -1.5), (0.5, 0.5)])
    counts = {side: wait_text(browser, selection.COUNT[side], r"\d+ (points selected|highlighted)") for side in "ab"}
    plane_count = wait_text(browser, planes.COUNT["a"], r"the filter keeps")
    url = browser.current_url
    assert "#" in url and "zoom-a=" in url and "selection=" in url and "filter=" in url
    assert browser.find_element(By.ID, share.LINK).text == url

    fresh = chrome_driver(1280, 900)
    try:
        fresh.get(url)
        for side in "ab":
            assert wait_text(fresh, selection.COUNT[side], re.escape(counts[side])) == counts[side]
        assert wait_text(fresh, planes.COUNT["a"], re.escape(plane_count)) == plane_count
        assert plot_js(fresh, GRAPH_A, "gd._fullLayout.xaxis.range") == pytest.approx([-1.25, 1.75], abs=1e-5)
        assert plot_js(fresh, GRAPH_A, "gd._fullLayout.yaxis.range") == pytest.approx([-2.0, 1.0], abs=1e-5)
        assert plot_js(fresh, GRAPH_A, "gd._fullLayout.xaxis.title.text") == "z[0]"
        assert fresh.find_element(By.ID, filters.TEXT).get_attribute("value") == "pose > -1"
        outline = plot_js(fresh, GRAPH_A, "gd.layout.shapes.map(s => [s.type, s.x0, s.x1])")
        assert outline == [["rect", pytest.approx(-1.0, abs=0.05), pytest.approx(0.5, abs=0.05)]]
        assert fresh.find_element(By.ID, share.MESSAGE).text == ""
        assert not [e for e in fresh.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        fresh.quit()


def test_a_hostile_link_falls_back_to_defaults_with_one_message(server):
    fresh = chrome_driver(1280, 900)
    try:
        fresh.get(server.url + "#run=../../etc/passwd&plane=bogus&zoom-a=nan,1,2,3&selection={oops&x=-5&filter=len(id)")
        message = wait_text(fresh, share.MESSAGE, "this link")
        assert message.startswith("this link has an unusable run") and "(defaults instead)" in message
        wait_text(fresh, planes.COUNT["a"], r"showing \d+ of 600 points")
        assert plot_js(fresh, GRAPH_A, "(gd._fullLayout.xaxis.title.text || '')").startswith("PC 1")
        assert fresh.find_element(By.ID, filters.COUNT["a"]).text == "no filter: all 600 rows of ae"
    finally:
        fresh.quit()


def test_export_downloads_the_plane_as_csv_and_parquet(browser, downloads):
    browser.find_element(By.ID, export.CSV["a"]).click()
    note = wait_text(browser, export.NOTE["a"], r"\.csv: \d+ points")
    name = note.split(":")[0]
    path = downloads / name
    deadline = time.monotonic() + TIMEOUT
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    table = pd.read_csv(path)
    assert list(table.columns) == ["row", "id", "x", "y", "selected", "filtered"]
    assert len(table) == 600 and table["id"].str.startswith("img").all()
    assert table["filtered"].sum() < 600  # the filter of the previous test is still in force
    browser.find_element(By.ID, export.PARQUET["b"]).click()
    name = wait_text(browser, export.NOTE["b"], r"\.parquet: \d+ points").split(":")[0]
    deadline = time.monotonic() + TIMEOUT
    while not (downloads / name).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(pd.read_parquet(downloads / name).columns)[:4] == ["row", "id", "x", "y"]
