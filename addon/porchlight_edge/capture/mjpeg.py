"""HTTP MJPEG cameras (multipart/x-mixed-replace) and single-JPEG snapshot URLs.

The stream is read with aiohttp on the event loop; only the JPEG decode runs in a
worker thread. The multipart parser is forgiving on purpose: cameras disagree about
the leading `--` of the boundary and often omit Content-Length.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import TYPE_CHECKING, Any

import aiohttp
import cv2
import numpy as np

from porchlight_edge.capture.base import CaptureError, StreamInfo
from porchlight_edge.capture.frame import Frame, as_u8
from porchlight_edge.capture.urls import redact_url, validate_url

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from porchlight_edge.capture.config import CameraConfig

_LOGGER = logging.getLogger(__name__)
MAX_PART_BYTES = 16 * 1024 * 1024
_BOUNDARY_RE = re.compile(r'boundary="?([^";,]+)"?', re.IGNORECASE)
_CHUNK = 64 * 1024


async def iter_parts(content: aiohttp.StreamReader, boundary: str) -> AsyncIterator[bytes]:
    """Bodies of the parts of a multipart stream, in order; returns at end of stream."""
    delim = b"--" + boundary.removeprefix("--").encode("latin-1")
    buf = bytearray()

    async def fill() -> bool:
        chunk = await content.read(_CHUNK)
        if not chunk:
            return False
        buf.extend(chunk)
        if len(buf) > MAX_PART_BYTES + _CHUNK:
            raise CaptureError(f"multipart part larger than {MAX_PART_BYTES} bytes")
        return True

    while True:
        # Delimiter line, then headers up to the blank line.
        while (start := buf.find(delim)) < 0:
            del buf[: max(0, len(buf) - len(delim))]  # keep a possible partial delimiter
            if not await fill():
                return
        while (end := _headers_end(buf, start)) is None:
            if not await fill():
                return
        header_end, body_start = end
        headers = bytes(buf[start + len(delim) : header_end]).decode("latin-1").lower()
        del buf[:body_start]
        length = _content_length(headers)
        if length is not None:
            if length > MAX_PART_BYTES:
                raise CaptureError(f"multipart part larger than {MAX_PART_BYTES} bytes")
            while len(buf) < length:
                if not await fill():
                    return  # a truncated last part is dropped
            body = bytes(buf[:length])
            del buf[:length]
        else:
            while (nxt := buf.find(delim)) < 0:
                if not await fill():
                    nxt = len(buf)  # the last part ends with the stream
                    break
            body = bytes(buf[:nxt]).rstrip(b"\r\n")
            del buf[:nxt]
        yield body


def _headers_end(buf: bytearray, start: int) -> tuple[int, int] | None:
    """(end of headers, start of body) after the delimiter at `start`; CRLF or bare LF."""
    crlf, lf = buf.find(b"\r\n\r\n", start), buf.find(b"\n\n", start)
    if crlf >= 0 and (lf < 0 or crlf <= lf):
        return crlf, crlf + 4
    if lf >= 0:
        return lf, lf + 2
    return None


def _content_length(headers: str) -> int | None:
    match = re.search(r"content-length:\s*(\d+)", headers)
    return int(match.group(1)) if match else None


def decode_jpeg(data: bytes) -> np.ndarray[Any, np.dtype[np.uint8]] | None:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return None if img is None else as_u8(img)


class MjpegSource:
    """Frames from an MJPEG stream, or by polling a snapshot URL at `fps`."""

    stream_info: StreamInfo | None = None

    def __init__(self, cfg: CameraConfig, url: str) -> None:
        self.name = cfg.name
        self._url = validate_url(url, "mjpeg")
        self._timeout = aiohttp.ClientTimeout(
            sock_connect=cfg.open_timeout, sock_read=cfg.read_timeout
        )
        self._poll_interval = 1.0 / (cfg.fps or 2.0)
        self._session: aiohttp.ClientSession | None = None

    async def frames(self) -> AsyncIterator[Frame]:
        shown = redact_url(self._url)
        await self.close()
        self._session = session = aiohttp.ClientSession(timeout=self._timeout)
        t0 = time.monotonic()
        try:
            while True:
                response = await self._get(session, shown)
                async with response:
                    ctype = response.headers.get("Content-Type", "")
                    if ctype.lower().startswith("multipart/"):
                        match = _BOUNDARY_RE.search(ctype)
                        if match is None:
                            raise CaptureError(f"{self.name}: {shown} sent no multipart boundary")
                        async for body in iter_parts(response.content, match.group(1)):
                            if frame := await self._decode(body, time.monotonic() - t0):
                                yield frame
                        raise CaptureError(f"{self.name}: {shown} ended the stream")
                    # A snapshot URL: one JPEG per request, polled.
                    body = await response.read()
                if frame := await self._decode(body, time.monotonic() - t0):
                    yield frame
                else:
                    raise CaptureError(f"{self.name}: {shown} did not return a JPEG ({ctype})")
                await asyncio.sleep(self._poll_interval)
        except CaptureError as err:
            if not str(err).startswith(self.name):
                raise CaptureError(f"{self.name}: {shown}: {err}") from None
            raise
        except (aiohttp.ClientError, TimeoutError) as err:
            reason = redact_url(str(err)) or type(err).__name__
            raise CaptureError(f"{self.name}: {shown} failed: {reason}") from None
        finally:
            await session.close()

    async def _get(self, session: aiohttp.ClientSession, shown: str) -> aiohttp.ClientResponse:
        response = await session.get(self._url)
        if response.status != 200:
            response.release()
            raise CaptureError(f"{self.name}: {shown} answered HTTP {response.status}")
        return response

    async def _decode(self, body: bytes, pts: float) -> Frame | None:
        if not body:
            return None
        img = await asyncio.to_thread(decode_jpeg, body)
        if img is None:
            _LOGGER.debug("%s: skipped an undecodable JPEG (%d bytes)", self.name, len(body))
            return None
        return Frame.from_bgr(img, pts, time.time())

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
