"""No footage leaves without an audit entry, even when the entry cannot be written: a clip
request refused because the audit log is on a full disk does not count as the start of a
playback, so a retry is refused too, until the entry can be written. Real service, real
clip, real full disk (a small tmpfs)."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from porchlight_edge.audit import AuditAction
from tests.helpers.footage import make_h264
from tests.helpers.small_disk_service import TOKEN, fill_up, running, small_disk

__all__ = ["small_disk"]  # the fixture

CLIP_ID = "0b7a3c2e-1d4f-4a5b-8c6d-7e8f9a0b1c2d"


async def test_a_clip_is_never_served_unaudited_on_a_full_disk(
    small_disk: Path, tmp_path: Path
) -> None:
    data, media = small_disk / "data", tmp_path / "media"
    (media / "clips").mkdir(parents=True)
    make_h264(media / "clips" / f"{CLIP_ID}.mp4", seconds=1, fps=5, width=64, height=64)
    async with (
        running(data, media, recording={"enabled": False}) as service,
        aiohttp.ClientSession() as session,
    ):
        url = f"http://127.0.0.1:{service.port}/api/clips/{CLIP_ID}.mp4"
        headers = {"Authorization": f"Bearer {TOKEN}"}
        filler = fill_up(small_disk)
        for _ in range(3):  # a player retrying: never the bytes without the entry
            async with session.get(url, headers=headers) as resp:
                assert resp.status == 503, resp.status
        filler.unlink()
        async with session.get(url, headers=headers) as resp:
            assert resp.status == 200
            await resp.read()
        downloads = service.audit.query(action=AuditAction.CLIP_DOWNLOAD).items
        assert [e.target for e in downloads] == [CLIP_ID]
