"""RTSP cameras through PyAV: TCP by default, bounded timeouts, packets kept for passthrough."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

import av

from porchlight_edge.capture.base import CaptureError, ThreadedSource
from porchlight_edge.capture.pyav import decode_video, open_container, stream_info
from porchlight_edge.capture.timeline import Timeline
from porchlight_edge.capture.urls import redact_url, validate_url

if TYPE_CHECKING:
    from collections.abc import Iterator
    import threading

    from porchlight_edge.capture.config import CameraConfig
    from porchlight_edge.capture.frame import Frame

_LOGGER = logging.getLogger(__name__)
# Everything an RTSP session may need underneath, and nothing that reads local files.
RTSP_PROTOCOLS = "rtsp,rtsps,rtp,srtp,tcp,udp,tls"


class RtspSource(ThreadedSource):
    """Decodes the camera's video track to I420 frames in a worker thread."""

    def __init__(self, cfg: CameraConfig, url: str) -> None:
        super().__init__(cfg.name)
        self._url = validate_url(url, "rtsp")
        self._transport = cfg.rtsp_transport
        self._timeouts = (cfg.open_timeout, cfg.read_timeout)
        self._audio = cfg.audio
        self.packets_received = 0
        """Video packets demuxed (written by the worker thread): shows a connected camera
        whose decoder still waits for its first keyframe."""

    @property
    def redacted_url(self) -> str:
        """The camera URL with its credentials replaced, for logs and status reasons."""
        return redact_url(self._url)

    def _options(self) -> dict[str, str]:
        return {
            "rtsp_transport": self._transport,
            # FFmpeg's socket timeout in microseconds (covers connect and each read).
            "timeout": str(int(self._timeouts[1] * 1_000_000)),
            # Audio off: FFmpeg does not even set up the audio track.
            "allowed_media_types": "video+audio" if self._audio else "video",
            # Start with live frames instead of a burst of probe-time ones, and probe for 0.5 s
            # (not FFmpeg's 5 s): the SDP normally carries the codec parameters anyway.
            "fflags": "nobuffer",
            "analyzeduration": "500000",
        }

    def _produce(self, stop: threading.Event) -> Iterator[Frame]:
        shown = self.redacted_url
        _LOGGER.debug("%s: connecting to %s over %s", self.name, shown, self._transport)
        try:
            container = open_container(
                self._url, protocols=RTSP_PROTOCOLS, options=self._options(), timeout=self._timeouts
            )
        except av.FFmpegError as err:
            # Asked for video only, FFmpeg fails a URL without video with the server's
            # answer to a session it could not set up ("4XX"): find out what it offers.
            offered = self._offered_media() if isinstance(err, MAYBE_NO_VIDEO) else None
            if offered is not None and "video" not in offered:
                raise CaptureError(_no_video(self.name, shown, offered)) from None
            raise CaptureError(f"{self.name}: cannot open {shown}: {_describe(err)}") from None
        try:
            if not container.streams.video:
                offered = [str(s.type) for s in container.streams]
                raise CaptureError(_no_video(self.name, shown, offered))
            stream = container.streams.video[0]
            stream.codec_context.thread_type = "SLICE"  # frame threading would add latency
            self.stream_info = stream_info(stream)
            yield from decode_video(
                container,
                stop,
                timeline=Timeline(),
                on_packet=self._count_packet,
                audio=self._audio,
                demand=self.demand,
            )
        except av.FFmpegError as err:
            raise CaptureError(f"{self.name}: {shown} failed: {_describe(err)}") from None
        finally:
            container.close()
        raise CaptureError(f"{self.name}: {shown} ended the stream")

    def _offered_media(self) -> list[str] | None:
        """Media types of every track the URL offers, or None when it does not open."""
        options = self._options()
        del options["allowed_media_types"]
        try:
            container = open_container(
                self._url, protocols=RTSP_PROTOCOLS, options=options, timeout=self._timeouts
            )
        except av.FFmpegError:
            return None
        try:
            return [str(s.type) for s in container.streams]
        finally:
            container.close()

    def _count_packet(self) -> None:
        self.packets_received += 1


# Errors FFmpeg gives when the session has nothing it was allowed to set up (also the probe).
MAYBE_NO_VIDEO: Final = (
    av.error.HTTPOtherClientError,
    av.error.HTTPBadRequestError,
    av.error.HTTPServerError,
    av.error.InvalidDataError,
)


def _no_video(name: str, shown: str, offered: list[str]) -> str:
    tracks = ", ".join(sorted(set(offered))) or "no media"
    return f"{name}: {shown} has no video track (it offers: {tracks}); use the camera's video URL"


def _describe(err: av.FFmpegError) -> str:
    """FFmpeg's message without the filename (which would be the URL, with credentials)."""
    message = getattr(err, "strerror", None) or type(err).__name__
    return redact_url(str(message))
