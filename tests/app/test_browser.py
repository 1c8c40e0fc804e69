"""The dashboard in headless Chromium: what a user sees and clicks (issue 4's acceptance).

One server and one browser serve the whole module. Without Chromium these
tests skip, except when ``ZSPACE_REQUIRE_BROWSER=1`` (CI), where they fail.
"""

from __future__ import annotations

import re

import pytest

from app.views import decode, maps, planes, sampling
from tools.browser import BackgroundServer, chrome_driver, click_plot, drawn, plot_js, points, require_chromium

pytestmark = pytest.mark.browser

require_chromium()

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

TIMEOUT = 30


GRAPH_A, COUNT_A = planes.GRAPH["a"], planes.COUNT["a"]


@pytest.fixture(scope="module")
def browser(runs_dir, tmp_path_factory):
    from analysis import results
    from app.factory import create_app

    # The seed's maps: t-SNE of raw z and after PCA-2 (small, so the fixture stays quick).
    for reduce_to in (None, 2):
        results.tsne(runs_dir / "ae", n_points=300, pca_components=reduce_to, perplexity=10, n_iter=300)
    server = BackgroundServer(create_app(runs_dir, cache_dir=tmp_path_factory.mktemp("browser-cache")).server)
    driver = chrome_driver(1280, 800)
    try:
        driver.get(server.url)
        wait_text(driver, COUNT_A, r"showing \d+ of")
        # The count line comes with the figure; Plotly draws it once its bundle has loaded.
        WebDriverWait(driver, TIMEOUT).until(lambda d: drawn(d, GRAPH_A) and drawn(d, planes.GRAPH["b"]))
        yield driver
    finally:
        driver.quit()
        server.stop()


def wait_text(driver, element_id: str, pattern: str) -> str:
    """Wait until the element's text matches ``pattern``; return the text."""

    def matched(d):
        elements = d.find_elements(By.ID, element_id)
        return elements and re.search(pattern, elements[0].text) and elements[0].text

    return WebDriverWait(driver, TIMEOUT).until(matched)


def set_input(driver, element_id: str, value) -> None:
    box = driver.find_element(By.ID, element_id)
    box.clear()
    box.send_keys(str(value) + "\n")


def test_page_loads_without_console_errors_and_lists_the_broken_run(browser):
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []
    runs = browser.find_element(By.ID, "run-list").get_attribute("textContent")
    assert "broken" in runs and "truncated" in runs
    assert "showing 600 of 600 points" in browser.find_element(By.ID, COUNT_A).text
    # The other runs still work: the compared VAE plane is drawn too.
    assert "600 points" in wait_text(browser, planes.COUNT["b"], "showing")


def test_switching_plane_type_and_axes_updates_the_scatter(browser):
    assert plot_js(browser, GRAPH_A, "(gd._fullLayout.xaxis.title.text || '')").startswith("PC 1")
    browser.find_element(By.CSS_SELECTOR, f"#{planes.KIND} input[value='axis']").click()
    set_input(browser, planes.AXIS_I, 3)
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: plot_js(d, GRAPH_A, "(gd._fullLayout.xaxis.title.text || '')") == "z[3]"
    )
    first = points(browser, GRAPH_A, 0, 3)
    browser.find_element(By.CSS_SELECTOR, f"#{planes.KIND} input[value='pca']").click()
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: plot_js(d, GRAPH_A, "(gd._fullLayout.xaxis.title.text || '')").startswith("PC 4")
    )
    assert points(browser, GRAPH_A, 0, 3) != first
    set_input(browser, planes.AXIS_I, 0)
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: plot_js(d, GRAPH_A, "(gd._fullLayout.xaxis.title.text || '')").startswith("PC 1")
    )


def test_clicking_a_point_shows_its_decoded_image(browser):
    x, y = points(browser, GRAPH_A, 0, 1)[0]
    click_plot(browser, GRAPH_A, x, y)
    text = wait_text(browser, decode.PANEL["a"], r"^point \d+|empty space")
    assert "radius" in text
    assert wait_text(browser, decode.NEAREST["a"], "nearest other point: [0-9.]+")
    image = browser.find_element(By.CSS_SELECTOR, f"#{decode.PANEL['a']} img.face")
    assert image.get_attribute("src").startswith("data:image/png;base64,")
    assert image.size["width"] >= 128
    # The plane marks the clicked point (its redraw is done before the next test clicks again).
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: plot_js(d, GRAPH_A, "gd._fullData.some(t => t.name === 'selected point' && t.x.length === 1)")
    )


def test_clicking_empty_space_on_a_pca_plane_decodes_that_spot(browser):
    # The plot's top-left corner is padding around the data: no point is near it.
    x0, x1 = plot_js(browser, GRAPH_A, "gd._fullLayout.xaxis.range")
    y0, y1 = plot_js(browser, GRAPH_A, "gd._fullLayout.yaxis.range")
    click_plot(browser, GRAPH_A, x0 + 0.01 * (x1 - x0), y1 - 0.01 * (y1 - y0))
    text = wait_text(browser, decode.PANEL["a"], "empty space at")
    # Other coordinates from the nearest data point on the plane (the default), |z| beside the data's radii.
    assert "nearest on the plane" in text
    assert re.search(r"\d\.\d{3} — data 5th–95th pct [0-9.]+–[0-9.]+", text)
    assert (
        browser.find_element(By.CSS_SELECTOR, f"#{decode.PANEL['a']} img.face").get_attribute("src").startswith("data:")
    )


def test_zooming_into_a_small_square_updates_the_count(browser):
    x, y = points(browser, GRAPH_A, 5, 1)[0]
    set_input(browser, planes.SQUARE_X, round(x, 3))
    set_input(browser, planes.SQUARE_Y, round(y, 3))
    set_input(browser, planes.SQUARE_SIDE, 0.5)
    before = browser.find_element(By.ID, COUNT_A).text
    browser.find_element(By.ID, planes.SQUARE_GO).click()
    WebDriverWait(browser, TIMEOUT).until(lambda d: d.find_element(By.ID, COUNT_A).text != before)
    text = wait_text(browser, COUNT_A, r"showing (\d+) of 600 points \(\1 in view\)")
    shown = int(re.search(r"showing (\d+)", text).group(1))
    assert 1 <= shown < 600
    # The plot itself moved to the square (not only the count).
    x_range = plot_js(browser, GRAPH_A, "gd._fullLayout.xaxis.range")
    assert x_range == pytest.approx([round(x, 3) - 0.25, round(x, 3) + 0.25], abs=1e-3)
    # A drag-zoom by the user is re-queried by the server as well.
    element = browser.find_element(By.CSS_SELECTOR, f"#{GRAPH_A} .nsewdrag")
    ActionChains(browser).move_to_element_with_offset(element, 40, 40).click_and_hold().move_by_offset(
        60, 60
    ).release().perform()
    WebDriverWait(browser, TIMEOUT).until(lambda d: d.find_element(By.ID, COUNT_A).text != text)
    assert re.search(r"showing \d+ of 600 points", browser.find_element(By.ID, COUNT_A).text)


def test_sampling_view_shows_k_images_for_ae_and_for_vae(browser):
    browser.find_element(By.XPATH, "//*[contains(@class, 'tab') and normalize-space()='Sampling']").click()
    set_input(browser, sampling.K, 6)
    for side in ("a", "b"):
        WebDriverWait(browser, TIMEOUT).until(
            lambda d, side=side: len(d.find_elements(By.CSS_SELECTOR, f"#{sampling.GRID[side]} img.face")) == 6
        )
    assert "nearest data z: " in browser.find_element(By.ID, sampling.GRID["a"]).text
    assert browser.find_element(By.ID, sampling.TITLE["b"]).text.startswith("vae")


def test_picking_tsne_after_pca_2_shows_that_map_its_parameters_and_count(browser):
    from tools.browser import choose_option

    browser.find_element(By.XPATH, "//*[contains(@class, 'tab') and normalize-space()='Planes']").click()
    browser.find_element(By.CSS_SELECTOR, f"#{planes.KIND} input[value='map']").click()
    WebDriverWait(browser, TIMEOUT).until(
        lambda d: plot_js(d, GRAPH_A, "(gd._fullLayout.xaxis.title.text || '')") == "t-SNE 1"
    )
    first_map = points(browser, GRAPH_A, 0, 5)  # the map listed first (raw z), drawn when the kind changed
    choose_option(browser, maps.PICKED["a"], "t-SNE after PCA-2")
    info = wait_text(browser, maps.INFO["a"], "after PCA-2")
    assert "300 points" in info and "pca_components 2" in info and "perplexity 10" in info
    assert wait_text(browser, COUNT_A, "the map holds 300 of them")
    # Its points are drawn once they differ from the first map's (both are titled "t-SNE 1").
    after_pca = WebDriverWait(browser, TIMEOUT).until(
        lambda d: (found := points(d, GRAPH_A, 0, 5)) != first_map and found
    )
    # Switching back to raw z changes the points drawn.
    choose_option(browser, maps.PICKED["a"], "t-SNE raw z")
    wait_text(browser, maps.INFO["a"], "raw z")
    WebDriverWait(browser, TIMEOUT).until(lambda d: points(d, GRAPH_A, 0, 5) != after_pca)
    browser.find_element(By.CSS_SELECTOR, f"#{planes.KIND} input[value='pca']").click()
    wait_text(browser, COUNT_A, r"showing \d+ of 600")
