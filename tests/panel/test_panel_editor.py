"""The panel in a real browser, against the real add-on process, through an ingress proxy.

One Chromium and one add-on (demo camera) for the module; the tests run in order and build
on each other: the mask drawn by mouse is in the clip, snapshot and audit log that follow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import io
import json
import os
from pathlib import Path
import shutil
from typing import Any

import aiohttp
import av
import cv2
import numpy as np
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from porchlight_edge.protocol import version_info
from tests.e2e.addon_process import AddonProcess, front_door_demo
from tests.helpers.ingress_proxy import IngressProxy, ingress_proxy
from tests.helpers.panel_browser import click, shown, wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "panel-editor.png"
WAIT = 20.0
EVENT_WAIT = 60.0
"""Clips and snapshots are written by the add-on's worker threads: slow when the machine
is busy (the suite may run twice at once on two cores)."""
# A short still hold: a visitor held as "waiting" on a busy machine would keep extending the
# motion clip that record_clip joins, past the test's wait for it to finish.
OPTIONS = front_door_demo(
    320,
    240,
    recording={"pre_roll": 1, "post_roll": 1},
    motion={"off_seconds": 1.5, "still_hold": 2},
)
OPTIONS["cameras"][0]["demo"]["loop_seconds"] = 8  # the visitor comes by every 8 s


@pytest.fixture(scope="module")
def addon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AddonProcess]:
    data = tmp_path_factory.mktemp("panel") / "addon"
    # The ingress port's one trusted peer is the proxy's source address (tests only).
    hook = ["--ingress-port", "0", "--ingress-peer", "127.0.0.2"]
    process = AddonProcess(data, OPTIONS, extra_args=hook)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def proxy(addon: AddonProcess) -> Iterator[IngressProxy]:
    assert addon.ingress_port
    with ingress_proxy(addon.ingress_port, addon.data_dir) as running:
        yield running


# --- talking to the add-on directly (the token's client) --------------------------------


async def _session(
    addon: AddonProcess, http: aiohttp.ClientSession
) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(f"http://127.0.0.1:{addon.port}/api/websocket")
    await ws.receive_json(timeout=WAIT)
    # as the panel does, it announces the add-on's own protocol version
    await ws.send_json(
        {"type": "auth", "token": addon.token, "client": "panel_test", **version_info()}
    )
    assert (await ws.receive_json(timeout=WAIT))["type"] == "auth_ok"
    return ws


async def _call(ws: aiohttp.ClientWebSocketResponse, command: str, **args: Any) -> Any:
    message_id = id(args) % 1_000_000
    await ws.send_json({"message_id": message_id, "command": command, "args": args})
    while True:
        reply = await ws.receive_json(timeout=WAIT)
        if reply.get("type") == "result" and reply["message_id"] == message_id:
            assert reply["success"], reply
            return reply["result"]


def command(addon: AddonProcess, name: str, **args: Any) -> Any:
    async def run() -> Any:
        async with aiohttp.ClientSession() as http:
            ws = await _session(addon, http)
            return await _call(ws, name, **args)

    return asyncio.run(run())


def wait_for_event(
    addon: AddonProcess,
    start: tuple[str, dict[str, Any]] | None,
    accept: Callable[[dict[str, Any], Any], bool],
    timeout: float,
) -> tuple[Any, dict[str, Any]]:
    """Subscribe, run the command `start` (name, args), and wait for the first event
    `accept(event, the command's result)` takes; (the result, the event)."""

    async def run() -> tuple[Any, dict[str, Any]]:
        async with aiohttp.ClientSession() as http:
            ws = await _session(addon, http)
            await _call(ws, "subscribe")
            result = await _call(ws, start[0], **start[1]) if start else None
            async with asyncio.timeout(timeout):
                while True:
                    message = await ws.receive_json()
                    if message.get("type") == "event" and accept(message, result):
                        return result, message

    return asyncio.run(run())


def fetch(addon: AddonProcess, path: str) -> bytes:
    async def run() -> bytes:
        headers = {"Authorization": f"Bearer {addon.token}"}
        url = f"http://127.0.0.1:{addon.port}{path}"
        async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
            assert resp.status == 200, resp.status
            return await resp.read()

    return asyncio.run(run())


# --- the page ---------------------------------------------------------------------------


def wait(driver: Any, check: Any, what: str, timeout: float = WAIT) -> Any:
    return wait_for(lambda: check(driver), timeout, what)


def button(driver: Any, text: str) -> Any:
    """The button labelled `text`, once it is shown (the page renders after each action)."""
    return shown(driver, By.XPATH, f"//button[normalize-space()='{text}']", f"button {text!r}")


def button_shown(driver: Any, text: str) -> bool:
    """Whether a button labelled `text` is on the page and shown, now."""
    found = driver.find_elements(By.XPATH, f"//button[normalize-space()='{text}']")
    return any(b.is_displayed() for b in found)


def press(driver: Any, text: str) -> None:
    """Click the button labelled `text` once shown (again if a re-render replaced it)."""
    click(driver, By.XPATH, f"//button[normalize-space()='{text}']", f"button {text!r}")


def select(driver: Any, label: str) -> None:
    """Click the shape button whose label starts with `label` (e.g. "Zone zone_1")."""
    click(driver, By.XPATH, f"//button[starts-with(normalize-space(), '{label}')]", label)


def click_at(driver: Any, points: list[tuple[float, float]]) -> None:
    """Mouse clicks on the live picture at relative positions (0..1)."""
    overlay = overlay_in_view(driver)
    rect = overlay.rect
    for x, y in points:
        ActionChains(driver).move_to_element_with_offset(
            overlay, round((x - 0.5) * rect["width"]), round((y - 0.5) * rect["height"])
        ).click().perform()


def overlay_in_view(driver: Any) -> Any:
    """The picture's overlay, scrolled wholly into view: ActionChains offsets count from
    the centre of an element's visible part."""
    overlay = shown(driver, By.CSS_SELECTOR, "svg.overlay")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", overlay)
    return overlay


def centre_of(driver: Any, css: str) -> list[float]:
    """The viewport position of the centre of the element `css` selects (read in the
    page, so a redraw between finding and acting cannot leave a stale reference)."""
    centre: list[float] = wait_for(
        lambda: driver.execute_script(
            "const el = document.querySelector(arguments[0]); if (!el) return null;"
            " const r = el.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]",
            css,
        ),
        what=f"{css!r} on the page",
    )
    return centre


def offset_of(driver: Any, css: str) -> tuple[int, int]:
    """Where the element `css` selects is, from the overlay's centre (for ActionChains)."""
    x, y = centre_of(driver, css)
    ox, oy = centre_of(driver, "svg.overlay")  # the same (viewport) coordinates
    return round(x - ox), round(y - oy)


def focused(driver: Any, vertex: str) -> Any:
    """The focused element, once it is the corner `vertex` (keys move the focus)."""
    return wait(
        driver,
        lambda d: (el := d.switch_to.active_element).get_attribute("data-vertex") == vertex and el,
        f"corner {vertex} focused",
    )


def saved(driver: Any) -> None:
    press(driver, "Save")
    wait(
        driver,
        lambda d: d.find_element(By.CSS_SELECTOR, ".tools .hint").text.startswith("Saved"),
        "saved",
    )


def corners(text: str) -> np.ndarray:
    return np.array([[float(c) for c in p.split(",")] for p in text.split("=")[-1].split()])


def inside_and_outside(picture: np.ndarray, polygon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels well inside the polygon's box, and pixels well away from it (a margin each
    side of 3 % of the picture: compression blurs edges)."""
    h, w = picture.shape[:2]
    (x0, y0), (x1, y1) = polygon.min(axis=0), polygon.max(axis=0)
    m = 0.03
    inner = picture[int((y0 + m) * h) : int((y1 - m) * h), int((x0 + m) * w) : int((x1 - m) * w)]
    outer = picture[int(min(1, y1 + m) * h) :, :]
    return inner, outer


def test_the_page_opens_under_the_ingress_prefix_without_a_token(
    driver: Any, proxy: IngressProxy
) -> None:
    driver.get(proxy.url)
    wait(driver, lambda d: d.current_url == proxy.url + "panel/", "the redirect to panel/")
    wait(driver, lambda d: d.find_element(By.ID, "connection").text == "connected", "connected")
    wait(
        driver,
        lambda d: d.find_element(By.ID, "login").get_attribute("hidden") is not None,
        "no sign-in form",
    )
    wait(
        driver,
        lambda d: d.execute_script("return document.querySelector('img.live')?.naturalWidth")
        == 320,
        "live picture",
    )
    src = driver.execute_script("return document.querySelector('img.live').src")
    assert not button_shown(driver, "Sign out")  # Home Assistant signs its users out
    assert src.startswith(proxy.url + "api/cameras/front_door/stream.mjpeg")


def test_a_mask_drawn_by_mouse_is_black_in_the_next_clip_and_snapshot(
    driver: Any, addon: AddonProcess
) -> None:
    press(driver, "Add privacy mask")
    click_at(driver, [(0.1, 0.15), (0.45, 0.15), (0.45, 0.5), (0.1, 0.5)])
    press(driver, "Finish shape")
    saved(driver)
    # The page shows it as it will be burned in: a solid black polygon.
    fill = wait(
        driver,
        lambda d: d.execute_script(
            "const el = document.querySelector('polygon.mask');"
            " return el && getComputedStyle(el).fill"
        ),
        "the mask drawn",
    )
    assert fill == "rgb(0, 0, 0)"
    layout = command(addon, "get_camera_layout", camera="front_door")
    mask = corners(layout["privacy_masks"][0])
    assert np.abs(mask - [[0.1, 0.15], [0.45, 0.15], [0.45, 0.5], [0.1, 0.5]]).max() < 0.01

    def finished(event: dict[str, Any], result: Any) -> bool:
        return event["event"] == "clip_finished" and event["data"]["clip_id"] == result["clip_id"]

    clip = ("record_clip", {"camera": "front_door", "seconds": 2})
    started, _ = wait_for_event(addon, clip, finished, timeout=EVENT_WAIT)
    frames = 0
    with av.open(io.BytesIO(fetch(addon, f"/api/clips/{started['clip_id']}.mp4"))) as video:
        for frame in video.decode(video=0):
            luma = frame.to_ndarray(format="gray")
            inner, outer = inside_and_outside(luma, mask)
            assert inner.max() <= 24, f"frame {frames} shows {inner.max()} inside the mask"
            assert outer.mean() > 40
            frames += 1
    assert frames >= 6  # 2 s at 12 fps and the pre-roll after the change, fewer under load

    def ready(event: dict[str, Any], result: Any) -> bool:
        return (
            event["event"] == "snapshot_ready" and event["data"]["event_id"] == result["event_id"]
        )

    snapshot = ("take_snapshot", {"camera": "front_door"})
    _, done = wait_for_event(addon, snapshot, ready, timeout=EVENT_WAIT)
    for path in (done["data"]["path"], "/api/cameras/front_door/snapshot.jpg"):
        picture = cv2.imdecode(np.frombuffer(fetch(addon, path), np.uint8), cv2.IMREAD_GRAYSCALE)
        inner, outer = inside_and_outside(picture, mask)
        assert inner.max() <= 24, path
        assert outer.mean() > 40, path


def test_a_zone_drawn_by_mouse_fires_occupancy(
    driver: Any, addon: AddonProcess, tmp_path: Path
) -> None:
    press(driver, "Add zone")
    click_at(driver, [(0.03, 0.55), (0.97, 0.55), (0.97, 0.97), (0.03, 0.97)])
    press(driver, "Finish shape")
    saved(driver)
    layout = command(addon, "get_camera_layout", camera="front_door")
    assert [z.split("=")[0] for z in layout["zones"]] == ["zone_1"]

    def occupied(event: dict[str, Any], result: Any) -> bool:
        data = event["data"]
        return event["event"] == "occupancy" and data["zone"] == "zone_1" and data["occupied"]

    wait_for_event(addon, None, occupied, timeout=EVENT_WAIT)
    # The page shows the zone occupied, outlined, with its name.
    wait(
        driver,
        lambda d: d.find_elements(By.CSS_SELECTOR, "polygon.zone.occupied"),
        "zone shown occupied",
        30,
    )
    label = shown(driver, By.CSS_SELECTOR, "svg.overlay text.label", "the zone's label")
    assert label.text == "zone_1"
    # The picture for the docs: the zone selected, its corners and edge handles showing.
    select(driver, "Zone zone_1")
    shown(driver, By.CSS_SELECTOR, "circle.midpoint", "the selected zone's edge handles")
    driver.set_window_size(820, 1200)
    card = shown(driver, By.CSS_SELECTOR, "section.camera")
    shot = tmp_path / "panel-editor.png"
    card.screenshot(str(shot))
    driver.set_window_size(1000, 900)
    assert shot.stat().st_size > 10_000
    if os.environ.get("PORCHLIGHT_DOCS_SCREENSHOTS"):
        shutil.copyfile(shot, SCREENSHOT)


def test_the_keyboard_alone_draws_moves_adds_and_deletes_corners(
    driver: Any, addon: AddonProcess
) -> None:
    button(driver, "Add motion mask").send_keys(Keys.ENTER)
    button(driver, "Finish shape").send_keys(Keys.ENTER)  # no corners placed: a square to move
    focused(driver, "0")
    for _ in range(3):
        focused(driver, "0").send_keys(Keys.ARROW_RIGHT)
    focused(driver, "0").send_keys(Keys.ENTER)  # a corner after the first
    focused(driver, "1").send_keys(Keys.DELETE)  # and gone again
    for _ in range(2):
        focused(driver, "1").send_keys(Keys.ARROW_DOWN)  # the second corner
    button(driver, "Save").send_keys(Keys.ENTER)
    wait(
        driver,
        lambda d: d.find_element(By.CSS_SELECTOR, ".tools .hint").text.startswith("Saved"),
        "saved",
    )
    layout = command(addon, "get_camera_layout", camera="front_door")
    assert layout["motion_masks"] == ["0.38,0.35 0.65,0.37 0.65,0.65 0.35,0.65"]


def test_the_mouse_adds_a_corner_on_an_edge_and_a_double_click_removes_it(
    driver: Any, addon: AddonProcess
) -> None:
    select(driver, "Motion mask")
    shown(driver, By.CSS_SELECTOR, 'circle.midpoint[data-vertex="0"]', "the mask's edge handles")
    rect = shown(driver, By.CSS_SELECTOR, "svg.overlay").rect
    # The dot in the middle of the top edge, dragged up by 10 % of the picture.
    overlay = overlay_in_view(driver)
    ActionChains(driver).move_to_element_with_offset(
        overlay, *offset_of(driver, 'circle.midpoint[data-vertex="0"]')
    ).click_and_hold().move_by_offset(0, -round(0.1 * rect["height"])).release().perform()
    saved(driver)
    masks = command(addon, "get_camera_layout", camera="front_door")["motion_masks"]
    added = corners(masks[0])
    assert len(added) == 5
    assert np.abs(added[1] - [(0.38 + 0.65) / 2, 0.25]).max() < 0.01, added
    select(driver, "Motion mask")
    shown(driver, By.CSS_SELECTOR, 'circle.vertex[data-vertex="4"]', "the mask's five corners")
    overlay = overlay_in_view(driver)
    ActionChains(driver).move_to_element_with_offset(
        overlay, *offset_of(driver, 'circle.vertex[data-vertex="1"]')
    ).double_click().perform()
    saved(driver)
    masks = command(addon, "get_camera_layout", camera="front_door")["motion_masks"]
    assert masks == ["0.38,0.35 0.65,0.37 0.65,0.65 0.35,0.65"]


def test_a_corner_dragged_by_touch_moves_and_the_change_is_audited(
    driver: Any, addon: AddonProcess
) -> None:
    select(driver, "Privacy mask")
    box = centre_of(driver, 'circle.vertex[data-shape="0"][data-vertex="2"]')
    rect = shown(driver, By.CSS_SELECTOR, "svg.overlay").rect
    dx, dy = 0.1 * rect["width"], 0.1 * rect["height"]
    touch = lambda kind, x, y: driver.execute_cdp_cmd(  # noqa: E731
        "Input.dispatchTouchEvent",
        {"type": kind, "touchPoints": [] if kind == "touchEnd" else [{"x": x, "y": y}]},
    )
    touch("touchStart", *box)
    for step in (0.5, 1.0):
        touch("touchMove", box[0] + dx * step, box[1] + dy * step)
    touch("touchEnd", 0, 0)
    saved(driver)
    layout = command(addon, "get_camera_layout", camera="front_door")
    mask = corners(layout["privacy_masks"][0])
    assert np.abs(mask[2] - [0.55, 0.6]).max() < 0.01, mask
    # Moving a privacy mask shows more of the picture: audited, with the ingress user.
    entries = command(addon, "get_audit_log", action="privacy_masks")["entries"]
    assert entries[0]["detail"]["user"] == "alice"
    assert entries[0]["client_id"] == "panel"


def test_the_privacy_switch_turns_the_camera_off_and_on(driver: Any, addon: AddonProcess) -> None:
    click(driver, By.ID, "privacy-front_door")
    wait(
        driver,
        lambda d: "privacy mode" in d.find_element(By.CSS_SELECTOR, ".camera .status").text,
        "privacy shown",
    )
    state = command(addon, "get_state")["cameras"][0]
    assert state["privacy_mode"] is True
    wait(
        driver,
        lambda d: d.execute_script(
            "return !document.querySelector('img.live').hasAttribute('src')"
        ),
        "no live picture",
    )
    click(driver, By.ID, "privacy-front_door")
    wait(
        driver,
        lambda d: d.execute_script("return document.querySelector('img.live').naturalWidth") == 320,
        "live again",
    )
    assert command(addon, "get_state")["cameras"][0]["privacy_mode"] is False
    entries = command(addon, "get_audit_log", action="privacy_mode")["entries"]
    assert [(e["detail"]["enabled"], e["detail"]["user"]) for e in entries[:2]] == [
        (False, "alice"),
        (True, "alice"),
    ]


def test_the_page_made_no_request_outside_the_addon(driver: Any, proxy: IngressProxy) -> None:
    origin = f"127.0.0.1:{proxy.port}"
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] in ("Network.requestWillBeSent", "Network.webSocketCreated"):
            params = message["params"]
            urls.append(params.get("request", params)["url"])
    assert len(urls) > 5
    outside = [
        u for u in urls if not (u.startswith((f"http://{origin}/", f"ws://{origin}/", "data:")))
    ]
    assert outside == []


def test_standalone_the_page_asks_for_the_token(driver: Any, addon: AddonProcess) -> None:
    driver.execute_script("sessionStorage.clear()")
    driver.get(f"http://127.0.0.1:{addon.port}/")
    wait(driver, lambda d: d.find_element(By.ID, "login").is_displayed(), "the sign-in form")
    field = shown(driver, By.ID, "token")
    field.send_keys("not-the-token-at-all", Keys.ENTER)
    wait(driver, lambda d: d.find_element(By.ID, "login-error").text, "the error")
    field.clear()
    field.send_keys(addon.token, Keys.ENTER)
    wait(driver, lambda d: d.find_element(By.ID, "connection").text == "connected", "connected")
    wait(
        driver,
        lambda d: d.execute_script("return document.querySelector('img.live')?.naturalWidth")
        == 320,
        "live picture",
    )
    assert addon.token not in driver.current_url
    assert all(addon.token not in c["value"] for c in driver.get_cookies())


def status_with_cookie(addon: AddonProcess, path: str, cookie: dict[str, Any]) -> int:
    """The HTTP status of GET `path` on the API port with only the page's session cookie."""

    async def run() -> int:
        url = f"http://127.0.0.1:{addon.port}{path}"
        jar = {cookie["name"]: cookie["value"]}
        async with aiohttp.ClientSession(cookies=jar) as http, http.get(url) as resp:
            return resp.status

    return asyncio.run(run())


def test_standalone_sign_out_ends_the_session(driver: Any, addon: AddonProcess) -> None:
    (cookie,) = [c for c in driver.get_cookies() if c["name"] == "porchlight_panel"]
    snapshot = "/api/cameras/front_door/snapshot.jpg"
    assert status_with_cookie(addon, snapshot, cookie) == 200  # the session opens pictures
    press(driver, "Sign out")
    wait(driver, lambda d: d.find_element(By.ID, "login").is_displayed(), "the sign-in form")
    assert driver.find_element(By.ID, "login-error").text == ""
    # The add-on ended it: the same cookie, kept by someone, opens nothing any more.
    wait(
        driver,
        lambda d: status_with_cookie(addon, snapshot, cookie) == 401,
        "the session to end",
    )
    assert driver.execute_script("return sessionStorage.length") == 0
    assert [c for c in driver.get_cookies() if c["name"] == "porchlight_panel"] == []
    assert not button_shown(driver, "Sign out")
