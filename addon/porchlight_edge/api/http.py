"""HTTP endpoints: latest snapshot and the MJPEG live view."""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, Any, Final, Protocol

from aiohttp import web

from porchlight_edge.api.auth import error_response
from porchlight_edge.api.growing import serve_growing
from porchlight_edge.audit import AuditAction
from porchlight_edge.live import TooManyViewers
from porchlight_edge.panel.ingress import ingress_user
from porchlight_edge.protocol import (
    LIMITS,
    SNAPSHOT_SIZE_PARAMS,
    STALE_HEADER,
    STALE_YES,
    USER_HEADER,
    CameraStatus,
    ErrorCode,
)
from porchlight_edge.recorder.ids import is_clip_id, validate_event_id
from porchlight_edge.recordings import NotPlayableYet

if TYPE_CHECKING:
    from pathlib import Path

    from porchlight_edge.camera import CameraPipeline
    from porchlight_edge.recorder.records import EventRecord
    from porchlight_edge.service import Service

BOUNDARY = "frame"
IDLE_CHECK = 1.0
"""While no frames come (camera offline), how often a waiting viewer is checked for a
closed connection."""
PLAYBACK_GAP = 60.0
"""Clip requests from one viewer less than this many seconds apart are one playback."""
_RANGE_RE = re.compile(r"bytes=(\d*)-(\d*)", re.ASCII | re.IGNORECASE)


def _camera(request: web.Request) -> CameraPipeline:
    service: Service = request.app["service"]
    camera = service.cameras.get(request.match_info["camera"])
    if camera is None:
        raise web.HTTPNotFound(
            text='{"error": {"code": "not_found", "message": "unknown camera"}}',
            content_type="application/json",
        )
    return camera


def audit(request: web.Request, action: AuditAction, **fields: Any) -> None:
    """Log one access to footage: who (client, user header), what, from where."""
    service: Service = request.app["service"]
    ingress = ingress_user(request)
    user = request.headers.get(USER_HEADER)
    if ingress is not None:  # the Supervisor names the user; a client's header cannot
        detail: dict[str, str] | None = ingress.audit_detail()
    else:
        detail = {"user": user[:64]} if user else None
    client = "ingress" if ingress is not None else "http"
    service.audit.record(action, client_id=client, address=request.remote, detail=detail, **fields)


def viewer_key(request: web.Request) -> str | None:
    """Who is watching, as `audit` names them.

    Through ingress every viewer shares the Supervisor's one address: only the user tells
    them apart.
    """
    ingress = ingress_user(request)
    if ingress is not None:
        return f"ingress:{ingress.user_id or ingress.label}"
    return request.headers.get(USER_HEADER)


def _snapshot_size(request: web.Request) -> dict[str, int | None]:
    """The `width` and `height` query parameters (None when absent).

    ValueError names one that is not an integer within its `LIMITS` range.
    """
    size: dict[str, int | None] = {}
    for name, setting in SNAPSHOT_SIZE_PARAMS.items():
        raw = request.query.get(name)
        if raw is None:
            size[name] = None
            continue
        limit = LIMITS[setting]
        value = int(raw) if raw.isascii() and raw.isdecimal() and len(raw) <= 6 else None
        if value is None or not limit.low <= value <= limit.high:
            raise ValueError(f"{name} must be an integer {limit.low:g}-{limit.high:g}")
        size[name] = value
    return size


async def snapshot(request: web.Request) -> web.StreamResponse:
    """GET the camera's current picture as JPEG (audited), full size or fitted to a box.

    The optional `width` x `height` query scales it down to fit (aspect kept).

    404 for an unknown camera, 400 for a size outside `LIMITS`, 503 without a picture.
    """
    camera = _camera(request)
    try:
        size = _snapshot_size(request)
    except ValueError as err:
        return error_response(400, ErrorCode.INVALID_ARGS, str(err))
    audit(request, AuditAction.SNAPSHOT, camera=camera.name)
    data = await camera.live.still(size["width"], size["height"])
    if data is None:
        reason = "privacy mode is on" if camera.settings.privacy_mode else "no frame yet"
        return error_response(503, ErrorCode.UNAVAILABLE, f"no picture: {reason}")
    headers = {"Cache-Control": "no-store"}
    if camera.status is not CameraStatus.ONLINE:
        headers[STALE_HEADER] = STALE_YES
    return web.Response(body=data, content_type="image/jpeg", headers=headers)


async def mjpeg(request: web.Request) -> web.StreamResponse:
    """The live view as multipart/x-mixed-replace JPEG parts.

    503 in privacy mode or when `max_viewers` are watching. A viewer's place is freed
    however the viewer ends: it closes, resets, stops reading (no frame taken within
    ConnectionLimits.stall_timeout), or the camera goes dark.
    """
    service: Service = request.app["service"]
    camera = _camera(request)
    if camera.settings.privacy_mode:
        return error_response(503, ErrorCode.UNAVAILABLE, "no picture: privacy mode is on")
    try:
        viewer = camera.live.open_viewer()
    except TooManyViewers as err:
        return error_response(503, ErrorCode.UNAVAILABLE, str(err))
    with viewer:
        audit(request, AuditAction.LIVE_STREAM, camera=camera.name)
        response = web.StreamResponse(
            headers={
                "Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
                "Cache-Control": "no-store",
            }
        )
        await response.prepare(request)
        try:
            jpeg = await camera.live.jpeg() or await next_or_gone(request, viewer)
            while jpeg is not None:
                async with asyncio.timeout(service.connections.limits.stall_timeout):
                    await _write_part(response, jpeg)
                jpeg = await next_or_gone(request, viewer)
        except TimeoutError:
            # It stopped reading: drop the connection, or aiohttp would wait on it forever.
            if request.transport is not None:
                request.transport.abort()
        except ConnectionError:
            pass  # gone: reset, broken pipe, closed
    return response


class Mailbox[T](Protocol):
    """A live viewer's feed: `next()` is the next item, None once the stream is over."""

    async def next(self) -> T | None:
        """The next item, None once the stream is over."""
        ...


async def next_or_gone[T](request: web.Request, viewer: Mailbox[T]) -> T | None:
    """The viewer's next item (JPEG, packet).

    None once the stream is over or the viewer has gone away.
    """
    while True:
        try:
            async with asyncio.timeout(IDLE_CHECK):
                return await viewer.next()
        except TimeoutError:
            # No frames (camera offline): a viewer that left must not keep its place.
            if request.transport is None or request.transport.is_closing():
                return None


async def _write_part(response: web.StreamResponse, jpeg: bytes) -> None:
    head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    await response.write(head.encode() + jpeg + b"\r\n")


def _unsatisfiable(request: web.Request, size: int) -> bool:
    """True when a Range header asks for no bytes this file has (RFC 9110 14.1.2).

    Forms aiohttp's FileResponse serves are checked here first, so that what it then
    serves is always a real range: `bytes=-0` asks for nothing, not for the whole file.
    """
    value = request.headers.get("Range")
    if value is None:
        return False
    match = _RANGE_RE.fullmatch(value.strip())
    if match is None:
        return True
    first, last = match.group(1), match.group(2)
    if not first:
        return not last or int(last) == 0 or size == 0
    return int(first) >= size or (bool(last) and int(last) < int(first))


def _no_bytes(request: web.Request, size: int) -> web.Response | None:
    """The 416 answer (the protocol's JSON) when the Range header asks for no bytes."""
    if not _unsatisfiable(request, size):
        return None
    response = error_response(416, ErrorCode.INVALID_ARGS, "range not satisfiable")
    response.headers["Content-Range"] = f"bytes */{size}"
    return response


async def clip(request: web.Request) -> web.StreamResponse:
    """The clip file; aiohttp's FileResponse answers Range requests (206) for seeking.

    A clip still recording plays too: its whole fragments so far (`serve_growing`); 503
    `unavailable` (Retry-After: 1) before its first fragment is written.

    Every response that serves bytes is audited, one entry per playback session (see
    PlaybackAudit); a range with no bytes of the file gets 416 and the protocol's JSON.
    """
    service: Service = request.app["service"]
    clip_id = request.match_info["clip_id"]
    if not is_clip_id(clip_id):
        return error_response(400, ErrorCode.INVALID_ARGS, "malformed clip id")
    try:
        media = await asyncio.to_thread(service.recordings.clip_media, clip_id)
        record, path = media.record, media.path
        size = path.stat().st_size if media.length is None else media.length
    except KeyError, FileNotFoundError:
        return error_response(404, ErrorCode.NOT_FOUND, "unknown clip")
    except NotPlayableYet:
        busy = error_response(503, ErrorCode.UNAVAILABLE, "the clip is starting to record")
        busy.headers["Retry-After"] = "1"
        return busy
    if (response := _no_bytes(request, size)) is not None:
        return response
    playbacks: PlaybackAudit = request.app[PLAYBACKS]
    key = (clip_id, request.remote, viewer_key(request))
    if playbacks.starts(*key):
        try:
            audit(request, AuditAction.CLIP_DOWNLOAD, camera=record.camera, target=clip_id)
        except BaseException:
            playbacks.forget(*key)  # not audited (disk full): a retry must try again
            raise
    if media.length is not None:
        try:
            return await serve_growing(request, path, media.length)
        except FileNotFoundError:  # it finished just now: the whole clip is there
            try:
                path = service.recordings.clip_file(clip_id)[1]
            except KeyError:  # ... and was deleted as fast
                return error_response(404, ErrorCode.NOT_FOUND, "unknown clip")
    return web.FileResponse(path, headers={"Content-Type": "video/mp4"})


class PlaybackAudit:
    """Which clip downloads are one playback.

    The same clip, address and user, each request within PLAYBACK_GAP seconds of the
    last. A player's seeks are many range requests; they make one audit entry, and
    whatever range forms they use, no bytes leave without one.
    """

    def __init__(self, gap: float = PLAYBACK_GAP, size: int = 1024) -> None:
        self.gap = gap
        self.size = size
        self._last: dict[tuple[str, str | None, str | None], float] = {}

    def starts(self, clip_id: str, address: str | None, user: str | None) -> bool:
        """Note one request; True when it starts a new playback (audit it)."""
        now = time.monotonic()
        key = (clip_id, address, user)
        last = self._last.pop(key, None)
        self._last[key] = now  # most recent last: the oldest are dropped first
        while len(self._last) > self.size:
            # Forgetting one only means an extra audit entry later, never a missing one.
            del self._last[next(iter(self._last))]
        return last is None or now - last > self.gap

    def forget(self, clip_id: str, address: str | None, user: str | None) -> None:
        """Undo `starts`: the playback's audit entry could not be written."""
        self._last.pop((clip_id, address, user), None)


PLAYBACKS: Final = web.AppKey("playbacks", PlaybackAudit)


def event_snapshot_file(request: web.Request) -> tuple[EventRecord, Path] | web.Response:
    """The event of the route's `event_id` and its snapshot file, or the error to answer.

    400 for a malformed id, 404 when it has no snapshot (or its file is gone).
    """
    service: Service = request.app["service"]
    event_id = request.match_info["event_id"]
    try:
        validate_event_id(event_id)
    except ValueError:
        return error_response(400, ErrorCode.INVALID_ARGS, "malformed event id")
    found = service.recordings.event_snapshot(event_id)
    if found is None or not found[1].is_file():
        return error_response(404, ErrorCode.NOT_FOUND, "no snapshot for this event")
    return found


async def event_snapshot(request: web.Request) -> web.StreamResponse:
    """GET an event's snapshot JPEG (audited); 400 for a malformed id, 404 when there is none."""
    found = event_snapshot_file(request)
    if isinstance(found, web.Response):
        return found
    event, path = found
    event_id = event.id
    if (response := _no_bytes(request, path.stat().st_size)) is not None:
        return response
    audit(request, AuditAction.SNAPSHOT, camera=event.camera, target=event_id)
    return web.FileResponse(path, headers={"Content-Type": "image/jpeg"})
