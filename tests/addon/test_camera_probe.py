"""The set-up page's camera test against real servers: a picture, or the right reason.

RTSP: the pure-Python RTP camera (Basic auth, audio-only and metadata-only URLs, an
H.266 track FFmpeg cannot depacketize), a closed loopback port, and a socket that
accepts but never answers. MJPEG: a real aiohttp camera. No message ever holds the
password.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import socket
import threading
import time

from aiohttp import BasicAuth, web
import pytest

from porchlight_edge.capture.probe import MAX_PROBES, ProbeBusy, probe
from porchlight_edge.protocol import CameraTestReason
from tests.helpers.loopback_http import serving_on_loopback
from tests.helpers.mjpeg_camera import solid_jpeg
from tests.helpers.rtp_camera import RtpCamera, encode_units
from tests.helpers.rtsp_server import RtspServerProcess
from tests.helpers.waiting import wait_until

PASSWORD = "pr0be-S3cret"
UNITS = encode_units(30)


def _with_login(url: str, user: str, password: str) -> str:
    return url.replace("rtsp://", f"rtsp://{user}:{password}@")


async def _threads_ended() -> None:
    """The probes' worker threads are gone (FFmpeg's own timeouts end them; under load, late)."""
    await wait_until(
        lambda: not any(t.name == "camera-test" for t in threading.enumerate()),
        15,
        "the camera tests' worker threads to end",
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_good_rtsp_camera_gives_its_first_picture() -> None:
    with RtpCamera(UNITS, credentials=("admin", PASSWORD)) as camera:
        outcome = await probe("rtsp", _with_login(camera.url, "admin", PASSWORD))
    assert outcome.ok, outcome.message
    assert outcome.reason is None
    assert (outcome.codec, outcome.width, outcome.height) == ("h264", 320, 240)
    assert outcome.frame is not None
    assert outcome.frame.has_picture


@pytest.mark.parametrize("login", [("admin", "wrong"), ("someone", PASSWORD), None])
async def test_a_refused_login_is_a_wrong_password(login: tuple[str, str] | None) -> None:
    with RtpCamera(UNITS, credentials=("admin", PASSWORD)) as camera:
        url = camera.url if login is None else _with_login(camera.url, *login)
        outcome = await probe("rtsp", url)
        assert camera.refused > 0
    assert outcome.reason is CameraTestReason.WRONG_PASSWORD
    assert not outcome.ok
    assert "wrong" not in outcome.message
    assert PASSWORD not in outcome.message
    assert ("needs a user" in outcome.message) == (login is None)


@pytest.mark.parametrize("media", ["audio", "application"])
async def test_a_url_without_video_says_so(media: str) -> None:
    with RtpCamera(UNITS, media=media) as camera:
        outcome = await probe("rtsp", camera.url)
    assert outcome.reason is CameraTestReason.NO_VIDEO
    assert "no video track" in outcome.message


async def test_a_codec_ffmpeg_cannot_decode_is_unsupported() -> None:
    with RtpCamera(UNITS, rtpmap="H266/90000") as camera:
        # Said within the limit (FFmpeg would wait for parameters that never come).
        outcome = await probe("rtsp", camera.url, seconds=5)
    assert outcome.reason is CameraTestReason.UNSUPPORTED_CODEC
    assert "H.264" in outcome.message


async def test_nothing_at_the_address_is_unreachable() -> None:
    # (An unknown host name would need a DNS query: tests stay on loopback.)
    outcome = await probe("rtsp", f"rtsp://admin:{PASSWORD}@127.0.0.1:{_closed_port()}/cam")
    assert outcome.reason is CameraTestReason.UNREACHABLE
    assert PASSWORD not in outcome.message


async def test_a_camera_that_never_answers_times_out_within_the_limit() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        start = time.monotonic()
        outcome = await probe("rtsp", f"rtsp://admin:{PASSWORD}@127.0.0.1:{port}/x", seconds=1.5)
        elapsed = time.monotonic() - start
    assert outcome.reason is CameraTestReason.TIMEOUT
    assert PASSWORD not in outcome.message
    assert elapsed < 1.5 + 5.0  # the hard limit, and a moment to clean up (under load)
    await _threads_ended()


async def test_a_url_the_capture_refuses_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not allowed"):
        await probe("rtsp", "concat:/etc/passwd|rtsp://x")
    with pytest.raises(ValueError, match="must start with"):
        await probe("mjpeg", "rtsp://127.0.0.1/cam")


async def test_more_tests_than_the_limit_are_refused() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(MAX_PROBES + 1)
        url = f"rtsp://127.0.0.1:{silent.getsockname()[1]}/x"
        running = [asyncio.create_task(probe("rtsp", url, seconds=1.5)) for _ in range(MAX_PROBES)]
        await asyncio.sleep(0)  # each has taken its place
        with pytest.raises(ProbeBusy):
            await probe("rtsp", url, seconds=1.5)
        outcomes = await asyncio.gather(*running)
    assert {o.reason for o in outcomes} == {CameraTestReason.TIMEOUT}
    await _threads_ended()


@contextlib.asynccontextmanager
async def _http_camera() -> AsyncIterator[str]:
    """An HTTP camera: /mjpeg (Basic auth, multipart JPEG), /page (HTML), /gone (404)."""
    jpeg = solid_jpeg(160, 120)

    async def mjpeg(request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        if header != BasicAuth("admin", PASSWORD).encode():
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="cam"'})
        response = web.StreamResponse(
            headers={"Content-Type": "multipart/x-mixed-replace; boundary=cam"}
        )
        await response.prepare(request)
        head = f"--cam\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
        await response.write(head.encode() + jpeg + b"\r\n")
        return response

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html>login</html>", content_type="text/html")

    async def moved(request: web.Request) -> web.Response:
        # Where cameras send an old snapshot path, or another host (`?to=`).
        raise web.HTTPFound(request.query.get("to", "/mjpeg"))

    app = web.Application()
    app.router.add_get("/mjpeg", mjpeg)
    app.router.add_get("/moved", moved)
    app.router.add_get("/page", page)
    async with serving_on_loopback(app) as port:
        yield f"127.0.0.1:{port}"


async def test_mjpeg_cameras_give_a_picture_or_the_reason() -> None:
    async with _http_camera() as host:
        good = await probe("mjpeg", f"http://admin:{PASSWORD}@{host}/mjpeg")
        wrong = await probe("mjpeg", f"http://admin:nope@{host}/mjpeg")
        html = await probe("mjpeg", f"http://{host}/page")
        gone = await probe("mjpeg", f"http://{host}/gone")
    unreachable = await probe("mjpeg", f"http://127.0.0.1:{_closed_port()}/mjpeg")
    assert good.ok, good.message
    assert (good.width, good.height) == (160, 120)
    assert wrong.reason is CameraTestReason.WRONG_PASSWORD
    assert html.reason is CameraTestReason.UNSUPPORTED_CODEC
    assert "text/html" in html.message
    assert gone.reason is CameraTestReason.NOT_FOUND
    assert unreachable.reason is CameraTestReason.UNREACHABLE
    for outcome in (good, wrong, html, gone, unreachable):
        assert PASSWORD not in outcome.message


async def test_a_gstreamer_rtsp_server_gives_a_picture_or_wrong_password(
    capture_rtsp_server: RtspServerProcess,
) -> None:
    """The same against GStreamer's RTSP server (its own auth), not our own test camera."""
    good = await probe("rtsp", capture_rtsp_server.url())
    wrong = await probe("rtsp", capture_rtsp_server.url().replace(":secret@", ":nope@"))
    anonymous = await probe("rtsp", capture_rtsp_server.url(credentials=False))
    assert good.ok, good.message
    assert (good.codec, good.width, good.height) == ("h264", 320, 240)
    assert wrong.reason is CameraTestReason.WRONG_PASSWORD
    assert anonymous.reason is CameraTestReason.WRONG_PASSWORD
    assert "secret" not in good.message + wrong.message + anonymous.message


async def test_a_redirect_is_followed_as_the_capture_follows_it_without_the_login() -> None:
    """The capture (aiohttp's defaults) follows redirects: the test must judge the same."""
    async with _http_camera() as host, _http_camera() as elsewhere:
        moved = await probe("mjpeg", f"http://admin:{PASSWORD}@{host}/moved")
        # To another host: asked, but never with the password.
        away = await probe(
            "mjpeg", f"http://admin:{PASSWORD}@{host}/moved?to=http://{elsewhere}/mjpeg"
        )
    assert moved.ok, moved.message
    assert (moved.width, moved.height) == (160, 120)
    assert away.reason is CameraTestReason.WRONG_PASSWORD, away.message
    assert f"redirects to http://{elsewhere}/mjpeg" in away.message
    assert PASSWORD not in moved.message + away.message
