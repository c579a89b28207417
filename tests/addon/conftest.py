"""Fixtures for the add-on tests. Capture fixtures are prefixed `capture_`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
import contextlib
import os
from pathlib import Path

import aiohttp
from aiohttp import web
import av
import numpy as np
import pytest

from porchlight_edge.recorder.notices import RecordingNotice
from porchlight_edge.recorder.storage import ClipStore, StoreSettings
from tests.helpers.footage import make_h264, mux_all
from tests.helpers.rtsp_server import RtspServerProcess, free_port, unavailable_reason

ClipMaker = Callable[..., Path]
HttpHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _write_clip(
    path: Path,
    frames: int,
    fps: int = 15,
    size: tuple[int, int] = (320, 240),
    bframes: int = 0,
    gop: int | None = None,
) -> Path:
    """H.264 MP4 made with PyAV/libx264. Frame i is flat grey at luma ~ (20 + 4*i) % 220,
    with a white square at x = 8*i, so tests can tell frames apart by content."""
    width, height = size
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": str(gop or fps), "bf": str(bframes)}

        def picture(i: int) -> av.VideoFrame:
            img = np.full((height, width, 3), (20 + 4 * i) % 220, np.uint8)
            x = (8 * i) % max(1, width - 32)
            img[height // 2 - 16 : height // 2 + 16, x : x + 32] = 255
            return av.VideoFrame.from_ndarray(img, format="bgr24")

        mux_all(out, stream, (picture(i) for i in range(frames)))
    return path


@pytest.fixture(scope="session")
def capture_make_clip(tmp_path_factory: pytest.TempPathFactory) -> ClipMaker:
    """`make(name, frames, fps=15, size=(320, 240), bframes=0, gop=None) -> Path`."""
    folder = tmp_path_factory.mktemp("capture_clips")

    def make(name: str, frames: int, **kwargs: object) -> Path:
        return _write_clip(folder / name, frames, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def capture_shared_data() -> Path:
    """../shared/data (or $PORCHLIGHT_SHARED_DATA); skips the test when absent."""
    env = os.environ.get("PORCHLIGHT_SHARED_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
    if not (root / "manifest.json").is_file():
        pytest.skip(f"shared camera data not found at {root} (set PORCHLIGHT_SHARED_DATA)")
    return root.resolve()


@pytest.fixture(scope="session")
def capture_rtsp_clip(capture_make_clip: ClipMaker) -> Path:
    """60 s at 15 fps, small: long enough that the shared RTSP media never hits EOS."""
    return capture_make_clip("rtsp.mp4", 900, fps=15, size=(320, 240), gop=15)


@pytest.fixture(scope="session")
def capture_rtsp_available() -> None:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"RTSP test server unavailable: {reason}")


@pytest.fixture
def capture_rtsp_server(
    capture_rtsp_available: None, capture_rtsp_clip: Path
) -> Iterator[RtspServerProcess]:
    """A running GStreamer RTSP server on 127.0.0.1 (user `user`, password `secret`)."""
    server = RtspServerProcess(capture_rtsp_clip, free_port(), user="user", password="secret")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def porch_h264(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s of 320x180 H.264 at 10 fps, a keyframe each second (one fMP4 fragment each): a
    file camera that records small real clips. Shared read-only."""
    path = tmp_path_factory.mktemp("porch_h264") / "porch.mp4"
    return make_h264(path, seconds=4, fps=10, width=320, height=180, gop=10)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client session for tests of the add-on's API."""
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def clip_store(tmp_path: Path) -> AsyncIterator[ClipStore]:
    """An opened ClipStore in `tmp_path / "rec"`, closed after the test."""
    async with opened_store(tmp_path / "rec") as store:
        yield store


@contextlib.asynccontextmanager
async def opened_store(
    root: Path,
    settings: StoreSettings | None = None,
    listener: Callable[[RecordingNotice], None] | None = None,
) -> AsyncIterator[ClipStore]:
    """A ClipStore in `root` (settings and listener as ClipStore takes them), opened, and
    closed on exit."""
    store = ClipStore(root, settings, listener=listener)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def capture_http() -> AsyncIterator[Callable[[HttpHandler], Awaitable[str]]]:
    """`serve(handler) -> base URL` on a real 127.0.0.1 socket."""
    runners: list[web.AppRunner] = []

    async def serve(handler: HttpHandler) -> str:
        app = web.Application()
        app.router.add_get("/{tail:.*}", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    yield serve
    for runner in runners:
        await runner.cleanup()
