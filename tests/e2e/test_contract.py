"""One contract, two servers: the same checks against the real add-on (a subprocess on
the demo scene) and the integration tests' fake add-on, so a fake that drifts from the
real one fails here. Every result and event must fit its protocol TypedDict completely."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from custom_components.porchlight.pyporchlight.client import PorchlightClient
from custom_components.porchlight.pyporchlight.exceptions import (
    PorchlightCommandError,
    PorchlightUnsupportedVersion,
)
from custom_components.porchlight.pyporchlight.protocol import (
    COMMAND_RESULTS,
    CURRENT_VERSION,
    EVENT_DATA,
    LIMITS,
    MIN_SUPPORTED_VERSION,
    WS_PATH,
    Command,
    ErrorCode,
    EventMessage,
    EventType,
    MessageType,
    Setting,
    event_snapshot_path,
    peer_version,
)
from tests.helpers.payloads import problems
from tests.helpers.waiting import wait_until, wait_until_async
from tests.integration.fake_addon import FakeAddon

from .addon_process import AddonProcess
from .conftest import DEMO_OPTIONS

CAMERA = "front_door"


@dataclass
class Server:
    port: int
    token: str


@pytest.fixture(params=["real", "fake"])
async def server(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Server]:
    if request.param == "real":
        process = AddonProcess(tmp_path / "addon", DEMO_OPTIONS)
        process.start()
        try:
            yield Server(process.port, process.token)
        finally:
            process.stop()
    else:
        fake = FakeAddon()
        await fake.start()
        try:
            yield Server(fake.port, fake.token)
        finally:
            await fake.stop()
            fake.cleanup_files()


@pytest.fixture
async def client(server: Server) -> AsyncIterator[tuple[PorchlightClient, list[EventMessage]]]:
    events: list[EventMessage] = []
    async with aiohttp.ClientSession() as session:
        porchlight = PorchlightClient(session, "127.0.0.1", server.port, server.token)
        porchlight.start(
            on_event=events.append, on_state=lambda _s: None, on_connection=lambda _c: None
        )
        await wait_until(lambda: porchlight.connected, timeout=20)
        yield porchlight, events
        await porchlight.stop()


async def _frame(porchlight: PorchlightClient) -> None:
    """Wait for the camera's first frame (the real add-on needs one for a snapshot)."""

    async def frames() -> int:
        count: int = (await porchlight.get_state())["cameras"][0]["frames"]
        return count

    await wait_until_async(frames, 20, "the camera's first frame", interval=0.1)


def _fits(command: Command, result: Any) -> None:
    assert problems(COMMAND_RESULTS[command], result, complete=True) == [], (command, result)


async def test_handshake_announces_versions_and_refuses_a_client_it_cannot_serve(
    server: Server,
) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"http://127.0.0.1:{server.port}{WS_PATH}")
        info = await ws.receive_json(timeout=10)
        assert peer_version(info) == (CURRENT_VERSION, MIN_SUPPORTED_VERSION)
        too_new = {"protocol_version": 1, "protocol_minor": 9, "min_supported_version": "1.8"}
        await ws.send_json({"type": "auth", "token": server.token, **too_new})
        reply = await ws.receive_json(timeout=10)
        await ws.close()
    assert reply["type"] == MessageType.AUTH_INVALID
    assert reply["error"]["code"] == ErrorCode.UNSUPPORTED_VERSION


async def test_results_fit_their_shapes(
    client: tuple[PorchlightClient, list[EventMessage]],
) -> None:
    porchlight, _ = client
    await _frame(porchlight)
    checks: list[tuple[Command, dict[str, Any]]] = [
        (Command.PING, {}),
        (Command.GET_STATE, {}),
        (Command.RING, {"camera": CAMERA}),
        (Command.SET_MOTION_SETTINGS, {"camera": CAMERA, "threshold": 30}),
        (Command.SET_RECORDING_SETTINGS, {"camera": CAMERA, "post_roll": 2.0}),
        (Command.SET_PRIVACY_MODE, {"camera": CAMERA, "enabled": False}),
        (Command.TAKE_SNAPSHOT, {"camera": CAMERA}),
        (Command.LIST_EVENTS, {}),
        (Command.LIST_CLIPS, {}),
        (Command.GET_STORAGE, {}),
        (Command.GET_AUDIT_LOG, {}),
    ]
    for command, args in checks:
        _fits(command, await porchlight.command(command, **args))


async def test_take_snapshot_names_the_event_its_snapshot_ready_carries(
    client: tuple[PorchlightClient, list[EventMessage]],
) -> None:
    porchlight, events = client
    await _frame(porchlight)
    event_id = await porchlight.take_snapshot(CAMERA)

    def ready() -> EventMessage | None:
        return next(
            (
                e
                for e in events
                if e["event"] == EventType.SNAPSHOT_READY and e["data"]["event_id"] == event_id
            ),
            None,
        )

    await wait_until(lambda: ready() is not None, timeout=20)
    event = ready()
    assert event is not None
    assert problems(EVENT_DATA[EventType.SNAPSHOT_READY], event["data"], complete=True) == []
    assert event["data"]["kind"] == "manual"
    assert event["data"]["path"] == event_snapshot_path(event_id)
    assert (await porchlight.event_snapshot(event_id))[:2] == b"\xff\xd8"  # a JPEG


@pytest.mark.parametrize(
    ("command", "arg", "setting"),
    [
        (Command.SET_MOTION_SETTINGS, "threshold", Setting.THRESHOLD),
        (Command.SET_MOTION_SETTINGS, "min_area", Setting.MIN_AREA),
        (Command.SET_RECORDING_SETTINGS, "pre_roll", Setting.PRE_ROLL),
        (Command.SET_RECORDING_SETTINGS, "post_roll", Setting.POST_ROLL),
        (Command.RECORD_CLIP, "seconds", Setting.RECORD_SECONDS),
    ],
)
async def test_limits_are_the_protocol_table(
    client: tuple[PorchlightClient, list[EventMessage]],
    command: Command,
    arg: str,
    setting: Setting,
) -> None:
    porchlight, _ = client
    limit = LIMITS[setting]
    for outside in (limit.low - 1, limit.high + 1):
        value = int(outside) if limit.integer else outside
        with pytest.raises(PorchlightCommandError) as raised:
            await porchlight.command(command, camera=CAMERA, **{arg: value})
        assert raised.value.code == ErrorCode.INVALID_ARGS
    if command is not Command.RECORD_CLIP:
        value = int(limit.high) if limit.integer else limit.high
        _fits(command, await porchlight.command(command, camera=CAMERA, **{arg: value}))


async def test_unknown_command_and_camera(
    client: tuple[PorchlightClient, list[EventMessage]],
) -> None:
    porchlight, _ = client
    with pytest.raises(PorchlightCommandError) as raised:
        await porchlight.command("no_such_command")
    assert raised.value.code == ErrorCode.UNKNOWN_COMMAND
    with pytest.raises(PorchlightCommandError) as raised:
        await porchlight.command(Command.RING, camera="no_such_camera")
    assert raised.value.code == ErrorCode.NOT_FOUND


async def test_client_refuses_nothing_from_either_server(server: Server) -> None:
    async with aiohttp.ClientSession() as session:
        porchlight = PorchlightClient(session, "127.0.0.1", server.port, server.token)
        try:
            info = await porchlight.connect()
        except PorchlightUnsupportedVersion as err:  # pragma: no cover - the failure
            raise AssertionError(err) from err
        assert info["protocol_version"] == CURRENT_VERSION.major
        await porchlight.disconnect()
