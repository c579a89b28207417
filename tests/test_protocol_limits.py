"""One table of limits (protocol.LIMITS): config.yaml's schema, the add-on's checks, the
number entities and the action schemas all state the same ranges."""

from __future__ import annotations

from pathlib import Path
import re
from typing import Any

import pytest
import yaml

from custom_components.porchlight.number import DESCRIPTIONS
from custom_components.porchlight.services import RECORD_CLIP_SCHEMA
from porchlight_edge.api.schemas import validate_args
from porchlight_edge.config import RANGES
from porchlight_edge.protocol import LIMITS, Command, ProtocolError, Setting
from porchlight_edge.recorder.recorder import RecorderSettings
from porchlight_edge.settings import CameraSettings

ROOT = Path(__file__).parent.parent
OPTIONS = (Setting.THRESHOLD, Setting.MIN_AREA, Setting.PRE_ROLL, Setting.POST_ROLL)
RANGE_RE = re.compile(r"^(?P<kind>int|float)\((?P<low>[\d.]+),(?P<high>[\d.]+)\)\??$")


def _camera_schema() -> dict[str, Any]:
    schema = yaml.safe_load((ROOT / "addon" / "config.yaml").read_text())["schema"]
    cameras: list[dict[str, Any]] = schema["cameras"]
    return cameras[0]


@pytest.mark.parametrize("setting", OPTIONS)
def test_config_yaml_states_the_protocol_limits(setting: Setting) -> None:
    section, key = setting.value.split(".")
    match = RANGE_RE.match(_camera_schema()[section][key])
    assert match, _camera_schema()[section][key]
    limit = LIMITS[setting]
    assert (float(match["low"]), float(match["high"])) == limit.range
    assert (match["kind"] == "int") == limit.integer
    assert RANGES[setting.value] == limit.range


@pytest.mark.parametrize("setting", OPTIONS)
def test_number_entities_offer_the_protocol_limits(setting: Setting) -> None:
    key = {"motion.threshold": "motion_threshold", "motion.min_area": "motion_min_area"}.get(
        setting.value, setting.value.split(".")[1]
    )
    description = next(d for d in DESCRIPTIONS if d.key == key)
    limit = LIMITS[setting]
    assert (description.native_min_value, description.native_max_value) == limit.range
    assert description.native_step == limit.step


def test_record_clip_action_and_services_yaml_state_the_protocol_limit() -> None:
    limit = LIMITS[Setting.RECORD_SECONDS]
    RECORD_CLIP_SCHEMA({"seconds": limit.high})
    for outside in (limit.low - 1, limit.high + 1):
        with pytest.raises(Exception, match="value must be"):
            RECORD_CLIP_SCHEMA({"seconds": outside})
    services = yaml.safe_load(
        (ROOT / "custom_components" / "porchlight" / "services.yaml").read_text()
    )
    selector = services["record_clip"]["fields"]["seconds"]["selector"]["number"]
    assert (selector["min"], selector["max"]) == limit.range


@pytest.mark.parametrize(
    ("setting", "command", "arg"),
    [
        (Setting.THRESHOLD, Command.SET_MOTION_SETTINGS, "threshold"),
        (Setting.MIN_AREA, Command.SET_MOTION_SETTINGS, "min_area"),
        (Setting.PRE_ROLL, Command.SET_RECORDING_SETTINGS, "pre_roll"),
        (Setting.POST_ROLL, Command.SET_RECORDING_SETTINGS, "post_roll"),
        (Setting.RECORD_SECONDS, Command.RECORD_CLIP, "seconds"),
    ],
)
def test_add_on_commands_accept_exactly_the_protocol_limits(
    setting: Setting, command: Command, arg: str
) -> None:
    limit = LIMITS[setting]
    for inside in limit.range:
        validate_args(command, {arg: int(inside) if limit.integer else inside})
    for outside in (limit.low - 1, limit.high + 1):
        with pytest.raises(ProtocolError):
            validate_args(command, {arg: int(outside) if limit.integer else outside})


def test_settings_and_recorder_accept_exactly_the_protocol_limits() -> None:
    post = LIMITS[Setting.POST_ROLL]
    pre = LIMITS[Setting.PRE_ROLL]
    # The recorder's post-roll also ends record_clip's clips: the same limit serves both.
    assert LIMITS[Setting.RECORD_SECONDS].range == post.range
    RecorderSettings(preroll=pre.high, postroll=post.high)
    RecorderSettings(preroll=pre.low, postroll=post.low)
    for bad in (
        {"postroll": post.high + 1},
        {"postroll": post.low - 0.5},
        {"preroll": pre.high + 1},
    ):
        with pytest.raises(ValueError, match="roll must be"):
            RecorderSettings(**bad)  # type: ignore[arg-type]
    CameraSettings(pre_roll=pre.high, post_roll=post.high).check()
    with pytest.raises(ValueError, match="post_roll"):
        CameraSettings(post_roll=post.high + 1).check()
