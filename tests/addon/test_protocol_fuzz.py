"""Protocol fuzzer: hypothesis drives every websocket command and HTTP route of the real
add-on process on loopback, with and without the token.

Inputs come from the protocol's own definitions: the `Command` enum, each command's
argument names from its schema (api/schemas.py), the HTTP path builders and the
protocol's limits. Checks: no `internal_error`, no dropped connection for bad
arguments, every error is a protocol error code (JSON body over HTTP), and the
token is in no response and not in the add-on's log. Sized for 2 cores: a bounded
number of examples per group, about a minute in all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
import json
import threading
from typing import Any
from urllib.parse import quote
import uuid

import aiohttp
from hypothesis import HealthCheck, given, settings, strategies as st
import pytest
import voluptuous as vol
from yarl import URL

from porchlight_edge.api.schemas import SCHEMAS
from porchlight_edge.protocol import (
    AUDITED_COMMANDS,
    MAX_MESSAGE_ID,
    MAX_PAGE_SIZE,
    RECORD_SECONDS,
    USER_ARG,
    WS_PATH,
    Command,
    ErrorCode,
    EventKind,
    MessageType,
    clip_path,
    event_snapshot_path,
    mjpeg_path,
    snapshot_path,
)
from tests.e2e.addon_process import AddonProcess
from tests.helpers.fuzzing import json_values

CAMERAS = ("front_door", "garage")
EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# Failures that would show the add-on fell over: in the log, and in no response.
LOG_FAULTS = ("Traceback", "Command failed", "Error handling request", "internal_error")

# --- strategies generated from the protocol ---------------------------------------------------

# Values the protocol gives meaning to: camera names, ids, kinds, the limits' edges.
domain_values: st.SearchStrategy[Any] = st.sampled_from(
    [
        *CAMERAS,
        "nope",
        "../etc",
        str(uuid.uuid4()),
        "manual-0",
        "Alice",  # a valid `user`
        *(k.value for k in EventKind),
        0,
        -1,
        1,
        MAX_PAGE_SIZE,
        MAX_PAGE_SIZE + 1,
        *RECORD_SECONDS,
        RECORD_SECONDS[1] + 1,
        MAX_MESSAGE_ID,
        MAX_MESSAGE_ID + 1,
        1e308,
        True,
        False,
        [],
        {},
    ]
)
values = domain_values | json_values


def argument_names(command: Command) -> list[str]:
    """The argument names the command's schema declares."""
    schema: Any = SCHEMAS[command].schema
    if isinstance(schema, vol.All):
        schema = schema.validators[0]
    shared = [USER_ARG] if command in AUDITED_COMMANDS else []  # checked once, for all
    return sorted([str(key) for key in schema] + shared)


def args_for(command: Command) -> st.SearchStrategy[Any]:
    names = argument_names(command)
    known = st.fixed_dictionaries({}, optional=dict.fromkeys(names, values))
    extra = st.dictionaries(st.text(max_size=10), values, max_size=2)
    wrong_shape = json_values.filter(lambda v: not isinstance(v, dict))
    return st.one_of(known, st.builds(lambda a, b: {**b, **a}, known, extra), wrong_shape)


# --- the wire: one loop thread, one websocket, plain calls from hypothesis -------------------


class Wire:
    """A client of the add-on on its own event loop thread, callable from sync tests."""

    def __init__(self, addon: AddonProcess) -> None:
        self.addon = addon
        self.base = f"http://127.0.0.1:{addon.port}"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzz-wire")
        self.thread.start()
        self.session: aiohttp.ClientSession = self.run(self._session())
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.next_id = 0

    async def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))

    def run[T](self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def close(self) -> None:
        self.run(self.session.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    async def connect(self) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
        ws = await self.session.ws_connect(self.base + WS_PATH, max_msg_size=0)
        info: dict[str, Any] = await ws.receive_json(timeout=10)
        return ws, info

    async def _authed(self) -> aiohttp.ClientWebSocketResponse:
        if self.ws is None or self.ws.closed:
            ws, _ = await self.connect()
            await ws.send_json({"type": "auth", "token": self.addon.token, "client": "fuzzer"})
            assert (await ws.receive_json(timeout=10))["type"] == MessageType.AUTH_OK
            self.ws = ws
        return self.ws

    async def _command(self, text: str, message_id: int | None) -> dict[str, Any]:
        ws = await self._authed()
        await ws.send_str(text)
        while True:
            msg = await ws.receive(timeout=15)
            assert msg.type is aiohttp.WSMsgType.TEXT, f"connection dropped: {msg}"
            reply: dict[str, Any] = json.loads(msg.data)
            if reply.get("type") != MessageType.RESULT:
                continue  # events of an earlier subscribe
            if message_id is None or reply["message_id"] == message_id:
                return reply

    def command(self, text: str, message_id: int | None) -> dict[str, Any]:
        """Send one authenticated message; its result (the connection must survive)."""
        reply = self.run(self._command(text, message_id))
        assert self.ws is not None
        assert not self.ws.closed, "the add-on dropped the connection"
        return reply

    async def _unauthenticated(self, first: str) -> tuple[dict[str, Any], aiohttp.WSMsgType]:
        ws, _ = await self.connect()
        await ws.send_str(first)
        reply: dict[str, Any] = await ws.receive_json(timeout=15)
        closing = await ws.receive(timeout=15)
        await ws.close()
        return reply, closing.type

    def unauthenticated(self, first: str) -> tuple[dict[str, Any], aiohttp.WSMsgType]:
        return self.run(self._unauthenticated(first))

    async def _http(
        self, method: str, path: str, headers: dict[str, str]
    ) -> tuple[int, str, bytes, str]:
        url = URL(self.base + path, encoded=True)
        async with self.session.request(method, url, headers=headers) as resp:
            streaming = resp.content_type.startswith("multipart/")
            body = b"" if streaming or method == "HEAD" else await resp.read()
            return resp.status, resp.content_type, body, str(resp.headers)

    def http(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, str, bytes, str]:
        return self.run(self._http(method, path, headers))


@pytest.fixture(scope="module")
def wire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wire]:
    addon = AddonProcess(
        tmp_path_factory.mktemp("fuzz") / "addon",
        {
            "cameras": [
                {"name": name, "source": "demo", "demo": {"width": 64, "height": 64}}
                for name in CAMERAS
            ]
        },
        token="fuzz-token-" + uuid.uuid4().hex,
    )
    addon.start()
    client = Wire(addon)
    try:
        yield client
    finally:
        client.close()
        addon.stop()


def assert_clean(wire: Wire, text: str) -> None:
    assert wire.addon.token not in text
    log = (wire.addon.data_dir / "addon.log").read_text(errors="replace")
    assert wire.addon.token not in log
    for fault in LOG_FAULTS:
        assert fault not in log, wire.addon.log_tail()


def check_result(wire: Wire, reply: dict[str, Any], message_id: int) -> None:
    text = json.dumps(reply)
    assert wire.addon.token not in text
    assert reply["type"] == MessageType.RESULT
    assert reply["message_id"] == message_id
    if not reply["success"]:
        code = reply["error"]["code"]
        assert code in set(ErrorCode), reply
        assert code != ErrorCode.INTERNAL_ERROR, reply


# --- websocket ----------------------------------------------------------------------------------

QUERIES = [
    Command.LIST_EVENTS,
    Command.LIST_CLIPS,
    Command.GET_AUDIT_LOG,
    Command.GET_STORAGE,
    Command.GET_STREAM_URL,
    Command.GET_CAMERA_LAYOUT,
    Command.GET_CAMERA_SOURCES,
]
CONTROLS = [
    Command.PING,
    Command.GET_STATE,
    Command.SUBSCRIBE,
    Command.RING,
    Command.SET_MOTION_SETTINGS,
    Command.SET_RECORDING_SETTINGS,
    Command.SET_PRIVACY_MODE,
    Command.SET_AUDIO,
    Command.ROTATE_STREAM_CREDENTIAL,
    Command.SET_CAMERA_LAYOUT,
    # Random values never form a camera URL (rtsp://host…): no test opens a connection.
    Command.TEST_CAMERA,
    Command.SAVE_CAMERA_SOURCE,
    Command.ADD_CAMERA,
    Command.REMOVE_CAMERA,
]
FOOTAGE = [
    Command.TAKE_SNAPSHOT,
    Command.RECORD_CLIP,
    Command.PROTECT_CLIP,
    Command.DELETE_CLIPS,
    Command.EXPORT_CLIP,
]


def test_the_groups_cover_every_command() -> None:
    assert sorted([*QUERIES, *CONTROLS, *FOOTAGE]) == sorted(Command)


def _fuzz_group(group: list[Command]) -> Any:
    @EXAMPLES
    @given(data=st.data())
    def run(wire: Wire, data: st.DataObject) -> None:
        command = data.draw(st.sampled_from(group), label="command")
        args = data.draw(args_for(command), label="args")
        wire.next_id += 1
        message = {"message_id": wire.next_id, "command": command.value, "args": args}
        check_result(wire, wire.command(json.dumps(message), wire.next_id), wire.next_id)

    return run


test_queries = _fuzz_group(QUERIES)
test_controls = _fuzz_group(CONTROLS)
test_footage = _fuzz_group(FOOTAGE)


@EXAMPLES
@given(
    message_id=values,
    command=st.sampled_from([c.value for c in Command]) | st.text(max_size=20),
    args=values,
    extra=st.dictionaries(st.text(max_size=8), values, max_size=2),
)
def test_message_envelopes(
    wire: Wire, message_id: object, command: object, args: object, extra: dict[str, Any]
) -> None:
    """Any envelope: a result with the own id when usable (else -1), never a crash."""
    message = {**extra, "message_id": message_id, "command": command, "args": args}
    reply = wire.command(json.dumps(message), None)
    usable = type(message_id) is int and 0 <= message_id <= MAX_MESSAGE_ID
    expected = message_id if usable else -1
    check_result(wire, reply, expected)  # type: ignore[arg-type]


@EXAMPLES
@given(first=json_values | st.builds(lambda t: {"type": "auth", "token": t}, values))
def test_without_the_token_every_first_message_gets_auth_invalid(wire: Wire, first: object) -> None:
    reply, closing = wire.unauthenticated(json.dumps(first))
    assert reply["type"] == MessageType.AUTH_INVALID, reply
    assert reply["error"]["code"] == ErrorCode.INVALID_AUTH
    assert closing in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert wire.addon.token not in json.dumps(reply)


# --- HTTP ---------------------------------------------------------------------------------------

segment = st.sampled_from([*CAMERAS, str(uuid.uuid4()), "x", "..", "%00"]) | st.text(max_size=30)
routes = st.one_of(
    st.builds(snapshot_path, segment),
    st.builds(mjpeg_path, segment),
    st.builds(clip_path, segment),
    st.builds(event_snapshot_path, segment),
    st.sampled_from(["/healthz", WS_PATH, "/", "/api", "/api/clips/"]),
    st.builds(lambda s: "/" + s, st.text(max_size=30)),
)
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)


@EXAMPLES
@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]),
    path=routes,
    auth=st.sampled_from(["token", "none", "wrong"]) | header_text,
    range_header=st.none() | st.sampled_from(["bytes=0-", "bytes=-0", "bytes=5-1"]) | header_text,
)
def test_http_routes(
    wire: Wire, method: str, path: str, auth: str, range_header: str | None
) -> None:
    quoted = "/".join(quote(part, safe="%.") for part in path.split("/"))
    headers: dict[str, str] = {}
    if auth == "token":
        headers["Authorization"] = f"Bearer {wire.addon.token}"
    elif auth == "wrong":
        headers["Authorization"] = "Bearer " + "x" * len(wire.addon.token)
    elif auth != "none":
        headers["Authorization"] = auth
    if range_header is not None:
        headers["Range"] = range_header
    status, content_type, body, response_headers = wire.http(method, quoted, headers)
    assert status < 500 or status == 503, (status, body)
    assert wire.addon.token not in body.decode(errors="replace") + response_headers
    if status >= 400 and method != "HEAD":
        assert content_type == "application/json", (status, content_type, body)
        assert json.loads(body)["error"]["code"] in set(ErrorCode)


def test_the_log_stays_clean(wire: Wire) -> None:
    """After all of it (module order: last): no token, no traceback, no internal error."""
    assert_clean(wire, "")
