"""PorchlightClient against the fake add-on over real sockets (no Home Assistant)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
import logging

import aiohttp
import pytest

from custom_components.porchlight.pyporchlight.client import PorchlightClient
from custom_components.porchlight.pyporchlight.exceptions import (
    PorchlightAuthError,
    PorchlightCommandError,
    PorchlightConnectionError,
    PorchlightUnsupportedVersion,
)
from custom_components.porchlight.pyporchlight.protocol import (
    CURRENT_VERSION,
    PROTOCOL_VERSION,
    EventMessage,
    EventType,
    Peer,
    ServerState,
    VersionInfo,
)
from custom_components.porchlight.pyporchlight.reconnect import ReconnectState

from .conftest import wait_for
from .fake_addon import FakeAddon, decode_jpeg


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def make_client(
    session: aiohttp.ClientSession,
    addon: FakeAddon,
    token: str | None = None,
    *,
    request_timeout: float = 10.0,
    heartbeat: float = 30.0,
    backoff_min: float = 1.0,
    backoff_max: float = 60.0,
) -> PorchlightClient:
    return PorchlightClient(
        session,
        "127.0.0.1",
        addon.port,
        addon.token if token is None else token,
        request_timeout=request_timeout,
        heartbeat=heartbeat,
        backoff_min=backoff_min,
        backoff_max=backoff_max,
    )


@dataclass
class Recorder:
    """Collects what run() reports."""

    events: list[EventMessage] = field(default_factory=list)
    states: list[ServerState] = field(default_factory=list)
    connection: list[bool] = field(default_factory=list)
    auth_failed: int = 0

    def start(self, client: PorchlightClient) -> asyncio.Task[None]:
        return client.start(
            on_event=self.events.append,
            on_state=self.states.append,
            on_connection=self.connection.append,
            on_auth_failed=self._auth_failed,
        )

    def _auth_failed(self) -> None:
        self.auth_failed += 1

    def seqs(self) -> list[tuple[str, int]]:
        return [(e["boot_id"], e["seq"]) for e in self.events]


@pytest.fixture
async def running(
    session: aiohttp.ClientSession, fake_addon: FakeAddon
) -> AsyncGenerator[Callable[[], Awaitable[tuple[PorchlightClient, Recorder]]]]:
    clients: list[PorchlightClient] = []

    async def start() -> tuple[PorchlightClient, Recorder]:
        client = make_client(session, fake_addon, backoff_min=0.01, backoff_max=0.04)
        clients.append(client)
        recorder = Recorder()
        recorder.start(client)
        await wait_for(lambda: recorder.connection == [True] and fake_addon.subscriber_count == 1)
        return client, recorder

    yield start
    for client in clients:
        await client.stop()


# --- handshake ------------------------------------------------------------------------------


async def test_connect_returns_server_info(
    session: aiohttp.ClientSession, fake_addon: FakeAddon
) -> None:
    client = make_client(session, fake_addon)
    info = await client.connect()
    assert info["instance_id"] == fake_addon.instance_id
    assert info["boot_id"] == fake_addon.boot_id
    assert info["protocol_version"] == PROTOCOL_VERSION
    assert fake_addon.connection_count == 1
    await client.disconnect()
    assert not client.connected
    await wait_for(lambda: fake_addon.connection_count == 0)


async def test_wrong_token_raises_auth_error(
    session: aiohttp.ClientSession, fake_addon: FakeAddon
) -> None:
    client = make_client(session, fake_addon, token="wrong")
    with pytest.raises(PorchlightAuthError, match="invalid token"):
        await client.connect()
    assert not client.connected
    assert fake_addon.auth_attempts == 1


@pytest.mark.parametrize(
    ("announced", "server_version", "outdated"),
    [
        ({"protocol_version": 0, "protocol_minor": 9}, "0.9", Peer.SERVER),
        ({"protocol_version": 2, "min_supported_version": "2.0"}, "2.0", Peer.CLIENT),
        # Same major, but the add-on no longer serves this client's minor.
        (
            {"protocol_version": 1, "protocol_minor": 9, "min_supported_version": "1.8"},
            "1.9",
            Peer.CLIENT,
        ),
    ],
)
async def test_version_mismatch_names_both_versions_and_the_side_to_update(
    session: aiohttp.ClientSession,
    fake_addon: FakeAddon,
    announced: VersionInfo,
    server_version: str,
    outdated: Peer,
) -> None:
    fake_addon.version = announced
    client = make_client(session, fake_addon)
    with pytest.raises(PorchlightUnsupportedVersion) as raised:
        await client.connect()
    assert raised.value.server_version == server_version
    assert raised.value.client_version == str(CURRENT_VERSION)
    assert raised.value.outdated is outdated
    # The client must not authenticate with a server it cannot understand.
    assert fake_addon.auth_attempts == 0


@pytest.mark.parametrize(
    "announced",
    [
        {"protocol_version": 1},  # a protocol 1.0 add-on: no minor, no minimum
        {"protocol_version": 1, "protocol_minor": 2, "min_supported_version": "1.1"},
    ],
)
async def test_add_on_one_minor_apart_is_served(
    session: aiohttp.ClientSession, fake_addon: FakeAddon, announced: VersionInfo
) -> None:
    fake_addon.version = announced
    client = make_client(session, fake_addon)
    await client.connect()
    assert (await client.get_state())["cameras"]
    await client.disconnect()


@pytest.mark.parametrize(
    "announced",
    [
        {"protocol_version": "1"},
        {"protocol_version": 1, "protocol_minor": -1},
        {"protocol_version": 1, "min_supported_version": "one"},
    ],
)
async def test_malformed_version_is_a_connection_error(
    session: aiohttp.ClientSession, fake_addon: FakeAddon, announced: VersionInfo
) -> None:
    fake_addon.version = announced
    with pytest.raises(PorchlightConnectionError, match="server_info"):
        await make_client(session, fake_addon).connect()


async def test_auth_refused_for_version_raises_unsupported_version(
    session: aiohttp.ClientSession, fake_addon: FakeAddon
) -> None:
    fake_addon.refuse_client_version = True
    with pytest.raises(PorchlightUnsupportedVersion) as raised:
        await make_client(session, fake_addon).connect()
    assert raised.value.outdated is Peer.CLIENT
    assert fake_addon.auth_attempts == 1


async def test_nothing_listening_raises_connection_error(
    session: aiohttp.ClientSession, fake_addon: FakeAddon
) -> None:
    await fake_addon.stop()
    client = make_client(session, fake_addon)
    with pytest.raises(PorchlightConnectionError):
        await client.connect()


# --- commands -------------------------------------------------------------------------------


async def test_concurrent_commands_are_correlated_by_message_id(
    session: aiohttp.ClientSession, fake_addon: FakeAddon
) -> None:
    client = make_client(session, fake_addon)
    await client.connect()
    state, settings, seq, _ = await asyncio.gather(
        client.get_state(),
        client.set_motion_settings("front_door", threshold=40),
        client.ring("front_door"),
        client.ping(),
    )
    assert state["instance_id"] == fake_addon.instance_id
    assert [c["name"] for c in state["cameras"]] == ["front_door"]
    assert settings["threshold"] == 40
    assert fake_addon.cameras["front_door"]["motion_settings"]["threshold"] == 40
    assert seq == fake_addon.seq
    ids = [c["message_id"] for c in fake_addon.commands]
    assert len(set(ids)) == 4
    await client.disconnect()


async def test_error_result_raises_command_error(
    session: aiohttp.ClientSession, fake_addon: FakeAddon
) -> None:
    client = make_client(session, fake_addon)
    await client.connect()
    with pytest.raises(PorchlightCommandError) as raised:
        await client.ring("garage")
    assert raised.value.code == "not_found"
    assert "garage" in raised.value.message
    with pytest.raises(PorchlightCommandError) as unknown:
        await client.command("self_destruct")
    assert unknown.value.code == "unknown_command"
    # The connection survives error results.
    await client.ping()
    await client.disconnect()


async def test_unanswered_command_times_out(
    session: aiohttp.ClientSession, fake_addon: FakeAddon
) -> None:
    client = make_client(session, fake_addon, request_timeout=0.2)
    await client.connect()
    fake_addon.silent_commands.add("ping")
    with pytest.raises(PorchlightConnectionError, match="no answer"):
        await client.ping()
    await client.disconnect()


async def test_pending_command_fails_when_connection_drops(
    session: aiohttp.ClientSession, fake_addon: FakeAddon
) -> None:
    client = make_client(session, fake_addon)
    await client.connect()
    fake_addon.silent_commands.add("ping")
    pending = asyncio.create_task(client.ping())
    await wait_for(lambda: len(fake_addon.commands) == 1)
    await fake_addon.drop_connections()
    with pytest.raises(PorchlightConnectionError):
        await pending
    with pytest.raises(PorchlightConnectionError, match="not connected"):
        await client.ping()
    await client.disconnect()


# --- run(): events, replay, reconnect --------------------------------------------------------


async def test_run_resyncs_then_delivers_live_events(
    fake_addon: FakeAddon,
    running: Callable[[], Awaitable[tuple[PorchlightClient, Recorder]]],
) -> None:
    fake_addon.ring()  # before the client exists: part of history, not delivered
    _, recorder = await running()
    assert len(recorder.states) == 1
    assert recorder.states[0]["seq"] == 1
    fake_addon.ring()
    fake_addon.motion("front_door", True)
    await wait_for(lambda: len(recorder.events) == 2)
    assert [e["event"] for e in recorder.events] == [EventType.RING, EventType.MOTION]
    assert recorder.seqs() == [("boot-1", 2), ("boot-1", 3)]
    subscribe = [c for c in fake_addon.commands if c["command"] == "subscribe"]
    assert subscribe[0].get("args") == {"since": {"boot_id": "boot-1", "seq": 1}}


async def test_reconnect_replays_missed_events_exactly_once(
    fake_addon: FakeAddon,
    running: Callable[[], Awaitable[tuple[PorchlightClient, Recorder]]],
) -> None:
    _, recorder = await running()
    fake_addon.ring()
    await wait_for(lambda: len(recorder.events) == 1)

    await fake_addon.stop()
    await wait_for(lambda: recorder.connection == [True, False])
    # While the client is away the add-on keeps numbering events.
    fake_addon.ring()
    fake_addon.motion("front_door", True)
    await fake_addon.start()

    await wait_for(lambda: recorder.connection == [True, False, True])
    await wait_for(lambda: len(recorder.events) == 3)
    fake_addon.ring()
    await wait_for(lambda: len(recorder.events) == 4)
    assert recorder.seqs() == [("boot-1", n) for n in (1, 2, 3, 4)]
    subscribes = [c for c in fake_addon.commands if c["command"] == "subscribe"]
    assert subscribes[-1].get("args") == {"since": {"boot_id": "boot-1", "seq": 1}}
    assert len(recorder.states) == 2  # a full resync after each connect


async def test_new_boot_id_resets_numbering(
    fake_addon: FakeAddon,
    running: Callable[[], Awaitable[tuple[PorchlightClient, Recorder]]],
) -> None:
    _, recorder = await running()
    for _ in range(3):
        fake_addon.ring()
    await wait_for(lambda: len(recorder.events) == 3)

    await fake_addon.restart()
    # The new run's first event has seq 1, lower than anything seen before: it must
    # still be delivered (it is not a duplicate), once.
    fake_addon.ring()
    await wait_for(lambda: recorder.connection == [True, False, True])
    await wait_for(lambda: len(recorder.events) == 4)
    fake_addon.ring()
    await wait_for(lambda: len(recorder.events) == 5)
    assert recorder.seqs()[3:] == [("boot-2", 1), ("boot-2", 2)]
    assert recorder.states[-1]["boot_id"] == "boot-2"


async def test_gap_in_replay_triggers_a_second_resync(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    addon = FakeAddon(buffer_size=2)
    await addon.start()
    client = make_client(session, addon, backoff_min=0.01, backoff_max=0.04)
    recorder = Recorder()
    recorder.start(client)
    try:
        await wait_for(lambda: recorder.connection == [True] and addon.subscriber_count == 1)
        await addon.stop()
        for _ in range(5):  # more than the buffer holds
            addon.ring()
        await addon.start()
        await wait_for(lambda: recorder.connection == [True, False, True])
        await wait_for(lambda: len(recorder.states) == 3)
        assert recorder.states[-1]["seq"] == 5
        assert recorder.seqs() == [("boot-1", 4), ("boot-1", 5)]
    finally:
        await client.stop()
        await addon.stop()


@pytest.fixture
def backoff_delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The reconnect delays the client waits, in seconds (each then skipped at once)."""
    delays: list[float] = []
    real_sleep = asyncio.sleep

    async def recording_sleep(delay: float) -> None:
        if delay >= 1.0:  # the client's backoff (the test's own polling sleeps less)
            delays.append(delay)
            delay = 0
        await real_sleep(delay)

    monkeypatch.setattr(
        "custom_components.porchlight.pyporchlight.reconnect.asyncio.sleep", recording_sleep
    )
    return delays


async def test_backoff_doubles_up_to_the_cap_and_resets(
    session: aiohttp.ClientSession, fake_addon: FakeAddon, backoff_delays: list[float]
) -> None:
    delays = backoff_delays
    client = make_client(session, fake_addon, backoff_min=1.0, backoff_max=8.0)
    recorder = Recorder()
    await fake_addon.stop()
    recorder.start(client)
    try:
        await wait_for(lambda: len(delays) >= 6)
        assert delays[:6] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
        assert recorder.connection == [False]  # reported once, not per attempt

        await fake_addon.start()
        await wait_for(lambda: recorder.connection == [False, True])
        delays.clear()
        await fake_addon.drop_connections()
        await wait_for(lambda: recorder.connection == [False, True, False, True])
        assert delays[0] == 1.0  # the good connection reset the backoff
    finally:
        await client.stop()


async def test_auth_failure_waits_the_longest_backoff_and_reports_once(
    session: aiohttp.ClientSession, fake_addon: FakeAddon, backoff_delays: list[float]
) -> None:
    delays = backoff_delays
    client = make_client(session, fake_addon, backoff_min=1.0, backoff_max=8.0)
    recorder = Recorder()
    recorder.start(client)
    try:
        await wait_for(lambda: recorder.connection == [True] and fake_addon.subscriber_count == 1)
        fake_addon.token = "rotated"
        await fake_addon.drop_connections()
        await wait_for(lambda: len(delays) >= 4)
        # Lost connection: the shortest delay; then a rejected token: always the longest.
        assert delays[:4] == [1.0, 8.0, 8.0, 8.0]
        assert recorder.auth_failed == 1  # once per streak, not per attempt
        assert recorder.connection == [True, False]
        assert client.reconnect is not None
        assert client.reconnect.state in (ReconnectState.WAITING, ReconnectState.CONNECTING)
        # The token is good again (the user put the old one back): it reconnects by itself.
        fake_addon.token = "good-token"
        await wait_for(lambda: recorder.connection == [True, False, True])
        assert client.reconnect.state is ReconnectState.CONNECTED
    finally:
        await client.stop()
    assert client.reconnect.state is ReconnectState.STOPPED


async def test_connection_loss_and_return_are_logged_once(
    fake_addon: FakeAddon,
    running: Callable[[], Awaitable[tuple[PorchlightClient, Recorder]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, recorder = await running()
    caplog.set_level(logging.DEBUG, logger="custom_components.porchlight.pyporchlight")
    await fake_addon.stop()
    await asyncio.sleep(0.2)  # several failed attempts
    await fake_addon.start()
    await wait_for(lambda: recorder.connection == [True, False, True])
    ours = [
        r for r in caplog.records if r.name.startswith("custom_components.porchlight.pyporchlight")
    ]
    warnings = [r for r in ours if r.levelno >= logging.WARNING]
    infos = [r for r in ours if r.levelno == logging.INFO]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "Lost the connection" in warnings[0].getMessage()
    assert [r.getMessage() for r in infos] == ["Porchlight at 127.0.0.1 is back"]


async def test_stop_ends_run_and_closes_connection(
    fake_addon: FakeAddon,
    running: Callable[[], Awaitable[tuple[PorchlightClient, Recorder]]],
) -> None:
    client, _ = await running()
    await client.stop()
    assert not client.connected
    await wait_for(lambda: fake_addon.connection_count == 0)


# --- HTTP -----------------------------------------------------------------------------------


async def test_snapshot_is_a_jpeg(session: aiohttp.ClientSession, fake_addon: FakeAddon) -> None:
    client = make_client(session, fake_addon)
    jpeg = await client.snapshot("front_door")
    image = decode_jpeg(jpeg)
    assert image.shape == (48, 64, 3)
    assert abs(int(image.mean()) - 200) <= 2


async def test_snapshot_errors(session: aiohttp.ClientSession, fake_addon: FakeAddon) -> None:
    with pytest.raises(PorchlightAuthError):
        await make_client(session, fake_addon, token="wrong").snapshot("front_door")
    client = make_client(session, fake_addon)
    with pytest.raises(PorchlightCommandError) as raised:
        await client.snapshot("garage")
    assert raised.value.code == "not_found"
    with pytest.raises(PorchlightCommandError) as invalid:
        await client.snapshot("../etc")  # never turned into a URL
    assert invalid.value.code == "invalid_args"
    assert fake_addon.snapshots_served == 0


async def test_open_mjpeg_streams_multipart_jpegs(
    session: aiohttp.ClientSession, fake_addon: FakeAddon
) -> None:
    client = make_client(session, fake_addon)
    response = await client.open_mjpeg("front_door")
    try:
        assert response.headers["Content-Type"].startswith("multipart/x-mixed-replace")
        body = await response.content.read()
    finally:
        response.close()
    assert body.count(b"--frame\r\n") == fake_addon.mjpeg_parts
    assert body.count(b"\xff\xd8") == fake_addon.mjpeg_parts  # JPEG start markers


async def test_silent_connection_is_detected_by_ping(
    session: aiohttp.ClientSession, fake_addon: FakeAddon
) -> None:
    # The socket stays open but the add-on stops answering: only the ping can tell.
    client = make_client(session, fake_addon, heartbeat=0.05, request_timeout=0.1, backoff_min=0.01)
    recorder = Recorder()
    recorder.start(client)
    try:
        await wait_for(lambda: recorder.connection == [True])
        fake_addon.silent_commands.add("ping")
        await wait_for(lambda: recorder.connection[:2] == [True, False])
        pings = [c for c in fake_addon.commands if c["command"] == "ping"]
        assert pings
        fake_addon.silent_commands.clear()
        await wait_for(lambda: recorder.connection[-1] is True and len(recorder.connection) >= 3)
    finally:
        await client.stop()


async def test_audit_log_and_stream_credential_rotation(
    session: aiohttp.ClientSession, fake_addon: FakeAddon
) -> None:
    client = make_client(session, fake_addon)
    await client.connect()
    before = await client.get_stream_url("front_door")
    await client.rotate_stream_credential()
    after = await client.get_stream_url("front_door")
    assert before != after
    assert after.startswith(f"http://127.0.0.1:{fake_addon.port}/api/cameras/front_door/")
    page = await client.get_audit_log(limit=10, offset=None)
    assert [entry["action"] for entry in page["entries"]] == ["stream_credential"]
    assert page["next_offset"] is None
    assert fake_addon.commands[-1]["args"] == {"limit": 10}  # None values left out
    await client.disconnect()
