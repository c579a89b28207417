"""Camera stream source: the add-on's live stream URL with the stream credential.

Against the fake add-on: which URL HA's `stream` gets, when there is none (privacy
mode, older add-ons), errors through the one translator, and credential rotation
by action and button (open HA streams switch to the new URL).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from unittest.mock import patch

from homeassistant.components.camera import CameraEntityFeature, async_get_stream_source
from homeassistant.components.camera.const import DATA_COMPONENT
from homeassistant.components.camera.helper import get_camera_from_entity_id
from homeassistant.components.websocket_api.connection import ActiveConnection, current_connection
from homeassistant.const import ATTR_ENTITY_ID, ATTR_SUPPORTED_FEATURES, Platform
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
import pytest

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.pyporchlight.protocol import Command, ErrorCode

from .conftest import setup_integration, wait_for_state

if TYPE_CHECKING:
    from homeassistant.auth.models import User
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from .fake_addon import FakeAddon

CAMERA = "camera.front_door"
BUTTON = "button.porchlight_rotate_stream_credential"


@pytest.fixture(autouse=True)
def camera_and_button_platforms() -> object:
    with patch("custom_components.porchlight.PLATFORMS", [Platform.CAMERA, Platform.BUTTON]):
        yield


def _url(addon: FakeAddon, secret: int) -> str:
    return (
        f"http://127.0.0.1:{addon.port}/api/cameras/front_door/stream.ts?credential=secret{secret}"
    )


async def test_stream_source_is_the_addons_live_stream(
    hass: HomeAssistant, loaded: FakeAddon
) -> None:
    state = hass.states.get(CAMERA)
    assert state is not None
    assert state.attributes[ATTR_SUPPORTED_FEATURES] & CameraEntityFeature.STREAM
    source = await async_get_stream_source(hass, CAMERA)
    assert source == _url(loaded, 1)
    assert loaded.token not in source  # never the API token
    assert loaded.commands[-1]["command"] == Command.GET_STREAM_URL


async def test_no_stream_source_in_privacy_mode(hass: HomeAssistant, loaded: FakeAddon) -> None:
    loaded.cameras["front_door"]["privacy_mode"] = True
    loaded.camera_state_changed("front_door")
    await wait_for_state(hass, lambda: hass.states.get(CAMERA).state == "idle")  # type: ignore[union-attr]
    state = hass.states.get(CAMERA)
    assert state is not None
    assert not state.attributes[ATTR_SUPPORTED_FEATURES] & CameraEntityFeature.STREAM
    assert await async_get_stream_source(hass, CAMERA) is None
    # go2rtc asks the entity directly: it has no source either, without asking the add-on.
    camera = hass.data[DATA_COMPONENT].get_entity(CAMERA)
    assert camera is not None
    sent = len(loaded.commands)
    assert await camera.stream_source() is None
    assert len(loaded.commands) == sent


async def test_older_addon_offers_mjpeg_only(
    hass: HomeAssistant, fake_addon: FakeAddon, mock_config_entry: MockConfigEntry
) -> None:
    del fake_addon.cameras["front_door"]["live_stream"]
    await setup_integration(hass, mock_config_entry)
    state = hass.states.get(CAMERA)
    assert state is not None
    assert not state.attributes[ATTR_SUPPORTED_FEATURES] & CameraEntityFeature.STREAM
    assert await async_get_stream_source(hass, CAMERA) is None
    assert hass.states.get(BUTTON) is None  # nothing to rotate


async def test_stream_url_error_is_translated(hass: HomeAssistant, loaded: FakeAddon) -> None:
    loaded.failing_commands[Command.GET_STREAM_URL] = ErrorCode.UNAVAILABLE
    with pytest.raises(HomeAssistantError) as raised:
        await async_get_stream_source(hass, CAMERA)
    assert raised.value.translation_key == "addon_failed"
    assert raised.value.translation_placeholders["action"] == Command.GET_STREAM_URL


async def _open_ha_stream(hass: HomeAssistant) -> object:
    assert await async_setup_component(hass, "stream", {})
    camera = get_camera_from_entity_id(hass, CAMERA)
    # Created, not started: no worker opens the (fake) URL.
    stream = await camera.async_create_stream()
    assert stream is not None
    return stream


async def test_rotate_action_revokes_and_moves_open_streams(
    hass: HomeAssistant, loaded: FakeAddon
) -> None:
    stream = await _open_ha_stream(hass)
    assert stream.source == _url(loaded, 1)  # type: ignore[attr-defined]
    await hass.services.async_call(DOMAIN, "rotate_stream_credential", {}, blocking=True)
    assert [entry["action"] for entry in loaded.audit] == ["stream_credential"]
    assert stream.source == _url(loaded, 2)  # type: ignore[attr-defined]


async def test_privacy_mode_ends_home_assistants_stream(
    hass: HomeAssistant, loaded: FakeAddon
) -> None:
    stream = await _open_ha_stream(hass)
    stream.add_provider("hls")  # type: ignore[attr-defined]
    assert stream.outputs()  # type: ignore[attr-defined]
    await hass.services.async_call("camera", "turn_off", {ATTR_ENTITY_ID: CAMERA}, blocking=True)
    # Its worker would retry the refused URL, logging an error each time.
    await wait_for_state(hass, lambda: not stream.outputs())  # type: ignore[attr-defined]
    assert stream.access_token is None  # type: ignore[attr-defined]


def as_viewer(hass: HomeAssistant, user: User) -> None:
    """Serve as the frontend's websocket commands (camera/stream, WebRTC offers) are:
    a connection of `user` (Home Assistant's connection sets `current_connection`)."""
    logger = logging.getLogger(__name__)
    ActiveConnection(logger, hass, print, user, None, "127.0.0.1")  # type: ignore[arg-type]
    assert current_connection.get() is not None


async def test_every_live_stream_viewer_is_audited_with_their_user(
    hass: HomeAssistant, loaded: FakeAddon, hass_admin_user: User, hass_read_only_user: User
) -> None:
    camera = get_camera_from_entity_id(hass, CAMERA)
    assert await async_setup_component(hass, "stream", {})

    def viewers() -> list[str | None]:
        return [
            (e["detail"] or {}).get("user") for e in loaded.audit if e["action"] == "live_stream"
        ]

    as_viewer(hass, hass_admin_user)
    assert await camera.async_create_stream() is not None  # the first viewer creates it
    as_viewer(hass, hass_read_only_user)
    await camera.async_create_stream()  # a second viewer joins HA's one stream
    assert await camera.stream_source() is not None  # a WebRTC offer (go2rtc)
    assert viewers() == [hass_admin_user.name, hass_read_only_user.name, hass_read_only_user.name]
    # Not a viewer: the URL refresh after a rotation, and HA's own start (preload).
    current_connection.set(None)
    await hass.services.async_call(DOMAIN, "rotate_stream_credential", {}, blocking=True)
    assert await camera.stream_source() is not None
    assert len(viewers()) == 3


@pytest.mark.parametrize(
    ("loaded_at_minor", "sent"), [(1, False), (2, True)], indirect=["loaded_at_minor"]
)
async def test_stream_viewer_goes_only_to_add_ons_that_take_it(
    hass: HomeAssistant, loaded_at_minor: FakeAddon, hass_admin_user: User, sent: bool
) -> None:
    as_viewer(hass, hass_admin_user)
    assert await get_camera_from_entity_id(hass, CAMERA).stream_source() is not None
    (args,) = loaded_at_minor.sent(Command.GET_STREAM_URL)
    assert ("user" in args) is sent


async def test_rotate_button(hass: HomeAssistant, loaded: FakeAddon) -> None:
    stream = await _open_ha_stream(hass)
    await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: BUTTON}, blocking=True)
    assert stream.source == _url(loaded, 2)  # type: ignore[attr-defined]


async def test_rotate_failure_is_translated(hass: HomeAssistant, loaded: FakeAddon) -> None:
    loaded.failing_commands[Command.ROTATE_STREAM_CREDENTIAL] = ErrorCode.INTERNAL_ERROR
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: BUTTON}, blocking=True)
    assert raised.value.translation_key == "addon_failed"
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(DOMAIN, "rotate_stream_credential", {}, blocking=True)
    assert raised.value.translation_placeholders["action"] == "rotate_stream_credential"
