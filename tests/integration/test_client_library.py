"""pyporchlight, the client library, works without Home Assistant.

It ships inside the integration's folder (HACS ships that one folder), imports nothing
outside itself but aiohttp and the standard library, and so works as a top-level package.
The proof: a bare venv with only aiohttp (no Home Assistant at all) talks to the fake
add-on through it — connect, resync, a command, an event, an HTTP snapshot.
"""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Iterator
import json
from pathlib import Path
import subprocess
import sys

import aiohttp
import pytest

from .fake_addon import FakeAddon

INTEGRATION = Path(__file__).resolve().parents[2] / "custom_components" / "porchlight"
LIBRARY = INTEGRATION / "pyporchlight"
ALLOWED_THIRD_PARTY = {"aiohttp"}

CLIENT_SCRIPT = """
import asyncio, importlib.util, json, sys

assert importlib.util.find_spec("homeassistant") is None, "this venv must not have HA"
sys.path.insert(0, sys.argv[1])
import aiohttp
from pyporchlight import PorchlightClient, ReconnectState
from pyporchlight.protocol import EventType


async def main(port: int, token: str) -> dict:
    async with aiohttp.ClientSession() as session:
        client = PorchlightClient(session, "127.0.0.1", port, token, client_name="tool")
        events, states, connection = [], [], []
        client.start(on_event=events.append, on_state=states.append,
                     on_connection=connection.append)
        async with asyncio.timeout(20):
            while not (connection == [True] and states):
                await asyncio.sleep(0.01)
            seq = await client.ring("front_door")
            while not any(e["event"] == EventType.RING for e in events):
                await asyncio.sleep(0.01)
            jpeg = await client.snapshot("front_door")
        state = client.reconnect.state
        await client.stop()
        return {
            "seq": seq,
            "ring_seq": [e["seq"] for e in events if e["event"] == EventType.RING][0],
            "cameras": [c["name"] for c in states[0]["cameras"]],
            "jpeg": jpeg[:2].hex(),
            "state": str(state),
            "stopped": str(client.reconnect.state),
            "ha_loaded": any(m.split(".")[0] in ("homeassistant", "custom_components")
                             for m in sys.modules),
        }


print(json.dumps(asyncio.run(main(int(sys.argv[2]), sys.argv[3]))))
"""


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.module or "", node.level


@pytest.mark.parametrize("module", sorted(LIBRARY.glob("*.py")), ids=lambda p: p.name)
def test_library_imports_only_itself_aiohttp_and_the_standard_library(module: Path) -> None:
    for name, level in _imports(module):
        top = name.split(".")[0]
        if level:  # relative: must stay inside the library
            assert level == 1, f"{module.name} reaches out of pyporchlight: {'.' * level}{name}"
            continue
        assert top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY, (
            f"{module.name} imports {name}"
        )


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with aiohttp only (same version as here), from pip's cache or the index."""
    venv = tmp_path_factory.mktemp("bare-venv")
    base = getattr(sys, "_base_executable", sys.executable)
    python = venv / "bin" / "python"
    aiohttp_pin = f"aiohttp=={aiohttp.__version__}"
    try:
        subprocess.run(
            [base, "-m", "venv", "--without-pip", str(venv)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", aiohttp_pin],
            check=True,
            capture_output=True,
            timeout=300,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as err:
        output = getattr(err, "stderr", b"") or b""
        pytest.skip(f"cannot build a venv with aiohttp only: {err} {output.decode()[-300:]}")
    return python


async def test_library_works_in_a_venv_without_home_assistant(
    bare_python: Path, fake_addon: FakeAddon
) -> None:
    fake_addon.ring_snapshots = False
    process = await asyncio.create_subprocess_exec(
        str(bare_python),
        "-c",
        CLIENT_SCRIPT,
        str(INTEGRATION),
        str(fake_addon.port),
        fake_addon.token,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    result = json.loads(stdout)
    assert result["ring_seq"] == result["seq"] == fake_addon.seq
    assert result["cameras"] == ["front_door"]
    assert result["jpeg"] == "ffd8"  # a JPEG's start-of-image marker
    assert result["state"] == "connected"
    assert result["stopped"] == "stopped"
    assert result["ha_loaded"] is False
    assert [c["command"] for c in fake_addon.commands] == ["get_state", "subscribe", "ring"]
