"""The add-on as the Supervisor sees it: config.yaml, its options schema and translations
(the image it builds: tests/addon/test_addon_build.py).

The Supervisor's rules are written down here from its documentation ("Add-on
configuration", developers.home-assistant.io) and its validators
(`supervisor/addons/validate.py`, `supervisor/addons/options.py`): the documented keys
and their types, the schema grammar, and how options are checked against a schema (the
port below follows options.py line by line, including its quirks). The add-on's own
parser then has to accept everything the schema lets through.
"""

from __future__ import annotations

import copy
from dataclasses import fields
import math
from pathlib import Path
import re
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest
import voluptuous as vol
import yaml  # type: ignore[import-untyped]

from porchlight_edge.button import ButtonConfig
from porchlight_edge.capture.config import CameraConfig
from porchlight_edge.config import ConfigError, LiveOptions, ServiceOptions, parse_options
from tests.helpers.addon_files import ADDON, load_addon_yaml
from tests.helpers.fuzzing import edge_values, json_values

# --- The Supervisor's rules ------------------------------------------------------------------

ARCHES = {"armhf", "armv7", "aarch64", "amd64", "i386"}
RE_SLUG = re.compile(r"^[-_.A-Za-z0-9]+$")
RE_WATCHDOG = re.compile(r"^(?:https?|\[PROTO:\w+\]|tcp):\/\/\[HOST\]:(\[PORT:\d+\]|\d+).*$")
RE_PORT_KEY = re.compile(r"^\d{1,5}/(tcp|udp)$")
MAP_TYPES = {
    "homeassistant_config",
    "addon_config",
    "ssl",
    "addons",
    "backup",
    "share",
    "media",
    "all_addon_configs",
    "data",
}
REQUIRED_KEYS: dict[str, type] = {
    "name": str,
    "version": str,
    "slug": str,
    "description": str,
    "arch": list,
}
OPTIONAL_KEYS: dict[str, type | tuple[type, ...]] = {
    "machine": list,
    "url": str,
    "startup": str,
    "webui": str,
    "boot": str,
    "ports": dict,
    "ports_description": dict,
    "host_network": bool,
    "host_ipc": bool,
    "host_dbus": bool,
    "host_pid": bool,
    "host_uts": bool,
    "devices": list,
    "homeassistant": str,
    "hassio_role": str,
    "hassio_api": bool,
    "homeassistant_api": bool,
    "docker_api": bool,
    "privileged": list,
    "full_access": bool,
    "apparmor": (bool, str),
    "map": list,
    "environment": dict,
    "audio": bool,
    "video": bool,
    "gpio": bool,
    "usb": bool,
    "uart": bool,
    "udev": bool,
    "devicetree": bool,
    "kernel_modules": bool,
    "stdin": bool,
    "legacy": bool,
    "options": dict,
    "schema": (dict, bool),
    "image": str,
    "timeout": int,
    "tmpfs": bool,
    "discovery": list,
    "services": list,
    "auth_api": bool,
    "ingress": bool,
    "ingress_port": int,
    "ingress_entry": str,
    "ingress_stream": bool,
    "panel_icon": str,
    "panel_title": str,
    "panel_admin": bool,
    "backup": str,
    "backup_pre": str,
    "backup_post": str,
    "backup_exclude": list,
    "advanced": bool,
    "stage": str,
    "init": bool,
    "watchdog": str,
    "realtime": bool,
    "journald": bool,
    "breaking_versions": list,
    "ulimits": dict,
}
CHOICES = {
    "startup": {"initialize", "system", "services", "application", "once"},
    "boot": {"auto", "manual", "manual_only"},
    "stage": {"stable", "experimental", "deprecated"},
    "backup": {"hot", "cold"},
}

# The option type grammar (options.py RE_SCHEMA_ELEMENT), verbatim.
RE_SCHEMA_ELEMENT = re.compile(
    r"^(?:"
    r"|bool"
    r"|email"
    r"|url"
    r"|port"
    r"|device(?:\((?P<filter>subsystem=[a-z]+)\))?"
    r"|str(?:\((?P<s_min>\d+)?,(?P<s_max>\d+)?\))?"
    r"|password(?:\((?P<p_min>\d+)?,(?P<p_max>\d+)?\))?"
    r"|int(?:\((?P<i_min>\d+)?,(?P<i_max>\d+)?\))?"
    r"|float(?:\((?P<f_min>[\d\.]+)?,(?P<f_max>[\d\.]+)?\))?"
    r"|match\((?P<match>.*)\)"
    r"|list\((?P<list>.+)\)"
    r")\??$"
)
_RANGE_PARTS = ("i_min", "i_max", "f_min", "f_max", "s_min", "s_max", "p_min", "p_max")


class SupervisorOptions:
    """options.py's `AddonOptions`: how the Supervisor checks options against a schema.

    Two departures, both stricter: an unknown key is an error (the Supervisor drops it
    with a warning, which would silently lose a setting), and `device` only checks the
    path looks like a device node (there is no hardware database here).
    """

    def __init__(self, schema: dict[str, Any], secrets: dict[str, str] | None = None) -> None:
        self.schema = schema
        self.secrets = secrets or {}

    def __call__(self, options: dict[str, Any]) -> dict[str, Any]:
        return self._dict(self.schema, options, "root")

    def _element(self, typ: Any, value: Any, key: str) -> Any:
        if isinstance(typ, list):
            if not isinstance(value, list):
                raise vol.Invalid(f"Invalid list for option '{key}'")
            return [self._element(typ[0], item, key) for item in value]
        if isinstance(typ, dict):
            return self._dict(typ, value, key)
        return self._single(typ, value, key)

    def _dict(self, typ: dict[str, Any], value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise vol.Invalid(f"Invalid dict for option '{key}'")
        out = {}
        for c_key, c_value in value.items():
            if c_key not in typ:
                raise vol.Invalid(f"Option '{c_key}' does not exist in the schema ({key})")
            out[c_key] = self._element(typ[c_key], c_value, c_key)
        for missing in set(typ) - set(out):
            miss = typ[missing]
            if isinstance(miss, list) and miss:
                miss = miss[0]
            if not (isinstance(miss, str) and miss.endswith("?")):
                raise vol.Invalid(f"Missing option '{missing}' in {key}")
        return out

    def _single(self, typ: str, value: Any, key: str) -> Any:
        if value is None:
            raise vol.Invalid(f"Missing required option '{key}'")
        if str(value).startswith("!secret "):  # from Home Assistant's secrets.yaml
            value = self.secrets.get(value.partition(" ")[2])
            if value is None:
                raise vol.Invalid(f"Unknown secret in '{key}'")
        match = RE_SCHEMA_ELEMENT.match(typ)
        if not match:
            raise vol.Invalid(f"Unknown type '{typ}'")
        ranges: dict[str, Any] = {
            p[2:]: float(match.group(p)) for p in _RANGE_PARTS if match.group(p)
        }
        # The Supervisor's own code: str(min,max) compares the string with numbers.
        if typ.startswith(("str", "password")):
            return vol.All(str(value), vol.Range(**ranges))(value)
        if typ.startswith("int"):
            return vol.All(vol.Coerce(int), vol.Range(**ranges))(value)
        if typ.startswith("float"):
            return vol.All(vol.Coerce(float), vol.Range(**ranges))(value)
        if typ.startswith("bool"):
            return vol.Boolean()(value)
        if typ.startswith("email"):
            return vol.Email()(value)
        if typ.startswith("url"):
            return vol.Url()(value)
        if typ.startswith("port"):
            return vol.All(vol.Coerce(int), vol.Range(min=1, max=65535))(value)
        if typ.startswith("match"):
            return vol.Match(match.group("match"))(str(value))
        if typ.startswith("list"):
            return vol.In(match.group("list").split("|"))(str(value))
        if typ.startswith("device"):
            return vol.Match(r"^/dev/\S+$")(str(value))
        raise vol.Invalid(f"Fatal error for option '{key}' with type '{typ}'")


def leaves(schema: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """Every (path, type) in a schema; list items are marked with "[]"."""
    if isinstance(schema, dict):
        return [leaf for k, v in schema.items() for leaf in leaves(v, (*path, k))]
    if isinstance(schema, list):
        return leaves(schema[0], (*path, "[]"))
    return [(path, schema)]


# --- Fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    data = load_addon_yaml("config.yaml")
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def schema(config: dict[str, Any]) -> dict[str, Any]:
    result = config["schema"]
    assert isinstance(result, dict)
    return result


@pytest.fixture(scope="module")
def supervisor(schema: dict[str, Any]) -> SupervisorOptions:
    return SupervisorOptions(schema)


# --- config.yaml ------------------------------------------------------------------------------


def test_config_keys_are_documented(config: dict[str, Any]) -> None:
    for key, required in REQUIRED_KEYS.items():
        assert isinstance(config.get(key), required), f"{key} is required: {required}"
    unknown = set(config) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS)
    assert not unknown, f"not a Supervisor add-on key: {unknown}"
    for key, value in config.items():
        kind: type | tuple[type, ...] = REQUIRED_KEYS.get(key) or OPTIONAL_KEYS[key]
        assert isinstance(value, kind), f"{key}: {value!r} is not {kind}"
        if key in CHOICES:
            assert value in CHOICES[key], f"{key}: {value!r} not in {CHOICES[key]}"


def test_config_values(config: dict[str, Any]) -> None:
    assert RE_SLUG.match(config["slug"])
    assert set(config["arch"]) == {"aarch64", "amd64"} <= ARCHES
    assert RE_WATCHDOG.match(config["watchdog"])
    # The watchdog and the health check probe the API's own port.
    assert "[PORT:8765]/healthz" in config["watchdog"]
    for port, host_port in config["ports"].items():
        assert RE_PORT_KEY.match(port)
        assert host_port is None or 1 <= host_port <= 65535
    assert set(config["ports_description"]) == set(config["ports"])
    for entry in config["map"]:
        assert set(entry) <= {"type", "read_only", "path"}
        assert entry["type"] in MAP_TYPES
        assert isinstance(entry.get("read_only", True), bool)
    maps = {e["type"]: e.get("read_only", True) for e in config["map"]}
    assert maps == {"media": False, "addon_config": False}
    assert config["discovery"] == ["porchlight"]
    for device_access in ("video", "usb", "gpio"):
        assert config[device_access] is True, device_access
    assert {"*.part", "*.tmp"} <= set(config["backup_exclude"])
    # Versions agree: the add-on's package and its config.
    pyproject = (ADDON / "pyproject.toml").read_text()
    assert f'version = "{config["version"]}"' in pyproject


def test_schema_grammar(schema: dict[str, Any]) -> None:
    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                assert isinstance(key, str)
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            assert len(node) == 1, f"{where}: a list schema has exactly one element"
            assert not isinstance(node[0], list), f"{where}: a list may not contain a list"
            walk(node[0], f"{where}[]")
        else:
            assert isinstance(node, str), f"{where}: {node!r}"
            match = RE_SCHEMA_ELEMENT.match(node)
            assert match, f"{where}: {node!r} is not a Supervisor option type"
            # str(min,max) always fails in the Supervisor (it range-checks a string).
            assert not any(match.group(p) for p in ("s_min", "s_max", "p_min", "p_max")), where
            if match.group("match"):
                re.compile(match.group("match"))
            if node.startswith(("int", "float")):
                # Both bounds, so the UI can show them.
                assert match.group(node[0] + "_min"), where
                assert match.group(node[0] + "_max"), where

    walk(schema, "schema")


def test_defaults_validate_against_schema(
    config: dict[str, Any], supervisor: SupervisorOptions
) -> None:
    options = supervisor(config["options"])
    assert options["media_dir"] == "/media/porchlight"
    assert options["cameras"][0]["source"] == "demo"


def test_supervisor_port_catches_mistakes(supervisor: SupervisorOptions, config: Any) -> None:
    """The port above must reject what the Supervisor rejects, or the tests prove nothing."""
    cases: list[tuple[tuple[Any, ...], Any]] = [
        (("log_level",), "loud"),
        (("live", "quality"), 101),
        (("cameras", 0, "name"), "Front Door"),
        (("cameras", 0, "source"), "ftp"),
        (("cameras", 0, "motion", "zones"), ["porch=0.1,0.1 0.9,0.1"]),  # two corners
        (("cameras", 0, "motion", "masks"), ["0,0 1.5,0 1,1"]),  # outside 0..1
        (("cameras", 0, "privacy_masks"), "0,0 1,0 1,1"),  # not a list
        (("media_dir",), "/media/../etc"),
        (("media_dir",), "/data/clips"),
        (("button", "chip"), "/dev/mem"),
    ]
    for path, value in cases:
        options = copy.deepcopy(config["options"])
        target = options
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        with pytest.raises(vol.Invalid):
            supervisor(options)
    for required in ("cameras", "live", "button"):
        options = copy.deepcopy(config["options"])
        del options[required]
        with pytest.raises(vol.Invalid, match=f"Missing option '{required}'"):
            supervisor(options)


# --- The schema against the add-on's parser ---------------------------------------------------

# Top-level parser options deliberately left out of the add-on UI:
# host/port: the container listens on 8765 (ports, watchdog, HEALTHCHECK); users move the
# host port in the add-on's Network settings. token: generated into /data on first start.
# connections: caps against abuse (ConnectionLimits), set for a home, not by users.
# ingress_port/ingress_peers: config.yaml's ingress_port and the Supervisor's address (fixed).
NOT_IN_ADDON_UI = {"host", "port", "token", "connections", "ingress_port", "ingress_peers"}
# Camera options left out: `demo` tunes the synthetic scene (development only).
CAMERA_NOT_IN_UI = {"demo"}


def test_schema_covers_the_parser(schema: dict[str, Any]) -> None:
    top = {f.name for f in fields(ServiceOptions)} - {"data_dir"}
    assert set(schema) == top - NOT_IN_ADDON_UI
    assert set(schema["live"]) == {f.name for f in fields(LiveOptions)}
    assert set(schema["button"]) - {"enabled"} == {f.name for f in fields(ButtonConfig)}
    camera = set(schema["cameras"][0])
    parser_camera = {f.name for f in fields(CameraConfig)} - CAMERA_NOT_IN_UI
    assert camera == parser_camera | {"title", "privacy_masks", "recording", "motion"}


# One value per `match(...)` and free-form option, as a user would type it.
SAMPLES: dict[tuple[str, ...], list[str]] = {
    ("name",): ["Porchlight"],
    ("media_dir",): ["/media/porchlight", "/media/doorbell/clips"],
    ("button", "chip"): ["/dev/gpiochip0"],
    ("button", "camera"): ["front_door"],
    ("cameras", "[]", "name"): ["front_door"],
    ("cameras", "[]", "title"): ["Front door"],
    ("cameras", "[]", "url"): ["rtsp://user:secret@192.168.1.20:554/stream1"],
    ("cameras", "[]", "detect_url"): ["rtsp://user:secret@192.168.1.20:554/stream2"],
    ("cameras", "[]", "path"): ["/media/porchlight-demo/door.mp4"],
    ("cameras", "[]", "device"): ["/dev/video0"],
    ("cameras", "[]", "privacy_masks", "[]"): ["0,0 0.3,0 0.3,0.25", "0.5,.5 1,0.5 1.0,1 .5,1"],
    ("cameras", "[]", "motion", "zones", "[]"): [
        "porch=0.1,0.4 0.9,0.4 0.9,1 0.1,1",
        "0,0 1,0 1,1",
    ],
    ("cameras", "[]", "motion", "masks", "[]"): ["0.8,0 1,0 1,0.2"],
}
# The source each camera option needs around it.
CAMERA_CONTEXT: dict[str, dict[str, Any]] = {
    "url": {"source": "rtsp"},
    "detect_url": {"source": "rtsp", "url": "rtsp://192.168.1.20/s1"},
    "rtsp_transport": {"source": "rtsp", "url": "rtsp://192.168.1.20/s1"},
    "open_timeout": {"source": "rtsp", "url": "rtsp://192.168.1.20/s1"},
    "read_timeout": {"source": "rtsp", "url": "rtsp://192.168.1.20/s1"},
    "path": {"source": "file"},
    "device": {"source": "v4l2"},
}


def _values(path: tuple[str, ...], typ: str) -> list[Any]:
    """Values the schema allows for one option: both ends of a range, every choice."""
    match = RE_SCHEMA_ELEMENT.match(typ)
    assert match
    if typ.startswith("int"):
        return [int(match.group("i_min")), int(match.group("i_max"))]
    if typ.startswith("float"):
        return [float(match.group("f_min")), float(match.group("f_max"))]
    if typ.startswith("bool"):
        return [True, False]
    if typ.startswith("list"):
        return list(match.group("list").split("|"))
    assert path in SAMPLES, f"add a sample for {path} ({typ})"
    return list(SAMPLES[path])


def _parser_input(path: tuple[str, ...], value: Any, tmp_path: Path) -> dict[str, Any]:
    """The smallest options (parser format) that set `path` to `value`."""
    if path[0] != "cameras":
        raw: dict[str, Any] = {}
        target = raw
        for step in path[:-1]:
            target = target.setdefault(step, {})
        target[path[-1]] = value
        return raw
    camera: dict[str, Any] = {"name": "front_door", "source": "demo"}
    camera.update(CAMERA_CONTEXT.get(path[2], {}))
    if path[2] == "source" and isinstance(value, str):
        return {"cameras": [_camera_for_source(value, tmp_path)]}
    if camera["source"] == "file" or path[2] in ("realtime", "loop"):
        # The parser opens nothing but wants the file to exist; the schema's /media
        # prefix is checked against the Supervisor port, not here.
        clip = tmp_path / "door.mp4"
        clip.write_bytes(b"")
        camera.update({"source": "file", "path": str(clip)})
    target = camera
    steps = [s for s in path[2:] if s != "[]"]
    for step in steps[:-1]:
        target = target.setdefault(step, {})
    leaf = steps[-1]
    if path[-1] == "[]":
        target[leaf] = [value]
    elif leaf != "path":
        target[leaf] = value
    return {"cameras": [camera]}


def _camera_for_source(source: str, tmp_path: Path) -> dict[str, Any]:
    camera: dict[str, Any] = {"name": "front_door", "source": source}
    if source == "file":
        (tmp_path / "door.mp4").write_bytes(b"")
        camera["path"] = str(tmp_path / "door.mp4")
    elif source == "images":
        camera["path"] = str(tmp_path)
    location = {
        "rtsp": ("url", "rtsp://192.168.1.20/s1"),
        "mjpeg": ("url", "http://192.168.1.21/video.mjpg"),
        "v4l2": ("device", "/dev/video0"),
    }
    if source in location:
        key, value = location[source]
        camera[key] = value
    return camera


def _leaf_cases() -> list[Any]:
    schema = load_addon_yaml("config.yaml")["schema"]
    cases = []
    for path, typ in leaves(schema):
        for value in _values(path, typ):
            ident = ".".join(path) + f"={value}"
            cases.append(pytest.param(path, typ, value, id=ident))
    return cases


@pytest.mark.parametrize(("path", "typ", "value"), _leaf_cases())
def test_every_value_the_schema_allows_is_parsed(
    path: tuple[str, ...], typ: str, value: Any, tmp_path: Path
) -> None:
    SupervisorOptions({"x": typ})({"x": value})  # the value really is allowed
    options = parse_options(_parser_input(path, value, tmp_path), tmp_path)
    assert isinstance(options, ServiceOptions)


def _outside_cases() -> list[Any]:
    """For every numeric option: just below and above its schema range, NaN, infinities,
    and a huge value, each of which the Supervisor refuses."""
    schema = load_addon_yaml("config.yaml")["schema"]
    cases = []
    for path, typ in leaves(schema):
        match = RE_SCHEMA_ELEMENT.match(typ)
        assert match
        if typ.startswith("int"):
            low, high = int(match.group("i_min")), int(match.group("i_max"))
            values: list[Any] = [low - 1, high + 1, 10**30]
        elif typ.startswith("float"):
            low, high = float(match.group("f_min")), float(match.group("f_max"))
            values = [low - 0.01 if low else -1e-9, high * 1.01, 1e308]
            values += [math.nan, math.inf, -math.inf]
        else:
            continue
        for value in values:
            cases.append(pytest.param(path, value, id=".".join(path) + f"={value}"))
    return cases


@pytest.mark.parametrize(("path", "value"), _outside_cases())
def test_every_value_outside_the_schema_is_refused_clearly(
    path: tuple[str, ...], value: Any, tmp_path: Path
) -> None:
    """Standalone options (JSON allows NaN and 1e308) get the Supervisor's ranges too:
    a ConfigError naming the option, never a traceback later."""
    with pytest.raises(ConfigError, match=re.escape(path[-1])):
        parse_options(_parser_input(path, value, tmp_path), tmp_path)


def _option_paths() -> list[tuple[str, ...]]:
    """Every option and section of the schema, plus the standalone-only options."""
    paths = {("host",), ("port",), ("token",)}
    for path, _ in leaves(load_addon_yaml("config.yaml")["schema"]):
        for end in range(1, len(path) + 1):
            if path[end - 1] != "[]" and path[:end] != ("cameras",):
                paths.add(path[:end])
    return sorted(paths)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(path=st.sampled_from(_option_paths()), value=edge_values | json_values)
def test_any_value_of_any_option_is_parsed_or_named(
    path: tuple[str, ...], value: Any, tmp_path: Path
) -> None:
    """Whatever JSON stands in any option or section: parsed, or a ConfigError that names
    where it is; never another exception (a traceback at start-up)."""
    raw = _parser_input(path, value, tmp_path)
    refused = ""
    try:
        parse_options(raw, tmp_path)
    except ConfigError as err:
        refused = str(err)
    assert not refused or refused.startswith(("options", "cameras[0]")), refused


def maximal_options(schema: dict[str, Any]) -> dict[str, Any]:
    """Options as the Supervisor writes them, with every schema option set somewhere."""
    url = "rtsp://user:secret@192.168.1.20:554/stream1"
    zone, mask = SAMPLES[("cameras", "[]", "motion", "zones", "[]")][0], "0.8,0 1,0 1,0.2"
    return {
        "name": "Porchlight",
        "log_level": "debug",
        "zeroconf": False,
        "media_dir": "/media/porchlight",
        "audit_retention_days": 90,
        "live": {"width": 960, "quality": 70, "max_viewers": 4},
        "retention": {"max_age_days": 14, "max_size_gb": 50, "min_free_gb": 2},
        "button": {
            "enabled": True,
            "chip": "/dev/gpiochip0",
            "line": 17,
            "active_low": True,
            "debounce_ms": 40,
            "camera": "front_door",
        },
        "cameras": [
            {
                "name": "front_door",
                "title": "Front door",
                "source": "rtsp",
                "url": url,
                "detect_url": url.replace("stream1", "stream2"),
                "rtsp_transport": "udp",
                "open_timeout": 5,
                "read_timeout": 5,
                "stall_seconds": 8,
                "audio": True,
                "privacy_masks": ["0,0 0.3,0 0.3,0.25"],
                "recording": {"enabled": True, "pre_roll": 3, "post_roll": 20, "hevc": "convert"},
                "motion": {
                    "enabled": True,
                    "threshold": 25,
                    "min_area": 1.5,
                    "detect_height": 240,
                    "on_frames": 3,
                    "off_seconds": 8,
                    "still_hold": 120,
                    "zones": [zone],
                    "masks": [mask],
                },
            },
            {
                "name": "garden",
                "source": "file",
                "path": "/media/porchlight-demo/garden.mp4",
                "fps": 10,
                "realtime": False,
                "loop": True,
                "motion": {},
                "recording": {"enabled": False},
            },
            {
                "name": "hall",
                "source": "v4l2",
                "device": "/dev/video0",
                "motion": {},
                "recording": {},
            },
        ],
    }


def _with_real_files(options: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """The parser checks that a `file` source exists: point it at a real (empty) file."""
    out = copy.deepcopy(options)
    for camera in out["cameras"]:
        if "path" in camera:
            real = tmp_path / Path(camera["path"]).name
            real.write_bytes(b"")
            camera["path"] = str(real)
    return out


def test_maximal_example_sets_every_schema_option(
    schema: dict[str, Any], supervisor: SupervisorOptions
) -> None:
    options = supervisor(maximal_options(schema))

    def used(node: Any, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
        if isinstance(node, dict):
            return {p for k, v in node.items() for p in used(v, (*path, k))} | (
                {path} if not node else set()
            )
        if isinstance(node, list):
            return {p for item in node for p in used(item, (*path, "[]"))}
        return {path}

    assert {p for p, _ in leaves(schema)} <= used(options)


def test_parser_accepts_maximal_example(
    schema: dict[str, Any], supervisor: SupervisorOptions, tmp_path: Path
) -> None:
    raw = _with_real_files(supervisor(maximal_options(schema)), tmp_path)
    options = parse_options(raw, tmp_path)
    front = options.cameras[0]
    assert front.motion.zones[0].name == "porch"
    assert front.motion.zones[0].polygon[0] == (0.1, 0.4)
    assert len(front.privacy_masks) == 1
    # Privacy masks also hide motion: the mask list has the motion mask and the privacy mask.
    assert len(front.motion.masks) == 2
    assert options.button is not None
    assert options.button.line == 17
    assert options.retention.max_total_bytes == 50 * 1024**3
    assert options.cameras[1].defaults.recording_enabled is False


def test_parser_accepts_defaults(config: dict[str, Any], tmp_path: Path) -> None:
    options = parse_options(config["options"], tmp_path)
    assert options.button is None  # enabled: false
    assert options.media_dir == Path("/media/porchlight")
    assert options.retention.max_age_days == 30


@pytest.mark.parametrize(
    ("camera", "message"),
    [
        ({"privacy_masks": ["0,0 1,0 x,1"]}, r"cameras\[0\].*privacy mask 0.*x1,y1 x2,y2"),
        ({"motion": {"masks": ["0,0;1,0;1,1"]}}, r"cameras\[0\].motion.*x1,y1 x2,y2"),
        ({"motion": {"zones": ["porch=0,0 1,0"]}}, r"cameras\[0\].motion.*'porch'.*3 points"),
    ],
)
def test_parser_names_a_bad_polygon(tmp_path: Path, camera: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_options({"cameras": [{"name": "a", "source": "demo", **camera}]}, tmp_path)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"log_level": "verbose"}, "options.log_level"),
        ({"audit_retention_days": "forever"}, "options.audit_retention_days: expected"),
        ({"retention": {"max_age_days": -1}}, "options.retention"),
        ({"live": {"fps": 5}}, "options.live: unknown option(s) fps"),
        ({"cameras": [{"name": "a", "source": "rtsp"}]}, "source 'rtsp' needs 'url'"),
        (
            {"cameras": [{"name": "a", "source": "demo", "recording": {"post_roll": 0}}]},
            "cameras[0].recording",
        ),
        (
            {"cameras": [{"name": "a", "source": "mjpeg", "url": "rtsp://cam/s"}]},
            "must start with http:// or https://",
        ),
    ],
)
def test_parser_rejects_bad_values_clearly(
    tmp_path: Path, raw: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        parse_options(raw, tmp_path)
    assert message in str(err.value)


@pytest.mark.parametrize(
    "raw",
    [
        {"live": {"quality": 0}},
        {"live": {"width": 10}},
        {"live": {"max_viewers": 0}},
        {"audit_retention_days": 0},
    ],
)
def test_parser_checks_ranges_the_schema_checks(tmp_path: Path, raw: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        parse_options(raw, tmp_path)


def test_docs_examples_are_valid(config: dict[str, Any], schema: dict[str, Any]) -> None:
    """Every ```yaml block in DOCS.md that starts with `# add-on options` is real config."""
    supervisor = SupervisorOptions(schema, {"front_door_rtsp": "rtsp://u:p@192.168.1.20/s1"})
    docs = (ADDON / "DOCS.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(# add-on options.*?)```", docs, re.S)
    assert len(blocks) >= 3
    for block in blocks:
        options = {**config["options"], **yaml.safe_load(block)}
        supervisor(options)


# --- Translations -----------------------------------------------------------------------------


def test_translations_cover_every_option(schema: dict[str, Any], config: Any) -> None:
    en = load_addon_yaml("translations/en.yaml")
    assert set(en) <= {"configuration", "network"}
    configuration = en["configuration"]

    def check(node: dict[str, Any], text: dict[str, Any], where: str) -> None:
        assert set(text) == set(node), f"{where}: translations differ from the schema"
        for key, entry in text.items():
            assert set(entry) <= {"name", "description", "fields"}, f"{where}.{key}"
            assert entry.get("name"), f"{where}.{key}"
            assert entry.get("description"), f"{where}.{key}"
            sub = node[key][0] if isinstance(node[key], list) else node[key]
            if isinstance(sub, dict):
                check(sub, entry.get("fields", {}), f"{where}.{key}")

    check(schema, configuration, "configuration")
    assert set(en["network"]) == set(config["ports"])
