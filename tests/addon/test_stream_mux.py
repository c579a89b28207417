"""The live stream's muxer and viewer mailboxes, on real H.264 from libx264."""

from __future__ import annotations

from fractions import Fraction
import io
import itertools

import av
import numpy as np
import pytest

from porchlight_edge.recorder.packets import (
    EncodedPacket,
    StreamParams,
    annexb_parameter_sets,
    split_annexb,
)
from porchlight_edge.stream.hub import MAILBOX_PACKETS, StreamViewer
from porchlight_edge.stream.mpegts import StreamChanged, TsMuxer

TB = Fraction(1, 90000)
ANNEXB = StreamParams("h264", 64, 48, TB, None)


def _session(frames: int, gop: int = 5, params: StreamParams = ANNEXB) -> list[EncodedPacket]:
    """One encoder session: timestamps start at 0, as after a reconnect or encoder restart."""
    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height, ctx.pix_fmt, ctx.time_base = 64, 48, "yuv420p", TB
    ctx.gop_size = gop
    ctx.options = {"preset": "ultrafast", "tune": "zerolatency"}
    ctx.open()
    out = []
    for i in range(frames):
        frame = av.VideoFrame.from_ndarray(np.full((72, 64), 10 + 9 * i, np.uint8), "yuv420p")
        frame.pts, frame.time_base = i * 6000, TB
        out += [
            EncodedPacket(bytes(p), int(p.pts), int(p.dts), bool(p.is_keyframe), i / 15, params)
            for p in ctx.encode(frame)
        ]
    return out


def _demux(data: bytes) -> list[tuple[int, int]]:
    with av.open(io.BytesIO(data), format="mpegts") as ts:
        return [(int(p.dts), int(p.pts)) for p in ts.demux(video=0) if p.size]


def test_timeline_continues_across_a_source_restart() -> None:
    first, second = _session(10), _session(10)
    muxer = TsMuxer(ANNEXB)
    data = b"".join(muxer.mux(p) for p in [*first, *second]) + muxer.close()
    stamps = _demux(data)
    assert len(stamps) == 20
    dts = [d for d, _ in stamps]
    # Rising DTS although the second session starts again at 0 (a TS reader needs that).
    assert all(b > a for a, b in itertools.pairwise(dts))
    assert dts[10] - dts[9] < 90000  # no jump: just after the last packet
    with av.open(io.BytesIO(data), format="mpegts") as ts:
        assert sum(1 for _ in ts.decode(video=0)) == 20


def test_a_change_of_bitstream_format_ends_the_stream() -> None:
    avcc = StreamParams("h264", 64, 48, TB, b"\x01\x42\x00\x1e")
    muxer = TsMuxer(ANNEXB)
    packets = _session(2)
    muxer.mux(packets[0])
    moved = EncodedPacket(packets[1].data, 6000, 6000, False, 0.0, avcc)
    with pytest.raises(StreamChanged):
        muxer.mux(moved)
    muxer.close()


def _packet(i: int, gop: int) -> EncodedPacket:
    return EncodedPacket(bytes([i % 256]), i, i, i % gop == 0, float(i), ANNEXB)


async def test_a_viewer_that_falls_behind_skips_to_the_next_keyframe() -> None:
    viewer = StreamViewer()
    gop = 30
    viewer.offer(_packet(1, gop))  # joins mid-GOP: waits for a keyframe
    assert viewer.mailbox.empty()
    total = MAILBOX_PACKETS + 2 * gop
    for i in range(gop, gop + total):
        viewer.offer(_packet(i, gop))  # nobody reads
    assert viewer.skipped > 0
    first = viewer.mailbox.get_nowait()
    assert first is not None
    assert first.keyframe, "after an overflow the viewer restarts at a keyframe"
    assert viewer.mailbox.qsize() < MAILBOX_PACKETS
    viewer.end()
    received = []
    while (packet := await viewer.next()) is not None:
        received.append(packet)
    assert received[-1].pts == gop + total - 1  # nothing after the skip was lost


def test_parameter_sets_only_out_of_band_still_decode() -> None:
    """RTSP cameras that send SPS/PPS only in the SDP: keyframes get them in the TS."""
    inband = _session(12)
    extradata = annexb_parameter_sets(inband[0].data)
    assert extradata is not None
    params = StreamParams("h264", 64, 48, TB, extradata)

    def without_sets(data: bytes) -> bytes:
        nals = [n for n in split_annexb(data) if n[0] & 0x1F not in (7, 8)]
        return b"".join(b"\x00\x00\x00\x01" + n for n in nals)

    packets = [
        EncodedPacket(without_sets(p.data), p.pts, p.dts, p.keyframe, 0.0, params) for p in inband
    ]
    assert all(annexb_parameter_sets(p.data) is None for p in packets)
    muxer = TsMuxer(params)
    data = b"".join(muxer.mux(p) for p in packets) + muxer.close()
    with av.open(io.BytesIO(data), format="mpegts") as ts:
        assert sum(1 for _ in ts.decode(video=0)) == 12


def test_a_forward_clock_jump_of_the_camera_is_not_a_gap() -> None:
    """A camera whose clock leaps 3600 s ahead mid-stream: the viewer's timeline runs on."""
    hour = 3600 * 90000
    packets = [
        EncodedPacket(
            p.data,
            p.pts + (hour if i >= 10 else 0),
            p.dts + (hour if i >= 10 else 0),
            p.keyframe,
            1000.0 + i / 15,
            p.params,
        )
        for i, p in enumerate(_session(20))
    ]
    muxer = TsMuxer(ANNEXB)
    data = b"".join(muxer.mux(p) for p in packets) + muxer.close()
    dts = [d for d, _ in _demux(data)]
    assert len(dts) == 20
    steps = [b - a for a, b in itertools.pairwise(dts)]
    assert all(0 < step < 90000 for step in steps), steps
