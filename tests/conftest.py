"""Suite-wide hooks: say plainly when the browser tests did not run.

The README promises that ``make test`` includes the browser tests. On a machine
without Chromium they skip (CI sets ``ZSPACE_REQUIRE_BROWSER=1`` and fails
instead); this hook puts that fact and its remedy at the end of the summary,
where a skipped line among many would otherwise go unnoticed.
"""

from __future__ import annotations

BROWSER_NOTICE = (
    "browser tests skipped: install chromium and chromium-driver (apt-get install chromium chromium-driver)"
)


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    return str(longrepr[-1]) if isinstance(longrepr, tuple) else str(longrepr or "")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Write :data:`BROWSER_NOTICE` when browser tests were skipped because Chromium is missing."""
    from tools.browser import chromium_available

    skipped = terminalreporter.stats.get("skipped", [])
    # A module-level skip has no markers to look at, only its reason; a per-test skip has the browser marker.
    browser = [r for r in skipped if "browser" in getattr(r, "keywords", {}) or "chromium" in _skip_reason(r).lower()]
    if browser and not chromium_available():
        terminalreporter.write_sep("=", BROWSER_NOTICE, yellow=True, bold=True)
