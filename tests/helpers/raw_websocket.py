"""A websocket client on a raw socket with a tiny receive buffer that reads only when
told to: the client that stops reading (tests and the abuse benchmark)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from typing import Any

RCVBUF = 4096


class RawWebsocket:
    """One authenticated websocket session of the add-on's API, frames done by hand."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    @classmethod
    async def connect(
        cls, port: int, token: str, host: str = "127.0.0.1", source: str = "127.0.0.1"
    ) -> RawWebsocket:
        """Open, upgrade and authenticate; AssertionError if the add-on refuses."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        sock.bind((source, 0))
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        try:
            await loop.sock_connect(sock, (host, port))
            key = base64.b64encode(os.urandom(16)).decode()
            await loop.sock_sendall(
                sock,
                (
                    "GET /api/websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                    "Sec-WebSocket-Version: 13\r\n\r\n"
                ).encode(),
            )
            client = cls(sock)
            head = await client._read_until(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 101"), head
            assert (await client.receive())["type"] == "server_info"
            await client.send({"type": "auth", "token": token})
            assert (await client.receive())["type"] == "auth_ok"
        except BaseException:
            sock.close()
            raise
        return client

    async def _fill(self, size: int) -> None:
        loop = asyncio.get_running_loop()
        while len(self.buffer) < size:
            chunk = await loop.sock_recv(self.sock, 65536)
            if not chunk:
                raise ConnectionResetError("closed by the server")
            self.buffer += chunk

    async def _read_until(self, marker: bytes) -> bytes:
        loop = asyncio.get_running_loop()
        while marker not in self.buffer:
            chunk = await loop.sock_recv(self.sock, 65536)
            if not chunk:
                raise ConnectionResetError("closed by the server")
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    async def _read(self, size: int) -> bytes:
        await self._fill(size)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    async def receive(self) -> Any:
        """The next text frame's JSON."""
        first, second = await self._read(2)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", await self._read(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", await self._read(8))
        payload = await self._read(size)
        assert first & 0x0F == 1, first  # a text frame
        return json.loads(payload)

    async def send(self, message: Any) -> None:
        """One masked text frame (clients must mask)."""
        payload = json.dumps(message).encode()
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            header = bytes([0x81, 0x80 | size])
        else:
            header = bytes([0x81, 0x80 | 126]) + struct.pack("!H", size)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        await asyncio.get_running_loop().sock_sendall(self.sock, header + mask + masked)
