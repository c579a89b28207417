"""The browser harness itself (tests/helpers/browser.py), on a local page built to trip it:
elements in nested shadow roots, a button under a cover that goes away, a missing picture
and an uncaught exception."""

from __future__ import annotations

from collections.abc import Iterator
import time

import pytest

from tests.helpers.browser import Browser, open_browser, require_browser

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

PAGE = """<!doctype html>
<html><body>
<div id="host"></div>
<img id="missing" src="missing.png">
<canvas id="red" width="8" height="8"></canvas>
<canvas id="red-too" width="8" height="8"></canvas>
<canvas id="blue" width="8" height="8"></canvas>
<script>
  const outer = document.getElementById("host").attachShadow({mode: "open"});
  outer.innerHTML = '<button id="go">Go</button><div id="inner-host"></div>';
  const inner = outer.getElementById("inner-host").attachShadow({mode: "open"});
  inner.innerHTML = '<span class="deep">deep</span>';
  outer.getElementById("go").addEventListener("click", () => {
    window.clickedAt = performance.now();
  });
  for (const [id, colour] of [["red", "#f00"], ["red-too", "#f00"], ["blue", "#00f"]]) {
    const ctx = document.getElementById(id).getContext("2d");
    ctx.fillStyle = colour; ctx.fillRect(0, 0, 8, 8);
  }
  window.cover = (ms) => {
    const cover = document.createElement("div");
    cover.style.cssText = "position: fixed; inset: 0; z-index: 10; background: white";
    document.body.append(cover);
    setTimeout(() => { cover.remove(); window.uncoveredAt = performance.now(); }, ms);
  };
  setTimeout(() => { throw new Error("harness boom"); }, 0);
</script>
</body></html>
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    require_browser()
    base = tmp_path_factory.mktemp("harness")
    (base / "page.html").write_text(PAGE)
    with open_browser(base / "profile") as opened:
        opened.driver.get((base / "page.html").as_uri())
        yield opened


def test_query_finds_elements_in_nested_shadow_roots(browser: Browser) -> None:
    assert browser.js("return document.querySelector('.deep');") is None
    deep = browser.wait_for(".deep")
    assert deep.get_attribute("textContent") == "deep"
    host = browser.wait_for("#host", visible=False)
    assert browser.query(".deep", within=host) is not None
    assert browser.query(".deep", within=browser.wait_for("#red")) is None
    assert len(browser.query_all("canvas")) == 3


def test_click_waits_until_nothing_covers_the_element(browser: Browser) -> None:
    button = browser.wait_for("#go")
    browser.js("window.cover(1500);")
    browser.click(button)
    # Clicked, and only once the cover had gone (the first tries hit the cover).
    assert browser.js("return window.clickedAt >= window.uncoveredAt;")


def test_wait_until_fails_after_its_timeout_naming_what_it_waited_for(browser: Browser) -> None:
    start = time.monotonic()
    with pytest.raises(AssertionError, match=r"timed out after 0\.5 s waiting for the impossible"):
        browser.wait_until(lambda: None, timeout=0.5, what="the impossible")
    assert time.monotonic() - start < 10


def test_fingerprint_tells_pictures_apart(browser: Browser) -> None:
    red, red_too, blue = (browser.wait_for(f"#{i}") for i in ("red", "red-too", "blue"))
    assert browser.fingerprint(red) == browser.fingerprint(red_too)
    assert browser.fingerprint(red) != browser.fingerprint(blue)
    assert browser.fingerprint(browser.wait_for("#missing", visible=False)) is None


def test_console_errors_and_network_failures_are_collected(browser: Browser) -> None:
    errors = browser.wait_until(
        lambda: [e for e in browser.console_errors() if "harness boom" in e["message"]],
        what="the uncaught exception in the console log",
    )
    assert errors[0]["source"] == "javascript"
    failed = browser.wait_until(
        lambda: browser.network_failures("missing.png"), what="the missing picture's failure"
    )
    assert failed[0].failed
    assert browser.network_failures("page.html") == []
