"""The set-up page's "test" button: open a camera URL once and take its first picture.

`probe(kind, url)` opens an RTSP URL with PyAV (the capture's own protocol whitelist and
options, in a worker thread) or an MJPEG URL with aiohttp, under one hard time limit,
and answers a `ProbeOutcome`: the first decoded `Frame`, or a `CameraTestReason` saying
why there is none (wrong password, no video track, unreachable, unsupported codec, not
found, timeout). Messages never contain credentials (`redact_url`).

At most `MAX_PROBES` run at once in the process: each holds a thread and a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
import errno
import socket
import threading
import time
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from porchlight_edge.capture.frame import Frame
from porchlight_edge.capture.urls import redact_url, validate_url
from porchlight_edge.protocol import CAMERA_TEST_SECONDS, CameraTestReason

if TYPE_CHECKING:
    from collections.abc import Callable

MAX_PROBES: Final = 2
"""Camera tests running at once (each holds a worker thread and a connection)."""
_DEFAULT_PORTS: Final = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}
_UNREACHABLE_ERRNOS: Final = frozenset(
    {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN}
)
CLEANUP_SECONDS: Final = 2.0
"""How long a test past its time limit waits for its worker thread to end."""
QUIET_SHARE: Final = 0.5
"""Share of the time limit an RTSP camera may stay silent (FFmpeg's socket timeout)."""
_LATE: Final = 0.9
"""An error after this share of the silence allowed is that timeout firing: `timeout`."""


class ProbeBusy(Exception):
    """`MAX_PROBES` tests are running already."""


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    """A picture (`frame`, reason None) or why there is none (`reason`, `message`)."""

    reason: CameraTestReason | None
    message: str
    frame: Frame | None = None
    codec: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def ok(self) -> bool:
        """True when the camera showed a picture."""
        return self.frame is not None


def _fail(reason: CameraTestReason, message: str) -> ProbeOutcome:
    return ProbeOutcome(reason, redact_url(message))


_running = 0


async def probe(
    kind: str, url: str, *, transport: str = "tcp", seconds: float = CAMERA_TEST_SECONDS
) -> ProbeOutcome:
    """Open `url` (a source of `kind`: `rtsp` or `mjpeg`) and return its first picture.

    Never takes longer than `seconds` plus `CLEANUP_SECONDS`. ValueError when the URL
    is not one the capture accepts (as CameraConfig validation words it); ProbeBusy when
    `MAX_PROBES` tests run already.
    """
    global _running  # noqa: PLW0603 - one process-wide cap on sockets and threads
    validate_url(url, kind)
    if _running >= MAX_PROBES:
        raise ProbeBusy(f"{MAX_PROBES} camera tests are running already; try again shortly")
    _running += 1
    try:
        unresolved = await _resolve(url, seconds)
        if unresolved is not None:
            return unresolved
        try:
            async with asyncio.timeout(seconds):
                if kind == "mjpeg":
                    return await _probe_mjpeg(url, seconds)
                return await _in_thread(lambda stop: _probe_rtsp(url, transport, seconds, stop))
        except TimeoutError:
            return _fail(CameraTestReason.TIMEOUT, f"no picture within {seconds:g} s")
    finally:
        _running -= 1


async def _resolve(url: str, seconds: float) -> ProbeOutcome | None:
    """UNREACHABLE when the URL's host name has no address (FFmpeg would say only "I/O error")."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    try:
        async with asyncio.timeout(seconds):
            await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        return _fail(CameraTestReason.TIMEOUT, f"looking up {host} took longer than {seconds:g} s")
    except OSError:
        return _fail(CameraTestReason.UNREACHABLE, f"cannot find the host {host!r}")
    return None


async def _in_thread(work: Callable[[threading.Event], ProbeOutcome]) -> ProbeOutcome:
    """Run `work` in its own daemon thread; cancelled, it sets `work`'s stop flag and leaves it.

    Not the default executor: a camera that hangs FFmpeg must not hold one of its workers.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[ProbeOutcome] = loop.create_future()
    stop = threading.Event()

    def settle(outcome: ProbeOutcome | BaseException) -> None:
        if done.done():
            return
        if isinstance(outcome, BaseException):
            done.set_exception(outcome)
        else:
            done.set_result(outcome)

    def run() -> None:
        result: ProbeOutcome | BaseException
        try:
            result = work(stop)
        except BaseException as err:  # handed to the awaiting task
            result = err
        # RuntimeError: the loop closed while the camera answered.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, result)

    threading.Thread(target=run, name="camera-test", daemon=True).start()
    try:
        return await done
    finally:
        stop.set()
        if not done.done():
            # Out of time: FFmpeg's own timeouts end the thread about now; wait for that
            # (briefly), so a test leaves no thread or socket behind it.
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(done), CLEANUP_SECONDS)


def _probe_rtsp(url: str, transport: str, seconds: float, stop: threading.Event) -> ProbeOutcome:
    """The blocking RTSP test (worker thread): open, check the video track, decode a picture."""
    import av

    from porchlight_edge.capture.pyav import decode_video, open_container
    from porchlight_edge.capture.rtsp import MAYBE_NO_VIDEO, RTSP_PROTOCOLS

    start = time.monotonic()
    # Half the limit of silence ends FFmpeg's wait for stream parameters (a codec it cannot
    # depacketize never gets any) early enough to say why.
    quiet = seconds * QUIET_SHARE
    options = {
        "rtsp_transport": transport,
        "allowed_media_types": "video",
        "timeout": str(int(quiet * 1_000_000)),  # FFmpeg's socket timeout, microseconds
        "fflags": "nobuffer",
        # No probing at all: the SDP names the codec, and the picture is decoded anyway.
        # (Probing a codec FFmpeg cannot depacketize waits for data that never comes.)
        "analyzeduration": "0",
        "probesize": "32",
    }
    try:
        container = open_container(
            url, protocols=RTSP_PROTOCOLS, options=options, timeout=(seconds, seconds)
        )
    except av.FFmpegError as err:
        # Asked for video only, FFmpeg fails a URL without video with the server's answer
        # to a session it could not set up: see what the URL offers instead.
        if isinstance(err, MAYBE_NO_VIDEO) and (offered := _offered(url, options)) is not None:
            return _no_video(url, offered)
        return _classify(err, url, time.monotonic() - start >= _LATE * quiet)
    try:
        return _first_picture(container, decode_video, stop, url, start + seconds)
    except av.FFmpegError as err:
        return _classify(err, url, time.monotonic() - start >= _LATE * quiet)
    finally:
        container.close()


OFFER_SECONDS: Final = 1.0
"""How long listing a URL's tracks waits for media: its SDP came long before."""


def _offered(url: str, options: dict[str, str]) -> list[str] | None:
    """The media types of every track `url` offers, or None when it does not open."""
    import av

    from porchlight_edge.capture.pyav import open_container
    from porchlight_edge.capture.rtsp import RTSP_PROTOCOLS

    everything = {k: v for k, v in options.items() if k != "allowed_media_types"}
    everything["timeout"] = str(int(OFFER_SECONDS * 1_000_000))
    try:
        with open_container(
            url,
            protocols=RTSP_PROTOCOLS,
            options=everything,
            timeout=(3 * OFFER_SECONDS, 3 * OFFER_SECONDS),
        ) as container:
            return [str(s.type) for s in container.streams]
    except av.FFmpegError:
        return None


def _no_video(url: str, offered: list[str]) -> ProbeOutcome:
    tracks = ", ".join(sorted(set(offered))) or "nothing"
    return _fail(
        CameraTestReason.NO_VIDEO,
        f"{url} has no video track (it offers: {tracks}); use the camera's video URL",
    )


def _first_picture(
    container: Any, decode_video: Any, stop: threading.Event, url: str, deadline: float
) -> ProbeOutcome:
    import av

    if not container.streams.video:
        return _no_video(url, [str(s.type) for s in container.streams])
    stream = container.streams.video[0]
    ctx = stream.codec_context
    name = str(ctx.name) if ctx is not None and ctx.name else None
    try:
        if name is None:
            raise av.error.DecoderNotFoundError(errno.ENOENT, "unknown codec")
        av.Codec(name, "r")
    except (av.FFmpegError, ValueError):
        encoding = name or "a codec FFmpeg does not know"
        return _fail(
            CameraTestReason.UNSUPPORTED_CODEC,
            f"the video track is {encoding}, which Porchlight cannot decode;"
            " set the camera to H.264 or H.265",
        )
    ctx.thread_type = "SLICE"
    for frame in decode_video(container, stop, keep_packets=False):
        if frame.has_picture:
            return ProbeOutcome(None, "ok", frame, name, frame.width, frame.height)
        if time.monotonic() > deadline:
            break
    if stop.is_set() or time.monotonic() > deadline:
        return _fail(CameraTestReason.TIMEOUT, "the camera sent no picture in time")
    return _fail(CameraTestReason.FAILED, "the stream ended before its first picture")


def _classify(err: Exception, url: str, late: bool) -> ProbeOutcome:
    """A `CameraTestReason` for an FFmpeg error (PyAV maps AVERROR codes to classes).

    `late`: it came after the camera was silent for the socket timeout (FFmpeg then
    reports "invalid data" or an I/O error rather than a timeout).
    """
    import av

    shown = redact_url(url)
    if isinstance(err, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        has_password = urlsplit(url).password is not None
        hint = "check the user and password" if has_password else "it needs a user and password"
        return _fail(CameraTestReason.WRONG_PASSWORD, f"{shown} refused the login: {hint}")
    if isinstance(err, av.error.HTTPNotFoundError):
        return _fail(CameraTestReason.NOT_FOUND, f"{shown}: the camera has no stream at this path")
    code = getattr(err, "errno", None)
    if isinstance(err, ConnectionRefusedError) or code in _UNREACHABLE_ERRNOS:
        return _fail(CameraTestReason.UNREACHABLE, f"nothing answers at {shown}")
    if late or isinstance(err, av.error.ExitError) or code == errno.ETIMEDOUT:
        return _fail(CameraTestReason.TIMEOUT, f"{shown} did not answer in time")
    if isinstance(err, av.error.DecoderNotFoundError):
        return _fail(CameraTestReason.UNSUPPORTED_CODEC, f"{shown}: no decoder for its video")
    reason = getattr(err, "strerror", None) or type(err).__name__
    return _fail(CameraTestReason.FAILED, f"{shown}: {reason}")


async def _probe_mjpeg(url: str, seconds: float) -> ProbeOutcome:
    """The MJPEG (or JPEG snapshot URL) test with aiohttp, the capture's own HTTP client."""
    import aiohttp
    from yarl import URL

    from porchlight_edge.capture.mjpeg import decode_jpeg, iter_jpegs

    shown = redact_url(url)
    timeout = aiohttp.ClientTimeout(total=seconds)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            # Redirects followed as the capture follows them (aiohttp's defaults: at most 10,
            # and the login is dropped when one leads to another host), so a URL that works
            # once saved never fails its test. The reason names the URL as typed.
            session.get(url) as response,
        ):
            if response.status in (401, 403):
                if response.url.origin() != URL(url).origin():
                    return _fail(
                        CameraTestReason.WRONG_PASSWORD,
                        f"{shown} redirects to {redact_url(str(response.url))}, which asks for"
                        " a login (the password goes only to the address typed): use that URL",
                    )
                return _fail(CameraTestReason.WRONG_PASSWORD, f"{shown} refused the login")
            if response.status == 404:
                return _fail(CameraTestReason.NOT_FOUND, f"{shown}: nothing at this path")
            if response.status != 200:
                return _fail(CameraTestReason.FAILED, f"{shown} answered HTTP {response.status}")
            ctype = response.headers.get("Content-Type", "").lower()
            if not ctype.startswith(("multipart/", "image/jpeg")):
                return _fail(
                    CameraTestReason.UNSUPPORTED_CODEC,
                    f"{shown} serves {ctype or 'no content type'}, not MJPEG or JPEG",
                )
            async for body in iter_jpegs(response.content, tail=not ctype.startswith("multi")):
                img = await asyncio.to_thread(decode_jpeg, body)
                if img is not None:
                    frame = Frame.from_bgr(img, 0.0, time.time())
                    return ProbeOutcome(None, "ok", frame, "mjpeg", frame.width, frame.height)
    except aiohttp.ClientConnectorDNSError:
        return _fail(CameraTestReason.UNREACHABLE, f"cannot find the host of {shown}")
    except aiohttp.ClientConnectorError:
        return _fail(CameraTestReason.UNREACHABLE, f"nothing answers at {shown}")
    except aiohttp.ClientError as err:
        return _fail(CameraTestReason.FAILED, f"{shown}: {type(err).__name__}")
    return _fail(CameraTestReason.UNSUPPORTED_CODEC, f"{shown} sent no JPEG picture")
