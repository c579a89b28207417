"""The integration's actions against the real add-on: a snapshot file, a manual clip,
an export whose manifest hash matches the exported bytes, and deletes by event and by
time range, all visible in the add-on's audit log with the user who acted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
from homeassistant.core import Context
from homeassistant.util import dt as dt_util
import numpy as np
import pytest

from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.pyporchlight.protocol import EventMessage, EventType
from custom_components.porchlight.views import clip_url
from tests.helpers.footage import make_h264
from tests.helpers.waiting import wait_until

from .addon_process import AddonProcess, running_async
from .entries import entry_for, setup_entry, unload_entry
from .test_media_playback import record_ring, recording_options

if TYPE_CHECKING:
    from homeassistant.auth.models import User
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

pytestmark = [pytest.mark.e2e, pytest.mark.enable_socket]


@pytest.fixture
async def addon(tmp_path: Path) -> AsyncIterator[AddonProcess]:
    video = make_h264(tmp_path / "porch.mp4", seconds=4, fps=10, width=320, height=180, gop=10)
    process = AddonProcess(tmp_path / "addon", recording_options(video))
    async with running_async(process):
        yield process


async def act(hass: HomeAssistant, service: str, user: User, **data: Any) -> Any:
    return await hass.services.async_call(
        DOMAIN,
        service,
        data,
        blocking=True,
        return_response=True,
        context=Context(user_id=user.id),
    )


async def test_snapshot_record_export_and_delete(
    hass: HomeAssistant,
    addon: AddonProcess,
    hass_admin_user: User,
    hass_client: ClientSessionGenerator,
    tmp_path: Path,
) -> None:
    entry = entry_for(addon)
    await setup_entry(hass, entry)
    data = entry.runtime_data
    ring_clip = await record_ring(entry)  # also waits for frames and the pre-roll

    hass.config.allowlist_external_dirs = {str(tmp_path / "media")}
    snapshot = tmp_path / "media" / "porchlight" / "now.jpg"
    saved = await act(hass, "snapshot", hass_admin_user, filename=str(snapshot))
    assert saved["size"] == snapshot.stat().st_size
    picture = cv2.imdecode(np.frombuffer(snapshot.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None
    assert picture.shape == (180, 320, 3)

    finished: list[str] = []

    def seen(event: EventMessage) -> None:
        if event["event"] == EventType.CLIP_FINISHED:
            finished.append(event["data"]["clip_id"])

    remove = data.async_add_event_listener("front_door", seen)
    manual = await act(hass, "record_clip", hass_admin_user, seconds=1)
    await wait_until(lambda: manual["clip_id"] in finished, 15, "the manual clip")
    remove()

    exported = await act(hass, "export_clip", hass_admin_user, clip_id=manual["clip_id"])
    body = await asyncio.to_thread(Path(exported["path"]).read_bytes)
    assert hashlib.sha256(body).hexdigest() == exported["manifest"]["sha256"]
    assert exported["manifest"]["clip_id"] == manual["clip_id"]
    assert exported["manifest"]["camera"] == "front_door"

    # By the ring's event id: exactly the ring's clip goes, and the proxy no longer has it.
    deleted = await act(hass, "delete_clips", hass_admin_user, event_ids=[ring_clip["ring_id"]])
    assert deleted == {"deleted": [ring_clip["clip_id"]]}
    client = await hass_client()
    gone = await client.get(clip_url(entry.entry_id, ring_clip["clip_id"]))
    assert gone.status == 404

    # By time range: everything recorded in the last minutes, the manual clip among it.
    now = dt_util.now()
    deleted = await act(
        hass,
        "delete_clips",
        hass_admin_user,
        start=(now - timedelta(minutes=5)).isoformat(),
        end=(now + timedelta(minutes=1)).isoformat(),
    )
    assert manual["clip_id"] in deleted["deleted"]
    assert ring_clip["clip_id"] not in deleted["deleted"]

    log = await data.client.get_audit_log()
    by_action: dict[str, list[dict[str, Any]]] = {}
    for item in log["entries"]:
        by_action.setdefault(item["action"], []).append(item)
    assert [e["target"] for e in by_action["clip_export"]] == [manual["clip_id"]]
    assert {e["target"] for e in by_action["clip_delete"]} >= {
        ring_clip["clip_id"],
        manual["clip_id"],
    }
    assert all(e["client_id"] == "home-assistant" for e in by_action["clip_delete"])
    assert by_action["snapshot"][-1]["detail"] == {"user": hass_admin_user.name}
    # Every change names who made it (protocol 1.2 `user`), not only footage access.
    (recorded,) = by_action["record_clip"]
    assert (recorded["target"], recorded["detail"]) == (
        manual["clip_id"],
        {"seconds": 1, "user": hass_admin_user.name},
    )
    changes = by_action["clip_delete"] + by_action["clip_export"]
    assert {e["detail"]["user"] for e in changes} == {hass_admin_user.name}
    await unload_entry(hass, entry)
