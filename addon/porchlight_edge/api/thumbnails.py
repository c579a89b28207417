"""Small JPEG thumbnails of clips and event snapshots, for the timeline.

A clip's thumbnail is its first decoded picture (the privacy masks are already burned
into clips), an event's its snapshot, both `THUMBNAIL_WIDTH` pixels wide. Each is made
at most once and kept in a bounded cache; at most `DECODERS` are made at once. Access is
audited like snapshots, one entry per viewer and item within the playback window.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
import threading
from typing import TYPE_CHECKING, Final

from aiohttp import web
import cv2
import numpy as np

from porchlight_edge.api.auth import error_response
from porchlight_edge.api.http import PlaybackAudit, audit, event_snapshot_file, viewer_key
from porchlight_edge.audit import AuditAction
from porchlight_edge.capture.frame import Frame, encode_jpeg
from porchlight_edge.protocol import THUMBNAIL_WIDTH, ErrorCode
from porchlight_edge.recorder.ids import is_clip_id
from porchlight_edge.recordings import NotPlayableYet

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from porchlight_edge.service import Service

CACHE_ITEMS: Final = 512
"""Thumbnails kept in memory (about 10 kB each)."""
DECODERS: Final = 2
"""Thumbnails made at once (each decodes in a worker thread)."""
MAX_PACKETS: Final = 600
"""Packets read looking for a clip's first picture before giving up."""
QUALITY: Final = 80


class Thumbnails:
    """The cache and the decode limit of one server."""

    def __init__(self, items: int = CACHE_ITEMS) -> None:
        self.items = items
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._decoders = asyncio.Semaphore(DECODERS)
        self.audits = PlaybackAudit()

    async def get(self, key: str, make: Callable[[], bytes | None]) -> bytes | None:
        """The cached thumbnail of `key`, or `make()`'s (run in a thread), cached."""
        if (data := self._cache.get(key)) is not None:
            self._cache.move_to_end(key)
            return data
        async with self._decoders:
            data = await asyncio.to_thread(make)
        if data is not None:
            self._cache[key] = data
            while len(self._cache) > self.items:
                self._cache.popitem(last=False)
        return data


THUMBNAILS: Final = web.AppKey("thumbnails", Thumbnails)


def clip_picture(path: Path) -> bytes | None:
    """The first decodable picture of the MP4 at `path` as a thumbnail JPEG, or None."""
    import av

    from porchlight_edge.capture.pyav import decode_video, open_container

    try:
        with open_container(str(path), protocols="file") as container:
            for count, frame in enumerate(
                decode_video(container, threading.Event(), keep_packets=False)
            ):
                if frame.has_picture:
                    return encode_jpeg(frame, QUALITY, THUMBNAIL_WIDTH)
                if count >= MAX_PACKETS:
                    break
    except (av.FFmpegError, OSError):
        return None
    return None


def snapshot_picture(path: Path) -> bytes | None:
    """The JPEG at `path` scaled to a thumbnail, or None when it cannot be read."""
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        return None
    frame = Frame.from_bgr(np.ascontiguousarray(img, dtype=np.uint8), 0.0, 0.0)
    return encode_jpeg(frame, QUALITY, THUMBNAIL_WIDTH)


def _audited(request: web.Request, thumbs: Thumbnails, camera: str, target: str) -> None:
    key = (target, request.remote, viewer_key(request))
    if thumbs.audits.starts(*key):
        try:
            audit(request, AuditAction.SNAPSHOT, camera=camera, target=target)
        except BaseException:
            thumbs.audits.forget(*key)  # not audited: nothing is served, a retry audits
            raise


def _jpeg(data: bytes) -> web.Response:
    return web.Response(
        body=data, content_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
    )


async def clip_thumbnail(request: web.Request) -> web.StreamResponse:
    """GET a clip's thumbnail; 400 malformed id, 404 unknown clip or no picture yet (audited)."""
    service: Service = request.app["service"]
    thumbs = request.app[THUMBNAILS]
    clip_id = request.match_info["clip_id"]
    if not is_clip_id(clip_id):
        return error_response(400, ErrorCode.INVALID_ARGS, "malformed clip id")
    try:
        # A clip still recording has one too: its first whole fragment holds its start.
        media = await asyncio.to_thread(service.recordings.clip_media, clip_id)
    except KeyError, FileNotFoundError:
        return error_response(404, ErrorCode.NOT_FOUND, "unknown clip")
    except NotPlayableYet:
        return error_response(404, ErrorCode.NOT_FOUND, "the clip has no picture yet")
    _audited(request, thumbs, media.record.camera, clip_id)
    data = await thumbs.get(f"clip:{clip_id}", lambda: clip_picture(media.path))
    if data is None:
        return error_response(404, ErrorCode.NOT_FOUND, "the clip has no picture")
    return _jpeg(data)


async def event_thumbnail(request: web.Request) -> web.StreamResponse:
    """GET an event snapshot's thumbnail; 400 malformed id, 404 no snapshot (audited)."""
    thumbs = request.app[THUMBNAILS]
    found = event_snapshot_file(request)
    if isinstance(found, web.Response):
        return found
    event, path = found
    _audited(request, thumbs, event.camera, event.id)
    data = await thumbs.get(f"event:{event.id}", lambda: snapshot_picture(path))
    if data is None:
        return error_response(404, ErrorCode.NOT_FOUND, "the snapshot cannot be read")
    return _jpeg(data)
