"""Helpers for the panel's browser tests (the browser itself: tests/panel/conftest.py).

Whether a browser test can run here, polling the page for a condition, and the network
events of Chrome's performance log.
"""

from __future__ import annotations

from collections.abc import Callable
import json
import shutil
import time
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def unavailable_reason() -> str | None:
    """Why no browser test can run here (None when one can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (requirements_test.txt)"
    if not any(shutil.which(name) for name in CHROMIUM_NAMES):
        return "no chromium binary (apt-get install chromium)"
    if shutil.which("chromedriver") is None:
        return "no chromedriver (apt-get install chromium-driver)"
    return None


def wait_for[T](check: Callable[[], T | None], timeout: float = 10.0, what: str = "the page") -> T:
    """Poll `check` (driver calls) until it returns a truthy value; AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception as err:  # the element is not there yet, or stale
            last, value = err, None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last error: {last})")


def network_log(driver: Any) -> list[dict[str, Any]]:
    """The Chrome DevTools network events since the last call (performance log)."""
    events = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method", "").startswith("Network."):
            events.append(message)
    return events
