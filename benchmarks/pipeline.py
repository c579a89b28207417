"""One 1080p 15 fps H.264 camera in real time: decode, motion and MJPEG to one viewer.

The add-on runs as its own process (as in production) reading a looping H.264
file paced like a live camera; this process watches the live view over HTTP and
reads the add-on's CPU time from /proc. Ends with a RESULT line.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
from pathlib import Path
import statistics
import tempfile
import time

import aiohttp

from tests.e2e.addon_process import AddonProcess
from tests.helpers.footage import make_h264

OUT = Path(__file__).resolve().parent / "out"

FPS = 15
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


async def camera_state(session: aiohttp.ClientSession, addon: AddonProcess) -> dict[str, object]:
    async with session.ws_connect(f"http://127.0.0.1:{addon.port}/api/websocket") as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "token": addon.token})
        await ws.receive_json()
        await ws.send_json({"message_id": 1, "command": "get_state"})
        reply = await ws.receive_json()
        return reply["result"]["cameras"][0]  # type: ignore[no-any-return]


async def watch(addon: AddonProcess, seconds: float, warmup: float) -> dict[str, float]:
    url = f"http://127.0.0.1:{addon.port}/api/cameras/bench/stream.mjpeg"
    headers = {"Authorization": f"Bearer {addon.token}"}
    parts: list[float] = []
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
        reader = aiohttp.MultipartReader.from_response(resp)
        deadline = time.monotonic() + warmup
        while time.monotonic() < deadline:
            part = await reader.next()
            await part.read()  # type: ignore[union-attr]
        assert addon.proc is not None
        cpu0, wall0 = cpu_seconds(addon.proc.pid), time.monotonic()
        state0 = await camera_state(session, addon)
        while time.monotonic() - wall0 < seconds:
            part = await reader.next()
            await part.read()  # type: ignore[union-attr]
            parts.append(time.monotonic())
        cpu1, wall1 = cpu_seconds(addon.proc.pid), time.monotonic()
        state1 = await camera_state(session, addon)
    elapsed = wall1 - wall0
    frames = int(state1["frames"]) - int(state0["frames"])  # type: ignore[call-overload]
    gaps = [b - a for a, b in itertools.pairwise(parts)]
    return {
        "elapsed": elapsed,
        "cpu_percent": 100 * (cpu1 - cpu0) / elapsed,
        "frames": frames,
        "expected": FPS * elapsed,
        "dropped": int(state1["dropped"]) - int(state0["dropped"]),  # type: ignore[call-overload]
        "mjpeg_parts": len(parts),
        "mjpeg_gap_ms_p50": 1000 * statistics.median(gaps) if gaps else 0.0,
        "latency_ms": float(state1["latency_ms"] or 0.0),  # type: ignore[arg-type]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--live-width", type=int, default=960)
    args = parser.parse_args()

    video = OUT / "pipeline_1080p15.mp4"
    if not video.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        make_h264(video, seconds=20, fps=FPS, gop=2 * FPS, preset="veryfast")
    with tempfile.TemporaryDirectory() as tmp:
        options = {
            "live": {"width": args.live_width},
            "cameras": [
                {"name": "bench", "source": "file", "path": str(video), "loop": True,
                 "realtime": True},
            ],
        }  # fmt: skip
        addon = AddonProcess(Path(tmp), options)
        addon.start()
        try:
            result = asyncio.run(watch(addon, args.seconds, args.warmup))
        finally:
            addon.stop()

    print(f"pipeline: 1080p {FPS} fps H.264 file, real-time pacing, 1 MJPEG viewer "
          f"({args.live_width} px wide), {result['elapsed']:.1f} s measured")  # fmt: skip
    print(f"{'metric':<28}{'value':>12}")
    for key in ("cpu_percent", "frames", "expected", "dropped", "mjpeg_parts",
                "mjpeg_gap_ms_p50", "latency_ms"):  # fmt: skip
        print(f"{key:<28}{result[key]:>12.1f}")
    print(json.dumps({"live_width": args.live_width}))
    print(
        f"RESULT cpu_percent_one_core={result['cpu_percent']:.1f} "
        f"frames={int(result['frames'])} dropped={int(result['dropped'])}"
    )


if __name__ == "__main__":
    main()
