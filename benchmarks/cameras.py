"""N RTSP cameras at 1080p 15 fps, each with a 640x360 detect sub-stream: the add-on's CPU.

The cameras are pure-Python RTSP servers (`tests.helpers.rtp_camera`) in a separate
load-generator process, serving H.264 generated once with PyAV into a temp dir; the
add-on runs as its own process (as in production). CPU is read from /proc for each
process over a fixed window, after a warm-up; every figure is the median of
`--repeats` windows, with the range. Measured:

- N cameras, no viewers (the main stream is only demuxed: decoding on demand);
- the same with one HA-style live stream viewer (the MPEG-TS route) on one camera,
  unmasked: its added cost;
- one masked camera with one, then two live stream viewers (one shared encode).

Ends with `RESULT cpu_percent_per_camera=… cameras_per_core=…
stream_viewer_cpu_percent=… masked_stream_two_viewers_ratio=…`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
from pathlib import Path
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any

import aiohttp
import av

from tests.e2e.addon_process import AddonProcess
from tests.helpers.footage import make_h264
from tests.helpers.rtp_camera import RtpCamera, Unit, rtp_packets

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    import threading

FPS = 15
MAIN, DETECT = (1920, 1080), (640, 360)
MAIN_BITRATE, DETECT_BITRATE = 4_000_000, 500_000  # typical doorbell settings
SOURCE_SECONDS = 10  # generated once, looped by the servers
TICKS = os.sysconf("SC_CLK_TCK")
MASK = [[0.0, 0.0], [0.3, 0.0], [0.3, 0.4], [0.0, 0.4]]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


# --- load generator (its own process) ---------------------------------------------------------
class LoopingCamera(RtpCamera):
    """An RtpCamera that loops its units forever, with RTP packets prepared once
    (so the load generator's own CPU stays small and out of the add-on's figure)."""

    def __init__(self, units: list[Unit], fps: float) -> None:
        self._prepared = [rtp_packets(u, 0) for u in units]
        self._period = len(units)
        super().__init__(units, fps=fps)

    def _send(self, conn: Any, lock: threading.Lock, channels: dict[str, int]) -> None:
        t0, seq, step = time.monotonic(), 0, 90000 // int(self.fps)
        video = channels.get("trackID=0", 0)
        for k in range(10**9):
            delay = t0 + k / self.fps - time.monotonic()
            if self._closed.wait(max(0.0, delay)):
                return
            chunks = []
            rtp_time = (k * step) % 2**32
            for packet in self._prepared[k % self._period]:
                header = bytearray(packet[:12])
                struct.pack_into("!HI", header, 2, seq & 0xFFFF, rtp_time)
                chunks.append(b"$" + struct.pack("!BH", video, len(packet)) + header + packet[12:])
                seq += 1
            try:
                with lock:
                    conn.sendall(b"".join(chunks))
            except OSError:
                return
            self.sent += 1


def units_of(path: Path) -> list[Unit]:
    """Annex-B access units of an MPEG-TS file (SPS/PPS in-band before keyframes)."""
    with av.open(str(path)) as container:
        return [
            Unit(bytes(p), i * 90000 // FPS)
            for i, p in enumerate(p for p in container.demux(video=0) if p.size)
        ]


def serve(media: Path, count: int) -> None:
    """Run `count` main + detect camera pairs; print their URLs as JSON, run until stdin closes."""
    main, detect = units_of(media / "main.ts"), units_of(media / "detect.ts")
    cameras = [(LoopingCamera(main, FPS), LoopingCamera(detect, FPS)) for _ in range(count)]
    print(json.dumps([[m.url, d.url] for m, d in cameras]), flush=True)
    sys.stdin.read()
    for pair in cameras:
        for camera in pair:
            camera.close()


# --- measuring (this process) -----------------------------------------------------------------
class Client:
    def __init__(self, session: aiohttp.ClientSession, addon: AddonProcess) -> None:
        self.session, self.addon = session, addon
        self.base = f"http://127.0.0.1:{addon.port}"

    async def command(self, command: str, **args: Any) -> Any:
        async with self.session.ws_connect(f"{self.base}/api/websocket") as ws:
            await ws.receive_json()
            await ws.send_json({"type": "auth", "token": self.addon.token})
            await ws.receive_json()
            await ws.send_json({"message_id": 1, "command": command, "args": args})
            for _ in range(100):
                reply = await ws.receive_json()
                if reply.get("message_id") == 1:
                    return reply["result"]
        raise RuntimeError(f"no reply to {command}")

    @contextlib.asynccontextmanager
    async def stream_viewer(self, camera: str) -> AsyncIterator[list[int]]:
        """Read the camera's MPEG-TS live stream in the background; yields [bytes read]."""
        path = (await self.command("get_stream_url", camera=camera))["path"]
        got = [0]

        async def read() -> None:
            async with self.session.get(self.base + path) as resp:
                resp.raise_for_status()
                async for chunk in resp.content.iter_any():
                    got[0] += len(chunk)

        task = asyncio.create_task(read())
        try:
            yield got
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def window(pids: dict[str, int], seconds: float) -> dict[str, float]:
    """CPU percent of one core used by each process over `seconds`."""
    before = {k: cpu_seconds(p) for k, p in pids.items()}
    t0 = time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - t0
    return {k: 100 * (cpu_seconds(p) - before[k]) / elapsed for k, p in pids.items()}


def cameras_options(pairs: list[list[str | None]], masked: bool) -> dict[str, Any]:
    cams = []
    for i, (url, detect) in enumerate(pairs):
        cam: dict[str, Any] = {
            "name": f"cam{i}",
            "source": "rtsp",
            "url": url,
            "detect_url": detect,
        }
        if masked:
            cam["privacy_masks"] = [MASK]
        cams.append(cam)
    return {"cameras": cams, "live": {"max_viewers": 4}}


async def wait_online(client: Client, count: int, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        cams = (await client.command("get_state"))["cameras"]
        if sum(1 for c in cams if c["status"] == "online") == count:
            return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"cameras not online: {client.addon.log_tail()}")


async def run_addon(
    tmp: Path, pairs: list[list[str | None]], masked: bool, body: Callable[[Client], Any]
) -> Any:
    folder = tmp / f"addon{len(list(tmp.glob('addon*')))}"
    addon = AddonProcess(folder, cameras_options(pairs, masked))
    addon.start(60)
    try:
        async with aiohttp.ClientSession() as session:
            client = Client(session, addon)
            await wait_online(client, len(pairs))
            return await body(client)
    finally:
        addon.stop()


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values):8.2f}  [{min(values):.2f}-{max(values):.2f}]"


async def measure(args: argparse.Namespace, tmp: Path, gen: subprocess.Popen[str]) -> None:
    assert gen.stdout is not None
    pairs: list[list[str | None]] = json.loads(await asyncio.to_thread(gen.stdout.readline))
    gen_pid, seconds, warm = gen.pid, args.seconds, args.warmup
    idle, viewer, gen_cpu = [], [], []

    async def plain(client: Client) -> None:
        assert client.addon.proc is not None
        pids = {"addon": client.addon.proc.pid, "generator": gen_pid}
        await asyncio.sleep(warm)
        for _ in range(args.repeats):
            w = await window(pids, seconds)
            idle.append(w["addon"])
            gen_cpu.append(w["generator"])
            async with client.stream_viewer("cam0") as got:
                await asyncio.sleep(warm)
                start = got[0]
                v = await window(pids, seconds)
                if got[0] <= start:
                    raise RuntimeError("the live stream viewer received nothing")
            viewer.append(v["addon"])

    one, two = [], []

    async def masked(client: Client) -> None:
        assert client.addon.proc is not None
        pids = {"addon": client.addon.proc.pid}
        for _ in range(args.repeats):
            async with client.stream_viewer("cam0"):
                await asyncio.sleep(warm)
                one.append((await window(pids, seconds))["addon"])
                async with client.stream_viewer("cam0"):
                    await asyncio.sleep(warm)
                    two.append((await window(pids, seconds))["addon"])

    baseline = []

    async def always(client: Client) -> None:
        assert client.addon.proc is not None
        await asyncio.sleep(warm)
        for _ in range(args.repeats):
            baseline.append((await window({"addon": client.addon.proc.pid}, seconds))["addon"])

    await run_addon(tmp, pairs, False, plain)
    await run_addon(tmp, pairs[:1], True, masked)
    await run_addon(tmp, [[pairs[0][0], None]], False, always)

    n = len(pairs)
    per_camera = [v / n for v in idle]
    added = [v - i for v, i in zip(viewer, idle, strict=True)]
    ratio = [b / a for a, b in zip(one, two, strict=True)]
    print(f"cameras: {n} x 1080p {FPS} fps H.264 ({MAIN_BITRATE // 1000} kbit/s) + "
          f"640x360 detect stream, RTSP from a separate load generator; "
          f"{args.repeats} windows of {seconds:g} s; median [min-max]")  # fmt: skip
    rows = {
        f"addon cpu % ({n} cameras, no viewers)": idle,
        "addon cpu % per camera": per_camera,
        f"addon cpu % ({n} cameras, 1 stream viewer)": viewer,
        "added cpu % of 1 stream viewer (unmasked)": added,
        "addon cpu % (1 masked camera, 1 stream viewer)": one,
        "addon cpu % (1 masked camera, 2 stream viewers)": two,
        "2 masked viewers / 1": ratio,
        f"load generator cpu % ({n} cameras, excluded)": gen_cpu,
        "for comparison: 1 camera without detect stream (main decoded)": baseline,
    }
    for name, values in rows.items():
        print(f"{name:<62}{fmt(values)}")
    cpc = statistics.median(per_camera)
    print(
        f"RESULT cpu_percent_per_camera={cpc:.2f} "
        f"cameras_per_core={100 / max(cpc, 0.01):.1f} "
        f"stream_viewer_cpu_percent={statistics.median(added):.2f} "
        f"masked_stream_two_viewers_ratio={statistics.median(ratio):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # load generator mode
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.cameras)
        return
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for kind, (width, height), bitrate in (
            ("main", MAIN, MAIN_BITRATE),
            ("detect", DETECT, DETECT_BITRATE),
        ):
            # veryfast, like pipeline.py: CABAC and deblocking, as cameras encode.
            make_h264(tmp / f"{kind}.ts", seconds=SOURCE_SECONDS, fps=FPS, width=width,
                      height=height, gop=2 * FPS, bitrate=bitrate, preset="veryfast")  # fmt: skip
        gen = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(tmp), "--cameras", str(args.cameras)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ},
        )
        try:
            asyncio.run(measure(args, tmp, gen))
        finally:
            assert gen.stdin is not None
            gen.stdin.close()
            gen.wait(30)


if __name__ == "__main__":
    main()
