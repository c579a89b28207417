"""The demo scene: a synthetic doorstep where a visitor walks up, rings, waits and leaves.

Cheap enough for a Raspberry Pi: the porch is rendered once into an I420 buffer;
each frame copies it, draws the visitor (a few primitives on the three planes),
applies a slow lighting drift through a 256-entry LUT and adds sensor noise sliced
from a small precomputed bank. Deterministic for a given seed, so tests can rely on
the ground truth (`visitor_visible`, `ring_times`). The camera that plays it is
capture/demo.py.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
import logging
import math
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from porchlight_edge.capture.demo_draw import Planes, Pose, Shape, ease, noise_bank
from porchlight_edge.capture.frame import as_u8

if TYPE_CHECKING:
    from numpy.typing import NDArray


_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DemoPhases:
    """Seconds spent in each part of one loop (defaults add up to 40 s)."""

    empty_before: float = 8.0
    walk_in: float = 6.0
    press: float = 1.0
    wait: float = 8.0
    leave: float = 6.0
    empty_after: float = 11.0

    @property
    def total(self) -> float:
        """Seconds of one whole loop."""
        return float(sum(getattr(self, f.name) for f in fields(self)))

    def scaled_to(self, loop_seconds: float) -> DemoPhases:
        """The same phases stretched or shrunk to last `loop_seconds` in total."""
        factor = loop_seconds / self.total
        return replace(self, **{f.name: getattr(self, f.name) * factor for f in fields(self)})


VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    # The doorbell's most common moment: the visitor rings, then stands still for a minute.
    "waiting": {"phases": {"wait": 60.0}, "sway": 0.0},
}
"""Named demo scenes (`demo: {variant: waiting}`); explicit options override them."""


class DemoScene:
    """The doorstep scene and its ground truth; `render(t)` gives the I420 frame at time t."""

    def __init__(
        self,
        width: int = 1280,
        height: int = 720,
        fps: float = 12.0,
        *,
        loop_seconds: float | None = None,
        phases: DemoPhases | dict[str, float] | None = None,
        seed: int = 0,
        noise_sigma: float = 3.0,
        drift: float = 0.05,
        sway: float = 0.01,
    ) -> None:
        """`sway`: how far the waiting visitor sways, as a share of their height (0 = still)."""
        if width % 4 or height % 4 or width < 64 or height < 64:
            raise ValueError("demo size must be at least 64x64 and a multiple of 4")
        self.width, self.height, self.fps = width, height, fps
        base = phases if isinstance(phases, DemoPhases) else DemoPhases(**(phases or {}))
        self.phases = base.scaled_to(loop_seconds) if loop_seconds else base
        self.loop_seconds = self.phases.total
        self._drift = drift
        self._sway = sway
        w, h = width, height
        self.person_height = 0.62 * h
        self._feet_y = 0.96 * h
        self._x_off = -0.25 * self.person_height  # fully left of the frame
        self.button = (0.665 * w, 0.47 * h)
        self._x_stand = self.button[0] - 0.30 * self.person_height
        self._bg = self._render_background()
        self._noise_pos, self._noise_neg, self._noise_rows = noise_bank(
            w, h, noise_sigma, np.random.default_rng(seed)
        )

    # ---- ground truth -------------------------------------------------------------------
    @property
    def ring_time(self) -> float:
        """Loop time of the press: halfway through the press phase, finger on the button."""
        p = self.phases
        return p.empty_before + p.walk_in + 0.5 * p.press

    @property
    def ring_times(self) -> list[float]:
        """Ring moments within one loop (one)."""
        return [self.ring_time]

    def rings_between(self, t0: float, t1: float) -> int:
        """How many presses happen in the time interval (t0, t1]."""
        loop, r = self.loop_seconds, self.ring_time
        return math.floor((t1 - r) / loop) - math.floor((t0 - r) / loop)

    def visitor_bbox(self, t: float) -> tuple[int, int, int, int] | None:
        """(x0, y0, x1, y1) of the visitor clipped to the frame, None when not in view."""
        pose = self._pose(t)
        if pose is None:
            return None
        x0, y0, x1, y1 = self._person_extent(pose)
        cx0, cy0 = max(0, int(x0)), max(0, int(y0))
        cx1, cy1 = min(self.width, math.ceil(x1)), min(self.height, math.ceil(y1))
        if cx1 <= cx0 or cy1 <= cy0:
            return None
        return cx0, cy0, cx1, cy1

    def visitor_visible(self, t: float, min_size: int = 4) -> bool:
        """True when at least `min_size` x `min_size` pixels of the visitor's box are in view.

        A sliver of a pixel or two at the frame edge is not a visitor yet.
        """
        box = self.visitor_bbox(t)
        return box is not None and box[2] - box[0] >= min_size and box[3] - box[1] >= min_size

    # ---- animation ----------------------------------------------------------------------
    def _pose(self, t: float) -> Pose | None:
        p = self.phases
        tau = t % self.loop_seconds
        walk_in_end = p.empty_before + p.walk_in
        press_end = walk_in_end + p.press
        leave_start = press_end + p.wait
        leave_end = leave_start + p.leave
        stride = 2 * math.pi * 1.8  # leg swing, radians per second
        if tau < p.empty_before or tau >= leave_end:
            return None
        if tau < walk_in_end:
            k = (tau - p.empty_before) / p.walk_in
            x = self._x_off + (self._x_stand - self._x_off) * ease(k)
            return Pose(x, stride * tau, True, 0.0)
        if tau < press_end:
            k = (tau - walk_in_end) / p.press  # reach up, touch at 0.5, come back
            return Pose(self._x_stand, 0.0, False, min(1.0, 4.0 * min(k, 1.0 - k)))
        if tau < leave_start:
            sway = self._sway * self.person_height * math.sin(2 * math.pi * 0.4 * (tau - press_end))
            return Pose(self._x_stand + sway, 0.0, False, 0.0)
        k = (tau - leave_start) / p.leave
        x = self._x_stand + (self._x_off - self._x_stand) * ease(k)
        return Pose(x, stride * tau, True, 0.0)

    def _person_extent(self, pose: Pose) -> tuple[float, float, float, float]:
        """Bounding box of exactly the shapes `_draw_person` draws."""
        boxes = [shape.extent() for shape in self._person_shapes(pose)]
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )

    def _hand(self, pose: Pose) -> tuple[float, float]:
        ph = self.person_height
        rest = (pose.x + 0.16 * ph, self._feet_y - 0.45 * ph)
        k = pose.arm_reach
        return rest[0] + (self.button[0] - rest[0]) * k, rest[1] + (self.button[1] - rest[1]) * k

    def _person_shapes(self, pose: Pose) -> list[Shape]:
        ph, x, feet = self.person_height, pose.x, self._feet_y
        hip_y, shoulder_y = feet - 0.48 * ph, feet - 0.80 * ph
        swing = math.sin(pose.walk_phase) * 0.35 if pose.walking else 0.0
        leg_len = 0.47 * ph
        trousers, shoe, shirt = (60, 45, 40), (25, 25, 30), (50, 60, 170)
        skin, hair = (120, 160, 215), (30, 35, 45)
        shapes: list[Shape] = []
        for sign in (1.0, -1.0):  # two legs, swinging in opposition
            hip = (x + sign * 0.05 * ph, hip_y)
            foot = (hip[0] + math.sin(sign * swing) * leg_len, hip_y + math.cos(swing) * leg_len)
            shapes.append(Shape("line", (*hip, *foot), 0.09 * ph, trousers))
            shapes.append(
                Shape("ellipse", (foot[0] + 0.03 * ph, foot[1], 0.06 * ph, 0.025 * ph), 0, shoe)
            )
        mid_y = (hip_y + shoulder_y) / 2
        shapes.append(Shape("ellipse", (x, mid_y, 0.14 * ph, 0.19 * ph), 0, shirt))
        shapes.append(
            Shape(
                "rect",
                (x - 0.13 * ph, hip_y - 0.1 * ph, x + 0.13 * ph, hip_y + 0.02 * ph),
                0,
                trousers,
            )
        )
        # Left arm hangs (swinging while walking); the right one reaches for the button.
        back_hand = (x - 0.14 * ph - swing * 0.25 * ph, feet - 0.45 * ph)
        shoulder_l, shoulder_r = (
            (x - 0.12 * ph, shoulder_y + 0.03 * ph),
            (x + 0.12 * ph, shoulder_y + 0.03 * ph),
        )
        shapes.append(Shape("line", (*shoulder_l, *back_hand), 0.06 * ph, shirt))
        hand = self._hand(pose)
        shapes.append(Shape("line", (*shoulder_r, *hand), 0.06 * ph, shirt))
        shapes.append(Shape("circle", (*hand, 0.03 * ph), 0, skin))
        shapes.append(
            Shape(
                "rect",
                (x - 0.035 * ph, shoulder_y - 0.06 * ph, x + 0.035 * ph, shoulder_y),
                0,
                skin,
            )
        )
        head_y = feet - 0.91 * ph
        shapes.append(Shape("circle", (x, head_y, 0.075 * ph), 0, skin))
        shapes.append(Shape("ellipse", (x, head_y - 0.035 * ph, 0.078 * ph, 0.045 * ph), 0, hair))
        return shapes

    def _draw_person(self, planes: Planes, pose: Pose) -> None:
        for shape in self._person_shapes(pose):
            shape.draw(planes)

    # ---- rendering ----------------------------------------------------------------------
    def _render_background(self) -> NDArray[np.uint8]:
        w, h = self.width, self.height
        img = np.empty((h, w, 3), np.uint8)
        img[:] = (165, 190, 205)  # painted siding
        floor_y = int(0.78 * h)
        for row in range(int(0.03 * h), floor_y, max(4, int(0.045 * h))):  # siding boards
            cv2.line(img, (0, row), (w, row), (140, 165, 180), max(1, h // 360))
        # Window with a blue sky reflection on the left.
        cv2.rectangle(img, (int(0.06 * w), int(0.18 * h)), (int(0.24 * w), int(0.52 * h)),
                      (235, 235, 235), -1)  # fmt: skip
        cv2.rectangle(img, (int(0.075 * w), int(0.205 * h)), (int(0.225 * w), int(0.495 * h)),
                      (190, 150, 110), -1)  # fmt: skip
        cv2.line(img, (int(0.15 * w), int(0.2 * h)), (int(0.15 * w), int(0.5 * h)),
                 (235, 235, 235), max(2, w // 200))  # fmt: skip
        # Porch floor with boards, and the door step.
        img[floor_y:] = (105, 110, 118)
        for col in range(0, w, max(8, int(0.07 * w))):
            cv2.line(img, (col, floor_y), (col - int(0.1 * w), h), (90, 94, 100), 1)
        cv2.rectangle(img, (int(0.35 * w), int(0.78 * h)), (int(0.67 * w), int(0.86 * h)),
                      (170, 172, 175), -1)  # fmt: skip
        # Door: white trim, brown leaf with four panels, brass knob.
        dx0, dx1, dy0, dy1 = int(0.40 * w), int(0.62 * w), int(0.10 * h), int(0.78 * h)
        cv2.rectangle(
            img, (dx0 - w // 90, dy0 - h // 60), (dx1 + w // 90, dy1), (235, 238, 240), -1
        )
        cv2.rectangle(img, (dx0, dy0), (dx1, dy1), (45, 75, 125), -1)
        pw, ph_ = (dx1 - dx0) // 2, (dy1 - dy0) // 2
        for i in range(2):
            for j in range(2):
                x0 = dx0 + i * pw + pw // 6
                y0 = dy0 + j * ph_ + ph_ // 10
                cv2.rectangle(
                    img, (x0, y0), (x0 + pw * 2 // 3, y0 + ph_ * 4 // 5), (35, 60, 105), -1
                )
        cv2.circle(img, (int(0.595 * w), int(0.47 * h)), max(2, w // 110), (60, 170, 215), -1)
        # Doorbell: dark plate, lit button; a lamp above it.
        bx, by = int(self.button[0]), int(self.button[1])
        cv2.rectangle(img, (bx - w // 110, by - h // 30), (bx + w // 110, by + h // 30),
                      (50, 50, 55), -1)  # fmt: skip
        cv2.circle(img, (bx, by), max(2, w // 220), (200, 230, 255), -1)
        cv2.rectangle(img, (int(0.68 * w), int(0.22 * h)), (int(0.70 * w), int(0.30 * h)),
                      (120, 210, 240), -1)  # fmt: skip
        # Potted plant left of the door.
        px = int(0.29 * w)
        for k, (ox, oy, ax, ay) in enumerate(
            [
                (-0.03, -0.20, 0.025, 0.09),
                (0.03, -0.21, 0.025, 0.09),
                (0.0, -0.27, 0.022, 0.1),
                (-0.05, -0.15, 0.03, 0.05),
                (0.05, -0.15, 0.03, 0.05),
            ]
        ):
            colour = (40, 120 + 15 * (k % 3), 45)
            cv2.ellipse(img, (px + int(ox * w), int((0.78 + oy) * h)), (int(ax * w), int(ay * h)),
                        10 * (k - 2), 0, 360, colour, -1)  # fmt: skip
        top, bottom = int(0.67 * h), int(0.80 * h)
        pot = np.array([[px - w // 28, top], [px + w // 28, top],
                        [px + w // 40, bottom], [px - w // 40, bottom]], np.int32)  # fmt: skip
        cv2.fillPoly(img, [pot], (50, 90, 170))
        img = as_u8(cv2.GaussianBlur(img, (3, 3), 0))  # soften aliasing like a real lens
        return as_u8(cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420))

    def _lighting_lut(self, t: float) -> NDArray[np.uint8]:
        # Two slow incommensurate waves: clouds passing, never repeating with the loop.
        gain = 1.0 + self._drift * (0.7 * math.sin(t / 23.0) + 0.3 * math.sin(t / 7.3 + 1.0))
        lut = np.clip(np.rint(np.arange(256, dtype=np.float32) * gain), 0, 255)
        return as_u8(lut.astype(np.uint8))

    def render(self, t: float, index: int | None = None) -> NDArray[np.uint8]:
        """The I420 frame at scene time `t` seconds; `index` picks the noise (default t*fps)."""
        n = round(t * self.fps) if index is None else index
        buf = self._bg.copy()
        pose = self._pose(t)
        if pose is not None:
            self._draw_person(Planes(buf, self.width, self.height), pose)
        y = buf[: self.height]
        cv2.LUT(y, self._lighting_lut(t), dst=y)
        bank = n % len(self._noise_pos)
        off = (n * 37) % self._noise_rows
        rows = slice(off, off + self.height)
        cv2.add(y, self._noise_pos[bank][rows], dst=y)
        cv2.subtract(y, self._noise_neg[bank][rows], dst=y)
        return buf
