"""The README's standalone block works pasted as it is: run in a fresh folder that has only
`addon/` and `.venv/` (as a checkout does), inside a network namespace of its own so that its
fixed port 8765 cannot collide with anything else on this machine."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
import re
import shutil
import subprocess

import cv2
import numpy as np
import pytest

from porchlight_edge.capture.demo_scene import DemoScene

ROOT = Path(__file__).resolve().parents[1]


def standalone_block() -> str:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    found = [block for block in blocks if "porchlight_edge --demo" in block]
    assert len(found) == 1, "one README block starts the add-on alone"
    return found[0]


def test_block_listens_on_loopback_as_the_readme_says() -> None:
    block = standalone_block()
    assert "--host 127.0.0.1" in block
    text = (ROOT / "README.md").read_text()
    assert "listens on 127.0.0.1 only" in text
    assert "does not advertise itself" in text


def test_readme_standalone_block_runs_as_pasted(tmp_path: Path) -> None:
    tools = ("unshare", "ip", "curl")
    if os.geteuid() != 0 or not all(shutil.which(tool) for tool in tools):
        pytest.skip("needs root, unshare, ip and curl (a private network namespace)")
    (tmp_path / "addon").symlink_to(ROOT / "addon")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    script = tmp_path / "block.sh"
    script.write_text("set -e\n" + standalone_block() + "wait\n")
    result = subprocess.run(
        ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec bash "$0"', str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode in (0, 143), output  # 143: `wait` saw the service end on SIGTERM
    picture = cv2.imdecode(
        np.frombuffer((tmp_path / "snap.jpg").read_bytes(), np.uint8), cv2.IMREAD_COLOR
    )
    assert picture is not None
    # A snapshot is the camera's full size (the demo scene's), not the live view's 960.
    size = inspect.signature(DemoScene).parameters
    assert picture.shape[:2] == (size["height"].default, size["width"].default), output
    assert "Not advertising over zeroconf" in output
    assert "Stopping" in output  # `kill $!` stopped the service cleanly
