"""Motion ground-truth sequences (CDnet layout) and the scores we judge detectors by.

Shared by `benchmarks/motion.py` and `tests/addon/test_motion_quality.py` so the
benchmark and the quality test measure the same thing.

Layout of each sequence: input/inNNNNNN.jpg, groundtruth/gtNNNNNN.png, ROI.bmp,
temporalROI.txt ("first last" scored frames). Ground-truth values: 255 motion,
0 static and 50 shadow count as no motion, 85 and 170 are not scored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import time
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

GT_MOTION = 255
GT_IGNORED = (85, 170)
FRAME_MOTION_SHARE = 0.005
"""A ground-truth frame has motion when at least this share of its ROI pixels is 255."""
ONSET_QUIET_FRAMES = 5
"""An onset counts when motion follows at least this many frames without it."""


MANIFESTS = ("manifest.json", "manifest-added.json")
"""Sequence lists in the data root; later ones add sequences (absent ones are skipped)."""


def data_root() -> Path | None:
    """`PORCHLIGHT_SHARED_DATA`, else `../shared/data` next to the repository; None if absent."""
    env = os.environ.get("PORCHLIGHT_SHARED_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    return root.resolve() if (root / "manifest.json").is_file() else None


@dataclass(slots=True)
class Sequence:
    name: str
    path: Path
    first: int
    last: int
    scored: tuple[int, int]
    size: tuple[int, int]
    subset: str
    roi: NDArray[np.bool_] = field(repr=False)

    def frame_path(self, n: int) -> Path:
        return self.path / "input" / f"in{n:06d}.jpg"

    def gt_path(self, n: int) -> Path:
        return self.path / "groundtruth" / f"gt{n:06d}.png"

    def frames(self, limit: int | None = None) -> Iterator[tuple[int, NDArray[np.uint8]]]:
        """(number, BGR image) for every frame from the first, warm-up included."""
        last = self.last if limit is None else min(self.last, self.scored[0] + limit - 1)
        for n in range(self.first, last + 1):
            img = cv2.imread(str(self.frame_path(n)), cv2.IMREAD_COLOR)
            if img is None:
                raise FileNotFoundError(self.frame_path(n))
            yield n, np.asarray(img, np.uint8)


def load_sequences(root: Path, subset: str | None = None) -> list[Sequence]:
    """Every sequence listed in the data root's `MANIFESTS`, in manifest order."""
    manifest: dict[str, dict[str, object]] = {}
    for name in MANIFESTS:
        if (root / name).is_file():
            manifest.update(json.loads((root / name).read_text()))
    out = []
    for name, info in manifest.items():
        if subset is not None and info.get("set") != subset:
            continue
        path = root / name
        roi = cv2.imread(str(path / "ROI.bmp"), cv2.IMREAD_GRAYSCALE)
        if roi is None:
            raise FileNotFoundError(path / "ROI.bmp")
        first_scored, last_scored = (int(v) for v in (path / "temporalROI.txt").read_text().split())
        size = info["size"]
        assert isinstance(size, list)
        out.append(
            Sequence(
                name=name,
                path=path,
                first=int(str(info["first"])),
                last=int(str(info["last"])),
                scored=(first_scored, last_scored),
                size=(int(size[0]), int(size[1])),
                subset=str(info.get("set", "")),
                roi=np.asarray(roi) > 0,
            )
        )
    return out


@dataclass(slots=True)
class Scores:
    """Accumulates one detector's output on one sequence."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    frame_truth: list[bool] = field(default_factory=list)
    frame_pred: list[bool] = field(default_factory=list)
    times_ms: list[float] = field(default_factory=list)
    """Wall time of each detector call (frame conversion included), when timed."""

    def add(self, gt: NDArray[np.uint8], roi: NDArray[np.bool_], mask: NDArray[np.uint8]) -> None:
        """Score one frame: `mask` (any size, non-zero = motion) against ground truth `gt`."""
        h, w = gt.shape
        if mask.shape != gt.shape:
            mask = np.asarray(cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST), np.uint8)
        valid = roi & (gt != GT_IGNORED[0]) & (gt != GT_IGNORED[1])
        truth = valid & (gt == GT_MOTION)
        pred = valid & (mask > 0)
        tp = int(np.count_nonzero(truth & pred))
        self.tp += tp
        self.fp += int(np.count_nonzero(pred)) - tp
        self.fn += int(np.count_nonzero(truth)) - tp
        roi_area = max(1, int(np.count_nonzero(roi)))
        self.frame_truth.append(bool(np.count_nonzero(truth) >= FRAME_MOTION_SHARE * roi_area))

    def add_decision(self, positive: bool) -> None:
        self.frame_pred.append(positive)

    @property
    def pixel_f1(self) -> float:
        return f1(self.tp, self.fp, self.fn)

    @property
    def precision(self) -> float:
        """Share of reported motion pixels that are motion (1.0 when none were reported)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of motion pixels reported (1.0 when there were none)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def frame_f1(self) -> float:
        t = np.array(self.frame_truth)
        p = np.array(self.frame_pred)
        tp = int(np.count_nonzero(t & p))
        return f1(tp, int(np.count_nonzero(p)) - tp, int(np.count_nonzero(t)) - tp)

    def onset_delays(self, quiet: int = ONSET_QUIET_FRAMES) -> list[int | None]:
        return onset_delays(self.frame_truth, self.frame_pred, quiet)


def f1(tp: int, fp: int, fn: int) -> float:
    # Nothing to find and nothing reported is a perfect answer.
    if tp + fp + fn == 0:
        return 1.0
    return 2 * tp / (2 * tp + fp + fn)


def onset_delays(truth: list[bool], pred: list[bool], quiet: int) -> list[int | None]:
    """For each truth onset after >= `quiet` empty frames: frames until `pred` fires
    (0 = same frame), or None when it never fires before the motion ends."""
    out: list[int | None] = []
    n = len(truth)
    for i in range(quiet, n):
        if not truth[i] or any(truth[i - quiet : i]):
            continue
        delay: int | None = None
        j = i
        while j < n and truth[j]:
            if pred[j]:
                delay = j - i
                break
            j += 1
        out.append(delay)
    return out


type Detector = Callable[[NDArray[np.uint8], float], tuple[NDArray[np.uint8], bool]]
"""Takes a BGR frame and its pts, returns (motion mask at any size, frame has motion)."""


def run_sequence(
    seq: Sequence, detector: Detector, fps: float = 25.0, limit: int | None = None
) -> Scores:
    """Feed every frame (warm-up too) to `detector`; score the frames in the temporal ROI."""
    return run_side_by_side(seq, [lambda: detector], fps, limit)[0]


def run_side_by_side(
    seq: Sequence,
    makers: list[Callable[[], Detector]],
    fps: float = 25.0,
    limit: int | None = None,
    min_timed: int = 0,
) -> list[Scores]:
    """Run fresh detectors from `makers` over the same frames, interleaved per frame.

    Each frame goes to every detector in turn (the order rotates per frame so none
    always runs on a warm cache), timed with `time.perf_counter`. Scores cover the
    first pass; when a sequence has fewer than `min_timed` frames, further passes
    with fresh detectors only add timings (for stable medians on short sequences).
    """
    frames = list(seq.frames(limit))
    scores = [Scores() for _ in makers]
    passes = 1 + max(0, -(-min_timed // max(1, len(frames))) - 1)
    for run in range(passes):
        detectors = [make() for make in makers]
        for i, (n, img) in enumerate(frames):
            pts = (n - seq.first) / fps
            outs: list[tuple[NDArray[np.uint8], bool]] = [(img[:0, :0, 0], False)] * len(makers)
            for k in range(len(makers)):
                d = (i + k) % len(makers)
                t0 = time.perf_counter()
                outs[d] = detectors[d](img, pts)
                scores[d].times_ms.append((time.perf_counter() - t0) * 1000.0)
            if run or n < seq.scored[0] or n > seq.scored[1]:
                continue
            gt = cv2.imread(str(seq.gt_path(n)), cv2.IMREAD_GRAYSCALE)
            if gt is None:
                raise FileNotFoundError(seq.gt_path(n))
            for sc, (mask, positive) in zip(scores, outs, strict=True):
                sc.add(np.asarray(gt, np.uint8), seq.roi, mask)
                sc.add_decision(positive)
    return scores
