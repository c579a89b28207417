"""The API stays reachable under abuse: viewers, idle and half-sent connections, clients
that stop reading. Real service on a real loopback socket; caps set small for the test."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import socket
import struct
from typing import Any

import aiohttp
import pytest

from porchlight_edge.api.connections import ConnectionLimits
from porchlight_edge.service import Service
from tests.helpers.limited_service import TOKEN, Starter, open_socket, start
from tests.helpers.raw_websocket import RawWebsocket
from tests.helpers.service import url
from tests.helpers.waiting import wait_until

__all__ = ["start"]  # the fixture

AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def send(sock: socket.socket, data: bytes) -> None:
    await asyncio.get_running_loop().sock_sendall(sock, data)


async def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """Read and discard until the server closes; False if it is still open at `timeout`."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            while await loop.sock_recv(sock, 65536):
                pass
    except TimeoutError:
        return False
    except ConnectionError:
        pass
    return True


def reset(sock: socket.socket) -> None:
    """Close with an RST (linger 0), as a crashed or killed client does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


async def mjpeg_viewer(service: Service) -> socket.socket:
    """A viewer with a 4 KiB receive buffer that never reads."""
    sock = await open_socket(service, rcvbuf=4096)
    request = (
        "GET /api/cameras/front_door/stream.mjpeg HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {TOKEN}\r\n\r\n"
    )
    await send(sock, request.encode())
    return sock


# --- A1: every way a viewer ends frees its place ---------------------------------------------


async def test_viewers_that_stop_reading_then_close_free_their_places(
    start: Starter, session: aiohttp.ClientSession
) -> None:
    service = await start(max_viewers=3, width=1280)  # big pictures: the server blocks writing
    live = service.cameras["front_door"].live
    stream = url(service, "/api/cameras/front_door/stream.mjpeg")
    for ending in (socket.socket.close, reset):
        viewers = [await mjpeg_viewer(service) for _ in range(3)]
        await wait_until(lambda: live.viewers == 3, 10, "three viewers")
        async with session.get(stream, headers=AUTH) as resp:
            assert resp.status == 503
        # The server is blocked writing to every one of them (the old code leaked here).
        await wait_until(lambda: service.connections.backlogged == 3, 20, "blocked writes")
        for sock in viewers:
            ending(sock)
        await wait_until(lambda: live.viewers == 0, 10, f"places freed after {ending.__name__}")
    async with session.get(stream, headers=AUTH) as resp:
        assert resp.status == 200
        assert (await resp.content.readuntil(b"\r\n\r\n")).startswith(b"--frame")


async def test_viewer_that_never_reads_is_dropped(start: Starter) -> None:
    # Big pictures fill the kernel's socket buffers (megabytes on loopback) in seconds.
    service = await start(ConnectionLimits(stall_timeout=1.0), max_viewers=2, width=1280)
    live = service.cameras["front_door"].live
    sock = await mjpeg_viewer(service)
    await wait_until(lambda: live.viewers == 1, 10, "the viewer")
    await wait_until(lambda: live.viewers == 0, 15, "the stalled viewer to be dropped")
    assert await closed_by_server(sock, 10)
    sock.close()


# --- A2: header deadline, caps, file limit ----------------------------------------------------


async def test_unfinished_request_headers_are_timed_out(
    start: Starter, session: aiohttp.ClientSession
) -> None:
    service = await start(ConnectionLimits(header_timeout=1.0))
    idle = [await open_socket(service) for _ in range(5)]
    partial = [await open_socket(service) for _ in range(5)]
    for sock in partial:
        await send(sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    trickle = await open_socket(service)

    async def drip() -> None:
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200:
            await send(trickle, bytes([byte]))
            await asyncio.sleep(0.1)

    dripping = asyncio.create_task(drip())
    results = await asyncio.gather(*(closed_by_server(s, 10) for s in [*idle, *partial, trickle]))
    dripping.cancel()
    assert all(results), results
    for sock in [*idle, *partial, trickle]:
        sock.close()
    async with session.get(url(service, "/healthz")) as resp:
        assert resp.status == 200


async def test_idle_floods_leave_room_for_token_holders(
    start: Starter, session: aiohttp.ClientSession
) -> None:
    limits = ConnectionLimits(
        max_connections=24, reserved=8, max_pending_per_peer=4, header_timeout=60.0
    )
    service = await start(limits)
    guard = service.connections
    attackers = [f"127.0.0.{n}" for n in range(2, 7)]
    flood = [await open_socket(service, peer) for peer in attackers for _ in range(8)]
    await wait_until(lambda: guard.pending <= 16, 10, "the pending cap")
    for peer in attackers:
        assert guard.pending_from(peer) <= 4
    # Token holders get in, and keep their places through the next flood.
    sockets: list[aiohttp.ClientWebSocketResponse] = []
    for _ in range(8):
        ws = await session.ws_connect(url(service, "/api/websocket"))
        await ws.receive_json(timeout=5)
        await ws.send_json({"type": "auth", "token": TOKEN})
        assert (await ws.receive_json(timeout=5))["type"] == "auth_ok"
        sockets.append(ws)
    assert guard.trusted == 8
    flood += [await open_socket(service, peer) for peer in attackers for _ in range(8)]
    await wait_until(lambda: guard.pending <= 16, 10, "the pending cap")
    assert guard.pending + guard.trusted <= 24
    for number, ws in enumerate(sockets):
        await ws.send_json({"message_id": number, "command": "ping"})
        assert (await ws.receive_json(timeout=5))["success"]
    async with session.get(url(service, "/healthz")) as resp:
        assert resp.status == 200
    snapshot = url(service, "/api/cameras/front_door/snapshot.jpg")
    async with session.get(snapshot, headers=AUTH) as resp:
        assert resp.status == 200
    for ws in sockets:
        await ws.close()
    for sock in flood:
        sock.close()
    await wait_until(lambda: guard.pending + guard.trusted <= 1, 10, "every connection released")


async def test_accept_errors_at_the_file_limit_are_logged_once(
    start: Starter, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    service = await start()
    loop = asyncio.get_running_loop()
    calls: list[dict[str, Any]] = []
    installed = loop.get_exception_handler()
    assert installed is not None

    def counting(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        calls.append(context)
        installed(loop, context)

    loop.set_exception_handler(counting)
    clients = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(20)]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowest_free = os.open(os.devnull, os.O_RDONLY)
    os.close(lowest_free)
    caplog.set_level(logging.ERROR, logger="asyncio")
    try:
        # No descriptor can be opened now: the server's accept() fails with EMFILE.
        resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, hard))
        for sock in clients:
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", service.port or 0))
        # Two retry rounds of asyncio's accept loop, whether it reports once or per
        # waiting connection.
        await wait_until(lambda: len(calls) >= 3, 15, "accept failures")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        loop.set_exception_handler(installed)
    accept_lines = [r for r in caplog.records if "accept" in r.getMessage()]
    assert len(accept_lines) == 1, [r.getMessage() for r in accept_lines]
    # Served again once descriptors are free.
    async with session.get(url(service, "/healthz")) as resp:
        assert resp.status == 200
    for sock in clients:
        sock.close()


# --- A3: websocket clients that stop reading or vanish ------------------------------------


async def test_client_that_never_reads_is_dropped_and_its_handler_ends(start: Starter) -> None:
    service = await start(ConnectionLimits(outbox_bytes=64 * 1024, stall_timeout=1.0))
    client = await RawWebsocket.connect(service.port or 0, TOKEN)
    assert len(service.websockets) == 1
    # Commands without reading a single result: first the socket buffers fill (megabytes
    # on loopback), then the outbox. The server must then reset the connection; a
    # polite close would wait for the client to read, which it never does.
    outcome = "still open"
    for n in range(50000):
        try:
            await asyncio.wait_for(client.send({"message_id": n, "command": "get_state"}), 5)
        except ConnectionError:
            outcome = "reset"
            break
        except TimeoutError:
            outcome = "server stopped reading but kept the connection"
            break
        await asyncio.sleep(0)  # a send into a free socket buffer does not yield: let it run
    assert outcome == "reset"
    await wait_until(lambda: not service.websockets, 10, "the slow client's handler to end")
    assert service.connections.trusted == 0
    client.sock.close()


async def fill_until_backlogged(service: Service, client: RawWebsocket) -> None:
    """Send commands without reading until the server is blocked writing to the client."""
    for n in range(50000):
        if service.connections.backlogged:
            return
        await client.send({"message_id": n, "command": "get_state"})
        await asyncio.sleep(0)  # let the server answer
    raise AssertionError("the server never blocked writing")


@pytest.mark.parametrize("ending", ["reset", "half-close"])
async def test_client_that_goes_away_while_behind_leaves_nothing(
    start: Starter, ending: str
) -> None:
    # After a FIN only the heartbeat can tell (no pong can come); a reset is seen at once.
    service = await start(ConnectionLimits(heartbeat=3.0))
    client = await RawWebsocket.connect(service.port or 0, TOKEN)
    await fill_until_backlogged(service, client)
    assert len(service.websockets) == 1
    if ending == "reset":
        reset(client.sock)
    else:  # it sends no more, and it still does not read
        client.sock.shutdown(socket.SHUT_WR)
    await wait_until(lambda: not service.websockets, 15, "the handler to end")
    await wait_until(lambda: service.connections.trusted == 0, 10, "the connection released")
    client.sock.close()


async def test_half_open_session_is_ended_by_the_heartbeat(
    start: Starter, session: aiohttp.ClientSession
) -> None:
    service = await start(ConnectionLimits(heartbeat=0.5))
    # A client that answers no pings: as far as the server can tell, it is gone.
    ws = await session.ws_connect(url(service, "/api/websocket"), autoping=False)
    await ws.receive_json(timeout=5)
    await ws.send_json({"type": "auth", "token": TOKEN})
    assert (await ws.receive_json(timeout=5))["type"] == "auth_ok"
    await wait_until(lambda: not service.websockets, 10, "the heartbeat to end the session")
    pings = 0
    while (msg := await ws.receive(timeout=10)).type is aiohttp.WSMsgType.PING:
        pings += 1
    assert pings >= 1
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    await ws.close()


async def test_answering_client_is_kept_by_the_heartbeat(
    start: Starter, session: aiohttp.ClientSession
) -> None:
    service = await start(ConnectionLimits(heartbeat=0.3))
    ws = await session.ws_connect(url(service, "/api/websocket"))
    await ws.receive_json(timeout=5)
    await ws.send_json({"type": "auth", "token": TOKEN})
    assert (await ws.receive_json(timeout=5))["type"] == "auth_ok"
    loop = asyncio.get_running_loop()
    until = loop.time() + 2.0  # several heartbeats
    number = 0
    while loop.time() < until:
        number += 1
        await ws.send_json({"message_id": number, "command": "ping"})
        assert (await ws.receive_json(timeout=5))["success"]
        await asyncio.sleep(0.2)
    assert len(service.websockets) == 1
    await ws.close()
