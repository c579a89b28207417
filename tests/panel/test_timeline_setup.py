"""The panel's timeline and camera set-up in real headless Chromium against the real add-on.

One add-on process (a demo camera that records, and an RTSP camera with a password and a
privacy mask), one pure-Python RTSP camera, one browser session for the module:
- the timeline plays the newest clip (its time advances) and seeks in it;
- protect, delete and export from the page reach the add-on (and its audit log);
- the set-up test shows "wrong password" for a bad login, a picture for a good one, and a
  picture with the camera's privacy mask for a configured camera tested with its stored
  password (which the page never sees);
- a camera added on the set-up page (tested, then added) shows its live picture on the
  Cameras tab, and is removed again after a confirmation;
- the stored password appears in no DOM and no websocket frame, and the page asks nothing
  of any other host;
- on a phone (375 px), no tab scrolls sideways, even with a 64-character one-word title;
- a clip still recording offers no delete or export (the add-on would refuse it silently);
- a clip deleted elsewhere while it plays stops the player, with the reason.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
import json
from pathlib import Path
from typing import Any

import aiohttp
import cv2
import numpy as np
import pytest

from porchlight_edge.protocol import version_info
from tests.e2e.addon_process import AddonProcess, running_addon
from tests.helpers import panel_browser
from tests.helpers.panel_browser import click, network_log, shown, wait_for
from tests.helpers.rtp_camera import RtpCamera, encode_units

if (_reason := panel_browser.unavailable_reason()) is not None:
    pytest.skip(f"browser tests need Chromium and chromedriver: {_reason}", allow_module_level=True)

from selenium.webdriver.common.by import By

STORED_PASSWORD = "St0red-porch-pw"
TYPED_PASSWORD = "Typed-n3w-pw"


def _options(rtsp_url: str) -> dict[str, Any]:
    porch_url = rtsp_url.replace("rtsp://", f"rtsp://admin:{STORED_PASSWORD}@")
    return {
        "cameras": [
            {
                "name": "front_door",
                "title": "Front door",
                "source": "demo",
                # Nobody comes (no motion or ring clips): the clips are the test's own.
                "demo": {"width": 320, "height": 180, "phases": {"empty_before": 3600}},
                "recording": {"pre_roll": 1, "post_roll": 1},
            },
            {
                "name": "porch",
                "title": "Porch",
                "source": "rtsp",
                "url": porch_url,
                "privacy_masks": ["0,0 0.5,0 0.5,1 0,1"],  # the left half
                "recording": {"enabled": False},  # its moving block records no clips
            },
        ]
    }


async def _command(addon: AddonProcess, name: str, args: dict[str, Any] | None = None) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"http://127.0.0.1:{addon.port}/api/websocket") as ws,
    ):
        await ws.receive_json(timeout=5)
        # as the panel does, it announces the add-on's own protocol version
        await ws.send_json(
            {"type": "auth", "token": addon.token, "client": "test", **version_info()}
        )
        assert (await ws.receive_json(timeout=5))["type"] == "auth_ok"
        await ws.send_json({"message_id": 1, "command": name, "args": args or {}})
        reply = await ws.receive_json(timeout=20)
        assert reply["success"], reply
        return reply["result"]


def command(addon: AddonProcess, name: str, args: dict[str, Any] | None = None) -> Any:
    """One websocket command to the add-on (the test's own client, not the page's)."""
    return asyncio.run(_command(addon, name, args))


def _record_clip(addon: AddonProcess) -> str:
    clip_id: str = wait_for(
        lambda: command(addon, "record_clip", {"camera": "front_door", "seconds": 1})["clip_id"],
        20,
        "the demo camera to record",
    )
    wait_for(
        lambda: any(
            c["id"] == clip_id and c["state"] == "complete"
            for c in command(addon, "list_clips")["clips"]
        ),
        20,
        "the clip to finish",
    )
    return clip_id


@pytest.fixture(scope="module", autouse=True)
def _module_sockets() -> None:
    """Real loopback sockets for the module's servers (the per-test fixture comes too late)."""
    import pytest_socket

    pytest_socket.enable_socket()


@pytest.fixture(scope="module")
def camera() -> Iterator[RtpCamera]:
    with RtpCamera(encode_units(900), credentials=("admin", STORED_PASSWORD)) as cam:
        yield cam


DRAWN_IN_PANEL = "0,0 0.3,0 0.3,1 0,1"
"""The porch camera's privacy mask as once saved in the panel, over an older option value:
the options' mask (edited later) replaces it at start, and the panel says so."""


@pytest.fixture(scope="module")
def addon(tmp_path_factory: pytest.TempPathFactory, camera: RtpCamera) -> Iterator[AddonProcess]:
    data = tmp_path_factory.mktemp("panel") / "addon"
    data.mkdir()
    saved = {"value": [DRAWN_IN_PANEL], "seed": ["0,0 0.2,0 0.2,1 0,1"]}
    (data / "cameras.json").write_text(json.dumps({"porch": {"privacy_masks": saved}}))
    with running_addon(data, _options(camera.url)) as proc:
        yield proc


@pytest.fixture(scope="module")
def clips(addon: AddonProcess) -> list[str]:
    """Two finished clips of the demo camera, oldest first."""
    return [_record_clip(addon), _record_clip(addon)]


@pytest.fixture(scope="module")
def page(driver: Any, addon: AddonProcess, clips: list[str]) -> Any:
    """The panel on the add-on's API port, signed in with the token (standalone)."""
    driver.get(f"http://127.0.0.1:{addon.port}/panel/")
    shown(driver, By.ID, "token", "the sign-in form").send_keys(addon.token)
    click(driver, By.CSS_SELECTOR, "#login button[type=submit]", "sign in")
    wait_for(lambda: driver.find_element(By.ID, "tab-timeline"), what="the tabs")
    wait_for(lambda: not driver.find_element(By.ID, "login").is_displayed(), what="sign-in gone")
    return driver


def test_the_camera_card_says_a_later_option_edit_replaced_its_masks(
    page: Any, addon: AddonProcess
) -> None:
    click(page, By.ID, "tab-cameras", "the cameras tab")
    notice = shown(page, By.CSS_SELECTOR, "#camera-porch .notice", "the porch camera's notice")
    assert "later edit of the add-on options replaced the privacy masks" in notice.text
    others = page.find_elements(By.CSS_SELECTOR, "#camera-front_door .notice")
    assert not [n for n in others if n.is_displayed()]
    log = (addon.data_dir / "addon.log").read_text(errors="replace")
    (line,) = [x for x in log.splitlines() if "porch: the options' privacy masks changed" in x]
    assert "WARNING" in line
    assert "1 privacy mask" in line


def _items(driver: Any) -> list[Any]:
    return list(driver.find_elements(By.CSS_SELECTOR, "#timeline-list li.item[data-clip]"))


def _click(driver: Any, css: str, what: str) -> None:
    """Click the element `css` finds, again if a re-render replaced it first (stale)."""
    click(driver, By.CSS_SELECTOR, css, what)


def _open_timeline(driver: Any, count: int) -> list[Any]:
    click(driver, By.ID, "tab-timeline", "the timeline tab")
    return wait_for(lambda: len(_items(driver)) == count and _items(driver), what="the clips")


def test_timeline_plays_the_newest_clip_and_seeks(page: Any, clips: list[str]) -> None:
    items = _open_timeline(page, len(clips))
    assert [i.get_attribute("data-clip") for i in items] == clips[::-1]  # newest first
    newest = f"li.item[data-clip='{clips[-1]}']"
    wait_for(
        lambda: page.execute_script(
            "return document.querySelector(arguments[0]).naturalWidth", f"{newest} img.thumb"
        )
        == 320,
        what="the newest clip's thumbnail",
    )
    _click(page, f"{newest} button.play", "play")
    video = wait_for(
        lambda: (v := page.find_element(By.ID, "timeline-video")).get_attribute("data-clip")
        == clips[-1]
        and v,
        what="the player to load the newest clip",
    )
    wait_for(
        lambda: page.execute_script("return arguments[0].currentTime", video) > 0.2,
        what="the clip to play",
    )
    duration = page.execute_script("return arguments[0].duration", video)
    assert duration > 1.0
    target = duration / 2
    page.execute_script(
        "arguments[0].pause(); arguments[0].currentTime = arguments[1]", video, target
    )
    wait_for(
        lambda: page.execute_script(
            "const v = arguments[0];"
            "return !v.seeking && Math.abs(v.currentTime - arguments[1]) < 0.2",
            video,
            target,
        ),
        what="the seek",
    )
    error = page.execute_script("return arguments[0].error && arguments[0].error.message", video)
    assert error is None


def test_protect_and_delete_from_the_page(page: Any, addon: AddonProcess, clips: list[str]) -> None:
    newest, oldest = clips[-1], clips[0]
    _open_timeline(page, len(clips))
    _click(page, f"li[data-clip='{newest}'] button.protect", "protect")
    wait_for(
        lambda: [c["id"] for c in command(addon, "list_clips", {"protected": True})["clips"]]
        == [newest],
        what="the clip to be protected",
    )
    wait_for(
        lambda: _items(page)[0].find_elements(By.CSS_SELECTOR, ".badge.protected"),
        what="the protected badge",
    )
    delete = f"li[data-clip='{oldest}'] button.delete"
    _click(page, delete, "delete")
    # One click only arms it: nothing is deleted yet.
    assert {c["id"] for c in command(addon, "list_clips")["clips"]} == {newest, oldest}
    wait_for(
        lambda: page.find_element(By.CSS_SELECTOR, delete).text == "Really delete?",
        what="the delete to ask for confirmation",
    )
    _click(page, delete, "confirm delete")
    wait_for(
        lambda: [c["id"] for c in command(addon, "list_clips")["clips"]] == [newest],
        what="the clip to be deleted",
    )
    wait_for(lambda: [i.get_attribute("data-clip") for i in _items(page)] == [newest])
    _click(page, f"li[data-clip='{newest}'] button.export", "export")
    shown = wait_for(
        lambda: page.find_element(By.CSS_SELECTOR, f"li[data-clip='{newest}'] .exported").text,
        what="the export",
    )
    assert shown.startswith("Exported: ")
    assert Path(shown.removeprefix("Exported: ")).parent.name == "exports"
    audit = command(addon, "get_audit_log")["entries"]
    actions = {(e["action"], e["target"]) for e in audit}
    assert {("clip_protect", newest), ("clip_delete", oldest), ("clip_export", newest)} <= actions


def _form(driver: Any, section: str) -> Any:
    return wait_for(lambda: driver.find_element(By.CSS_SELECTOR, f"#{section} form"))


def _test(driver: Any, form: Any) -> tuple[str, Any]:
    result = form.find_element(By.CSS_SELECTOR, ".result")
    click(driver, By.CSS_SELECTOR, "button.test", "test", within=form)
    wait_for(lambda: result.get_attribute("data-ok") in ("true", "false"), what="the test")
    return result.get_attribute("data-ok"), result


def _picture(driver: Any, result: Any) -> np.ndarray[Any, Any]:
    src = result.find_element(By.CSS_SELECTOR, "img.frame").get_attribute("src")
    assert src.startswith("data:image/jpeg;base64,")
    img = cv2.imdecode(np.frombuffer(base64.b64decode(src.partition(",")[2]), np.uint8), 1)
    assert img is not None
    return img


def test_setup_test_button_shows_a_frame_or_the_reason(page: Any, camera: RtpCamera) -> None:
    page.get_log("performance")  # only this test's traffic below
    serving = camera.busy_threads  # the add-on's own capture of the porch camera
    click(page, By.ID, "tab-setup", "the set-up tab")
    new = _form(page, "setup-new")
    new.find_element(By.NAME, "url").send_keys(camera.url)
    new.find_element(By.NAME, "username").send_keys("admin")
    new.find_element(By.NAME, "password").send_keys(TYPED_PASSWORD)
    ok, result = _test(page, new)
    assert ok == "false"
    reason = wait_for(lambda: result.find_element(By.CSS_SELECTOR, ".reason").text, what="why")
    assert reason == "Wrong user name or password"
    assert not result.find_element(By.CSS_SELECTOR, "img.frame").is_displayed()

    new.find_element(By.NAME, "password").clear()
    new.find_element(By.NAME, "password").send_keys(STORED_PASSWORD)
    ok, result = _test(page, new)
    assert ok == "true", result.text
    picture = _picture(page, result)
    assert picture.shape[:2] == (240, 320)
    assert picture[:, :150].mean() > 40  # a new source: nothing to mask

    # The configured camera: URL and user shown, password not; the stored one is used.
    porch = _form(page, "setup-camera-porch")
    assert porch.find_element(By.NAME, "url").get_attribute("value") == camera.url
    assert porch.find_element(By.NAME, "username").get_attribute("value") == "admin"
    assert porch.find_element(By.NAME, "password").get_attribute("value") == ""
    ok, result = _test(page, porch)
    assert ok == "true", result.text
    picture = _picture(page, result)
    assert picture[:, :150].max() < 40  # the camera's privacy mask, burned in
    assert picture[:, 170:].mean() > 40

    # The stored password never reached the page: not in the DOM, not in any frame.
    assert STORED_PASSWORD not in page.page_source
    frames = [
        e["params"]["response"]["payloadData"]
        for e in network_log(page)
        if e["method"] == "Network.webSocketFrameReceived"
    ]
    assert sum('"jpeg"' in f for f in frames) >= 3  # the three test results were seen
    for frame in frames:
        assert STORED_PASSWORD not in frame
        assert TYPED_PASSWORD not in frame
    # The tests' connections are over (threads must not outlive the test).
    wait_for(lambda: camera.busy_threads <= serving, what="the test connections to end")


def test_add_a_camera_from_the_page_then_remove_it(
    page: Any, addon: AddonProcess, camera: RtpCamera
) -> None:
    serving = camera.busy_threads  # the add-on's own capture of the porch camera
    click(page, By.ID, "tab-setup", "the set-up tab")
    new = _form(page, "setup-new")
    for name, value in (
        ("name", "garage"), ("url", camera.url), ("username", "admin"),
        ("password", STORED_PASSWORD),
    ):  # fmt: skip
        new.find_element(By.NAME, name).clear()
        new.find_element(By.NAME, name).send_keys(value)
    ok, result = _test(page, new)
    assert ok == "true", result.text
    click(page, By.CSS_SELECTOR, "button.save", "add", within=new)
    garage = _form(page, "setup-camera-garage")  # listed with the configured cameras
    assert garage.find_element(By.NAME, "password").get_attribute("value") == ""
    assert "garage" in [c["name"] for c in command(addon, "get_state")["cameras"]]

    # Its live picture, on the Cameras tab.
    click(page, By.ID, "tab-cameras", "the cameras tab")
    live = wait_for(lambda: page.find_element(By.CSS_SELECTOR, "#camera-garage img.live"))
    # It streams only while seen; the other cards' pictures grow as they load: keep it in view.
    wait_for(
        lambda: page.execute_script(
            "arguments[0].scrollIntoView({block: 'center'}); return arguments[0].naturalWidth",
            live,
        )
        == 320,
        20,
        "the new camera's live picture",
    )
    assert STORED_PASSWORD not in page.page_source

    # Removed after a confirmation; its card goes.
    click(page, By.ID, "tab-setup", "the set-up tab")
    _click(page, "#setup-camera-garage button.remove", "remove")
    alert = wait_for(lambda: page.switch_to.alert, what="the confirmation")
    assert "garage" in alert.text
    alert.accept()
    wait_for(lambda: not page.find_elements(By.ID, "setup-camera-garage"), what="the removal")
    assert "garage" not in [c["name"] for c in command(addon, "get_state")["cameras"]]
    actions = [(e["action"], e["camera"]) for e in command(addon, "get_audit_log")["entries"]]
    assert ("camera_add", "garage") in actions
    assert ("camera_remove", "garage") in actions
    # the removed camera's RTSP session ends (its server threads must not outlive the test)
    wait_for(lambda: camera.busy_threads <= serving, what="the removed camera's session to end")


def test_the_page_asks_nothing_of_other_hosts(page: Any, addon: AddonProcess) -> None:
    network_log(page)
    page.refresh()  # the whole page again: its files, modules, socket and pictures
    click(page, By.ID, "tab-timeline", "the timeline tab")
    wait_for(lambda: _items(page), what="the timeline")
    requests = [
        e["params"]["request"]["url"]
        for e in network_log(page)
        if e["method"] == "Network.requestWillBeSent"
    ]
    assert requests
    origin = f"http://127.0.0.1:{addon.port}/"
    assert [u for u in requests if not u.startswith((origin, "data:"))] == []


PHONE = {"width": 375, "height": 667, "deviceScaleFactor": 2, "mobile": True}
"""A small phone's viewport (CSS pixels), as Chrome's device emulation takes it."""


def test_a_phone_never_scrolls_sideways(page: Any, addon: AddonProcess) -> None:
    """Every tab fits 375 px, with the longest title the options allow (one word)."""
    long_title = "W" * 64
    command(
        addon,
        "add_camera",
        {
            "camera": "side_gate",
            "title": long_title,
            "source": "rtsp",
            "url": "rtsp://127.0.0.1:9/x",
        },
    )
    page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        page.refresh()
        wait_for(lambda: page.find_element(By.ID, "tab-cameras"), what="the tabs")
        widths = {}
        for tab, ready in (
            ("tab-cameras", "#camera-side_gate"),
            ("tab-timeline", "#timeline-list li.item"),
            ("tab-setup", "#setup-camera-side_gate"),
        ):
            _click(page, f"#{tab}", tab)
            wait_for(lambda: page.find_elements(By.CSS_SELECTOR, ready), what=ready)  # noqa: B023
            if tab == "tab-timeline":  # the camera filter lists the long title
                wait_for(
                    lambda: len(page.find_elements(By.CSS_SELECTOR, "#timeline-camera option")) > 2
                )
            if tab != "tab-setup":  # (the set-up page names cameras by name)
                assert long_title in page.page_source
            widths[tab] = page.execute_script(
                "const d = document.documentElement; return [d.scrollWidth, d.clientWidth]"
            )
        assert {tab: w for tab, w in widths.items() if w[0] > w[1]} == {}
    finally:
        page.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        command(addon, "remove_camera", {"camera": "side_gate"})


def test_a_clip_still_recording_offers_no_delete_or_export(page: Any, addon: AddonProcess) -> None:
    """The add-on deletes and exports finished clips only: the page must not offer it."""
    clip_id = command(addon, "record_clip", {"camera": "front_door", "seconds": 20})["clip_id"]
    _click(page, "#tab-timeline", "the timeline tab")
    row = f"li[data-clip='{clip_id}']"
    wait_for(lambda: page.find_elements(By.CSS_SELECTOR, f"{row} .badge.recording"), 20, "it")
    for action in ("delete", "export"):
        button = page.find_element(By.CSS_SELECTOR, f"{row} button.{action}")
        assert not button.is_enabled(), action
        assert "recording" in (button.get_attribute("title") or ""), action
    # (the buttons were seen while it was recording)
    assert page.find_elements(By.CSS_SELECTOR, f"{row} .badge.recording")


def test_a_clip_deleted_elsewhere_while_it_plays_stops_with_a_reason(
    page: Any, addon: AddonProcess, clips: list[str]
) -> None:
    newest = clips[-1]  # (the one the delete test kept)
    _click(page, "#tab-timeline", "the timeline tab")
    _click(page, f"li[data-clip='{newest}'] button.play", "play")
    player = page.find_element(By.ID, "timeline-video")
    wait_for(lambda: player.get_attribute("data-clip") == newest, what="the clip to play")
    command(addon, "protect_clip", {"clip_id": newest, "protected": False})
    assert command(addon, "delete_clips", {"clip_ids": [newest]})["deleted"] == [newest]
    wait_for(lambda: not player.is_displayed(), what="the player to stop")
    assert not player.get_attribute("src")
    notice = wait_for(lambda: page.find_element(By.ID, "timeline-notice").text, what="why")
    assert "deleted" in notice
