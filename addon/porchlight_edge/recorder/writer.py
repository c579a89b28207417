"""Mux compressed H.264/H.265 packets into a fragmented MP4, crash-safely.

The file is written as `<id>.mp4.part` with `frag_keyframe+empty_moov`: the
header is complete up front and every GOP becomes a self-contained fragment, so a
process killed mid-clip leaves a file that decodes up to its last whole fragment.
`finish()` closes, fsyncs and renames it into place atomically.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction
import io
import json
import os
import threading
from typing import TYPE_CHECKING, Any

import av
import numpy as np

from porchlight_edge.diskfull import is_disk_full

from .audio import AudioPacket, AudioTrack
from .codecs import SAMPLE_ENTRY, VideoCodec
from .packets import annexb_parameter_sets

if TYPE_CHECKING:
    from pathlib import Path

    from .audio import AudioParams
    from .packets import EncodedPacket, StreamParams

MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"
PART_SUFFIX = ".mp4.part"
_template_lock = threading.Lock()
_templates: dict[VideoCodec, Any] = {}  # one template stream per codec, built on first use


class WriteError(Exception):
    """A clip could not be written; `enospc` is True when the disk is full."""

    def __init__(self, message: str, enospc: bool = False) -> None:
        super().__init__(message)
        self.enospc = enospc


def _template(codec: VideoCodec) -> Any:
    """A stream of `codec` to copy codec parameters from (PyAV can only set extradata on one).

    Built once from a one-frame clip encoded in memory (libx264, libx265); each clip
    then overrides the size, time base and extradata with the camera's own.
    """
    with _template_lock:
        if codec not in _templates:
            _templates[codec] = _build_template(codec)
        return _templates[codec]


def h264_template() -> Any:
    """The H.264 template stream (see `_template`)."""
    return _template(VideoCodec.H264)


def _build_template(codec: VideoCodec) -> Any:
    if codec is VideoCodec.H264:
        buf = io.BytesIO()
        out = av.open(buf, "w", format="mp4")
        stream = out.add_stream("libx264", rate=1)
        stream.width = stream.height = 16
        stream.pix_fmt = "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((24, 16), np.uint8), format="yuv420p")
        frame.pts = 0
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
        out.close()
        buf.seek(0)
        return av.open(buf, "r").streams.video[0]
    # H.265 from a raw elementary stream: libx265 in an MP4 this small fails to mux, and
    # the raw demuxer's stream has the codec parameters without container baggage.
    # 64x64: x265's smallest coding tree is 64 pixels.
    ctx = av.CodecContext.create("libx265", "w")
    ctx.width = ctx.height = 64
    ctx.pix_fmt = "yuv420p"
    ctx.time_base = Fraction(1, 1)
    ctx.options = {"x265-params": "log-level=error"}
    picture = av.VideoFrame.from_ndarray(np.zeros((96, 64), np.uint8), format="yuv420p")
    picture.pts = 0
    raw = b"".join(bytes(p) for p in [*ctx.encode(picture), *ctx.encode()])
    return av.open(io.BytesIO(raw), "r", format="hevc").streams.video[0]


def fsync_path(path: Path) -> None:
    """Flush the file or directory at `path` to disk (OSError if it cannot be opened)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(src: Path, dst: Path) -> None:
    """Fsync `src`, rename it to `dst` atomically, fsync the directory entry."""
    fsync_path(src)
    os.replace(src, dst)
    fsync_path(dst.parent)


class ClipWriter:
    """One clip being written. Not thread-safe: use it from one worker thread."""

    def __init__(
        self, part: Path, metadata: dict[str, Any], audio: AudioParams | None = None
    ) -> None:
        self.part = part
        self.audio = audio
        """The camera's audio track, muxed as AAC beside the video; None for video only."""
        self._audio_track: AudioTrack | None = None
        self.params: StreamParams | None = None
        self._metadata = metadata
        self._out: Any = None
        self._file: Any = None
        self._stream: Any = None
        self._base: int | None = None
        self._last_dts: int | None = None
        self._step = 0
        self._first_wallclock: float | None = None
        self.last_wallclock: float | None = None
        self.packets = 0
        self.bytes = 0

    def _open(self, first: EncodedPacket) -> None:
        params = self.params = first.params
        codec = VideoCodec(params.codec)
        extradata = params.extradata or annexb_parameter_sets(first.data, codec)
        if not extradata:
            names = "VPS/SPS/PPS" if codec is VideoCodec.HEVC else "SPS/PPS"
            raise WriteError(f"no {codec} parameter sets ({names}) in the first keyframe")
        try:
            # A raw (unbuffered) Python file: FFmpeg's own file protocol swallows ENOSPC,
            # PyAV's Python I/O raises it as OSError at the write that failed.
            self._file = open(self.part, "wb", buffering=0)  # noqa: SIM115
            out = av.open(self._file, "w", format="mp4", options={"movflags": MOVFLAGS})
            out.metadata["title"] = self._metadata.get("camera", "")
            meta = {**self._metadata, "start": first.wallclock}
            out.metadata["comment"] = json.dumps(meta, separators=(",", ":"))
            stream = out.add_stream_from_template(_template(codec))
            # hvc1, not FFmpeg's default hev1: Safari plays only hvc1 (sets in hvcC).
            stream.codec_tag = SAMPLE_ENTRY[codec]
            ctx = stream.codec_context
            ctx.extradata = extradata
            ctx.width, ctx.height = params.width, params.height
            stream.time_base = params.time_base
            if self.audio is not None:
                self._audio_track = AudioTrack(out, self.audio)
            out.start_encoding()  # write the header now: the file is decodable from here on
        except (av.FFmpegError, OSError) as err:
            self._close_file()
            raise WriteError(f"cannot create {self.part.name}: {err}", is_disk_full(err)) from err
        self._out, self._stream = out, stream

    def write(self, packet: EncodedPacket | AudioPacket) -> None:
        """Mux one video or audio packet; WriteError when writing fails.

        Video before the first keyframe is skipped; audio is skipped while the clip has
        no audio track or no keyframe to align it with.
        """
        if isinstance(packet, AudioPacket):
            self._write_audio(packet)
            return
        if self._out is None:
            if not packet.keyframe:
                return
            self._open(packet)
            self._base = packet.dts
            self._first_wallclock = packet.wallclock
        assert self._base is not None
        dts = packet.dts - self._base
        if self._last_dts is not None and dts <= self._last_dts:
            return  # a timestamp glitch must not abort the whole clip
        pkt = av.Packet(packet.data)
        pkt.pts = max(packet.pts - self._base, dts)
        pkt.dts = dts
        # The last sample's duration is the packet's own: without one, the muxer falls
        # back on the template's 1 fps and the clip lasts a second longer than its video.
        if self._last_dts is not None:
            self._step = dts - self._last_dts
        pkt.duration = self._step
        pkt.is_keyframe = packet.keyframe
        pkt.time_base = packet.params.time_base
        pkt.stream = self._stream
        try:
            self._out.mux(pkt)
        except (av.FFmpegError, OSError) as err:
            raise WriteError(f"writing {self.part.name} failed: {err}", is_disk_full(err)) from err
        self._last_dts = dts
        self.packets += 1
        self.bytes += len(packet.data)
        self.last_wallclock = packet.wallclock

    def _write_audio(self, packet: AudioPacket) -> None:
        track = self._audio_track
        if track is None or self._base is None or self.params is None:
            return  # audio off, or no keyframe yet: nothing to align it with
        try:
            track.write(packet, float(self._base * self.params.time_base))
        except (av.FFmpegError, OSError, ValueError) as err:
            raise WriteError(
                f"writing audio to {self.part.name} failed: {err}", is_disk_full(err)
            ) from err

    @property
    def started(self) -> bool:
        """True once the first keyframe is written (the file exists)."""
        return self._out is not None

    @property
    def first_wallclock(self) -> float | None:
        """Unix seconds (camera clock) of the first written packet, or None before it."""
        return self._first_wallclock

    def close(self) -> None:
        """Write the trailer (last fragment). Raises WriteError; the .part file stays."""
        out, self._out = self._out, None
        if out is None:
            return
        try:
            if self._audio_track is not None:
                self._audio_track.flush()
            out.close()
            os.fsync(self._file.fileno())
        except (av.FFmpegError, OSError) as err:
            raise WriteError(f"closing {self.part.name} failed: {err}", is_disk_full(err)) from err
        finally:
            self._close_file()

    def _close_file(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            with contextlib.suppress(OSError):
                file.close()

    def abort(self) -> None:
        """Close without caring about errors (the disk may be full)."""
        with contextlib.suppress(WriteError):
            self.close()
