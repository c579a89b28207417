"""MJPEG framing quirks of real cameras, each served by a real aiohttp server on
127.0.0.1: every intact JPEG is delivered, in order, whatever the multipart framing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
import cv2
import numpy as np
import pytest

from porchlight_edge.capture import CameraConfig, Frame, open_source
from porchlight_edge.capture.mjpeg import JpegScanner
from tests.addon.conftest import HttpHandler
from tests.helpers.camera_session import drain

COLORS = [(0, 0, 255), (0, 255, 0), (255, 0, 0), (0, 255, 255), (255, 255, 255)]  # BGR
CRLF = b"\r\n"


def jpeg(color: tuple[int, int, int], *, thumbnail: bool = False) -> bytes:
    img = np.zeros((96, 128, 3), np.uint8)
    img[:] = color
    # Noise so the entropy-coded data has stuffed FF 00 bytes and is not tiny.
    img[::7, ::5] = 255 - np.array(color, np.uint8)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    data = bytes(buf)
    if thumbnail:  # an EXIF-like APP1 segment holding a whole JPEG (SOI ... EOI)
        ok, thumb = cv2.imencode(".jpg", np.full((8, 8, 3), 128, np.uint8))
        payload = b"Exif\x00\x00" + bytes(thumb)
        data = data[:2] + b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload + data[2:]
    return data


Part = Callable[[int, bytes], bytes]


def part(boundary: bytes = b"--frame", eol: bytes = CRLF, length: Callable[[int], int] | None = len,
         headers: bytes = b"Content-Type: image/jpeg") -> Part:  # fmt: skip
    def build(_: int, body: bytes) -> bytes:
        head = boundary + eol + (headers + eol if headers else b"")
        if length is not None:
            head += b"Content-Length: %d" % length(body) + eol
        return head + eol + body + eol

    return build


def truncated_second(i: int, body: bytes) -> bytes:
    return part()(i, body[: len(body) // 2] if i == 1 else body)


QUIRKS: dict[str, tuple[str | None, Part]] = {
    "standard": ("multipart/x-mixed-replace; boundary=frame", part()),
    "no_content_length": ("multipart/x-mixed-replace; boundary=frame", part(length=None)),
    "content_length_short": (
        "multipart/x-mixed-replace; boundary=frame", part(length=lambda b: len(b) - 150)),
    "content_length_long": (
        "multipart/x-mixed-replace; boundary=frame", part(length=lambda b: len(b) + 400)),
    "content_length_counts_crlf": (
        "multipart/x-mixed-replace; boundary=frame", part(length=lambda b: len(b) + 2)),
    "lf_only": ("multipart/x-mixed-replace; boundary=frame", part(eol=b"\n")),
    "header_case_and_spaces": (
        "Multipart/X-Mixed-Replace;Boundary=frame",
        part(boundary=b"--frame   ", headers=b"CONTENT-TYPE:   image/jpg  \r\n\r\n")),
    "quoted_dashed_boundary": ('multipart/x-mixed-replace; boundary="--frame"', part()),
    "boundary_without_dashes_in_body": (
        "multipart/x-mixed-replace; boundary=frame", part(boundary=b"frame")),
    "boundary_mismatch": ("multipart/x-mixed-replace; boundary=other", part()),
    "no_boundary_parameter": ("multipart/x-mixed-replace", part()),
    "no_part_headers": ("multipart/x-mixed-replace; boundary=frame",
                        lambda _, body: b"--frame\r\n" + body + CRLF),
    "no_boundaries_at_all": ("multipart/x-mixed-replace; boundary=frame",
                             lambda _, body: body + CRLF),
    "wrong_response_type": ("text/plain", part()),
    "exif_thumbnail": ("multipart/x-mixed-replace; boundary=frame", part(length=None)),
}  # fmt: skip


@pytest.fixture
async def serve(
    capture_http: Callable[[HttpHandler], Awaitable[str]],
) -> Callable[[str | None, Part, bool], Awaitable[str]]:
    async def start(ctype: str | None, build: Part, thumbnail: bool) -> str:
        async def handler(request: web.Request) -> web.StreamResponse:
            resp = web.StreamResponse()
            if ctype is not None:
                resp.headers["Content-Type"] = ctype
            await resp.prepare(request)
            stream = b"".join(build(i, jpeg(c, thumbnail=thumbnail)) for i, c in enumerate(COLORS))
            for at in range(0, len(stream), 701):  # parts straddle the reader's chunks
                await resp.write(stream[at : at + 701])
            return resp

        return await capture_http(handler) + "/video"

    return start


async def take(url: str, limit: int) -> list[Frame]:
    cfg = CameraConfig.from_dict({"name": "mj", "source": "mjpeg", "url": url, "fps": 50})
    frames, _ = await drain(open_source(cfg), limit)
    return frames


def colour(frame: Frame) -> tuple[int, int, int]:
    b, g, r = frame.to_bgr()[3, 3]  # a pixel the noise grid leaves alone
    return int(b), int(g), int(r)


def near(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 40


@pytest.mark.parametrize("quirk", list(QUIRKS))
async def test_every_jpeg_is_found_despite_framing_quirks(
    serve: Callable[[str | None, Part, bool], Awaitable[str]], quirk: str
) -> None:
    ctype, build = QUIRKS[quirk]
    url = await serve(ctype, build, quirk == "exif_thumbnail")
    frames = await take(url, len(COLORS))
    got = [colour(f) for f in frames]
    assert len(got) == len(COLORS), got
    assert all(near(g, c) for g, c in zip(got, COLORS, strict=True)), got
    assert all((f.width, f.height) == (128, 96) for f in frames)


async def test_a_jpeg_cut_short_by_the_next_part_is_dropped(
    serve: Callable[[str | None, Part, bool], Awaitable[str]],
) -> None:
    url = await serve("multipart/x-mixed-replace; boundary=frame", truncated_second, False)
    frames = await take(url, len(COLORS) - 1)
    got = [colour(f) for f in frames]
    expected = [c for i, c in enumerate(COLORS) if i != 1]
    assert all(near(g, c) for g, c in zip(got, expected, strict=True)), got
    assert len(got) == len(expected)


def progressive(color: tuple[int, int, int]) -> bytes:
    """A progressive JPEG: several scans, with tables between them."""
    img = np.zeros((96, 128, 3), np.uint8)
    img[:] = color
    img[::7, ::5] = 255 - np.array(color, np.uint8)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    assert ok
    assert bytes(buf).count(b"\xff\xda") > 1
    return bytes(buf)


def test_scanner_finds_jpegs_fed_one_byte_at_a_time() -> None:
    jpegs = [jpeg(c) for c in COLORS] + [progressive(c) for c in COLORS]
    data = b"".join(part(eol=b"\n", length=None)(i, j) for i, j in enumerate(jpegs))
    scanner = JpegScanner()
    found = [j for k in range(len(data)) for j in scanner.feed(data[k : k + 1])]
    assert found == jpegs
    assert scanner.skipped == 0
