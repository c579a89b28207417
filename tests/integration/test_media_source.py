"""Media browser: events by camera, day and type; playback through Home Assistant's
proxy views (Range passed through, the HA user named to the add-on, no add-on token)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from homeassistant.components import media_source
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source import Unresolvable
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import (
    addon_entry,
    running_addon,
    setup_integration,
    setup_subscribed,
    wait_for_state,
)
from .fake_addon import FakeAddon, decode_jpeg

if TYPE_CHECKING:
    from homeassistant.auth.models import User
    from homeassistant.components.media_player.browse_media import BrowseMedia
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.typing import (
        ClientSessionGenerator,
        WebSocketGenerator,
    )

BERLIN = ZoneInfo("Europe/Berlin")
ROOT = "media-source://porchlight"
NNBSP = "\u202f"
"""CLDR's (and the browser's) space before AM/PM: narrow and no-break."""
CLIP = bytes(range(256)) * 40  # 10240 distinct-enough bytes: ranges are checkable


def berlin(day: int, hour: int, minute: int) -> float:
    return datetime(2025, 11, day, hour, minute, tzinfo=BERLIN).timestamp()


@pytest.fixture
async def recorded(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    mock_config_entry: MockConfigEntry,
) -> dict[str, dict[str, Any]]:
    """Events on two local days that are one UTC day (23:30 and 00:10 in Berlin).

    In 2025, a year before this code: day tiles name the year, not the weekday.
    """
    await hass.config.async_set_time_zone("Europe/Berlin")
    assert await async_setup_component(hass, "media_source", {})
    events = {
        "late_ring": fake_addon.add_recording("ring", berlin(27, 23, 30), clip=CLIP),
        "late_motion": fake_addon.add_recording("motion", berlin(27, 23, 28), clip=b"m" * 99),
        "night_ring": fake_addon.add_recording("ring", berlin(28, 0, 10), clip=b"n" * 50),
        "no_footage": fake_addon.add_recording("motion", berlin(28, 0, 5), snapshot=False),
        "snapshot_only": fake_addon.add_recording("manual", berlin(28, 0, 1)),
    }
    await setup_subscribed(hass, fake_addon, mock_config_entry)
    return events


def kids(node: BrowseMedia) -> list[BrowseMedia]:
    """A browse node's children (a folder always has a list, maybe empty)."""
    assert node.children is not None
    return list(node.children)


def titles(node: BrowseMedia) -> list[str]:
    return [child.title for child in kids(node)]


async def test_browse_camera_day_type_event(
    hass: HomeAssistant, recorded: dict[str, dict[str, Any]], mock_config_entry: MockConfigEntry
) -> None:
    entry_id = mock_config_entry.entry_id
    root = await media_source.async_browse_media(hass, ROOT)
    assert root.title == "Porchlight"
    assert titles(root) == ["Front door"]

    camera = await media_source.async_browse_media(hass, kids(root)[0].media_content_id)
    assert titles(camera) == ["11/28/2025 (3)", "11/27/2025 (2)"]

    day = await media_source.async_browse_media(hass, f"{ROOT}/{entry_id}/front_door/2025-11-28")
    assert day.title == "Fri, Nov 28, 2025"
    assert titles(day) == ["Rings (1)", "Motion (1)", "Manual (1)"]

    rings = await media_source.async_browse_media(
        hass, f"{ROOT}/{entry_id}/front_door/2025-11-27/ring"
    )
    (clip,) = kids(rings)
    late = recorded["late_ring"]
    assert rings.title == "Rings, Thu, Nov 27, 2025"
    assert clip.title == f"11:30:00{NNBSP}PM"  # Home Assistant's language, en: 12-hour
    assert clip.can_play
    assert not clip.can_expand
    assert clip.media_content_id == f"{ROOT}/{entry_id}/clip~{late['clip_id']}"
    assert clip.thumbnail == f"/api/porchlight/{entry_id}/events/{late['id']}/snapshot.jpg"

    # An event without a clip shows its snapshot; one with neither is left out.
    manual = await media_source.async_browse_media(
        hass, f"{ROOT}/{entry_id}/front_door/2025-11-28/manual"
    )
    (snapshot,) = kids(manual)
    assert snapshot.media_content_type == "image/jpeg"
    assert snapshot.media_content_id.endswith(f"snapshot~{recorded['snapshot_only']['id']}")
    motion = await media_source.async_browse_media(
        hass, f"{ROOT}/{entry_id}/front_door/2025-11-28/motion"
    )
    assert kids(motion) == []


async def test_browse_pages_through_many_events(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    recorded: dict[str, dict[str, Any]],
    mock_config_entry: MockConfigEntry,
) -> None:
    for minute in range(250):  # more than one page of 200
        fake_addon.add_recording("motion", berlin(26, 8, 0) + minute * 60, clip=b"x")
    camera = await media_source.async_browse_media(
        hass, f"{ROOT}/{mock_config_entry.entry_id}/front_door"
    )
    assert titles(camera)[-1] == "11/26/2025 (250)"
    offsets = [
        c["args"].get("offset") for c in fake_addon.commands if c["command"] == "list_events"
    ]
    assert offsets[-2:] == [0, 200]


async def test_an_event_arriving_while_paging_is_listed_once(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    recorded: dict[str, dict[str, Any]],
    mock_config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A ring between two pages moves every older event one place on (newest first):
    the next page repeats the last event of the one before."""
    for minute in range(250):  # more than one page of 200
        fake_addon.add_recording("motion", berlin(26, 8, 0) + minute * 60, clip=b"x")
    real = fake_addon._list_events

    def ring_after_the_first_page(args: dict[str, Any]) -> dict[str, Any]:
        page = real(args)
        if args.get("offset", 0) == 0 and len(page["events"]) == 200:
            fake_addon.add_recording("ring", berlin(26, 23, 0), clip=b"x")
        return page

    monkeypatch.setattr(fake_addon, "_list_events", ring_after_the_first_page)
    camera = await media_source.async_browse_media(
        hass, f"{ROOT}/{mock_config_entry.entry_id}/front_door"
    )
    # Each motion event once (no tile twice); the ring came after the first page was read.
    assert titles(camera)[-1] == "11/26/2025 (250)"
    camera = await media_source.async_browse_media(
        hass, f"{ROOT}/{mock_config_entry.entry_id}/front_door"
    )
    assert titles(camera)[-1] == "11/26/2025 (251)"


@pytest.mark.parametrize(
    "identifier",
    [
        "unknown/front_door",
        "{entry}/garage",
        "{entry}/front_door/not-a-day",
        "{entry}/front_door/2025-11-27/bogus",
        "{entry}/front_door/2025-11-27/ring/x/y",
    ],
)
async def test_browse_errors(
    hass: HomeAssistant,
    recorded: dict[str, dict[str, Any]],
    mock_config_entry: MockConfigEntry,
    identifier: str,
) -> None:
    with pytest.raises(BrowseError):
        await media_source.async_browse_media(
            hass, f"{ROOT}/{identifier.format(entry=mock_config_entry.entry_id)}"
        )


async def test_browse_when_the_addon_is_down(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    recorded: dict[str, dict[str, Any]],
    mock_config_entry: MockConfigEntry,
) -> None:
    await fake_addon.stop()
    await wait_for_state(hass, lambda: not mock_config_entry.runtime_data.connected)
    with pytest.raises(BrowseError, match="did not answer"):
        await media_source.async_browse_media(
            hass, f"{ROOT}/{mock_config_entry.entry_id}/front_door"
        )


async def test_root_names_the_addon_with_several_entries(
    hass: HomeAssistant, recorded: dict[str, dict[str, Any]], socket_enabled: None
) -> None:
    async with running_addon(instance_id="fedcba9876543210", cameras=(("porch", ""),)) as second:
        entry = addon_entry(second, title="Garage")
        await setup_integration(hass, entry)
        root = await media_source.async_browse_media(hass, ROOT)
        assert sorted(titles(root)) == ["Garage: porch", "Porchlight: Front door"]
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_resolve_and_play_a_clip_with_range(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    recorded: dict[str, dict[str, Any]],
    mock_config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_admin_user: User,
) -> None:
    clip_id = recorded["late_ring"]["clip_id"]
    played = await media_source.async_resolve_media(
        hass, f"{ROOT}/{mock_config_entry.entry_id}/clip~{clip_id}", None
    )
    assert played.mime_type == "video/mp4"
    assert played.url.startswith(f"/api/porchlight/{mock_config_entry.entry_id}/clips/")
    assert "authSig=" in played.url

    client = await hass_client()
    path = played.url.split("?")[0]
    response = await client.get(path)
    assert response.status == 200
    assert await response.read() == CLIP
    assert response.headers["Accept-Ranges"] == "bytes"
    assert fake_addon.last_user == hass_admin_user.name

    response = await client.get(path, headers={"Range": "bytes=1000-1999"})
    assert response.status == 206
    assert response.headers["Content-Range"] == f"bytes 1000-1999/{len(CLIP)}"
    assert response.headers["Content-Length"] == "1000"
    assert await response.read() == CLIP[1000:2000]
    assert fake_addon.clip_ranges == [None, "bytes=1000-1999"]

    response = await client.get(path, headers={"Range": f"bytes={len(CLIP) + 10}-"})
    assert response.status == 416  # passed through, so the player can recover


async def test_signed_url_names_the_user_who_resolved_it(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    recorded: dict[str, dict[str, Any]],
    mock_config_entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    hass_admin_user: User,
) -> None:
    """The frontend resolves over its websocket; the signed URL then works without a
    token and still names that user in the add-on's audit log."""
    ws = await hass_ws_client()
    snapshot_id = recorded["snapshot_only"]["id"]
    await ws.send_json_auto_id(
        {
            "type": "media_source/resolve_media",
            "media_content_id": f"{ROOT}/{mock_config_entry.entry_id}/snapshot~{snapshot_id}",
        }
    )
    reply = await ws.receive_json()
    assert reply["success"], reply
    assert reply["result"]["mime_type"] == "image/jpeg"
    anonymous = await hass_client_no_auth()
    unsigned = await anonymous.get(reply["result"]["url"].split("?")[0])
    assert unsigned.status == 401  # Home Assistant's auth guards the proxy
    response = await anonymous.get(reply["result"]["url"])
    assert response.status == 200
    assert decode_jpeg(await response.read()).shape == (48, 64, 3)
    assert fake_addon.last_user == hass_admin_user.name
    assert fake_addon.token not in reply["result"]["url"]


@pytest.mark.parametrize(
    "identifier",
    ["{entry}/clip~not-a-uuid", "{entry}/front_door", "{entry}/snapshot~", "other/clip~x"],
)
async def test_resolve_errors(
    hass: HomeAssistant,
    recorded: dict[str, dict[str, Any]],
    mock_config_entry: MockConfigEntry,
    identifier: str,
) -> None:
    with pytest.raises(Unresolvable):
        await media_source.async_resolve_media(
            hass, f"{ROOT}/{identifier.format(entry=mock_config_entry.entry_id)}", None
        )


async def test_proxy_errors(
    hass: HomeAssistant,
    fake_addon: FakeAddon,
    recorded: dict[str, dict[str, Any]],
    mock_config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    client = await hass_client()
    entry_id = mock_config_entry.entry_id
    missing = "00000000-0000-4000-8000-000000000000"
    for path, status in (
        (f"/api/porchlight/{entry_id}/clips/{missing}.mp4", 404),
        (f"/api/porchlight/{entry_id}/clips/NOT-A-CLIP.mp4", 400),
        (f"/api/porchlight/unknown/clips/{missing}.mp4", 404),
        (f"/api/porchlight/{entry_id}/events/boot-1:999/snapshot.jpg", 404),
        (f"/api/porchlight/{entry_id}/events/a%20b/snapshot.jpg", 400),
    ):
        response = await client.get(path)
        assert response.status == status, path
        assert fake_addon.token not in await response.text()

    # A token the add-on no longer accepts, then an add-on that is gone: both 502.
    fake_addon.token = "rotated"
    clip_id = recorded["late_ring"]["clip_id"]
    response = await client.get(f"/api/porchlight/{entry_id}/clips/{clip_id}.mp4")
    assert response.status == 502
    assert "rotated" not in await response.text()
    await fake_addon.stop()
    response = await client.get(f"/api/porchlight/{entry_id}/clips/{clip_id}.mp4")
    assert response.status == 502
