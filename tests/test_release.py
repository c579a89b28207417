"""One release: the add-on and the integration agree on their version, the add-on's defaults are
the same in config.yaml, in its code and in DOCS.md, and no package-index host is named anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
import shutil
import subprocess
import tomllib
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

import porchlight_edge
from porchlight_edge import __main__ as cli
from porchlight_edge.button import ButtonConfig
from porchlight_edge.capture.config import CameraConfig
from porchlight_edge.config import ADDON_MEDIA_DIR, GB, CameraOptions, parse_options
from porchlight_edge.motion.config import MotionConfig
from porchlight_edge.settings import CameraSettings

ROOT = Path(__file__).resolve().parents[1]
ADDON = ROOT / "addon"
CONFIG = yaml.safe_load((ADDON / "config.yaml").read_text())


# --- one version ---


def test_one_version_everywhere() -> None:
    pyproject = tomllib.loads((ADDON / "pyproject.toml").read_text())["project"]["version"]
    manifest = json.loads((ROOT / "custom_components/porchlight/manifest.json").read_text())
    changelog = re.search(r"^## (\S+)", (ADDON / "CHANGELOG.md").read_text(), re.M)
    assert changelog
    versions = {
        "addon/config.yaml": CONFIG["version"],
        "addon/pyproject.toml": pyproject,
        "porchlight_edge.__version__": porchlight_edge.__version__,
        "manifest.json": manifest["version"],
        "CHANGELOG.md (newest entry)": changelog.group(1),
    }
    assert len(set(versions.values())) == 1, versions


# --- one set of defaults ---

DOC_SECTIONS = {
    "General": "",
    "Live view (`live`)": "live.",
    "Retention (`retention`)": "retention.",
    "Doorbell button (`button`)": "button.",
    "Cameras (`cameras`)": "cameras.",
}
FIRST_CAMERA = object()
"""DOCS.md's "first camera": the code's None for button.camera."""


def _doc_value(text: str) -> Any:
    text = text.strip().strip("`")
    words: dict[str, Any] = {"on": True, "true": True, "off": False, "false": False}
    words |= {"none": None, "first camera": FIRST_CAMERA}
    if text in words:
        return words[text]
    try:
        return float(text)
    except ValueError:
        return text


def docs_defaults() -> dict[str, Any]:
    """Every default DOCS.md states: the option tables, the cameras table's "(default N)",
    and the `recording:` / `motion:` paragraphs."""
    found: dict[str, Any] = {}
    prefix: str | None = None
    text = (ADDON / "DOCS.md").read_text()
    for line in text.splitlines():
        if line.startswith("#"):
            prefix = DOC_SECTIONS.get(line.lstrip("#").strip())
            continue
        if prefix is None or not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        names = re.findall(r"`(\w+)`", cells[0])
        if prefix == "cameras.":
            value = re.search(r"\(default ([\d.]+)\)", cells[2])
            for name in names if value else []:
                found[prefix + name] = _doc_value(value.group(1))  # type: ignore[union-attr]
        else:
            found[prefix + names[0]] = _doc_value(cells[1])
    for section in ("recording", "motion"):
        paragraph = re.search(rf"^`{section}`: (.*?)(?:\n\n)", text, re.M | re.S)
        assert paragraph, section
        for name, value in re.findall(r"`(\w+)` \([^()]*?default ([\w.]+)", paragraph.group(1)):
            found[f"cameras.{section}.{name}"] = _doc_value(value)
    return found


def code_defaults(tmp_path: Path) -> dict[str, Any]:
    """The add-on's own defaults, read from its code (options with nothing set)."""
    options = parse_options({}, tmp_path)
    retention, settings, motion = options.retention, CameraSettings(), MotionConfig()
    button, capture = ButtonConfig(), CameraConfig("x", "demo")
    max_size = retention.max_total_bytes
    return {
        "name": options.name,
        "log_level": options.log_level,
        "zeroconf": options.zeroconf,
        "media_dir": str(ADDON_MEDIA_DIR),
        "audit_retention_days": options.audit_retention_days,
        "live.width": options.live.width,
        "live.quality": options.live.quality,
        "live.max_viewers": options.live.max_viewers,
        "retention.max_age_days": retention.max_age_days,
        "retention.max_size_gb": None if max_size is None else max_size / GB,
        "retention.min_free_gb": retention.min_free_bytes / GB,
        "button.enabled": options.button is not None,
        "button.chip": button.chip,
        "button.line": button.line,
        "button.active_low": button.active_low,
        "button.debounce_ms": button.debounce_ms,
        "button.camera": FIRST_CAMERA if button.camera is None else button.camera,
        "cameras.stall_seconds": capture.stall_seconds,
        "cameras.open_timeout": capture.open_timeout,
        "cameras.read_timeout": capture.read_timeout,
        "cameras.recording.enabled": settings.recording_enabled,
        "cameras.recording.pre_roll": settings.pre_roll,
        "cameras.recording.post_roll": settings.post_roll,
        "cameras.recording.hevc": CameraOptions("x", "x", capture).hevc,
        "cameras.motion.enabled": settings.motion_enabled,
        "cameras.motion.threshold": motion.threshold,
        "cameras.motion.min_area": motion.min_area_pct,
        "cameras.motion.detect_height": motion.detect_height,
        "cameras.motion.on_frames": motion.on_frames,
        "cameras.motion.off_seconds": motion.off_seconds,
        "cameras.motion.still_hold": motion.still_hold_seconds,
    }


def config_defaults() -> dict[str, Any]:
    """config.yaml's `options`, flattened to dotted names (the camera list aside)."""
    flat: dict[str, Any] = {}
    for key, value in CONFIG["options"].items():
        if isinstance(value, dict):
            flat |= {f"{key}.{sub}": v for sub, v in value.items()}
        elif key != "cameras":
            flat[key] = value
    return flat


def test_docs_state_the_code_defaults(tmp_path: Path) -> None:
    docs, code = docs_defaults(), code_defaults(tmp_path)
    assert len(docs) >= 25  # the parser found the tables
    assert set(docs) <= set(code), set(docs) - set(code)
    assert {k: code[k] for k in docs} == docs


def test_audio_is_off_by_default(tmp_path: Path) -> None:
    """Sound is opt-in everywhere: capture, run-time settings, the shipped options."""
    assert CameraConfig("x", "demo").audio is False
    assert CameraSettings().audio is False
    [camera] = parse_options(CONFIG["options"], tmp_path).cameras
    assert camera.defaults.audio is False
    assert camera.capture.audio is False
    assert "audio" in CONFIG["schema"]["cameras"][0]  # yet it can be turned on
    assert "off by default" in (ADDON / "DOCS.md").read_text()


def test_config_yaml_ships_the_code_defaults(tmp_path: Path) -> None:
    shipped, code = config_defaults(), code_defaults(tmp_path)
    assert set(shipped) <= set(code), set(shipped) - set(code)
    assert {k: code[k] for k in shipped} == shipped
    # The shipped options as a whole mean the same as no options (media_dir aside: standalone
    # has no /media, so it keeps clips in the data folder).
    as_shipped = parse_options(CONFIG["options"], tmp_path)
    assert as_shipped.media_dir == ADDON_MEDIA_DIR
    as_shipped.media_dir = None
    assert as_shipped == parse_options({}, tmp_path)


def test_addon_media_dir_default_applies_under_the_supervisor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Options without media_dir under the Supervisor still keep clips in /media/porchlight."""
    options_file = tmp_path / "options.json"
    options_file.write_text(json.dumps({"cameras": [{"name": "a", "source": "demo"}]}))
    monkeypatch.setattr(cli, "ADDON_OPTIONS", options_file)
    args = cli.build_parser().parse_args(["--data-dir", str(tmp_path)])
    assert cli.load(args).media_dir == ADDON_MEDIA_DIR
    standalone = cli.build_parser().parse_args(["--demo", "--data-dir", str(tmp_path)])
    assert cli.load(standalone).media_dir is None


# --- no package-index host ---


def test_no_package_index_host_is_named() -> None:
    """Mirrors and indexes come from the host's own apt and pip configuration."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    # Built from pieces, so this file does not name them either.
    hosts = [
        "python" + "hosted",
        "pypi" + r"\.org",
        "deb" + r"\.debian\.org",
        "registry" + r"\.npmjs",
    ]
    found = subprocess.run(
        ["git", "grep", "-nE", "|".join(hosts)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode == 1, found.stdout  # 1: no match


DEB822 = """\
Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
# a comment inside the stanza
URIs: http://mirror.example/debian/ http://second.example/debian
Suites: bookworm bookworm-updates
Components: main
"""


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"sources.list.d/debian.sources": DEB822}, "http://mirror.example/debian"),
        (
            {
                "sources.list": "deb http://sec.example/debian-security bookworm-security main\n"
                "deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main\n"
            },
            "http://one.example/debian",
        ),
    ],
)
def test_debian_mirror_is_the_hosts_own(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    """scripts/debian-mirror: the URI of the apt entry for the host's own release."""
    (tmp_path / "etc/apt/sources.list.d").mkdir(parents=True)
    (tmp_path / "etc/os-release").write_text("ID=debian\nVERSION_CODENAME=bookworm\n")
    for name, text in files.items():
        (tmp_path / "etc/apt" / name).write_text(text)
    env = {"PATH": "/usr/bin:/bin", "PORCHLIGHT_ROOT": str(tmp_path)}
    script = ROOT / "scripts/debian-mirror"
    found = subprocess.run([script], env=env, capture_output=True, text=True, check=False)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == expected
    (tmp_path / "etc/os-release").write_text("VERSION_CODENAME=trixie\n")  # no entry for it
    missing = subprocess.run([script], env=env, capture_output=True, text=True, check=False)
    assert missing.returncode == 1
    assert "PORCHLIGHT_DEBIAN_MIRROR" in missing.stderr
