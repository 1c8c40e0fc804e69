"""Screenshots of the main views from headless Chromium, for the README (``make screenshots``).

``python -m tools.screenshots [--runs data/runs] [--out docs/screenshots]`` serves
the dashboard on a free loopback port, opens every view, clicks a point so the
decode panel is filled, and saves one PNG per view.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rundir.errors import ZspaceError

WIDTH, HEIGHT = 1280, 900
_SINGLE = "document.querySelector('.page.single') !== null"
_PLOTTED = "((document.querySelector('#{0} .js-plotly-plot') || {{}}).data || []).length > 0"
#: view name (in tab order) -> JavaScript that is true once the view has drawn everything, both runs when compared
VIEWS = {
    "planes": (
        "document.getElementById('plane-count-a').textContent.length > 0 && document.querySelector('#colour-by')"
        f".textContent.length > 0 && ({_SINGLE} || document.getElementById('plane-count-b').textContent.length > 0)"
    ),
    "density": "document.querySelectorAll('#axis-table td').length > 0",
    "radius": _PLOTTED.format("radius-graph"),
    "pca": _PLOTTED.format("pca-graph"),
    "sampling": (
        "document.querySelectorAll('#sample-grid-a img').length > 0 && "
        f"({_SINGLE} || document.querySelectorAll('#sample-grid-b img').length > 0)"
    ),
    "model": (
        f"document.querySelector('#model-panel-a h3') !== null && ({_SINGLE} || "
        "document.querySelector('#model-panel-b h3') !== null)"
    ),
}


def _wait(driver, condition, timeout: float = 60) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(condition)


def _settle(driver, ready_js: str) -> None:
    # Wait until the view's own content is there, then give plotly a moment to draw it.
    _wait(driver, lambda d: d.execute_script(f"return {ready_js};"))
    time.sleep(1.5)


def take_screenshots(runs_dir: Path, out_dir: Path) -> list[Path]:
    """Save one PNG per view of the dashboard for ``runs_dir`` into ``out_dir``; return their paths."""
    from selenium.webdriver.common.by import By

    from app.factory import create_app
    from tools.browser import BackgroundServer, chrome_driver, chromium_available, click_plot, points

    if not chromium_available():
        raise ZspaceError("screenshots need /usr/bin/chromium and /usr/bin/chromedriver")
    out_dir.mkdir(parents=True, exist_ok=True)
    server = BackgroundServer(create_app(runs_dir).server)
    driver = chrome_driver(WIDTH, HEIGHT)
    saved = []
    try:
        driver.get(server.url)
        _wait(
            driver,
            lambda d: "showing" in d.find_element(By.ID, "plane-count-a").text or d.find_elements(By.ID, "empty-state"),
        )
        if driver.find_elements(By.ID, "empty-state"):
            raise ZspaceError(f"no usable runs in {runs_dir}; run `make demo` first")
        _settle(driver, VIEWS["planes"])
        first = points(driver, "plane-graph-a", 0, 1)
        if first:
            click_plot(driver, "plane-graph-a", *first[0])
            _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#decode-panel-a img.face"))
        for position, (name, ready_js) in enumerate(VIEWS.items(), start=1):
            driver.find_element(By.CSS_SELECTOR, f"#tabs .tab:nth-child({position})").click()
            _settle(driver, ready_js)
            driver.execute_script("window.scrollTo(0, 0);")
            shots = [(name, None)] + ([("decode", "decode-panel-a")] if name == "planes" else [])
            for shot, element_id in shots:
                if element_id:  # the click-to-decode panel sits under the plot: scroll it into view
                    driver.execute_script(f"document.getElementById('{element_id}').scrollIntoView({{block: 'end'}});")
                    time.sleep(0.5)
                path = out_dir / f"{shot}.png"
                driver.save_screenshot(str(path))
                saved.append(path)
                print(f"saved {path}", flush=True)
    finally:
        driver.quit()
        server.stop()
    return saved


def main(argv: list[str] | None = None) -> int:
    """Command line of ``python -m tools.screenshots``."""
    parser = argparse.ArgumentParser(prog="python -m tools.screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="data/runs", help="runs folder to show (default data/runs)")
    parser.add_argument("--out", default="docs/screenshots", help="where to write the PNGs (default docs/screenshots)")
    args = parser.parse_args(argv)
    try:
        take_screenshots(Path(args.runs), Path(args.out))
    except ZspaceError as exc:
        print(f"screenshots: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
