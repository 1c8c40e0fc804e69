"""Beyond two runs in headless Chromium: several runs compared, a sweep's curve, the epoch slider.

One server on the ``series_dir`` fixture (a sweep folder of three tiny runs, one with snapshots)
serves the module. Without Chromium these tests skip, except when ``ZSPACE_REQUIRE_BROWSER=1`` (CI).
"""

from __future__ import annotations

import re

import pytest

from app.views import epochs, planes, sampler_rates, sweep
from app.views.parts import COMPARE, RUN
from tools.browser import BackgroundServer, choose_option, chrome_driver, plot_js, require_chromium

pytestmark = pytest.mark.browser

require_chromium()

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

TIMEOUT = 30


@pytest.fixture(scope="module")
def browser(series_dir, tmp_path_factory):
    from app.factory import create_app

    server = BackgroundServer(create_app(series_dir, cache_dir=tmp_path_factory.mktemp("series-cache")).server)
    driver = chrome_driver(1280, 900)
    try:
        driver.get(server.url)
        wait_until(driver, lambda d: "showing" in d.find_element(By.ID, planes.COUNT["a"]).text)
        yield driver
    finally:
        driver.quit()
        server.stop()


def wait_until(driver, condition):
    return WebDriverWait(driver, TIMEOUT).until(condition)


def open_tab(driver, label: str) -> None:
    tab = next(t for t in driver.find_elements(By.CSS_SELECTOR, "#tabs .tab") if t.text == label)
    tab.click()


def header_texts(driver, table_id: str) -> list[str]:
    return [cell.text for cell in driver.find_elements(By.CSS_SELECTOR, f"#{table_id} th")]


def test_three_runs_picked_in_the_compare_picker_fill_the_rates_table(browser):
    # The page opens on the sweep's AE beside its first VAE; the user adds the β = 4 run to the comparison.
    assert browser.find_element(By.ID, RUN["a"]).text.startswith("betas/beta-0")
    choose_option(browser, COMPARE, "betas/beta-4")
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()  # a multiple choice stays open after a pick
    open_tab(browser, sampler_rates.TAB)
    wanted = ("betas/beta-0 (AE) meaningful", "betas/beta-1 (VAE) meaningful", "betas/beta-4 (VAE) meaningful")
    wait_until(browser, lambda d: all(name in header_texts(d, sampler_rates.TABLE) for name in wanted))
    # One cell per run and sampler, "—" until the lab's job has computed it, and the note names all three.
    first_row = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, f"#{sampler_rates.TABLE} tr td")]
    assert len(first_row) >= 1 + 3 * 3 and set(first_row[1:10]) == {"—"}
    note = browser.find_element(By.ID, sampler_rates.NOTE).text
    assert re.search(r"not computed yet for betas/beta-0, betas/beta-1, betas/beta-4", note), note
    # The planes stay two at a time: the first run beside the first compared one.
    assert browser.find_element(By.ID, RUN["b"]).text.startswith("betas/beta-1")


def plane_title(driver, graph_id: str) -> str:
    return plot_js(driver, graph_id, "(gd && gd._fullLayout.title.text) || ''") or ""


def test_moving_the_epoch_slider_moves_the_snapshot_points_on_the_plane(browser):
    open_tab(browser, planes.TAB)
    graph = epochs.GRAPH["b"]  # the run beside the first, betas/beta-1, has snapshots after epochs 1, 2, 3
    wait_until(browser, lambda d: plane_title(d, graph).endswith("after epoch 3"))
    last = plot_js(browser, graph, "Array.from(gd._fullData[0].x).slice(0, 20)")
    axes = plot_js(browser, graph, "[gd._fullLayout.xaxis.range, gd._fullLayout.yaxis.range]")
    # A click in the middle of the slider's track: epoch 2 of the marks 1, 2, 3.
    track = browser.find_element(By.CSS_SELECTOR, f"#{epochs.SLIDER} .dash-slider-track")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", track)
    ActionChains(browser).move_to_element(track).click().perform()
    wait_until(browser, lambda d: plane_title(d, graph).endswith("after epoch 2"))
    earlier = plot_js(browser, graph, "Array.from(gd._fullData[0].x).slice(0, 20)")
    # Epoch 2's points sit two thirds of the way out (the fixture), on the same axes.
    assert earlier == pytest.approx([2 / 3 * x for x in last], abs=0.05)
    assert plot_js(browser, graph, "[gd._fullLayout.xaxis.range, gd._fullLayout.yaxis.range]") == axes
    assert "has no snapshots" in plane_title(browser, epochs.GRAPH["a"]) or "has no snapshots" in plot_js(
        browser, epochs.GRAPH["a"], "gd._fullLayout.annotations.map(a => a.text).join(' ')"
    )


def test_the_sweep_tab_draws_the_sweep_against_beta(browser):
    open_tab(browser, sweep.TAB)
    wait_until(browser, lambda d: plane_title(d, sweep.RATES) == "betas: meaningful rate per sampler against β")
    wait_until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, f"#{sweep.TABLE} tr td")) >= 3 * 9)
    betas = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, f"#{sweep.TABLE} tr td:first-child")]
    assert betas == ["0", "1", "4"]
    assert plot_js(browser, sweep.STRUCTURE, "gd._fullData[0].x") == ["0", "1", "4"]
    assert "not computed yet for betas/beta-0" in browser.find_element(By.ID, sweep.NOTE).text
