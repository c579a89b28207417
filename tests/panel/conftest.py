"""A headless Chromium (Debian's, through its chromedriver) for the panel's browser tests.

Selenium Manager never runs: the driver and the browser are the system's. The browser is
kept off every network but loopback (no background services; host names do not resolve)
and records its network log (`performance`) for the tests to read.
"""

from __future__ import annotations

from collections.abc import Iterator
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def driver() -> Iterator[object]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium-driver)")
    from pytest_socket import enable_socket
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # Module-scoped: set up before the per-test socket permission (root conftest.py).
    enable_socket()

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # tests run as root in a container
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1000,900",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(20)
    try:
        yield browser
    finally:
        enable_socket()  # the last test's socket permission has ended by now
        browser.quit()
