"""scripts/check-wheels: every requirement of the add-on image has a binary wheel, on every arch.

The image (addon/Dockerfile) installs addon/requirements-image.txt with `--only-binary=:all:`
on the base that addon/build.yaml names for each arch in addon/config.yaml. This runs the same
resolution with `pip download --only-binary=:all:` for that base's CPython version and glibc
platform tags, through the host's configured pip (index, proxy and certificates as set up
here), and fails when anything would need a build or is not pinned in the requirements file.
Wheels are kept under ~/.cache/porchlight/wheels, so a re-run only asks the index.
"""

from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path
import re
import subprocess
import sys
import tempfile

import yaml  # type: ignore[import-untyped]  # no stubs in the venv

ROOT = Path(__file__).resolve().parents[1]
ADDON = ROOT / "addon"
IMAGE_REQUIREMENTS = ADDON / "requirements-image.txt"

GLIBC = {"bookworm": (2, 36), "trixie": (2, 41)}
"""glibc of each Debian release an official `python:*-slim-<release>` image is built on."""
MACHINE = {"amd64": "x86_64", "aarch64": "aarch64"}
"""Supervisor arch name → the machine name in manylinux platform tags."""
MANYLINUX_FLOOR = {"x86_64": 5, "aarch64": 17}
"""The oldest glibc minor a manylinux tag exists for on each machine (PEP 600)."""
LEGACY_MANYLINUX = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
"""PEP 599/571/513 aliases of manylinux_2_17, _2_12 and _2_5."""
BASE_RE = re.compile(r"(?:^|/)python:(\d+)\.(\d+)(?:\.\d+)?-slim-([a-z]+)$")
"""An official Debian-based Python image tag, e.g. arm64v8/python:3.14-slim-trixie."""
WHEEL_RE = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)-.+\.whl$")


@dataclass(frozen=True, slots=True)
class ImageSpec:
    """What the add-on image is built on for one Supervisor arch."""

    arch: str
    base: str
    python: tuple[int, int]
    suite: str

    @property
    def machine(self) -> str:
        return MACHINE[self.arch]

    @property
    def glibc(self) -> tuple[int, int]:
        return GLIBC[self.suite]

    def platform_tags(self) -> list[str]:
        """The manylinux tags pip accepts on this base, newest first (as `packaging` lists them)."""
        major, newest = self.glibc
        floor = MANYLINUX_FLOOR[self.machine]
        tags = [
            f"manylinux_{major}_{minor}_{self.machine}" for minor in range(newest, floor - 1, -1)
        ]
        tags += [f"{alias}_{self.machine}" for alias, m in LEGACY_MANYLINUX.items() if m >= floor]
        return tags


def image_specs(addon: Path = ADDON) -> list[ImageSpec]:
    """One spec per arch in config.yaml, from build.yaml's `build_from`.

    Raises ValueError when the two files disagree on the arches or a base is not an official
    Debian-based Python image of a known release.
    """
    arches = yaml.safe_load((addon / "config.yaml").read_text())["arch"]
    build_from = yaml.safe_load((addon / "build.yaml").read_text())["build_from"]
    if sorted(arches) != sorted(build_from):
        raise ValueError(f"config.yaml arch {sorted(arches)} != build.yaml {sorted(build_from)}")
    specs = []
    for arch in arches:
        base = build_from[arch]
        match = BASE_RE.search(base)
        if match is None or match.group(3) not in GLIBC or arch not in MACHINE:
            raise ValueError(f"{arch}: {base!r} is not a python:X.Y-slim-<release> image I know")
        python = (int(match.group(1)), int(match.group(2)))
        specs.append(ImageSpec(arch, base, python, match.group(3)))
    return specs


def normalize(name: str) -> str:
    """PEP 503 name normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(path: Path = IMAGE_REQUIREMENTS) -> dict[str, str]:
    """name → version of every `name==version` line, following `-r` includes.

    Raises ValueError on a requirement that is not pinned to one version.
    """
    pins: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            pins.update(pinned(path.parent / line[3:].strip()))
            continue
        name, sep, version = line.partition("==")
        if not sep or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name.strip()):
            raise ValueError(f"{path.name}: {line!r} is not pinned as name==version")
        pins[normalize(name.strip())] = version.strip()
    return pins


def download(spec: ImageSpec, dest: Path) -> subprocess.CompletedProcess[str]:
    """`pip download --only-binary=:all:` of the image's requirements for `spec`."""
    major, minor = spec.python
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    cmd += ["--only-binary=:all:", "--implementation", "cp", "--python-version", f"{major}.{minor}"]
    cmd += ["--abi", f"cp{major}{minor}", "--dest", str(dest), "-r", str(IMAGE_REQUIREMENTS)]
    for tag in spec.platform_tags():
        cmd += ["--platform", tag]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=1800)


def check(spec: ImageSpec, dest: Path) -> list[str]:
    """Problems for one arch: pip could not find wheels, or resolved something unpinned."""
    result = download(spec, dest)
    if result.returncode != 0:
        errors = [ln for ln in result.stderr.splitlines() if "ERROR" in ln] or [result.stderr]
        return [f"{spec.arch}: {line.strip()}" for line in errors]
    pins = pinned()
    problems = []
    got: dict[str, str] = {}
    for path in dest.iterdir():
        match = WHEEL_RE.match(path.name)
        if match is None:
            problems.append(f"{spec.arch}: {path.name} is not a wheel")
            continue
        got[normalize(match["name"])] = match["version"]
    wanted = {normalize(n) for n in pins}
    for name, version in sorted(got.items()):
        if name not in wanted:
            problems.append(f"{spec.arch}: {name} {version} is installed but not pinned")
    for name in sorted(wanted - set(got)):
        problems.append(f"{spec.arch}: no wheel of {name}")
    return problems


def main() -> int:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "porchlight/wheels"
    problems: list[str] = []
    for spec in image_specs():
        # A fresh folder per run (so stale versions cannot hide), filled from pip's own cache.
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            found = check(spec, Path(tmp))
            count = len(list(Path(tmp).glob("*.whl")))
        python, glibc = "{}{}".format(*spec.python), "{}.{}".format(*spec.glibc)
        label = f"{spec.arch} ({spec.base}: cp{python}, glibc {glibc})"
        print(f"check-wheels: {label}: {'FAIL' if found else f'{count} wheels, all binary'}")
        problems += found
    for problem in problems:
        print(f"check-wheels: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
