"""An in-process fake of the Porchlight add-on, speaking protocol v1 on 127.0.0.1.

Small but faithful where the integration depends on it: handshake and auth, message_id
correlation, numbered events with a bounded replay buffer and `since`, HTTP snapshot and
MJPEG with Bearer auth. Tests drive it directly (publish events, drop connections,
restart with a new boot id, go down and come back on the same port).
"""

from __future__ import annotations

import asyncio
from collections import deque
import contextlib
import hashlib
import json
from pathlib import Path
import shutil
import tempfile
from typing import Any
import uuid

from aiohttp import WSMsgType, web
import cv2
import numpy as np

from custom_components.porchlight.pyporchlight.protocol import (
    EVENT_BUFFER_SIZE,
    LIMITS,
    PRIVACY_REASON,
    WS_PATH,
    AuditEntry,
    CameraState,
    CameraStatus,
    Command,
    CommandMessage,
    ErrorCode,
    EventMessage,
    EventType,
    MessageType,
    ProtocolError,
    ResultMessage,
    ServerState,
    Setting,
    StorageStatus,
    StreamFormat,
    VersionInfo,
    clip_path,
    event_snapshot_path,
    live_stream_path,
    mjpeg_path,
    outdated_peer,
    parse_command,
    peer_version,
    result_error,
    result_ok,
    snapshot_path,
    version_info,
)
from tests.helpers.loopback_http import start_on_loopback

BASE_TIME = 1_764_270_000.0


def make_camera(name: str, title: str) -> CameraState:
    return {
        "name": name,
        "title": title,
        "status": "online",
        "status_reason": None,
        "motion": False,
        "motion_settings": {"enabled": True, "threshold": 25, "min_area": 1.0},
        "width": 64,
        "height": 48,
        "fps": 10.0,
        "last_frame": BASE_TIME,
        "frames": 100,
        "dropped": 0,
        "latency_ms": 12.5,
        "privacy_mode": False,
        "recording": {"enabled": True, "pre_roll": 5.0, "post_roll": 10.0},
        "last_ring": None,
        "last_motion": None,
        "preroll_bytes": 0,
        "zones": [{"name": "doorstep", "occupied": False}],
        "live_stream": True,
        "audio": False,
    }


def make_storage() -> StorageStatus:
    return {
        "used_bytes": 123_456_789,
        "free_bytes": 9_876_543_210,
        "clips": 3,
        "oldest_clip": BASE_TIME - 86400,
        "paused": False,
        "reason": None,
        "max_age_days": 30.0,
        "max_size_bytes": None,
        "min_free_bytes": 1_000_000_000,
    }


def make_jpeg(level: int) -> bytes:
    """A real 64x48 JPEG filled with one grey level (so tests can tell frames apart)."""
    ok, encoded = cv2.imencode(".jpg", np.full((48, 64, 3), level, dtype=np.uint8))
    assert ok
    return bytes(encoded.tobytes())


def decode_jpeg(jpeg: bytes) -> np.ndarray[Any, Any]:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert isinstance(image, np.ndarray), "not a JPEG"
    return image


class _Connection:
    """One websocket client; everything it is sent goes through one ordered queue."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.subscribed = False

    async def pump(self) -> None:
        # A client that went away mid-send just stops the pump.
        with contextlib.suppress(ConnectionError):
            while True:
                message = await self.queue.get()
                await self.ws.send_json(message)


def _check_limits(args: dict[str, Any], **settings: Setting) -> None:
    """invalid_args for an argument outside its protocol limit (as the add-on's schemas)."""
    for key, setting in settings.items():
        low, high = LIMITS[setting].range
        if key in args and not low <= args[key] <= high:
            raise ProtocolError(ErrorCode.INVALID_ARGS, f"{key} out of range")


def _versions_valid(message: dict[str, Any]) -> bool:
    try:
        peer_version(message)
    except ProtocolError:
        return False
    return True


class FakeAddon:
    def __init__(
        self,
        *,
        token: str = "good-token",
        instance_id: str = "0123456789abcdef",
        name: str = "Porchlight",
        cameras: tuple[tuple[str, str], ...] = (("front_door", "Front door"),),
        buffer_size: int = EVENT_BUFFER_SIZE,
    ) -> None:
        self.token = token
        self.instance_id = instance_id
        self.name = name
        self.version: VersionInfo = version_info()
        """The version fields of `server_info` (a test sets another add-on's)."""
        self.refuse_client_version = False
        """Answer a correct auth with `unsupported_version` (a server whose check of the
        client's version is stricter than its `server_info` says)."""
        self.boots = 1
        self.boot_id = "boot-1"
        self.seq = 0
        self.buffer: deque[EventMessage] = deque(maxlen=buffer_size)
        self.cameras: dict[str, CameraState] = {n: make_camera(n, t) for n, t in cameras}
        self.storage: StorageStatus | None = make_storage()
        """None: an older add-on without storage (left out of the state)."""
        self.ring_snapshots = False
        """Follow every ring with its `snapshot_ready` (as the real add-on does)."""
        self.event_snapshots: dict[str, bytes] = {}
        self.commands: list[CommandMessage] = []
        self.silent_commands: set[str] = set()
        """Commands that get no answer (to test client timeouts)."""
        self.failing_commands: dict[str, ErrorCode] = {}
        """Commands answered with this error code."""
        self.mjpeg_parts = 3
        self.snapshots_served = 0
        self.event_snapshots_served = 0
        self.last_user: str | None = None
        self.snapshot_queries: list[dict[str, str]] = []
        """The query of every camera snapshot request, in order."""
        self.privacy_status = CameraStatus.PRIVACY
        """The status privacy mode sets (`offline`: a 1.1 add-on, which has no `privacy`)."""
        self.auth_attempts = 0
        # The recordings index: EventRecord / ClipRecord dicts as the real add-on returns.
        self.index: list[dict[str, Any]] = []
        self.clips: dict[str, dict[str, Any]] = {}
        self.audit: list[AuditEntry] = []
        self.stream_secret = 1
        """Bumped by `rotate_stream_credential`; part of every stream URL."""
        self.clip_ranges: list[str | None] = []
        """The Range header of every clip download, in order."""
        self.files = Path(tempfile.mkdtemp(prefix="porchlight-fake-"))
        self._connections: set[_Connection] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(WS_PATH, self._websocket)
        app.router.add_get(snapshot_path("{camera}"), self._snapshot)
        app.router.add_get(mjpeg_path("{camera}"), self._mjpeg)
        app.router.add_get(event_snapshot_path("{event_id}"), self._event_snapshot)
        app.router.add_get(clip_path("{clip_id}"), self._clip)
        # The same port again after a restart (reuse_address): the client reconnects there.
        self._runner, self.port = await start_on_loopback(app, port=self.port, reuse_address=True)

    async def stop(self) -> None:
        """Go away: close every connection and stop listening (the port is kept)."""
        await self.drop_connections()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def cleanup_files(self) -> None:
        shutil.rmtree(self.files, ignore_errors=True)

    async def restart(self) -> None:
        """A new run of the service: new boot id, numbering from zero, empty buffer."""
        await self.stop()
        self.boots += 1
        self.boot_id = f"boot-{self.boots}"
        self.seq = 0
        self.buffer.clear()
        await self.start()

    async def drop_connections(self) -> None:
        for connection in tuple(self._connections):
            await connection.ws.close()

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    @property
    def subscriber_count(self) -> int:
        return sum(1 for c in self._connections if c.subscribed)

    def sent(self, command: str) -> list[dict[str, Any]]:
        """The args of every `command` received, in order."""
        return [dict(c.get("args", {})) for c in self.commands if c["command"] == command]

    # --- state and events -----------------------------------------------------------------

    def state(self) -> ServerState:
        state: ServerState = {
            "instance_id": self.instance_id,
            "boot_id": self.boot_id,
            "seq": self.seq,
            "cameras": [dict(c) for c in self.cameras.values()],  # type: ignore[misc]
            "storage": dict(self.storage) if self.storage else None,  # type: ignore[typeddict-item]
        }
        if self.storage is None:
            del state["storage"]
        return state

    def publish(self, event: EventType, camera: str | None, data: dict[str, Any]) -> EventMessage:
        self.seq += 1
        message: EventMessage = {
            "type": MessageType.EVENT,
            "event": event,
            "boot_id": self.boot_id,
            "seq": self.seq,
            "time": BASE_TIME + self.seq,
            "camera": camera,
            "data": data,
        }
        self.buffer.append(message)
        for connection in self._connections:
            if connection.subscribed:
                connection.queue.put_nowait(dict(message))
        return message

    def ring(self, camera: str = "front_door", source: str = "button") -> EventMessage:
        event = self.publish(EventType.RING, camera, {"source": source})
        self.cameras[camera]["last_ring"] = event["time"]
        if self.ring_snapshots:
            self.snapshot_ready(camera, event, "ring")
        return event

    def snapshot_ready(self, camera: str, cause: EventMessage, kind: str) -> EventMessage:
        event_id = f"{cause['boot_id']}:{cause['seq']}"
        self.event_snapshots[event_id] = make_jpeg(10 + cause["seq"] % 200)
        return self.publish(
            EventType.SNAPSHOT_READY,
            camera,
            {"event_id": event_id, "kind": kind, "path": event_snapshot_path(event_id)},
        )

    def cameras_changed(self, added: list[str], removed: list[str]) -> EventMessage:
        """Announce cameras added to or removed from `self.cameras` (as the panel does)."""
        data = {"added": added, "removed": removed, "cameras": list(self.cameras)}
        return self.publish(EventType.CAMERAS_CHANGED, None, data)

    def camera_state_changed(self, camera: str) -> EventMessage:
        return self.publish(EventType.CAMERA_STATE, camera, dict(self.cameras[camera]))

    def answer(self, message_id: int, result: dict[str, Any]) -> None:
        """Send a (late) result for a command that was left unanswered (`silent_commands`)."""
        for connection in self._connections:
            connection.queue.put_nowait(dict(result_ok(message_id, result)))

    def status(self, camera: str, status: str, reason: str | None) -> EventMessage:
        self.cameras[camera]["status"] = status
        self.cameras[camera]["status_reason"] = reason
        return self.publish(EventType.CAMERA_STATUS, camera, {"status": status, "reason": reason})

    def motion(self, camera: str, active: bool) -> EventMessage:
        self.cameras[camera]["motion"] = active
        if active:
            self.cameras[camera]["last_motion"] = BASE_TIME + self.seq + 1
        return self.publish(
            EventType.MOTION,
            camera,
            {"active": active, "pts": 1.0, "boxes": [], "area": 5.0, "zones": []},
        )

    def occupancy(self, camera: str, zone: str, occupied: bool) -> EventMessage:
        for state in self.cameras[camera].get("zones", []):
            if state["name"] == zone:
                state["occupied"] = occupied
        return self.publish(
            EventType.OCCUPANCY, camera, {"zone": zone, "occupied": occupied, "pts": 1.0}
        )

    def log(
        self, action: str, *, target: str | None = None, detail: dict[str, Any] | None = None
    ) -> None:
        """Append an audit entry shaped as the add-on's (`AuditEntry`)."""
        self.audit.append(
            {
                "id": len(self.audit) + 1,
                "time": BASE_TIME + len(self.audit),
                "action": action,
                "client_id": "home-assistant",
                "address": "127.0.0.1",
                "camera": None,
                "target": target,
                "detail": detail,
            }
        )

    # --- recordings -----------------------------------------------------------------------

    def add_recording(
        self,
        kind: str,
        at: float,
        *,
        camera: str = "front_door",
        snapshot: bool = True,
        clip: bytes | None = None,
        recording: bool = False,
    ) -> dict[str, Any]:
        """Index an event (with a snapshot and a clip file when asked), as the add-on does.

        `recording`: its clip is still being recorded (it plays what is there so far).
        """
        event_id = f"{self.boot_id}:{len(self.index) + 1000}"
        clip_id = None
        if clip is not None:
            clip_id = str(uuid.uuid4())
            (self.files / f"{clip_id}.mp4").write_bytes(clip)
        record = {
            "id": event_id,
            "seq": len(self.index) + 1000,
            "kind": kind,
            "camera": camera,
            "time": at,
            "snapshot": f"{event_id}.jpg" if snapshot else None,
            "clip_id": clip_id,
            "clip_state": None if clip_id is None else "recording" if recording else "complete",
        }
        self.index.append(record)
        if snapshot:
            self.event_snapshots[event_id] = make_jpeg(int(at) % 200 + 20)
        if clip_id is not None:
            self.clips[clip_id] = {
                "id": clip_id,
                "camera": camera,
                "start": at - 5,
                "end": None if recording else at + 10,
                "duration": None if recording else 15.0,
                "size": len(clip or b""),
                "protected": False,
                "state": record["clip_state"],
                "mode": "passthrough",
                "reason": None,
                "events": [record],
            }
        return record

    def _list_events(self, args: dict[str, Any]) -> dict[str, Any]:
        limit, offset = args.get("limit", 50), args.get("offset", 0)
        if not isinstance(limit, int) or not 1 <= limit <= 200:
            raise ProtocolError(ErrorCode.INVALID_ARGS, "'limit' must be an integer 1-200")
        found = sorted(
            (
                e
                for e in self.index
                if args.get("camera") in (None, e["camera"])
                and args.get("kind") in (None, e["kind"])
                and (args.get("start") is None or e["time"] >= args["start"])
                and (args.get("end") is None or e["time"] < args["end"])
            ),
            key=lambda e: e["time"],
            reverse=True,
        )
        page = found[offset : offset + limit]
        following = offset + len(page)
        return {"events": page, "next_offset": following if following < len(found) else None}

    def _clip_arg(self, args: dict[str, Any]) -> str:
        clip_id = args.get("clip_id")
        if not isinstance(clip_id, str) or len(clip_id) != 36:
            raise ProtocolError(ErrorCode.INVALID_ARGS, "invalid clip id")
        if clip_id not in self.clips:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"unknown clip {clip_id}")
        return clip_id

    def _delete(self, args: dict[str, Any]) -> dict[str, Any]:
        if "clip_ids" in args:
            targets = [c for c in args["clip_ids"] if c in self.clips]
        elif "event_ids" in args:
            targets = [e["clip_id"] for e in self.index if e["id"] in args["event_ids"]]
        elif args.get("start") is not None and args.get("end") is not None:
            targets = [
                c["id"]
                for c in self.clips.values()
                if args["start"] <= c["start"] < args["end"]
                and args.get("camera") in (None, c["camera"])
            ]
        else:
            raise ProtocolError(ErrorCode.INVALID_ARGS, "give clip_ids, event_ids or start+end")
        deleted = sorted({t for t in targets if t is not None and t in self.clips})
        for clip_id in deleted:
            del self.clips[clip_id]
            (self.files / f"{clip_id}.mp4").unlink()
            for event in self.index:
                if event["clip_id"] == clip_id:
                    event["clip_id"] = None
            self.log("clip_delete", target=clip_id)
        return {"deleted": deleted}

    def _export(self, clip_id: str, user: str | None = None) -> dict[str, Any]:
        exported = self.files / "exports" / f"{clip_id}.mp4"
        exported.parent.mkdir(exist_ok=True)
        shutil.copyfile(self.files / f"{clip_id}.mp4", exported)
        clip = self.clips[clip_id]
        manifest = {
            "sha256": hashlib.sha256(exported.read_bytes()).hexdigest(),
            "start": clip["start"],
            "end": clip["end"],
            "camera": clip["camera"],
            "clip_id": clip_id,
            "exported_at": BASE_TIME,
        }
        self.log("clip_export", target=clip_id, detail={"user": user} if user else None)
        return {"path": str(exported), "manifest": manifest}

    # --- websocket ------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json(
            {
                "type": MessageType.SERVER_INFO,
                **self.version,
                "server_version": "0.1.0",
                "instance_id": self.instance_id,
                "boot_id": self.boot_id,
                "name": self.name,
            }
        )
        try:
            async with asyncio.timeout(10):
                auth = await ws.receive_json()
        except (TimeoutError, TypeError, ValueError):
            await ws.close()
            return ws
        self.auth_attempts += 1
        if not isinstance(auth, dict) or auth.get("token") != self.token:
            await ws.send_json(
                {
                    "type": MessageType.AUTH_INVALID,
                    "error": {"code": ErrorCode.INVALID_AUTH, "message": "invalid token"},
                }
            )
            await ws.close()
            return ws
        client = peer_version(auth) if _versions_valid(auth) else None
        own = peer_version(self.version)
        if self.refuse_client_version or client is None or outdated_peer(own, client) is not None:
            await ws.send_json(
                {
                    "type": MessageType.AUTH_INVALID,
                    "error": {"code": ErrorCode.UNSUPPORTED_VERSION, "message": "update"},
                }
            )
            await ws.close()
            return ws
        await ws.send_json({"type": MessageType.AUTH_OK})

        connection = _Connection(ws)
        self._connections.add(connection)
        pump = asyncio.create_task(connection.pump())
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                self._handle(connection, msg.data)
        finally:
            self._connections.discard(connection)
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        return ws

    def _handle(self, connection: _Connection, raw: str) -> None:
        try:
            command = parse_command(json.loads(raw))
        except (ValueError, ProtocolError) as err:
            code = err.code if isinstance(err, ProtocolError) else ErrorCode.INVALID_FORMAT
            connection.queue.put_nowait(dict(result_error(-1, code, str(err))))
            return
        self.commands.append(command)
        if command["command"] in self.silent_commands:
            return
        message_id = command["message_id"]
        if (failure := self.failing_commands.get(command["command"])) is not None:
            connection.queue.put_nowait(dict(result_error(message_id, failure, "it failed")))
            return
        args = command.get("args", {})
        # Replayed events must follow the subscribe result in the same ordered queue.
        replay: list[EventMessage] = []
        result: ResultMessage
        try:
            match command["command"]:
                case Command.PING:
                    result = result_ok(message_id, {"pong": True})
                case Command.GET_STATE:
                    result = result_ok(message_id, self.state())
                case Command.SUBSCRIBE:
                    replay, gap = self._replay(args.get("since"))
                    connection.subscribed = True
                    body = {
                        "boot_id": self.boot_id,
                        "seq": self.seq,
                        "replayed": len(replay),
                        "gap": gap,
                    }
                    result = result_ok(message_id, body)
                case Command.RING:
                    camera = self._camera_arg(args)
                    result = result_ok(message_id, {"seq": self.ring(camera, "api")["seq"]})
                case Command.SET_MOTION_SETTINGS:
                    camera = self._camera_arg(args)
                    settings = self.cameras[camera]["motion_settings"]
                    _check_limits(args, threshold=Setting.THRESHOLD, min_area=Setting.MIN_AREA)
                    for key in ("enabled", "threshold", "min_area"):
                        if key in args:
                            settings[key] = args[key]  # type: ignore[literal-required,unused-ignore]
                    result = result_ok(message_id, dict(settings))
                    self.camera_state_changed(camera)
                case Command.SET_RECORDING_SETTINGS:
                    camera = self._camera_arg(args)
                    recording = self.cameras[camera]["recording"]
                    _check_limits(args, pre_roll=Setting.PRE_ROLL, post_roll=Setting.POST_ROLL)
                    for key in ("enabled", "pre_roll", "post_roll"):
                        if key in args:
                            recording[key] = args[key]  # type: ignore[literal-required]
                    result = result_ok(message_id, dict(recording))
                    self.camera_state_changed(camera)
                case Command.SET_PRIVACY_MODE:
                    camera = self._camera_arg(args)
                    if not isinstance(args.get("enabled"), bool):
                        raise ProtocolError(ErrorCode.INVALID_ARGS, "enabled is required")
                    self.cameras[camera]["privacy_mode"] = args["enabled"]
                    result = result_ok(message_id, {"privacy_mode": args["enabled"]})
                    # As the add-on: the status first, then the full state.
                    if args["enabled"]:
                        self.status(camera, self.privacy_status, PRIVACY_REASON)
                    else:
                        self.status(camera, CameraStatus.ONLINE, "receiving frames")
                    self.camera_state_changed(camera)
                case Command.SET_AUDIO:
                    camera = self._camera_arg(args)
                    if not isinstance(args.get("enabled"), bool):
                        raise ProtocolError(ErrorCode.INVALID_ARGS, "enabled is required")
                    self.cameras[camera]["audio"] = args["enabled"]
                    result = result_ok(message_id, {"audio": args["enabled"]})
                    self.camera_state_changed(camera)
                case Command.TAKE_SNAPSHOT:
                    camera = self._camera_arg(args)
                    if self.cameras[camera]["privacy_mode"]:
                        raise ProtocolError(ErrorCode.UNAVAILABLE, "no picture: privacy mode")
                    # As the add-on: a manual event of its own id (no bus event causes it).
                    event_id = f"manual-{uuid.uuid4().hex}"
                    self.event_snapshots[event_id] = make_jpeg(99)
                    self.publish(
                        EventType.SNAPSHOT_READY,
                        camera,
                        {
                            "event_id": event_id,
                            "kind": "manual",
                            "path": event_snapshot_path(event_id),
                        },
                    )
                    result = result_ok(message_id, {"event_id": event_id})
                case Command.RECORD_CLIP:
                    camera = self._camera_arg(args)
                    if self.cameras[camera]["privacy_mode"]:
                        raise ProtocolError(ErrorCode.UNAVAILABLE, "the camera is in privacy mode")
                    seconds = args.get("seconds")
                    low, high = LIMITS[Setting.RECORD_SECONDS].range
                    if not isinstance(seconds, int | float) or not low <= seconds <= high:
                        raise ProtocolError(ErrorCode.INVALID_ARGS, "'seconds' out of range")
                    record = self.add_recording(
                        "manual", BASE_TIME + self.seq, camera=camera, clip=b"\0" * 64
                    )
                    body = {"event_id": record["id"], "clip_id": record["clip_id"]}
                    result = result_ok(message_id, body)
                case Command.LIST_EVENTS:
                    result = result_ok(message_id, self._list_events(args))
                case Command.LIST_CLIPS:
                    clips = sorted(self.clips.values(), key=lambda c: c["start"], reverse=True)
                    result = result_ok(message_id, {"clips": clips, "next_offset": None})
                case Command.PROTECT_CLIP:
                    clip_id = self._clip_arg(args)
                    self.clips[clip_id]["protected"] = bool(args.get("protected"))
                    self.log("clip_protect", target=clip_id)
                    result = result_ok(message_id, dict(self.clips[clip_id]))
                case Command.DELETE_CLIPS:
                    result = result_ok(message_id, self._delete(args))
                case Command.EXPORT_CLIP:
                    result = result_ok(
                        message_id, self._export(self._clip_arg(args), args.get("user"))
                    )
                case Command.GET_AUDIT_LOG:
                    result = result_ok(
                        message_id, {"entries": self.audit[::-1], "next_offset": None}
                    )
                case Command.GET_STREAM_URL:
                    camera = self._camera_arg(args)
                    if user := args.get("user"):  # as the add-on: the viewer is audited
                        self.log("live_stream", target="stream.ts", detail={"user": user})
                    path = f"{live_stream_path(camera)}?credential=secret{self.stream_secret}"
                    result = result_ok(message_id, {"path": path, "format": StreamFormat.MPEGTS})
                case Command.ROTATE_STREAM_CREDENTIAL:
                    self.stream_secret += 1
                    self.log("stream_credential")
                    result = result_ok(message_id, {"rotated": True})
                case Command.GET_STORAGE:
                    if self.storage is None:
                        raise ProtocolError(ErrorCode.UNKNOWN_COMMAND, "unknown command")
                    result = result_ok(message_id, dict(self.storage))
                case _:
                    raise ProtocolError(ErrorCode.UNKNOWN_COMMAND, "unknown command")
        except ProtocolError as err:
            result = result_error(message_id, err.code, err.message)
        connection.queue.put_nowait(dict(result))
        for event in replay:
            connection.queue.put_nowait(dict(event))

    def _camera_arg(self, args: dict[str, Any]) -> str:
        camera = args.get("camera")
        if camera is None and len(self.cameras) == 1:
            return next(iter(self.cameras))
        if not isinstance(camera, str):
            raise ProtocolError(ErrorCode.INVALID_ARGS, "camera is required")
        if camera not in self.cameras:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"unknown camera {camera!r}")
        return camera

    def _replay(self, since: object) -> tuple[list[EventMessage], bool]:
        if not isinstance(since, dict) or since.get("boot_id") != self.boot_id:
            return [], False
        last_seen = int(since.get("seq", 0))
        missed = [e for e in self.buffer if e["seq"] > last_seen]
        oldest = self.buffer[0]["seq"] if self.buffer else self.seq + 1
        return missed, last_seen < self.seq and oldest > last_seen + 1

    # --- HTTP -----------------------------------------------------------------------------

    def _check(self, request: web.Request) -> str:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            raise web.HTTPUnauthorized(
                text=json.dumps({"error": {"code": "invalid_auth", "message": "bad token"}}),
                content_type="application/json",
            )
        camera = request.match_info["camera"]
        if camera not in self.cameras:
            raise web.HTTPNotFound(
                text=json.dumps({"error": {"code": "not_found", "message": "no camera"}}),
                content_type="application/json",
            )
        return camera

    async def _snapshot(self, request: web.Request) -> web.Response:
        camera = self._check(request)
        self.snapshot_queries.append(dict(request.query))
        self.last_user = request.headers.get("X-Porchlight-User")
        self.log("snapshot", detail={"user": self.last_user} if self.last_user else None)
        if self.cameras[camera]["privacy_mode"]:
            raise web.HTTPServiceUnavailable(
                text=json.dumps({"error": {"code": "unavailable", "message": "privacy mode"}}),
                content_type="application/json",
            )
        self.snapshots_served += 1
        jpeg = make_jpeg(200)
        # As the add-on: full size, or scaled down to fit the asked box (aspect kept).
        width = min(
            64, int(request.query.get("width", 64)), int(request.query.get("height", 48)) * 4 // 3
        )
        if width < 64:
            image = cv2.resize(decode_jpeg(jpeg), (width, width * 3 // 4))
            jpeg = bytes(cv2.imencode(".jpg", image)[1].tobytes())
        return web.Response(body=jpeg, content_type="image/jpeg")

    async def _event_snapshot(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            raise web.HTTPUnauthorized()
        self.last_user = request.headers.get("X-Porchlight-User")
        jpeg = self.event_snapshots.get(request.match_info["event_id"])
        if jpeg is None:
            raise web.HTTPNotFound(
                text=json.dumps({"error": {"code": "not_found", "message": "no such event"}}),
                content_type="application/json",
            )
        self.event_snapshots_served += 1
        return web.Response(body=jpeg, content_type="image/jpeg")

    async def _clip(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            raise web.HTTPUnauthorized()
        clip_id = request.match_info["clip_id"]
        path = self.files / f"{clip_id}.mp4"
        if clip_id not in self.clips or not path.exists():
            raise web.HTTPNotFound(
                text=json.dumps({"error": {"code": "not_found", "message": "unknown clip"}}),
                content_type="application/json",
            )
        if self.clips[clip_id]["state"] == "recording" and not path.stat().st_size:
            return web.Response(  # recording, no whole fragment yet: as the add-on answers
                status=503,
                text=json.dumps({"error": {"code": "unavailable", "message": "starting"}}),
                content_type="application/json",
                headers={"Retry-After": "1"},
            )
        self.last_user = request.headers.get("X-Porchlight-User")
        self.clip_ranges.append(request.headers.get("Range"))
        self.log("clip_download", target=clip_id, detail={"user": self.last_user})
        # aiohttp's FileResponse answers Range requests (206) the way the real add-on does.
        headers = {"Content-Type": "video/mp4"}
        if self.clips[clip_id]["state"] == "recording":
            headers["Cache-Control"] = "no-store"  # it grows
        return web.FileResponse(path, headers=headers)

    async def _mjpeg(self, request: web.Request) -> web.StreamResponse:
        self._check(request)
        self.last_user = request.headers.get("X-Porchlight-User")
        self.log("live_stream", detail={"user": self.last_user} if self.last_user else None)
        response = web.StreamResponse(
            headers={"Content-Type": "multipart/x-mixed-replace; boundary=frame"}
        )
        await response.prepare(request)
        # A finite stream keeps tests deterministic; the real one runs until the viewer leaves.
        for part in range(self.mjpeg_parts):
            jpeg = make_jpeg(40 * (part + 1))
            await response.write(
                b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                + str(len(jpeg)).encode()
                + b"\r\n\r\n"
                + jpeg
                + b"\r\n"
            )
        await response.write_eof()
        return response
