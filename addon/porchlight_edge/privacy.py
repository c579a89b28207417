"""Privacy masks (blacked out before anything is stored, streamed or sent) and privacy mode.

`PrivacyMasker.apply(frame)` returns a new Frame with the masked areas black and
*without* the camera's compressed packets: those still show what the mask hides,
so a masked frame can only be recorded by re-encoding (the recorder does that
automatically for frames without packets). Masks are rasterised once per
resolution; applying them touches only each mask's bounding box.

`PrivacyState` persists privacy mode (lens off: no capture, no recording) and the
mask polygons per camera in one JSON file in the data folder.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
import logging
import os
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from porchlight_edge.capture.frame import Frame
from porchlight_edge.motion.zones import Polygon, rasterise, validate_polygon

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import Path

    from numpy.typing import NDArray

_LOGGER = logging.getLogger(__name__)
# Limited-range YUV black (what yuv420p H.264 decodes to black); chroma neutral.
Y_BLACK, UV_NEUTRAL = 16, 128


@dataclass(frozen=True, slots=True)
class _Region:
    """One mask's bounding box and the boolean pixels inside it, for one plane."""

    y0: int
    y1: int
    x0: int
    x1: int
    mask: NDArray[np.bool_]


def _regions(mask: NDArray[np.uint8]) -> list[_Region]:
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return []
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    return [_Region(y0, y1, x0, x1, mask[y0:y1, x0:x1] > 0)]


def _fill(plane: NDArray[np.uint8], regions: list[_Region], value: int | tuple[int, ...]) -> None:
    for r in regions:
        plane[r.y0 : r.y1, r.x0 : r.x1][r.mask] = value


class PrivacyMasker:
    """Blacks out polygons (relative 0..1 coordinates) in frames of any size."""

    def __init__(self, polygons: Iterable[Sequence[Sequence[float]]] = ()) -> None:
        self.polygons: tuple[Polygon, ...] = tuple(
            validate_polygon(p, f"privacy mask {i}") for i, p in enumerate(polygons)
        )
        self._cache: dict[tuple[int, int], tuple[list[_Region], list[_Region]]] = {}

    @property
    def active(self) -> bool:
        """True when there is any mask to paint."""
        return bool(self.polygons)

    def _planes(self, width: int, height: int) -> tuple[list[_Region], list[_Region]]:
        key = (width, height)
        cached = self._cache.get(key)
        if cached is None:
            full = rasterise(self.polygons, width, height)
            # A chroma sample is neutralised if any of its 2x2 luma pixels is masked.
            cw, ch = width // 2, height // 2
            quads = full[: ch * 2, : cw * 2].reshape(ch, 2, cw, 2).max(axis=(1, 3))
            cached = (_regions(full), _regions(quads))
            self._cache[key] = cached
        return cached

    def mask(self, width: int, height: int) -> NDArray[np.bool_]:
        """The full-resolution boolean mask (True = hidden), e.g. for tests or overlays."""
        return rasterise(self.polygons, width, height) > 0

    def apply(self, frame: Frame) -> Frame:
        """A masked copy of `frame` (the original is untouched), without its packets."""
        if not self.polygons:
            return frame
        luma, chroma = self._planes(frame.width, frame.height)
        if frame.i420 is not None:
            buf = frame.i420.copy()
            h, w = frame.height, frame.width
            _fill(buf[:h], luma, 0 if frame.full_range else Y_BLACK)
            planes = buf[h:].reshape(2, h // 2, w // 2)
            _fill(planes[0], chroma, UV_NEUTRAL)
            _fill(planes[1], chroma, UV_NEUTRAL)
            return Frame.from_i420(buf, frame.pts, frame.wallclock, full_range=frame.full_range)
        assert frame.bgr is not None
        img = frame.bgr.copy()
        _fill(img, luma, (0, 0, 0))
        return Frame.from_bgr(img, frame.pts, frame.wallclock)


class PrivacyState:
    """Privacy mode and masks, persisted atomically as JSON; listeners hear every change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._listeners: list[Callable[[PrivacyState], None]] = []
        self.enabled = False
        self._masks: dict[str, tuple[Polygon, ...]] = {}
        self._load()

    def _load(self) -> None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as err:
            _LOGGER.warning("ignoring unreadable privacy settings %s: %s", self.path, err)
            return
        self.enabled = bool(raw.get("privacy_mode", False))
        for camera, polys in dict(raw.get("masks", {})).items():
            try:
                self._masks[str(camera)] = tuple(validate_polygon(p) for p in polys)
            except (ValueError, TypeError) as err:
                _LOGGER.warning("ignoring invalid privacy masks for %s: %s", camera, err)

    def _save(self) -> None:
        data: dict[str, Any] = {
            "privacy_mode": self.enabled,
            "masks": {
                cam: [list(map(list, p)) for p in polys] for cam, polys in self._masks.items()
            },
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def subscribe(self, listener: Callable[[PrivacyState], None]) -> None:
        """Call `listener` with the new state after every change (in the changing thread)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        self._save()
        for listener in tuple(self._listeners):
            listener(self)

    def set_enabled(self, enabled: bool) -> bool:
        """Switch privacy mode; returns True if it changed."""
        with self._lock:
            if enabled == self.enabled:
                return False
            self.enabled = enabled
            self._changed()
        return True

    def masks(self, camera: str) -> tuple[Polygon, ...]:
        """A camera's privacy masks (normalised polygons), empty when it has none."""
        return self._masks.get(camera, ())

    def set_masks(self, camera: str, polygons: Iterable[Sequence[Sequence[float]]]) -> None:
        """Replace a camera's masks (validated: ValueError names the bad polygon)."""
        validated = tuple(validate_polygon(p, f"privacy mask {i}") for i, p in enumerate(polygons))
        with self._lock:
            if validated:
                self._masks[camera] = validated
            else:
                self._masks.pop(camera, None)
            self._changed()

    def masker(self, camera: str) -> PrivacyMasker:
        """A masker for a camera's current masks."""
        return PrivacyMasker(self.masks(camera))
