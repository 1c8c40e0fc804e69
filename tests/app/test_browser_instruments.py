"""The decode instruments in headless Chromium: a path from A to B, a point's neighbours, the compared model's strip.

One server and one browser serve the module (over the ``ae`` / ``vae`` runs of
tests/app/conftest.py; the page compares them from the start). Without Chromium
these tests skip, except when ``ZSPACE_REQUIRE_BROWSER=1`` (CI), where they fail.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from app.views import decode, lattice, neighbours, paths, planes
from tools.browser import BackgroundServer, chrome_driver, click_plot, plot_js, points, require_chromium

pytestmark = pytest.mark.browser

require_chromium()

from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

TIMEOUT = 40
GRAPH_A = planes.GRAPH["a"]


@pytest.fixture(scope="module")
def browser(runs_dir, tmp_path_factory):
    from app.factory import create_app

    server = BackgroundServer(create_app(runs_dir, cache_dir=tmp_path_factory.mktemp("instruments-cache")).server)
    driver = chrome_driver(1280, 900)
    try:
        driver.get(server.url)
        wait_for_the_plane(driver)
        yield driver
    finally:
        driver.quit()
        server.stop()


def wait_for_the_plane(driver) -> None:
    """Wait until the first plane is drawn; on a busy machine press "whole plane" once if its first answer was lost.

    The plane's first answer can be dropped by the browser when the graph's own autosize event asks
    again before that answer arrives (the second call answers "no update"); a user then sees an empty
    plane and presses "whole plane". These tests are about the instruments, so they do the same.
    """

    def drawn(d):
        return "showing 600 of 600" in d.find_element(By.ID, planes.COUNT["a"]).text

    try:
        WebDriverWait(driver, 2 * TIMEOUT).until(drawn)
    except TimeoutException:
        driver.find_element(By.ID, planes.RESET).click()
        WebDriverWait(driver, TIMEOUT).until(drawn)


def wait_until(driver, condition):
    return WebDriverWait(driver, TIMEOUT).until(condition)


def faces(driver, selector: str) -> list:
    return driver.find_elements(By.CSS_SELECTOR, f"{selector} img.face")


def set_input(driver, element_id: str, value) -> None:
    box = driver.find_element(By.ID, element_id)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    box.clear()
    box.send_keys(str(value) + "\n")


def click_point(driver, index: int) -> int:
    """Click the ``index``-th drawn point of the first plane; return the row the decode panel names."""
    x, y = points(driver, GRAPH_A, index, 1)[0]
    click_plot(driver, GRAPH_A, x, y)
    text = (
        wait_until(driver, lambda d: re.match(r"point (\d+)", d.find_element(By.ID, decode.PANEL["a"]).text) and d)
        .find_element(By.ID, decode.PANEL["a"])
        .text
    )
    return int(re.match(r"point (\d+)", text).group(1))


def plane_trace(driver, name: str):
    """x of the plane's trace called ``name`` (None while it is not drawn)."""
    return plot_js(
        driver,
        GRAPH_A,
        f"(() => {{ const t = gd._fullData.find(t => t.name === '{name}'); return t ? Array.from(t.x) : null; }})()",
    )


def test_set_a_and_b_shows_k_images_per_path_the_distance_profile_and_the_path_on_the_plane(browser, runs_dir):
    start = click_point(browser, 10)
    button = browser.find_element(By.ID, paths.SET_A["a"])
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    wait_until(browser, lambda d: d.find_element(By.ID, paths.FROM).get_attribute("value") == str(start))
    end = 450 if start != 450 else 451
    set_input(browser, paths.TO, end)
    set_input(browser, paths.STEPS, 5)
    linear = f"#{paths.STRIPS['a']} .strip-row:nth-child(1)"
    spherical = f"#{paths.STRIPS['a']} .strip-row:nth-child(2)"
    wait_until(browser, lambda d: len(faces(d, linear)) == 5 and len(faces(d, spherical)) == 5)
    assert f"point {start} → point {end}, 5 steps" in browser.find_element(By.ID, paths.TITLE["a"]).text
    assert "NN" in browser.find_element(By.CSS_SELECTOR, linear).text
    # The profile under the strips: the nearest-data distance (and two more measures) at each of the 5 steps.
    profile = wait_until(
        browser,
        lambda d: plot_js(
            d, paths.PROFILE["a"], "gd._fullData && gd._fullData.length === 6 ? Array.from(gd._fullData[0].y) : null"
        ),
    )
    # A and B are not their own reference: the first and last step sit as far as their nearest other point.
    z = np.load(runs_dir / "ae" / "zpoints.npy").astype(np.float64)
    others = np.delete(z, [start, end], axis=0)
    assert len(profile) == 5
    assert profile[0] == pytest.approx(np.linalg.norm(others - z[start], axis=1).min(), rel=1e-4)
    assert profile[-1] == pytest.approx(np.linalg.norm(others - z[end], axis=1).min(), rel=1e-4)
    titles = plot_js(browser, paths.PROFILE["a"], "gd._fullLayout.annotations.map(a => a.text)")
    assert any("nearest data point" in t for t in titles)
    # The path is drawn on the plane, from A's position.
    drawn = wait_until(browser, lambda d: plane_trace(d, "linear path"))
    assert len(drawn) == 5


def test_a_compared_run_walks_the_same_two_images(browser):
    start = int(browser.find_element(By.ID, paths.FROM).get_attribute("value"))
    end = int(browser.find_element(By.ID, paths.TO).get_attribute("value"))
    wait_until(browser, lambda d: len(faces(d, f"#{paths.STRIPS['b']} .strip-row:nth-child(1)")) == 5)
    title = browser.find_element(By.ID, paths.TITLE["b"]).text
    assert title.startswith("vae (VAE)") and f"point {start} → point {end}" in title
    side_a = [img.get_attribute("src") for img in faces(browser, f"#{paths.STRIPS['a']}")]
    side_b = [img.get_attribute("src") for img in faces(browser, f"#{paths.STRIPS['b']}")]
    assert len(side_b) == 10 and side_a != side_b  # the other model decodes its own z of the same images


def test_selecting_a_point_shows_its_neighbours_images_and_rings_them_on_the_plane(browser):
    row = click_point(browser, 20)
    wait_until(browser, lambda d: d.find_element(By.ID, neighbours.ROW).get_attribute("value") == str(row))
    tiles = f"#{neighbours.TILES['a']}"
    wait_until(
        browser,
        lambda d: len(faces(d, tiles)) == 9 and f"point {row}" in d.find_element(By.ID, neighbours.TITLE["a"]).text,
    )
    captions = browser.find_element(By.CSS_SELECTOR, tiles).text
    assert re.search(r"\d+ · d [0-9.]+", captions)
    ringed = wait_until(browser, lambda d: plane_trace(d, "neighbours"))
    assert len(ringed) == 8
    assert "Jaccard" in browser.find_element(By.ID, neighbours.OVERLAP).text
    assert len(faces(browser, f"#{neighbours.TILES['b']}")) == 9
    # The tiles are the data's original images; the toggle shows the decoder's reconstructions instead.
    title = browser.find_element(By.ID, neighbours.TITLE["a"])
    assert title.text.endswith("· original images")
    originals = [img.get_attribute("src") for img in faces(browser, tiles)]
    browser.find_element(By.CSS_SELECTOR, f"#{neighbours.SHOW} input[value='reconstructions']").click()
    wait_until(browser, lambda d: d.find_element(By.ID, neighbours.TITLE["a"]).text.endswith("· reconstructions"))
    rebuilt = [img.get_attribute("src") for img in faces(browser, tiles)]
    assert len(rebuilt) == 9 and not set(rebuilt) & set(originals)
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []


def lattice_drawn(driver, side: str):
    """(image x, sizex, y, sizey, tile labels) of a side's drawn lattice (None while it is not drawn)."""
    return plot_js(
        driver,
        lattice.GRAPH[side],
        "(() => { const L = gd && gd._fullLayout; if (!L || !L.images || !L.images.length) return null;"
        " const i = L.images[0], t = gd._fullData.find(t => t.name === 'tile labels');"
        " return t && t.text ? [i.x, i.sizex, i.y, i.sizey, Array.from(t.text)] : null; })()",
    )


def test_the_decoded_lattice_over_a_zoomed_square_shows_both_runs_tiles_with_their_percentiles(browser):
    set_input(browser, planes.SQUARE_X, 0.25)
    set_input(browser, planes.SQUARE_Y, -0.25)
    set_input(browser, planes.SQUARE_SIDE, 1)
    browser.find_element(By.ID, planes.SQUARE_GO).click()
    for side in "ab":
        wait_until(
            browser,
            lambda d, side=side: (
                plot_js(d, planes.GRAPH[side], "gd._fullLayout.xaxis.range") == pytest.approx([-0.25, 0.75], abs=1e-6)
            ),
        )
    set_input(browser, lattice.SIZE, 3)
    button = browser.find_element(By.ID, lattice.DRAW)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    for side, run in (("a", "ae"), ("b", "vae")):
        x, width, top, height, labels = wait_until(browser, lambda d, side=side: lattice_drawn(d, side))
        # The mosaic covers exactly the zoomed square, in the plane's own coordinates.
        assert (x, width, top, height) == pytest.approx((-0.25, 1.0, 0.25, 1.0), abs=1e-6)
        assert len(labels) == 9 and all(0 <= int(label) <= 100 for label in labels)
        note = browser.find_element(By.ID, lattice.NOTE[side]).text
        assert note.startswith(f"{run}: 3 × 3 decodes over x -0.25 … 0.75, y -0.75 … 0.25")
        assert "nearest data point on the plane" in note and "tiles at the 99th or beyond" in note
    # Past 12 tiles per side: one line saying so, no traceback.
    set_input(browser, lattice.SIZE, 13)
    button.click()
    wait_until(browser, lambda d: "at most 12 tiles per side" in d.find_element(By.ID, lattice.NOTE["a"]).text)


def test_a_clicked_point_is_decoded_in_the_compared_run_too_with_distances_as_percentiles(browser):
    browser.find_element(By.ID, planes.RESET).click()
    wait_for_the_plane(browser)
    row = click_point(browser, 30)
    panel_b = wait_until(
        browser, lambda d: "the image clicked in ae" in d.find_element(By.ID, decode.PANEL["b"]).text and d
    ).find_element(By.ID, decode.PANEL["b"])
    assert panel_b.text.startswith(f"point {row} · id img{row:05d}")
    assert browser.find_element(By.CSS_SELECTOR, f"#{decode.PANEL['b']} img.face").get_attribute("src")
    assert re.search(r"data 5th–95th pct", browser.find_element(By.ID, decode.PANEL["a"]).text)
    wait_until(
        browser,
        lambda d: re.search(
            r"nearest other point: [0-9.]+ — \d+(st|nd|rd|th) percentile of the data's nearest-neighbour distances",
            d.find_element(By.ID, decode.NEAREST["a"]).text,
        ),
    )


def test_planes_in_nn_units_say_so_on_both_sides(browser):
    browser.find_element(By.CSS_SELECTOR, f"#{planes.UNITS} input[value='nn']").click()
    for side in "ab":
        wait_until(
            browser,
            lambda d, side=side: (
                "in median NN distances" in (plot_js(d, planes.GRAPH[side], "gd._fullLayout.xaxis.title.text") or "")
            ),
        )
    assert "units=nn" in browser.current_url
    browser.find_element(By.CSS_SELECTOR, f"#{planes.UNITS} input[value='z']").click()
    wait_until(browser, lambda d: plot_js(d, GRAPH_A, "gd._fullLayout.xaxis.title.text").startswith("PC 1 ("))
