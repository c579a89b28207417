"""Client for the Porchlight add-on: websocket commands and events, HTTP snapshots.

Knows nothing of Home Assistant (aiohttp, asyncio and the shared `protocol` only), so it
can be tested against a fake server and reused by tools. The wire contract is
docs/protocol.md; `run()` keeps a connection up and delivers each event exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import itertools
import json
import logging
import re
from typing import Any, cast

import aiohttp
from aiohttp import hdrs

from .exceptions import (
    PorchlightAuthError,
    PorchlightCommandError,
    PorchlightConnectionError,
    PorchlightError,
    PorchlightUnsupportedVersion,
)
from .protocol import (
    CAMERA_NAME_RE,
    PROTOCOL_VERSION,
    USER_HEADER,
    WS_PATH,
    AuthMessage,
    Command,
    CommandMessage,
    ErrorCode,
    EventMessage,
    MessageType,
    MotionSettings,
    ProtocolError,
    RecordingSettings,
    ServerInfo,
    ServerState,
    StorageStatus,
    clip_path,
    event_snapshot_path,
    mjpeg_path,
    parse_event,
    snapshot_path,
)

_LOGGER = logging.getLogger(__name__)

type EventCallback = Callable[[EventMessage], None]
type StateCallback = Callable[[ServerState], None]
type ConnectionCallback = Callable[[bool], None]
type AuthFailedCallback = Callable[[], None]
type VersionCallback = Callable[[PorchlightUnsupportedVersion], None]

# Event ids (`<boot_id>:<seq>`, or `manual-<hex>` for manual ones) become part of a URL
# path: only the add-on's id characters pass, and never a name made of dots only.
_EVENT_ID_RE = re.compile(r"^(?!\.+$)[A-Za-z0-9_.:-]{1,80}$")
# Clip ids are lowercase UUIDs (the add-on's file names).
CLIP_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Statuses of a clip download that carry the clip (whole, or the requested range) or a
# range the file cannot satisfy (passed through so the player can recover).
_CLIP_STATUSES = frozenset({200, 206, 416})


class PorchlightClient:
    """One connection to one add-on; `run()` keeps it alive and resynchronises."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        port: int,
        token: str,
        *,
        request_timeout: float = 10.0,
        heartbeat: float = 30.0,
        backoff_min: float = 1.0,
        backoff_max: float = 60.0,
        client_name: str = "home-assistant",
    ) -> None:
        self._session = session
        self.host = host
        self.port = port
        self._token = token
        self._timeout = request_timeout
        self._heartbeat = heartbeat
        self.backoff_min = backoff_min
        self.backoff_max = backoff_max
        self._client_name = client_name
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._on_event: EventCallback | None = None
        self._run_task: asyncio.Task[None] | None = None
        self.server_info: ServerInfo | None = None
        self.last_event: tuple[str, int] | None = None
        """(boot_id, seq) of the last event delivered; the `since` of the next subscribe."""

    # --- connection -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"http://{host}:{self.port}"

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    async def connect(self) -> ServerInfo:
        """Open the websocket and authenticate; a no-op when already connected."""
        if self.connected and self.server_info is not None:
            return self.server_info
        try:
            async with asyncio.timeout(self._timeout):
                # No aiohttp heartbeat: run() pings at the protocol level instead, which
                # also proves the add-on's command loop is alive (and aiohttp 3.14 can
                # re-arm its heartbeat timer after close).
                ws = await self._session.ws_connect(self.base_url + WS_PATH)
                try:
                    info = await self._handshake(ws)
                except BaseException:
                    await ws.close()
                    raise
        except TimeoutError as err:
            raise PorchlightConnectionError(
                f"timed out connecting to {self.base_url} after {self._timeout} s"
            ) from err
        except aiohttp.ClientError as err:
            raise PorchlightConnectionError(f"cannot connect to {self.base_url}: {err}") from err
        self._ws = ws
        self.server_info = info
        self._reader = asyncio.create_task(self._read_loop(ws), name="porchlight websocket reader")
        return info

    async def _handshake(self, ws: aiohttp.ClientWebSocketResponse) -> ServerInfo:
        hello = await self._receive_json(ws)
        if hello.get("type") != MessageType.SERVER_INFO:
            raise PorchlightConnectionError(f"expected server_info, got {hello.get('type')!r}")
        version = hello.get("protocol_version")
        if version != PROTOCOL_VERSION:
            raise PorchlightUnsupportedVersion(
                version if isinstance(version, int) else -1, PROTOCOL_VERSION
            )
        for key in ("instance_id", "boot_id"):
            if not isinstance(hello.get(key), str):
                raise PorchlightConnectionError(f"server_info has no {key}")
        auth: AuthMessage = {
            "type": MessageType.AUTH,
            "token": self._token,
            "client": self._client_name,
        }
        await ws.send_json(auth)
        reply = await self._receive_json(ws)
        if reply.get("type") == MessageType.AUTH_INVALID:
            error = reply.get("error") or {}
            raise PorchlightAuthError(str(error.get("message", "invalid access token")))
        if reply.get("type") != MessageType.AUTH_OK:
            raise PorchlightConnectionError(f"expected auth_ok, got {reply.get('type')!r}")
        return cast(ServerInfo, hello)

    @staticmethod
    async def _receive_json(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
        msg = await ws.receive()
        if msg.type is not aiohttp.WSMsgType.TEXT:
            raise PorchlightConnectionError(f"connection closed during handshake ({msg.type.name})")
        try:
            data = json.loads(msg.data)
        except ValueError as err:
            raise PorchlightConnectionError("server sent invalid JSON") from err
        if not isinstance(data, dict):
            raise PorchlightConnectionError("server sent a non-object message")
        return data

    async def disconnect(self) -> None:
        """Close the websocket and fail every command still waiting for an answer."""
        ws, self._ws = self._ws, None
        reader, self._reader = self._reader, None
        if ws is not None:
            await ws.close()
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        self._fail_pending("disconnected")

    def _fail_pending(self, reason: str) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(PorchlightConnectionError(reason))

    async def _read_loop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    self._dispatch(msg.data)
                elif msg.type is aiohttp.WSMsgType.ERROR:
                    _LOGGER.debug("Websocket error: %s", ws.exception())
                    break
        finally:
            if self._ws is ws:
                self._ws = None
            self._fail_pending("connection lost")

    def _dispatch(self, raw: str) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            _LOGGER.warning("Ignoring a message that is not JSON: %.100s", raw)
            return
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        if kind == MessageType.RESULT:
            self._resolve(message)
        elif kind == MessageType.EVENT:
            try:
                event = parse_event(message)
            except ProtocolError as err:
                _LOGGER.warning("Ignoring a malformed event: %s", err.message)
                return
            self._deliver(event)
        # Unknown message types are ignored: the protocol may grow within a version.

    def _resolve(self, message: dict[str, Any]) -> None:
        message_id = message.get("message_id")
        future = self._pending.get(message_id) if isinstance(message_id, int) else None
        if future is None:
            _LOGGER.warning("Result for no pending command: %.200s", message)
            return
        if future.done():
            return
        if message.get("success"):
            future.set_result(message.get("result"))
        else:
            error = message.get("error") or {}
            future.set_exception(
                PorchlightCommandError(
                    str(error.get("code", ErrorCode.INTERNAL_ERROR)), str(error.get("message", ""))
                )
            )

    def _deliver(self, event: EventMessage) -> None:
        last = self.last_event
        if last is not None and last[0] == event["boot_id"] and event["seq"] <= last[1]:
            _LOGGER.debug("Dropping duplicate event %s/%s", event["boot_id"], event["seq"])
            return
        self.last_event = (event["boot_id"], event["seq"])
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:
                # A faulty listener must not take the connection down with it.
                _LOGGER.exception("Error handling event %s", event["event"])

    # --- commands ---------------------------------------------------------------------------

    async def command(self, command: str, **args: Any) -> Any:
        """Send a command and wait for its result; raise PorchlightCommandError on failure."""
        ws = self._ws
        if ws is None or ws.closed:
            raise PorchlightConnectionError("not connected")
        message_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        message: CommandMessage = {"message_id": message_id, "command": command}
        if args:
            message["args"] = args
        try:
            await ws.send_json(message)
            async with asyncio.timeout(self._timeout):
                return await future
        except TimeoutError as err:
            raise PorchlightConnectionError(
                f"no answer to {str(command)!r} within {self._timeout} s"
            ) from err
        except (aiohttp.ClientError, ConnectionError) as err:
            raise PorchlightConnectionError(f"sending {str(command)!r} failed: {err}") from err
        finally:
            self._pending.pop(message_id, None)

    async def ping(self) -> None:
        await self.command(Command.PING)

    async def get_state(self) -> ServerState:
        """The full state. The first one ever read is where the event feed starts:
        events after it are delivered by `run()` even if they happen before it runs."""
        state = cast(ServerState, await self.command(Command.GET_STATE))
        if self.last_event is None:
            self.last_event = (state["boot_id"], state["seq"])
        return state

    async def subscribe(self, since: tuple[str, int] | None = None) -> dict[str, Any]:
        """Start the event feed; events after `since` (boot_id, seq) are replayed first."""
        if since is None:
            return cast(dict[str, Any], await self.command(Command.SUBSCRIBE))
        return cast(
            dict[str, Any],
            await self.command(Command.SUBSCRIBE, since={"boot_id": since[0], "seq": since[1]}),
        )

    async def ring(self, camera: str | None = None) -> int:
        """Ring the doorbell as if the button was pressed; returns the event's seq."""
        result = await (
            self.command(Command.RING)
            if camera is None
            else self.command(Command.RING, camera=camera)
        )
        return int(result["seq"])

    async def set_motion_settings(self, camera: str, **settings: Any) -> MotionSettings:
        """Change any of `enabled`, `threshold`, `min_area`; returns the new settings."""
        return cast(
            MotionSettings,
            await self.command(Command.SET_MOTION_SETTINGS, camera=camera, **settings),
        )

    async def set_recording_settings(self, camera: str, **settings: Any) -> RecordingSettings:
        """Change any of `enabled`, `pre_roll`, `post_roll`; returns the new settings."""
        return cast(
            RecordingSettings,
            await self.command(Command.SET_RECORDING_SETTINGS, camera=camera, **settings),
        )

    async def set_privacy_mode(self, camera: str, enabled: bool) -> bool:
        """Turn the lens off (True) or on; returns the new privacy mode."""
        result = await self.command(Command.SET_PRIVACY_MODE, camera=camera, enabled=enabled)
        return bool(result["privacy_mode"])

    async def take_snapshot(self, camera: str) -> str:
        """Record a `manual` event with a snapshot; returns its event id."""
        result = await self.command(Command.TAKE_SNAPSHOT, camera=camera)
        return str(result["event_id"])

    async def get_storage(self) -> StorageStatus:
        return cast(StorageStatus, await self.command(Command.GET_STORAGE))

    # --- recordings -------------------------------------------------------------------------

    async def record_clip(self, camera: str, seconds: float) -> dict[str, str]:
        """Start a manual clip of `seconds` (1-300); returns `event_id` and `clip_id`."""
        result = await self.command(Command.RECORD_CLIP, camera=camera, seconds=seconds)
        return {"event_id": str(result["event_id"]), "clip_id": str(result["clip_id"])}

    async def list_events(self, **query: Any) -> dict[str, Any]:
        """One page of indexed events, newest first (`camera`, `kind`, `start`, `end`,
        `limit`, `offset`); `next_offset` is None on the last page."""
        args = {key: value for key, value in query.items() if value is not None}
        return cast(dict[str, Any], await self.command(Command.LIST_EVENTS, **args))

    async def protect_clip(self, clip_id: str, protected: bool) -> dict[str, Any]:
        """Keep a clip from retention (or release it); returns the clip record."""
        return cast(
            dict[str, Any],
            await self.command(Command.PROTECT_CLIP, clip_id=clip_id, protected=protected),
        )

    async def delete_clips(self, **target: Any) -> list[str]:
        """Delete by `clip_ids`, `event_ids`, or `start` + `end` (+ `camera`); the ids gone."""
        args = {key: value for key, value in target.items() if value is not None}
        result = await self.command(Command.DELETE_CLIPS, **args)
        return [str(clip_id) for clip_id in result["deleted"]]

    async def export_clip(self, clip_id: str) -> dict[str, Any]:
        """Export a finished clip; returns the add-on's `path` and the `manifest`."""
        return cast(dict[str, Any], await self.command(Command.EXPORT_CLIP, clip_id=clip_id))

    async def get_audit_log(self, **query: Any) -> dict[str, Any]:
        args = {key: value for key, value in query.items() if value is not None}
        return cast(dict[str, Any], await self.command(Command.GET_AUDIT_LOG, **args))

    # --- staying connected ------------------------------------------------------------------

    async def run(
        self,
        *,
        on_event: EventCallback,
        on_state: StateCallback,
        on_connection: ConnectionCallback,
        on_auth_failed: AuthFailedCallback | None = None,
        on_unsupported_version: VersionCallback | None = None,
    ) -> None:
        """Stay connected until cancelled (or `stop()`), reconnecting with backoff.

        After every (re)connect the full state is read (`on_state`), then the event feed
        is resumed from the last event seen, so nothing is missed or delivered twice.
        A rejected token ends the loop (`on_auth_failed`): retrying cannot fix it.
        """
        self._run_task = asyncio.current_task()
        self._on_event = on_event
        delay = self.backoff_min
        reported: bool | None = None  # what on_connection last said (None: nothing yet)
        logged_down = False

        def report(connected: bool) -> None:
            nonlocal reported
            if reported is not connected:
                reported = connected
                on_connection(connected)

        try:
            while True:
                try:
                    await self.connect()
                    await self._resync(on_state)
                except PorchlightAuthError as err:
                    _LOGGER.error("Porchlight at %s rejected the access token: %s", self.host, err)
                    await self.disconnect()
                    report(False)
                    if on_auth_failed is not None:
                        on_auth_failed()
                    return
                except PorchlightError as err:
                    await self.disconnect()
                    report(False)
                    if isinstance(err, PorchlightUnsupportedVersion) and on_unsupported_version:
                        # Keep retrying (slowly): the other side may be updated any time.
                        on_unsupported_version(err)
                    if not logged_down:
                        logged_down = True
                        _LOGGER.warning("Porchlight at %s is unavailable: %s", self.host, err)
                    else:
                        _LOGGER.debug("Reconnecting to %s failed: %s", self.host, err)
                except Exception:
                    # A bug must not end the loop for good: log it and retry like an outage.
                    _LOGGER.exception("Unexpected error in the Porchlight connection")
                    await self.disconnect()
                    report(False)
                    logged_down = True
                else:
                    if logged_down:
                        logged_down = False
                        _LOGGER.info("Porchlight at %s is back", self.host)
                    report(True)
                    delay = self.backoff_min  # a good connection resets the backoff
                    await self._wait_closed()
                    report(False)
                    logged_down = True
                    _LOGGER.warning("Lost the connection to Porchlight at %s", self.host)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max)
        finally:
            self._on_event = None
            self._run_task = None
            await self.disconnect()

    async def _resync(self, on_state: StateCallback) -> None:
        state = await self.get_state()
        last = self.last_event
        # After a restart of the add-on (new boot id) the old run's numbers mean nothing:
        # whatever the new run published while we were away is replayed from its start.
        since = last if last is not None and last[0] == state["boot_id"] else (state["boot_id"], 0)
        self.last_event = since
        on_state(state)
        reply = await self.subscribe(since)
        if reply.get("gap"):
            _LOGGER.info("Missed events from %s (replay buffer overflowed); resyncing", self.host)
            on_state(await self.get_state())

    async def _wait_closed(self) -> None:
        """Return when the connection is gone, pinging while it is quiet."""
        reader = self._reader
        while reader is not None and not reader.done():
            # asyncio.wait does not cancel the reader when run() itself is cancelled.
            done, _ = await asyncio.wait({reader}, timeout=self._heartbeat)
            if done:
                break
            try:
                await self.ping()
            except PorchlightError as err:
                _LOGGER.debug("Ping to %s failed: %s", self.host, err)
                break
        await self.disconnect()

    def start(
        self,
        *,
        on_event: EventCallback,
        on_state: StateCallback,
        on_connection: ConnectionCallback,
        on_auth_failed: AuthFailedCallback | None = None,
        on_unsupported_version: VersionCallback | None = None,
    ) -> asyncio.Task[None]:
        """Run `run()` as a task of its own (outside Home Assistant's task helpers)."""
        return asyncio.create_task(
            self.run(
                on_event=on_event,
                on_state=on_state,
                on_connection=on_connection,
                on_auth_failed=on_auth_failed,
                on_unsupported_version=on_unsupported_version,
            ),
            name="porchlight client",
        )

    async def stop(self) -> None:
        """End `run()` (wherever it was started) and close the connection."""
        task = self._run_task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.wait({task})
        await self.disconnect()

    # --- HTTP -------------------------------------------------------------------------------

    def _camera_url(self, camera: str, path: Callable[[str], str]) -> str:
        # The name becomes part of a URL path: only the protocol's camera names are allowed.
        if not CAMERA_NAME_RE.match(camera):
            raise PorchlightCommandError(ErrorCode.INVALID_ARGS, f"invalid camera name {camera!r}")
        return self.base_url + path(camera)

    def _headers(self, user: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._token}"}
        # Who looked, for the add-on's audit log; a header value cannot hold control
        # characters, and the add-on keeps 64 of them anyway.
        name = "".join(c for c in user or "" if c.isprintable())[:64].strip()
        if name:
            headers[USER_HEADER] = name
        return headers

    async def snapshot(self, camera: str, user: str | None = None) -> bytes:
        """The camera's latest frame as JPEG."""
        jpeg, _stale = await self.snapshot_info(camera, user)
        return jpeg

    async def snapshot_info(self, camera: str, user: str | None = None) -> tuple[bytes, bool]:
        """The latest frame as JPEG, and whether it is stale (camera not online)."""
        url = self._camera_url(camera, snapshot_path)
        return await self._get_jpeg(url, f"snapshot of {camera!r}", user)

    async def event_snapshot(self, event_id: str, user: str | None = None) -> bytes:
        """The snapshot taken for an event (`snapshot_ready` says when it exists)."""
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
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            ) as response:
                await _raise_for_status(response)
                stale = response.headers.get("X-Porchlight-Stale") == "1"
                return await response.read(), stale
        except TimeoutError as err:
            raise PorchlightConnectionError(f"{what} timed out") from err
        except aiohttp.ClientError as err:
            raise PorchlightConnectionError(f"{what} failed: {err}") from err

    async def open_clip(
        self, clip_id: str, byte_range: str | None = None, user: str | None = None
    ) -> aiohttp.ClientResponse:
        """Start downloading a clip (the whole file, or `byte_range` as in a `Range`
        header); the caller streams `.content` and must `close()` the response."""
        if not CLIP_ID_RE.match(clip_id):
            raise PorchlightCommandError(ErrorCode.INVALID_ARGS, f"invalid clip id {clip_id!r}")
        headers = self._headers(user)
        if byte_range:
            headers[hdrs.RANGE] = byte_range
        try:
            # No total timeout: a long clip on a slow link takes as long as it takes.
            response = await self._session.get(
                self.base_url + clip_path(clip_id),
                headers=headers,
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=self._timeout, sock_read=self._timeout
                ),
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
        """Open the live MJPEG stream; the caller reads `.content` and must `close()` it."""
        url = self._camera_url(camera, mjpeg_path)
        try:
            # No total timeout: the stream lasts as long as someone watches.
            response = await self._session.get(
                url,
                headers=self._headers(user),
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=self._timeout, sock_read=self._timeout
                ),
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
