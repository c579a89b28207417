"""HTTP views that proxy recorded footage from the add-on through Home Assistant.

The browser (or a media player, with a signed path) talks to Home Assistant with its own
authentication; only Home Assistant holds the add-on's token. Each request names the Home
Assistant user in `X-Porchlight-User`, so every playback lands in the add-on's audit log.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Final

from aiohttp import hdrs, web
from homeassistant.components.http.const import KEY_HASS_USER
from homeassistant.components.websocket_api.connection import current_connection
from homeassistant.config_entries import ConfigEntryState
from homeassistant.helpers.http import KEY_AUTHENTICATED, HomeAssistantView, current_request

from .const import DOMAIN
from .errors import translate_http_errors

if TYPE_CHECKING:
    from homeassistant.core import Context, HomeAssistant

    from .data import PorchlightData

CLIP_URL: Final = "/api/porchlight/{entry_id}/clips/{clip_id}.mp4"
SNAPSHOT_URL: Final = "/api/porchlight/{entry_id}/events/{event_id}/snapshot.jpg"

# Headers of the add-on's answer a player needs to seek and to cache.
_PASSED_HEADERS: Final = (
    hdrs.CONTENT_TYPE,
    hdrs.CONTENT_LENGTH,
    hdrs.CONTENT_RANGE,
    hdrs.ACCEPT_RANGES,
    hdrs.LAST_MODIFIED,
    hdrs.ETAG,
    hdrs.CACHE_CONTROL,  # a clip still recording grows: not cached
    hdrs.RETRY_AFTER,  # ... and has nothing to play for its first second
)
_CHUNK: Final = 64 * 1024


def clip_url(entry_id: str, clip_id: str) -> str:
    """Home Assistant's path of a clip (MP4) behind its own authentication."""
    return CLIP_URL.format(entry_id=entry_id, clip_id=clip_id)


def snapshot_url(entry_id: str, event_id: str) -> str:
    """Home Assistant's path of an event's snapshot (JPEG) behind its own authentication."""
    return SNAPSHOT_URL.format(entry_id=entry_id, event_id=event_id)


def user_name(request: web.Request) -> str | None:
    """The Home Assistant user behind a request (also for signed paths), if known."""
    user = request.get(KEY_HASS_USER)
    name = getattr(user, "name", None)
    return name if isinstance(name, str) else None


TOKEN_USER: Final = "{entity_id} access token"
"""Who a request was, in the audit log, when Home Assistant admitted it by the camera
entity's own access token (the frontend's `<img>` of the live MJPEG view carries no user)."""


async def acting_user(
    hass: HomeAssistant, context: Context | None = None, entity_id: str | None = None
) -> str | None:
    """The Home Assistant user on whose behalf footage is fetched now, for the audit log.

    In order: the user of the HTTP request being served (also for signed paths); for a
    camera request admitted only by the entity's access token (`?token=`), that token
    (`TOKEN_USER` with `entity_id`); the user of an action's `context` (a websocket
    call's context carries its connection's user). None for an automation or other
    caller without a user.
    """
    request = current_request.get()
    if request is not None:
        if (name := user_name(request)) is not None:
            return name
        if (
            entity_id is not None
            and not request.get(KEY_AUTHENTICATED, False)
            and "token" in request.query
        ):
            return TOKEN_USER.format(entity_id=entity_id)
    if context is None or context.user_id is None:
        return None
    user = await hass.auth.async_get_user(context.user_id)
    return None if user is None else user.name


def viewer() -> str | None:
    """The user of the websocket connection being served (who opens a live stream), if any.

    Home Assistant asks a camera for its stream source from the frontend's websocket
    commands (HLS, WebRTC offers), and its stream is shared by all viewers.
    """
    connection = current_connection.get()
    return None if connection is None else connection.user.name


def _data(hass: HomeAssistant, entry_id: str) -> PorchlightData:
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
        raise web.HTTPNotFound(text="unknown or unloaded Porchlight entry")
    data: PorchlightData = entry.runtime_data
    return data


class ClipView(HomeAssistantView):
    """A clip as MP4, with `Range` passed through so the player can seek."""

    url = CLIP_URL
    name = "api:porchlight:clip"
    requires_auth = True

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass

    async def get(self, request: web.Request, entry_id: str, clip_id: str) -> web.StreamResponse:
        """Stream the clip, passing `Range` on and the add-on's status (200, 206, 416, 503) back.

        Raises:
            web.HTTPNotFound: unknown or unloaded entry, or no such clip.
            web.HTTPBadRequest: an invalid clip id.
            web.HTTPBadGateway: the add-on is down, failed or rejected the token.
        """
        data = _data(self.hass, entry_id)
        with translate_http_errors(data):
            upstream = await data.client.open_clip(
                clip_id, request.headers.get(hdrs.RANGE), user_name(request)
            )
        try:
            response = web.StreamResponse(
                status=upstream.status,
                headers={
                    name: upstream.headers[name]
                    for name in _PASSED_HEADERS
                    if name in upstream.headers
                },
            )
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(_CHUNK):
                await response.write(chunk)
            await response.write_eof()
            return response
        finally:
            upstream.close()


class SnapshotView(HomeAssistantView):
    """The snapshot the add-on took for an event (ring, motion or manual)."""

    url = SNAPSHOT_URL
    name = "api:porchlight:event_snapshot"
    requires_auth = True

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass

    async def get(self, request: web.Request, entry_id: str, event_id: str) -> web.Response:
        """The event's snapshot as JPEG (cacheable for an hour, privately).

        Errors as for `ClipView.get` (404 also for an event without a snapshot).
        """
        data = _data(self.hass, entry_id)
        with translate_http_errors(data):
            jpeg = await data.client.event_snapshot(event_id, user_name(request))
        return web.Response(
            body=jpeg,
            content_type="image/jpeg",
            headers={hdrs.CACHE_CONTROL: "private, max-age=3600"},
            status=HTTPStatus.OK,
        )
