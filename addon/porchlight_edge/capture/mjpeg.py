"""HTTP MJPEG cameras (multipart/x-mixed-replace) and single-JPEG snapshot URLs.

The stream is read with aiohttp on the event loop; only the JPEG decode runs in a
worker thread.

Framing. Cameras get multipart headers wrong in many ways, so frames are found by
the JPEG's own structure (`JpegScanner`): SOI, marker segments skipped by their
lengths, entropy-coded data up to EOI. Whatever lies between two JPEGs (boundary
lines, part headers, blank lines) is skipped unread. This is more tolerant than
FFmpeg's mpjpeg demuxer, which by default already ignores the declared boundary and
accepts any line starting with `--`, skips missing leading CRLFs and matches header
names case-insensitively, but trusts Content-Length. Quirks handled:

- boundary missing from Content-Type, quoted, with or without its leading `--`, or
  different from the one in the body; a body without any boundary lines;
- Content-Length missing, wrong (too short or too long), or counting the CRLF;
- CRLF or bare LF line endings, extra blank lines or whitespace, any header case,
  parts without headers, a wrong part Content-Type (`image/jpg`, `text/plain`);
- a JPEG cut short by the next part (dropped; the next one is read); fill bytes
  (`FF FF`) before markers; EXIF thumbnails and progressive scans inside a JPEG;
- a snapshot URL (one JPEG per response, any Content-Type): polled at `fps`.
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
_CHUNK = 64 * 1024
_SOI = b"\xff\xd8\xff"  # start of image, then the first segment's marker
# A marker inside entropy-coded data: FF followed by neither a stuffed 00, a restart
# marker (D0-D7) nor another fill FF.
_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_EOI, _SOI_MARKER, _SOS = 0xD9, 0xD8, 0xDA
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


class JpegScanner:
    """Complete JPEGs out of a byte stream fed in arbitrary chunks.

    `feed(data)` returns the JPEGs (SOI to EOI, bytes) completed by `data`. Scanning
    resumes where it stopped, so each byte is examined about once. Raises CaptureError
    when one JPEG grows beyond `max_bytes` without ending.
    """

    def __init__(self, max_bytes: int = MAX_PART_BYTES) -> None:
        self.max_bytes = max_bytes
        self._buf = bytearray()
        self._in_jpeg = False
        self._pos = 0  # next byte to examine, relative to the JPEG's SOI at _buf[0]
        self._entropy = False
        self.skipped = 0
        """JPEGs dropped because they were cut short by the next one."""

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; returns the complete JPEGs found so far (oldest first)."""
        buf = self._buf
        buf.extend(data)
        out: list[bytes] = []
        while self._step(out):
            pass
        if self._in_jpeg and len(buf) > self.max_bytes:
            raise CaptureError(f"multipart part larger than {self.max_bytes} bytes")
        return out

    def _restart(self, at: int) -> None:
        """A new JPEG starts at `at` (its SOI)."""
        del self._buf[:at]
        self._in_jpeg, self._pos, self._entropy = True, 2, False

    def _step(self, out: list[bytes]) -> bool:
        """Advance the scan once; False when more data is needed."""
        buf = self._buf
        if not self._in_jpeg:
            start = buf.find(_SOI)
            if start < 0:
                del buf[: max(0, len(buf) - 2)]  # keep a possible partial SOI
                return False
            self._restart(start)
            return True
        if self._entropy:
            match = _MARKER.search(buf, self._pos)
            if match is None:
                self._pos = max(self._pos, len(buf) - 1)
                return False
            at = match.start()
            marker = buf[at + 1]
            if marker == _EOI:
                out.append(bytes(buf[: at + 2]))
                del buf[: at + 2]
                self._in_jpeg = False
            elif marker == _SOI_MARKER:
                self.skipped += 1  # cut short by the next image
                self._restart(at)
            else:  # a table or another scan (progressive JPEG)
                self._entropy, self._pos = False, at
            return True
        pos = self._pos
        if pos + 2 > len(buf):
            return False
        if buf[pos] != 0xFF:  # lost in the headers: not a JPEG after all
            del buf[:1]
            self._in_jpeg = False
            return True
        marker = buf[pos + 1]
        if marker == 0xFF:  # fill byte
            self._pos += 1
        elif marker == _EOI:
            out.append(bytes(buf[: pos + 2]))
            del buf[: pos + 2]
            self._in_jpeg = False
        elif marker == _SOI_MARKER:
            self.skipped += 1
            self._restart(pos)
        elif marker in _STANDALONE:
            self._pos += 2
        else:
            if pos + 4 > len(buf):
                return False
            length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
            if length < 2:
                del buf[:1]
                self._in_jpeg = False
                return True
            self._pos = pos + 2 + length
            self._entropy = marker == _SOS
        return True

    def rest(self) -> bytes | None:
        """The unfinished JPEG at the end of the stream (no EOI), if one was begun."""
        return bytes(self._buf) if self._in_jpeg else None


async def iter_jpegs(content: aiohttp.StreamReader, *, tail: bool = False) -> AsyncIterator[bytes]:
    """The JPEGs of an HTTP body in order (multipart or not); returns at its end.

    `tail`: also yield an unfinished last JPEG (a snapshot without EOI; decoders cope).
    """
    scanner = JpegScanner()
    while chunk := await content.read(_CHUNK):
        for jpeg in scanner.feed(chunk):
            yield jpeg
    if tail and (rest := scanner.rest()):
        yield rest


def decode_jpeg(data: bytes) -> np.ndarray[Any, np.dtype[np.uint8]] | None:
    """Decode JPEG bytes to a BGR picture (height x width x 3), or None when it is not one."""
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
        """Read the stream (or poll the snapshot URL) and yield decoded BGR frames.

        CaptureError when the camera cannot be reached, answers with an error or stalls.
        """
        shown = redact_url(self._url)
        await self.close()
        self._session = session = aiohttp.ClientSession(timeout=self._timeout)
        t0 = time.monotonic()
        try:
            while True:
                response = await self._get(session, shown)
                count = 0
                async with response:
                    ctype = response.headers.get("Content-Type", "")
                    stream = ctype.lower().startswith("multipart/")
                    async for body in iter_jpegs(response.content, tail=not stream):
                        if frame := await self._decode(body, time.monotonic() - t0):
                            count += 1
                            yield frame
                if stream:
                    raise CaptureError(f"{self.name}: {shown} ended the stream")
                if count == 0:  # a snapshot URL answers one JPEG per request
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
        """Stop reading and close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None
