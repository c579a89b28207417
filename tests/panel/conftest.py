"""The panel's browser tests drive the shared headless Chromium (tests/helpers/browser.py):
Debian's browser through its chromedriver, Selenium Manager never runs, off every network
but loopback, its network log (`performance`) kept for the tests to read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.browser import open_browser


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One selenium WebDriver for the module (skips when Chromium is absent)."""
    with open_browser(tmp_path_factory.mktemp("panel-browser") / "profile") as browser:
        browser.driver.set_window_size(1000, 900)  # the layout the tests' offsets assume
        browser.driver.get("about:blank")
        browser.driver.get_log("performance")  # the browser's own start-up (chrome://) pages
        yield browser.driver
