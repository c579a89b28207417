"""`CameraConfig`: one camera as the user configures it, validated on construction."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Final, Literal

from porchlight_edge.capture.urls import validate_device, validate_path, validate_url
from porchlight_edge.protocol import CAMERA_NAME_RE

SourceKind = Literal["demo", "rtsp", "mjpeg", "v4l2", "file", "images"]
SOURCE_KINDS: Final[frozenset[str]] = frozenset({"demo", "rtsp", "mjpeg", "v4l2", "file", "images"})
_URL_KINDS = frozenset({"rtsp", "mjpeg"})
DEFAULT_FPS: Final[dict[str, float]] = {"demo": 12.0, "images": 10.0}
FPS_RANGE: Final = (0.1, 120.0)
TIMEOUT_RANGE: Final = (1.0, 3600.0)
"""stall_seconds, open_timeout, read_timeout: as config.yaml's schema bounds them."""
# `demo` options (development only): each bounded so a typo cannot exhaust memory.
_DEMO_RANGES: Final[dict[str, tuple[float, float, bool]]] = {
    "width": (64, 3840, True),
    "height": (64, 2160, True),
    "seed": (0, 2**32 - 1, True),
    "loop_seconds": (1.0, 3600.0, False),
    "noise_sigma": (0.0, 50.0, False),
    "drift": (0.0, 1.0, False),
    "sway": (0.0, 1.0, False),
}
_DEMO_PHASES: Final = frozenset(
    {"empty_before", "walk_in", "press", "wait", "leave", "empty_after"}
)


def _check_demo(demo: object, where: str) -> None:
    if not isinstance(demo, dict):
        raise ValueError(f"{where}: demo must be a mapping")
    for key, value in demo.items():
        if key == "phases":
            if not isinstance(value, dict) or not set(value) <= _DEMO_PHASES:
                raise ValueError(f"{where}: demo.phases takes {', '.join(sorted(_DEMO_PHASES))}")
            checks = [(f"phases.{k}", v, 0.0, 3600.0, False) for k, v in value.items()]
        elif key == "variant":
            if not isinstance(value, str) or not 1 <= len(value) <= 32:
                raise ValueError(f"{where}: demo.variant must be a variant name")
            continue
        elif key in _DEMO_RANGES:
            checks = [(key, value, *_DEMO_RANGES[key])]
        else:
            raise ValueError(f"{where}: unknown demo option {key!r}")
        for name, v, low, high, integer in checks:
            kind = int if integer else int | float
            if isinstance(v, bool) or not isinstance(v, kind) or not low <= v <= high:
                raise ValueError(f"{where}: demo.{name} must be {low:g}-{high:g}, got {v!r}")


@dataclass(frozen=True, slots=True)
class CameraConfig:
    """One camera. Construct through `from_dict` (validates) or directly (also validates)."""

    name: str
    """1-32 chars of `[a-z0-9_]`: used in ids, URLs and file names."""
    source: SourceKind
    url: str | None = None
    """rtsp(s):// for `rtsp`, http(s):// for `mjpeg`."""
    path: str | None = None
    """Video file for `file`, folder of numbered images for `images`."""
    device: str | None = None
    """`/dev/videoN` for `v4l2`."""
    detect_url: str | None = None
    """Optional low-resolution sub-stream (same kind as `url`) used for motion detection."""
    fps: float | None = None
    """Pacing for `demo` and `images`; files use their own rate unless set."""
    realtime: bool = True
    """`file`/`images`/`demo`: True paces at real time, False runs as fast as possible."""
    loop: bool = False
    """`file`/`images`: start over at the end instead of ending."""
    stall_seconds: float = 5.0
    audio: bool = False
    """`rtsp`/`file`: also take the first audio track (AAC, G.711, Opus) for clips. Off by
    default: recording passers-by's voices is especially intrusive (UK ICO guidance)."""
    rtsp_transport: Literal["tcp", "udp"] = "tcp"
    open_timeout: float = 10.0
    read_timeout: float = 10.0
    demo: dict[str, Any] = field(default_factory=dict)
    """`demo` only: `DemoScene` keyword arguments (loop_seconds, width, height, seed, phases)."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not CAMERA_NAME_RE.match(self.name):
            raise ValueError(
                f"camera name {self.name!r} is invalid: use 1-32 characters of a-z, 0-9 and _"
            )
        if not isinstance(self.source, str) or self.source not in SOURCE_KINDS:
            raise ValueError(
                f"camera {self.name}: source {self.source!r} is not one of "
                f"{', '.join(sorted(SOURCE_KINDS))}"
            )
        where = f"camera {self.name}"
        try:
            self._validate_location()
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
        low, high = FPS_RANGE
        if self.fps is not None and not low <= self.fps <= high:
            raise ValueError(f"{where}: fps must be in [{low:g}, {high:g}], got {self.fps!r}")
        low, high = TIMEOUT_RANGE
        for name in ("stall_seconds", "open_timeout", "read_timeout"):
            value = getattr(self, name)
            # Comparisons are false for NaN: refused like any other value out of range.
            if not isinstance(value, int | float) or not low <= value <= high:
                raise ValueError(
                    f"{where}: {name} must be a number in [{low:g}, {high:g}] s, got {value!r}"
                )
        _check_demo(self.demo, where)
        if self.rtsp_transport not in ("tcp", "udp"):
            raise ValueError(f"{where}: rtsp_transport must be 'tcp' or 'udp'")

    def _validate_location(self) -> None:
        kind = self.source
        given = {k for k in ("url", "path", "device") if getattr(self, k) is not None}
        needed = {"rtsp": "url", "mjpeg": "url", "file": "path", "images": "path"}.get(kind)
        if kind == "v4l2":
            needed = "device"
        if needed is not None and needed not in given:
            raise ValueError(f"source {kind!r} needs '{needed}'")
        extra = given - {needed}
        if extra:
            raise ValueError(f"source {kind!r} does not take {', '.join(sorted(extra))}")
        if kind in _URL_KINDS:
            validate_url(self.url, kind)
        elif kind == "file":
            validate_path(self.path)
        elif kind == "images":
            validate_path(self.path, directory=True)
        elif kind == "v4l2":
            validate_device(self.device)
        if self.detect_url is not None:
            if kind not in _URL_KINDS:
                raise ValueError(f"detect_url is only supported for rtsp and mjpeg, not {kind!r}")
            validate_url(self.detect_url, kind, field="detect_url")

    @property
    def effective_fps(self) -> float | None:
        """Frames per second to ask for: `fps`, else the kind's default (None: the source's)."""
        return self.fps if self.fps is not None else DEFAULT_FPS.get(self.source)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CameraConfig:
        """Build from user config (YAML/JSON options), with clear ValueErrors."""
        if not isinstance(data, dict):
            raise ValueError("camera config must be a mapping")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        label = data.get("name", "?")
        if unknown:
            raise ValueError(f"camera {label}: unknown option(s) {', '.join(unknown)}")
        for key in ("name", "source"):
            if key not in data:
                raise ValueError(f"camera {label}: '{key}' is required")
        kwargs = dict(data)
        for key in ("realtime", "loop", "audio"):
            if key in kwargs and not isinstance(kwargs[key], bool):
                raise ValueError(f"camera {label}: {key} must be true or false")
        for key in ("fps", "stall_seconds", "open_timeout", "read_timeout"):
            value = kwargs.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise ValueError(f"camera {label}: {key} must be a number, got {value!r}")
            if value is not None:
                kwargs[key] = float(value)
        return cls(**kwargs)
