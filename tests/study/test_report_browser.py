"""The report in headless Chromium with networking off: every figure renders, every image loads, no console error.

Without Chromium these tests skip, except when ``ZSPACE_REQUIRE_BROWSER=1`` (CI), where they fail.
"""

from __future__ import annotations

import pytest

from tools.browser import chrome_driver, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

require_chromium()


def test_report_opens_offline_with_every_figure(report_dir):
    from selenium.webdriver.support.ui import WebDriverWait

    page = report_dir / "report.html"
    expected = page.read_text(encoding="utf-8").count('class="plotly-graph-div"')
    driver = chrome_driver(1280, 900)
    try:
        driver.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
        driver.get(page.as_uri())
        WebDriverWait(driver, 60).until(
            lambda d: d.execute_script("return document.querySelectorAll('.js-plotly-plot').length") == expected
        )
        with_data = driver.execute_script(
            "return Array.from(document.querySelectorAll('.js-plotly-plot'))"
            ".filter(gd => gd.data && gd.data.length > 0 && gd.querySelector('.main-svg')).length"
        )
        images = driver.execute_script(
            "const imgs = Array.from(document.images); return [imgs.length, imgs.filter(i => i.complete && i.naturalWidth > 0).length]"
        )
        severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    finally:
        driver.quit()
    assert expected >= 14
    assert with_data == expected
    assert images[0] > 0 and images[1] == images[0]
    assert severe == []
