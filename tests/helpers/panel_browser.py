"""Helpers for the panel's browser tests (the browser itself: tests/helpers/browser.py,
opened by tests/panel/conftest.py).

Whether a browser test can run here, bounded waits for the page's elements and state after
every action (never a bare lookup: under load the page renders late), and the network
events of Chrome's performance log.
"""

from __future__ import annotations

from collections.abc import Callable
import json
from typing import Any

from tests.helpers.browser import POLL, WAIT_TIMEOUT, find_browser
from tests.helpers.waiting import poll_until


def unavailable_reason() -> str | None:
    """Why no browser test can run here (None when one can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (requirements_test.txt)"
    if find_browser() is None:
        return "no chromium or chromedriver (apt-get install chromium chromium-driver)"
    return None


def wait_for[T](
    check: Callable[[], T | None], timeout: float = WAIT_TIMEOUT, what: str = "the page"
) -> T:
    """Poll `check` (driver calls) until it returns a truthy value; AssertionError on timeout.
    An element not there yet, stale or not yet clickable counts as "not yet"."""
    # Any error: the element is not there yet, stale, or covered.
    return poll_until(check, timeout, what, POLL, (Exception,))


def shown(driver: Any, by: str, value: str, what: str = "", within: Any = None) -> Any:
    """The first element `by`/`value` finds (below `within`, default the page) once it is
    displayed and enabled."""

    def look() -> Any:
        for element in (within or driver).find_elements(by, value):
            if element.is_displayed() and element.is_enabled():
                return element
        return None

    return wait_for(look, what=what or f"{value!r} on the page")


def click(driver: Any, by: str, value: str, what: str = "", within: Any = None) -> None:
    """Click the element `by`/`value` finds once it is shown; again when a re-render
    replaced it or something still covered it."""
    wait_for(
        lambda: shown(driver, by, value, what, within).click() or True,
        what=what or f"a click on {value!r}",
    )


def network_log(driver: Any) -> list[dict[str, Any]]:
    """The Chrome DevTools network events since the last call (performance log)."""
    events = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method", "").startswith("Network."):
            events.append(message)
    return events
