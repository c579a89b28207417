"""PyAV helpers shared by the file and RTSP sources: open safely, decode to I420.

Frames stay in YUV 4:2:0 (no BGR conversion): the motion engine reads the luma plane
directly and the live view converts only a downscaled copy.
"""

from __future__ import annotations

from fractions import Fraction
import time
from typing import TYPE_CHECKING, Any

import av

from porchlight_edge.capture.base import CaptureError, StreamInfo
from porchlight_edge.capture.frame import Frame
from porchlight_edge.capture.timeline import Timeline

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    import threading

    import numpy as np

    from porchlight_edge.capture.demand import DecodeDemand

# Formats whose planes already are I420 (yuvj = full range; the luma is what matters).
_I420_FORMATS = frozenset({"yuv420p", "yuvj420p"})
_RANGE_MPEG, _RANGE_JPEG = 1, 2  # AVColorRange: video (limited) and full range


def open_container(
    target: str,
    *,
    protocols: str,
    options: dict[str, str] | None = None,
    timeout: tuple[float, float] | None = None,
) -> Any:
    """`av.open` for reading with FFmpeg restricted to the `protocols` whitelist."""
    opts = {"protocol_whitelist": protocols, **(options or {})}
    return av.open(target, mode="r", options=opts, timeout=timeout)


def stream_info(stream: Any) -> StreamInfo:
    """A PyAV video stream's `StreamInfo` (codec, size, fps, time base, extradata)."""
    ctx = stream.codec_context
    rate = stream.average_rate or stream.guessed_rate
    time_base = stream.time_base
    return StreamInfo(
        codec=str(ctx.name),
        width=int(ctx.width),
        height=int(ctx.height),
        fps=float(rate) if rate else None,
        time_base=Fraction(time_base) if time_base is not None else None,
        extradata=bytes(ctx.extradata) if ctx.extradata else None,
    )


def is_full_range(vframe: Any) -> bool:
    """True when the decoded picture uses full-range levels (`yuvj*` or `color_range=pc`)."""
    return vframe.format.name.startswith("yuvj") or int(vframe.color_range) == _RANGE_JPEG


def to_i420(vframe: Any) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """The picture as an (H*3/2, W) uint8 I420 buffer, converting only when needed.

    The planes keep the source's levels (see `is_full_range`): a converted picture is
    converted within its own range, never squeezed into video range or stretched.
    """
    if vframe.format.name in _I420_FORMATS and vframe.width % 2 == 0 and vframe.height % 2 == 0:
        return vframe.to_ndarray()  # type: ignore[no-any-return]
    width, height = vframe.width - vframe.width % 2, vframe.height - vframe.height % 2
    rng = _RANGE_JPEG if is_full_range(vframe) else _RANGE_MPEG
    converted = vframe.reformat(
        width=width, height=height, format="yuv420p", src_color_range=rng, dst_color_range=rng
    )
    return converted.to_ndarray()  # type: ignore[no-any-return]


def decode_video(
    container: Any,
    stop: threading.Event,
    *,
    pts_offset: float = 0.0,
    keep_packets: bool = True,
    timeline: Timeline | None = None,
    on_packet: Callable[[], None] | None = None,
    audio: bool = False,
    demand: DecodeDemand | None = None,
) -> Iterator[Frame]:
    """Demux and decode the first video stream into Frames with `pts` in seconds.

    Each frame carries the packets demuxed since the previous frame (`packets`, the
    last one also as `packet`), so a passthrough recorder sees every packet once even
    when the decoder holds some back. With a `timeline` (live cameras), packet
    timestamps are made continuous before decoding, so frames and packets agree.
    `on_packet` is called for every packet demuxed (progress while the decoder waits
    for a keyframe). With `audio`, the first audio track is demuxed too and its packets
    ride on the next frame (`Frame.audio`), with their own continuous timeline.

    With a `demand` (a camera with a detect sub-stream), packets are decoded only while
    `demand.active()`; otherwise each packet is yielded in a Frame without a picture
    (`has_picture` False). When demand starts, the packets since the last keyframe are
    decoded first (pictures discarded), so the next frame shows the current picture.
    """
    if not container.streams.video:
        raise CaptureError("no video stream")
    stream = container.streams.video[0]
    sound = container.streams.audio[0] if audio and container.streams.audio else None
    sound_timeline = Timeline() if timeline is not None and sound is not None else None
    pending: list[Any] = []
    pending_audio: list[Any] = []
    last_pts = pts_offset
    gop = _Gop()
    decoding = True
    for packet in container.demux(*(s for s in (stream, sound) if s is not None)):
        if stop.is_set():
            return
        if sound is not None and packet.stream is sound:
            if sound_timeline is not None:
                sound_timeline.correct(packet, time.monotonic())
            if packet.size:
                pending_audio.append(packet)
            continue
        if on_packet is not None:
            on_packet()
        if timeline is not None:
            timeline.correct(packet, time.monotonic())
        if keep_packets and packet.size:
            pending.append(packet)
        if demand is not None and stream.codec_context.name in demand.codecs:
            gop.add(packet)
            if not demand.active():
                if decoding:
                    decoding = False
                    stream.codec_context.flush_buffers()
                if pending:
                    demand.frames_skipped += 1
                    carried, heard = tuple(pending), tuple(pending_audio)
                    pending.clear()
                    pending_audio.clear()
                    yield _undecoded(stream, carried, pts_offset, last_pts, heard)
                continue
            if not decoding:
                decoding = True
                gop.catch_up()
        for vframe in packet.decode():
            when = vframe.time
            pts = pts_offset + (float(when) if when is not None else last_pts - pts_offset)
            last_pts = pts
            if demand is not None:
                demand.decoded()
            carried, heard = tuple(pending), tuple(pending_audio)
            pending.clear()
            pending_audio.clear()
            yield Frame.from_i420(
                to_i420(vframe),
                pts,
                time.time(),
                packet=carried[-1] if carried else None,
                packets=carried,
                keyframe=bool(carried[0].is_keyframe if carried else vframe.key_frame),
                full_range=is_full_range(vframe),
                audio=heard,
            )


GOP_MAX_PACKETS = 1800
"""Packets kept since the last keyframe for a catch-up decode (a 60 s GOP at 30 fps);
a longer GOP waits for its next keyframe instead."""


class _Gop:
    """The demuxed packets since the last keyframe, for decoding on demand."""

    def __init__(self) -> None:
        self.packets: list[Any] = []

    def add(self, packet: Any) -> None:
        if packet.is_keyframe:
            self.packets = []
        elif not self.packets or len(self.packets) >= GOP_MAX_PACKETS:
            self.packets = []
            return  # undecodable without its keyframe
        if packet.size:
            self.packets.append(packet)

    def catch_up(self) -> None:
        """Decode the kept packets but the newest (the caller decodes that one), unseen."""
        for old in self.packets[:-1]:
            for _ in old.decode():
                pass


def _undecoded(
    stream: Any, carried: tuple[Any, ...], offset: float, last: float, heard: tuple[Any, ...]
) -> Frame:
    """A Frame carrying `carried` video and `heard` audio packets, no picture (decoding off)."""
    newest = carried[-1]
    when = newest.pts if newest.pts is not None else newest.dts
    tb = newest.time_base or stream.time_base
    pts = offset + float(when * tb) if when is not None and tb is not None else last
    ctx = stream.codec_context
    return Frame(
        pts,
        time.time(),
        int(ctx.width),
        int(ctx.height),
        packet=newest,
        packets=carried,
        keyframe=bool(carried[0].is_keyframe),
        audio=heard,
    )
