"""Issue #14's first-use path in a real browser, against `scripts/develop`.

One Home Assistant with Porchlight on the demo camera, one logged-in headless Chromium; the
steps run in order as a new user would take them, each a test of its own so that a report
names the step that fails (a step whose predecessor failed is skipped). Every check reads
the page: the app's `hass` object, the elements of dialogs and players in shadow roots,
the pixels shown, and the browser's console and network log.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pytest
from pytest_socket import enable_socket
from selenium.webdriver.remote.webelement import WebElement

from tests.helpers.browser import Browser, open_browser, require_browser
from tests.helpers.develop import PASSWORD, USERNAME, DevelopStack, running_develop
from tests.helpers.ha_frontend import (
    call_ws,
    close_dialogs,
    device_page_control,
    log_in,
    media_folder,
    media_tile,
    more_info,
    navigate,
    open_media_folder,
    search_entity,
    state,
    wait_for_entity_element,
    wait_for_state,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

CAMERA: Final = "camera.front_door"
TEST_RING: Final = "button.front_door_test_ring"
DOORBELL: Final = "event.front_door_doorbell"
PRIVACY: Final = "switch.front_door_privacy_mode"
PROBLEM: Final = "binary_sensor.front_door_camera_problem"
API_RING: Final = "api"
"""The `source` of a ring from the API, which the Test ring button uses (protocol)."""
PORCHLIGHT_MEDIA: Final = "media-source://porchlight"
# What Porchlight serves to the page: its proxy views and HA's camera and image views.
PORCHLIGHT_URLS: Final = ("/api/porchlight/", "/api/camera_proxy", "/api/image_proxy")


@dataclass
class Journey:
    """The stack, the browser and what the steps so far found out."""

    stack: DevelopStack
    browser: Browser
    artifacts: Path
    done: set[str] = field(default_factory=set)
    rings_before: tuple[str | None, int] = (None, 0)
    """The newest day's media id and its number of ring tiles just before the Test ring press."""

    def require(self, *steps: str) -> None:
        """Skip the calling step unless `steps` passed."""
        if missing := [s for s in steps if s not in self.done]:
            pytest.skip(f"needs the earlier step(s) {', '.join(missing)}, which did not pass")


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    require_browser()
    base = tmp_path_factory.mktemp("first-use")
    enable_socket()  # free ports are picked before any test (HA's test plugin blocks sockets)
    with running_develop(base / "ha") as stack, open_browser(base / "profile") as browser:
        yield Journey(stack, browser, base / "artifacts")


@pytest.fixture(autouse=True)
def _no_dialog_left_open(journey: Journey) -> None:
    """Each step starts on a page without dialogs, even after a failed step."""
    if "log in" in journey.done:
        close_dialogs(journey.browser)


# --- page readings ------------------------------------------------------------------------


def showing_picture(browser: Browser, within: WebElement) -> WebElement | None:
    """The img or video in `within` that shows a picture now (loaded, not broken)."""
    for element in browser.query_all("img, video", within):
        if element.is_displayed() and browser.fingerprint(element) is not None:
            return element
    return None


def newest_day_rings(browser: Browser) -> tuple[str | None, int]:
    """The media browser's newest day (its media id, None without one) and its number of
    ring tiles (HA's websocket). Titles are no key: two rings in one second share one."""
    cameras = call_ws(
        browser, {"type": "media_source/browse_media", "media_content_id": PORCHLIGHT_MEDIA}
    )
    days = call_ws(
        browser,
        {
            "type": "media_source/browse_media",
            "media_content_id": cameras["children"][0]["media_content_id"],
        },
    )
    if not days["children"]:
        return None, 0
    day = days["children"][0]["media_content_id"]
    kinds = call_ws(browser, {"type": "media_source/browse_media", "media_content_id": day})
    rings = [k for k in kinds["children"] if k["media_content_id"].endswith("/ring")]
    if not rings:
        return day, 0
    folder = call_ws(
        browser,
        {"type": "media_source/browse_media", "media_content_id": rings[0]["media_content_id"]},
    )
    return day, len(folder["children"])


def video_progress(browser: Browser, video: WebElement) -> dict[str, Any]:
    """The player's readyState, currentTime (s), duration and error code."""
    progress: dict[str, Any] = browser.js(
        "const v = arguments[0];"
        "return {ready: v.readyState, time: v.currentTime, duration: v.duration,"
        " error: v.error && v.error.code, src: v.currentSrc};",
        video,
    )
    return progress


# --- the steps -----------------------------------------------------------------------------


def test_1_log_in(journey: Journey) -> None:
    browser = journey.browser
    log_in(browser, journey.stack.ha_url, USERNAME, PASSWORD)
    user = browser.js("return document.querySelector('home-assistant').hass.user.name;")
    assert user == "Dev"
    for entity_id in (CAMERA, TEST_RING, PRIVACY, PROBLEM):
        assert state(browser, entity_id) is not None, f"{entity_id} is not in the app"
    journey.done.add("log in")


def test_2_open_camera_shows_the_live_view(journey: Journey) -> None:
    journey.require("log in")
    browser = journey.browser
    # The overview's Security view is where HA puts cameras.
    navigate(browser, "/security")
    browser.click(wait_for_entity_element(browser, "hui-picture-entity-card", CAMERA))
    dialog = more_info(browser, CAMERA)
    picture = browser.wait_until(lambda: showing_picture(browser, dialog), what="the live view")
    first = browser.fingerprint(picture)
    browser.wait_until(
        lambda: browser.fingerprint(picture) not in (None, first),
        what="the live view to show a new frame",
    )
    journey.done.add("open camera")


def test_3_press_the_test_ring(journey: Journey) -> None:
    journey.require("log in")
    browser = journey.browser
    dialog = search_entity(browser, "Test ring", TEST_RING)
    press = browser.wait_for(
        "ha-control-button", within=browser.wait_for("state-card-button", dialog)
    )
    before = state(browser, DOORBELL)
    journey.rings_before = newest_day_rings(browser)
    browser.click(press)
    rang = wait_for_state(
        browser,
        DOORBELL,
        lambda s: s != before and s["attributes"].get("source") == API_RING,
        "a ring from the Test ring button",
    )
    assert rang["attributes"]["event_type"] == "ring"
    journey.done.add("test ring")


def test_4_newest_ring_plays_in_the_media_browser(journey: Journey) -> None:
    journey.require("log in", "test ring")
    browser = journey.browser
    navigate(browser, "/media-browser/browser")
    browser.wait_until(lambda: media_folder(browser), what="the media browser")
    cameras = open_media_folder(browser, "Porchlight")
    days = open_media_folder(browser, cameras["children"][0]["title"])
    kinds = open_media_folder(browser, days["children"][0]["title"])
    rings_folders = [k for k in kinds["children"] if k["media_content_id"].endswith("/ring")]
    assert rings_folders, f"no rings on the newest day: {kinds}"
    rings_folder = rings_folders[0]
    rings = open_media_folder(browser, rings_folder["title"])

    # The Test ring is listed (as soon as it reached HA): one tile more on the day of the
    # press, or a new day begun at midnight since.
    day_before, count_before = journey.rings_before
    same_day = days["children"][0]["media_content_id"] == day_before
    expected = count_before + 1 if same_day else 1
    assert len(rings["children"]) >= expected, (
        f"{len(rings['children'])} ring tile(s) on the newest day, {count_before} before the"
        f" press ({'same day' if same_day else 'a new day'}): the Test ring is not listed"
    )
    newest = rings["children"][0]
    assert newest["can_play"], f"the newest ring cannot be played: {newest}"
    browser.click(browser.wait_until(lambda: media_tile(browser, newest["title"]), what="its tile"))

    video = browser.wait_for("video")

    def started() -> dict[str, Any] | None:
        progress = video_progress(browser, video)
        if progress["src"] and (failed := browser.network_failures(progress["src"])):
            raise AssertionError(f"the newest ring's clip did not load: {failed}")
        assert progress["error"] is None, f"the player failed: {progress}"
        return progress if progress["ready"] >= 2 and progress["time"] > 0 else None

    playing = browser.wait_until(started, what="the newest ring's clip to play")
    browser.wait_until(
        lambda: video_progress(browser, video)["time"] > playing["time"],
        what="the clip's playback position to advance",
    )
    assert browser.network_failures("/api/porchlight/") == []
    journey.done.add("newest ring plays")


def test_5_privacy_mode_shows_the_placeholder_and_no_problem(journey: Journey) -> None:
    journey.require("log in")
    browser = journey.browser
    toggle = device_page_control(browser, PRIVACY, "ha-entity-toggle")
    assert (state(browser, PRIVACY) or {}).get("state") == "off"
    clicked_at = browser.js("return new Date().toISOString();")
    browser.click(browser.wait_for("ha-switch", within=toggle))
    wait_for_state(browser, PRIVACY, lambda s: s["state"] == "on", "privacy on")

    # The owner's choice: the camera is off and shows the privacy placeholder.
    camera = wait_for_state(
        browser, CAMERA, lambda s: s["state"] != "streaming", "the camera to stop streaming"
    )
    picture_url = camera["attributes"].get("entity_picture") or ""
    assert picture_url, f"the camera has no picture while privacy mode is on: {camera}"
    placeholder = browser.fingerprint_of(picture_url)
    assert browser.fingerprint_of(picture_url) == placeholder, (
        f"the camera's picture {picture_url} changes from one fetch to the next: it is footage"
    )
    browser.click(wait_for_entity_element(browser, "state-badge", CAMERA))
    dialog = more_info(browser, CAMERA)
    browser.wait_until(
        lambda: (shown := showing_picture(browser, dialog)) is not None
        and browser.fingerprint(shown) == placeholder,
        what=f"the camera dialog to show the camera's (placeholder) picture {picture_url}",
    )

    # The problem sensor stayed OK all along: now and in the history since the switch.
    assert (state(browser, PROBLEM) or {}).get("state") == "off"
    history = call_ws(
        browser,
        {
            "type": "history/history_during_period",
            "start_time": clicked_at,
            "entity_ids": [PROBLEM],
            "include_start_time_state": True,
            "minimal_response": True,
            "no_attributes": True,
        },
    )
    seen = [s["s"] for s in history.get(PROBLEM, [])]
    assert "on" not in seen, f"the problem sensor turned on with privacy mode: {seen}"
    journey.done.add("privacy")


def test_6_the_page_had_no_errors_from_porchlight(journey: Journey) -> None:
    journey.require("log in")
    browser = journey.browser
    exceptions = [e for e in browser.console_errors() if e.get("source") == "javascript"]
    assert exceptions == []
    failed = [
        e for e in browser.network_log() if e.failed and any(u in e.url for u in PORCHLIGHT_URLS)
    ]
    assert failed == []


def test_7_home_assistant_logged_no_errors(journey: Journey) -> None:
    # An expected refusal (privacy mode) is a warning for the user, never an ERROR; and HA
    # reports Porchlight blocking its event loop as a bug ("please create a bug report").
    journey.require("log in")
    log = journey.stack.config_dir / "home-assistant.log"
    faults = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if " ERROR " in line or ("Detected blocking call" in line and "'porchlight'" in line)
    ]
    assert faults == []
