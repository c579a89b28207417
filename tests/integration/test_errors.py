"""The one error translator: every path reads a failure the same way, and a 401 starts reauth."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.camera import async_get_image
from homeassistant.components.image import async_get_image as async_get_entity_image
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.errors import ErrorKind, error_kind
from custom_components.porchlight.pyporchlight.exceptions import (
    PorchlightAuthError,
    PorchlightCommandError,
    PorchlightConnectionError,
    PorchlightError,
)

from .conftest import wait_for_state
from .fake_addon import FakeAddon

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator


@pytest.mark.parametrize(
    ("err", "kind"),
    [
        (PorchlightAuthError("bad token"), ErrorKind.AUTH),
        (PorchlightConnectionError("down"), ErrorKind.UNREACHABLE),
        (PorchlightCommandError("not_found", "no"), ErrorKind.NOT_FOUND),
        (PorchlightCommandError("http_404", "no"), ErrorKind.NOT_FOUND),
        (PorchlightCommandError("invalid_args", "no"), ErrorKind.INVALID),
        (PorchlightCommandError("http_400", "no"), ErrorKind.INVALID),
        (PorchlightCommandError("unavailable", "privacy mode"), ErrorKind.FAILED),
        (PorchlightCommandError("http_500", ""), ErrorKind.FAILED),
        (PorchlightError("other"), ErrorKind.FAILED),
    ],
)
def test_error_kinds(err: PorchlightError, kind: ErrorKind) -> None:
    assert error_kind(err) is kind


def reauth_flows(hass: HomeAssistant) -> list[str]:
    return [
        flow["context"]["source"]
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_REAUTH
    ]


async def _camera_image(hass: HomeAssistant, _client: Any, _entry_id: str) -> None:
    with pytest.raises(HomeAssistantError) as raised:
        await async_get_image(hass, "camera.front_door")
    assert raised.value.translation_key == "addon_auth_failed"
    assert raised.value.translation_placeholders["action"] == "snapshot"


async def _visitor_image(hass: HomeAssistant, _client: Any, _entry_id: str) -> None:
    with pytest.raises(HomeAssistantError) as raised:
        await async_get_entity_image(hass, "image.front_door_last_visitor")
    assert raised.value.translation_key == "addon_auth_failed"
    assert raised.value.translation_placeholders["action"] == "event_snapshot"


async def _snapshot_action(hass: HomeAssistant, _client: Any, _entry_id: str) -> None:
    hass.config.allowlist_external_dirs = {"/tmp"}
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            DOMAIN, "snapshot", {"filename": "/tmp/porchlight-never.jpg"}, blocking=True
        )
    assert not isinstance(raised.value, ServiceValidationError)
    assert raised.value.translation_key == "addon_auth_failed"


async def _snapshot_view(_hass: HomeAssistant, client: Any, entry_id: str) -> None:
    response = await client.get(f"/api/porchlight/{entry_id}/events/boot-1:1/snapshot.jpg")
    assert response.status == 502
    assert "rotated" not in await response.text()


async def _mjpeg_view(_hass: HomeAssistant, client: Any, _entry_id: str) -> None:
    response = await client.get("/api/camera_proxy_stream/camera.front_door")
    assert response.status == 502


@pytest.mark.parametrize(
    "path", [_camera_image, _visitor_image, _snapshot_action, _snapshot_view, _mjpeg_view]
)
async def test_http_401_starts_reauth_on_every_path(
    hass: HomeAssistant,
    loaded: FakeAddon,
    mock_config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    path: Any,
) -> None:
    client = await hass_client()
    if path is _visitor_image:
        loaded.ring_snapshots = True
        loaded.ring("front_door")
        data = mock_config_entry.runtime_data
        await wait_for_state(hass, lambda: "front_door" in data.last_visitor)
    # The token was rotated on the add-on: the live websocket stays up, HTTP answers 401.
    loaded.token = "rotated"
    assert reauth_flows(hass) == []
    await path(hass, client, mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert reauth_flows(hass) == [SOURCE_REAUTH]


async def test_errors_on_other_paths_do_not_start_reauth(
    hass: HomeAssistant,
    loaded: FakeAddon,
    mock_config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    camera = loaded.cameras.pop("front_door")  # 404 over HTTP, not_found over the websocket
    with pytest.raises(ServiceValidationError) as raised:
        await async_get_image(hass, "camera.front_door")
    assert raised.value.translation_key == "addon_not_found"
    client = await hass_client()
    response = await client.get("/api/camera_proxy_stream/camera.front_door")
    assert response.status == 404
    loaded.cameras["front_door"] = camera
    await hass.async_block_till_done()
    assert reauth_flows(hass) == []
