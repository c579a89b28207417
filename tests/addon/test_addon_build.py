"""The add-on image as the Supervisor builds it: build.yaml, the Dockerfile, the pinned image
requirements (and scripts/check-wheels' reading of them), run.sh, AppArmor and repository.yaml.

scripts/addon-image builds and starts the real image; these tests check the files themselves.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
import re
import subprocess
import sys
import tomllib
from types import ModuleType

import pytest
import voluptuous as vol
import yaml  # type: ignore[import-untyped]

from tests.helpers.addon_files import ADDON, ROOT, load_addon_yaml


def _script_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


CHECK_WHEELS = _script_module("check_wheels")


# --- Build: build.yaml, Dockerfile, run.sh, AppArmor, repository.yaml -------------------------


def test_build_yaml() -> None:
    build = load_addon_yaml("build.yaml")
    assert set(build) <= {"build_from", "args", "labels", "squash", "codenotary"}
    config = load_addon_yaml("config.yaml")
    assert set(build["build_from"]) == set(config["arch"])
    # The official Debian-based Python images, each arch from its own repository: glibc, so
    # every requirement has a manylinux wheel (musl has no OpenCV wheel at all).
    docker_arch = {"aarch64": "arm64v8", "amd64": "amd64"}
    for arch, image in build["build_from"].items():
        assert re.fullmatch(rf"{docker_arch[arch]}/python:3\.1[3-9]-slim-trixie", image), image


def test_dockerfile() -> None:
    text = (ADDON / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[0].startswith("#")
    code = [line for line in lines if not line.startswith("#")]
    assert code[0] == "ARG BUILD_FROM"
    assert code[1] in ("FROM ${BUILD_FROM}", "FROM $BUILD_FROM")
    health = re.search(r"HEALTHCHECK [^\n]*\\\n\s*CMD ([^\n]+)", text)
    assert health
    assert "http://127.0.0.1:8765/healthz" in health.group(1)
    assert "wget" not in health.group(1)  # not in the Debian slim images; Python is
    # Every file it copies exists in the build context (the add-on folder).
    for line in code:
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ADDON / source).exists(), source
    assert 'CMD ["/run.sh"]' in code
    # Wheels only, from the pinned image requirements (gpiod, the gpio extra, among them);
    # no package manager run, so no compiler in any layer.
    install = re.search(r"pip install ([^\n]*\\\n)*[^\n]*", text)
    assert install
    assert "--only-binary=:all:" in install.group(0)
    assert "-r /tmp/porchlight-requirements/requirements-image.txt" in install.group(0)
    for tool in ("apk ", "apt-get", "build-base", "gcc", "build-essential", "su-exec"):
        assert tool not in text, tool
    # The service runs from its source folder, found through PYTHONPATH.
    assert "PYTHONPATH=/opt/porchlight" in text
    assert "COPY porchlight_edge /opt/porchlight/porchlight_edge" in code


def test_image_requirements_are_pinned_to_what_the_tests_run() -> None:
    """requirements-image.txt: the dev requirements, the gpio extra and their dependencies,
    each pinned to the version installed here (the tests' versions)."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import Requirement

    pins = CHECK_WHEELS.pinned()
    dev = CHECK_WHEELS.pinned(ADDON / "requirements.txt")
    assert dev.items() <= pins.items()
    pyproject = tomllib.loads((ADDON / "pyproject.toml").read_text())["project"]
    for spec in [*pyproject["dependencies"], *pyproject["optional-dependencies"]["gpio"]]:
        requirement = Requirement(spec)
        name = CHECK_WHEELS.normalize(requirement.name)
        assert name in pins, f"{name} is not in the image"
        assert requirement.specifier.contains(pins[name]), (name, pins[name])
    for name, pinned_version in pins.items():
        try:
            assert version(name) == pinned_version, name
        except PackageNotFoundError:
            # Only the button's binding may be missing here: no test opens a real GPIO chip.
            assert name == "gpiod", f"{name} is pinned for the image but not installed here"


def test_image_python_is_the_one_the_tests_run_on() -> None:
    """The add-on's tests run on the image's Python version (scripts/check-wheels' reading)."""
    specs = CHECK_WHEELS.image_specs()
    assert {spec.arch for spec in specs} == set(load_addon_yaml("config.yaml")["arch"])
    assert {spec.python for spec in specs} == {sys.version_info[:2]}


def test_check_wheels_reads_the_image(tmp_path: Path) -> None:
    """Platform tags as pip on the image accepts them; an Alpine base or arch drift is refused."""
    spec = CHECK_WHEELS.ImageSpec("aarch64", "arm64v8/python:3.14-slim-trixie", (3, 14), "trixie")
    tags = spec.platform_tags()
    assert tags[0] == "manylinux_2_41_aarch64"
    assert tags[-1] == "manylinux2014_aarch64"  # aarch64 starts at glibc 2.17
    assert "manylinux_2_28_aarch64" in tags
    assert not any("manylinux1" in tag or "_2_5_" in tag for tag in tags)
    amd64 = CHECK_WHEELS.ImageSpec("amd64", "amd64/python:3.14-slim-trixie", (3, 14), "trixie")
    assert "manylinux1_x86_64" in amd64.platform_tags()
    (tmp_path / "config.yaml").write_text("arch: [aarch64, amd64]\n")
    musl = "ghcr.io/home-assistant/{}-base-python:3.14-alpine3.22"
    build = {"build_from": {a: musl.format(a) for a in ("aarch64", "amd64")}}
    (tmp_path / "build.yaml").write_text(yaml.safe_dump(build))
    with pytest.raises(ValueError, match="aarch64"):
        CHECK_WHEELS.image_specs(tmp_path)
    (tmp_path / "build.yaml").write_text("build_from: {amd64: amd64/python:3.14-slim-trixie}\n")
    with pytest.raises(ValueError, match="arch"):
        CHECK_WHEELS.image_specs(tmp_path)
    loose = tmp_path / "requirements.txt"
    loose.write_text("numpy>=2\n")
    with pytest.raises(ValueError, match="not pinned"):
        CHECK_WHEELS.pinned(loose)


def test_run_sh_reads_the_options(tmp_path: Path) -> None:
    """run.sh's embedded Python finds the media folder and the devices to hand over."""
    script = (ADDON / "run.sh").read_text()
    assert script.startswith("#!/bin/sh\n")
    assert subprocess.run(["sh", "-n", str(ADDON / "run.sh")], check=False).returncode == 0
    # Debian tools only (util-linux's setpriv, shadow's groupadd/usermod); private files from
    # the first line on.
    code = [line.strip() for line in script.splitlines() if not line.strip().startswith("#")]
    assert code.index("umask 077") < min(i for i, line in enumerate(code) if "find " in line)
    for busybox in ("su-exec", "addgroup", "adduser"):
        assert busybox not in script, busybox
    assert re.search(
        r"exec setpriv --reuid=\"\$SERVICE_USER\" --regid=\"\$SERVICE_USER\" "
        r"--init-groups --no-new-privs",
        script,
    )
    snippet = re.search(r"<<'PY'\n(.*?)\nPY\n", script, re.S)
    assert snippet
    options = tmp_path / "options.json"
    options.write_text(
        '{"media_dir": "/media/porchlight", "button": {"enabled": true, "chip": "/dev/gpiochip4"},'
        ' "cameras": [{"name": "a", "source": "v4l2", "device": "/dev/video2"},'
        ' {"name": "b", "source": "demo"}]}'
    )
    run = [sys.executable, "-c", snippet.group(1), str(options)]
    out = subprocess.run(run, capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [
        "media /media/porchlight",
        "device /dev/video2",
        "device /dev/gpiochip4",
    ]
    options.write_text('{"button": {"enabled": false}, "cameras": []}')
    assert subprocess.run(run, capture_output=True, text=True, check=True).stdout == ""
    options.unlink()  # first start before the Supervisor wrote it: nothing to do, no error
    assert subprocess.run(run, capture_output=True, text=True, check=True).stdout == ""


def test_apparmor_profile() -> None:
    config = load_addon_yaml("config.yaml")
    text = (ADDON / "apparmor.txt").read_text()
    assert text.startswith("#include <tunables/global>")
    assert re.search(
        rf"^profile {re.escape(config['slug'])} flags=\(attach_disconnected,mediate_deleted\) \{{",
        text,
        re.M,
    )
    assert text.count("{") == text.count("}")
    for rule in ("/data/** rwk", "/media/** rwk", "/dev/video* rw", "/dev/gpiochip* rw"):
        assert rule in text, rule
    assert "network inet stream" in text
    assert "/usr/local/lib/** mr" in text  # python and the wheels' native libraries
    assert "/opt/porchlight/** r" in text  # the service's own code (PYTHONPATH)


def test_repository_yaml() -> None:
    repo = yaml.safe_load((ROOT / "repository.yaml").read_text())
    assert set(repo) <= {"name", "url", "maintainer"}
    assert repo["name"]
    assert repo["maintainer"]
    assert vol.Url()(repo["url"])
    assert repo["url"] == load_addon_yaml("config.yaml")["url"]
