"""Privacy mode is a state the owner chose, not a fault (issue #14, item 2).

The camera entity is off and its picture is the "privacy mode on" placeholder; the
camera-problem sensor stays off (so nothing lands in the Activity log); "Take snapshot"
is unavailable; an action the add-on refuses for privacy mode is a translated
ServiceValidationError. Also for a 1.1 add-on, which reports privacy mode as `offline`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from homeassistant.components.camera.const import DATA_COMPONENT
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.event import async_track_state_change_event
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.placeholder import (
    PLACEHOLDER_SIZE,
    PLACEHOLDER_URL,
    placeholder_url,
)
from custom_components.porchlight.pyporchlight.protocol import CameraStatus

from .conftest import setup_integration, wait_for_state
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
    status: CameraStatus,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_addon.privacy_status = status  # OFFLINE: a 1.1 add-on
    await setup_integration(hass, mock_config_entry)
    await wait_for_state(hass, lambda: fake_addon.subscriber_count == 1)
    problem_states: list[str] = []

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            problem_states.append(new.state)

    async_track_state_change_event(hass, PROBLEM, record)
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

    # The camera is off, and its picture says why instead of a broken image.
    camera = hass.states.get(CAMERA)
    assert camera is not None
    picture = camera.attributes["entity_picture"]
    assert picture == placeholder_url(CAMERA, camera.attributes["access_token"])
    served = fake_addon.snapshots_served
    # Home Assistant's own views refuse an off camera; whoever asks the entity gets this.
    entity = hass.data[DATA_COMPONENT].get_entity(CAMERA)
    assert entity is not None
    image = await entity.async_camera_image()
    assert fake_addon.snapshots_served == served  # the add-on has no picture to give
    anonymous = await hass_client_no_auth()
    response = await anonymous.get(picture)
    assert response.status == 200
    assert response.content_type == "image/jpeg"
    placeholder = await response.read()
    assert placeholder == image
    height, width, _ = decode_jpeg(placeholder).shape
    assert (width, height) == PLACEHOLDER_SIZE
    # Authenticated as Home Assistant's own camera pictures are.
    bare = PLACEHOLDER_URL.format(entity_id=CAMERA)
    for url in (bare, f"{bare}?token=wrong", PLACEHOLDER_URL.format(entity_id="camera.x")):
        assert (await anonymous.get(url)).status == 403, url
    client = await hass_client()
    assert (await client.get(bare)).status == 200
    assert (await client.get(PLACEHOLDER_URL.format(entity_id="camera.x"))).status == 404

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
    camera = hass.states.get(CAMERA)
    assert camera is not None
    assert camera.attributes["entity_picture"].startswith(f"/api/camera_proxy/{CAMERA}?token=")
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
