"""Decode only what must be decoded: a camera with a detect sub-stream (real RTSP
servers, the real add-on on a real socket) decodes its main stream only while a
privacy mask applies, an MJPEG viewer watches or a snapshot is asked for; clips and
the live stream pass the main stream's packets through meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from pathlib import Path
from typing import Any

import aiohttp
import av
import cv2
import numpy as np
import pytest

from porchlight_edge.camera import CameraPipeline
from porchlight_edge.protocol import RingSource
from porchlight_edge.service import Service
from tests.helpers.rtp_camera import RtpCamera, Unit, encode_units
from tests.helpers.service import connect_ws, loopback_options, running_service, url
from tests.helpers.waiting import wait_until

FPS = 15
MAIN, DETECT = (640, 360), (320, 180)
SECONDS = 40  # units served per client: more than any test here runs
TOKEN = "decode-on-demand-test-token"


@pytest.fixture(scope="module")
def units() -> tuple[list[Unit], list[Unit]]:
    main = encode_units(SECONDS * FPS, size=MAIN, fps=FPS, gop=FPS)
    detect = encode_units(SECONDS * FPS, size=DETECT, fps=FPS, gop=FPS)
    return main, detect


@contextlib.asynccontextmanager
async def running(
    tmp_path: Path, units: tuple[list[Unit], list[Unit]], **camera: Any
) -> AsyncIterator[tuple[Service, CameraPipeline]]:
    with RtpCamera(units[0], fps=FPS) as main, RtpCamera(units[1], fps=FPS) as detect:
        door = {
            "name": "door",
            "source": "rtsp",
            "url": main.url,
            "detect_url": detect.url,
            # The test picture moves all the time: motion would ask for pictures.
            "motion": {"enabled": False},
            **camera,
        }
        async with running_service(loopback_options(TOKEN, [door]), tmp_path) as service:
            pipeline = service.cameras["door"]
            await wait_until(lambda: pipeline.frames >= 5, 20, "main-stream frames")
            yield service, pipeline


def _decoded(pipeline: CameraPipeline) -> int:
    assert pipeline.demand is not None
    return pipeline.demand.frames_decoded


HEADERS = {"Authorization": f"Bearer {TOKEN}"}


async def test_no_viewers_no_masks_decodes_no_main_frames(
    tmp_path: Path, units: tuple[list[Unit], list[Unit]]
) -> None:
    async with running(tmp_path, units) as (_, pipeline):
        await wait_until(lambda: pipeline.frames >= 30, 20, "two seconds of packets")
        assert pipeline.demand is not None
        assert pipeline.demand.frames_skipped >= 25
        assert _decoded(pipeline) == 0
        # Motion still runs, on the detect stream.
        assert pipeline._detect_runner is not None
        assert pipeline._detect_runner.frames_received >= 15
        # The recorder passes the main stream's packets through.
        assert pipeline.recorder.mode == "passthrough"


async def test_mjpeg_viewer_starts_and_stops_decoding(
    tmp_path: Path, units: tuple[list[Unit], list[Unit]]
) -> None:
    async with running(tmp_path, units) as (service, pipeline), aiohttp.ClientSession() as http:
        assert _decoded(pipeline) == 0
        stream = url(service, "/api/cameras/door/stream.mjpeg")
        async with http.get(stream, headers=HEADERS) as resp:
            assert resp.status == 200
            reader = aiohttp.MultipartReader.from_response(resp)
            sizes = []
            for _ in range(5):
                part = await reader.next()
                data = await part.read()  # type: ignore[union-attr]
                img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
                sizes.append(img.shape[1])
            assert _decoded(pipeline) >= 4  # (a viewer's first two parts may be one frame)
            assert set(sizes) == {MAIN[0]}  # the main stream's pictures (live width 960 max)
        await wait_until(lambda: pipeline.live.viewers == 0, 10, "the viewer to leave")
        assert pipeline.demand is not None
        await wait_until(lambda: not pipeline.demand.active(), 5, "decoding to stop")
        frames, decoded = pipeline.frames, _decoded(pipeline)
        await wait_until(lambda: pipeline.frames >= frames + 15, 10, "a second of packets")
        assert _decoded(pipeline) <= decoded + 1  # at most one picture in flight


async def test_snapshot_is_a_full_size_main_stream_jpeg(
    tmp_path: Path, units: tuple[list[Unit], list[Unit]]
) -> None:
    async with running(tmp_path, units) as (service, pipeline), aiohttp.ClientSession() as http:
        await wait_until(lambda: pipeline.frames >= 20, 20, "packets")
        assert _decoded(pipeline) == 0
        async with http.get(url(service, "/api/cameras/door/snapshot.jpg"), headers=HEADERS) as r:
            assert r.status == 200, await r.text()
            data = await r.read()
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert (img.shape[1], img.shape[0]) == MAIN
        assert _decoded(pipeline) >= 1
        # It stops again once the picture is out.
        assert pipeline.demand is not None
        await wait_until(lambda: not pipeline.demand.active(), 5, "decoding to stop")


async def test_masks_force_decoding(tmp_path: Path, units: tuple[list[Unit], list[Unit]]) -> None:
    mask = [[0.0, 0.0], [0.5, 0.0], [0.5, 0.5], [0.0, 0.5]]
    async with running(tmp_path, units, privacy_masks=[mask]) as (_, pipeline):
        await wait_until(lambda: _decoded(pipeline) >= 15, 20, "decoded main frames")
        assert pipeline.demand is not None
        assert pipeline.demand.frames_skipped == 0
        assert pipeline.recorder.mode == "encode"
        assert pipeline.last_frame is not None
        assert pipeline.last_frame.has_picture
        y = pipeline.last_frame.luma(MAIN[1])
        assert int(y[: MAIN[1] // 2 - 2, : MAIN[0] // 2 - 2].max()) <= 16


async def test_clips_record_by_passthrough_without_decoding(
    tmp_path: Path, units: tuple[list[Unit], list[Unit]]
) -> None:
    async with running(tmp_path, units, recording={"pre_roll": 1, "post_roll": 1}) as (
        _,
        pipeline,
    ):
        await wait_until(lambda: pipeline.frames >= 30, 20, "two seconds of packets")
        clip = await asyncio.wait_for(pipeline.recorder.record_manual(2.0), 20)
    path = pipeline.recorder.store.clip_path(clip.id)
    assert clip.mode == "passthrough"
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == MAIN
        decoded = sum(1 for _ in container.decode(stream))
    assert decoded >= 2 * FPS - 2


def _pictures(pipeline: CameraPipeline) -> list[tuple[int, int]]:
    folder = pipeline.recorder.store.snapshots_dir
    shapes = [cv2.imread(str(path)).shape for path in folder.glob("*.jpg")]
    return [(shape[1], shape[0]) for shape in shapes]


async def test_motion_snapshot_is_a_full_size_main_stream_picture(
    tmp_path: Path, units: tuple[list[Unit], list[Unit]]
) -> None:
    async with running(tmp_path, units, motion={"enabled": True}) as (_, pipeline):
        await wait_until(lambda: pipeline.motion, 20, "motion on the detect stream")
        await wait_until(lambda: _pictures(pipeline), 20, "the motion snapshot")
        assert _pictures(pipeline) == [MAIN]


async def test_ring_snapshot_is_a_full_size_main_stream_picture(
    tmp_path: Path, units: tuple[list[Unit], list[Unit]]
) -> None:
    async with running(tmp_path, units) as (service, pipeline):
        await wait_until(lambda: pipeline.frames >= 20, 20, "packets")
        assert _decoded(pipeline) == 0
        event = service.ring("door", RingSource.API)
        await wait_until(lambda: _pictures(pipeline), 20, "the ring snapshot")
        assert _pictures(pipeline) == [MAIN]
        assert 0 < _decoded(pipeline) <= 3 * FPS  # the ring's window only
    assert pipeline.last_ring == event["time"]


async def test_a_mask_saved_at_run_time_starts_decoding_and_removing_it_stops(
    tmp_path: Path, units: tuple[list[Unit], list[Unit]]
) -> None:
    async with running(tmp_path, units) as (service, pipeline), aiohttp.ClientSession() as session:
        ws, _ = await connect_ws(session, service, TOKEN)
        assert pipeline.demand is not None
        assert not pipeline.demand.active()

        async def layout(*masks: str) -> None:
            args = {"camera": "door", "privacy_masks": list(masks)}
            await ws.send_json({"message_id": 1, "command": "set_camera_layout", "args": args})
            reply = await ws.receive_json(timeout=10)
            assert reply["success"], reply

        await layout("0,0 0.5,0 0.5,0.5 0,0.5")
        await wait_until(lambda: _decoded(pipeline) >= 15, 20, "decoded main frames")
        assert pipeline.recorder.mode == "encode"
        await wait_until(lambda: pipeline.last_frame is not None, 5, "a masked frame")
        assert pipeline.last_frame is not None
        y = pipeline.last_frame.luma(MAIN[1])
        assert int(y[: MAIN[1] // 2 - 2, : MAIN[0] // 2 - 2].max()) <= 16
        await layout()
        await wait_until(lambda: not pipeline.demand.active(), 5, "decoding to stop")
        await wait_until(lambda: pipeline.recorder.mode == "passthrough", 5, "passthrough")
        await ws.close()
