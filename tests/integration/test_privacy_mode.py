"""Privacy mode is a state the owner chose, not a fault (issue #14, item 2).

The camera's still image and MJPEG stream are the "privacy mode on" placeholder, served
by Home Assistant's own camera views (which refuse every picture of a camera that is off,
so the camera stays on for Home Assistant), and it offers no live stream; the
camera-problem sensor stays off (so nothing lands in the Activity log); "Take snapshot"
is unavailable; an action the add-on refuses for privacy mode is a translated
ServiceValidationError. Also for a 1.1 add-on, which reports privacy mode as `offline`.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from homeassistant.components.camera import CameraEntityFeature, CameraState
from homeassistant.const import ATTR_SUPPORTED_FEATURES, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.event import async_track_state_change_event
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.placeholder import PLACEHOLDER_SIZE, privacy_placeholder
from custom_components.porchlight.pyporchlight.protocol import CameraStatus

from .conftest import setup_subscribed, wait_for_state
from .fake_addon import FakeAddon, decode_jpeg

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

CAMERA = "camera.front_door"
PROBLEM = "binary_sensor.front_door_camera_problem"
PRIVACY = "switch.front_door_privacy_mode"
TAKE_SNAPSHOT = "button.front_door_take_snapshot"


@pytest.mark.parametrize("status", [CameraStatus.PRIVACY, CameraStatus.OFFLINE])
async def test_privacy_mode_is_not_a_camera_problem(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    mock_config_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    hass_client: ClientSessionGenerator,
    hass_ws_client: WebSocketGenerator,
    status: CameraStatus,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_addon.privacy_status = status  # OFFLINE: a 1.1 add-on
    await setup_subscribed(hass, fake_addon, mock_config_entry)
    problem_states: list[str] = []

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            problem_states.append(new.state)

    async_track_state_change_event(hass, PROBLEM, record)
    websocket_client = await hass_ws_client(hass)
    camera = hass.states.get(CAMERA)
    assert camera is not None
    assert camera.attributes["entity_picture"].startswith(f"/api/camera_proxy/{CAMERA}?token=")

    await hass.services.async_call("switch", "turn_on", {"entity_id": PRIVACY}, blocking=True)
    await wait_for_state(hass, lambda: hass.states.get(PRIVACY).state == STATE_ON)  # type: ignore[union-attr]
    data = mock_config_entry.runtime_data
    assert data.cameras["front_door"]["status"] == status
    assert hass.states.get(PROBLEM).state == STATE_OFF  # type: ignore[union-attr]
    assert STATE_ON not in problem_states  # never on, not even between the two events
    assert hass.states.get(PROBLEM).attributes["status"] == status  # type: ignore[union-attr]

    # The camera's picture says why it is dark instead of a broken image: the same URL as
    # always (the frontend's dialog, cards and device page use HA's camera views), and no
    # live stream is offered (the frontend would ask for one that is refused).
    camera = hass.states.get(CAMERA)
    assert camera is not None
    assert camera.state == CameraState.IDLE
    assert not camera.attributes[ATTR_SUPPORTED_FEATURES] & CameraEntityFeature.STREAM
    picture = camera.attributes["entity_picture"]
    assert picture.startswith(f"/api/camera_proxy/{CAMERA}?token=")
    served = fake_addon.snapshots_served
    anonymous = await hass_client_no_auth()  # an <img> with the entity's access token
    response = await anonymous.get(picture)
    assert response.status == 200
    assert response.content_type == "image/jpeg"
    placeholder = await response.read()
    height, width, _ = decode_jpeg(placeholder).shape
    assert (width, height) == PLACEHOLDER_SIZE
    assert placeholder == privacy_placeholder()
    client = await hass_client()
    assert (await (await client.get(f"/api/camera_proxy/{CAMERA}")).read()) == placeholder
    # The live view without a stream is HA's MJPEG view: the placeholder too, until
    # privacy mode ends (tested below).
    token = camera.attributes["access_token"]
    mjpeg = await anonymous.get(f"/api/camera_proxy_stream/{CAMERA}?token={token}")
    assert mjpeg.status == 200
    assert mjpeg.headers["Content-Type"].startswith("multipart/x-mixed-replace")
    first_frames = b""
    async with asyncio.timeout(10):
        while first_frames.count(placeholder) < 2:  # sent twice: Chrome shows frame n-1
            first_frames += await mjpeg.content.readany()
    assert fake_addon.snapshots_served == served  # the add-on has no picture to give
    await websocket_client.send_json_auto_id({"type": "camera/capabilities", "entity_id": CAMERA})
    capabilities = await websocket_client.receive_json()
    assert capabilities["result"]["frontend_stream_types"] == []

    # Nothing to take a snapshot of: the button cannot be pressed (so nothing fails).
    assert hass.states.get(TAKE_SNAPSHOT).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    # An action that reaches the add-on is refused as the user's choice, translated.
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN, "record_clip", {"seconds": 10}, blocking=True, return_response=True
        )
    assert raised.value.translation_key == "privacy_mode_on"
    assert raised.value.translation_placeholders["target"] == "front_door"
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "snapshot",
            {"filename": str(tmp_path / "snap.jpg")},
            blocking=True,
            return_response=True,
        )
    assert raised.value.translation_key == "privacy_mode_on"
    assert not (tmp_path / "snap.jpg").exists()

    await hass.services.async_call("camera", "turn_on", {"entity_id": CAMERA}, blocking=True)
    await wait_for_state(hass, lambda: hass.states.get(PRIVACY).state == STATE_OFF)  # type: ignore[union-attr]
    # The placeholder stream ends, so the viewer reconnects to the live picture.
    async with asyncio.timeout(10):
        await mjpeg.content.read()
    assert mjpeg.content.at_eof()
    camera = hass.states.get(CAMERA)
    assert camera is not None
    assert camera.attributes[ATTR_SUPPORTED_FEATURES] & CameraEntityFeature.STREAM
    assert (await (await client.get(f"/api/camera_proxy/{CAMERA}")).read()) != placeholder
    assert fake_addon.snapshots_served == served + 1
    assert hass.states.get(TAKE_SNAPSHOT).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
    assert STATE_ON not in problem_states
    # Expected refusals are the user's to read, not errors in the log.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_a_real_fault_is_still_a_problem(hass: HomeAssistant, loaded: FakeAddon) -> None:
    loaded.status("front_door", CameraStatus.OFFLINE, "connection refused")
    await wait_for_state(hass, lambda: hass.states.get(PROBLEM).state == STATE_ON)  # type: ignore[union-attr]
    # An offline camera that is not in privacy mode, whatever else its reason says.
    loaded.status("front_door", CameraStatus.STALLED, "privacy mode")
    await wait_for_state(
        hass,
        lambda: hass.states.get(PROBLEM).attributes["status"] == CameraStatus.STALLED,  # type: ignore[union-attr]
    )
    assert hass.states.get(PROBLEM).state == STATE_ON  # type: ignore[union-attr]
