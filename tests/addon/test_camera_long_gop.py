"""A camera with a long keyframe interval, joined in the middle of a GOP (real RTSP
server): it comes online when the first keyframe arrives, says meanwhile that it waits
for one and names the keyframe interval, and does not reconnect (which would only
join the next GOP in its middle again)."""

from __future__ import annotations

from porchlight_edge.capture import CameraRunner, Frame, open_source
from porchlight_edge.protocol import CameraStatus
from tests.helpers.camera_session import camera_config, run_until
from tests.helpers.rtp_camera import RtpCamera, encode_units

FPS = 15
GOP = 120  # 8 s between keyframes (a 20 s GOP, scaled down to keep the test short)
JOIN = 30  # the camera is joined 2 s into a GOP: the next keyframe is 6 s away


async def test_long_gop_comes_online_at_the_first_keyframe() -> None:
    units = encode_units(GOP + 45, fps=FPS, gop=GOP)
    statuses: list[tuple[CameraStatus, str]] = []
    frames: list[Frame] = []
    with RtpCamera(units, fps=FPS, start=JOIN) as camera:
        cfg = camera_config("rtsp", url=camera.url)
        runner = CameraRunner(
            lambda: open_source(cfg),
            frames.append,
            lambda status, reason: statuses.append((status, reason)),
            name="door",
            stall_seconds=2.0,
            connect_timeout=3.0,  # shorter than the wait for the keyframe
        )
        await run_until(runner, lambda: runner.status == CameraStatus.ONLINE, 20, "online")
    assert runner.delays == [], f"reconnected while waiting for a keyframe: {statuses}"
    waiting = [reason for status, reason in statuses if status == CameraStatus.OFFLINE]
    assert waiting, statuses
    assert all("keyframe interval" in reason for reason in waiting)
    # Online with the keyframe itself, not after a restart: GOP - JOIN frames in.
    assert camera.sent >= GOP - JOIN
    assert frames[0].pts >= (GOP - JOIN - 2) / FPS
