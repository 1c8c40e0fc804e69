"""Opening the page (issue 21): few requests, compressed answers, and no callback that answers what the page shows.

One page load in headless Chromium with its network log (Chromium's performance
log): the dashboard of the shared tiny runs, AE compared with VAE.
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from app.views import planes
from tools.browser import BackgroundServer, chrome_driver, network_log, require_chromium, response_text

pytestmark = pytest.mark.browser

require_chromium()

from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

#: The issue's goals for opening the page: callback requests and bytes over the wire.
MAX_CALLBACKS = 10
MAX_BYTES = 2.5 * 2**20
#: Compression is only worth it above this size (flask-compress's own floor).
COMPRESSED_FROM = 500


@pytest.fixture(scope="module")
def opened(runs_dir, tmp_path_factory):
    """The network log of one page load until both planes are drawn, each callback's answer, and the layout."""
    from app.factory import create_app

    server = BackgroundServer(create_app(runs_dir, cache_dir=tmp_path_factory.mktemp("load-cache")).server)
    driver = chrome_driver(1280, 800, network=True)
    try:
        driver.get(server.url)
        drawn = lambda d: all(  # noqa: E731
            "in view"
            in d.execute_script(f"return (document.getElementById('{planes.COUNT[s]}') || {{}}).textContent || ''")
            for s in "ab"
        )
        WebDriverWait(driver, 60, poll_frequency=0.1).until(drawn)
        time.sleep(1.5)  # anything a drawing sets off (a relayout, a chained callback) has been sent by then
        fetched = network_log(driver)
        answers = {f.request_id: json.loads(response_text(driver, f) or "{}") for f in fetched if f.callback}
        with urllib.request.urlopen(server.url + "_dash-layout") as response:  # noqa: S310 - loopback
            layout = json.loads(response.read())
        yield fetched, answers, layout
    finally:
        driver.quit()
        server.stop()


def test_opening_the_page_makes_few_callback_requests_and_all_of_it_comes_compressed(opened):
    fetched, _, _ = opened
    callbacks = [f for f in fetched if f.callback]
    assert 2 <= len(callbacks) <= MAX_CALLBACKS, [f.outputs() for f in callbacks]
    # One request per plane: each side's first figure comes whole, not from a chain of callbacks.
    for side in "ab":
        assert sum(f"{planes.GRAPH[side]}.figure" in f.outputs() for f in callbacks) == 1
    plotly = [f for f in fetched if f.url.split("?")[0].endswith("plotly.min.js")]
    assert len(plotly) == 1 and plotly[0].encoding in ("br", "gzip")
    assert plotly[0].transferred < 2.0 * 2**20  # 4.8 MB uncompressed
    big = [f for f in fetched if f.status == 200 and f.transferred > COMPRESSED_FROM and "favicon" not in f.url]
    assert [f.url for f in big if f.encoding not in ("br", "gzip", "zstd")] == []
    assert any(f.callback and f.encoding for f in fetched)  # the planes' figures are compressed too
    assert sum(f.transferred for f in fetched) <= MAX_BYTES


def components(node, found: dict) -> dict:
    """``{id: props}`` of every component in a ``/_dash-layout`` tree."""
    if isinstance(node, list):
        for child in node:
            components(child, found)
    elif isinstance(node, dict):
        props = node.get("props", {})
        if "id" in props:
            found[props["id"]] = props
        components(props.get("children"), found)
    return found


def test_no_callback_at_load_answers_what_the_layout_already_shows(opened):
    fetched, answers, layout = opened
    initial = components(layout, {})
    same = []
    for f in fetched:
        if not f.callback:
            continue
        answer = answers[f.request_id].get("response", {})
        assert answer, f"a callback at load changed nothing: {f.outputs()}"
        for component, props in answer.items():
            for prop, value in props.items():
                if value == initial.get(component, {}).get(prop):
                    same.append(f"{component}.{prop}")
    assert same == []


def test_each_plane_comes_as_float32_typed_arrays_without_per_point_text(opened):
    fetched, answers, _ = opened
    for side in "ab":
        (plane,) = [f for f in fetched if f.callback and f"{planes.GRAPH[side]}.figure" in f.outputs()]
        figure = answers[plane.request_id]["response"][planes.GRAPH[side]]["figure"]
        (points,) = [trace for trace in figure["data"] if trace["type"] == "scattergl"]
        assert points["x"]["dtype"] == points["y"]["dtype"] == "f4" and "bdata" in points["x"]
        assert points["customdata"]["dtype"] == "i4"
        assert "text" not in points and "hovertext" not in points  # one hover template, no text per point
