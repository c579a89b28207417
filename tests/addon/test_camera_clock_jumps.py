"""Cameras whose RTP clock jumps (forward, backwards, wrapping) mid-stream, served by a
real RTSP server (tests/helpers/rtp_camera.py): stream time, motion and clips must
follow wall time, in passthrough and in re-encode."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import av
import numpy as np
import pytest

from porchlight_edge.capture import Frame
from porchlight_edge.capture.timeline import Timeline
from porchlight_edge.motion.hysteresis import MotionHysteresis
from porchlight_edge.privacy import PrivacyMasker
from porchlight_edge.recorder.recorder import Recorder, RecorderSettings
from porchlight_edge.recorder.storage import ClipStore
from tests.helpers.camera_session import camera_config, first_frames
from tests.helpers.rtp_camera import RtpCamera, Unit, encode_units

FPS = 15
JUMP_AT = 45  # frame index (3 s in) from which the camera's clock is off
HOUR = 3600 * 90000


@pytest.fixture(scope="module")
def units() -> list[Unit]:
    return encode_units(90, fps=FPS, gop=FPS)


def jumped(units: list[Unit], ticks: int) -> list[Unit]:
    return [Unit(u.data, u.rtp_time + (ticks if i >= JUMP_AT else 0)) for i, u in enumerate(units)]


def wrapping(units: list[Unit]) -> list[Unit]:
    """The 32-bit RTP clock wraps at JUMP_AT (the server sends timestamps modulo 2**32)."""
    base = 2**32 - units[JUMP_AT].rtp_time
    return [Unit(u.data, u.rtp_time + base) for u in units]


CLOCKS: dict[str, Callable[[list[Unit]], list[Unit]]] = {
    "forward_one_hour": lambda u: jumped(u, HOUR),
    "backwards_50_s": lambda u: jumped(u, -50 * 90000),
    "wraps": wrapping,
}


@pytest.mark.parametrize("clock", list(CLOCKS))
async def test_stream_time_follows_wall_time_across_a_clock_jump(
    units: list[Unit], clock: str
) -> None:
    hysteresis = MotionHysteresis(on_frames=1, off_seconds=2.0)
    changes = []
    frames: list[Frame] = []
    with RtpCamera(CLOCKS[clock](units), fps=FPS) as camera:
        async for frame in first_frames(camera_config("rtsp", url=camera.url), 70):
            frames.append(frame)
            # Motion in every other frame: "off" may only come after 2 s of stream time.
            if (change := hysteresis.update(frame.pts, len(frames) % 2 == 0)) is not None:
                changes.append(change)
        assert camera.sent > JUMP_AT + 5, "the jump was not served"
    pts = np.array([f.pts for f in frames])
    steps = np.diff(pts)
    assert steps.min() > 0
    # Slack of 1 s for a loaded machine; the jumps are 50 s and an hour.
    assert steps.max() < 1.0, f"stream time jumped by {steps.max():.1f} s"
    wall = frames[-1].wallclock - frames[0].wallclock
    assert pts[-1] - pts[0] == pytest.approx(wall, abs=1.0)
    assert changes == [True], "motion turned off at the clock jump"


@pytest.mark.parametrize("masked", [False, True], ids=["passthrough", "reencode"])
async def test_clip_across_a_clock_jump_lasts_its_wall_time(
    units: list[Unit], clip_store: ClipStore, masked: bool
) -> None:
    masker = PrivacyMasker([[(0.0, 0.0), (0.3, 0.0), (0.3, 0.3), (0.0, 0.3)]] if masked else [])
    rec = Recorder("front", clip_store, RecorderSettings(preroll=0.0, postroll=1.0))
    rec.start()
    clip_id = None
    with RtpCamera(jumped(units, HOUR), fps=FPS) as camera:
        async for frame in first_frames(camera_config("rtsp", url=camera.url), 60):
            rec.on_frame(masker.apply(frame), 0.0)
            if clip_id is None and camera.sent >= JUMP_AT - 25:
                clip_id = rec.trigger("manual", "e-1", postroll=3.0, snapshot=False)
    await rec.stop()
    assert camera.sent > JUMP_AT
    assert clip_id is not None
    record = clip_store.index.get_clip(clip_id)
    assert record is not None
    assert record.end is not None
    assert record.mode == ("encode" if masked else "passthrough")
    indexed = record.end - record.start
    with av.open(str(clip_store.clip_path(clip_id))) as container:
        stream = container.streams.video[0]
        times = [float(f.time) for f in container.decode(stream)]
        mp4_seconds = float(container.duration or 0) / av.time_base
    assert 2.0 < indexed < 5.0
    decoded = times[-1] - times[0] + 1 / FPS
    assert decoded == pytest.approx(indexed, abs=0.5)
    assert mp4_seconds == pytest.approx(indexed, abs=0.5)


def test_timeline_tells_jumps_from_network_bursts_and_gaps() -> None:
    """Packets at 15 fps (6000 ticks of 90 kHz) with arrival times: a burst after a
    network hiccup and a real pause are kept; clock jumps are replaced by wall time."""
    timeline = Timeline()
    tb = Fraction(1, 90000)

    def feed(dts: int, wall: float) -> int:
        packet = av.Packet(b"\x00")
        packet.time_base, packet.dts, packet.pts = tb, dts, dts
        timeline.correct(packet, wall)
        assert packet.pts == packet.dts
        return int(packet.dts)

    out = [feed(i * 6000, i / 15) for i in range(10)]
    out += [feed(i * 6000, 2.0) for i in range(10, 20)]  # late, then all at once
    out += [feed(20 * 6000 + 10 * 90000, 2.0 + 10.0)]  # the camera paused 10 s
    assert timeline.jumps == 0
    assert out == [i * 6000 for i in range(20)] + [20 * 6000 + 10 * 90000]
    jumped = feed(21 * 6000 + 10 * 90000 + HOUR, 12.0 + 1 / 15)  # +1 h
    assert jumped - out[-1] == 6000  # one frame interval, as the wall clock says
    back = feed(22 * 6000 + 10 * 90000 - 50 * 90000 + HOUR, 12.0 + 2 / 15)  # -50 s
    assert back - jumped == 6000
    assert timeline.jumps == 2
