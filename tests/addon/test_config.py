"""Service options: defaults, strict types and clear messages."""

from pathlib import Path

import numpy as np
import pytest

from porchlight_edge.capture.frame import Frame
from porchlight_edge.config import ConfigError, load_options_file, parse_options
from porchlight_edge.privacy import PrivacyMasker
from porchlight_edge.recorder.codecs import HevcRecording


def test_defaults_give_one_demo_camera(tmp_path: Path) -> None:
    options = parse_options({}, tmp_path)
    assert options.port == 8765
    assert [c.name for c in options.cameras] == ["front_door"]
    assert options.cameras[0].capture.source == "demo"
    assert options.cameras[0].title == "Front Door"


def test_motion_options_parsed(tmp_path: Path) -> None:
    options = parse_options(
        {
            "cameras": [
                {
                    "name": "porch",
                    "source": "demo",
                    "motion": {
                        "threshold": 30,
                        "min_area": 1,
                        "still_hold": 60,
                        "zones": [{"name": "path", "polygon": [[0, 0], [1, 0], [1, 1]]}],
                        "masks": [[[0, 0], [0.2, 0], [0.2, 0.2]]],
                    },
                }
            ]
        },
        tmp_path,
    )
    motion = options.cameras[0].motion
    assert motion.threshold == 30
    assert motion.min_area_pct == 1.0
    assert motion.still_hold_seconds == 60.0
    assert motion.zones[0].name == "path"
    assert len(motion.masks) == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"port": "80"}, "options.port: expected int"),
        ({"port": 70000}, "options.port: must be 0-65535"),
        ({"colour": "red"}, "unknown option(s) colour"),
        ({"cameras": []}, "at least one camera"),
        ({"cameras": [{"name": "Front Door", "source": "demo"}]}, "cameras[0].name"),
        (
            {"cameras": [{"name": "a", "source": "demo"}, {"name": "a", "source": "demo"}]},
            "unique",
        ),
        ({"cameras": [{"name": "a", "motion": {"threshold": True}}]}, "expected an integer"),
        ({"cameras": [{"name": "a", "motion": {"threshold": 0}}]}, "threshold: must be 1-255"),
        ({"cameras": [{"name": "a", "motion": {"zones": [[[0, 0], [2, 0], [1, 1]]]}}]}, "zone"),
        (
            {"cameras": [{"name": "a", "motion": {"still_hold": 0}}]},
            "motion.still_hold: must be 1-86400",
        ),
        ({"log_level": "loud"}, "options.log_level"),
        ({"name": "  "}, "options.name: 1-48 printable characters"),
        ({"name": "x" * 49}, "options.name: 1-48 printable characters"),
        ({"name": "Front\ndoor"}, "options.name: 1-48 printable characters"),
        ({"button": {"line": 400000}}, "button.line"),
        ({"button": {"camera": "garage"}}, "options.button.camera: no camera named 'garage'"),
        ({"button": {"pin": 4}}, "options.button: unknown option(s) pin"),
        (
            {"cameras": [{"name": "a", "source": "rtsp", "url": "concat:/a|/b"}]},
            "cameras[0]: camera a",
        ),
    ],
)
def test_bad_options_are_named(tmp_path: Path, raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_options(raw, tmp_path)
    assert message in str(err.value)


def test_options_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "options.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read"):
        load_options_file(bad, tmp_path)
    bad.write_text("[1]")
    with pytest.raises(ConfigError, match="expected a JSON object"):
        load_options_file(bad, tmp_path)


def test_button_defaults_to_first_camera(tmp_path: Path) -> None:
    options = parse_options({"button": {"line": 27, "debounce_ms": 30}}, tmp_path)
    assert options.button is not None
    assert (options.button.line, options.button.debounce_ms) == (27, 30)
    assert options.button.camera == "front_door"


def test_privacy_masks_also_hide_motion(tmp_path: Path) -> None:
    street = [[0, 0], [1, 0], [1, 0.3]]
    options = parse_options(
        {
            "cameras": [
                {
                    "name": "porch",
                    "source": "demo",
                    "privacy_masks": [street],
                    "motion": {"masks": [[[0, 0.9], [0.1, 0.9], [0.1, 1]]]},
                    "recording": {"pre_roll": 8, "post_roll": 20},
                }
            ]
        },
        tmp_path,
    )
    camera = options.cameras[0]
    assert camera.privacy_masks == (((0.0, 0.0), (1.0, 0.0), (1.0, 0.3)),)
    assert len(camera.motion.masks) == 2
    assert camera.motion.masks[-1] == camera.privacy_masks[0]
    assert (camera.defaults.pre_roll, camera.defaults.post_roll) == (8.0, 20.0)
    assert camera.hevc is HevcRecording.PASSTHROUGH  # the default


@pytest.mark.parametrize("mode", list(HevcRecording))
def test_hevc_option_is_parsed(tmp_path: Path, mode: HevcRecording) -> None:
    raw = {"cameras": [{"name": "a", "source": "demo", "recording": {"hevc": str(mode)}}]}
    assert parse_options(raw, tmp_path).cameras[0].hevc is mode


@pytest.mark.parametrize(
    ("recording", "message"),
    [
        ({"pre_roll": 31}, "pre_roll"),
        ({"post_roll": 0}, "post_roll"),
        ({"length": 3}, r"unknown option\(s\) length"),
        ({"hevc": "h264"}, r"recording.hevc: expected 'passthrough' or 'convert'"),
        ({"hevc": True}, r"recording.hevc: expected str"),
    ],
)
def test_bad_recording_options(tmp_path: Path, recording: dict[str, object], message: str) -> None:
    raw = {"cameras": [{"name": "a", "source": "demo", "recording": recording}]}
    with pytest.raises(ConfigError, match=message):
        parse_options(raw, tmp_path)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"token": "x"}, "options.token: 16-256"),
        ({"token": "fifteen-chars-x"}, "options.token: 16-256"),
        ({"token": "sixteen chars ok"}, "without spaces"),
        ({"token": "sixteen-chars-\u00e9\u00e9"}, "visible ASCII"),
        ({"host": "0.0.0.0 evil"}, "options.host"),
        ({"media_dir": "relative/clips"}, "options.media_dir"),
        ({"button": {"chip": "/dev/gpiochip0/../../sda"}}, "options.button.chip"),
        ({"cameras": [{"name": "a", "source": "demo", "stall_seconds": 1e-9}]}, "stall_seconds"),
        ({"cameras": [{"name": "a", "source": "demo", "read_timeout": float("nan")}]}, "read_t"),
        ({"cameras": [{"name": "a", "source": "demo", "fps": float("inf")}]}, "fps"),
        ({"cameras": [{"name": "a", "title": 5}]}, "cameras[0].title: expected str"),
        ({"cameras": [{"name": "a", "title": "x" * 65}]}, "cameras[0].title"),
        ({"cameras": [{"name": "a", "source": "demo", "demo": {"width": 10**9}}]}, "demo.width"),
        (
            {"cameras": [{"name": "a", "source": "demo", "demo": {"seed": float("nan")}}]},
            "demo.seed",
        ),
        ({"cameras": [{"name": "a", "motion": {"zones": ["a b=0,0 1,0 1,1"]}}]}, "zone name"),
    ],
)
def test_every_option_kind_is_checked(tmp_path: Path, raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_options(raw, tmp_path)
    assert message in str(err.value)


def test_a_long_enough_token_is_kept(tmp_path: Path) -> None:
    assert parse_options({"token": "sixteen-chars-ok"}, tmp_path).token == "sixteen-chars-ok"
    assert parse_options({"token": ""}, tmp_path).token is None  # generate one


def test_a_self_crossing_mask_is_valid_and_burned_in(tmp_path: Path) -> None:
    """A bow tie (`0,0 1,1 1,0 0,1`) has zero signed area but two filled lobes."""
    options = parse_options(
        {"cameras": [{"name": "a", "source": "demo", "privacy_masks": ["0,0 1,1 1,0 0,1"]}]},
        tmp_path,
    )
    masker = PrivacyMasker(options.cameras[0].privacy_masks)
    frame = masker.apply(Frame.from_bgr(np.full((100, 100, 3), 255, np.uint8), 0.0, 0.0))
    assert frame.bgr is not None
    luma = frame.bgr[..., 1]
    assert luma[50, 5] == 0  # left lobe (x 0.05, y 0.5)
    assert luma[50, 94] == 0  # right lobe
    assert luma[5, 50] == 255  # top, between the lobes: visible
    assert luma[94, 50] == 255  # bottom: visible
    assert 0.4 < float((luma == 0).mean()) < 0.6
