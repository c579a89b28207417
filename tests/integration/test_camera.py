"""Camera entity: snapshot and MJPEG proxy through Home Assistant's camera views."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from unittest.mock import patch

from homeassistant.auth.models import User
from homeassistant.components.camera import async_get_image
from homeassistant.components.http.auth import async_sign_path
from homeassistant.const import Platform
from homeassistant.core import Context
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
)

from custom_components.porchlight.pyporchlight.http import snapshot_query

from .conftest import setup_integration
from .fake_addon import FakeAddon, decode_jpeg

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .conftest import HttpClient

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


async def test_mjpeg_stream_is_proxied(fake_addon: FakeAddon, ha_http: HttpClient) -> None:
    response = await ha_http.get(f"/api/camera_proxy_stream/{CAMERA}")
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


async def test_snapshot_is_full_size_unless_home_assistant_asks_a_size(
    fake_addon: FakeAddon, ha_http: HttpClient
) -> None:
    response = await ha_http.get(f"/api/camera_proxy/{CAMERA}")
    assert response.status == 200
    assert decode_jpeg(await response.read()).shape == (48, 64, 3)
    # The frontend's thumbnails ask for their size: the add-on scales, aspect kept.
    response = await ha_http.get(f"/api/camera_proxy/{CAMERA}?width=32&height=24")
    assert response.status == 200
    assert decode_jpeg(await response.read()).shape == (24, 32, 3)
    assert fake_addon.snapshot_queries == [{}, {"width": "32", "height": "24"}]


async def test_an_add_on_before_1_2_gets_no_snapshot_size_and_home_assistant_scales(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    mock_config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    fake_addon.version = {"protocol_version": 1, "protocol_minor": 1}
    await setup_integration(hass, mock_config_entry)
    client = await hass_client()
    response = await client.get(f"/api/camera_proxy/{CAMERA}?width=32&height=24")
    assert response.status == 200
    assert decode_jpeg(await response.read()).shape == (24, 32, 3)
    assert fake_addon.snapshot_queries == [{}]


@pytest.mark.parametrize(
    ("width", "height", "query"),
    [
        (None, None, ""),
        (640, None, "?width=640"),
        (None, 360, "?height=360"),
        (5, 100_000, "?width=16"),  # below the limit: the smallest; above it: no bound
        (0, -3, ""),
    ],
)
def test_snapshot_size_is_kept_within_the_protocol_limits(
    width: int | None, height: int | None, query: str
) -> None:
    assert snapshot_query(width, height) == query


async def test_every_picture_names_the_home_assistant_user(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    mock_config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    hass_admin_user: User,
    tmp_path: Path,
) -> None:
    await setup_integration(hass, mock_config_entry)

    def users(action: str) -> list[str | None]:
        return [(e["detail"] or {}).get("user") for e in fake_addon.audit if e["action"] == action]

    # The frontend's pictures and live view, as the logged-in user.
    client = await hass_client()
    assert (await client.get(f"/api/camera_proxy/{CAMERA}?width=32&height=24")).status == 200
    assert (await client.get(f"/api/camera_proxy_stream/{CAMERA}")).status == 200
    # A signed path (the frontend's thumbnails) carries its user too.
    signed = async_sign_path(
        hass, f"/api/camera_proxy/{CAMERA}", timedelta(minutes=1), refresh_token_id=None
    )
    assert (await client.get(signed)).status == 200
    # camera.snapshot, an action: the user of its context.
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    await hass.services.async_call(
        "camera",
        "snapshot",
        {"entity_id": CAMERA, "filename": str(tmp_path / "snap.jpg")},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert (tmp_path / "snap.jpg").read_bytes()[:2] == b"\xff\xd8"
    assert users("snapshot") == [hass_admin_user.name] * 3
    assert users("live_stream") == [hass_admin_user.name]
    # The live view's <img> is let in by the entity's access token alone: it says so.
    token = hass.states.get(CAMERA).attributes["access_token"]  # type: ignore[union-attr]
    anonymous = await hass_client_no_auth()
    response = await anonymous.get(f"/api/camera_proxy_stream/{CAMERA}?token={token}")
    assert response.status == 200
    await response.read()
    assert users("live_stream")[-1] == f"{CAMERA} access token"
    # An automation has no user, and none is made up.
    await hass.services.async_call(
        "camera",
        "snapshot",
        {"entity_id": CAMERA, "filename": str(tmp_path / "auto.jpg")},
        blocking=True,
    )
    assert users("snapshot")[-1] is None
