"""Home Assistant's frontend in a real browser (tests/helpers/browser.py): logging in,
reading states through the page's own `hass` object, moving around the app and its
dialogs and media browser the way the page itself does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from .browser import WAIT_TIMEOUT, Browser

HASS: Final = "document.querySelector('home-assistant').hass"
MORE_INFO: Final = "ha-more-info-dialog"
MEDIA_BROWSER: Final = "ha-media-player-browse"


def log_in(browser: Browser, ha_url: str, username: str, password: str) -> None:
    """Log in on HA's login page by typing and clicking, then wait until the app is
    connected, has the states and has taken its launch screen away."""
    browser.driver.get(f"{ha_url}/")
    browser.wait_for("input[name=username]").send_keys(username)
    browser.wait_for("input[name=password]").send_keys(password)
    browser.click(browser.wait_for("ha-auth-flow form ha-button"))
    browser.wait_until(
        lambda: browser.js(
            "const h = document.querySelector('home-assistant');"
            "return !!(h && h.hass && h.hass.connected && h.hass.user && h.hass.states"
            " && Object.keys(h.hass.states).length"
            " && !document.getElementById('ha-launch-screen'));"
        ),
        what="Home Assistant's app connected after logging in",
    )


def state(browser: Browser, entity_id: str) -> dict[str, Any] | None:
    """The entity's state object as the page has it (state, attributes, last_changed…)."""
    found: dict[str, Any] | None = browser.js(
        f"return {HASS}.states[arguments[0]] || null;", entity_id
    )
    return found


def wait_for_state(
    browser: Browser,
    entity_id: str,
    check: Callable[[dict[str, Any]], bool],
    what: str,
    timeout: float = WAIT_TIMEOUT,
) -> dict[str, Any]:
    """The entity's state object once `check` holds for it in the page."""

    def look() -> dict[str, Any] | None:
        current = state(browser, entity_id)
        return current if current is not None and check(current) else None

    return browser.wait_until(look, timeout, f"{entity_id}: {what}")


def call_ws(browser: Browser, message: dict[str, Any]) -> Any:
    """Send `message` over the page's own websocket connection; its result."""
    return browser.js_async(f"return await {HASS}.callWS(arguments[0]);", message)


def navigate(browser: Browser, path: str) -> None:
    """Go to `path` inside the app without reloading it, as HA's own links do."""
    browser.js(
        "history.pushState(null, '', arguments[0]);"
        "window.dispatchEvent(new CustomEvent('location-changed', {detail: {replace: false}}));",
        path,
    )
    browser.wait_until(
        lambda: browser.js("return location.pathname === arguments[0];", path),
        what=f"the app at {path}",
    )


def device_id(browser: Browser, entity_id: str) -> str:
    """The id of the device `entity_id` belongs to."""
    found: str = browser.js(f"return {HASS}.entities[arguments[0]].device_id;", entity_id)
    return found


def device_page_control(browser: Browser, entity_id: str, selector: str) -> WebElement:
    """Go to the page of the device `entity_id` belongs to; the element matching
    `selector` there that shows `entity_id` (its row, badge or toggle)."""
    navigate(browser, f"/config/devices/device/{device_id(browser, entity_id)}")
    return wait_for_entity_element(browser, selector, entity_id)


def entity_element(browser: Browser, selector: str, entity_id: str) -> WebElement | None:
    """The first element matching `selector` that shows `entity_id` (an entity row, badge
    or toggle: their config or state object names it)."""
    for element in browser.query_all(selector):
        shown = browser.js(
            "const e = arguments[0];"
            "return (e._config && e._config.entity) || (e.config && e.config.entity)"
            " || (e.stateObj && e.stateObj.entity_id) || null;",
            element,
        )
        if shown == entity_id:
            return element
    return None


def wait_for_entity_element(browser: Browser, selector: str, entity_id: str) -> WebElement:
    """`entity_element` once it is on the page."""
    return browser.wait_until(
        lambda: entity_element(browser, selector, entity_id),
        what=f"{selector} of {entity_id} on the page",
    )


def open_dialogs(browser: Browser) -> list[WebElement]:
    """The open dialogs of the page (HA's dialogs are native <dialog>s in shadow roots)."""
    return browser.query_all("dialog[open]")


def more_info(browser: Browser, entity_id: str) -> WebElement:
    """The more-info dialog of `entity_id`, once it is open."""

    def look() -> WebElement | None:
        for dialog in browser.query_all(MORE_INFO):
            shown = browser.js("return arguments[0]._entityId || null;", dialog)
            if shown == entity_id and browser.query("dialog[open]", dialog) is not None:
                return dialog
        return None

    return browser.wait_until(look, what=f"the more-info dialog of {entity_id}")


def search_entity(browser: Browser, query: str, entity_id: str) -> WebElement:
    """Open the more-info dialog of `entity_id` the way a user finds an entity: the quick
    bar's entity search (the "e" key), typing `query`, clicking the result naming it."""
    ActionChains(browser.driver).send_keys("e").perform()
    quick_bar = browser.wait_for("ha-quick-bar", visible=False)
    browser.wait_for("input", within=quick_bar).send_keys(query)

    def result() -> WebElement | None:
        for item in browser.query_all("ha-combo-box-item", quick_bar):
            if query in (item.get_attribute("textContent") or "") and item.is_displayed():
                return item
        return None

    browser.click(browser.wait_until(result, what=f"the search result {query!r}"))
    return more_info(browser, entity_id)


def close_dialogs(browser: Browser) -> None:
    """Close every open dialog with the Escape key, as a user would, one at a time."""
    for _ in range(5):
        count = len(open_dialogs(browser))
        if not count:
            return
        ActionChains(browser.driver).send_keys(Keys.ESCAPE).perform()

        def fewer(before: int = count) -> bool:
            return len(open_dialogs(browser)) < before

        browser.wait_until(fewer, what="the dialog to close")
    raise AssertionError("dialogs kept opening")


def media_folder(browser: Browser) -> dict[str, Any] | None:
    """The folder the media browser shows (media_content_id, title, children…), or None
    while it loads."""
    folder: dict[str, Any] | None = browser.js(
        "const b = arguments[0]; return (b && b._currentItem) || null;",
        browser.query(MEDIA_BROWSER),
    )
    return folder


def media_tile(browser: Browser, title: str) -> WebElement | None:
    """The shown media browser tile whose title is `title` (its clickable card)."""
    browser_el = browser.query(MEDIA_BROWSER)
    if browser_el is None:
        return None
    for child in browser.query_all(".child", browser_el):
        label = browser.query(".title", child)
        if label is not None and (label.get_attribute("textContent") or "").strip() == title:
            return browser.query("ha-card", child)
    return None


def open_media_folder(browser: Browser, title: str) -> dict[str, Any]:
    """Click the tile `title` in the media browser; the folder it opened, once shown."""
    before = media_folder(browser)
    browser.click(browser.wait_until(lambda: media_tile(browser, title), what=f"tile {title!r}"))

    def opened() -> dict[str, Any] | None:
        folder = media_folder(browser)
        moved = folder is not None and (
            before is None or folder["media_content_id"] != before["media_content_id"]
        )
        return folder if moved else None

    return browser.wait_until(opened, what=f"the media folder {title!r}")
