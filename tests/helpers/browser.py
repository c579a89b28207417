"""A real browser for end-to-end tests: the system's headless Chromium driven by selenium
through the system's chromedriver.

Nothing is downloaded: both paths are passed explicitly, so Selenium Manager never runs.
Tests call `require_browser()` (or use `open_browser`, which does) and are skipped with a
message naming the Debian packages when either program is missing.

Pages built from web components keep their elements in shadow roots, which CSS selectors
and WebDriver's own finders do not cross; `Browser.query` walks every open shadow root.
Every wait is bounded (`wait_until`), and the browser's console errors and network log are
collected for the whole session (`console_errors`, `network_failures`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import contextlib
from dataclasses import dataclass
import json
import logging
import os
from pathlib import Path
import shutil
from typing import Any, Final, TypeVar

import pytest
from pytest_socket import enable_socket
from selenium import webdriver
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    StaleElementReferenceException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webelement import WebElement

from tests.helpers.waiting import poll_until

T = TypeVar("T")

# Every WebDriver command is a logged HTTP request: thousands of lines per test otherwise.
for _name in ("selenium", "urllib3.connectionpool"):
    logging.getLogger(_name).setLevel(logging.WARNING)

BROWSER_NAMES: Final = ("chromium", "chromium-browser")
DRIVER_NAMES: Final = ("chromedriver",)
MISSING: Final = (
    "needs headless Chromium and its chromedriver (Debian: chromium, chromium-driver;"
    " scripts/install-test-deps installs them)"
)
WAIT_TIMEOUT: Final = 30.0
"""Seconds a condition in the page may take by default: generous, as two test suites may
share two cores."""
POLL: Final = 0.1
"""Seconds between two looks at the page while waiting."""
PROBE_HEADER: Final = "X-Browser-Test-Probe"
"""Marks the test's own requests from the page, which the network log leaves out."""

# Every element matching a selector in `root` (default: the document) and in the shadow
# roots below it, in document order; `root` may be an element, whose own shadow root counts.
_QUERY_ALL: Final = """
const [selector, start] = arguments;
const found = [];
const roots = [start || document];
if (start && start.shadowRoot) roots.push(start.shadowRoot);
while (roots.length) {
  const root = roots.shift();
  for (const el of root.querySelectorAll(selector)) found.push(el);
  for (const el of root.querySelectorAll("*")) if (el.shadowRoot) roots.push(el.shadowRoot);
}
return found;
"""

# A digest of the pixels an img, video or canvas shows, drawn at 64x36 (null: no picture).
_FINGERPRINT: Final = """
function fingerprint(el) {
  const ready = el.tagName === "VIDEO" ? el.readyState >= 2
    : el.tagName === "IMG" ? el.complete && el.naturalWidth > 0 : true;
  if (!ready) return null;
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 36;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(el, 0, 0, 64, 36);
  const px = ctx.getImageData(0, 0, 64, 36).data;
  let h1 = 0x811c9dc5, h2 = 0;
  for (let i = 0; i < px.length; i++) {
    h1 = Math.imul(h1 ^ px[i], 16777619) >>> 0;
    h2 = (h2 + px[i]) >>> 0;
  }
  return h1.toString(16) + ":" + h2;
}
"""


@dataclass(frozen=True, slots=True)
class BrowserPaths:
    """Where the system's browser and its WebDriver are."""

    browser: str
    driver: str


def find_browser() -> BrowserPaths | None:
    """Chromium and chromedriver on PATH, or None when either is missing."""
    browser = next((p for name in BROWSER_NAMES if (p := shutil.which(name))), None)
    driver = next((p for name in DRIVER_NAMES if (p := shutil.which(name))), None)
    return BrowserPaths(browser, driver) if browser and driver else None


def require_browser() -> BrowserPaths:
    """The browser's paths; skips the calling test with a clear message when absent."""
    paths = find_browser()
    if paths is None:
        pytest.skip(MISSING)
    return paths


@dataclass(frozen=True, slots=True)
class NetworkEntry:
    """One request the page made: its URL, the HTTP status (None when it never got an
    answer) and the network error (e.g. "net::ERR_CONNECTION_REFUSED") if it failed."""

    url: str
    status: int | None
    error: str | None = None

    @property
    def failed(self) -> bool:
        """An HTTP error status, or no answer at all."""
        return self.error is not None or (self.status is not None and self.status >= 400)


class Browser:
    """A selenium session with shadow-DOM queries, bounded waits and collected logs."""

    def __init__(self, driver: webdriver.Chrome) -> None:
        self.driver = driver
        self._console: list[dict[str, Any]] = []
        self._requests: dict[str, str] = {}
        self._network: dict[str, NetworkEntry] = {}
        self._probes: set[str] = set()

    # --- waiting and querying ---------------------------------------------------------------

    def wait_until(
        self, check: Callable[[], T | None], timeout: float = WAIT_TIMEOUT, what: str = ""
    ) -> T:
        """Poll `check` until it returns something truthy and return that; fail the test
        after `timeout` seconds. An element that went stale while looking counts as "not
        yet" (the page re-rendered it)."""
        return poll_until(
            check, timeout, what or str(check), POLL, (StaleElementReferenceException,)
        )

    def js(self, script: str, *args: Any) -> Any:
        """Run `script` (a function body; `arguments` holds `args`) and return its value."""
        return self.driver.execute_script(script, *args)

    def js_async(self, script: str, *args: Any) -> Any:
        """Await the promise `script` returns (a function body) and return its value; a
        rejection fails the test with its message."""
        wrapped = (
            "const done = arguments[arguments.length - 1];"
            f"Promise.resolve((async () => {{ {script} }})(...arguments))"
            ".then(value => done({value}), err => done({error: String(err && (err.message"
            " || JSON.stringify(err)) || err)}));"
        )
        result = self.driver.execute_async_script(wrapped, *args)
        if "error" in result:
            raise AssertionError(f"script failed in the page: {result['error']}")
        return result.get("value")

    def query_all(self, selector: str, within: WebElement | None = None) -> list[WebElement]:
        """Elements matching the CSS `selector` anywhere below `within` (default: the whole
        page), through shadow roots."""
        found: list[WebElement] = self.js(_QUERY_ALL, selector, within)
        return found

    def query(self, selector: str, within: WebElement | None = None) -> WebElement | None:
        """The first element matching `selector` through shadow roots, or None."""
        found = self.query_all(selector, within)
        return found[0] if found else None

    def wait_for(
        self,
        selector: str,
        within: WebElement | None = None,
        timeout: float = WAIT_TIMEOUT,
        visible: bool = True,
    ) -> WebElement:
        """The first element matching `selector` (shown on the page, unless `visible` is
        False), once there is one."""

        def look() -> WebElement | None:
            for element in self.query_all(selector, within):
                if not visible or element.is_displayed():
                    return element
            return None

        return self.wait_until(look, timeout, f"{selector!r} on the page")

    def click(self, element: WebElement, timeout: float = WAIT_TIMEOUT) -> None:
        """A real mouse click on `element` (scrolled into view first), retried while
        something else still covers it (a launch screen or a closing dialog fading out)."""
        covered: list[str] = []

        def try_click() -> bool:
            self.js("arguments[0].scrollIntoView({block: 'center'});", element)
            try:
                element.click()
            except ElementClickInterceptedException as err:
                covered[:] = [err.msg or ""]
                return False
            return True

        try:
            self.wait_until(try_click, timeout, "the element to be clickable")
        except AssertionError as err:
            raise AssertionError(f"{err}: {covered[0] if covered else ''}") from None

    def fingerprint(self, element: WebElement) -> str | None:
        """A digest of the pixels `element` (an img, video or canvas) shows now, drawn at
        64x36; None while it has no picture."""
        digest: str | None = self.js(f"{_FINGERPRINT} return fingerprint(arguments[0]);", element)
        return digest

    def fingerprint_of(self, url: str) -> str:
        """`fingerprint` of the picture at `url`, fetched afresh (never from the cache) by
        the page with its credentials; fails the test when it does not load."""
        digest: str = self.js_async(
            f"{_FINGERPRINT}"
            " const response = await fetch(arguments[0],"
            f" {{cache: 'no-store', headers: {{'{PROBE_HEADER}': '1'}}}});"
            " if (!response.ok) throw new Error(`${arguments[0]}: HTTP ${response.status}`);"
            " const img = new Image(); img.src = URL.createObjectURL(await response.blob());"
            " await img.decode(); return fingerprint(img);",
            url,
        )
        return digest

    # --- logs -------------------------------------------------------------------------------

    def _drain(self) -> None:
        self._console += self.driver.get_log("browser")  # type: ignore[no-untyped-call]
        for entry in self.driver.get_log("performance"):  # type: ignore[no-untyped-call]
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            request_id = params.get("requestId")
            match message.get("method"):
                case "Network.requestWillBeSent":
                    request = params["request"]
                    if PROBE_HEADER in request.get("headers", {}):
                        self._probes.add(request_id)
                    self._requests[request_id] = request["url"]
                case _ if request_id in self._probes:
                    pass
                case "Network.responseReceived":
                    response = params["response"]
                    self._network[request_id] = NetworkEntry(response["url"], response["status"])
                case "Network.loadingFailed" if not params.get("canceled"):
                    # A request the page gave up itself (a closed dialog's stream) is no fault.
                    url = self._requests.get(request_id, "?")
                    status = self._network.get(request_id, NetworkEntry(url, None)).status
                    self._network[request_id] = NetworkEntry(url, status, params["errorText"])

    def console_errors(self) -> list[dict[str, Any]]:
        """The browser's SEVERE log entries of the whole session: uncaught exceptions
        (source "javascript"), console.error ("console-api") and failed loads ("network")."""
        self._drain()
        return [e for e in self._console if e.get("level") == "SEVERE"]

    def network_log(self) -> list[NetworkEntry]:
        """Every request of the session that got an answer or failed, oldest first."""
        self._drain()
        return list(self._network.values())

    def network_failures(self, url_part: str = "") -> list[NetworkEntry]:
        """The failed requests whose URL contains `url_part`."""
        return [e for e in self.network_log() if e.failed and url_part in e.url]

    def save_artifacts(self, folder: Path, name: str) -> None:
        """A screenshot and the collected logs, for reading after a failure."""
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):  # a crashed browser still leaves its logs
            self.driver.save_screenshot(str(folder / f"{name}.png"))
        with contextlib.suppress(Exception):
            self._drain()
        (folder / f"{name}-console.json").write_text(json.dumps(self._console, indent=1))
        network = [
            {"url": e.url, "status": e.status, "error": e.error} for e in self._network.values()
        ]
        (folder / f"{name}-network.json").write_text(json.dumps(network, indent=1))


def chrome_options(paths: BrowserPaths, profile: Path) -> webdriver.ChromeOptions:
    """Headless Chromium in its own profile folder, logging its console and network."""
    options = webdriver.ChromeOptions()
    options.binary_location = paths.browser
    for arg in (
        "--headless=new",
        "--no-sandbox",  # tests run as root in containers
        "--disable-dev-shm-usage",  # /dev/shm is small in containers
        "--disable-gpu",
        "--mute-audio",
        "--no-first-run",
        "--disable-background-networking",  # local traffic only
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # no name resolves
        "--window-size=1280,900",
        "--lang=en-US",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return options


@contextlib.contextmanager
def open_browser(profile: Path, startup_timeout: float = 60.0) -> Iterator[Browser]:
    """A Browser on a fresh profile in `profile`, quit on exit (skips when absent).

    WebDriver speaks HTTP on loopback, and HA's test plugin blocks sockets around each
    test: a browser that outlives one test (a module fixture) allows them again.
    """
    paths = require_browser()
    enable_socket()
    service = Service(executable_path=paths.driver, log_output=os.devnull)
    driver = webdriver.Chrome(service=service, options=chrome_options(paths, profile))
    driver.set_script_timeout(startup_timeout)
    driver.set_page_load_timeout(startup_timeout)
    try:
        yield Browser(driver)
    finally:
        enable_socket()
        driver.quit()
