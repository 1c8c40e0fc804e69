"""Screenshots of every view from headless Chromium, for the README (``make screenshots``).

``python -m tools.screenshots [--runs data/runs] [--out docs/screenshots] [--only VIEW,VIEW]``
serves the dashboard on a free loopback port and walks the view registry
(:data:`app.views.VIEWS`): for each view of a tab it opens the tab, does what a
user would do to fill it (see :data:`PREPARE`), waits until nothing is loading
and saves ``<view>.png`` with the view's section at the top.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rundir.errors import ZspaceError
from rundir.layout import DEFAULT_RUNS

WIDTH, HEIGHT = 1280, 900
#: True while any Dash component is waiting for a callback, or a plot has not drawn yet.
BUSY_JS = (
    "document.querySelector('[data-dash-is-loading=\"true\"]') !== null || "
    "Array.from(document.querySelectorAll('.js-plotly-plot')).some(g => g.offsetParent !== null && !g._fullLayout)"
)


def _wait(driver, condition, timeout: float = 90, watched: str | None = None) -> None:
    """Wait until ``condition(driver)``; on a timeout say what the element ``watched`` shows instead."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        WebDriverWait(driver, timeout).until(condition)
    except TimeoutException:
        if watched is None:
            raise
        shown = " ".join(driver.find_element(By.ID, watched).text.split())[:300]
        raise ZspaceError(f"waited {timeout:.0f} s for #{watched}; it shows: {shown or '(nothing)'}") from None


def _settle(driver) -> None:
    # Twice quiet, a moment apart: a callback's answer often starts the next callback.
    for _ in range(2):
        _wait(driver, lambda d: not d.execute_script(f"return {BUSY_JS};"))
        time.sleep(1.0)


def _click_a_point(driver) -> None:
    from selenium.webdriver.common.by import By

    from app.views import decode, planes
    from tools.browser import click_plot

    target = _free_point(driver, planes.GRAPH["a"])
    if not target:
        raise ZspaceError("no z-point in the middle of the plane to click for the decode screenshot")
    click_plot(driver, planes.GRAPH["a"], *target)
    _wait(
        driver,
        lambda d: d.find_elements(By.CSS_SELECTOR, f"#{decode.PANEL['a']} img.face"),
        watched=decode.PANEL["a"],
    )


#: A shown z-point in the middle of the plot (away from the mode bar and the edges) and outside every
#: drawn selection box: a click there reaches the point, not the box that the selection view left on the plane.
FREE_POINT_JS = (
    "(() => { const L = gd._fullLayout, t = gd._fullData.find(t => t.type === 'scattergl');"
    " const boxes = (gd.layout.selections || []).filter(b => b.type === 'rect' || b.x0 !== undefined);"
    " for (let k = 0; k < t.x.length; k++) {"
    "   const px = L.xaxis.l2p(t.x[k]) / L._size.w, py = L.yaxis.l2p(t.y[k]) / L._size.h;"
    "   if (px < 0.15 || px > 0.85 || py < 0.15 || py > 0.85) continue;"
    "   const inside = boxes.some(b => Math.min(b.x0, b.x1) <= t.x[k] && t.x[k] <= Math.max(b.x0, b.x1)"
    "     && Math.min(b.y0, b.y1) <= t.y[k] && t.y[k] <= Math.max(b.y0, b.y1));"
    "   if (!inside) return [t.x[k], t.y[k]];"
    " } return null; })()"
)


def _free_point(driver, graph_id: str) -> list[float] | None:
    """Data coordinates of a z-point a click reaches (see :data:`FREE_POINT_JS`), or None."""
    from tools.browser import plot_js

    return plot_js(driver, graph_id, FREE_POINT_JS)


def _type(driver, element_id: str, value) -> None:
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.ID, element_id)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    box.clear()
    box.send_keys(f"{value}\n")


def _walk_a_path(driver) -> None:
    from selenium.webdriver.common.by import By

    from app.views import paths

    # Rows 0 and 1: two independently drawn faces, so the path between them crosses z-space.
    _type(driver, paths.FROM, 0)
    _type(driver, paths.TO, 1)
    _type(driver, paths.STEPS, 10)
    _wait(
        driver,
        lambda d: len(d.find_elements(By.CSS_SELECTOR, f"#{paths.STRIPS['a']} img.face")) == 20,
        watched=paths.STRIPS["a"],
    )


def _show_neighbours(driver) -> None:
    from selenium.webdriver.common.by import By

    from app.views import neighbours

    _type(driver, neighbours.ROW, 0)
    _wait(
        driver,
        lambda d: d.find_elements(By.CSS_SELECTOR, f"#{neighbours.TILES['a']} img.face"),
        watched=neighbours.TILES["a"],
    )


def _build_a_filter(driver) -> None:
    # The first numeric column of the run, above 0: a condition any runs folder's metadata can take.
    from selenium.webdriver.common.by import By

    from app.views import filters
    from tools.browser import choose_option

    choose_option(driver, filters.COLUMN, "(number)")
    choose_option(driver, filters.OPERATOR, ">")
    driver.find_element(By.ID, filters.VALUE).send_keys("0")
    driver.find_element(By.ID, filters.ADD).click()
    _wait(driver, lambda d: "rows match" in d.find_element(By.ID, filters.COUNT["a"]).text)


def _select_a_box(driver) -> None:
    # A box over the middle of the first plane, dragged with the mouse in select mode, as a user would.
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.by import By

    from app.views import planes, selection
    from tools.browser import plot_js

    graph = planes.GRAPH["a"]
    plot_js(driver, graph, "Plotly.relayout(gd, {dragmode: 'select'})")
    driver.execute_script(f"document.getElementById('{graph}').scrollIntoView({{block: 'center'}});")
    left, top, width, height = plot_js(
        driver,
        graph,
        "(() => { const r = gd.getBoundingClientRect(), s = gd._fullLayout._size;"
        " return [r.left + s.l, r.top + s.t, s.w, s.h]; })()",
    )
    actions = ActionBuilder(driver)
    actions.pointer_action.move_to_location(int(left + width / 3), int(top + height / 3)).pointer_down()
    for step in range(1, 6):
        reach = (1 + step / 5) / 3
        actions.pointer_action.move_to_location(int(left + width * reach), int(top + height * reach))
    actions.pointer_action.pointer_up()
    actions.perform()
    _wait(driver, lambda d: "selected here" in d.find_element(By.ID, selection.COUNT["a"]).text)
    plot_js(driver, graph, "Plotly.relayout(gd, {dragmode: 'zoom'})")  # the next views click the plane


def _pick_an_attribute(driver) -> None:
    from selenium.webdriver.common.by import By

    from app.views import attributes
    from tools.browser import choose_option

    # The run's first metadata column (the plane's attribute number 0), walked from the selected point.
    choose_option(driver, attributes.COLUMN, "(plane x = 0)")
    _wait(
        driver,
        lambda d: d.find_elements(By.CSS_SELECTOR, f"#{attributes.STRIP['a']} img.face"),
        watched=attributes.STRIP["a"],
    )


def _draw_a_lattice(driver) -> None:
    # An 8 x 8 lattice over the plane as it is shown, for both runs.
    from selenium.webdriver.common.by import By

    from app.views import lattice
    from tools.browser import plot_js

    box = driver.find_element(By.ID, lattice.SIZE)
    box.clear()
    box.send_keys("8")
    driver.find_element(By.ID, lattice.DRAW).click()
    _wait(
        driver,
        lambda d: plot_js(d, lattice.GRAPH["a"], "gd && gd._fullLayout && gd._fullLayout.images.length > 0"),
        watched=lattice.NOTE["a"],
    )


#: view name -> what a user does before that view shows something worth a picture.
PREPARE = {
    "lattice": _draw_a_lattice,
    "decode": _click_a_point,
    "paths": _walk_a_path,
    "neighbours": _show_neighbours,
    "attributes": _pick_an_attribute,
    "filters": _build_a_filter,
    "selection": _select_a_box,
}


def take_screenshots(runs_dir: Path, out_dir: Path, only: set[str] | None = None) -> list[Path]:
    """Save one PNG per view of the dashboard for ``runs_dir`` into ``out_dir``; return their paths.

    ``only``: the names of the views to take (default every view); the sweep and epoch views need a runs
    folder with a sweep and snapshots, the others the demo runs.
    """
    from selenium.webdriver.common.by import By

    from app.factory import create_app
    from app.views import ABOVE_TABS, VIEWS, planes, tabs
    from tools.browser import BackgroundServer, chrome_driver, chromium_available

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
            lambda d: (
                "showing" in d.find_element(By.ID, planes.COUNT["a"]).text or d.find_elements(By.ID, "empty-state")
            ),
        )
        if driver.find_elements(By.ID, "empty-state"):
            raise ZspaceError(f"no usable runs in {runs_dir}; run `make demo` first")
        for view in VIEWS:
            if view.tab is ABOVE_TABS:  # a link line and a progress bar: nothing worth a picture of its own
                continue
            if only is not None and view.name not in only:
                continue
            name = view.name
            driver.find_element(By.CSS_SELECTOR, f"#tabs .tab:nth-child({tabs().index(view.tab) + 1})").click()
            _settle(driver)
            if name in PREPARE:
                PREPARE[name](driver)
                _settle(driver)
            driver.execute_script(f"document.getElementById('view-{name}').scrollIntoView({{block: 'start'}});")
            time.sleep(0.5)
            path = out_dir / f"{name}.png"
            driver.save_screenshot(str(path))
            saved.append(path)
            print(f"saved {path}", flush=True)
    finally:
        driver.quit()
        server.stop()
    return saved


def _views():
    from app.views import VIEWS

    return VIEWS


def main(argv: list[str] | None = None) -> int:
    """Command line of ``python -m tools.screenshots``."""
    parser = argparse.ArgumentParser(prog="python -m tools.screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=DEFAULT_RUNS, help=f"runs folder to show (default {DEFAULT_RUNS})")
    parser.add_argument("--out", default="docs/screenshots", help="where to write the PNGs (default docs/screenshots)")
    parser.add_argument("--only", help="comma-separated view names to take (default every view)")
    args = parser.parse_args(argv)
    try:
        only = None
        if args.only:
            only = set(args.only.split(","))
            unknown = only - {view.name for view in _views()}
            if unknown:
                raise ZspaceError(f"--only names no view {', '.join(sorted(unknown))}")
        take_screenshots(Path(args.runs), Path(args.out), only)
    except ZspaceError as exc:
        print(f"screenshots: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
