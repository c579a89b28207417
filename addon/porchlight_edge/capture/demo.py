"""The demo camera: plays the demo scene and publishes the visitor's press as a ring.

The scene itself (drawing, ground truth) is capture/demo_scene.py; it plays in real
time or as fast as possible.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from porchlight_edge.capture.demo_scene import VARIANTS, DemoPhases, DemoScene
from porchlight_edge.capture.frame import Frame
from porchlight_edge.protocol import RingSource

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from porchlight_edge.capture.base import StreamInfo
    from porchlight_edge.capture.config import CameraConfig
    from porchlight_edge.rings import RingPublisher

__all__ = ["VARIANTS", "DemoPhases", "DemoScene", "DemoSource"]

_LOGGER = logging.getLogger(__name__)


class DemoSource:
    """The demo scene as a camera.

    The visitor's press is published to `rings` (if given) as a `RingSource.DEMO` ring
    at camera `name`.
    """

    stream_info: StreamInfo | None = None

    def __init__(
        self,
        name: str,
        scene: DemoScene,
        *,
        realtime: bool = True,
        rings: RingPublisher | None = None,
    ) -> None:
        self.name = name
        self.camera = name
        """The camera the visitor's press rings at (`name` may gain a suffix, e.g. ':detect')."""
        self.scene = scene
        self.realtime = realtime
        self.rings = rings
        self._closed = False
        self.frames_dropped = 0
        """Frames skipped to catch up after falling more than a second behind."""

    @classmethod
    def from_config(cls, cfg: CameraConfig, rings: RingPublisher | None = None) -> DemoSource:
        """The camera `cfg.demo` describes: a VARIANTS preset plus overrides.

        Presses go to `rings` when given. ValueError for an unknown variant or option.
        """
        options = dict(cfg.demo)
        variant = options.pop("variant", "default")
        if variant not in VARIANTS:
            raise ValueError(
                f"camera {cfg.name}: unknown demo variant {variant!r}, one of {sorted(VARIANTS)}"
            )
        unknown = set(options) - {"width", "height", "loop_seconds", "phases", "seed",
                                  "noise_sigma", "drift", "sway"}  # fmt: skip
        if unknown:
            raise ValueError(f"camera {cfg.name}: unknown demo option(s) {sorted(unknown)}")
        preset = VARIANTS[variant]
        phases = {**preset.get("phases", {}), **options.pop("phases", {})}
        options = {**preset, **options, "phases": phases}
        scene = DemoScene(fps=cfg.effective_fps or 12.0, **options)
        return cls(cfg.name, scene, realtime=cfg.realtime, rings=rings)

    async def frames(self) -> AsyncIterator[Frame]:
        """Render the scene frame by frame (paced to its fps when `realtime`), until `close()`.

        Frames are I420 at the scene's size; `pts` in seconds of scene time, `wallclock` Unix
        seconds. The visitor's press is published as the frame after it is rendered.
        """
        self._closed = False
        fps = self.scene.fps
        start = time.monotonic()
        index = 0
        while not self._closed:
            t = index / fps
            if self.realtime:
                delay = start + t - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif delay < -1.0:  # fell far behind (suspended): skip ahead, don't burst
                    skip_to = int((time.monotonic() - start) * fps)
                    self.frames_dropped += max(0, skip_to - index)
                    index = skip_to
                    continue
            buf = await asyncio.to_thread(self.scene.render, t, index)
            # Exact previous time (not t - 1/fps): float error must not ring twice.
            if self.scene.rings_between((index - 1) / fps, t):
                self._ring()
            yield Frame.from_i420(buf, t, time.time())
            index += 1

    def _ring(self) -> None:
        if self.rings is not None:
            self.rings.publish_ring(self.camera, RingSource.DEMO)

    async def close(self) -> None:
        """Stop after the current frame."""
        self._closed = True
