"""Headless Chromium and a background server, for the screenshots script and the browser tests."""

from __future__ import annotations

import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
#: Without the networking flags Chromium keeps trying to reach Google's services and floods a closed network.
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # Scattergl needs WebGL; headless Chromium only has SwiftShader, which it now wants an explicit opt-in for.
    "--enable-unsafe-swiftshader",
)


def chromium_available() -> bool:
    """True when both Chromium and its driver are installed where we look for them."""
    return Path(CHROMEDRIVER).exists() and (Path(CHROMIUM).exists() or shutil.which("chromium") is not None)


def require_chromium() -> None:
    """At the top of a browser test module: skip it without Chromium, or fail under ``ZSPACE_REQUIRE_BROWSER=1`` (CI)."""
    if chromium_available():
        return
    if os.environ.get("ZSPACE_REQUIRE_BROWSER") == "1":
        raise RuntimeError("ZSPACE_REQUIRE_BROWSER=1 but /usr/bin/chromium or /usr/bin/chromedriver is missing")
    import pytest

    pytest.skip("Chromium / chromedriver not installed", allow_module_level=True)


def chrome_driver(width: int = 1280, height: int = 800, network: bool = False):
    """Start headless Chromium with its console log captured (``driver.get_log("browser")``).

    With ``network`` its performance log is captured too, which :func:`network_log` reads.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", **({"performance": "ALL"} if network else {})})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@dataclass
class Fetched:
    """One HTTP request of the page, as Chromium's performance log tells it."""

    url: str
    method: str
    body: str = ""
    request_id: str = ""
    status: int | None = None
    encoding: str = ""
    #: Bytes that came over the wire (headers and the possibly compressed body).
    transferred: int = 0
    started: float = 0.0
    finished: float | None = None

    @property
    def callback(self) -> bool:
        """True for a Dash callback request."""
        return self.url.split("?", 1)[0].endswith("/_dash-update-component")

    def outputs(self) -> str:
        """A callback request's ``output`` (the ids and properties it updates), else ''."""
        return json.loads(self.body).get("output", "") if self.callback and self.body else ""


def network_log(driver) -> list[Fetched]:
    """Every request since the last call, read from a :func:`chrome_driver` started with ``network=True``.

    Reading the log empties it, so consecutive calls see consecutive requests.
    """
    fetched: dict[str, Fetched] = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params, method = message.get("params", {}), message.get("method", "")
        key = params.get("requestId")
        if method == "Network.requestWillBeSent" and not params["request"]["url"].startswith("data:"):
            request = params["request"]
            fetched[key] = Fetched(
                request["url"], request["method"], request.get("postData", ""), key, started=params["timestamp"]
            )
        elif key in fetched and method == "Network.responseReceived":
            response = params["response"]
            headers = {name.lower(): value for name, value in response.get("headers", {}).items()}
            fetched[key].status, fetched[key].encoding = response["status"], headers.get("content-encoding", "")
        elif key in fetched and method == "Network.loadingFinished":
            fetched[key].transferred, fetched[key].finished = int(params["encodedDataLength"]), params["timestamp"]
    return list(fetched.values())


def response_text(driver, fetched: Fetched) -> str:
    """The (decompressed) body of a request :func:`network_log` reported, while the page still holds it."""
    return driver.execute_cdp_cmd("Network.getResponseBody", {"requestId": fetched.request_id})["body"]


class BackgroundServer:
    """Serve a Flask/Dash server on a free loopback port from a thread; ``stop()`` shuts it down."""

    def __init__(self, flask_app):
        import logging

        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request drowns the test output

        self._server = make_server("127.0.0.1", 0, flask_app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.shutdown()
        self._thread.join(timeout=10)


def plot_js(driver, graph_id: str, expression: str):
    """Evaluate ``expression`` with ``gd`` bound to the plotly div of a dcc.Graph."""
    script = f"const gd = document.querySelector('#{graph_id} .js-plotly-plot'); return {expression};"
    return driver.execute_script(script)


def drawn(driver, graph_id: str) -> bool:
    """True once the plot of a dcc.Graph is drawn with its traces (Plotly loads after the first answers arrive)."""
    script = f"const gd = document.querySelector('#{graph_id} .js-plotly-plot'); return !!(gd && gd._fullData && gd._fullData.length);"
    return bool(driver.execute_script(script))


def points(driver, graph_id: str, first: int, count: int) -> list[list[float]]:
    """[[x, y], ...] of shown z-points ``first .. first+count`` (plotly has decoded the typed arrays)."""
    return plot_js(
        driver,
        graph_id,
        "(() => { const t = gd._fullData.find(t => t.type === 'scattergl');"
        f" return Array.from(t.x).slice({first}, {first + count}).map((x, k) => [x, t.y[{first} + k]]); }})()",
    )


def click_plot(driver, graph_id: str, x: float, y: float) -> None:
    """Click the plot at data coordinates (x, y), like a user (a real mouse event at that pixel)."""
    driver.execute_script(f"document.getElementById('{graph_id}').scrollIntoView({{block: 'center'}});")
    left, top = plot_js(
        driver,
        graph_id,
        "(() => { const r = gd.getBoundingClientRect(), L = gd._fullLayout;"
        f" return [r.left + L._size.l + L.xaxis.l2p({x!r}), r.top + L._size.t + L.yaxis.l2p({y!r})]; }})()",
    )
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    actions = ActionBuilder(driver)
    actions.pointer_action.move_to_location(int(left), int(top)).click()
    actions.perform()


def choose_option(driver, dropdown_id: str, text: str, timeout: float = 30) -> None:
    """Open a ``dcc.Dropdown`` and click the option whose label contains ``text``, as a user would."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.ID, dropdown_id).click()

    def option(d):
        found = [o for o in d.find_elements(By.CSS_SELECTOR, "[role=option]") if text in o.text]
        return found[0] if found else False

    WebDriverWait(driver, timeout).until(option).click()
