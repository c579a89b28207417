"""Camera entity: snapshot and MJPEG proxy through Home Assistant's camera views."""

from __future__ import annotations

from typing import TYPE_CHECKING
from unittest.mock import patch

from homeassistant.components.camera import async_get_image
from homeassistant.const import Platform
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
)

from .conftest import setup_integration
from .fake_addon import FakeAddon, decode_jpeg

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

CAMERA = "camera.front_door"


@pytest.fixture(autouse=True)
def only_camera_platform() -> object:
    with patch("custom_components.porchlight.PLATFORMS", [Platform.CAMERA]):
        yield


async def test_camera_entity(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    await setup_integration(hass, mock_config_entry)
    state = hass.states.get(CAMERA)
    assert state is not None
    assert state.state == "streaming"
    assert state.attributes["friendly_name"] == "Front door"
    assert state.attributes["brand"] == "Porchlight"
    assert state.attributes["motion_detection"] is True


async def test_camera_image_is_the_addon_snapshot(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    await setup_integration(hass, mock_config_entry)
    image = await async_get_image(hass, CAMERA)
    assert image.content_type == "image/jpeg"
    decoded = decode_jpeg(image.content)
    assert decoded.shape == (48, 64, 3)
    assert fake_addon.snapshots_served == 1


async def test_camera_image_error_is_translated(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    await setup_integration(hass, mock_config_entry)
    fake_addon.cameras.pop("front_door")  # the add-on now answers 404
    with pytest.raises(HomeAssistantError) as raised:
        await async_get_image(hass, CAMERA)
    assert raised.value.translation_key == "addon_not_found"


async def test_mjpeg_stream_is_proxied(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    mock_config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    await setup_integration(hass, mock_config_entry)
    client = await hass_client()
    response = await client.get(f"/api/camera_proxy_stream/{CAMERA}")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("multipart/x-mixed-replace")
    body = await response.read()
    assert body.count(b"--frame\r\n") == fake_addon.mjpeg_parts
    jpegs = [part for part in body.split(b"--frame\r\n") if part]
    levels = []
    for part in jpegs:
        jpeg = part.split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n")
        frame = decode_jpeg(jpeg)
        levels.append(round(float(frame.mean()) / 40))
    assert levels == [1, 2, 3]  # every frame arrives intact and in order
