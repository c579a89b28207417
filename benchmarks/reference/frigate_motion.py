"""A Frigate-style motion detector, written from Frigate's published algorithm.

Used only as a yardstick in benchmarks and quality tests:
Y plane resized (INTER_NEAREST) to 100 rows, contrast stretched between the 4th
and 96th percentiles averaged over 50 frames, Gaussian blur (sigma 1), absdiff
against an `accumulateWeighted` background (alpha 0.01, 0.2 while calibrating),
threshold 30, one dilation, external contours with area > 10, and a full
recalibration when more than 80 % of the picture changed ("lightning").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

Box = tuple[int, int, int, int]


@dataclass(slots=True)
class ReferenceResult:
    mask: NDArray[np.uint8]
    """Thresholded + dilated difference at the detector's resolution (255 = motion)."""
    filled: NDArray[np.uint8]
    """The kept contours filled: what Frigate's boxes cover at pixel level."""
    boxes: list[Box]
    """Pixel boxes (x, y, w, h) at the detector's resolution."""


class FrigateStyleMotion:
    def __init__(
        self,
        frame_height: int = 100,
        threshold: int = 30,
        contour_area: int = 10,
        frame_alpha: float = 0.01,
        lightning_threshold: float = 0.8,
        improve_contrast: bool = True,
    ) -> None:
        self.frame_height = frame_height
        self.threshold = threshold
        self.contour_area = contour_area
        self.frame_alpha = frame_alpha
        self.lightning_threshold = lightning_threshold
        self.improve_contrast = improve_contrast
        self.avg: NDArray[np.float32] | None = None
        self.calibrating = True
        self.contrast_values = np.zeros((50, 2), np.uint8)
        self.contrast_values[:, 1:2] = 255
        self.contrast_index = 0
        self._kernel = None

    def process(self, y_plane: NDArray[np.uint8]) -> ReferenceResult:
        h, w = y_plane.shape
        width = max(1, round(w * self.frame_height / h))
        small = cv2.resize(y_plane, (width, self.frame_height), interpolation=cv2.INTER_NEAREST)

        if self.improve_contrast:
            lo = np.percentile(small, 4).astype(np.uint8)
            hi = np.percentile(small, 96).astype(np.uint8)
            if lo < hi:
                if self.avg is None:
                    # Frigate starts the history at (0, 255), which washes whole frames into
                    # motion for its first ~100 frames; seed it from the first frame instead
                    # so the yardstick is not handicapped by a start-up artefact.
                    self.contrast_values[:] = [lo, hi]
                self.contrast_values[self.contrast_index] = [lo, hi]
                self.contrast_index = (self.contrast_index + 1) % len(self.contrast_values)
                avg_min, avg_max = np.mean(self.contrast_values, axis=0)
                stretched = np.clip(small, avg_min, avg_max)
                small = (((stretched - avg_min) / (avg_max - avg_min)) * 255).astype(np.uint8)

        gray = cv2.GaussianBlur(small, (3, 3), 1.0)
        if self.avg is None:
            self.avg = gray.astype(np.float32)
        frame_delta = cv2.absdiff(gray, cv2.convertScaleAbs(self.avg))
        thresh = cv2.threshold(frame_delta, self.threshold, 255, cv2.THRESH_BINARY)[1]
        thresh_dilated = cv2.dilate(thresh, np.ones((3, 3), np.uint8), iterations=1)
        contours, _ = cv2.findContours(thresh_dilated, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)

        boxes: list[Box] = []
        kept = []
        for c in contours:
            if cv2.contourArea(c) > self.contour_area:
                kept.append(c)
                x, y, bw, bh = cv2.boundingRect(c)
                boxes.append((int(x), int(y), int(bw), int(bh)))
        filled = np.zeros_like(thresh_dilated)
        if kept:
            cv2.drawContours(filled, kept, -1, 255, cv2.FILLED)

        # Frigate measures the changed share from the kept contours' areas.
        area = sum(cv2.contourArea(c) for c in kept)
        pct_motion = area / thresh_dilated.size
        # Calibrated once little moves; recalibrate when too much changed at once
        # (lightning, IR switch, PTZ move): the weakness our engine avoids.
        if pct_motion < 0.05 and len(boxes) <= 4:
            self.calibrating = False
        if self.calibrating or pct_motion > self.lightning_threshold:
            self.calibrating = True
            boxes = []
            filled[:] = 0
            thresh_dilated = np.zeros_like(thresh_dilated)
        alpha = 0.2 if self.calibrating else self.frame_alpha
        cv2.accumulateWeighted(gray, self.avg, alpha)
        return ReferenceResult(
            np.asarray(thresh_dilated, np.uint8), np.asarray(filled, np.uint8), boxes
        )
