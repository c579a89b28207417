"""Camera snapshot cost: full size (the default since #14) against the live view's width.

A snapshot is encoded on demand, once per picture and size (`LiveView.still`). Side by
side on the same 1080p demo pictures we measure, per request: a full-size snapshot of a
new picture, one at the live view's width (what `snapshot.jpg` used to send), one fitted
to a dashboard thumbnail box, and a repeated full-size request of the same picture
(served from the cache). Medians over `--frames` pictures, with the JPEG sizes.

Usage: scripts/bench snapshot [--frames 30] [--width 1920] [--height 1080]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from porchlight_edge.capture.demo_scene import DemoScene
from porchlight_edge.capture.frame import Frame
from porchlight_edge.config import DEFAULT_LIVE_WIDTH
from porchlight_edge.live import LiveView

THUMBNAIL = (640, 360)
"""A dashboard card's request (HA passes its size as width and height)."""


async def measure(frames: int, width: int, height: int) -> dict[str, list[float]]:
    """Milliseconds per request of each kind, and JPEG kilobytes, over `frames` pictures."""
    scene = DemoScene(width, height)
    view = LiveView(width=DEFAULT_LIVE_WIDTH)
    kinds = ("full", "live_width", "thumbnail", "full_cached")
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    sizes: dict[str, list[float]] = {kind: [] for kind in kinds}
    boxes = {
        "full": (None, None),
        "live_width": (DEFAULT_LIVE_WIDTH, None),
        "thumbnail": THUMBNAIL,
        "full_cached": (None, None),
    }
    for index in range(frames):
        view.update(Frame.from_i420(scene.render(index / scene.fps), index, time.time()))
        for kind in kinds:
            start = time.perf_counter()
            jpeg = await view.still(*boxes[kind])
            times[kind].append(1000 * (time.perf_counter() - start))
            assert jpeg is not None
            sizes[kind].append(len(jpeg) / 1024)
    await view.close()
    return {**{f"{k}_ms": v for k, v in times.items()}, **{f"{k}_kb": v for k, v in sizes.items()}}


def main() -> None:
    """Run and print medians, ratios to the live-width encode, and the RESULT line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    args = parser.parse_args()
    results = asyncio.run(measure(args.frames, args.width, args.height))
    medians = {name: statistics.median(values) for name, values in results.items()}
    base = medians["live_width_ms"]
    for name, value in medians.items():
        ratio = f"  ({value / base:.2f}x live width)" if name.endswith("_ms") else ""
        print(f"{name:>16}: {value:8.2f}{ratio}")
    print(
        "RESULT "
        + " ".join(f"{name}={value:.2f}" for name, value in medians.items())
        + f" full_vs_live_width={medians['full_ms'] / base:.2f}"
    )


if __name__ == "__main__":
    main()
