"""The add-on's HTTP endpoints: snapshots, event snapshots, clips and the MJPEG stream.

Every request carries the Bearer token and, when known, the user for the add-on's audit
log. Errors: `PorchlightConnectionError` (unreachable, timed out), `PorchlightAuthError`
(HTTP 401), `PorchlightCommandError` (any other refusal, `code` from the JSON body or
`http_<status>`; also for ids that may not become part of a URL).
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING, Final

import aiohttp
from aiohttp import hdrs

from .exceptions import PorchlightAuthError, PorchlightCommandError, PorchlightConnectionError
from .protocol import (
    CAMERA_NAME_RE,
    LIMITS,
    MAX_USER_CHARS,
    SNAPSHOT_SIZE_PARAMS,
    SNAPSHOT_SIZE_VERSION,
    STALE_HEADER,
    STALE_YES,
    USER_ARG,
    USER_ARG_VERSION,
    USER_HEADER,
    ErrorCode,
    clip_path,
    event_snapshot_path,
    mjpeg_path,
    peer_version,
    snapshot_path,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from .protocol import ProtocolVersion, ServerInfo

# Event ids (`<boot_id>:<seq>`, or `manual-<hex>` for manual ones) become part of a URL
# path: only the add-on's id characters pass, and never a name made of dots only.
_EVENT_ID_RE: Final = re.compile(r"^(?!\.+$)[A-Za-z0-9_.:-]{1,80}$")
CLIP_ID_RE: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
"""Clip ids are lowercase UUIDs (the add-on's file names)."""
# Statuses of a clip download that carry the clip (whole, or the requested range) or a
# range the file cannot satisfy (passed through so the player can recover).
_CLIP_STATUSES: Final = frozenset({200, 206, 416, 503})
"""Clip answers passed on to the player: 503 (`Retry-After`) is a clip still recording
that has no whole fragment yet."""


class HttpApi:
    """HTTP requests to one add-on (the base of `PorchlightClient`).

    Args:
        session: The aiohttp session to use (not closed by this class).
        host: Host name or IP address (IPv6 with or without brackets).
        port: TCP port of the add-on's API.
        token: The add-on's access token (sent as `Authorization: Bearer`).
        request_timeout: Seconds for a whole request; for streams, for connecting and
            for each read.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        port: int,
        token: str,
        *,
        request_timeout: float = 10.0,
    ) -> None:
        self._session = session
        self.host = host
        self.port = port
        self._token = token
        self.request_timeout = request_timeout
        self.server_info: ServerInfo | None = None
        """The add-on's `server_info` once connected: what its version takes (`speaks`)."""

    @property
    def base_url(self) -> str:
        """`http://host:port` of the add-on, IPv6 addresses in brackets."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"http://{host}:{self.port}"

    def _camera_url(self, camera: str, path: Callable[[str], str]) -> str:
        # The name becomes part of a URL path: only the protocol's camera names are allowed.
        if not CAMERA_NAME_RE.match(camera):
            raise PorchlightCommandError(ErrorCode.INVALID_ARGS, f"invalid camera name {camera!r}")
        return self.base_url + path(camera)

    def _headers(self, user: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._token}"}
        if name := clean_user(user):
            headers[USER_HEADER] = name
        return headers

    async def snapshot(
        self,
        camera: str,
        user: str | None = None,
        *,
        width: int | None = None,
        height: int | None = None,
    ) -> bytes:
        """The camera's latest frame as JPEG bytes: full size, or fitted to width x height.

        Args:
            camera: The camera's name (`CAMERA_NAME_RE`).
            user: Who looks, for the audit log (printable, cut to 64 characters).
            width: Largest width in pixels, or None (see `snapshot_query`).
            height: Largest height in pixels, or None.

        Raises:
            PorchlightError: see the module docstring.
        """
        jpeg, _stale = await self.snapshot_info(camera, user, width=width, height=height)
        return jpeg

    async def snapshot_info(
        self,
        camera: str,
        user: str | None = None,
        *,
        width: int | None = None,
        height: int | None = None,
    ) -> tuple[bytes, bool]:
        """The latest frame as JPEG, and whether it is stale (the camera is not online).

        Raises:
            PorchlightError: see the module docstring.
        """
        # Older add-ons ignore the size (Home Assistant scales their picture): not sent.
        sized = speaks(self.server_info, SNAPSHOT_SIZE_VERSION)
        query = snapshot_query(width, height) if sized else ""
        url = self._camera_url(camera, snapshot_path) + query
        return await self._get_jpeg(url, f"snapshot of {camera!r}", user)

    async def event_snapshot(self, event_id: str, user: str | None = None) -> bytes:
        """The JPEG taken for an event (`snapshot_ready` says when it exists).

        Args:
            event_id: `<boot_id>:<seq>` or `manual-<hex>`, at most 80 characters.
            user: Who looks, for the audit log.

        Raises:
            PorchlightError: see the module docstring.
        """
        if not _EVENT_ID_RE.match(event_id):
            raise PorchlightCommandError(ErrorCode.INVALID_ARGS, f"invalid event id {event_id!r}")
        url = self.base_url + event_snapshot_path(event_id)
        jpeg, _stale = await self._get_jpeg(url, f"snapshot of event {event_id!r}", user)
        return jpeg

    async def _get_jpeg(self, url: str, what: str, user: str | None) -> tuple[bytes, bool]:
        try:
            async with self._session.get(
                url,
                headers=self._headers(user),
                timeout=aiohttp.ClientTimeout(total=self.request_timeout),
            ) as response:
                await _raise_for_status(response)
                stale = response.headers.get(STALE_HEADER) == STALE_YES
                return await response.read(), stale
        except TimeoutError as err:
            raise PorchlightConnectionError(f"{what} timed out") from err
        except aiohttp.ClientError as err:
            raise PorchlightConnectionError(f"{what} failed: {err}") from err

    def _stream_timeout(self) -> aiohttp.ClientTimeout:
        # No total timeout: a long clip on a slow link, or a stream someone watches,
        # takes as long as it takes.
        return aiohttp.ClientTimeout(
            total=None, connect=self.request_timeout, sock_read=self.request_timeout
        )

    async def open_clip(
        self, clip_id: str, byte_range: str | None = None, user: str | None = None
    ) -> aiohttp.ClientResponse:
        """Start downloading a clip (fragmented MP4).

        Args:
            clip_id: The clip's id (`CLIP_ID_RE`).
            byte_range: A `Range` header value (`bytes=0-99`), or None for the whole file.
            user: Who looks, for the audit log.

        Returns:
            The open response (status 200, 206, 416 or 503); the caller streams `.content`
            and must `close()` it.

        Raises:
            PorchlightError: see the module docstring.
        """
        if not CLIP_ID_RE.match(clip_id):
            raise PorchlightCommandError(ErrorCode.INVALID_ARGS, f"invalid clip id {clip_id!r}")
        headers = self._headers(user)
        if byte_range:
            headers[hdrs.RANGE] = byte_range
        try:
            response = await self._session.get(
                self.base_url + clip_path(clip_id), headers=headers, timeout=self._stream_timeout()
            )
        except TimeoutError as err:
            raise PorchlightConnectionError(f"clip {clip_id} timed out") from err
        except aiohttp.ClientError as err:
            raise PorchlightConnectionError(f"clip {clip_id} failed: {err}") from err
        if response.status not in _CLIP_STATUSES:
            try:
                await _raise_for_status(response)
            finally:
                response.close()
        return response

    async def open_mjpeg(self, camera: str, user: str | None = None) -> aiohttp.ClientResponse:
        """Open the camera's live MJPEG stream (`multipart/x-mixed-replace` of JPEGs).

        Returns:
            The open response; the caller reads `.content` and must `close()` it.

        Raises:
            PorchlightError: see the module docstring.
        """
        url = self._camera_url(camera, mjpeg_path)
        try:
            response = await self._session.get(
                url, headers=self._headers(user), timeout=self._stream_timeout()
            )
        except TimeoutError as err:
            raise PorchlightConnectionError(f"stream of {camera!r} timed out") from err
        except aiohttp.ClientError as err:
            raise PorchlightConnectionError(f"stream of {camera!r} failed: {err}") from err
        try:
            await _raise_for_status(response)
        except BaseException:
            response.close()
            raise
        return response


def clean_user(user: str | None) -> str | None:
    """Who looks, for the add-on's audit log; None when empty.

    Printable only (a header value cannot hold control characters), at most
    `MAX_USER_CHARS` (the add-on keeps no more).
    """
    name = "".join(c for c in user or "" if c.isprintable())[:MAX_USER_CHARS].strip()
    return name or None


def user_arg(user: str | None, server_info: ServerInfo | None) -> dict[str, str]:
    """`{USER_ARG: …}` for an audited command (`AUDITED_COMMANDS`): who it is sent for.

    Only add-ons of `USER_ARG_VERSION` on take the argument (older ones refuse unknown
    arguments), and only a non-empty `clean_user` name is sent.
    """
    name = clean_user(user)
    if name and speaks(server_info, USER_ARG_VERSION):
        return {USER_ARG: name}
    return {}


def speaks(server_info: ServerInfo | None, version: ProtocolVersion) -> bool:
    """Whether the add-on that sent `server_info` speaks `version` (False when unknown)."""
    return server_info is not None and peer_version(server_info)[0] >= version


def snapshot_query(width: int | None, height: int | None) -> str:
    """The snapshot URL's `?width=…&height=…` (pixels), within the protocol's `LIMITS`.

    A size below the lower limit asks for the smallest picture; one above the upper
    limit, zero or negative, or None, sets no bound (the full size). "" for no bound.
    """
    params = []
    for (name, setting), value in zip(SNAPSHOT_SIZE_PARAMS.items(), (width, height), strict=True):
        limit = LIMITS[setting]
        if value is None or value <= 0 or value > limit.high:
            continue
        params.append(f"{name}={max(value, int(limit.low))}")
    return "?" + "&".join(params) if params else ""


async def _raise_for_status(response: aiohttp.ClientResponse) -> None:
    if response.status == 200:
        return
    code = f"http_{response.status}"
    message = response.reason or ""
    with contextlib.suppress(ValueError, aiohttp.ClientError):
        body = await response.json(content_type=None)
        if isinstance(body, dict) and isinstance(error := body.get("error"), dict):
            code = str(error.get("code", code))
            message = str(error.get("message", message))
    if response.status == 401:
        raise PorchlightAuthError(message or "invalid access token")
    raise PorchlightCommandError(code, message)
