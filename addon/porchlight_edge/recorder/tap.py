"""Copy a frame's compressed packets out of the demuxer, for passthrough consumers.

Shared by the recorder (clips) and the live stream: both keep the camera's own
H.264 packets instead of decoding and re-encoding. A frame without packets (a
masked frame, a USB or demo source) yields None, and the consumer encodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .inband import InbandParameterSets
from .packets import EncodedPacket, StreamParams, params_from_stream

if TYPE_CHECKING:
    from porchlight_edge.capture.base import StreamInfo
    from porchlight_edge.capture.frame import Frame


def _size(frame: Frame) -> tuple[int, int]:
    """(width, height) the decoder reports for the frame's stream, else the frame's own."""
    ctx = getattr(getattr(frame.packet, "stream", None), "codec_context", None)
    if ctx is not None and ctx.width and ctx.height:
        return int(ctx.width), int(ctx.height)
    return frame.width, frame.height


class PacketTap:
    """Stream parameters of the current source plus packet copies, per frame."""

    def __init__(self, codecs: frozenset[str]) -> None:
        self.codecs = codecs
        """Codecs that may pass through; other sources yield None (encode)."""
        self.stream_info: StreamInfo | None = None
        """Codec parameters of packets that do not say which stream they came from."""
        self._stream_ref: Any = None
        self._stream_params: StreamParams | None = None
        self._inband = InbandParameterSets()

    def params(self, frame: Frame) -> StreamParams | None:
        """The parameters of `frame`'s packets, or None when it cannot pass through.

        They follow the in-band SPS/PPS (`InbandParameterSets`): a camera that changes
        them mid-session gets new parameters, i.e. a new stream.
        """
        if frame.packet is None:
            return None
        stream = getattr(frame.packet, "stream", None)
        if stream is not None:
            if stream is not self._stream_ref:
                self._stream_ref = stream
                try:
                    self._stream_params = params_from_stream(stream)
                except Exception:  # e.g. the demuxer was closed already: no passthrough
                    self._stream_params = None
            params = self._stream_params
        elif self.stream_info is not None and self.stream_info.time_base is not None:
            info = self.stream_info
            assert info.time_base is not None
            params = StreamParams(
                info.codec, info.width, info.height, info.time_base, info.extradata
            )
        else:
            params = None
        if params is None or params.codec not in self.codecs:
            return None
        return self._inband.params(params, frame.packets or (frame.packet,), _size(frame))

    @staticmethod
    def copy(frame: Frame, params: StreamParams) -> list[EncodedPacket]:
        """Every non-empty packet of `frame` as owned bytes, in decode order."""
        out = []
        for pkt in frame.packets or (frame.packet,):
            if not pkt.size:
                continue
            pts = pkt.pts
            if pts is None:  # some RTSP cameras: fall back to the frame's clock
                pts = round(frame.pts / params.time_base)
            dts = pkt.dts if pkt.dts is not None else pts
            out.append(
                EncodedPacket(
                    bytes(pkt), int(pts), int(dts), bool(pkt.is_keyframe), frame.wallclock, params
                )
            )
        return out

    def packets(self, frame: Frame) -> list[EncodedPacket] | None:
        """`frame`'s packets, or None when it must be encoded instead."""
        params = self.params(frame)
        return None if params is None else self.copy(frame, params)
