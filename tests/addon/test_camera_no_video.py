"""An RTSP URL without a video track (audio only, ONVIF metadata only), served by a real
RTSP server: the camera says "no video track" and what the URL offers, not FFmpeg's
generic "Server returned 4XX" text."""

from __future__ import annotations

import pytest

from porchlight_edge.capture import CameraRunner, CaptureError, open_source
from porchlight_edge.protocol import CameraStatus
from tests.helpers.camera_session import camera_config, run_until
from tests.helpers.rtp_camera import RtpCamera, encode_units


@pytest.mark.parametrize(("media", "offered"), [("audio", "audio"), ("application", "data")])
async def test_url_without_video_says_no_video_track(media: str, offered: str) -> None:
    with RtpCamera(encode_units(2), media=media) as camera:
        cfg = camera_config("rtsp", url=camera.url)
        source = open_source(cfg)
        with pytest.raises(CaptureError) as err:
            async for _ in source.frames():
                pass
        await source.close()
        message = str(err.value)
        assert "no video track" in message
        assert f"offers: {offered}" in message
        assert "4XX" not in message

        runner = CameraRunner(lambda: open_source(cfg), lambda _: None, name="door")
        await run_until(runner, lambda: runner.status == CameraStatus.OFFLINE, 15, "offline")
        assert "no video track" in runner.reason
