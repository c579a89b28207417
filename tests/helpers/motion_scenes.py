"""Synthetic motion scenes whose truth is known exactly: a textured backdrop, camera noise,
and person-sized figures that walk in and stand still (the motion engine and zone tests)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

H, W = 180, 320
"""The scenes' frame size in pixels (height, width)."""
FPS = 10.0
"""The scenes' frame rate: frame i is at i / FPS seconds."""


def scene(seed: int = 0) -> NDArray[np.float32]:
    """A smooth textured backdrop (porch, wall, plants) in the mid-grey range."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(50, 190, (H // 10, W // 10)).astype(np.float32)
    smooth = cv2.resize(coarse, (W, H), interpolation=cv2.INTER_CUBIC)
    return np.asarray(cv2.GaussianBlur(smooth, (0, 0), 2), np.float32)


def shoot(
    img: NDArray[np.float32], rng: np.random.Generator, sigma: float = 2.5
) -> NDArray[np.uint8]:
    """Add sensor noise and quantise like a camera would."""
    return np.clip(img + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


def figure_box(
    i: int, start: int, x0: float = 0.1, speed: float = 0.02
) -> tuple[int, int, int, int]:
    """Pixel box (x, y, w, h) of a person-sized figure walking right from frame `start`."""
    x = int((x0 + speed * (i - start)) * W)
    return x, int(0.3 * H), int(0.08 * W), int(0.6 * H)


def draw(img: NDArray[np.float32], box: tuple[int, int, int, int], level: float = 25.0) -> None:
    """Paint the pixel box (x, y, w, h) of `img` flat at `level` (0-255), in place."""
    x, y, w, h = box
    img[y : y + h, x : x + w] = level


def visitor_frames(
    rng: np.random.Generator, walk: int, wait: int, level: float = 25.0
) -> list[NDArray[np.uint8]]:
    """A figure walks in for `walk` frames, then stands still at the door for `wait`."""
    bg = scene(6)
    frames = [shoot(bg, rng) for _ in range(10)]
    for i in range(walk + wait):
        img = bg.copy()
        draw(img, figure_box(min(i, walk), 0, x0=0.2, speed=0.01), level)
        frames.append(shoot(img, rng))
    return frames
